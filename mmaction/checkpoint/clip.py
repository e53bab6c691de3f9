"""Reading OpenAI CLIP checkpoint files into :class:`~mmaction.models.backbones.ViT_CLIP`.

OpenAI distributes each model as a TorchScript archive (``torch.jit.save`` of the whole CLIP
model, float16 tensors); some users hold the plain state dict instead. Only the image tower
(keys ``visual.*``) is used; its projection ``visual.proj`` and the text tower are ignored.
"""
import hashlib
import os
import os.path as osp
import warnings
import zipfile
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmengine.logging import MMLogger

from .io import CheckpointError, check_same_architecture, read_checkpoint

#: OpenAI's files, by the architecture they hold (width, layers, patch size).
OPENAI_CLIP_FILES = {
    'ViT-B/16': dict(filename='ViT-B-16.pt', width=768, layers=12, patch_size=16,
                     sha256='5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f'),
    'ViT-L/14': dict(filename='ViT-L-14.pt', width=1024, layers=24, patch_size=14,
                     sha256='b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836'),
}
# Keys of the backbone that a CLIP file never has: AIM's additions.
AIM_ONLY = ('Adapter', 'temporal_embedding')
IGNORED = ('proj', )  # visual.proj: projection to the joint image-text space


def clip_search_dirs() -> List[str]:
    """Folders searched for ``pretrained='openaiclip'``: ``$AIM_CLIP_DIR``, then OpenAI's
    download cache ``~/.cache/clip``."""
    dirs = []
    if os.environ.get('AIM_CLIP_DIR'):
        dirs.append(os.environ['AIM_CLIP_DIR'])
    dirs.append(osp.expanduser('~/.cache/clip'))
    return dirs


def clip_arch_name(width: int, layers: int, patch_size: int) -> str:
    for name, info in OPENAI_CLIP_FILES.items():
        if (info['width'], info['layers'], info['patch_size']) == (width, layers, patch_size):
            return name
    known = ', '.join(f"{n} (width={i['width']}, layers={i['layers']}, "
                      f"patch_size={i['patch_size']})" for n, i in OPENAI_CLIP_FILES.items())
    raise CheckpointError(f"pretrained='openaiclip' has no OpenAI file for width={width}, "
                          f'layers={layers}, patch_size={patch_size}; known: {known}. Give the '
                          'path of a CLIP checkpoint instead '
                          '(model.backbone.pretrained=/path/to/file.pt).')


def resolve_clip_file(spec: str, width: int, layers: int, patch_size: int) -> str:
    """Turn ``'openaiclip'`` or a path into an existing file, or explain what is missing."""
    if spec != 'openaiclip':
        path = osp.expanduser(spec)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'model.backbone.pretrained={spec!r}: no such file. Give the path of a CLIP '
                "checkpoint, or 'openaiclip' to use OpenAI's file from "
                f'{" or ".join(clip_search_dirs())}.')
        return path
    arch = clip_arch_name(width, layers, patch_size)
    info = OPENAI_CLIP_FILES[arch]
    dirs = clip_search_dirs()
    for d in dirs:
        path = osp.join(d, info['filename'])
        if osp.isfile(path):
            return path
    url = f"https://openaipublic.azureedge.net/clip/models/{info['sha256']}/{info['filename']}"
    raise FileNotFoundError(
        f"pretrained='openaiclip' needs OpenAI's {arch} weights, {info['filename']} "
        f"(sha256 {info['sha256']}), and it is in none of: {', '.join(dirs)}. "
        f'Download it (OpenAI publishes it at {url}) into one of those folders, or set '
        f'AIM_CLIP_DIR to the folder that holds it, or pass its path as '
        f'model.backbone.pretrained.')


def sha256sum(path: str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def is_torchscript_archive(path: str) -> bool:
    """TorchScript archives are zip files with a ``constants.pkl`` and compiled ``code/``;
    plain ``torch.save`` zips have neither."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    return any(n.endswith('/constants.pkl') for n in names) and any('/code/' in n for n in names)


def read_clip_visual_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The image tower's tensors of a CLIP file, ``visual.`` prefix removed, float32.

    Accepts OpenAI's TorchScript archive, the plain state dict of a whole CLIP model, or the
    state dict of its image tower alone (keys without ``visual.``).
    """
    if is_torchscript_archive(path):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)  # torch.jit's own notice
            state = torch.jit.load(path, map_location='cpu').state_dict()
    else:
        state = read_checkpoint(path)
        if isinstance(state, dict) and 'state_dict' in state and isinstance(
                state['state_dict'], dict):
            state = state['state_dict']
    if not isinstance(state, dict):
        raise CheckpointError(f'{path}: expected a CLIP checkpoint (a state dict or an OpenAI '
                              f'TorchScript archive); found a {type(state).__name__}.')
    if any(k.startswith('visual.') for k in state):
        visual = {k[len('visual.'):]: v for k, v in state.items() if k.startswith('visual.')}
    elif 'conv1.weight' in state:
        visual = dict(state)
    else:
        sample = ', '.join(list(state)[:5])
        raise CheckpointError(f'{path}: not a CLIP checkpoint: expected keys such as '
                              f"'visual.conv1.weight' or 'conv1.weight', found {sample} ...")
    return {k: v.float() for k, v in visual.items() if k not in IGNORED}


def match_clip_state_dict(model: torch.nn.Module, visual: Dict[str, torch.Tensor],
                          source: str) -> Tuple[List[str], List[str]]:
    """Check ``visual`` against ``model``'s parameters.

    Raises ``ValueError`` naming the key and both shapes on a shape mismatch, and on keys
    the architectures do not share (a file with more or fewer blocks). Returns (missing,
    ignored): AIM's own parameters the file lacks, and file keys the model does not use.
    """
    own = model.state_dict()
    # conv1 first: its shape names the architecture, the clearest message for a wrong file
    for key in sorted(visual, key=lambda k: k != 'conv1.weight'):
        value = visual[key]
        if key in own and own[key].shape != value.shape:
            hint = ''
            if key == 'conv1.weight':
                hint = (f' The file holds width {value.shape[0]}, patch {value.shape[-1]}; '
                        f'the backbone has width {own[key].shape[0]}, patch {own[key].shape[-1]}.'
                        ' Use the config of that architecture (vitclip_base_* for ViT-B/16, '
                        'vitclip_large_* for ViT-L/14).')
            elif key == 'positional_embedding':
                hint = (' The file was trained at another input resolution; set '
                        'model.backbone.input_resolution to match it.')
            raise CheckpointError(f'{source}: {key} has shape {tuple(value.shape)} in the file but '
                                  f'{tuple(own[key].shape)} in the model.{hint}')
    return check_same_architecture(source, visual, own, AIM_ONLY, what='architecture',
                                   fix='Check width/layers/heads/patch_size.')


def timesformer_from_clip(visual: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """CLIP's image tower for :class:`TimeSformer`: each block's temporal attention
    (``t_attn``) and its norm (``t_norm``) start as copies of the block's ``attn`` and
    ``ln_1``, as AIM initialises them."""
    out = dict(visual)
    for key, value in visual.items():
        if key.startswith('transformer.resblocks.'):
            block, name = key.split('.', 3)[2], key.split('.', 3)[3]
            for src, dst in (('attn.', 't_attn.'), ('ln_1.', 't_norm.')):
                if name.startswith(src):
                    out[f'transformer.resblocks.{block}.{dst}{name[len(src):]}'] = value
    return out


def load_clip_into(backbone: torch.nn.Module, spec: str,
                   logger: Optional[MMLogger] = None,
                   derive: Optional[Callable[[Dict[str, torch.Tensor]],
                                             Dict[str, torch.Tensor]]] = None) -> List[str]:
    """Load a CLIP image tower into ``backbone`` (:class:`ViT_CLIP` or :class:`TimeSformer`);
    returns the keys left at their initial values (AIM's additions). ``derive`` maps the
    file's tensors to the backbone's (e.g. :func:`timesformer_from_clip`)."""
    logger = logger or MMLogger.get_current_instance()
    path = resolve_clip_file(spec, backbone.width, backbone.layers, backbone.patch_size)
    visual = read_clip_visual_state_dict(path)
    if derive is not None:
        visual = derive(visual)
    missing, _ = match_clip_state_dict(backbone, visual, path)
    backbone.load_state_dict(visual, strict=False)
    groups = {}
    for key in missing:
        group = next(p for p in AIM_ONLY if p in key)
        groups[group] = groups.get(group, 0) + 1
    logger.info(f'Loaded CLIP image weights from {path} ({len(visual)} tensors). '
                'Not in the file, left at their AIM initialisation: '
                + (', '.join(f'{n} {g} tensors' for g, n in groups.items()) or 'none')
                + '. Ignored from the file: visual.proj and the text tower.')
    return missing
