"""demo/demo.py prints the top-k and writes the labelled video."""
import importlib.util
import os
import os.path as osp
import re

import av
import numpy as np
import pytest

from mmaction.apis import inference_recognizer, init_recognizer

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _demo():
    spec = importlib.util.spec_from_file_location('demo', osp.join(ROOT, 'demo', 'demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _frames(path):
    with av.open(path) as container:
        assert container.streams.video[0].codec_context.name == 'h264'
        return np.stack([f.to_ndarray(format='rgb24') for f in container.decode(video=0)])


def _options(tiny_run):
    return [f'{k}={v}' for k, v in tiny_run['options'].items()]


def test_demo_prints_topk_and_writes_labelled_video(tiny_run, capsys):
    video = tiny_run['records'][3]['filename']
    out_file = tiny_run['root'] / 'demo' / 'annotated.mp4'
    _demo().main([video, tiny_run['config'], tiny_run['checkpoint'], tiny_run['label_map'],
                  '--topk', '2', '--out-file', str(out_file), '--cfg-options',
                  *_options(tiny_run)])
    printed = capsys.readouterr().out
    names = open(tiny_run['label_map']).read().splitlines()
    scores = tiny_run['records'][3]['pred_score']
    order = np.argsort(-scores, kind='stable')[:3]
    rows = re.findall(r'^\s+(\d)\. (.+?)\s+(\d\.\d{4})  \(class (\d)\)$', printed, re.M)
    assert [(int(r), n, int(c)) for r, n, _, c in rows] == \
        [(k + 1, names[i], int(i)) for k, i in enumerate(order)]
    assert [float(s) for _, _, s, _ in rows] == pytest.approx(scores[order], abs=5e-5)

    source, written = _frames(video), _frames(str(out_file))
    assert written.shape == source.shape == (12, 64, 64, 3)
    assert f'Wrote {out_file} (12 frames)' in printed
    assert not [n for n in os.listdir(out_file.parent) if n != 'annotated.mp4']  # no temp left
    # the label box covers the top rows of every frame; the rest is the video (re-encoded)
    diff = np.abs(written.astype(int) - source.astype(int))
    assert diff[:, :6].mean(axis=(1, 2, 3)).min() > 40
    assert diff[:, 32:].mean() < 4


def test_demo_accepts_mmaction2_argument_order(tiny_run, capsys):
    video = tiny_run['records'][0]['filename']
    top = _demo().main([tiny_run['config'], tiny_run['checkpoint'], video,
                        tiny_run['label_map'], '--cfg-options', *_options(tiny_run)])
    assert "mmaction2's order" in capsys.readouterr().out
    model = init_recognizer(tiny_run['config'], tiny_run['checkpoint'],
                            cfg_options=tiny_run['options'])
    assert top == inference_recognizer(model, video, label_names=tiny_run['label_map'])


def test_unsupported_output_suffix_is_refused_before_writing(tiny_run, tmp_path):
    from mmaction.visualization import write_labelled_video
    with pytest.raises(ValueError, match=r"h264 in \['.mkv', '.mov', '.mp4'\] files; got '.gif'"):
        write_labelled_video(tiny_run['records'][0]['filename'], str(tmp_path / 'a.gif'), 'x')
    assert not os.listdir(tmp_path)
