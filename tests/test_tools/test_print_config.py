"""tools/analysis/print_config.py prints the config the train and test commands build: its
output, loaded back, equals what their config builders give for the same command line."""
from mmengine.config import Config

from mmaction.engine.commands import (
    build_test_config,
    build_train_config,
    parse_test_args,
    parse_train_args,
)
from tests.test_tools.results_files import TINY
from tests.test_tools.test_get_flops import load_tool

OPTIONS = ['--cfg-options', 'data.videos_per_gpu=3', 'model.backbone.num_frames=4']


def _printed_config(capsys, argv) -> dict:
    load_tool('print_config').main(argv)
    out = capsys.readouterr().out
    return out, Config.fromstring(out, '.py').to_dict()


def test_the_printed_config_is_the_one_the_train_command_builds(capsys):
    argv = [TINY, '--validate', '--seed', '3', *OPTIONS]
    out, printed = _printed_config(capsys, argv)
    assert printed == build_train_config(parse_train_args(argv)).to_dict()
    # the options, after the translation: data.videos_per_gpu is the loaders' batch size
    assert printed['train_dataloader']['batch_size'] == 3
    assert printed['model']['backbone']['num_frames'] == 4
    samplers = [step for step in printed['train_dataloader']['dataset']['pipeline']
                if step['type'] == 'SampleFrames']
    assert samplers and all(step['clip_len'] == 4 for step in samplers)
    # what the tool logs while building it comes first, as comments
    assert '# INFO: model.backbone.num_frames=4: clips of 4 frames, so also' in out
    assert printed['randomness']['seed'] == 3 and printed['val_dataloader'] is not None
    # without --validate, the train command drops the validation set; so does the print
    _, plain = _printed_config(capsys, [TINY])
    assert plain['val_dataloader'] is None and plain['train_dataloader']['batch_size'] == 16


def test_the_printed_config_of_the_test_command(capsys):
    argv = [TINY, 'ckpt.pth', '--eval', 'mean_class_accuracy', '--out', 'r.pkl', *OPTIONS]
    _, printed = _printed_config(capsys, ['--test', *argv])
    assert printed == build_test_config(parse_test_args(argv)).to_dict()
    assert printed['train_dataloader'] is None and printed['load_from'] == 'ckpt.pth'
    assert [m['type'] for m in printed['test_evaluator']] == ['AccMetric', 'DumpResults']
    assert printed['test_dataloader']['batch_size'] == 16  # the test loader's own setting


def test_diff_names_what_the_options_and_the_translation_changed(capsys):
    result = load_tool('print_config').main([TINY, '--diff', *OPTIONS])
    lines = capsys.readouterr().out.splitlines()
    assert lines == result['lines']
    split = next(i for i, line in enumerate(lines) if line.startswith('# what the translation'))
    options, translation = lines[:split], lines[split:]
    assert '~ data.videos_per_gpu: 16 -> 3' in options
    assert '~ model.backbone.num_frames: 8 -> 4' in options
    assert '~ data.train.pipeline.1.clip_len: 8 -> 4' in options  # propagated
    assert not any(line.startswith(('+', '-')) for line in options)
    for key in ('data', 'optimizer', 'optimizer_config', 'lr_config', 'total_epochs',
                'evaluation', 'log_config', 'checkpoint_config'):
        assert f'- {key}' in translation, key
    for key in ('train_dataloader', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                'default_hooks', 'model.data_preprocessor'):
        assert f'+ {key}' in translation, key
    # a removed section is named once, not leaf by leaf
    assert not any(line.startswith('- data.') for line in translation)
