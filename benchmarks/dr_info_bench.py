#!/usr/bin/env python3
"""Benchmark: dr_info on many policies, both clusters, sequential vs bounded-parallel reads.

Starts the simulator in-process (plain HTTP, ``--latency-ms`` added to every
API call) with N synced policies from the source to the target, then runs the
real ``dr_info`` module process (as Ansible runs it) with the target as its
peer, once per ``max_workers`` value, and prints: wall time of the module
process, requests each cluster received (from the mock's request log; login
and logout included), how many of them were writes (must be 0), and the
summary of states.  The point: the request count does not grow with the number
of policies (one GET per area and cluster), and the two clusters are read at
the same time.

    .venv/bin/python benchmarks/dr_info_bench.py [--policies 10 100 500] [--latency-ms 20] [--workers 1 10]

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
MODULE = os.path.join(ROOT, "plugins", "modules", "dr_info.py")
sys.path.insert(0, os.path.join(ROOT, "tests", "mock_api"))


def ensure_collection_tree():
    link = os.path.join(COLLECTIONS, "ansible_collections", "onefs", "dr")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)


def scenario(count):
    """``count`` synced policies source -> target under one directory each."""
    policies = [{"name": "bench-%04d" % i, "source_root_path": "/ifs/data/bench/p%04d" % i, "target_host": "target",
                 "target_path": "/ifs/data/bench/p%04d" % i, "schedule": "", "enabled": True, "synced": True}
                for i in range(count)]
    return {"clusters": {"source": {"policies": policies}, "target": {}}}


def connection(url):
    # The simulator runs plain HTTP here: the scheme goes with the host; a short retry budget so
    # that a mistake shows quickly instead of being retried for the default ten minutes.
    return {"onefs_host": [url], "username": "admin", "password": "admin", "validate_certs": False,
            "retry_budget": 10}


def run_module(mock, workers, tmp):
    args = dict(connection(mock.url("source")), peer=connection(mock.url("target")), max_workers=workers,
                _ansible_check_mode=False, _ansible_diff=False)
    path = os.path.join(tmp, "args.json")
    with open(path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, MODULE, path], capture_output=True, text=True, env=env, timeout=900,
                          check=False)
    wall = time.monotonic() - start
    line = [x for x in proc.stdout.splitlines() if x.strip().startswith("{")][-1]
    return wall, json.loads(line)


def api_requests(control, cluster):
    return [r for r in control.requests(cluster=cluster)
            if r.get("cluster", cluster) == cluster and not r["path"].startswith("/_mock")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policies", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 10])
    opts = parser.parse_args()

    from onefs_mock.testing import start_mock

    ensure_collection_tree()
    print("dr_info, both clusters, %d ms latency per API call" % opts.latency_ms)
    print("%8s %8s %8s %16s %7s  %s" % ("policies", "workers", "wall s", "requests src/tgt", "writes", "summary"))
    with tempfile.TemporaryDirectory() as tmp:
        for count in opts.policies:
            mock = start_mock(clusters=("source", "target"), seed=scenario(count), tls=False,
                              latency_ms=opts.latency_ms, time_scale=100)
            try:
                for workers in opts.workers:
                    mock.control.clear_requests()
                    wall, result = run_module(mock, workers, tmp)
                    if result.get("failed"):
                        print("module failed: %s" % result.get("msg"))
                        continue
                    per = [api_requests(mock.control, name) for name in ("source", "target")]
                    writes = [r for entries in per for r in entries
                              if r["method"] != "GET" and not r["path"].startswith("/session/")]
                    states = dict((k, v) for k, v in result["summary"].items() if v)
                    print("%8d %8d %8.2f %10d/%-5d %7d  %s" % (count, workers, wall, len(per[0]), len(per[1]),
                                                              len(writes), states))
            finally:
                mock.stop()


if __name__ == "__main__":
    main()
