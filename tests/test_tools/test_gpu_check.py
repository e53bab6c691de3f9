"""tools/analysis/gpu_check.py in its CPU mode (--device cpu --tiny): what a GPU session will
run, kept working without a GPU. Speeds measured here mean nothing; what is checked is what
the report is made of."""
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_tool():
    # imported by its package path (tools/ is a namespace package), so that the processes the
    # tool spawns can import it too
    return importlib.import_module('tools.analysis.gpu_check')


def gpu_test_ids():
    """The gpu-marked tests as pytest collects them."""
    out = subprocess.run([sys.executable, '-m', 'pytest', '--collect-only', '-q', '-m', 'gpu',
                          '-p', 'no:cacheprovider', 'tests/test_gpu'], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    return [line for line in out.stdout.splitlines() if '::' in line]


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('gpu_check') / 'report.md'
    tool = load_tool()
    report = tool.main(['--device', 'cpu', '--tiny', '--out', str(out), '--tests',
                        'tests/test_gpu', '--budget', '300', '--workers', '1'])
    return tool, report, out


def test_every_planned_row_is_measured_or_listed_as_not_run(tiny_run):
    tool, report, out = tiny_run
    planned = [dict(r, group=name) for name, _, _, _, rows in tool.plan(tiny=True)
               for r in rows]
    seen = report['rows'] + report['not_run']
    assert len(seen) == len(planned)
    key = lambda r: (r['group'], r['mode'], r['batch'], tool.label(r))  # noqa: E731
    assert sorted(map(key, seen)) == sorted(map(key, planned))
    saved = json.loads(out.with_suffix('.json').read_text())
    assert len(saved['rows']) == len(report['rows'])
    assert all('clips_per_s' in r or 'error' in r for r in report['rows'])


def test_the_gpu_tests_are_run_and_each_outcome_reported(tiny_run):
    _, report, out = tiny_run
    outcomes = report['tests']['outcomes']
    collected = gpu_test_ids()
    assert [o['test'] for o in outcomes] == collected and len(collected) >= 8
    assert {o['outcome'] for o in outcomes} == {'SKIPPED'}  # no CUDA here
    text = out.read_text()
    assert all(f"| {o['test']} | SKIPPED |" in text for o in outcomes)


def test_flops_count_what_each_variant_computes(tiny_run):
    """The counted FLOPs behind MFU: SDPA's forward counts as the explicit softmax's matrix
    products; with_cp adds the recomputed forward; fused AdamW and the precision change
    nothing."""
    tool, report, _ = tiny_run
    rows = {(r['mode'], tool.label(r)): r.get('flops_per_step')
            for r in report['rows'] if not r.get('recipe') and 'clips_per_s' in r}
    base = 'AIM-style baseline (explicit softmax, fp16 + loss scaler)'
    assert rows[('infer', 'SDPA bf16')] == rows[('infer', base)] > 0
    assert rows[('train', 'SDPA bf16')] == rows[('train', 'SDPA fp16')] == \
        rows[('train', 'SDPA bf16 + fused AdamW')] >= rows[('train', base)]
    assert rows[('train', 'SDPA bf16 + with_cp')] > rows[('train', 'SDPA bf16')]


def test_the_report_tables_follow_the_figures(tiny_run):
    tool, report, out = tiny_run
    text = out.read_text()
    base = next(r for r in report['rows'] if r['mode'] == 'train' and not r.get('recipe') and
                tool.label(r).startswith('AIM-style') and 'clips_per_s' in r)
    row = next(r for r in report['rows'] if r['mode'] == 'train' and
               tool.label(r) == 'SDPA bf16' and 'clips_per_s' in r)
    line = next(row for row in text.splitlines() if row.startswith('| tiny | train') and
                '| SDPA bf16 |' in row)
    assert f"| {row['clips_per_s'] / base['clips_per_s']:.2f}x |" in line
    data = report['data']
    assert data['workers'] == 1 and data['clips'] > 0
    assert data['clips_per_s'] == pytest.approx(data['clips'] / data['seconds'])
    assert f"**{data['clips_per_s']:.1f} clips/s**" in text
    recipe = [r for r in report['rows'] if r.get('recipe')]
    target = next(t for t in tool.targets(report) if 'single-GPU recipe' in t['target'])
    assert target['met'] == any(r['peak_mem_mib'] <= 11 * 1024 for r in recipe)


def test_rows_past_the_budget_are_listed_not_lost(tmp_path):
    tool = load_tool()
    report = tool.main(['--device', 'cpu', '--tiny', '--out', str(tmp_path / 'r.md'),
                        '--budget', '1', '--skip', 'tests', 'data'])
    planned = sum(len(rows) for *_, rows in tool.plan(tiny=True))
    assert report['rows'] == [] and len(report['not_run']) == planned
    assert 'Not run (out of budget)' in (tmp_path / 'r.md').read_text()


def test_recipe_rows_sit_beside_the_memory_plan_for_the_same_settings(tiny_run):
    """Each recipe row (with_cp False, 'selective', True) carries memory_plan.py's prediction
    for its own settings, and the report sets them side by side."""
    from mmengine.config import Config

    from tools.analysis import memory_plan
    tool, report, out = tiny_run
    recipe = [r for r in report['rows'] if r.get('recipe')]
    assert sorted(map(str, (r['cp'] for r in recipe))) == ['False', 'True', 'selective']
    cfg = Config.fromfile(str(ROOT / tool.ARCHS['tiny']))
    cfg.model.backbone.num_frames = recipe[0]['frames']
    text = out.read_text()
    for row in recipe:
        shape = dict(views=1, frames=row['frames'], height=row['size'], width=row['size'])
        result = memory_plan.plan(cfg, batches=(row['batch'], ), precisions=('fp16', ),
                                  with_cp=(row['cp'], ), shape=shape)
        expected = sum(result['state'].values()) + result['rows'][0]['activation_bytes'] + \
            result['rows'][0]['recompute_bytes']
        assert row['planned_allocated_mib'] == pytest.approx(expected / 2**20)
        assert f"| {tool.label(row)} | {row['peak_mem_mib']:.0f} | {expected / 2**20:.0f} |" \
            in text
