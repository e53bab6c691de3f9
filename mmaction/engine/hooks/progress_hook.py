"""A progress bar while testing (rank 0)."""
import sys

from mmengine.dist import get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.utils import ProgressBar

from mmaction.registry import HOOKS


@HOOKS.register_module()
class TestProgressBarHook(Hook):
    """Show videos done / total, rate and ETA during ``runner.test()`` on the main process.

    Runs before the ``LoggerHook`` and ends the bar's line on the iterations where that hook
    prints, so the two do not share a line.
    """

    priority = 'NORMAL'
    always_on = True  # every run has it, unless custom_hooks lists it with its own settings

    def __init__(self):
        self._bar = None
        self._done = 0
        self._total = 0
        self._log_interval = 0

    def before_test_epoch(self, runner) -> None:
        if not is_main_process():
            return
        self._total = len(runner.test_dataloader.dataset)
        self._done = 0
        self._log_interval = next((getattr(h, 'interval', 0) for h in runner.hooks
                                   if type(h).__name__ == 'LoggerHook'), 0)
        # sys.stdout as it is now (ProgressBar's default is the one it was imported with), so
        # the bar goes where the run's output is redirected
        self._bar = ProgressBar(self._total, file=sys.stdout)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._bar is None:
            return
        step = len(outputs) * get_world_size() if outputs is not None else get_world_size()
        step = min(step, self._total - self._done)
        self._done += step
        if step:
            self._bar.update(step)
        if self._done >= self._total:
            self._finish()
        elif self._log_interval and (batch_idx + 1) % self._log_interval == 0:
            self._bar.file.write('\n')

    def _finish(self) -> None:
        self._bar.file.write('\n')
        self._bar.file.flush()
        self._bar = None

    def after_test_epoch(self, runner, metrics=None) -> None:
        if self._bar is not None:
            self._finish()
