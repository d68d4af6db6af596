#!/usr/bin/env python3
"""Benchmark: rg_sync of a large replication group against the simulator.

Starts the mock CLI in a subprocess (``--latency-ms 20`` by default) on a
generated scenario of N synced policies whose jobs all take the same simulated
time, runs the ``rg_sync`` module process once (as Ansible would), and prints:
wall time, the slowest job, the sum of the jobs, the number of API requests
the cluster received (from ``/_mock/requests``) and wall - slowest job.

    .venv/bin/python benchmarks/rg_sync_bench.py [--policies 100] [--job-s 5]
        [--latency-ms 20] [--max-running-jobs 50] [--poll-interval 0.5]

OneFS runs at most 50 SyncIQ jobs at once, so 100 policies need two waves of
jobs: the floor is ceil(N / max_running_jobs) x job time.  Prints figures only;
nothing here asserts on timing.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import COLLECTIONS, ROOT, api_requests, control, ensure_collection_link, start_mock  # noqa: E402
from _common import policy_scenario as scenario  # noqa: E402

MODULE = ROOT / "plugins" / "modules" / "rg_sync.py"


def run_module(url, args, tmp):
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    full = dict(args, onefs_host="http://%s" % host, onefs_port=int(port), username="admin", password="admin",
                validate_certs=False, _ansible_check_mode=False, _ansible_diff=False)
    args_file = Path(tmp) / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": full}))
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(MODULE), str(args_file)], capture_output=True, text=True,
                          env=env, timeout=3600, check=False)
    wall = time.monotonic() - started
    lines = [line for line in proc.stdout.splitlines() if line.strip().startswith("{")]
    if not lines:
        raise SystemExit("module printed no result:\n%s\n%s" % (proc.stdout, proc.stderr))
    return wall, json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", type=int, default=100)
    parser.add_argument("--job-s", type=float, default=5.0, help="simulated duration of every job")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--max-running-jobs", type=int, default=50)
    parser.add_argument("--poll-interval", type=float, default=0.5)
    opts = parser.parse_args()
    ensure_collection_link()
    with tempfile.TemporaryDirectory() as tmp:
        seed_path = Path(tmp) / "bench.json"
        seed_path.write_text(json.dumps(scenario(opts.policies, opts.job_s)))
        proc, urls = start_mock(seed_path, opts.latency_ms)
        try:
            control(urls["source"], "DELETE", "requests")
            wall, result = run_module(urls["source"], {
                "zone": "bench", "point_in_time_name": "bench", "max_running_jobs": opts.max_running_jobs,
                "poll_interval": opts.poll_interval, "timeout": 3600}, tmp)
            log = api_requests(urls["source"])
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    if result.get("failed"):
        raise SystemExit("rg_sync failed: %s" % result.get("msg"))
    jobs = [r["end_time"] - r["start_time"] for r in result["results"]]
    slowest = max(jobs)
    waves = math.ceil(opts.policies / float(opts.max_running_jobs))
    by_kind = {}
    for entry in log:
        kind = "%s %s" % (entry["method"], "/sync/jobs" if "/sync/jobs" in entry["path"] else
                          "/sync/reports" if "/sync/reports" in entry["path"] else entry["path"].split("?")[0])
        by_kind[kind] = by_kind.get(kind, 0) + 1
    print("policies                 %d (max_running_jobs %d -> %d wave(s))" % (opts.policies, opts.max_running_jobs, waves))
    print("added latency            %d ms per request; poll_interval %.2f s" % (opts.latency_ms, opts.poll_interval))
    print("jobs finished            %d" % sum(1 for r in result["results"] if r["state"] == "finished"))
    print("wall time                %.2f s (module process, incl. Python start-up and login)" % wall)
    print("slowest job              %.2f s (report end - start; reports have 1 s resolution)" % slowest)
    print("sum of jobs              %.2f s" % sum(jobs))
    print("floor = waves x slowest  %.2f s" % (waves * slowest))
    print("wall - slowest job       %.2f s" % (wall - slowest))
    print("wall - floor             %.2f s" % (wall - waves * slowest))
    print("API requests             %d (module reported %s)" % (len(log), result.get("api_requests")))
    for kind in sorted(by_kind):
        print("  %-22s %d" % (kind, by_kind[kind]))


if __name__ == "__main__":
    main()
