"""What a config may hold, said once for the option checks and the translation.

* the keys of AIM's (mmaction2 0.x) dialect and of mmengine's, at the top level and in the
  sections that have no ``type`` (:data:`TOP_LEVEL_KEYS`, :data:`SECTION_KEYS` ...);
* what a ``type`` names (:func:`registered_class`);
* where a config keeps the pipelines its datasets run, and their frame samplers (a step is a
  sampler when its class says so: ``pipeline_role = 'sampler'``);
* :class:`ConfigError`, the error of a config that cannot be right.
"""
from typing import Any, List, Tuple

from mmaction.datasets.transforms.base import pipeline_role
from mmaction.registry import (
    DATASETS,
    HOOKS,
    METRICS,
    MODELS,
    OPTIM_WRAPPERS,
    OPTIMIZERS,
    PARAM_SCHEDULERS,
    TRANSFORMS,
)
from mmaction.utils.cli import user_error


@user_error
class ConfigError(ValueError):
    """A config or command-line option that cannot be right; the message says the fix."""


# ---------------------------------------------------------------------------- keys
# Keys the translation (dialect.py) or mmengine's Runner read in dicts without ``type``:
# what --cfg-options may add where the config has no such key yet.
TOP_LEVEL_KEYS = {
    # AIM / mmaction2 0.x
    'model', 'data', 'optimizer', 'optimizer_config', 'lr_config', 'total_epochs', 'evaluation',
    'checkpoint_config', 'log_config', 'work_dir', 'load_from', 'resume_from',
    'find_unused_parameters', 'dist_params', 'log_level', 'workflow', 'fp16', 'gpu_ids', 'seed',
    'runner', 'train_cfg', 'test_cfg', 'opencv_num_threads', 'mp_start_method',
    # mmengine
    'default_scope', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'val_cfg',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator', 'default_hooks',
    'custom_hooks', 'env_cfg', 'log_processor', 'visualizer', 'randomness', 'launcher', 'resume',
    'experiment_name', 'auto_scale_lr', 'model_wrapper_cfg', 'runner_type', 'compile',
}
LOADER_KEYS = {'videos_per_gpu', 'workers_per_gpu', 'drop_last', 'pin_memory',
               'persistent_workers', 'shuffle', 'prefetch_factor'}
SECTION_KEYS = {
    'data': LOADER_KEYS | {'train', 'val', 'test', 'train_dataloader', 'val_dataloader',
                           'test_dataloader'},
    'data.train_dataloader': LOADER_KEYS,
    'data.val_dataloader': LOADER_KEYS,
    'data.test_dataloader': LOADER_KEYS,
    'optimizer_config': {'type', 'update_interval', 'cumulative_iters', 'grad_clip', 'coalesce',
                         'bucket_size_mb', 'use_fp16', 'loss_scale', 'distributed'},
    'optimizer_config.grad_clip': {'max_norm', 'norm_type'},
    'optimizer.paramwise_cfg': {'custom_keys', 'bias_lr_mult', 'bias_decay_mult',
                                'norm_decay_mult', 'dwconv_decay_mult', 'flat_decay_mult',
                                'dcn_offset_lr_mult', 'bypass_duplicate'},
    'lr_config': {'policy', 'by_epoch', 'warmup', 'warmup_iters', 'warmup_ratio',
                  'warmup_by_epoch', 'min_lr', 'min_lr_ratio', 'step', 'gamma', 'power'},
    'evaluation': {'interval', 'metrics', 'metric_options', 'save_best', 'rule', 'start',
                   'by_epoch', 'gpu_collect', 'tmpdir', 'topk'},
    'checkpoint_config': {'interval', 'by_epoch', 'max_keep_ckpts', 'save_optimizer', 'out_dir',
                          'save_last', 'save_tunable_only', 'create_symlink', 'filename_tmpl',
                          'iter_interval'},
    'log_config': {'interval', 'hooks'},
    'dist_params': {'backend', 'port', 'timeout', 'init_method'},
    'fp16': {'loss_scale'},
    'model.train_cfg': {'blending'},
    'model.test_cfg': {'average_clips', 'max_testing_views', 'feature_extraction'},
    'randomness': {'seed', 'deterministic', 'diff_rank_seed'},
    'env_cfg': {'cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'allow_tf32', 'num_threads'},
}
# dicts whose keys are free-form names (any new key is legitimate)
FREE_FORM = ('optimizer.paramwise_cfg.custom_keys', 'optim_wrapper.paramwise_cfg.custom_keys')
# top-level keys that make a config AIM's dialect, or mmengine's (a config with both is refused)
LEGACY_KEYS = ('data', 'optimizer', 'optimizer_config', 'lr_config', 'total_epochs',
               'evaluation', 'checkpoint_config', 'log_config', 'dist_params', 'workflow',
               'fp16', 'resume_from', 'find_unused_parameters', 'gpu_ids', 'runner',
               'momentum_config', 'mp_start_method', 'opencv_num_threads')
MMENGINE_KEYS = ('train_dataloader', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                 'default_hooks', 'val_evaluator', 'test_evaluator')
# the 0.x ``optimizer_config.type`` values the translation takes
OPTIMIZER_HOOKS = ('OptimizerHook', 'DistOptimizerHook', 'Fp16OptimizerHook',
                   'GradientCumulativeOptimizerHook', 'GradientCumulativeFp16OptimizerHook')


# ---------------------------------------------------------------------------- types
_REGISTRIES = (MODELS, DATASETS, TRANSFORMS, OPTIMIZERS, OPTIM_WRAPPERS, PARAM_SCHEDULERS,
               HOOKS, METRICS)


def registered_class(type_name: Any, *registries):
    """What a config's ``type`` names: itself when it is not a name, else the class of the
    first of ``registries`` (all of ours by default) that knows it; ``None`` when none does."""
    if not isinstance(type_name, str):
        return type_name if callable(type_name) else None
    for registry in registries or _REGISTRIES:
        try:
            cls = registry.get(type_name)
        except Exception:  # a registry whose lazy imports fail must not hide the others
            cls = None
        if cls is not None:
            return cls
    return None


# ---------------------------------------------------------------------------- pipelines
def pipelines_in_use(tree: dict) -> List[Tuple[str, list]]:
    """``(path, pipeline)`` of every pipeline the datasets will run (0.x ``data.*`` and
    mmengine ``*_dataloader.dataset``, wrappers included); top-level variables excluded."""
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                sub = f'{path}.{key}'
                if key == 'pipeline' and isinstance(value, (list, tuple)):
                    found.append((sub, value))
                else:
                    walk(value, sub)
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                walk(value, f'{path}.{i}')

    for root in ('data', 'train_dataloader', 'val_dataloader', 'test_dataloader'):
        if isinstance(tree.get(root), dict):
            walk(tree[root], root)
    return found


def frame_samplers(tree: dict, include_variables: bool = False) -> List[Tuple[str, dict]]:
    """``(path, transform)`` of every frame sampler with a ``clip_len``."""
    pipelines = pipelines_in_use(tree)
    if include_variables:
        pipelines += [(k, v) for k, v in tree.items()
                      if k.endswith('pipeline') and isinstance(v, (list, tuple))]
    out = []
    for path, pipeline in pipelines:
        for i, step in enumerate(pipeline):
            if isinstance(step, dict) and 'clip_len' in step and \
                    pipeline_role(step) == 'sampler':
                out.append((f'{path}.{i}', step))
    return out
