"""The package layers import only downward, and nothing imports in a loop (imports inside
functions included): docs/architecture.md's rule, kept by this test."""
import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: lower numbers may be imported by higher ones, never the reverse
LAYERS = {'version': 0, 'registry': 0, 'structures': 0, 'utils': 0,
          'models': 1, 'datasets': 1, 'evaluation': 1, 'visualization': 1,
          'checkpoint': 2, 'engine': 3, 'apis': 4, 'synthetic': 4, 'core': 4, 'tools': 5}


def _modules():
    found = {}
    for top in ('mmaction', 'tools'):
        for path in (ROOT / top).rglob('*.py'):
            name = '.'.join(path.relative_to(ROOT).with_suffix('').parts)
            found[name.removesuffix('.__init__')] = path
    return found


def _package(module: str) -> str:
    parts = module.split('.')
    return 'tools' if parts[0] == 'tools' else (parts[1] if len(parts) > 1 else 'version')


def _imports(modules):
    """{module: {imported mmaction modules}} from every import statement in each file."""
    graph = defaultdict(set)
    for module, path in modules.items():
        is_package = path.name == '__init__.py'
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = module.split('.') if is_package else module.split('.')[:-1]
                if node.level:
                    base = base[:len(base) - node.level + 1]
                    prefix = '.'.join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module
                targets = [f'{prefix}.{a.name}' if f'{prefix}.{a.name}' in modules else prefix
                           for a in node.names]
            else:
                continue
            for target in targets:
                if not target.startswith('mmaction'):
                    continue
                while target not in modules and '.' in target:
                    target = target.rsplit('.', 1)[0]
                graph[module].add((target, node.lineno))
    return graph


def _cycle(graph):
    """One import cycle of ``graph`` ({node: {nodes}}), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = 'open'
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 'open':
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 'done'
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_packages_import_only_from_lower_layers():
    modules = _modules()
    assert set(map(_package, modules)) <= set(LAYERS), set(map(_package, modules)) - set(LAYERS)
    upward = [f'{modules[m].relative_to(ROOT)}:{line}: {_package(m)} imports {t} '
              f'({_package(t)})'
              for m, targets in _imports(modules).items() for t, line in targets
              if LAYERS[_package(m)] < LAYERS[_package(t)]]
    assert not upward, '\n'.join(upward)


def test_no_import_loops_between_packages_or_modules():
    graph = _imports(_modules())
    by_module = {m: {t for t, _ in targets if t != m} for m, targets in graph.items()}
    packages = defaultdict(set)
    for m, targets in by_module.items():
        packages[_package(m)] |= {_package(t) for t in targets} - {_package(m)}
    assert _cycle(packages) is None, _cycle(packages)
    # a package's __init__ re-exports its modules: that is not a loop of the code
    code = {m: {t for t in ts if not (t == m.rsplit('.', 1)[0])} for m, ts in by_module.items()}
    assert _cycle(code) is None, _cycle(code)


def test_a_backbone_finds_its_weight_loader_without_importing_checkpoint():
    """The backbones look up who reads their pretrained file in WEIGHT_LOADERS; the registry
    imports mmaction.checkpoint when first asked."""
    script = (
        'import sys\n'
        'from mmaction.models.common.pretrained import load_pretrained\n'
        'from mmaction.models.backbones import ViT_CLIP\n'
        "assert not any(m.startswith('mmaction.checkpoint') for m in sys.modules)\n"
        "b = ViT_CLIP(input_resolution=32, patch_size=8, width=64, layers=2, heads=4,\n"
        "             num_frames=4, pretrained='/nonexistent/clip.pt')\n"
        'try:\n'
        '    b.init_weights()\n'
        'except FileNotFoundError as err:\n'
        "    print('reader reached:', err)\n")
    out = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'reader reached:' in out.stdout and '/nonexistent/clip.pt' in out.stdout
