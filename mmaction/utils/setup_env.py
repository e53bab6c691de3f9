"""Registering every module of the package, for tools that build from configs."""
import datetime
import importlib

from mmengine import DefaultScope

PACKAGES = ('mmaction.models', 'mmaction.datasets', 'mmaction.evaluation', 'mmaction.engine')


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import the packages whose classes configs name by ``type=``, and make ``mmaction``
    the default registry scope (so ``type='AdamW'`` falls back to mmengine's)."""
    for name in PACKAGES:
        importlib.import_module(name)
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or current.scope_name != 'mmaction':
        # instance names must be unique; a timestamp keeps repeated calls apart
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S-%f')
        DefaultScope.get_instance(f'mmaction-{stamp}', scope_name='mmaction')
