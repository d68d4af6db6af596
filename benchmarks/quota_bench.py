#!/usr/bin/env python3
"""Benchmark: the quota module on many quotas, sequential vs bounded-parallel.

Starts the simulator in-process (plain HTTP, ``--latency-ms`` added to every
API call), then runs the real ``quota`` module process (as Ansible runs it)
for N directory quotas, once per ``max_workers`` value: a create run, a
second identical run (idempotence: no write), and a ``purge_under`` run that
deletes them all.  Prints wall time, requests the cluster received (from the
mock's request log) and what the module reported; checks from the mock's
state that no quota was duplicated.

    .venv/bin/python benchmarks/quota_bench.py [--quotas 100] [--latency-ms 20] [--workers 1 10 25]

Figures only: nothing here asserts a duration.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
MODULE = os.path.join(ROOT, "plugins", "modules", "quota.py")
sys.path.insert(0, os.path.join(ROOT, "tests", "mock_api"))
BENCH_ROOT = "/ifs/data/bench"


def ensure_collection_tree():
    link = os.path.join(COLLECTIONS, "ansible_collections", "onefs", "dr")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)


def run_module(url, args, tmp):
    # plain-HTTP simulator: the scheme goes with the host
    full = dict(args, onefs_host=url, username="admin", password="admin", retry_budget=20,
                _ansible_check_mode=False, _ansible_diff=False)
    path = os.path.join(tmp, "args.json")
    with open(path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": full}, handle)
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, MODULE, path], capture_output=True, text=True, env=env, timeout=900,
                          check=False)
    wall = time.monotonic() - start
    line = [x for x in proc.stdout.splitlines() if x.strip().startswith("{")][-1]
    return wall, json.loads(line)


def api_requests(control):
    return [r for r in control.requests(cluster="source") if not r["path"].startswith("/_mock")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quotas", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 10, 25])
    opts = parser.parse_args()

    from onefs_mock.testing import start_mock

    ensure_collection_tree()
    quotas = [{"path": "%s/d%04d" % (BENCH_ROOT, i), "hard": "10GiB", "advisory": "8GiB"} for i in range(opts.quotas)]
    mock = start_mock(clusters=("source", "target"), seed="demo", tls=False, latency_ms=opts.latency_ms)
    print("quota module, %d directory quotas, %d ms latency per API call" % (opts.quotas, opts.latency_ms))
    print("%-8s %-11s %8s %9s %8s %7s" % ("workers", "run", "wall s", "requests", "changed", "failed"))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for workers in opts.workers:
                mock.control.reset()
                runs = (("create", {"quotas": quotas}), ("second", {"quotas": quotas}),
                        ("purge", {"purge_under": BENCH_ROOT}))
                for label, args in runs:
                    mock.control.clear_requests()
                    wall, result = run_module(mock.url("source"), dict(args, max_workers=workers), tmp)
                    changed = sum(1 for r in result.get("results", []) if r.get("changed"))
                    failed = sum(1 for r in result.get("results", []) if r.get("failed"))
                    print("%-8d %-11s %8.2f %9d %8d %7d" % (workers, label, wall, len(api_requests(mock.control)),
                                                           changed, failed))
                    if label == "create":
                        paths = [q["path"] for q in mock.control.state("source")["quotas"]
                                 if q["path"].startswith(BENCH_ROOT)]
                        print("         quotas under %s: %d (distinct paths %d)" % (
                            BENCH_ROOT, len(paths), len(set(paths))))
    finally:
        mock.stop()


if __name__ == "__main__":
    main()
