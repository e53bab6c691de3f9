"""Every command-line tool under tools/ and demo/ (found by globbing, so a new tool is
covered too) ends a user error -- a missing config or file, a mistyped --cfg-options key --
with exactly one message on stderr and exit status 2, never a traceback; --debug shows the
exception instead. The launchers check the config once, before any worker starts."""
import ast
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
K400 = 'configs/recognition/vit/vitclip_base_k400.py'
MISSING = '/nonexistent/missing'
HINT = '(add --debug, or set AIM_DEBUG=1, to see the traceback)'

#: Python files under tools/ and demo/ that are not command lines
NOT_CLIS = {
    'tools/data/parse_file_list.py',  # the annotation parsers build_file_list.py imports
    'tools/data/custom_file_list.py',  # `build_file_list.py custom`, which imports it
    'tools/analysis/aim_reference.py',  # the official-style ViT_CLIP memory_compare.py imports
}

#: the bad argument of a tool, where a missing path for each positional argument (what the
#: other tools get) is not the point, and what its message must name
BAD_ARGUMENTS = {
    'tools/test.py': ([f'{MISSING}.py', f'{MISSING}.pth', '--eval', 'top_k_accuracy'],
                      f'config file {MISSING}.py does not exist'),
    'tools/quickstart.py': (['--cfg-options', 'data.videos_per_gpuu=2'],
                            "Did you mean 'data.videos_per_gpu'?"),
    'tools/analysis/get_flops.py': ([K400, '--cfg-options', 'optimizer_config.update_intervall=8'],
                                    "Did you mean 'optimizer_config.update_interval'?"),
    'tools/analysis/analyze_logs.py': (['cal_train_time', MISSING],
                                       f'training log {MISSING} does not exist'),
    'tools/analysis/model_zoo.py': (['--update-doc', f'{MISSING}.md'], f'{MISSING}.md'),
    'tools/analysis/bench_processing.py': (['--update-doc', f'{MISSING}.md'], f'{MISSING}.md'),
    'tools/analysis/eval_metric.py': ([K400, f'{MISSING}.pkl', '--cfg-options',
                                       'data.test.ann_filee=x'],
                                      "Did you mean 'data.test.ann_file'?"),
    'tools/analysis/report_accuracy.py': (['--scores', 'a.pkl', 'b.pkl', '--coefficients', '1'],
                                          '2 --scores files but 1 --coefficients'),
    'tools/analysis/print_config.py': ([K400, '--cfg-options', 'data.videos_per_gpuu=2'],
                                       "Did you mean 'data.videos_per_gpu'?"),
}


def _tools():
    found = glob.glob(osp.join(ROOT, 'tools', '**', '*.py'), recursive=True) + \
        glob.glob(osp.join(ROOT, 'demo', '*.py'))
    return sorted(p for p in (osp.relpath(f, ROOT) for f in found) if p not in NOT_CLIS)


TOOLS = _tools()

# Runs every tool's main(argv) in one fresh interpreter (one import of torch and mmengine, and
# stderr a plain stream), with stderr captured per tool. Without an argv of its own, a tool
# gets a missing path for each positional argument (the first choice where it has choices),
# read from its own parser.
DRIVER = r'''
import argparse, contextlib, importlib.util, io, json, os, sys
from mmaction.engine.launch import run_tool

class Probe(Exception):
    pass

def load(path):  # as `python path` would: its folder first on sys.path
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        spec = importlib.util.spec_from_file_location('tool', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.pop(0)

def parser_of(main):
    real = argparse.ArgumentParser.parse_args
    def probe(self, *args, **kwargs):
        raise Probe(self)
    argparse.ArgumentParser.parse_args = probe
    try:
        main([])
    except Probe as found:
        return found.args[0]
    finally:
        argparse.ArgumentParser.parse_args = real

def bad_argv(parser, missing):
    argv = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name, sub = next(iter(action.choices.items()))
            return argv + [name] + bad_argv(sub, missing)
        if action.option_strings and not action.required:
            continue
        value = list(action.choices)[0] if action.choices else missing
        argv += ([action.option_strings[0]] if action.option_strings else []) + [value]
    return argv or ['--no-such-option']

results = {}
for path, argv in json.loads(sys.argv[1]).items():
    main = load(path).main
    if argv is None:
        argv = bad_argv(parser_of(main), sys.argv[2])
    row = results[path] = {'argv': argv}
    for debug in (False, True):
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                status = run_tool(main, argv + ['--debug'] * debug)
        except SystemExit as done:  # argparse's usage errors
            status = done.code
        except Exception as error:
            status = f'raised {type(error).__name__}'
        row['debug' if debug else 'plain'] = [status, err.getvalue()]
print('RESULTS', json.dumps(results))
'''


@pytest.fixture(scope='module')
def results():
    argv = {tool: BAD_ARGUMENTS.get(tool, (None, ''))[0] for tool in TOOLS}
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    for name in ('AIM_DEBUG', 'LOCAL_RANK', 'RANK', 'WORLD_SIZE'):
        env.pop(name, None)
    out = subprocess.run([sys.executable, '-c', DRIVER, json.dumps(argv), MISSING], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=600)
    line = [x for x in out.stdout.splitlines() if x.startswith('RESULTS ')]
    assert out.returncode == 0 and line, out.stdout[-3000:] + out.stderr[-3000:]
    return json.loads(line[0][len('RESULTS '):])


def test_the_tools_are_found():
    assert {'tools/train.py', 'tools/test.py', 'tools/analysis/get_flops.py',
            'tools/analysis/analyze_logs.py', 'tools/data/build_file_list.py',
            'demo/demo.py', 'tools/misc/clip_feature_extraction.py',
            'tools/deployment/pytorch2onnx.py'} <= set(TOOLS)


@pytest.mark.parametrize('tool', TOOLS)
def test_the_tool_runs_its_main_through_run_tool(tool):
    """``python TOOL`` exits with what run_tool returns: ``sys.exit(run_tool(main))``."""
    with open(osp.join(ROOT, tool)) as f:
        tree = ast.parse(f.read())
    blocks = [node for node in tree.body if isinstance(node, ast.If) and
              ast.unparse(node.test) in ('__name__ == "__main__"', "__name__ == '__main__'")]
    assert blocks, f'{tool} has no `if __name__ == "__main__":` block'
    calls = [ast.unparse(node) for node in ast.walk(blocks[0]) if isinstance(node, ast.Call)]
    assert 'sys.exit(run_tool(main))' in calls, calls


@pytest.mark.parametrize('tool', TOOLS)
def test_a_bad_argument_is_one_message_and_exit_status_2(results, tool):
    status, err = results[tool]['plain']
    assert status == 2, (results[tool]['argv'], err)
    assert 'Traceback' not in err
    lines = err.strip().splitlines()
    if lines and lines[0].startswith('error: '):  # run_tool's message
        assert lines[1:] == [HINT], err
        expected = BAD_ARGUMENTS.get(tool, (None, MISSING))[1]
        assert expected in lines[0], (expected, lines[0])
    else:  # argparse's: the usage, then one error line
        assert lines[0].startswith('usage: ') and ': error: ' in lines[-1], err
        assert not any(': error: ' in line for line in lines[:-1]), err


@pytest.mark.parametrize('tool', TOOLS)
def test_debug_shows_the_exception_instead(results, tool):
    status, err = results[tool]['debug']
    if results[tool]['plain'][1].startswith('usage: '):
        assert status == 2  # argparse refused the argument: nothing to show
    else:
        assert str(status).startswith('raised '), (status, err)


def _launch(script, *args):
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1', PORT='1')
    return subprocess.run(['bash', script, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_launchers_check_the_config_once_before_starting_workers():
    out = _launch('tools/dist_train.sh', 'configs/nope.py', '2')
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        'error: config file configs/nope.py does not exist. Give the path of a config, e.g. '
        f'{K400}.', HINT]
    assert 'torch.distributed' not in out.stdout + out.stderr  # no worker was started
    out = _launch('tools/dist_test.sh', K400, 'x.pth', '2', '--eval', 'top_k_accuracy',
                  '--cfg-options', 'optimizer_config.update_intervall=8')
    assert out.returncode == 2 and out.stderr.count('error: ') == 1
    assert "Did you mean 'optimizer_config.update_interval'?" in out.stderr
    out = _launch('tools/misc/dist_clip_feature_extraction.sh', K400, 'x.pth', '2',
                  f'{MISSING}.txt', '--out', 'feats')
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        f'error: video list {MISSING}.txt does not exist (expected a text file with one video '
        'path per line)', HINT]
    assert 'torch.distributed' not in out.stdout + out.stderr
