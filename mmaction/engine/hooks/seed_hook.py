"""Per-epoch reseeding: the randomness of an epoch depends on (seed, epoch) only."""
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmaction.datasets import SeededSampler
from mmaction.registry import HOOKS
from mmaction.utils.randomness import epoch_seed, seed_everything


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseed ``random``, ``numpy`` and ``torch`` from ``(runner.seed, epoch)`` before every
    training epoch (and its data loader iterator, whose worker seeds derive from ``torch``'s
    generator), so that a run resumed at an epoch boundary continues bit for bit as if never
    stopped, whatever ran in between (validation, checkpointing, a restart). Ranks get the same
    seed unless ``randomness.diff_rank_seed=True``; data loader workers are told apart by
    :func:`~mmaction.utils.randomness.seed_worker`.
    """

    priority = 'VERY_HIGH'
    always_on = True  # every run has it, unless custom_hooks lists it with its own settings

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        if getattr(loader, 'persistent_workers', False) and loader.num_workers > 0 and \
                not isinstance(loader.sampler, SeededSampler):
            runner.logger.warning(
                'train_dataloader.persistent_workers=True with a sampler that does not seed '
                'each sample: workers keep their random state across epochs, so a resumed '
                'run will not repeat the augmentations of an uninterrupted one. Use '
                "sampler=dict(type='SeededSampler') or persistent_workers=False.")

    def before_train_epoch(self, runner) -> None:
        diff_rank = runner._randomness_cfg.get('diff_rank_seed', False)
        seed_everything(epoch_seed(runner.seed, runner.epoch, get_rank() if diff_rank else None))
