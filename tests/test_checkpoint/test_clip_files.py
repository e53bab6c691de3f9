"""OpenAI CLIP files: both formats load, mismatches and missing files explain themselves."""
import pytest
import torch

from mmaction.checkpoint.clip import (
    OPENAI_CLIP_FILES,
    is_torchscript_archive,
    load_clip_into,
    read_clip_visual_state_dict,
    resolve_clip_file,
)
from mmaction.models.backbones.vit_clip import ViT_CLIP
from tests.helpers import TINY, half_rounded, make_clip_tower, write_clip_file


@pytest.fixture(scope='module')
def tower():
    return make_clip_tower(seed=3)


@pytest.mark.parametrize('jit', [True, False], ids=['torchscript', 'state_dict'])
def test_both_openai_formats_give_the_visual_tensors(tmp_path, tower, jit):
    path = write_clip_file(tmp_path / 'clip.pt', tower, jit=jit)
    assert is_torchscript_archive(path) == jit
    visual = read_clip_visual_state_dict(path)
    expected = {k: v for k, v in half_rounded(tower).state_dict().items() if k != 'proj'}
    assert visual.keys() == expected.keys()  # proj and the text tower are dropped
    for key, value in expected.items():
        assert visual[key].dtype == torch.float32
        torch.testing.assert_close(visual[key], value, atol=0, rtol=0)


def test_file_holds_a_text_tower_that_is_ignored(tmp_path, tower):
    path = write_clip_file(tmp_path / 'clip.pt', tower)
    raw = torch.jit.load(path).state_dict()
    assert {'token_embedding.weight', 'text_projection', 'logit_scale', 'visual.proj'} <= set(raw)
    assert raw['visual.conv1.weight'].dtype == torch.float16  # stored like OpenAI's


def test_load_reports_exactly_the_aim_parameters_as_missing(tmp_path, tower):
    path = write_clip_file(tmp_path / 'clip.pt', tower, jit=False)
    model = ViT_CLIP(num_frames=4, **TINY)
    missing = load_clip_into(model, path)
    aim_only = sorted(n for n in model.state_dict()
                      if 'Adapter' in n or n == 'temporal_embedding')
    assert missing == aim_only and len(aim_only) == 1 + 2 * 3 * 4
    torch.testing.assert_close(model.conv1.weight, half_rounded(tower).conv1.weight)


def test_wrong_width_names_the_key_and_both_shapes(tmp_path, tower):
    path = write_clip_file(tmp_path / 'clip.pt', tower)
    model = ViT_CLIP(num_frames=4, **dict(TINY, width=32, heads=2))
    with pytest.raises(ValueError, match=r'conv1\.weight has shape \(64, 3, 8, 8\) in the file '
                       r'but \(32, 3, 8, 8\) in the model'):
        load_clip_into(model, path)


def test_wrong_depth_is_an_architecture_error_naming_a_key(tmp_path, tower):
    path = write_clip_file(tmp_path / 'clip.pt', tower)
    model = ViT_CLIP(num_frames=4, **dict(TINY, layers=1))
    with pytest.raises(ValueError, match=r"different architecture.*'transformer\.resblocks\.1\."):
        load_clip_into(model, path)


def test_missing_openai_file_names_file_folders_and_sha(tmp_path, monkeypatch):
    monkeypatch.setenv('AIM_CLIP_DIR', str(tmp_path / 'clip_dir'))
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    with pytest.raises(FileNotFoundError) as err:
        resolve_clip_file('openaiclip', width=768, layers=12, patch_size=16)
    msg = str(err.value)
    assert 'ViT-B-16.pt' in msg and OPENAI_CLIP_FILES['ViT-B/16']['sha256'] in msg
    assert str(tmp_path / 'clip_dir') in msg and str(tmp_path / 'home' / '.cache' / 'clip') in msg


def test_openaiclip_resolves_by_architecture_in_search_order(tmp_path, monkeypatch):
    first, cache = tmp_path / 'mine', tmp_path / 'home' / '.cache' / 'clip'
    for d in (first, cache):
        d.mkdir(parents=True)
    (cache / 'ViT-L-14.pt').write_bytes(b'x')
    (cache / 'ViT-B-16.pt').write_bytes(b'x')
    (first / 'ViT-B-16.pt').write_bytes(b'x')
    monkeypatch.setenv('AIM_CLIP_DIR', str(first))
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    assert resolve_clip_file('openaiclip', 768, 12, 16) == str(first / 'ViT-B-16.pt')
    assert resolve_clip_file('openaiclip', 1024, 24, 14) == str(cache / 'ViT-L-14.pt')
    with pytest.raises(ValueError, match='no OpenAI file for width=512'):
        resolve_clip_file('openaiclip', 512, 12, 16)


def test_missing_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pt'):
        resolve_clip_file(str(tmp_path / 'nope.pt'), 768, 12, 16)


class NotATensor:
    pass


def test_pickles_with_code_are_refused(tmp_path):
    path = tmp_path / 'evil.pt'
    torch.save({'visual.conv1.weight': torch.zeros(1), 'x': NotATensor()}, path)
    with pytest.raises(ValueError, match='weights_only=True refused'):
        read_clip_visual_state_dict(str(path))


def test_non_clip_state_dict_is_explained(tmp_path):
    path = tmp_path / 'resnet.pt'
    torch.save({'fc.weight': torch.zeros(2, 2)}, path)
    with pytest.raises(ValueError, match="not a CLIP checkpoint.*'visual.conv1.weight'"):
        read_clip_visual_state_dict(str(path))
