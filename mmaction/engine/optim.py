"""Optimizer glue: parameter groups of the trainable parameters only, and mixed precision.

Mixed precision is chosen once, by :func:`resolve_precision`, from the config
(``optimizer_config.use_fp16`` / ``fp16`` / ``optim_wrapper.type``), the ``--amp`` flag and the
device:

* fp16 on CUDA: ``AmpOptimWrapper`` (:class:`DeviceAmpOptimWrapper`: ``torch.autocast`` +
  ``GradScaler`` with dynamic loss scaling; overflowing steps are skipped by the scaler).
  This replaces apex.
* bf16 (CUDA or CPU): :class:`AutocastOptimWrapper`, ``torch.autocast`` in bfloat16. bf16 has
  fp32's exponent range, so no loss scaling is needed.
* fp16 without CUDA: plain fp32 training, and the log says so (CPU fp16 autocast is slower
  than fp32). The wrapper itself runs on the CPU too, which is how the tests exercise loss
  scaling.

On CUDA, validation and testing run under the same autocast dtype as training
(:func:`eval_autocast`, used by :class:`~mmaction.engine.loops.ValLoop`/``TestLoop``), and
float32 matmuls and convolutions may use TF32 (:func:`allow_tf32`, ``env_cfg.allow_tf32``).
On the CPU neither changes anything.
"""
import logging
from contextlib import contextmanager
from typing import Dict, List, Optional

import torch
from mmengine.logging import MMLogger
from mmengine.optim import AmpOptimWrapper, DefaultOptimWrapperConstructor, OptimWrapper
from torch import nn

from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS

AMP_CHOICES = ('fp16', 'bf16', 'none')


class _DropFrozenNotices(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return 'since its requires_grad=False' not in record.getMessage()


@contextmanager
def _quiet_frozen_parameters():
    """mmengine logs one warning per frozen parameter while building groups (~150 lines for
    ViT-B); the frozen ones are left out of the optimizer here anyway."""
    logger = MMLogger.get_current_instance()
    notice = _DropFrozenNotices()
    logger.addFilter(notice)
    try:
        yield
    finally:
        logger.removeFilter(notice)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TrainableParamsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor (same ``paramwise_cfg``: ``custom_keys`` with
    ``lr_mult``/``decay_mult`` matched as substrings, longest key first, ``bias_decay_mult``,
    ``norm_decay_mult`` ...), but the optimizer only receives parameters with
    ``requires_grad=True``, and parameters that end up with identical settings share one
    param group.

    AIM freezes ~89% of the weights. With ``paramwise_cfg`` mmengine makes one param group
    per parameter (149 for ViT-B/16) and logs a warning for each frozen one; without it, it
    hands every parameter, frozen ones included, to the optimizer. Here ViT-B/16's AdamW has
    2 groups (decay and no decay), which lets the multi-tensor (``foreach``) kernels that CUDA
    optimizers use by default work on whole groups.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if hasattr(model, 'module'):
            model = model.module
        groups: List[dict] = []
        if self.paramwise_cfg:
            with _quiet_frozen_parameters():
                self.add_params(groups, model)
        else:
            groups = [{'params': [p]} for p in model.parameters()]
        merged: Dict[tuple, dict] = {}
        for group in groups:
            params = [p for p in group['params'] if p.requires_grad]
            if not params:
                continue
            settings = tuple(sorted((k, v) for k, v in group.items() if k != 'params'))
            merged.setdefault(settings, {**dict(settings), 'params': []})['params'] += params
        if not merged:
            raise ValueError('No parameter of the model requires a gradient; check '
                             'model.trainable_params (it selects what is trained).')
        optimizer_cfg = self.optimizer_cfg.copy()
        optimizer_cfg['params'] = list(merged.values())
        from mmengine.registry import OPTIMIZERS
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        wrapper_cfg = self.optim_wrapper_cfg.copy()
        wrapper_cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(wrapper_cfg, default_args=dict(optimizer=optimizer))


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward pass runs under ``torch.autocast`` (bfloat16 by
    default) on whatever device the model is on, CPU included. No loss scaling.
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs):
        super().__init__(**kwargs)
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f"AutocastOptimWrapper dtype must be 'bfloat16' or 'float16', "
                             f'got {dtype!r}')
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: nn.Module):
        device_type = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(device_type, dtype=self.cast_dtype):
            yield


@OPTIM_WRAPPERS.register_module(name='AmpOptimWrapper')
class DeviceAmpOptimWrapper(AmpOptimWrapper):
    """``AmpOptimWrapper`` (what ``use_fp16=True`` builds): mmengine's, with the same
    arguments (``loss_scale='dynamic'``, a float for a static scale, or a dict of
    ``GradScaler`` arguments; ``dtype``) and the same state dict (``loss_scaler`` inside the
    optimizer state, so ``--resume`` restores the scale and its growth counter), but its
    ``torch.amp.GradScaler`` and ``torch.autocast`` are those of the device the parameters
    are on. mmengine's refuses to run without a GPU (and its scaler would be disabled there),
    so dynamic loss scaling could not be exercised by the CPU tests; this one is.
    """

    def __init__(self, loss_scale='dynamic', dtype=None, use_fsdp: bool = False, **kwargs):
        OptimWrapper.__init__(self, **kwargs)  # mmengine's __init__ asserts a GPU
        params = [p for group in self.optimizer.param_groups for p in group['params']]
        self.device_type = params[0].device.type if params else 'cpu'
        self._scale_update_param = None
        if use_fsdp:
            from torch.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler
            scaler_type = ShardedGradScaler
        else:
            scaler_type = torch.amp.GradScaler
        if loss_scale == 'dynamic':
            self.loss_scaler = scaler_type(self.device_type)
        elif isinstance(loss_scale, float):  # static: the scale never changes
            self._scale_update_param = loss_scale
            self.loss_scaler = scaler_type(self.device_type, init_scale=loss_scale)
        elif isinstance(loss_scale, dict):
            self.loss_scaler = scaler_type(self.device_type, **loss_scale)
        else:
            raise TypeError(f"loss_scale must be 'dynamic', a float or a dict, got "
                            f'{loss_scale!r}')
        if isinstance(dtype, str):
            if dtype not in self.valid_dtypes:
                raise ValueError(f'dtype must be one of {self.valid_dtypes}, got {dtype!r}')
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype or torch.float16

    @contextmanager
    def optim_context(self, model: nn.Module):
        with OptimWrapper.optim_context(self, model), \
                torch.autocast(self.device_type, dtype=self.cast_dtype):
            yield


def loss_scale_setting(value):
    """``fp16.loss_scale`` as mmengine's ``AmpOptimWrapper`` takes it: ``'dynamic'``, a
    dict of ``GradScaler`` arguments, or a float (a static scale). mmcv's configs also wrote
    whole numbers (``loss_scale=512``), which the wrapper refuses: they become floats."""
    if value == 'dynamic' or isinstance(value, dict):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    raise ValueError(f"fp16.loss_scale (or optimizer_config.loss_scale) must be 'dynamic', a "
                     f'positive number or a dict of GradScaler arguments, got {value!r}')


def requested_precision(optim_wrapper: dict) -> str:
    """``'fp16'``, ``'bf16'`` or ``'none'``: what an mmengine ``optim_wrapper`` config asks."""
    kind = optim_wrapper.get('type', 'OptimWrapper')
    kind = kind.split('.')[-1] if isinstance(kind, str) else getattr(kind, '__name__', '')
    if kind == 'AmpOptimWrapper':
        return 'bf16' if str(optim_wrapper.get('dtype')) in ('bfloat16', 'torch.bfloat16') \
            else 'fp16'
    if kind == 'AutocastOptimWrapper':
        return 'bf16' if optim_wrapper.get('dtype', 'bfloat16') == 'bfloat16' else 'fp16'
    return 'none'


def resolve_precision(optim_wrapper: dict,
                      amp: Optional[str] = None,
                      cuda: Optional[bool] = None,
                      logger: Optional[MMLogger] = None) -> dict:
    """Return the ``optim_wrapper`` config that runs the requested precision on this device.

    Args:
        optim_wrapper: mmengine ``optim_wrapper`` config (``type``, ``optimizer``, ...).
        amp: ``--amp`` (``'fp16'``, ``'bf16'``, ``'none'``); ``None`` keeps the config's choice.
        cuda: whether training runs on CUDA (default: ``torch.cuda.is_available()``).
    """
    logger = logger or MMLogger.get_current_instance()
    if amp is not None and amp not in AMP_CHOICES:
        raise ValueError(f'--amp must be one of {AMP_CHOICES}, got {amp!r}')
    cuda = torch.cuda.is_available() if cuda is None else cuda
    configured = requested_precision(optim_wrapper)
    want = configured if amp is None else amp
    if amp is not None and amp != configured:
        logger.info(f'--amp {amp} overrides the config, which asked for {configured}.')
    base = {k: v for k, v in optim_wrapper.items() if k not in ('type', 'dtype', 'loss_scale')}
    if want == 'fp16':
        if cuda:
            return dict(base, type='AmpOptimWrapper', dtype='float16',
                        loss_scale=loss_scale_setting(optim_wrapper.get('loss_scale',
                                                                        'dynamic')))
        logger.warning('fp16 mixed precision (optimizer_config.use_fp16 / --amp fp16) was '
                       'requested but no CUDA device is available: training runs in fp32. '
                       'Use --amp bf16 for bfloat16 autocast on CPU.')
        return dict(base, type='OptimWrapper')
    if want == 'bf16':
        if not cuda:
            logger.info('Mixed precision: bfloat16 autocast on CPU, no loss scaling.')
        return dict(base, type='AutocastOptimWrapper', dtype='bfloat16')
    if configured == 'none':
        return dict(optim_wrapper)
    return dict(base, type='OptimWrapper')


def eval_autocast(precision: str, cuda: bool) -> Optional[str]:
    """The autocast dtype of validation and testing for a run of ``precision`` (``'fp16'``,
    ``'bf16'``, ``'none'``): the training's, on CUDA only (where it is several times faster
    than float32; on the CPU it would only change results)."""
    if not cuda or precision == 'none':
        return None
    return 'float16' if precision == 'fp16' else 'bfloat16'


def allow_tf32(allow: bool = True, cuda: Optional[bool] = None) -> None:
    """Let float32 matmuls and convolutions on CUDA use TF32 tensor cores (10-bit mantissa
    products, float32 accumulation): what makes float32 work fast on A100/H100-class GPUs.
    ``env_cfg.allow_tf32=False`` keeps full float32. Nothing changes without CUDA."""
    cuda = torch.cuda.is_available() if cuda is None else cuda
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = allow
        torch.backends.cudnn.allow_tf32 = allow
