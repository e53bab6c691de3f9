"""AIM's ViT_CLIP as its official repository computes it, for comparisons of memory.

Facts from taoyang1122/adapt-image-models (``mmaction/models/backbones/vit_clip.py``), written
here independently of ``mmaction.models``: tokens sequence-first through
``nn.MultiheadAttention`` (``need_weights=False``, which is SDPA on current torch), a
LayerNorm that upcasts its input to float32, CLIP's activation as ``x * sigmoid(1.702 x)``,
the adapters ``D_fc1 -> GELU -> D_fc2``, ``ln_post`` over every token before the class token
is taken. Parameter names are the official ones, so ``load_state_dict`` takes a
:class:`~mmaction.models.backbones.ViT_CLIP`'s weights strictly and both compute the same
function.
"""
from collections import OrderedDict

import torch
from einops import rearrange
from torch import nn


class OfficialLayerNorm(nn.LayerNorm):

    def forward(self, x):
        return super().forward(x.type(torch.float32)).type(x.dtype)


class OfficialQuickGELU(nn.Module):

    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class OfficialAdapter(nn.Module):

    def __init__(self, dim, skip_connect=True):
        super().__init__()
        self.skip_connect = skip_connect
        self.act = nn.GELU()
        self.D_fc1 = nn.Linear(dim, dim // 4)
        self.D_fc2 = nn.Linear(dim // 4, dim)

    def forward(self, x):
        h = self.D_fc2(self.act(self.D_fc1(x)))
        return x + h if self.skip_connect else h


class OfficialDropPath(nn.Module):

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if self.p == 0.0 or not self.training:
            return x
        keep = 1 - self.p
        mask = x.new_empty((x.shape[0], ) + (1, ) * (x.ndim - 1)).bernoulli_(keep)
        return x.div(keep) * mask


class OfficialBlock(nn.Module):

    def __init__(self, dim, heads, num_frames, drop_path, scale, num_tadapter):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads)
        self.ln_1 = OfficialLayerNorm(dim)
        self.mlp = nn.Sequential(OrderedDict([('c_fc', nn.Linear(dim, dim * 4)),
                                              ('gelu', OfficialQuickGELU()),
                                              ('c_proj', nn.Linear(dim * 4, dim))]))
        self.ln_2 = OfficialLayerNorm(dim)
        self.MLP_Adapter = OfficialAdapter(dim, skip_connect=False)
        self.S_Adapter = OfficialAdapter(dim)
        self.T_Adapter = OfficialAdapter(dim, skip_connect=False)
        if num_tadapter == 2:
            self.T_Adapter_in = OfficialAdapter(dim)
        self.num_frames = num_frames
        self.scale = scale
        self.drop_path = OfficialDropPath(drop_path)

    def attention(self, x):
        return self.attn(x, x, x, need_weights=False)[0]

    def forward(self, x):  # (N, B*T, D)
        n = x.shape[0]
        xt = rearrange(x, 'n (b t) d -> t (b n) d', t=self.num_frames)
        xt = self.ln_1(xt)
        if hasattr(self, 'T_Adapter_in'):
            xt = self.T_Adapter_in(xt)
        xt = self.T_Adapter(self.attention(xt))
        x = x + self.drop_path(rearrange(xt, 't (b n) d -> n (b t) d', n=n))
        x = x + self.S_Adapter(self.attention(self.ln_1(x)))
        xn = self.ln_2(x)
        return x + self.mlp(xn) + self.drop_path(self.scale * self.MLP_Adapter(xn))


class OfficialTransformer(nn.Module):

    def __init__(self, blocks):
        super().__init__()
        self.resblocks = nn.Sequential(*blocks)

    def forward(self, x):
        return self.resblocks(x)


class OfficialViTCLIP(nn.Module):
    """Built from the same arguments as ``ViT_CLIP``; its input and output are ViT_CLIP's."""

    def __init__(self, input_resolution=224, num_frames=8, patch_size=16, width=768, layers=12,
                 heads=12, drop_path_rate=0.0, num_tadapter=1, adapter_scale=0.5):
        super().__init__()
        self.num_frames = num_frames
        self.conv1 = nn.Conv2d(3, width, patch_size, patch_size, bias=False)
        grid = input_resolution // patch_size
        self.class_embedding = nn.Parameter(torch.zeros(width))
        self.positional_embedding = nn.Parameter(torch.zeros(grid * grid + 1, width))
        self.temporal_embedding = nn.Parameter(torch.zeros(1, num_frames, width))
        self.ln_pre = OfficialLayerNorm(width)
        rates = [drop_path_rate * i / max(layers - 1, 1) for i in range(layers)]
        self.transformer = OfficialTransformer([
            OfficialBlock(width, heads, num_frames, r, adapter_scale, num_tadapter)
            for r in rates])
        self.ln_post = OfficialLayerNorm(width)

    def forward(self, x):
        b, t = x.shape[0], x.shape[2]
        x = self.conv1(rearrange(x, 'b c t h w -> (b t) c h w'))
        x = rearrange(x, 'bt d h w -> bt (h w) d')
        cls = self.class_embedding.to(x.dtype) + torch.zeros(
            x.shape[0], 1, x.shape[-1], dtype=x.dtype, device=x.device)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        n = x.shape[1]
        x = rearrange(x, '(b t) n d -> (b n) t d', t=self.num_frames) + self.temporal_embedding
        x = self.ln_pre(rearrange(x, '(b n) t d -> (b t) n d', n=n))
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)
        x = self.ln_post(x)[:, 0]
        return rearrange(x, '(b t) d -> b d t 1 1', b=b, t=t)


def official_like(backbone) -> OfficialViTCLIP:
    """The official formulation of ``backbone`` (a ViT_CLIP with AIM's three adaptations),
    with its weights and its trainable parameters."""
    blocks = backbone.transformer.resblocks
    model = OfficialViTCLIP(backbone.input_resolution, backbone.num_frames, backbone.patch_size,
                            backbone.width, backbone.layers, backbone.heads,
                            blocks[-1].drop_path.p,
                            2 if hasattr(blocks[0], 'T_Adapter_in') else 1,
                            blocks[0].adapter_scale)
    model = model.to(next(backbone.parameters()).device)
    model.load_state_dict(backbone.state_dict())
    trainable = {n for n, p in backbone.named_parameters() if p.requires_grad}
    for name, param in model.named_parameters():
        param.requires_grad_(name in trainable)
    return model.train(backbone.training)
