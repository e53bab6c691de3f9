"""Registries of the ``mmaction`` scope.

Each one is a child of mmengine's root registry of the same name, so a config builds our
classes by ``type=`` and falls back to mmengine's own (``AdamW``, ``CosineAnnealingLR``,
``CheckpointHook`` ...) for names we do not define. ``locations`` lists the modules that
register into each registry; mmengine imports them the first time the registry is searched
under the ``mmaction`` default scope.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry

SCOPE = 'mmaction'


def _child(name, parent, locations):
    return Registry(name, parent=parent, scope=SCOPE, locations=locations)


MODELS = _child('model', MMENGINE_MODELS, ['mmaction.models'])
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS, ['mmaction.engine'])
DATASETS = _child('dataset', MMENGINE_DATASETS, ['mmaction.datasets'])
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS, ['mmaction.datasets'])
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS, ['mmaction.datasets.transforms'])
METRICS = _child('metric', MMENGINE_METRICS, ['mmaction.evaluation'])
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR, ['mmaction.evaluation'])
HOOKS = _child('hook', MMENGINE_HOOKS, ['mmaction.engine'])
LOOPS = _child('loop', MMENGINE_LOOPS, ['mmaction.engine'])
RUNNERS = _child('runner', MMENGINE_RUNNERS, ['mmaction.engine'])
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS, ['mmaction.engine'])
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS, ['mmaction.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['mmaction.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS,
                          ['mmaction.engine'])
LOG_PROCESSORS = _child('log_processor', MMENGINE_LOG_PROCESSORS, ['mmaction.engine'])
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS, ['mmaction.engine'])
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS, ['mmaction.engine'])
FUNCTIONS = _child('function', MMENGINE_FUNCTIONS, ['mmaction.datasets', 'mmaction.engine'])
#: ``loader(backbone, pretrained)`` functions by backbone class name: the backbones look up
#: who reads their ``pretrained`` file (``mmaction.checkpoint`` registers the readers), so
#: model code imports no file format and ``checkpoint`` may import the models
WEIGHT_LOADERS = Registry('weight loader', scope=SCOPE, locations=['mmaction.checkpoint'])
