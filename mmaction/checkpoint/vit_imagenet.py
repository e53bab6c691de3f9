"""Reading ImageNet ViT-B/16 files into :class:`~mmaction.models.backbones.ViT_ImageNet`.

Two formats hold the same weights:

* timm's ``.pth`` (e.g. ``jx_vit_base_p16_224-80ecf9dd.pth``, the file AIM's code reads): a
  plain state dict in timm's layout, ``cls_token``, ``pos_embed``, ``patch_embed.proj.*``,
  ``blocks.{i}.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}.*``, ``norm.*`` and a
  classifier (``head.*``; ImageNet-21K files also ``pre_logits.fc.*``).
* Google's ``.npz`` as published with the ViT paper (e.g. ``imagenet21k/ViT-B_16.npz``):
  arrays named after the Flax modules, ``embedding/kernel`` (p, p, 3, D) HWIO, ``cls``,
  ``Transformer/posembed_input/pos_embedding``, ``Transformer/encoderblock_{i}/
  {LayerNorm_0, MultiHeadDotProductAttention_1/{query,key,value,out}, LayerNorm_2,
  MlpBlock_3/Dense_{0,1}}``, ``Transformer/encoder_norm``, ``head``, ``pre_logits``; some
  files put them under ``opt/target/``. Dense kernels are (in, out); the attention's
  query/key/value kernels (D, heads, D / heads), its out kernel (heads, D / heads, D).

Both become timm's layout; the final norm is ``ln_post`` in the backbone, the classifier is
dropped. Files are read without executing pickled code (``weights_only`` / ``allow_pickle=
False``).
"""
import os.path as osp
import zipfile
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.logging import MMLogger

from .io import CheckpointError, check_same_architecture, read_checkpoint

#: backbone parameters no ImageNet file has: AIM's additions
AIM_ONLY = ('Adapter', 'temporal_embedding')
#: file keys that are not the image model's features
CLASSIFIER = ('head.', 'pre_logits.')
TIMM_URL = ('https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-vitjx/'
            'jx_vit_base_p16_224-80ecf9dd.pth')
#: the file AIM's code reads: timm's ImageNet-21K ViT-B/16, fine-tuned on ImageNet-1K at 224
AIM_VIT_IMAGENET_FILE = 'checkpoints/jx_vit_base_p16_224-80ecf9dd.pth'


def _is_npz(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    return bool(names) and all(n.endswith('.npy') for n in names)


def _google_to_timm(arrays: Dict[str, np.ndarray], path: str) -> Dict[str, torch.Tensor]:
    prefix = 'opt/target/' if any(k.startswith('opt/target/') for k in arrays) else ''
    if f'{prefix}embedding/kernel' not in arrays:
        sample = ', '.join(list(arrays)[:4])
        raise CheckpointError(f"{path}: not a ViT .npz of Google's layout: expected arrays such as "
                              f"'embedding/kernel' and 'Transformer/encoderblock_0/...'; found "
                              f'{sample} ...')

    def get(name):
        return torch.from_numpy(np.asarray(arrays[prefix + name], dtype=np.float32))

    out = {'patch_embed.proj.weight': get('embedding/kernel').permute(3, 2, 0, 1),  # HWIO->OIHW
           'patch_embed.proj.bias': get('embedding/bias'),
           'cls_token': get('cls'),
           'pos_embed': get('Transformer/posembed_input/pos_embedding'),
           'norm.weight': get('Transformer/encoder_norm/scale'),
           'norm.bias': get('Transformer/encoder_norm/bias')}
    blocks = sorted({int(k[len(prefix):].split('/')[1].rsplit('_', 1)[1]) for k in arrays
                     if k[len(prefix):].startswith('Transformer/encoderblock_')})
    for i in blocks:
        src, dst = f'Transformer/encoderblock_{i}/', f'blocks.{i}.'
        attn = src + 'MultiHeadDotProductAttention_1/'
        # q, k, v kernels (D, heads, D/heads) -> rows of one (3D, D) qkv weight
        out[dst + 'attn.qkv.weight'] = torch.cat(
            [get(f'{attn}{n}/kernel').flatten(1).t() for n in ('query', 'key', 'value')])
        out[dst + 'attn.qkv.bias'] = torch.cat(
            [get(f'{attn}{n}/bias').flatten() for n in ('query', 'key', 'value')])
        out[dst + 'attn.proj.weight'] = get(attn + 'out/kernel').flatten(0, 1).t()
        out[dst + 'attn.proj.bias'] = get(attn + 'out/bias')
        for flax, norm in (('LayerNorm_0', 'norm1'), ('LayerNorm_2', 'norm2')):
            out[f'{dst}{norm}.weight'] = get(f'{src}{flax}/scale')
            out[f'{dst}{norm}.bias'] = get(f'{src}{flax}/bias')
        for r in (0, 1):
            out[f'{dst}mlp.fc{r + 1}.weight'] = get(f'{src}MlpBlock_3/Dense_{r}/kernel').t()
            out[f'{dst}mlp.fc{r + 1}.bias'] = get(f'{src}MlpBlock_3/Dense_{r}/bias')
    return out


def read_vit_imagenet(path: str) -> Dict[str, torch.Tensor]:
    """The image model's tensors of a timm ``.pth`` or Google ``.npz`` ViT file, in the
    backbone's names (timm's, ``norm`` -> ``ln_post``), float32, classifier dropped."""
    if _is_npz(path):
        try:
            with np.load(path, allow_pickle=False) as arrays:
                raw = {k: arrays[k] for k in arrays.files}
        except ValueError as err:  # object arrays need pickle, which could run code
            raise CheckpointError(
                f'{path} holds Python objects, which are not loaded from files of unknown '
                f'origin (numpy allow_pickle=False refused: {err}). A ViT .npz holds plain '
                'float arrays only.') from err
        state = _google_to_timm(raw, path)
    else:
        state = read_checkpoint(path)
        for key in ('state_dict', 'model'):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
        if not isinstance(state, dict) or 'patch_embed.proj.weight' not in state:
            found = (', '.join(list(state)[:4]) if isinstance(state, dict)
                     else type(state).__name__)
            raise CheckpointError(f"{path}: not an ImageNet ViT file in timm's layout: expected "
                                  f"keys such as 'patch_embed.proj.weight', 'blocks.0.attn.qkv."
                                  f"weight'; found {found} ...")
    out = {}
    for key, value in state.items():
        if key.startswith(CLASSIFIER):
            continue
        if key.startswith('norm.'):
            key = 'ln_post.' + key[len('norm.'):]
        out[key] = value.float()
    return out


def resolve_vit_imagenet_file(spec: str, logger: MMLogger) -> str:
    if spec == 'openaiclip':
        logger.info(f"ViT_ImageNet: pretrained='openaiclip' (AIM's README passes it to every "
                    f'config) means, as in AIM, its ImageNet-21K ViT-B/16 file '
                    f'{AIM_VIT_IMAGENET_FILE}.')
        spec = AIM_VIT_IMAGENET_FILE
    path = osp.expanduser(spec)
    if not osp.isfile(path):
        hint = (f' It is timm\'s ImageNet-21K ViT-B/16 fine-tuned on ImageNet-1K ({TIMM_URL}).'
                if osp.basename(path) == osp.basename(AIM_VIT_IMAGENET_FILE) else '')
        raise FileNotFoundError(
            f'model.backbone.pretrained={spec!r}: no such file.{hint} Give the path of a '
            "timm ViT-B/16 .pth or of Google's ViT-B_16.npz (storage.googleapis.com/"
            'vit_models/imagenet21k/ViT-B_16.npz), or pretrained=None for random weights.')
    return path


def load_vit_imagenet_into(backbone: torch.nn.Module, spec: str,
                           logger: Optional[MMLogger] = None) -> List[str]:
    """Load an ImageNet ViT into ``backbone`` (:class:`ViT_ImageNet`). A shape that differs,
    or a key only one side has (other than AIM's additions), is an error naming it. Returns
    the parameters left at their initial values (adapters, temporal embedding)."""
    logger = logger or MMLogger.get_current_instance()
    path = resolve_vit_imagenet_file(spec, logger)
    state = read_vit_imagenet(path)
    own = backbone.state_dict()
    for key in sorted(state, key=lambda k: k != 'patch_embed.proj.weight'):
        if key in own and own[key].shape != state[key].shape:
            hint = {'patch_embed.proj.weight': ' Match embed_dim/patch_size to the file.',
                    'pos_embed': ' The file was trained at another resolution: set '
                                 'model.backbone.img_size to match it.'}.get(key, '')
            raise CheckpointError(f'{path}: {key} has shape {tuple(state[key].shape)} in the file '
                                  f'but {tuple(own[key].shape)} in the model.{hint}')
    missing, _ = check_same_architecture(path, state, own, AIM_ONLY, what='architecture',
                                         fix='Check embed_dim/depth/num_heads.')
    backbone.load_state_dict(state, strict=False)
    logger.info(f'Loaded ImageNet ViT weights from {path} ({len(state)} tensors; its classifier '
                f'dropped). Not in the file, left at their AIM initialisation: '
                f'{len(missing)} tensors of the adapters and the temporal embedding.')
    return missing
