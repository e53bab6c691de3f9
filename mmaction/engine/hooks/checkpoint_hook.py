"""mmengine's ``CheckpointHook`` with AIM's ``save_tunable_only`` option, and the hook that
keeps every checkpoint loadable with ``torch.load(weights_only=True)``."""
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS
from ..checkpoint import TUNABLE_ONLY_KEY, to_plain, tunable_state_dict


@HOOKS.register_module(name='CheckpointHook', force=True)
class CheckpointHook(MMEngineCheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments: ``interval``, ``by_epoch``,
    ``max_keep_ckpts``, ``save_best``, ``rule`` ...) plus:

    Args:
        save_tunable_only: write only the parameters with ``requires_grad=True`` (and the
            buffers): about 11M values instead of 97M for ViT-B/16 with AIM's recipe. The
            checkpoint's ``meta['save_tunable_only']`` records what was left out; loading it
            (``load_from``, ``--resume``, ``tools/test.py``) first loads the pretrained
            backbone, then these weights on top.
    """

    def __init__(self, *args, save_tunable_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.save_tunable_only = save_tunable_only

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self.save_tunable_only:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        full = checkpoint['state_dict']
        kept = tunable_state_dict(model, full)
        backbone = getattr(model, 'backbone', None)
        checkpoint['state_dict'] = type(full)(kept)
        if hasattr(full, '_metadata'):
            checkpoint['state_dict']._metadata = full._metadata
        checkpoint['meta'][TUNABLE_ONLY_KEY] = dict(
            kept=len(kept), omitted=len(full) - len(kept),
            pretrained=getattr(backbone, 'pretrained', None))


@HOOKS.register_module()
class PlainCheckpointHook(Hook):
    """Converts what mmengine puts into a checkpoint besides tensors (numpy arrays and
    scalars, ``HistoryBuffer`` objects of the message hub) into tensors and plain containers,
    so our checkpoints load with ``weights_only=True`` without allow-listing any class (see
    :mod:`mmaction.engine.checkpoint`). Registered by :class:`~mmaction.engine.ActionRunner`
    with the lowest priority, after every hook that edits the checkpoint."""

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in list(checkpoint):
            if key != 'state_dict':
                checkpoint[key] = to_plain(checkpoint[key])
