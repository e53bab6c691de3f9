"""AIM's config dialect (mmaction2 0.x / mmcv 1.x) translated into mmengine Runner arguments.

=========================================  ==================================================
AIM / mmaction2 0.x key                    mmengine Runner argument
=========================================  ==================================================
``data.videos_per_gpu/workers_per_gpu``    ``{train,val,test}_dataloader.batch_size/num_workers``
``data.{val,test}_dataloader``             per-split overrides of the two above
``data.train/val/test``                    ``*_dataloader.dataset`` (train: ``SeededSampler``)
``optimizer`` (+ ``paramwise_cfg``)        ``optim_wrapper.optimizer`` / ``.paramwise_cfg``
``optimizer_config.update_interval``       ``optim_wrapper.accumulative_counts``
``optimizer_config.grad_clip``             ``optim_wrapper.clip_grad``
``optimizer_config.use_fp16``, ``fp16``    ``AmpOptimWrapper`` (fp16, dynamic loss scale)
``lr_config``                              ``param_scheduler`` (:class:`LrConfigScheduler`)
``total_epochs`` / ``runner.max_epochs``   ``train_cfg`` (``EpochBasedTrainLoop``)
``evaluation.interval/metrics/start``      ``train_cfg.val_interval/val_begin``,
                                           ``val_evaluator``/``test_evaluator`` (``AccMetric``),
                                           best checkpoint (``CheckpointHook.save_best``: by
                                           top-1, or by the first metric when that is not
                                           ``top_k_accuracy``, e.g. ``mean_average_precision``)
``checkpoint_config``                      ``default_hooks.checkpoint``
``log_config``                             ``default_hooks.logger``, ``log_processor``,
                                           ``visualizer`` (TensorBoard backend)
``dist_params``                            ``env_cfg.dist_cfg``
``find_unused_parameters``                 ``model_wrapper_cfg``
``resume_from`` / ``load_from``            ``resume=True`` + ``load_from`` / ``load_from``
``Normalize`` in the pipelines             ``model.data_preprocessor`` mean/std/to_rgb
=========================================  ==================================================

A config already in mmengine's dialect passes through; both dialects then get the same
engine additions (:func:`finalize_config`): default scope, data preprocessor from
``Normalize``, our hooks. Device-dependent choices (AMP fallback, gloo on CPU) are made by
:func:`adapt_to_device` when the process knows its device.
"""
import copy
import importlib.util
import inspect
from typing import Any, Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import get_priority

from mmaction.registry import DATASETS, HOOKS
from ..optim import eval_autocast, loss_scale_setting, requested_precision, resolve_precision
from .schema import (
    LEGACY_KEYS,
    LOADER_KEYS,
    MMENGINE_KEYS,
    OPTIMIZER_HOOKS,
    SECTION_KEYS,
    ConfigError,
    pipelines_in_use,
    registered_class,
)

#: AccMetric's key of the accuracy that selects the best checkpoint (mmaction2 0.x names)
TOP1_KEY = 'top1_acc'
#: 0.x values of ``evaluation.save_best`` -> AccMetric result keys
SAVE_BEST_KEYS = {'auto': TOP1_KEY, 'top_k_accuracy': TOP1_KEY,
                  'mean_acc': 'mean_class_accuracy'}


def _logger() -> MMLogger:
    return MMLogger.get_current_instance()


def _plain(node):
    return node.to_dict() if isinstance(node, Config) else copy.deepcopy(
        dict(node) if hasattr(node, 'items') else node)


def _unknown(section: str, given: dict, allowed) -> None:
    extra = sorted(set(given) - set(allowed))
    if extra:
        raise ConfigError(f'{section} has keys this engine does not read: {extra}; it reads '
                          f'{sorted(allowed)}. Remove them or fix their spelling.')


def is_legacy_dialect(cfg: Config) -> bool:
    """True for AIM's 0.x dialect, False for mmengine's; mixed configs are refused."""
    legacy = [k for k in LEGACY_KEYS if k in cfg]
    modern = [k for k in MMENGINE_KEYS if k in cfg]
    if legacy and modern:
        raise ConfigError(f'{cfg.filename or "the config"} mixes the AIM/mmaction2 0.x dialect '
                          f'({legacy}) with mmengine keys ({modern}); write it in one of them.')
    return bool(legacy)


# ---------------------------------------------------------------------------- sections
def translate_data(data: dict, cuda: bool) -> Dict[str, Optional[dict]]:
    """``data=dict(...)`` -> ``{train,val,test}_dataloader``."""
    _unknown('data', data, SECTION_KEYS['data'])
    if 'videos_per_gpu' not in data:
        if 'train' in data:
            raise ConfigError('data.videos_per_gpu (videos per GPU and step) is missing.')
        data = dict(data, videos_per_gpu=1)  # evaluation only: 0.x's test.py took 1
    loaders = {}
    for split, shuffle in (('train', True), ('val', False), ('test', False)):
        if split not in data:
            loaders[f'{split}_dataloader'] = None
            continue
        own = dict(data.get(f'{split}_dataloader') or {})
        _unknown(f'data.{split}_dataloader', own, LOADER_KEYS)
        setting = {k: v for k, v in data.items() if k in LOADER_KEYS}
        setting.update(own)
        workers = setting.get('workers_per_gpu', 2)
        for name, value, least in (('videos_per_gpu', setting['videos_per_gpu'], 1),
                                   ('workers_per_gpu', workers, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                where = f'data.{split}_dataloader.{name}' if name in own else f'data.{name}'
                raise ConfigError(f'{where} must be an integer >= {least}, got {value!r}.')
        dataset = dict(data[split])
        if split != 'train':
            # mmaction2 0.x built val/test sets with test_mode=True (no random substitution
            # of unreadable videos; deterministic sampling)
            dataset.setdefault('test_mode', True)
        loaders[f'{split}_dataloader'] = dict(
            batch_size=setting['videos_per_gpu'],
            num_workers=workers,
            # workers live for the whole run (mmcv's loaders forked a new pool every epoch and
            # every validation); SeededSampler reseeds every training sample, so nothing random
            # depends on a worker's history
            persistent_workers=setting.get('persistent_workers', True) and workers > 0,
            pin_memory=setting.get('pin_memory', cuda),
            drop_last=setting.get('drop_last', False),
            sampler=dict(type='SeededSampler' if split == 'train' else 'DefaultSampler',
                         shuffle=setting.get('shuffle', shuffle)),
            worker_init_fn=dict(type='mmaction.worker_init'),  # seeds, one thread
            dataset=dataset)
        if 'prefetch_factor' in setting and workers > 0:
            loaders[f'{split}_dataloader']['prefetch_factor'] = setting['prefetch_factor']
    return loaders


def translate_optimizer(optimizer: dict, optimizer_config: Optional[dict],
                        fp16: Optional[dict]) -> dict:
    """``optimizer`` + ``optimizer_config`` + ``fp16`` -> ``optim_wrapper``."""
    optimizer = dict(optimizer)
    paramwise = optimizer.pop('paramwise_cfg', None)
    if 'constructor' in optimizer:
        raise ConfigError(f"optimizer.constructor={optimizer['constructor']!r} is not "
                          'supported; parameter groups come from optimizer.paramwise_cfg.')
    hook = dict(optimizer_config or {})
    _unknown('optimizer_config', hook, SECTION_KEYS['optimizer_config'])
    kind = hook.pop('type', 'OptimizerHook')
    if kind not in OPTIMIZER_HOOKS:
        raise ConfigError(f'optimizer_config.type={kind!r}: expected one of {OPTIMIZER_HOOKS}.')
    if 'update_interval' in hook and 'cumulative_iters' in hook:
        raise ConfigError('optimizer_config sets both update_interval and cumulative_iters; '
                          'they mean the same (gradient accumulation), keep one.')
    steps = hook.get('update_interval', hook.get('cumulative_iters', 1))
    if not isinstance(steps, int) or steps < 1:
        raise ConfigError(f'optimizer_config.update_interval must be a positive int, got '
                          f'{steps!r}')
    # coalesce / bucket_size_mb tuned apex's gradient all-reduce; DDP buckets by itself.
    wrapper = dict(optimizer=optimizer, accumulative_counts=steps,
                   constructor='TrainableParamsOptimWrapperConstructor')
    if paramwise:
        wrapper['paramwise_cfg'] = dict(paramwise)
    grad_clip = hook.get('grad_clip')
    if grad_clip:
        _unknown('optimizer_config.grad_clip', grad_clip,
                 SECTION_KEYS['optimizer_config.grad_clip'])
        wrapper['clip_grad'] = dict(max_norm=grad_clip['max_norm'],
                                    norm_type=grad_clip.get('norm_type', 2))
    use_fp16 = hook.get('use_fp16', False) or 'Fp16' in kind or bool(fp16)
    if use_fp16:
        loss_scale = (fp16 or {}).get('loss_scale', hook.get('loss_scale', 'dynamic'))
        wrapper.update(type='AmpOptimWrapper', dtype='float16',
                       loss_scale=loss_scale_setting(loss_scale))
    else:
        wrapper['type'] = 'OptimWrapper'
    return wrapper


def translate_lr_config(lr_config: dict, max_epochs: int) -> List[dict]:
    """``lr_config`` -> ``param_scheduler`` (closed-form mmcv semantics, per iteration)."""
    lr = dict(lr_config)
    _unknown('lr_config', lr, SECTION_KEYS['lr_config'])
    if 'policy' not in lr:
        raise ConfigError("lr_config.policy is missing (e.g. policy='CosineAnnealing').")
    lr['policy_by_epoch'] = lr.pop('by_epoch', True)
    return [dict(type='LrConfigScheduler', max_epochs=max_epochs, convert_to_iter_based=True,
                 **lr)]


def translate_evaluation(evaluation: Optional[dict]):
    """``evaluation`` -> (loop settings, evaluator, save_best key or None)."""
    ev = dict(evaluation or {})
    _unknown('evaluation', ev, SECTION_KEYS['evaluation'])
    if ev.get('by_epoch', True) is False:
        raise ConfigError('evaluation.by_epoch=False is not supported by the epoch-based '
                          'loop; validate every evaluation.interval epochs.')
    metrics = ev.get('metrics', ['top_k_accuracy'])
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    evaluator = dict(type='AccMetric', metric_list=tuple(metrics))
    options = dict(ev.get('metric_options') or {})
    if 'topk' in ev:
        options.setdefault('top_k_accuracy', {})['topk'] = ev['topk']
    if options:
        evaluator['metric_options'] = options
    if ev.get('gpu_collect'):
        evaluator['collect_device'] = 'gpu'
    loop = dict(val_interval=ev.get('interval', 1), val_begin=ev.get('start') or 1)
    save_best = ev.get('save_best', 'auto')
    if save_best == 'auto' and metrics and metrics[0] != 'top_k_accuracy':
        # 0.x: the first metric's result; the other metrics' results carry their own names
        save_best = metrics[0]
    if save_best is not None:
        save_best = SAVE_BEST_KEYS.get(save_best, save_best)
    return loop, evaluator, save_best, ev.get('rule')


def translate_checkpoint_config(ckpt: Optional[dict]) -> dict:
    ckpt = dict(ckpt or {})
    _unknown('checkpoint_config', ckpt, SECTION_KEYS['checkpoint_config'])
    ckpt.pop('create_symlink', None)  # mmengine records the latest in work_dir/last_checkpoint
    return dict(type='CheckpointHook', interval=ckpt.pop('interval', 1), **ckpt)


def translate_log_config(log_config: Optional[dict]):
    """``log_config`` -> (logger hook, log processor, visualizer)."""
    log = dict(log_config or {})
    _unknown('log_config', log, SECTION_KEYS['log_config'])
    interval = log.get('interval', 20)
    backends = [dict(type='LocalVisBackend')]
    tensorboard_asked = False
    for hook in log.get('hooks', [dict(type='TextLoggerHook')]):
        kind = hook.get('type')
        if kind == 'TextLoggerHook':
            continue  # mmengine's LoggerHook: text log + JSON-lines scalars
        if kind == 'TensorboardLoggerHook':
            tensorboard_asked = True
        elif kind == 'WandbLoggerHook':
            backends.append(dict(type='WandbVisBackend',
                                 init_kwargs=hook.get('init_kwargs') or {}))
        else:
            raise ConfigError(f'log_config.hooks: {kind!r} is not supported; use '
                              'TextLoggerHook, TensorboardLoggerHook or WandbLoggerHook.')
    if importlib.util.find_spec('tensorboard') is not None:
        backends.append(dict(type='TensorboardVisBackend'))
    elif tensorboard_asked:
        _logger().warning('log_config asks for TensorboardLoggerHook but the tensorboard '
                          'package is not installed: pip install tensorboard. Logging to text '
                          'and JSON only.')
    logger = dict(type='LoggerHook', interval=interval)
    processor = dict(type='LogProcessor', window_size=interval, by_epoch=True)
    visualizer = dict(type='Visualizer', vis_backends=backends)
    return logger, processor, visualizer


def translate_model(cfg: Config) -> dict:
    model = _plain(cfg.model)
    # mmaction2 0.x also accepted train_cfg / test_cfg of the model at the top level
    for key in ('train_cfg', 'test_cfg'):
        top = cfg.get(key)
        if isinstance(top, dict):
            if key in model and model[key]:
                raise ConfigError(f'{key} is set both at the top level and in model.{key}; '
                                  f'keep model.{key}.')
            model[key] = _plain(top)
            _logger().info(f'Top-level {key} (mmaction2 0.x style) moved into model.{key}.')
    return model


def translate_legacy(cfg: Config) -> Config:
    """Translate an AIM / mmaction2 0.x config into mmengine's dialect."""
    cuda = torch.cuda.is_available()
    for key in ('momentum_config', ):
        if cfg.get(key):
            raise ConfigError(f'{key} is not supported; remove it.')
    workflow = cfg.get('workflow', [('train', 1)])
    if any(mode != 'train' for mode, _ in workflow):
        raise ConfigError(f"workflow={workflow}: only [('train', 1)] is supported; validation "
                          'runs with --validate every evaluation.interval epochs.')
    runner = dict(cfg.get('runner') or {})
    if runner and runner.get('type', 'EpochBasedRunner') != 'EpochBasedRunner':
        raise ConfigError(f"runner.type={runner.get('type')!r}: only EpochBasedRunner "
                          '(total_epochs) is supported.')
    # None in a config for inference and testing only (the model and data.test, all that
    # 0.x's init_recognizer and test.py read): no training loop; tools/train.py refuses it
    # (checks.check_trainable)
    max_epochs = runner.get('max_epochs', cfg.get('total_epochs'))

    out: Dict[str, Any] = {}
    keep = {k: v for k, v in cfg.to_dict().items()
            if k not in LEGACY_KEYS and k not in ('model', 'train_cfg', 'test_cfg', 'seed')}
    out.update(keep)
    out['model'] = translate_model(cfg)
    out.update(translate_data(_plain(cfg.data), cuda))

    loop, evaluator, save_best, rule = translate_evaluation(cfg.get('evaluation'))
    out['train_cfg'] = None if max_epochs is None else \
        dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, **loop)
    out['val_cfg'] = dict(type='ValLoop') if out['val_dataloader'] else None
    out['test_cfg'] = dict(type='TestLoop') if out['test_dataloader'] else None
    out['val_evaluator'] = evaluator if out['val_dataloader'] else None
    out['test_evaluator'] = copy.deepcopy(evaluator) if out['test_dataloader'] else None

    out['optim_wrapper'] = translate_optimizer(
        _plain(cfg.optimizer), _plain(cfg.get('optimizer_config') or {}),
        _plain(cfg.get('fp16') or {})) if 'optimizer' in cfg else None
    out['param_scheduler'] = translate_lr_config(_plain(cfg.lr_config), max_epochs) \
        if cfg.get('lr_config') and max_epochs is not None else None

    checkpoint = translate_checkpoint_config(_plain(cfg.get('checkpoint_config') or {}))
    if save_best and out['val_dataloader']:
        checkpoint.update(save_best=save_best, rule=rule or 'greater')
    logger, processor, visualizer = translate_log_config(_plain(cfg.get('log_config') or {}))
    out['default_hooks'] = dict(
        runtime_info=dict(type='RuntimeInfoHook'),
        timer=dict(type='IterTimerHook'),
        logger=logger,
        param_scheduler=dict(type='ParamSchedulerHook'),
        checkpoint=checkpoint,
        sampler_seed=dict(type='DistSamplerSeedHook'))
    out['log_processor'] = processor
    out['visualizer'] = visualizer
    out['custom_hooks'] = list(_plain(cfg.get('custom_hooks') or []))

    dist = dict(cfg.get('dist_params') or {'backend': 'nccl'})
    _unknown('dist_params', dist, SECTION_KEYS['dist_params'])
    dist.pop('port', None)  # the launcher sets MASTER_PORT (PORT=... tools/dist_train.sh)
    out['env_cfg'] = dict(cudnn_benchmark=False,
                          mp_cfg=dict(mp_start_method=cfg.get('mp_start_method', 'fork'),
                                      opencv_num_threads=cfg.get('opencv_num_threads', 0)),
                          dist_cfg=dist)
    # env_cfg is no 0.x key, but --cfg-options env_cfg.allow_tf32=False must reach the runner
    out['env_cfg'].update(_plain(cfg.get('env_cfg') or {}))
    out['model_wrapper_cfg'] = dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=bool(cfg.get('find_unused_parameters', False)))
    out['log_level'] = cfg.get('log_level', 'INFO')
    out['load_from'] = cfg.get('load_from')
    out['resume'] = False
    if cfg.get('resume_from'):
        out['load_from'], out['resume'] = cfg.resume_from, True
    if cfg.get('seed') is not None:
        out['randomness'] = dict(seed=cfg.seed)
    if cfg.get('gpu_ids'):
        _logger().info(f'gpu_ids={cfg.gpu_ids} ignored: the launcher decides the devices.')
    return Config(out, filename=cfg.filename)


# ---------------------------------------------------------------------------- both dialects
def _normalize_steps(tree: dict):
    steps, formats = [], []
    for path, pipeline in pipelines_in_use(tree):
        for i, step in enumerate(pipeline):
            kind = str(step.get('type', '')).split('.')[-1] if isinstance(step, dict) else ''
            if kind == 'Normalize':
                steps.append((f'{path}.{i}', step))
            elif kind == 'FormatShape':
                formats.append((f'{path}.{i}', step.get('input_format')))
    return steps, formats


def data_preprocessor_from_pipelines(model: dict, tree: dict) -> dict:
    """``model.data_preprocessor`` with the pipelines' ``Normalize`` mean/std/to_bgr (they
    keep frames uint8; normalisation happens on the device). Pipelines that disagree, or a
    data_preprocessor that disagrees with them, are refused."""
    steps, formats = _normalize_steps(tree)
    pre = dict(model.get('data_preprocessor') or {'type': 'ActionDataPreprocessor'})
    if steps:
        def norm(step):
            return ([float(v) for v in step['mean']], [float(v) for v in step['std']],
                    bool(step.get('to_bgr', False)))
        first_path, first = steps[0]
        for path, step in steps[1:]:
            if norm(step) != norm(first):
                raise ConfigError(
                    f'{first_path} and {path} normalise differently '
                    f'(mean/std/to_bgr {norm(first)} vs {norm(step)}); normalisation happens '
                    'once on the device for every split, so the pipelines must agree.')
        mean, std, to_bgr = norm(first)
        if pre.get('mean') is not None:
            have = ([float(v) for v in pre['mean']], [float(v) for v in pre['std']],
                    bool(pre.get('to_rgb', False)))
            if have != (mean, std, to_bgr):
                raise ConfigError(
                    f'model.data_preprocessor normalises with {have} but {first_path} '
                    f'(Normalize) says {(mean, std, to_bgr)}; keep one of them.')
        pre.update(mean=mean, std=std, to_rgb=to_bgr)
    kinds = {f for _, f in formats if f}
    if len(kinds) > 1:
        raise ConfigError(f'FormatShape differs between pipelines: {formats}')
    if kinds:
        pre.setdefault('format_shape', kinds.pop())
    return pre


def always_on_hooks() -> List[str]:
    """The registered hooks that declare ``always_on``, in the order a config lists them:
    by priority, then by name (mmengine runs hooks of equal priority in the listed order)."""
    hooks = [(get_priority(cls.priority), name) for name, cls in HOOKS.module_dict.items()
             if getattr(cls, 'always_on', False)]
    return [name for _, name in sorted(hooks)]


def finalize_config(cfg: Config) -> Config:
    """Engine additions for both dialects: default scope, data preprocessor from the
    pipelines' ``Normalize``, the head's ``num_classes`` for the datasets that check labels,
    and the hooks that declare ``always_on`` (per-epoch seeding, accumulation windows per
    epoch, non-finite loss stop, unreadable-video accounting, test progress bar) unless the
    config lists them already."""
    cfg.setdefault('default_scope', 'mmaction')
    tree = cfg.to_dict()
    cfg.model.data_preprocessor = data_preprocessor_from_pipelines(tree['model'], tree)
    head_classes = (tree['model'].get('cls_head') or {}).get('num_classes')
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(split) or {}).get('dataset')
        kind = registered_class(dataset.get('type'), DATASETS) if dataset else None
        if head_classes and getattr(kind, 'checks_labels', False):
            dataset.setdefault('num_classes', head_classes)
    hooks = list(cfg.get('custom_hooks') or [])
    present = {str(h.get('type')).split('.')[-1] for h in hooks if isinstance(h, dict)}
    hooks += [dict(type=h) for h in always_on_hooks() if h not in present]
    cfg.custom_hooks = hooks
    return cfg


def translate_config(cfg: Config) -> Config:
    """The mmengine Runner config of ``cfg``, whichever dialect it is written in."""
    cfg = translate_legacy(cfg) if is_legacy_dialect(cfg) else Config(
        cfg.to_dict(), filename=cfg.filename)
    return finalize_config(cfg)


def adapt_to_device(cfg: Config, amp: Optional[str] = None, cuda: Optional[bool] = None,
                    distributed: bool = False, eval_precision: Optional[str] = None) -> Config:
    """Choices that depend on this machine: mixed precision (``--amp`` or the config; fp16
    needs CUDA), validation and testing under the training's autocast dtype on CUDA, gloo
    instead of nccl and CPU DDP without ``device_ids`` when there is no GPU.

    ``eval_precision`` (``'fp16'``, ``'bf16'``, ``'none'``) is the precision of a run that
    only tests (no ``optim_wrapper``): ``tools/test.py --amp`` or the config's training one.
    """
    cuda = torch.cuda.is_available() if cuda is None else cuda
    precision = eval_precision or 'none'
    if cfg.get('optim_wrapper'):
        cfg.optim_wrapper = resolve_precision(_plain(cfg.optim_wrapper), amp, cuda)
        precision = requested_precision(cfg.optim_wrapper)
    elif amp not in (None, 'none') and eval_precision is None:
        _logger().warning(f'--amp {amp} has no effect without training (no optim_wrapper).')
    dtype = eval_autocast(precision, cuda)
    for key in ('val_cfg', 'test_cfg'):
        loop = cfg.get(key)
        if dtype and loop and loop.get('autocast') is None and not loop.get('fp16'):
            loop['autocast'] = dtype
            _logger().info(f'{key}: the model runs under {dtype} autocast, as in training '
                           '(--amp none for float32).')
    if distributed:
        # without a model_wrapper_cfg, mmengine builds DDP with broadcast_buffers=False
        wrapper = dict(cfg.get('model_wrapper_cfg') or {
            'type': 'MMDistributedDataParallel', 'broadcast_buffers': False,
            'find_unused_parameters': bool(cfg.get('find_unused_parameters', False))})
        cfg.model_wrapper_cfg = ddp_arguments(wrapper)
    if not cuda:
        env = cfg.setdefault('env_cfg', {})
        dist = env.setdefault('dist_cfg', {})
        if distributed and dist.get('backend', 'nccl') == 'nccl':
            _logger().info('No CUDA device: using the gloo backend instead of nccl.')
            dist['backend'] = 'gloo'
        if distributed:
            cfg.model_wrapper_cfg['device_ids'] = None  # DDP of a CPU module
    return cfg


def ddp_arguments(wrapper: dict) -> dict:
    """``model_wrapper_cfg`` with DDP's arguments as the installed torch names them: torch
    2.13 renamed ``broadcast_buffers`` (buffers synced before every forward) to
    ``forward_sync_buffers`` and warns about the old name. The new one still syncs buffers
    once at the start, which changes nothing here: every rank builds the same buffers."""
    wrapper = dict(wrapper)
    if 'broadcast_buffers' in wrapper and 'forward_sync_buffers' not in wrapper and \
            'forward_sync_buffers' in inspect.signature(
                torch.nn.parallel.DistributedDataParallel.__init__).parameters:
        wrapper['forward_sync_buffers'] = wrapper.pop('broadcast_buffers')
    return wrapper
