"""ViT_ImageNet (AIM on an ImageNet-21K ViT): AIM's names, the image ViT at initialisation,
and its weights read from timm's .pth and Google's .npz files."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmaction.checkpoint.vit_imagenet import load_vit_imagenet_into, read_vit_imagenet
from mmaction.models.backbones import ViT_ImageNet

D, HEADS, DEPTH, P, SIDE = 32, 4, 2, 8, 32  # tiny ViT: 16 patches + class token
TINY = dict(img_size=SIDE, patch_size=P, embed_dim=D, depth=DEPTH, num_heads=HEADS,
            num_frames=4, drop_path_rate=0.0)


def timm_state(seed=0, classes=5):
    """An image ViT in timm's layout, as timm's .pth files hold it (classifier included)."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape, scale=0.1):
        return scale * torch.randn(*shape, generator=g)

    sd = {'cls_token': r(1, 1, D), 'pos_embed': r(1, (SIDE // P)**2 + 1, D),
          'patch_embed.proj.weight': r(D, 3, P, P), 'patch_embed.proj.bias': r(D),
          'norm.weight': 1 + r(D), 'norm.bias': r(D), 'head.weight': r(classes, D),
          'head.bias': r(classes), 'pre_logits.fc.weight': r(D, D), 'pre_logits.fc.bias': r(D)}
    for i in range(DEPTH):
        b = f'blocks.{i}.'
        sd.update({b + 'norm1.weight': 1 + r(D), b + 'norm1.bias': r(D),
                   b + 'attn.qkv.weight': r(3 * D, D), b + 'attn.qkv.bias': r(3 * D),
                   b + 'attn.proj.weight': r(D, D), b + 'attn.proj.bias': r(D),
                   b + 'norm2.weight': 1 + r(D), b + 'norm2.bias': r(D),
                   b + 'mlp.fc1.weight': r(4 * D, D), b + 'mlp.fc1.bias': r(4 * D),
                   b + 'mlp.fc2.weight': r(D, 4 * D), b + 'mlp.fc2.bias': r(D)})
    return sd


def google_arrays(sd):
    """The same weights as Google's ViT .npz names and lays them out: Flax kernels (in, out),
    the patch kernel HWIO, attention kernels split by head."""
    hd = D // HEADS
    a = {'embedding/kernel': sd['patch_embed.proj.weight'].permute(2, 3, 1, 0),
         'embedding/bias': sd['patch_embed.proj.bias'], 'cls': sd['cls_token'],
         'Transformer/posembed_input/pos_embedding': sd['pos_embed'],
         'Transformer/encoder_norm/scale': sd['norm.weight'],
         'Transformer/encoder_norm/bias': sd['norm.bias'],
         'head/kernel': sd['head.weight'].t(), 'head/bias': sd['head.bias'],
         'pre_logits/kernel': sd['pre_logits.fc.weight'].t(),
         'pre_logits/bias': sd['pre_logits.fc.bias']}
    for i in range(DEPTH):
        src, blk = f'blocks.{i}.', f'Transformer/encoderblock_{i}/'
        mha = blk + 'MultiHeadDotProductAttention_1/'
        for j, name in enumerate(('query', 'key', 'value')):
            w = sd[src + 'attn.qkv.weight'][j * D:(j + 1) * D]  # (out, in)
            a[f'{mha}{name}/kernel'] = w.t().reshape(D, HEADS, hd)
            a[f'{mha}{name}/bias'] = sd[src + 'attn.qkv.bias'][j * D:(j + 1) * D].reshape(
                HEADS, hd)
        a[mha + 'out/kernel'] = sd[src + 'attn.proj.weight'].t().reshape(HEADS, hd, D)
        a[mha + 'out/bias'] = sd[src + 'attn.proj.bias']
        for norm, flax in (('norm1', 'LayerNorm_0'), ('norm2', 'LayerNorm_2')):
            a[f'{blk}{flax}/scale'] = sd[f'{src}{norm}.weight']
            a[f'{blk}{flax}/bias'] = sd[f'{src}{norm}.bias']
        for r in (0, 1):
            a[f'{blk}MlpBlock_3/Dense_{r}/kernel'] = sd[f'{src}mlp.fc{r + 1}.weight'].t()
            a[f'{blk}MlpBlock_3/Dense_{r}/bias'] = sd[f'{src}mlp.fc{r + 1}.bias']
    return {k: v.numpy() for k, v in a.items()}


def image_vit_features(sd, images):
    """The ImageNet ViT's final class-token feature (B, D), computed from the state dict
    with explicit attention: an independent formulation of the frozen image model."""
    x = F.conv2d(images, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=P)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([sd['cls_token'].expand(x.shape[0], -1, -1), x], 1) + sd['pos_embed']
    for i in range(DEPTH):
        b = f'blocks.{i}.'
        y = F.layer_norm(x, (D, ), sd[b + 'norm1.weight'], sd[b + 'norm1.bias'], 1e-6)
        q, k, v = F.linear(y, sd[b + 'attn.qkv.weight'], sd[b + 'attn.qkv.bias']).chunk(3, -1)
        q, k, v = (t.reshape(*t.shape[:2], HEADS, -1).transpose(1, 2) for t in (q, k, v))
        attn = ((q @ k.transpose(-1, -2)) * (D // HEADS)**-0.5).softmax(-1)
        y = (attn @ v).transpose(1, 2).flatten(2)
        x = x + F.linear(y, sd[b + 'attn.proj.weight'], sd[b + 'attn.proj.bias'])
        y = F.layer_norm(x, (D, ), sd[b + 'norm2.weight'], sd[b + 'norm2.bias'], 1e-6)
        y = F.gelu(F.linear(y, sd[b + 'mlp.fc1.weight'], sd[b + 'mlp.fc1.bias']))
        x = x + F.linear(y, sd[b + 'mlp.fc2.weight'], sd[b + 'mlp.fc2.bias'])
    return F.layer_norm(x[:, 0], (D, ), sd['norm.weight'], sd['norm.bias'], 1e-6)


def test_parameter_names_and_shapes_are_aims():
    model = ViT_ImageNet(num_tadapter=2, **TINY)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    want = {'patch_embed.proj.weight': (D, 3, P, P), 'patch_embed.proj.bias': (D, ),
            'cls_token': (1, 1, D), 'pos_embed': (1, 17, D), 'temporal_embedding': (1, 4, D),
            'ln_post.weight': (D, ), 'ln_post.bias': (D, )}
    for i in range(DEPTH):
        b = f'blocks.{i}.'
        want.update({b + 'norm1.weight': (D, ), b + 'norm1.bias': (D, ),
                     b + 'attn.qkv.weight': (3 * D, D), b + 'attn.qkv.bias': (3 * D, ),
                     b + 'attn.proj.weight': (D, D), b + 'attn.proj.bias': (D, ),
                     b + 'norm2.weight': (D, ), b + 'norm2.bias': (D, ),
                     b + 'mlp.fc1.weight': (4 * D, D), b + 'mlp.fc1.bias': (4 * D, ),
                     b + 'mlp.fc2.weight': (D, 4 * D), b + 'mlp.fc2.bias': (D, )})
        for a in ('T_Adapter_in', 'T_Adapter', 'S_Adapter', 'MLP_Adapter'):
            want.update({f'{b}{a}.D_fc1.weight': (D // 4, D), f'{b}{a}.D_fc1.bias': (D // 4, ),
                         f'{b}{a}.D_fc2.weight': (D, D // 4), f'{b}{a}.D_fc2.bias': (D, )})
    assert shapes == want
    assert 'blocks.0.T_Adapter_in.D_fc1.weight' not in ViT_ImageNet(**TINY).state_dict()


def test_vit_b16_has_the_papers_size():
    with torch.device('meta'):
        model = ViT_ImageNet()  # AIM's defaults: ViT-B/16, 8 frames
    total = sum(p.numel() for p in model.parameters())
    adapters = sum(p.numel() for n, p in model.named_parameters() if 'Adapter' in n)
    # timm's ViT-B/16 is 86.57M with its 1000-class head (769K): 85.8M, plus 3 adapters of
    # 2 * 768 * 192 + 192 + 768 per block
    assert adapters == 12 * 3 * (2 * 768 * 192 + 192 + 768)
    assert total - adapters == 86_567_656 - 769_000 + 8 * 768


@pytest.fixture
def timm_file(tmp_path):
    sd = timm_state()
    path = tmp_path / 'jx_vit_tiny.pth'
    torch.save(sd, path)
    return sd, str(path)


def test_at_initialisation_it_is_the_image_vit_frame_by_frame(timm_file):
    sd, path = timm_file
    model = ViT_ImageNet(pretrained=path, **TINY).eval()
    model.init_weights()
    clip = torch.randn(2, 3, 4, SIDE, SIDE)
    with torch.no_grad():
        out = model(clip)[..., 0, 0]  # (B, D, T)
    for t in range(4):
        torch.testing.assert_close(out[:, :, t], image_vit_features(sd, clip[:, :, t]),
                                   atol=1e-5, rtol=1e-5)


def test_trained_temporal_adapter_mixes_frames(timm_file):
    _, path = timm_file
    model = ViT_ImageNet(pretrained=path, **TINY).eval()
    model.init_weights()
    clip = torch.randn(1, 3, 4, SIDE, SIDE)
    changed = clip.clone()
    changed[:, :, 3] += 1.0
    with torch.no_grad():
        assert torch.allclose(model(clip)[:, :, 0], model(changed)[:, :, 0])
        for name, p in model.named_parameters():
            if 'T_Adapter' in name:
                p.normal_(std=0.3)
        assert (model(clip)[:, :, 0] - model(changed)[:, :, 0]).abs().max() > 1e-3


def test_googles_npz_gives_the_same_weights_as_timms_pth(tmp_path, timm_file):
    sd, path = timm_file
    npz = tmp_path / 'ViT-B_16.npz'
    np.savez(npz, **google_arrays(sd))
    from_timm, from_google = read_vit_imagenet(path), read_vit_imagenet(str(npz))
    assert from_timm.keys() == from_google.keys()
    assert 'ln_post.weight' in from_timm and not any(k.startswith(('head', 'pre_logits', 'norm.'))
                                                     for k in from_timm)
    for key in from_timm:
        torch.testing.assert_close(from_google[key], from_timm[key], atol=0, rtol=0)
    model = ViT_ImageNet(pretrained=str(npz), **TINY).eval()
    model.init_weights()
    clip = torch.randn(1, 3, 4, SIDE, SIDE)
    with torch.no_grad():
        torch.testing.assert_close(model(clip)[:, :, 1, 0, 0],
                                   image_vit_features(sd, clip[:, :, 1]), atol=1e-5, rtol=1e-5)


def test_npz_under_opt_target_loads(tmp_path, timm_file):
    sd, _ = timm_file
    npz = tmp_path / 'augreg.npz'
    np.savez(npz, **{f'opt/target/{k}': v for k, v in google_arrays(sd).items()})
    assert read_vit_imagenet(str(npz)).keys() == read_vit_imagenet(timm_file[1]).keys()


def test_loading_reports_exactly_the_aim_parameters_as_missing(timm_file):
    model = ViT_ImageNet(num_tadapter=2, **TINY)
    missing = load_vit_imagenet_into(model, timm_file[1])
    assert missing == sorted(n for n in model.state_dict()
                             if 'Adapter' in n or n == 'temporal_embedding')


def test_a_file_of_another_size_is_refused_naming_the_tensor(tmp_path, timm_file):
    with pytest.raises(ValueError, match=r'patch_embed.proj.weight has shape \(32, 3, 8, 8\) '
                                         r'in the file but \(64, 3, 8, 8\)'):
        load_vit_imagenet_into(ViT_ImageNet(**{**TINY, 'embed_dim': 64}), timm_file[1])
    with pytest.raises(ValueError, match='different architecture'):
        load_vit_imagenet_into(ViT_ImageNet(**{**TINY, 'depth': 3}), timm_file[1])


def test_files_that_are_no_vit_or_hold_code_are_refused(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'conv1.weight': torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="expected keys such as 'patch_embed.proj.weight'"):
        read_vit_imagenet(str(path))
    torch.save({'patch_embed.proj.weight': torch.zeros(1), 'x': object()}, path)
    with pytest.raises(ValueError, match='not loaded from files of unknown origin'):
        read_vit_imagenet(str(path))
    npz = tmp_path / 'objects.npz'
    np.savez(npz, **{'embedding/kernel': np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match='objects.npz holds Python objects'):
        read_vit_imagenet(str(npz))


def test_openaiclip_means_aims_file_and_a_missing_file_says_where_to_get_it(
        tmp_path, timm_file, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = ViT_ImageNet(pretrained='openaiclip', **TINY)
    with pytest.raises(FileNotFoundError, match='jx_vit_base_p16_224-80ecf9dd.pth.*v0.1-vitjx'):
        model.init_weights()
    (tmp_path / 'checkpoints').mkdir()
    import shutil
    shutil.copy(timm_file[1], tmp_path / 'checkpoints/jx_vit_base_p16_224-80ecf9dd.pth')
    model.init_weights()
    torch.testing.assert_close(model.pos_embed, timm_file[0]['pos_embed'])
