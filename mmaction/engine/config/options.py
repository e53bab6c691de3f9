"""``--cfg-options``: checked against the config and the classes it names, then merged.

* :func:`check_option_keys`: every ``--cfg-options`` key must exist in the config, or be an
  argument of the class named by its dict's ``type`` (including what its ``**kwargs`` are
  forwarded to), or a key our config dialect reads; otherwise the error names a close key of
  that level, or lists the level's keys (a typo must not silently train the wrong thing).
  Values of the wrong kind (a string for a number) are refused too.
* :func:`expand_aliases`: ``train_pipeline.1.clip_len=3`` also reaches
  ``data.train.pipeline`` when the config built that from the ``train_pipeline`` variable.
* :func:`propagate_num_frames`: ``model.backbone.num_frames=N`` given alone means "train and
  test on N-frame clips": it also sets ``clip_len`` of every frame sampler, and says so.
* :func:`apply_cfg_options`: the three above, the merge, then the consistency checks
  (:mod:`.checks`).
"""
import copy
import difflib
import inspect
import re
from typing import Any, Dict, List, Optional, Tuple

from mmengine.config import Config
from mmengine.logging import MMLogger

from .checks import check_clip_len, check_num_classes
from .schema import (
    FREE_FORM,
    SECTION_KEYS,
    TOP_LEVEL_KEYS,
    ConfigError,
    frame_samplers,
    pipelines_in_use,
    registered_class,
)


def _logger() -> MMLogger:
    return MMLogger.get_current_instance()


# ---------------------------------------------------------------------------- classes
def _init_parameters(cls) -> Tuple[Dict[str, inspect.Parameter], bool]:
    """Named parameters of ``cls.__init__`` along its MRO while ``**kwargs`` is forwarded to
    the base class; second value: whether arbitrary keywords are still accepted at the end."""
    params, open_ended = {}, False
    for klass in inspect.getmro(cls) if inspect.isclass(cls) else [cls]:
        init = klass.__init__ if inspect.isclass(klass) else klass
        if init is object.__init__:
            break
        try:
            found = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return params, True
        for p in found:
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != 'self':
                params.setdefault(p.name, p)
        open_ended = any(p.kind == p.VAR_KEYWORD for p in found)
        if not open_ended:
            break
    return params, open_ended


def _type_arguments(type_name: Any, step: Optional[dict] = None
                    ) -> Optional[Tuple[Dict[str, inspect.Parameter], bool]]:
    """Parameters of the registered class ``type_name`` (and whether it takes any keyword),
    or ``None`` when no registry knows it. A class whose ``**kwargs`` go elsewhere names them
    with a ``forwarded_arguments(step)`` classmethod (the decoders' file backends)."""
    cls = registered_class(type_name)
    if cls is None:
        return None
    params, open_ended = _init_parameters(cls)
    forwarded = getattr(cls, 'forwarded_arguments', None)
    if open_ended and callable(forwarded):
        try:
            extra = forwarded(dict(step or {}))
        except ValueError as err:
            raise ConfigError(f'{type_name}: {err}') from None
        params = dict(params, **{name: None for name in extra if name not in params})
        open_ended = False
    return params, open_ended


def _schema_path(path: str) -> str:
    """``data.train_dataloader`` etc. from a concrete path (list indices dropped)."""
    return '.'.join(p for p in path.split('.') if not p.isdigit())


def _new_key_rule(parent: Any, parent_path: str
                  ) -> Tuple[Dict[str, Optional[inspect.Parameter]], bool, str]:
    """What may be added under ``parent``: ({key: its parameter, if a class takes it},
    whether any key may be added, who decides). ``parent`` is the dict after the options."""
    if parent_path == '':
        return dict.fromkeys(TOP_LEVEL_KEYS), False, 'the top level'
    schema = _schema_path(parent_path)
    if schema in FREE_FORM:
        return {}, True, parent_path
    if schema.endswith('paramwise_cfg.custom_keys') or re.search(r'custom_keys\.[^.]+$', schema):
        return dict.fromkeys(('lr_mult', 'decay_mult')), False, parent_path
    keys = dict.fromkeys(SECTION_KEYS.get(schema, ()))
    if schema in SECTION_KEYS:  # a dialect section: its ``type`` names a 0.x hook, not a class
        return keys, False, parent_path
    if isinstance(parent, dict) and 'type' in parent:
        found = _type_arguments(parent['type'], parent)
        if found is None:
            return keys, True, parent_path  # unknown class: its build reports wrong arguments
        params, open_ended = found
        keys.update(params)
        keys['type'] = None
        if schema in ('optimizer', 'optim_wrapper.optimizer'):
            keys['paramwise_cfg'] = None
        return keys, open_ended, f"{parent_path} ({parent['type']})"
    return keys, schema not in ('model', ), parent_path


# ---------------------------------------------------------------------------- value types
def _kind(value: Any) -> Optional[str]:
    """A value's kind as far as the checks compare them (``None``: not compared)."""
    if isinstance(value, bool):
        return 'True or False'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, dict):
        return 'a dict'
    return None


def _expected_kind(param: Optional[inspect.Parameter]) -> Optional[str]:
    """The kind a class parameter takes, from its annotation or else its default."""
    if param is None:
        return None
    annotation = param.annotation
    for candidate in (getattr(annotation, '__args__', None) or (annotation, )):
        if candidate is bool:
            return 'True or False'
        if candidate in (int, float):
            return 'a number'
    if param.default not in (inspect.Parameter.empty, None):
        return _kind(param.default)
    return None


# what may not stand in for what: a string for a number or a flag, anything but a dict for
# a section (None, "off", is always accepted)
_REFUSED = {('a number', 'a string'), ('True or False', 'a string'),
            ('a dict', 'a number'), ('a dict', 'a string'), ('a dict', 'True or False')}


def _check_value(key: str, value: Any, expected: Optional[str], source: str) -> None:
    given = _kind(value)
    if value is None or expected is None or (expected, given) not in _REFUSED:
        return
    example = {'a number': '8', 'True or False': 'True'}.get(expected, 'dict(...)')
    raise ConfigError(
        f'--cfg-options {key}={value}: {key} takes {expected} ({source}), not {given} '
        f'({value!r}). '
        f'Write it as Python would, e.g. {key.rsplit(".", 1)[-1]}={example}.')


# ---------------------------------------------------------------------------- the check
_MISSING = object()


def _merged(tree: dict, options: Dict[str, Any]) -> dict:
    """A copy of ``tree`` with ``options`` set (missing or ``None`` dicts on the way made),
    to check new keys against the ``type`` an option may itself set."""
    out = copy.deepcopy(tree)
    for key, value in options.items():
        node = out
        parts = key.split('.')
        for part in parts[:-1]:
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                child = node[int(part)]
                if child is None:
                    child = node[int(part)] = {}
            elif isinstance(node, dict):
                if node.get(part) is None:
                    node[part] = {}
                child = node[part]
            else:
                break  # the walk in check_option_keys reports it
            node = child
        else:
            if isinstance(node, dict):
                node[parts[-1]] = value
    return out


def _unknown_key(key: str, depth: int, parts: List[str], node: dict, path: str,
                 allowed: dict, who: str, source: str) -> ConfigError:
    """The error for ``parts[depth]`` unknown under ``node``: the close keys of that level,
    or the keys that exist there."""
    part = parts[depth]
    level = sorted(({str(k) for k in node} | set(allowed)) - {part})
    close = difflib.get_close_matches(part, level, n=1, cutoff=0.6)
    rest = '.'.join(parts[depth + 1:])
    if close:
        full = '.'.join(filter(None, [path, close[0], rest]))
        hint = f" Did you mean '{full}'?"
    else:
        existing = sorted(str(k) for k in node if k != part)
        shown = ', '.join(existing[:40]) + (', ...' if len(existing) > 40 else '')
        hint = f' The keys at {path or "the top level"} are: {shown}.' if existing else ''
        takes = sorted(set(allowed) - set(existing))
        if takes and path:
            hint += f' {who} also takes: {", ".join(takes[:40])}.'
    return ConfigError(
        f'--cfg-options {key}: {source} has no key {".".join(parts[:depth + 1])!r} and '
        f'{who} does not take {part!r}.{hint} A key that exists nowhere would be silently '
        'ignored and train something else than intended.')


def check_option_keys(cfg: Config, options: Dict[str, Any]) -> List[str]:
    """Refuse ``--cfg-options`` keys that neither exist in the config nor are taken where they
    go (an argument of the class the dict's ``type`` names, including what its ``**kwargs``
    are forwarded to, or a key the dialect reads), and values of the wrong kind (a string for
    a number). The error names the close keys of that level, or lists its keys.

    Returns the paths of sections that are ``None`` in the config which an option fills in
    (``optimizer_config.grad_clip``, ``model.train_cfg``); :func:`apply_cfg_options` turns
    them into empty dicts before merging, so that ``optimizer_config.grad_clip.max_norm=20``
    works.
    """
    tree = cfg.to_dict() if isinstance(cfg, Config) else cfg
    merged = _merged(tree, options)
    source = getattr(cfg, 'filename', None) or 'the config'
    empty_sections = []
    for key, value in options.items():
        parts = key.split('.')
        node, original, path = merged, tree, ''
        expected = None
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if original is None and path and path not in empty_sections:
                empty_sections.append(path)
            if isinstance(node, (list, tuple)):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(
                        f'--cfg-options {key}: {path or "<top level>"} in {source} is a list '
                        f'of {len(node)} items; use an index 0..{len(node) - 1} after it.')
                index = int(part)
                original = original[index] if isinstance(original, (list, tuple)) else \
                    _MISSING
                node, path = node[index], f'{path}.{part}' if path else part
                continue
            if not isinstance(node, dict):
                raise ConfigError(
                    f'--cfg-options {key}: {path} in {source} is {node!r}, not a dict; it has '
                    f'no key {part!r}.')
            if isinstance(original, dict) and part in original:
                if last:
                    expected = _kind(original[part])
                    where = f'the config has {key}={original[part]!r}'
                node, original = node[part], original[part]
                path = f'{path}.{part}' if path else part
                continue
            allowed, anything, who = _new_key_rule(node, path)
            if part not in allowed and not anything:
                raise _unknown_key(key, depth, parts, node if original is _MISSING or
                                   original is None else original, path, allowed, who, source)
            if part not in allowed and anything and who != path and path:
                _logger().warning(f'--cfg-options {key}: {who} takes any keyword argument, so '
                                  f'{part!r} cannot be checked here.')
            if last:
                expected = _expected_kind(allowed.get(part))
                where = f'{who} parameter {part!r}'
            node, original = node[part], _MISSING
            path = f'{path}.{part}' if path else part
        _check_value(key, value, expected, where if expected else '')
    return empty_sections


def _get(tree: Any, path: str) -> Any:
    node = tree
    for part in path.split('.'):
        node = node[int(part)] if isinstance(node, (list, tuple)) else node[part]
    return node


def expand_aliases(cfg: Config, options: Dict[str, Any]) -> Dict[str, Any]:
    """Apply options on a top-level variable (``train_pipeline.1.clip_len``) also where the
    config copied that variable (``data.train.pipeline``), as a Python reader expects."""
    tree = cfg.to_dict()
    out = dict(options)
    for key, value in options.items():
        head, _, rest = key.partition('.')
        if not rest or head in TOP_LEVEL_KEYS or not isinstance(tree.get(head), (list, dict)):
            continue
        copies = [path for path, pipeline in pipelines_in_use(tree) if pipeline == tree[head]]
        for path in copies:
            alias = f'{path}.{rest}'
            if alias not in out:
                out[alias] = value
                _logger().info(f'--cfg-options {key}={value!r} also sets {alias} (the config '
                               f'built {path} from the variable {head}).')
    return out


def propagate_num_frames(cfg: Config, options: Dict[str, Any]) -> Dict[str, Any]:
    """``model.backbone.num_frames=N`` without any ``clip_len`` option: every frame sampler
    gets ``clip_len=N`` too (the seed users' ``--train_clip_len`` workaround, built in)."""
    if 'model.backbone.num_frames' not in options or any(
            k.endswith('.clip_len') for k in options):
        return options
    n = options['model.backbone.num_frames']
    out = dict(options)
    changed = []
    for path, step in frame_samplers(cfg.to_dict(), include_variables=True):
        if step['clip_len'] != n:
            out[f'{path}.clip_len'] = n
            changed.append(f'{path}.clip_len: {step["clip_len"]} -> {n}')
    if changed:
        _logger().info(f'model.backbone.num_frames={n}: clips of {n} frames, so also '
                       + '; '.join(changed))
    return out


def apply_cfg_options(cfg: Config, options: Optional[Dict[str, Any]]) -> Config:
    """Validate and merge ``--cfg-options`` into ``cfg`` (in place), then run the checks."""
    options = dict(options or {})
    if options:
        for path in check_option_keys(cfg, options):
            parent, _, name = path.rpartition('.')
            (_get(cfg, parent) if parent else cfg)[name] = {}
        options = expand_aliases(cfg, options)
        options = propagate_num_frames(cfg, options)
        cfg.merge_from_dict(options)
    check_clip_len(cfg)
    check_num_classes(cfg)
    return cfg
