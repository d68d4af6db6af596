"""Smoke run of benchmarks/failover_bench.py so that it does not rot (the benchmark itself is not
part of ``make test``: ``make bench-failover``).

Its quickest mode: N = 1, baseline N = 1, failover only, jobs ten times faster, 0.2 s polls,
output in tmp_path. Only the shape of what it writes is checked - never a duration. The
generated failback baseline playbook, which this run does not execute, gets a syntax check.
"""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "failover_bench.py"
COLLECTIONS = ROOT / "build" / "collections"


def test_quickest_run_writes_the_table_the_chart_and_the_figures(tmp_path):
    results, svg, raw = tmp_path / "RESULTS.md", tmp_path / "chart.svg", tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--operations", "failover", "--results", str(results),
         "--svg", str(svg), "--json", str(raw)],
        capture_output=True, text=True, timeout=280, check=False, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    data = json.loads(raw.read_text())
    [row] = data["rows"]
    assert row["n"] == 1
    assert row["wall"] > 0 and row["bound"] > 0
    assert abs(row["ratio"] - row["wall"] / row["bound"]) < 1e-6
    assert row["baseline_measured"] is True and row["baseline"] > 0
    assert abs(row["speedup"] - row["baseline"] / row["wall"]) < 1e-6
    assert row["tasks"][0] >= 5 and row["module_runs"][0] >= 4          # plan, journal, sync, disable, allow_write...
    assert row["baseline_module_runs"][0] == 4                          # 4 steps x 1 policy
    assert 5 <= row["req_per_policy"][0] < 1000
    assert 10 < row["rss"] < 4096                                       # MiB
    for entry in data["results"][0]["failover"]["steps"]:
        assert entry["duration"] >= 0

    text = results.read_text()
    assert "| 1 | " in text
    for heading in ("## Lower bound: how it is derived", "## Where the time goes", "Machine: "):
        assert heading in text

    chart = ET.parse(str(svg)).getroot()
    assert chart.tag.endswith("svg")
    assert len([e for e in chart.iter() if e.tag.endswith("polyline")]) >= 2   # the collection and the bound


def test_generated_baseline_playbooks_pass_a_syntax_check(tmp_path):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import failover_bench  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.remove(str(SCRIPT.parent))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    for kind, steps in (("failover", 4), ("failback", 8)):
        path = tmp_path / ("baseline-%s.yml" % kind)
        path.write_text(failover_bench.baseline_playbook(kind, None))
        assert path.read_text().count("loop:") == steps
        proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "--syntax-check", "-i",
                               "localhost,", str(path)], capture_output=True, text=True, timeout=120, env=env,
                              check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_pipeline_job_time_overlaps_the_clusters_and_never_beats_one_policy(tmp_path):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import failover_bench  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.remove(str(SCRIPT.parent))
    opts = failover_bench.parse_args(["--job-s", "2", "--fofb-s", "1"])
    piped = failover_bench.pipelined_jobs_s
    # one wave: one policy's own chain, sync 2 s + allow_write 1 s; failback 1 + 2 + 1 + 1 s
    assert piped(50, "failover", opts) == 3.0
    assert piped(50, "failback", opts) == 5.0
    # 100 policies, 50 slots per cluster: the second wave's syncs (source, 2-4 s) overlap the first
    # wave's allow_writes (target, 2-3 s): 5 s instead of the 6 s of two steps of two waves each
    assert piped(100, "failover", opts) == 5.0
    # failback: the target carries 3 s of jobs per policy: 100 x 3 / 50 = 6 s, plus the first
    # resync_prep on the source before any target job can start
    assert piped(100, "failback", opts) == 7.0
    for count in (1, 10, 100, 500):
        stepwise = -(-count // 50) * 3.0
        assert 3.0 <= piped(count, "failover", opts) <= stepwise
