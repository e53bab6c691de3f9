"""Small factories shared by tests: tiny AIM models and CLIP files in OpenAI's layout."""
import torch

from mmaction.checkpoint.openai_format import CLIPImageTower, save_openai_clip

TINY = dict(input_resolution=32, patch_size=8, width=64, layers=2, heads=4)


def tiny_backbone(**kw):
    cfg = dict(type='ViT_CLIP', num_frames=4, **TINY)
    cfg.update(kw)
    return cfg


def tiny_recognizer(num_classes=5, backbone=None, **kw):
    cfg = dict(type='Recognizer3D',
               backbone=backbone or tiny_backbone(),
               cls_head=dict(type='I3DHead', in_channels=TINY['width'], num_classes=num_classes,
                             dropout_ratio=0.0))
    cfg.update(kw)
    return cfg


def make_clip_tower(seed=0, **kw):
    """A randomly initialised image tower in OpenAI's layout (tiny by default)."""
    torch.manual_seed(seed)
    arch = dict(TINY)
    arch.update(kw)
    tower = CLIPImageTower(output_dim=16, **arch).eval()
    with torch.no_grad():  # non-trivial norms so that loading them is visible
        for name, p in tower.named_parameters():
            if 'ln' in name:
                p.add_(0.1 * torch.randn_like(p))
    return tower


def write_clip_file(path, tower, jit=True):
    save_openai_clip(tower, str(path), jit=jit, half=True, vocab_size=100)
    return str(path)


def half_rounded(tower):
    """The tower with its weights rounded through float16, as stored in OpenAI's files."""
    import copy
    t = copy.deepcopy(tower)
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(p.half().float())
    return t


class OpDtypes:
    """Records each aten operation a block of code runs, with the dtypes of its tensor
    arguments, as it reaches the kernels (after autocast chose the precision)."""

    MATMULS = ('mm', 'addmm', 'bmm', 'baddbmm', 'convolution',
               '_scaled_dot_product_flash_attention_for_cpu',
               '_scaled_dot_product_efficient_attention', '_scaled_dot_product_flash_attention')

    def __init__(self):
        from torch.utils._python_dispatch import TorchDispatchMode

        seen = self.seen = []

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                seen.append((func.overloadpacket.__name__,
                             {a.dtype for a in args if isinstance(a, torch.Tensor)}))
                return func(*args, **(kwargs or {}))

        self._mode = Mode()

    def __enter__(self):
        self._mode.__enter__()
        return self

    def __exit__(self, *exc):
        return self._mode.__exit__(*exc)

    def dtypes(self, names):
        """The dtype sets of the recorded calls of the operations ``names``."""
        return [d for n, d in self.seen if n in names]
