#!/usr/bin/env python3
"""Benchmark of the OneFS simulator: requests per second per cluster.

Starts ``python -m onefs_mock`` (the CLI) in a separate process with the demo
scenario on free ports, then drives a mixed read/write load from this process
with a few threads per cluster for a bounded time, and prints requests per
second, latency percentiles and error counts per cluster.  It measures; it
asserts nothing (never a timed test).

    python tests/mock_api/bench_mock.py [--seconds 10] [--threads 4] [--auth session|basic]
                                        [--write-share 0.2] [--tls]
"""

import argparse
import base64
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import ssl
import time
from typing import Dict, List, Optional
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
POOLS = "/platform/16/network/groupnets/groupnet0/subnets/subnet0/pools"

READS = [
    "/platform/16/network/pools",
    POOLS + "/pool0",
    "/platform/14/auth/providers/ads/AD.EXAMPLE.COM",
    "/platform/15/quota/quotas?limit=3",
    "/platform/12/protocols/smb/shares?zone=eng",
    "/platform/4/protocols/nfs/exports?zone=eng",
    "/platform/15/protocols/nfs/aliases?zone=eng",
    "/platform/3/zones",
    "/platform/3/cluster/config",
    "/platform/14/sync/policies",
    "/platform/1/sync/target/policies",
    "/namespace/ifs/data/eng/src/app/main.py",
]


def start_mock_process(tls: bool, startup_timeout: float = 30.0):
    """Run the CLI on free ports; return (process, {cluster: url})."""
    command = [sys.executable, "-m", "onefs_mock", "--cluster", "source=127.0.0.1:0",
               "--cluster", "target=127.0.0.1:0", "--seed", "demo"]
    if not tls:
        command.append("--no-tls")
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    urls: Dict[str, str] = {}
    deadline = time.monotonic() + startup_timeout
    while len(urls) < 2 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ready":
            urls[parts[1]] = parts[2]
    if len(urls) < 2:
        process.kill()
        raise SystemExit("the mock did not start: %s" % process.stderr.read()[-2000:])
    return process, urls


class Worker(threading.Thread):
    """One client thread: its own keep-alive connection, a mixed load on one cluster.

    Plain ``http.client`` rather than ``requests``: on a small machine the
    client shares the CPUs with the mock, and requests' own overhead would
    be measured instead of the mock's.
    """

    def __init__(self, name: str, cluster: str, url: str, auth: str, write_share: float, stop_at: float,
                 seed: int):
        super().__init__(name=name, daemon=True)
        self.cluster = cluster
        self.url = url
        self.auth = auth
        self.write_share = write_share
        self.stop_at = stop_at
        self.random = random.Random(seed)
        self.latencies: List[float] = []
        self.errors: Dict[str, int] = {}
        self.headers: Dict[str, str] = {"Content-Type": "application/json"}
        split = urlsplit(url)
        if split.scheme == "https":
            context = ssl._create_unverified_context()   # the mock's own CA: not what is measured here
            self.conn = http.client.HTTPSConnection(split.hostname, split.port, timeout=10, context=context)
        else:
            self.conn = http.client.HTTPConnection(split.hostname, split.port, timeout=10)

    def request(self, method: str, path: str, body: Optional[bytes] = None, headers=None):
        self.conn.request(method, path, body=body, headers=dict(self.headers, **(headers or {})))
        response = self.conn.getresponse()
        data = response.read()
        return response, data

    def login(self) -> None:
        if self.auth == "basic":
            token = base64.b64encode(b"admin:admin").decode()
            self.headers["Authorization"] = "Basic " + token
            return
        body = json.dumps({"username": "admin", "password": "admin", "services": ["platform", "namespace"]})
        response, _ = self.request("POST", "/session/1/session", body.encode())
        cookies = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";")[0]
        self.headers.update({"Cookie": "isisessid=%s" % cookies.get("isisessid", ""),
                             "X-CSRF-Token": cookies.get("isicsrf", ""), "Referer": self.url})

    def one_write(self, index: int):
        choice = index % 4
        if choice == 0:
            alias = ["eng.bench%d.example.com" % (index % 7)]
            return "PUT", POOLS + "/eng", json.dumps({"sc_dns_zone_aliases": alias}).encode()
        if choice == 1:
            return ("PUT", "/platform/12/protocols/smb/shares/src?zone=eng",
                    json.dumps({"description": "bench %d" % index}).encode())
        if choice == 2:
            return ("PUT", "/platform/4/protocols/nfs/exports/1?zone=eng",
                    json.dumps({"description": "bench %d" % index}).encode())
        return "PUT", "/namespace/ifs/data/it/bench/%s-%d.txt" % (self.name, index % 10), b"bench data"

    def run(self) -> None:
        self.login()
        index = 0
        while time.monotonic() < self.stop_at:
            index += 1
            if self.random.random() < self.write_share:
                method, path, body = self.one_write(index)
            else:
                method, path, body = "GET", self.random.choice(READS), None
            started = time.perf_counter()
            try:
                response, _ = self.request(method, path, body)
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                self.conn.close()
            self.latencies.append(time.perf_counter() - started)
            if status >= 400 or status == 0:
                key = "%d %s %s" % (status, method, path.split("?")[0])
                self.errors[key] = self.errors.get(key, 0) + 1


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load duration (bounded)")
    parser.add_argument("--threads", type=int, default=4, help="client threads per cluster")
    parser.add_argument("--auth", choices=("session", "basic"), default="session")
    parser.add_argument("--write-share", type=float, default=0.2, help="fraction of writes")
    parser.add_argument("--tls", action="store_true", help="HTTPS (the CLI default) instead of plain HTTP")
    args = parser.parse_args(argv)
    seconds = max(1.0, min(args.seconds, 300.0))
    process, urls = start_mock_process(args.tls)
    try:
        stop_at = time.monotonic() + seconds
        workers = [Worker("%s-%d" % (cluster, n), cluster, url, args.auth, args.write_share, stop_at, seed=n)
                   for cluster, url in sorted(urls.items()) for n in range(max(1, args.threads))]
        began = time.monotonic()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=seconds + 30)
        elapsed = time.monotonic() - began
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()

    print("onefs-mock benchmark: %.1f s, %d threads per cluster, auth=%s, %d%% writes, %s"
          % (elapsed, args.threads, args.auth, round(args.write_share * 100), "https" if args.tls else "http"))
    total = 0
    for cluster in sorted(urls):
        mine = [w for w in workers if w.cluster == cluster]
        latencies = [value for w in mine for value in w.latencies]
        errors: Dict[str, int] = {}
        for worker in mine:
            for status, count in worker.errors.items():
                errors[status] = errors.get(status, 0) + count
        total += len(latencies)
        print("  %-7s %6d requests  %7.0f req/s  p50 %5.1f ms  p95 %5.1f ms  mean %5.1f ms  errors %d"
              % (cluster, len(latencies), len(latencies) / elapsed, percentile(latencies, 0.5) * 1000,
                 percentile(latencies, 0.95) * 1000,
                 (statistics.mean(latencies) * 1000) if latencies else 0.0, sum(errors.values())))
        for key, count in sorted(errors.items()):
            print("          error %5d x %s" % (count, key))
    print("  total   %6d requests  %7.0f req/s" % (total, total / elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
