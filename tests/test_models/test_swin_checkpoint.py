"""Starting the Swin backbones from ImageNet Swin files and Video Swin checkpoints."""
import pytest
import torch

from mmaction.checkpoint.swin import load_video_swin, resize_bias_table
from mmaction.models.backbones import (
    SwinTransformer2D,
    SwinTransformer2D_Adapter,
    SwinTransformer3D,
)

ARCH = dict(embed_dim=16, depths=[2, 2], num_heads=[1, 2], drop_path_rate=0.0)


def imagenet_swin_file(path, window=4, embed_dim=16, classes=10):
    """A file laid out like Microsoft's ImageNet Swin releases: ``{'model': ...}`` with a 2D
    patch embedding (C, 3, 4, 4), the derived buffers and a classifier ``head``. The
    weights are those of a single-frame 2D Swin, also returned."""
    image_model = SwinTransformer2D(patch_size=(1, 4, 4), window_size=window,
                                    input_resolution=32, **{**ARCH, 'embed_dim': embed_dim})
    with torch.no_grad():
        for p in image_model.parameters():  # no zero biases / unit norms: every tensor counts
            p.add_(torch.randn_like(p) * 0.05)
    state = dict(image_model.state_dict())
    state['patch_embed.proj.weight'] = state['patch_embed.proj.weight'][:, :, 0]
    width = image_model.num_features
    state['head.weight'], state['head.bias'] = torch.randn(classes, width), torch.randn(classes)
    torch.save({'model': state}, path)
    return image_model.eval()


def per_frame_features(image_model, frame):
    """The 2D model's features of one frame (B, 3, H, W)."""
    with torch.no_grad():
        return image_model(frame.unsqueeze(2))[:, :, 0]


def test_aim_swin_inflated_from_imagenet_sees_identical_frames_as_the_image(tmp_path):
    path = tmp_path / 'swin_tiny_imagenet.pth'
    image_model = imagenet_swin_file(path)
    aim = SwinTransformer2D_Adapter(pretrained=str(path), num_frames=8, window_size=4,
                                    input_resolution=32, **ARCH)
    aim.init_weights()
    frame = torch.randn(2, 3, 32, 32)
    clip = frame.unsqueeze(2).expand(-1, -1, 8, -1, -1)
    with torch.no_grad():
        out = aim.eval()(clip)  # (B, C, 4, h, w)
    want = per_frame_features(image_model, frame)
    assert out.shape[2] == 4
    for t in range(4):
        torch.testing.assert_close(out[:, :, t], want, atol=1e-5, rtol=1e-4)


def test_video_swin_inflated_from_imagenet_sees_identical_frames_as_the_image(tmp_path):
    # 3D windows over 4 temporal tokens (shifted by one in odd blocks): on a static clip
    # every temporal copy of a key has the same logit (the 2D table repeated over time)
    path = tmp_path / 'swin_imagenet.pth'
    image_model = imagenet_swin_file(path)
    video = SwinTransformer3D(pretrained=str(path), pretrained2d=True, patch_size=(2, 4, 4),
                              window_size=(2, 4, 4), patch_norm=True, **ARCH)
    video.init_weights()
    assert video.layers[0].blocks[0].attn.relative_position_bias_table.shape == (3 * 49, 1)
    frame = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        out = video.eval()(frame.unsqueeze(2).expand(-1, -1, 8, -1, -1))
    want = per_frame_features(image_model, frame)
    for t in range(4):
        torch.testing.assert_close(out[:, :, t], want, atol=1e-5, rtol=1e-4)


def test_imagenet_loading_leaves_aims_additions_and_reports_them(tmp_path):
    path = tmp_path / 'swin_imagenet.pth'
    imagenet_swin_file(path)
    aim = SwinTransformer2D_Adapter(pretrained=str(path), num_frames=8, window_size=4,
                                    input_resolution=32, **ARCH)
    from mmaction.checkpoint.swin import load_swin_imagenet
    missing = load_swin_imagenet(aim, str(path))
    assert missing and all('Adapter' in k or 'temporal_position_bias_table' in k
                           or 't_relative_coords' in k for k in missing)
    # adapters still start at zero: the model is the image model until trained
    assert all(not aim.get_parameter(k).any() for k in missing if 'D_fc2' in k)


def test_relative_position_tables_are_resized_per_head():
    table = torch.tensor([1., 2., 3.]).repeat(49, 1)  # window 4: 7x7 offsets, 3 heads
    resized = resize_bias_table(table, (7, 7))  # window 7: 13x13 offsets
    assert resized.shape == (169, 3)
    torch.testing.assert_close(resized, torch.tensor([1., 2., 3.]).repeat(169, 1))
    # an offset-dependent table: the centre (offset 0) stays the centre
    ramp = torch.zeros(7, 7)
    ramp[3, 3] = 1.0
    resized = resize_bias_table(ramp.reshape(49, 1), (7, 7)).view(13, 13)
    assert resized.argmax() == 6 * 13 + 6
    repeated = resize_bias_table(table, (2, 4, 4))  # same window, 3 temporal offsets
    assert torch.equal(repeated, table.repeat(3, 1))


def test_a_larger_window_than_the_files_gets_a_resized_table(tmp_path):
    path = tmp_path / 'swin_imagenet.pth'
    imagenet_swin_file(path, window=4)
    aim = SwinTransformer2D_Adapter(pretrained=str(path), num_frames=8, window_size=7,
                                    input_resolution=32, **ARCH)
    aim.init_weights()
    with torch.no_grad():
        assert torch.isfinite(aim.eval()(torch.randn(1, 3, 8, 56, 56))).all()


def test_file_without_model_key_names_the_expected_layout(tmp_path):
    path = tmp_path / 'video_swin_k400.pth'
    torch.save({'state_dict': {'backbone.patch_embed.proj.weight': torch.zeros(1)}}, path)
    model = SwinTransformer2D_Adapter(pretrained=str(path), num_frames=8, **ARCH)
    with pytest.raises(ValueError, match=r"\{'model': \{'patch_embed.proj.weight'.*load_from"):
        model.init_weights()


def test_file_without_patch_embedding_names_the_expected_layout(tmp_path):
    path = tmp_path / 'weird.pth'
    torch.save({'model': {'encoder.weight': torch.zeros(1)}}, path)
    model = SwinTransformer2D_Adapter(pretrained=str(path), num_frames=8, **ARCH)
    with pytest.raises(ValueError, match="has no 'patch_embed.proj.weight'.*encoder.weight"):
        model.init_weights()


def test_missing_file_says_where_to_get_it(tmp_path):
    path = tmp_path / 'swin_base_patch4_window7_224_22k.pth'
    model = SwinTransformer2D_Adapter(pretrained=str(path), num_frames=8, **ARCH)
    with pytest.raises(FileNotFoundError,
                       match='SwinTransformer/storage/releases/download/v1.0.0/'
                       'swin_base_patch4_window7_224_22k.pth.*model.backbone.pretrained'):
        model.init_weights()


def test_another_swin_size_is_refused_with_both_shapes(tmp_path):
    path = tmp_path / 'swin_wide.pth'
    imagenet_swin_file(path, embed_dim=32)
    model = SwinTransformer2D_Adapter(pretrained=str(path), num_frames=8, window_size=4, **ARCH)
    before = model.state_dict()['patch_embed.norm.weight'].clone()
    with pytest.raises(ValueError, match=r'patch_embed.proj.weight has shape \(32, 3, 2, 4, 4\) '
                       r'in the file but \(16, 3, 2, 4, 4\) in the model.*embed_dim'):
        model.init_weights()
    assert torch.equal(model.state_dict()['patch_embed.norm.weight'], before)  # untouched


def test_another_depth_is_refused(tmp_path):
    path = tmp_path / 'swin_deep.pth'
    imagenet_swin_file(path)
    model = SwinTransformer2D_Adapter(pretrained=str(path), num_frames=8, window_size=4,
                                      **{**ARCH, 'depths': [2, 4]})
    with pytest.raises(ValueError, match=r'different Swin.*model keys the file lacks.*'
                       r'layers.1.blocks.2'):
        model.init_weights()


def test_video_swin_checkpoint_loads_from_a_recognizer_file(tmp_path):
    kw = dict(patch_size=(2, 4, 4), window_size=(2, 4, 4), patch_norm=True, **ARCH)
    source = SwinTransformer3D(**kw).eval()
    path = tmp_path / 'video_swin.pth'
    state = {'backbone.' + k: v for k, v in source.state_dict().items()}
    state['cls_head.fc_cls.weight'] = torch.zeros(3, 32)
    torch.save({'meta': {}, 'state_dict': state}, path)
    target = SwinTransformer3D(pretrained=str(path), pretrained2d=False, **kw).eval()
    target.init_weights()
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(target(x), source(x))
    with pytest.raises(ValueError, match='ImageNet.*pretrained2d=True'):
        imagenet_swin_file(tmp_path / 'swin_2d.pth')
        load_video_swin(target, str(tmp_path / 'swin_2d.pth'))


# ---------------------------------------------------------------- AIM's 2D Swin baseline
def aim_2d_baseline(**kw):
    """SwinTransformer2D with the arguments of AIM's swin2d_base.py (tiny sizes)."""
    args = dict(patch_size=4, num_frames=6, img_size=32, in_chans=3, num_classes=1000,
                window_size=4, mlp_ratio=4., qkv_bias=True, qk_scale=None, drop_rate=0.,
                attn_drop_rate=0., patch_norm=True, frozen_stages=-1, **ARCH)
    args.update(kw)
    return SwinTransformer2D(**args)


def test_aim_2d_baseline_embeds_every_frame_with_the_image_swins_conv2d():
    model = aim_2d_baseline().eval()
    assert model.patch_embed.proj.weight.shape == (16, 3, 4, 4)  # the ImageNet file's shape
    clip = torch.randn(2, 3, 6, 32, 32)
    with torch.no_grad():
        out = model(clip)
        assert out.shape == (2, 32, 6, 4, 4)  # one map per frame, 2 stages: 32 / 8
        for t in range(6):  # frame t alone gives the same features: no exchange across time
            torch.testing.assert_close(out[:, :, t], model(clip[:, :, t:t + 1])[:, :, 0],
                                       atol=1e-5, rtol=1e-4)


def test_imagenet_swin_file_loads_into_the_2d_baseline_as_it_is(tmp_path):
    path = tmp_path / 'swin_imagenet.pth'
    image_model = imagenet_swin_file(path)
    model = aim_2d_baseline(pretrained=str(path))
    model.init_weights()
    saved = torch.load(path, weights_only=True)['model']['patch_embed.proj.weight']
    assert torch.equal(model.patch_embed.proj.weight, saved)  # not inflated
    frames = torch.randn(2, 3, 3, 32, 32)
    with torch.no_grad():
        out = model.eval()(frames)
    for t in range(3):
        torch.testing.assert_close(out[:, :, t], per_frame_features(image_model, frames[:, :, t]),
                                   atol=1e-5, rtol=1e-4)


def test_aim_2d_baseline_arguments_that_cannot_be_honoured_are_refused():
    with pytest.raises(ValueError, match='ape=True'):
        aim_2d_baseline(ape=True)
    with pytest.raises(ValueError, match='two names for the frame side'):
        aim_2d_baseline(input_resolution=64)
