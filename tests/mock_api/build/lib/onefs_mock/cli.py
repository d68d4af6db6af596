"""onefs-mock: serve simulated OneFS clusters.

    onefs-mock --cluster source=127.0.0.1:18080 --cluster target=127.0.0.1:18081 \\
               [--seed FILE.yml|demo] [--cert-dir DIR] [--no-tls] [--latency-ms N] \\
               [--time-scale X] [--control HOST:PORT]

Prints ``ready NAME URL`` per cluster once every port accepts connections
(plus ``ca PATH`` with TLS and ``control URL`` with --control), and exits 0
on SIGTERM or SIGINT.
"""

import argparse
import logging
import os
import signal
import sys
import tempfile
import threading
from typing import Dict, List, Optional, Tuple

DEFAULT_CLUSTERS = ["source=127.0.0.1:18080", "target=127.0.0.1:18081"]


def _host_port(text: str) -> Tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % text)
    return host.strip("[]") or "127.0.0.1", int(port)


def _cluster(text: str) -> Tuple[str, Tuple[str, int]]:
    name, sep, address = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected NAME=HOST:PORT, got %r" % text)
    return name, _host_port(address)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="onefs-mock", description="Simulated Dell PowerScale OneFS API clusters.")
    parser.add_argument("--cluster", action="append", type=_cluster, metavar="NAME=HOST:PORT",
                        help="a simulated cluster and where it listens (repeat; default: %s)" % " ".join(DEFAULT_CLUSTERS))
    parser.add_argument("--seed", help="scenario file (YAML/JSON) or built-in scenario name such as 'demo'")
    parser.add_argument("--cert-dir", help="where the CA and server certificate are written (default: a temp dir)")
    parser.add_argument("--no-tls", action="store_true", help="plain HTTP instead of HTTPS")
    parser.add_argument("--latency-ms", type=int, default=0, help="latency added to every API call")
    parser.add_argument("--time-scale", type=float, default=1.0, help="divide simulated job durations by this")
    parser.add_argument("--control", type=_host_port, metavar="HOST:PORT", help="also serve /_mock/ alone here")
    parser.add_argument("--log-level", default="WARNING", help="Python log level of the mock (stderr)")
    args = parser.parse_args(argv)
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    if args.latency_ms < 0:
        parser.error("--latency-ms must not be negative")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from .server import build

    clusters: Dict[str, Tuple[str, int]] = dict(args.cluster or [_cluster(c) for c in DEFAULT_CLUSTERS])
    cert_dir = None
    if not args.no_tls:
        cert_dir = args.cert_dir or os.path.join(tempfile.gettempdir(), "onefs-mock-certs")
    try:
        server = build(clusters, args.seed, cert_dir=cert_dir, tls=not args.no_tls, latency_ms=args.latency_ms,
                       time_scale=args.time_scale, control=args.control)
    except (OSError, ValueError) as exc:
        print("onefs-mock: %s" % exc, file=sys.stderr)
        return 2
    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if cert_dir:
        print("ca %s" % os.path.join(cert_dir, "ca.pem"))
    if server.control is not None:
        print("control %s" % server.control.url())
    for name, url in server.urls().items():
        print("ready %s %s" % (name, url))
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
