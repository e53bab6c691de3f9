"""mmengine's Runner with safe checkpoint files and AIM's test-after-training."""
import logging
import os.path as osp
import re
from typing import Optional

import torch
from mmengine.dist import barrier, master_only
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop as MMEngineEpochBasedTrainLoop
from mmengine.runner import Runner
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint

from mmaction.checkpoint import checkpoint_state_dict, load_into, read_checkpoint
from mmaction.registry import RUNNERS
from mmaction.utils.fileio import atomic_write
from mmaction.utils.randomness import use_deterministic_cublas
from mmaction.utils.threads import apply_thread_policy, loader_workers
from .file_client import without_file_client
from .hooks import PlainCheckpointHook
from .optim import allow_tf32
from .process_group import start as start_process_group
from .resume import ResumeState


def _is_remote(path: str) -> bool:
    return '://' in str(path)


class _HookTableAtDebug(logging.Filter):
    """mmengine's runner logs the table of its hooks at INFO level, some 60 lines that a
    user rarely needs: it goes out at DEBUG level instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and \
                str(record.msg).startswith('Hooks will be executed in the following order'):
            record.levelno, record.levelname = logging.DEBUG, 'DEBUG'
        return True


@RUNNERS.register_module()
class ActionRunner(Runner):
    """``mmengine.runner.Runner`` with these differences:

    * checkpoints are written to a hidden temporary file in the same directory and then
      renamed over the final name, so a crash (or SIGKILL) while saving never leaves a
      truncated ``epoch_N.pth``;
    * checkpoints hold only tensors and plain containers
      (:class:`~mmaction.engine.hooks.PlainCheckpointHook`) and local files are read with
      ``torch.load(weights_only=True)`` (:func:`~mmaction.checkpoint.read_checkpoint`);
    * weights are loaded as ``init_recognizer`` loads them
      (:func:`~mmaction.checkpoint.load_into`): a ``save_tunable_only`` checkpoint on top of
      the pretrained weights, a checkpoint trained at another clip length than
      ``model.backbone.num_frames`` with its temporal tensors resampled (the log says from
      which T to which), and strictly in a test-only run;
    * resuming checks that the checkpoint ends an epoch of this run's length, or was written
      part-way into one by ``CheckpointHook(iter_interval=N)``, and then continues from that
      iteration: :meth:`resume` builds a :class:`~mmaction.engine.resume.ResumeState` from the
      checkpoint and hands it to the training loop
      (:class:`~mmaction.engine.loops.EpochBasedTrainLoop`); mmengine's loop would restart
      the epoch, with the learning rate in the wrong place;
    * :meth:`test_checkpoint` runs the test loop after training on the final weights or on a
      checkpoint (``tools/train.py --test-last / --test-best``), after every rank can read it;
    * resumable state is read to the CPU (mmengine reads it onto the GPU) and each rank gets
      its own random state back; ``--deterministic`` sets ``CUBLAS_WORKSPACE_CONFIG``;
    * the process group starts as :func:`.process_group.start` starts it (a namespace of
      torchrun's store per restart; gloo on a machine without CUDA);
    * float32 work on CUDA may use TF32 (``env_cfg.allow_tf32``, default True);
    * ``compile=True`` compiles the backbone only, in place (:meth:`_maybe_compile`);
    * the CPU threads of the main process and the data-loader workers are chosen so that
      they do not oversubscribe the cores (``env_cfg.num_threads`` or ``OMP_NUM_THREADS``
      override; :mod:`mmaction.utils.threads`), and logged in one line at start;
    * the table of hooks is logged at DEBUG level (``log_level='DEBUG'`` shows it).
    """

    def __init__(self, *args, **kwargs):
        self._weights_initialised = False
        # between load_checkpoint and resume (mmengine's resume calls load_checkpoint)
        self._loaded_meta: Optional[dict] = None
        self._resuming = False
        self._threads_line = ''
        super().__init__(*args, **kwargs)
        self.logger.info(self._threads_line)

    def setup_env(self, env_cfg: dict) -> None:
        env_cfg = dict(env_cfg or {})
        allow_tf32(env_cfg.pop('allow_tf32', True))
        num_threads = env_cfg.pop('num_threads', None)
        if self.distributed:  # before mmengine's init_dist would start it
            start_process_group(self.launcher, env_cfg.get('dist_cfg') or {})
        super().setup_env(env_cfg)  # OpenCV's threads from mp_cfg; ours replace them
        workers = loader_workers((self._train_dataloader, self._val_dataloader,
                                  self._test_dataloader))
        self._threads_line = apply_thread_policy(workers, num_threads)

    def build_logger(self, *args, **kwargs) -> MMLogger:
        logger = super().build_logger(*args, **kwargs)
        if not any(isinstance(f, _HookTableAtDebug) for f in logger.filters):
            logger.addFilter(_HookTableAtDebug())
        return logger

    def set_randomness(self, seed, diff_rank_seed: bool = False,
                       deterministic: bool = False) -> None:
        if deterministic and use_deterministic_cublas() and torch.cuda.is_available() and \
                torch.cuda.is_initialized():
            MMLogger.get_current_instance().warning(
                'randomness.deterministic=True: CUBLAS_WORKSPACE_CONFIG=:4096:8 was set after '
                'CUDA had started; cuBLAS handles made before then are not reproducible. '
                'Export it before starting Python, or use tools/train.py --deterministic.')
        super().set_randomness(seed, diff_rank_seed, deterministic)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        self.register_hook(PlainCheckpointHook())

    def _init_model_weights(self) -> None:
        super()._init_model_weights()
        self._weights_initialised = True

    # ------------------------------------------------------------------ compile
    def _maybe_compile(self, target: str) -> None:
        """``compile=True`` (or a dict of ``torch.compile`` arguments, ``--compile``) compiles
        the backbone, where the time goes, in place. mmengine would compile the whole
        ``train_step`` (data preprocessing, loss, optimizer wrapper, hooks' tensors), which
        breaks its graph at every step of the optimizer; ``nn.Module.compile`` also keeps the
        parameter names, so checkpoints are the same with and without it."""
        setting = self.cfg.get('compile')
        if not setting:
            return
        if setting is True:
            setting = {}
        if not isinstance(setting, dict):
            raise ValueError(f'compile must be True, False or a dict of torch.compile '
                             f'arguments (e.g. dict(mode="max-autotune")), got {setting!r}')
        model = self.model.module if is_model_wrapper(self.model) else self.model
        backbone = getattr(model, 'backbone', None)
        if backbone is None or getattr(backbone, '_compiled_call_impl', None) is not None:
            return
        backbone.compile(**setting)
        self.logger.info(f'compile: the backbone runs through torch.compile({setting or ""}); '
                         'the first iterations (and each new input shape) are slow while it '
                         'compiles.')

    def test(self) -> dict:
        self._maybe_compile('test_step')
        return super().test()

    # ------------------------------------------------------------------ saving
    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs) -> None:
        if _is_remote(out_dir):
            return super().save_checkpoint(out_dir, filename, *args, **kwargs)
        # file_client_args: the third argument (the CheckpointHook passes it by position)
        client_args = kwargs.get('file_client_args', args[0] if args else None)
        with atomic_write(osp.join(out_dir, filename)) as tmp, \
                without_file_client(mmengine_checkpoint, client_args):
            super().save_checkpoint(osp.dirname(tmp), osp.basename(tmp), *args, **kwargs)

    # ------------------------------------------------------------------ loading
    def load_checkpoint(self, filename: str, map_location='cpu', strict: bool = False,
                        revise_keys: Optional[list] = None):
        """mmengine's ``load_checkpoint`` (same arguments; returns the checkpoint) with the
        weights loaded by :func:`~mmaction.checkpoint.load_into`, after the hooks have seen
        the checkpoint. The ``module.`` prefix of DDP saves is removed in any case; further
        ``revise_keys`` (pattern, replacement) pairs edit the keys of the state dict."""
        if _is_remote(filename):
            checkpoint = _load_checkpoint(filename, map_location=map_location)
        else:
            checkpoint = read_checkpoint(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        if revise_keys:
            state = checkpoint_state_dict(checkpoint, filename)
            for pattern, replacement in revise_keys:
                state = {re.sub(pattern, replacement, k): v for k, v in state.items()}
            checkpoint = dict(checkpoint, state_dict=state)
        if self._train_loop is None:
            # a test-only run: a tensor the file lacks would stay at its random initial value
            # and quietly spoil the metrics, so every key must be there (mmengine's default,
            # strict=False, suits `load_from` when fine-tuning with a new head)
            strict = True
        model = self.model.module if is_model_wrapper(self.model) else self.model
        self._loaded_meta = load_into(model, filename, strict, checkpoint=checkpoint,
                                      init_weights=self._init_weights_once,
                                      resuming=self._resuming, logger=self.logger)
        self._has_loaded = True
        return checkpoint

    def _init_weights_once(self) -> None:
        """The pretrained weights under a ``save_tunable_only`` checkpoint: ``train()`` has
        loaded them already, ``test()`` has not."""
        if not self._weights_initialised:
            self._init_model_weights()

    def resume(self, filename: str, resume_optimizer: bool = True,
               resume_param_scheduler: bool = True, map_location='cpu') -> None:
        # mmengine's default ('default') loads every tensor onto the GPU. The message hub, the
        # random state and the scheduler need host values, the model copies its weights from
        # wherever they are, and the optimizer moves its moment buffers to their parameters'
        # devices while leaving AdamW's step counters where they come from: on the CPU, which
        # spares a host sync per parameter and step.
        if map_location == 'default':
            map_location = 'cpu'
        self._resuming = True
        try:
            super().resume(filename, resume_optimizer, resume_param_scheduler, map_location)
        finally:
            self._resuming = False
        loop = self.train_loop
        if not isinstance(loop, MMEngineEpochBasedTrainLoop):
            return
        resume = ResumeState.from_checkpoint(filename, self._loaded_meta or {}, loop)
        if hasattr(loop, 'resume_from'):  # ours; from_checkpoint refused others part-way
            loop.resume_from(resume)
        if resume.batches_done:
            self.logger.info(f'Resuming part-way into epoch {self.epoch + 1}: its first '
                             f'{resume.batches_done} of {len(loop.dataloader)} iterations are '
                             'done.')

    # ------------------------------------------------------------------ testing
    def test_checkpoint(self, checkpoint: Optional[str] = None) -> dict:
        """Run the test loop on the weights in memory (``None``) or on a checkpoint file."""
        if checkpoint is not None:
            # under DDP only rank 0 writes checkpoints (a new best one possibly just now):
            # no rank reads the file before it is complete
            barrier()
        self._resume = False
        self._load_from = checkpoint
        self._has_loaded = checkpoint is None
        return self.test()
