"""Helpers shared by the benchmark scripts (not a benchmark: ``make bench`` skips ``_*.py``).

* ``policy_scenario(count, ...)``: a scenario of N synced SyncIQ policies source -> target, no
  files, so every sync job takes ``job_overhead_s`` and every failover/failback job ``fofb_job_s``.
* ``start_mock(seed_path, latency_ms, time_scale)``: the ``onefs-mock`` CLI in a subprocess on
  free ports of 127.0.0.1, plain HTTP; returns ``(process, {cluster: url})``.
* ``api_requests(url, since)``: the mock's request log without ``/_mock/`` calls.
* ``machine()``: CPU, cores, OS, Python and ansible-core versions of this machine.
"""

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / "build" / "collections"
MOCK_SRC = ROOT / "tests" / "mock_api"
STARTUP_TIMEOUT_S = 60


def ensure_collection_link():
    """build/collections/ansible_collections/onefs/dr -> the checkout (what ``make tree`` makes)."""
    link = COLLECTIONS / "ansible_collections" / "onefs" / "dr"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            link.symlink_to(ROOT)
        except FileExistsError:
            pass


def policy_name(index, width=3):
    return "bench-%0*d" % (width, index)


def policy_scenario(count, job_s, fofb_s=1.0, max_running_jobs=50, schedule="", width=3):
    """N synced policies under /ifs/data/bench (zone ``bench``), no files: a sync job takes ``job_s``."""
    policies = [{"name": policy_name(i, width), "source_root_path": "/ifs/data/bench/p%0*d" % (width, i),
                 "target_host": "target", "target_path": "/ifs/data/bench/p%0*d" % (width, i),
                 "schedule": schedule, "enabled": True, "synced": True} for i in range(count)]
    users = [{"name": "admin", "password": "admin", "role": "admin"}]
    zones = [{"name": "System", "path": "/ifs"}, {"name": "bench", "path": "/ifs/data/bench"}]
    return {
        "simulation": {"job_overhead_s": job_s, "bandwidth_mb_s": 100, "fofb_job_s": fofb_s,
                       "max_running_jobs": max_running_jobs},
        "clusters": {
            "source": {"cluster_name": "bench-src", "users": users, "zones": zones, "policies": policies},
            "target": {"cluster_name": "bench-dr", "addresses": ["target"], "users": users, "zones": zones},
        },
    }


def write_seed(path, scenario):
    Path(path).write_text(json.dumps(scenario))
    return path


def start_mock(seed_path, latency_ms, time_scale=1.0, mock_src=MOCK_SRC):
    """The mock CLI (source and target on free ports, plain HTTP); ``(process, {name: url})``."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(mock_src), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "onefs_mock", "--no-tls", "--seed", str(seed_path), "--latency-ms", str(latency_ms),
         "--time-scale", str(time_scale), "--cluster", "source=127.0.0.1:0", "--cluster", "target=127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    urls = {}
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while len(urls) < 2 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ready":
            urls[parts[1]] = parts[2]
    if len(urls) < 2:
        proc.terminate()
        raise SystemExit("the mock did not start: %s" % proc.stderr.read())
    return proc, urls


def stop_mock(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def control(url, method, path, body=None, timeout=120):
    """A call to the mock's control API (``/_mock/<path>``); the parsed answer or None."""
    response = requests.request(method, url + "/_mock/" + path, json=body, timeout=timeout)
    response.raise_for_status()
    return response.json() if response.content else None


def api_requests(url, since=0):
    """Every API request the mock logged from sequence number ``since`` on (both clusters), /_mock/ excluded."""
    entries = requests.get(url + "/_mock/requests", params={"since": since}, timeout=60).json()["requests"]
    return [e for e in entries if not e["path"].startswith("/_mock")]


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine():
    """What the figures were measured on."""
    try:
        from ansible.release import __version__ as ansible_core
    except ImportError:
        ansible_core = "not installed"
    try:
        with open("/proc/meminfo") as handle:
            mem_kb = int(handle.readline().split()[1])
        memory = "%.1f GiB" % (mem_kb / 1048576.0)
    except (OSError, ValueError, IndexError):
        memory = "?"
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory": memory,
        "os": "%s %s" % (platform.system(), platform.release()),
        "python": platform.python_version(),
        "ansible_core": ansible_core,
    }
