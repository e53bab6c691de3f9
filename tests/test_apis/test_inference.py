"""init_recognizer + inference_recognizer give what tools/test.py gives."""
import av
import numpy as np
import pytest
import torch

from mmaction.apis import inference_recognizer, init_recognizer
from tests.test_apis.conftest import run_tool


def _decode_all(path):
    with av.open(path) as container:
        return np.stack([f.to_ndarray(format='rgb24') for f in container.decode(video=0)])


@pytest.fixture(scope='module')
def model(tiny_run):
    return init_recognizer(tiny_run['config'], tiny_run['checkpoint'],
                           cfg_options=tiny_run['options'])


def test_file_scores_equal_tools_test_dump(model, tiny_run):
    names = open(tiny_run['label_map']).read().splitlines()
    for record in tiny_run['records']:
        top, scores = inference_recognizer(model, record['filename'], topk=2,
                                           label_names=tiny_run['label_map'],
                                           return_scores=True)
        np.testing.assert_array_equal(scores, record['pred_score'])
        assert top[0][0] == record['pred_label']
        assert [i for i, _, _ in top] == list(np.argsort(-record['pred_score'], kind='stable'))
        assert [name for _, name, _ in top] == [names[i] for i, _, _ in top]
        assert [s for _, _, s in top] == [float(record['pred_score'][i]) for i, _, _ in top]


def test_frames_in_memory_equal_the_file(model, tiny_run):
    record = tiny_run['records'][1]
    frames = _decode_all(record['filename'])
    assert frames.shape == (12, 64, 64, 3)
    for video in (frames, list(frames), torch.from_numpy(frames)):
        top, scores = inference_recognizer(model, video, topk=2, return_scores=True)
        np.testing.assert_array_equal(scores, record['pred_score'])
        assert [name for _, name, _ in top] == [None, None]
    # the test pipeline's sampling applies to frames too: reversed time is another clip
    _, reversed_scores = inference_recognizer(model, frames[::-1].copy(), return_scores=True)
    assert not np.array_equal(reversed_scores, record['pred_score'])


def test_tunable_only_released_layout_and_mmengine_config_agree(model, tiny_run, tmp_path):
    """The save_tunable_only file was loaded on top of the pretrained CLIP file; the same
    weights saved as a released AIM checkpoint ({'meta', 'state_dict'}) and the translated
    (mmengine-dialect) config give the same scores."""
    released = tmp_path / 'aim_release.pth'
    torch.save({'meta': {'epoch': 1}, 'state_dict': model.state_dict()}, released)
    again = init_recognizer(model.cfg, str(released))
    record = tiny_run['records'][0]
    _, scores = inference_recognizer(again, record['filename'], return_scores=True)
    np.testing.assert_array_equal(scores, record['pred_score'])

    # without the pretrained image model the frozen weights are random: other scores
    no_clip = init_recognizer(tiny_run['config'], str(released),
                              cfg_options={**tiny_run['options'],
                                           'model.backbone.pretrained': None})
    _, same = inference_recognizer(no_clip, record['filename'], return_scores=True)
    np.testing.assert_array_equal(same, record['pred_score'])  # full file: all weights in it
    with pytest.raises(ValueError, match='model.backbone.pretrained is not set'):
        init_recognizer(tiny_run['config'], tiny_run['checkpoint'],
                        cfg_options={**tiny_run['options'], 'model.backbone.pretrained': None})


def test_average_clips_none_keeps_views(tiny_run):
    model = init_recognizer(tiny_run['config'], tiny_run['checkpoint'],
                            cfg_options={**tiny_run['options'],
                                         'model.test_cfg.average_clips': None})
    record = tiny_run['records'][2]
    top, scores = inference_recognizer(model, record['filename'], return_scores=True)
    assert scores.shape == (3, 2)  # UniformSampleFrames(num_clips=3): three views
    assert top[0][0] == int(scores.mean(0).argmax())
    assert top[0][2] == pytest.approx(float(scores.mean(0).max()))


def test_checkpoint_that_does_not_fit_is_refused(tiny_run, tmp_path):
    wrong = tmp_path / 'wrong.pth'
    state = init_recognizer(tiny_run['config'], tiny_run['checkpoint'],
                            cfg_options=tiny_run['options']).state_dict()
    torch.save({'state_dict': {**state, 'cls_head.fc_cls.weight': torch.zeros(7, 64)}}, wrong)
    with pytest.raises(ValueError, match=r'cls_head.fc_cls.weight has shape \(7, 64\) in the '
                       r'file but \(2, 64\)'):
        init_recognizer(tiny_run['config'], str(wrong), cfg_options=tiny_run['options'])
    del state['backbone.ln_post.weight']
    torch.save({'state_dict': state}, wrong)
    with pytest.raises(ValueError, match="1 missing keys.*backbone.ln_post.weight"):
        init_recognizer(tiny_run['config'], str(wrong), cfg_options=tiny_run['options'])


def test_bad_inputs_say_what_was_expected(model, tiny_run):
    with pytest.raises(FileNotFoundError, match='nothing.mp4 does not exist'):
        inference_recognizer(model, tiny_run['root'] / 'nothing.mp4')
    frames = np.zeros((8, 64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match=r'\(T, H, W, 3\).*channels first'):
        inference_recognizer(model, frames.transpose(0, 3, 1, 2))
    with pytest.raises(ValueError, match=r'uint8.*float32.*\* 255'):
        inference_recognizer(model, frames.astype(np.float32))
    with pytest.raises(ValueError, match='differ in shape'):
        inference_recognizer(model, [frames[0], frames[1, :32]])
    with pytest.raises(ValueError, match='3 label names for a model with 2 classes'):
        inference_recognizer(model, frames, label_names=['a', 'b', 'c'])
    with pytest.raises(IsADirectoryError, match='decodes video files'):
        inference_recognizer(model, tiny_run['root'])


def test_frame_folder_config(tiny_run, tmp_path):
    """A frame-folder config (RawframeDataset, RawFrameDecode, frames counted from 1) reads
    a folder of frames, and a video file through PyAV; both as the frames in memory."""
    import cv2
    from mmengine.config import Config
    cfg = Config.fromfile(tiny_run['config'])
    cfg.data.test.type = 'RawframeDataset'
    cfg.data.test.pipeline = [s for s in cfg.data.test.pipeline
                              if s['type'] not in ('DecordInit', 'DecordDecode')]
    cfg.data.test.pipeline.insert(1, dict(type='RawFrameDecode'))
    model = init_recognizer(cfg, tiny_run['checkpoint'], cfg_options=tiny_run['options'])
    video = tiny_run['records'][2]['filename']
    frames = _decode_all(video)
    folder = tmp_path / 'frames'
    folder.mkdir()
    for i, frame in enumerate(frames, 1):
        cv2.imwrite(str(folder / f'img_{i:05d}.png'), frame[:, :, ::-1])  # lossless
    model.cfg.test_dataloader.dataset.filename_tmpl = 'img_{:05}.png'
    _, from_folder = inference_recognizer(model, str(folder), return_scores=True)
    _, from_memory = inference_recognizer(model, frames, return_scores=True)
    _, from_file = inference_recognizer(model, video, return_scores=True)
    np.testing.assert_array_equal(from_folder, from_memory)
    np.testing.assert_array_equal(from_file, from_memory)
    np.testing.assert_array_equal(from_file, tiny_run['records'][2]['pred_score'])
    (folder / 'img_00001.png').unlink()
    with pytest.raises(FileNotFoundError, match='has no frame img_00001.png'):
        inference_recognizer(model, str(folder))


def test_tools_test_refuses_a_full_checkpoint_missing_a_key(tiny_run, tmp_path):
    """mmengine loads with strict=False; in a test-only run a missing tensor would stay at its
    random initial value and spoil the metrics silently, so tools/test.py names it instead."""
    state = init_recognizer(tiny_run['config'], tiny_run['checkpoint'],
                            cfg_options=tiny_run['options']).state_dict()
    key = 'backbone.transformer.resblocks.0.T_Adapter.D_fc1.weight'
    del state[key]
    partial = tmp_path / 'partial.pth'
    torch.save({'meta': {}, 'state_dict': state}, partial)
    out = run_tool(['tools/test.py', tiny_run['config'], str(partial), '--eval',
                    'top_k_accuracy', '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                    *[f'{k}={v}' for k, v in tiny_run['options'].items()],
                    'data.test_dataloader.workers_per_gpu=0'])
    assert out.returncode != 0
    assert key in out.stdout + out.stderr
