"""Same path, same experiment: every shipped config resolves to AIM's recipe
(``tests/fixtures/aim_recipes.py``, written from the official configs), key for key, apart
from the differences ``docs/recipes.md`` lists; the paper-row variants are AIM's recipe with
the edits the fixture names.

A failure here means a config no longer describes the experiment the fixture records. If the
change is intended, change the fixture and docs/recipes.md in the same commit.
"""
import copy
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from tests.fixtures.aim_recipes import AIM_TRAINABLE, PAPER_ROWS, RECIPES, VARIANTS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: configs of this project that are no AIM experiment: the quickstart's synthetic benchmark,
#: AIM's K400 8-frame ViT-B/16 recipe on UCF101, HMDB51 and your own dataset
OURS = {f'configs/recognition/vit/vitclip_tiny_synthetic{s}.py'
        for s in ('', '_finetune', '_space_only', '_spatial', '_temporal')} | \
    {f'configs/recognition/vit/vitclip_base_{s}.py' for s in ('ucf101', 'hmdb51', 'custom')}
#: top-level keys of an experiment (variables such as img_norm_cfg only feed these)
SECTIONS = ('model', 'data', 'optimizer', 'optimizer_config', 'lr_config', 'total_epochs',
            'evaluation', 'checkpoint_config', 'log_config', 'dist_params', 'log_level',
            'load_from', 'resume_from', 'workflow', 'work_dir', 'find_unused_parameters', 'fp16')
#: keys AIM's files do not have, allowed because they reproduce AIM's behaviour
EXTRA_KEYS = {'model.backbone.pretrained', 'model.trainable_params'}
#: decoders that read the same pixels (docs/data.md, "Decoders")
SAME_PIXELS = {'PyAVInit': 'DecordInit', 'PyAVDecode': 'DecordDecode'}
SPLITS = ('train', 'val', 'test')


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def flatten(tree, prefix=''):
    """Dotted keys of a resolved config; lists of dicts are entered by index."""
    out = {}
    for key, value in tree.items():
        path = f'{prefix}{key}'
        if isinstance(value, dict):
            out.update(flatten(value, f'{path}.'))
        elif isinstance(value, (list, tuple)) and value and all(
                isinstance(v, dict) for v in value):
            out.update(flatten({str(i): v for i, v in enumerate(value)}, f'{path}.'))
        else:
            out[path] = _plain(value)
    return out


def resolve(path):
    """(settings, pipelines) of one of our config files, in the fixture's form."""
    cfg = Config.fromfile(osp.join(ROOT, path)).to_dict()
    pipelines = {}
    for split in SPLITS:
        steps = cfg['data'][split].pop('pipeline')
        pipelines[split] = [(SAME_PIXELS.get(s['type'], s['type']),
                             _plain({k: v for k, v in s.items() if k != 'type'}))
                            for s in steps]
    settings = flatten({k: cfg[k] for k in SECTIONS if k in cfg})
    return settings, pipelines


def expected(path):
    """The fixture's experiment for ``path``: AIM's recipe, or a variant's edits of one."""
    if path in RECIPES:
        return copy.deepcopy(RECIPES[path])
    variant = VARIANTS[path]
    recipe = copy.deepcopy(RECIPES[variant['of']])
    recipe['settings'].update(variant.get('settings', {}))
    for split, edits in variant.get('steps', {}).items():
        for split_name in (SPLITS if split == 'all' else (split, )):
            steps = recipe['pipelines'][split_name]
            for kind, change in edits.items():
                at = [i for i, (t, _) in enumerate(steps) if t == kind]
                assert len(at) == 1, f'fixture: {path} edits {kind}, found {len(at)} times'
                if isinstance(change, tuple):  # replace the step
                    steps[at[0]] = change
                elif change is None:  # drop it
                    del steps[at[0]]
                else:  # change its arguments
                    steps[at[0]][1].update(change)
    return recipe


def shipped_configs():
    found = glob.glob(osp.join(ROOT, 'configs/recognition/**/*.py'), recursive=True)
    return sorted(osp.relpath(p, ROOT) for p in found)


NOT_YET = set()  # AIM configs whose backbone is not implemented yet: none
EXPERIMENTS = sorted((set(RECIPES) | set(VARIANTS)) - NOT_YET)


def test_every_shipped_config_is_an_aim_experiment_a_paper_row_or_declared_ours():
    unknown = sorted(set(shipped_configs()) - set(EXPERIMENTS) - OURS)
    assert not unknown, (
        f'{unknown}: configs the fixture does not know. Add each to tests/fixtures/'
        'aim_recipes.py (VARIANTS: which AIM recipe it changes, and how) and to docs/recipes.md.')


def test_every_aim_config_and_paper_row_is_shipped():
    missing = sorted(set(EXPERIMENTS) - set(shipped_configs()))
    assert not missing, f'AIM configs / paper rows without a config file here: {missing}'


def _diff(ours, want):
    problems = []
    for key in sorted(set(want) | set(ours)):
        if key not in ours:
            problems.append(f'{key}: missing here; AIM has {want[key]!r}')
        elif key not in want:
            if key not in EXTRA_KEYS:
                problems.append(f'{key}={ours[key]!r}: AIM has no such key')
        elif ours[key] != _plain(want[key]):
            problems.append(f'{key}={ours[key]!r}; AIM has {want[key]!r}')
    return problems


@pytest.mark.parametrize('path', EXPERIMENTS)
def test_config_resolves_to_the_recorded_experiment_key_for_key(path):
    settings, pipelines = resolve(path)
    want = expected(path)
    problems = _diff(settings, want['settings'])
    for split in SPLITS:
        ours, theirs = _plain(pipelines[split]), _plain(want['pipelines'][split])
        if ours != theirs:
            steps = [f'      {i}: here {a}, want {b}'
                     for i, (a, b) in enumerate(zip(ours + [None] * len(theirs),
                                                    theirs + [None] * len(ours)))
                     if a != b and (a or b)]
            problems.append(f'data.{split}.pipeline differs (step: here, AIM):\n'
                            + '\n'.join(steps))
    assert not problems, f'{path} is not the recorded experiment:\n  ' + '\n  '.join(problems)


@pytest.mark.parametrize('path', EXPERIMENTS)
def test_trainable_parameters_follow_aims_rule(path):
    settings, _ = resolve(path)
    rule = settings.get('model.trainable_params', list(AIM_TRAINABLE))
    want = VARIANTS.get(path, {}).get('trainable_params', list(AIM_TRAINABLE))
    assert rule == want


def test_the_recognizers_default_is_aims_rule():
    """Configs that do not name trainable_params get AIM's train.py rule."""
    import inspect

    from mmaction.models.recognizers.recognizer3d import Recognizer3D
    default = inspect.signature(Recognizer3D).parameters['trainable_params'].default
    assert tuple(default) == AIM_TRAINABLE


def test_the_guard_notices_a_changed_recipe(tmp_path, monkeypatch):
    """An edit of one experiment-defining value (here the test clips) is reported with the
    key, our value and AIM's."""
    path = 'configs/recognition/vit/vitclip_base_k400.py'
    edited = tmp_path / 'edited.py'
    edited.write_text(f"_base_ = ['{osp.join(ROOT, path)}']\n"
                      'data = dict(test=dict(pipeline=[dict(type="PyAVInit")]))\n'
                      'optimizer = dict(lr=1e-3)\n')
    monkeypatch.setitem(RECIPES, str(edited), RECIPES[path])
    with pytest.raises(AssertionError) as err:
        test_config_resolves_to_the_recorded_experiment_key_for_key(str(edited))
    assert 'optimizer.lr=0.001; AIM has 0.0003' in str(err.value)
    assert 'data.test.pipeline differs' in str(err.value)


# ---------------------------------------------------------------------------- paper rows
def views(path):
    """(frames, temporal clips, spatial crops) of a config's test pipeline."""
    _, pipelines = resolve(path)
    steps = dict(pipelines['test'])
    sampler = steps.get('SampleFrames') or steps['UniformSampleFrames']
    crops = 3 if 'ThreeCrop' in steps else 10 if 'TenCrop' in steps else 1
    return sampler['clip_len'], sampler.get('num_clips', 1), crops


@pytest.mark.parametrize('row', PAPER_ROWS, ids=lambda r: f"{r['table']}-{r['views']}")
def test_each_paper_row_is_a_config_testing_the_rows_views(row):
    assert views(row['config']) == tuple(int(v) for v in row['views'].split('x'))
    settings, _ = resolve(row['config'])
    assert settings['model.backbone.num_frames'] == int(row['views'].split('x')[0])


def _write_video(path, frames=48):
    import av
    import numpy as np
    rng = np.random.default_rng(0)
    with av.open(str(path), 'w') as container:
        stream = container.add_stream('libx264', rate=25)
        stream.width, stream.height, stream.pix_fmt = 80, 64, 'yuv420p'
        for _ in range(frames):
            frame = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_ssv2_32x3x3_row_tests_three_different_clips_of_three_crops(tmp_path):
    """AIM's segment sampler gives one clip whatever num_clips says; the row's config draws
    3 clips (different frames), each cut into 3 crops: 9 views of 32 frames."""
    from mmaction.datasets import VideoDataset
    from mmaction.utils import register_all_modules
    register_all_modules()
    _write_video(tmp_path / 'v.mp4')
    (tmp_path / 'list.txt').write_text('v.mp4 5\n')
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/recognition/vit/vitclip_base_sthv2_32frames.py'))
    data = dict(cfg.data.test, ann_file=str(tmp_path / 'list.txt'), data_prefix=str(tmp_path))
    data.pop('type')
    dataset = VideoDataset(**data)
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (9, 3, 32, 224, 224)
    sampler = dataset.pipeline.transforms[1]
    clips = sampler(dict(total_frames=48, start_index=0))['frame_inds'].reshape(3, 32)
    assert len({tuple(c) for c in clips}) == 3


def _zoo_lines():
    text = open(osp.join(ROOT, 'docs/recipes.md')).read()
    block = text[text.index('<!-- model-zoo:start -->'):text.index('<!-- model-zoo:end -->')]
    return [[c.strip() for c in line.strip('|').split('|')] for line in block.splitlines()
            if line.startswith('| ')]


@pytest.mark.parametrize('row', PAPER_ROWS, ids=lambda r: f"{r['table']}-{r['views']}")
def test_docs_model_zoo_has_the_row_with_the_papers_numbers(row):
    name = f"`{osp.basename(row['config'])}`"
    (cells, ) = [c for c in _zoo_lines() if c[:2] == [row['table'], name]]
    assert cells[3] == row['views']
    frames, clips, crops = (int(v) for v in row['views'].split('x'))
    if row['gflops']:
        assert cells[7] == f"{row['params']} / {row['tunable']}"
        assert cells[8] == f"{row['gflops'] / (clips * crops):.1f} ({row['gflops']})"
    assert cells[10] == f"{row['top1'] or '–'} / {row['top5'] or '–'}"


def test_docs_model_zoo_numbers_are_what_get_flops_measures():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'get_flops', osp.join(ROOT, 'tools/analysis/get_flops.py'))
    get_flops = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(get_flops)
    path = 'configs/recognition/vit/vitclip_large_k400_8x16x1.py'
    counts = get_flops.measure(Config.fromfile(osp.join(ROOT, path)))
    (cells, ) = [c for c in _zoo_lines() if c[1] == f'`{osp.basename(path)}`']
    assert cells[4:7] == [f"{counts['params'] / 1e6:.1f}", f"{counts['tunable'] / 1e6:.2f}",
                          f"{counts['macs_per_view'] / 1e9:.1f}"]
