"""Writing CLIP files in OpenAI's layout, for image models trained here.

:class:`CLIPImageTower` is an image transformer with the module names of OpenAI's visual
tower, written the plain way (``nn.MultiheadAttention``, sequence-first), so it is also an
independent formulation of the frozen image model that AIM starts from.
:func:`save_openai_clip` wraps it with a (small, untrained) text tower and saves the whole as
OpenAI does: a TorchScript archive of float16 tensors, or the plain state dict.
"""
from collections import OrderedDict

import torch
from torch import nn

from mmaction.models.common import QuickGELU


class _Block(nn.Module):

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            OrderedDict([('c_fc', nn.Linear(width, width * 4)), ('gelu', QuickGELU()),
                         ('c_proj', nn.Linear(width * 4, width))]))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (L, B, D)
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class _Transformer(nn.Module):

    def __init__(self, width: int, layers: int, heads: int):
        super().__init__()
        self.resblocks = nn.Sequential(*[_Block(width, heads) for _ in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resblocks(x)


class CLIPImageTower(nn.Module):
    """CLIP's image transformer (OpenAI's parameter names).

    ``forward(images)`` returns the projected embedding (B, output_dim);
    ``features(images)`` the ``ln_post`` class-token feature (B, width) that AIM uses.
    """

    def __init__(self, input_resolution: int = 224, patch_size: int = 16, width: int = 768,
                 layers: int = 12, heads: int = 12, output_dim: int = 512):
        super().__init__()
        scale = width**-0.5
        grid = input_resolution // patch_size
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = _Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, D, g, g)
        x = x.flatten(2).transpose(1, 2)  # (B, g*g, D)
        cls = self.class_embedding.to(x.dtype) + torch.zeros(
            x.shape[0], 1, x.shape[-1], dtype=x.dtype, device=x.device)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x).permute(1, 0, 2)  # (L, B, D): OpenAI's sequence-first layout
        x = self.transformer(x).permute(1, 0, 2)
        return self.ln_post(x[:, 0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x) @ self.proj


class CLIPFileModel(nn.Module):
    """Image tower plus a text tower's parameters, laid out like OpenAI's CLIP model.

    Only the image side is used by AIM; the text parameters exist so that the file has the
    keys (``token_embedding``, ``transformer``, ``ln_final``, ``text_projection``,
    ``logit_scale`` ...) a real CLIP file has.
    """

    def __init__(self, visual: CLIPImageTower, embed_dim: int, context_length: int = 77,
                 vocab_size: int = 49408, text_width: int = 64, text_layers: int = 1,
                 text_heads: int = 1):
        super().__init__()
        self.visual = visual
        self.transformer = _Transformer(text_width, text_layers, text_heads)
        self.token_embedding = nn.Embedding(vocab_size, text_width)
        self.positional_embedding = nn.Parameter(0.01 * torch.randn(context_length, text_width))
        self.ln_final = nn.LayerNorm(text_width)
        self.text_projection = nn.Parameter(text_width**-0.5 * torch.randn(text_width, embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(4.6052))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.visual(image)


def save_openai_clip(visual: CLIPImageTower, path: str, jit: bool = True,
                     half: bool = True, vocab_size: int = 49408) -> None:
    """Save ``visual`` inside a CLIP-shaped model as OpenAI does.

    ``jit=True`` writes a TorchScript archive (``torch.jit.save`` of the traced model, what
    ``clip.load`` downloads); ``jit=False`` the plain state dict. ``half`` stores float16
    tensors as OpenAI's files do.
    """
    import copy
    import warnings

    from mmaction.utils.fileio import atomic_write

    model = CLIPFileModel(copy.deepcopy(visual).float(), embed_dim=visual.proj.shape[1],
                          vocab_size=vocab_size).eval()
    if not jit:
        state = model.state_dict()
        with atomic_write(path) as tmp:
            torch.save({k: v.half() if half else v for k, v in state.items()}, tmp)
        return
    side = int(round((visual.positional_embedding.shape[0] - 1)**0.5))
    pixels = side * visual.conv1.kernel_size[0]
    example = torch.zeros(1, 3, pixels, pixels)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # torch.jit's deprecation notices
        traced = torch.jit.trace(model, example, check_trace=False)
        with atomic_write(path) as tmp:
            torch.jit.save(traced.half() if half else traced, tmp)
