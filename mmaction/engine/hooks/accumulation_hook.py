"""Gradient accumulation windows that start with every epoch."""
from mmengine.hooks import Hook

from mmaction.registry import HOOKS
from ..resume import resumed_batches


@HOOKS.register_module()
class EpochAccumulationHook(Hook):
    """Restart the optimizer wrapper's accumulation count at every training epoch.

    mmengine (like mmcv's optimizer hooks that AIM used) counts ``update_interval`` windows
    over the whole run, so when an epoch's length is not a multiple of the interval a window
    spans two epochs and its first half lives only in ``.grad`` when the epoch's checkpoint is
    written: a resumed run would lose it (and under DDP each rank holds a different half).
    Here every epoch ends with an update; its last window has ``epoch_length % update_interval``
    iterations and the loss is averaged over those, like the smaller last batch of a data
    loader. When the interval divides the epoch length nothing changes.
    """

    priority = 'HIGH'
    always_on = True  # every run has it, unless custom_hooks lists it with its own settings

    def before_train_epoch(self, runner) -> None:
        wrapper = runner.optim_wrapper
        if getattr(wrapper, '_accumulative_counts', 1) > 1:
            wrapper.initialize_count_status(runner.model, resumed_batches(runner),
                                            len(runner.train_dataloader))
