#!/usr/bin/env python3
"""config_sync of many SMB shares while the target answers some share writes with 409.

Starts two simulated clusters as a separate ``onefs-mock`` process (free ports,
plain HTTP), seeds N SMB shares on the source, makes the target's mock answer
a fraction of share writes with 409 AEC_CONFLICT, runs the real ``config_sync``
module once (a module process, as Ansible runs it), then once more to show
idempotence, and prints:

* wall time of each run,
* shares created and failed (from the module's result; the target's state is
  checked to hold every share with the source's settings),
* conflicts retried (409 answers in the mock's request log, and the module's
  own count),
* requests sent to each cluster.

    .venv/bin/python benchmarks/config_sync_bench.py [--shares 1000] [--conflict-rate 0.1] [--workers 4]

Figures only: nothing here asserts a duration.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
MODULE = os.path.join(ROOT, "plugins", "modules", "config_sync.py")
MOCK_SRC = os.path.join(ROOT, "tests", "mock_api")
START_TIMEOUT_S = 60
WRITES = ("POST", "PUT", "DELETE")


def scenario(count):
    """Source: ``count`` shares under /ifs/data/shares with a few permission shapes; target: no share,
    but the shares' directories, as SyncIQ replicated them (OneFS refuses a share on a missing path)."""
    trustees = [
        {"id": "SID:S-1-1-0", "name": "Everyone", "type": "wellknown"},
        {"id": "SID:S-1-5-21-1004336348-1177238915-682003330-1201", "name": "AD\\finance", "type": "group"},
        {"id": "SID:S-1-5-21-1004336348-1177238915-682003330-1202", "name": "AD\\eng", "type": "group"},
    ]
    shares = []
    for index in range(count):
        shares.append({
            "name": "share%04d" % index,
            "path": "/ifs/data/shares/share%04d" % index,
            "zone": "System",
            "description": "benchmark share %d" % index,
            "browsable": index % 7 != 0,
            "permissions": [{"permission": ("read", "change", "full")[index % 3], "permission_type": "allow",
                             "trustee": trustees[index % len(trustees)]}],
        })
    users = [{"name": "admin", "password": "admin", "role": "admin"}]
    zones = [{"name": "System", "path": "/ifs"}]
    return {"clusters": {"source": {"users": users, "zones": zones, "smb_shares": shares},
                         "target": {"users": users, "zones": zones,
                                    "files": {share["path"] + "/": None for share in shares}}}}


def ensure_collection_path():
    link = os.path.join(COLLECTIONS, "ansible_collections", "onefs", "dr")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)


def start_mock(seed_file):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([MOCK_SRC] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.Popen(
        [sys.executable, "-m", "onefs_mock", "--cluster", "source=127.0.0.1:0", "--cluster", "target=127.0.0.1:0",
         "--seed", seed_file, "--no-tls"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    urls = {}
    deadline = time.monotonic() + START_TIMEOUT_S
    while len(urls) < 2 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("onefs-mock exited: %s" % proc.stderr.read())
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ready":
            urls[parts[1]] = parts[2]
    if len(urls) < 2:
        proc.terminate()
        raise RuntimeError("onefs-mock did not become ready in %d s" % START_TIMEOUT_S)
    return proc, urls


def control(url, method, path, body=None):
    response = requests.request(method, url + "/_mock/" + path, json=body, timeout=120)
    response.raise_for_status()
    return response.json() if response.content else None


def conn(url):
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return {"onefs_host": ["http://%s:%s" % (host, port)], "onefs_port": int(port), "username": "admin",
            "password": "admin", "validate_certs": False}


def run_module(args, tmp):
    path = os.path.join(tmp, "args-%d.json" % time.monotonic_ns())
    with open(path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([COLLECTIONS] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    started = time.monotonic()
    proc = subprocess.run([sys.executable, MODULE, path], capture_output=True, text=True, env=env, timeout=3600,
                          check=False)
    elapsed = time.monotonic() - started
    lines = [line for line in proc.stdout.splitlines() if line.strip().startswith("{")]
    if not lines:
        raise RuntimeError("module printed no result:\n%s\n%s" % (proc.stdout, proc.stderr))
    return json.loads(lines[-1]), elapsed


def log_of(url, cluster):
    return [e for e in control(url, "GET", "requests")["requests"] if e["cluster"] == cluster]


def differing_shares(on_source, on_target):
    """How many source shares are missing on the target or have other settings (state dumps)."""
    sys.path.insert(0, COLLECTIONS)
    from ansible_collections.onefs.dr.plugins.module_utils import protocols

    def view(share):
        return {k: protocols.canonical(v) for k, v in protocols.settings(protocols.SMB, share).items()}

    target_by_name = {s["name"].lower(): view(s) for s in on_target}
    return sum(1 for s in on_source if target_by_name.get(s["name"].lower()) != view(s))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shares", type=int, default=1000)
    parser.add_argument("--conflict-rate", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--conflict-retries", type=int, default=8)
    parser.add_argument("--serialize-ms", type=int, default=0,
                        help="the target holds its share-config lock this long per write; a write arriving "
                             "meanwhile gets 409 (OneFS serialises share writes)")
    options = parser.parse_args()
    ensure_collection_path()

    with tempfile.TemporaryDirectory(prefix="config-sync-bench-") as tmp:
        seed_file = os.path.join(tmp, "seed.json")
        with open(seed_file, "w") as handle:
            json.dump(scenario(options.shares), handle)
        proc, urls = start_mock(seed_file)
        try:
            report(options, urls, tmp)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def report(options, urls, tmp):
    source, target = urls["source"], urls["target"]
    control(target, "POST", "smb", {"conflict_rate": options.conflict_rate, "seed": 42,
                                    "serialize_ms": options.serialize_ms})
    control(source, "DELETE", "requests")
    args = dict(conn(target), peer=conn(source), zone="System", kinds=["smb_shares"],
                max_workers=options.workers, conflict_retries=options.conflict_retries)

    first, first_s = run_module(args, tmp)
    log = log_of(source, "target")
    conflicts_logged = sum(1 for e in log if e["method"] in WRITES and e["status"] == 409)
    target_writes = sum(1 for e in log if e["method"] in WRITES and not e["path"].startswith("/session/"))
    source_log = log_of(source, "source")
    source_writes = sum(1 for e in source_log if e["method"] in WRITES and not e["path"].startswith("/session/"))
    on_target = [s for s in control(target, "GET", "state")["smb_shares"] if s["zone"] == "System"]
    on_source = [s for s in control(source, "GET", "state")["smb_shares"] if s["zone"] == "System"]
    differing = differing_shares(on_source, on_target)
    smb_faults = control(target, "GET", "smb")

    control(source, "DELETE", "requests")
    second, second_s = run_module(args, tmp)
    second_writes = sum(1 for e in log_of(source, "target")
                        if e["method"] in WRITES and not e["path"].startswith("/session/"))

    counts = first.get("counts", {})
    print("config_sync benchmark: %d SMB shares, %.0f%% of target share writes answered 409 AEC_CONFLICT, "
          "serialize_ms=%d, max_workers=%d, conflict_retries=%d"
          % (options.shares, options.conflict_rate * 100, options.serialize_ms, options.workers,
             options.conflict_retries))
    print("  first run:  wall %.2f s  rc=%s  created=%d  updated=%d  failed=%d"
          % (first_s, "failed" if first.get("failed") else "ok", counts.get("create", 0), counts.get("update", 0),
             counts.get("failed", 0)))
    print("              conflicts retried: %d (module) / %d 409 answers in the mock's request log "
          "(mock: %d injected, %d busy)" % (first.get("conflicts_retried", -1), conflicts_logged,
                                            smb_faults.get("conflicts_injected", -1),
                                            smb_faults.get("conflicts_busy", -1)))
    print("              requests: %d writes to target, %d to source; %d shares on target, %d differ from the source"
          % (target_writes, source_writes, len(on_target), differing))
    print("  second run: wall %.2f s  changed=%s  writes to target=%d  unchanged=%d"
          % (second_s, second.get("changed"), second_writes, second.get("counts", {}).get("none", 0)))
    if first.get("failed"):
        print("  first run failed: %s" % first.get("msg", "")[:500])
    return 0


if __name__ == "__main__":
    sys.exit(main())
