"""HTTP(S) front end: one threaded server per cluster plus an optional control port.

The request path is: read body -> ``/_mock/`` control (no auth, no log, no
faults) or API: faults -> latency -> routing on the raw (still
percent-encoded) path -> version check -> authentication -> privilege ->
JSON body -> handler under ``world.lock`` -> JSON encoding -> request log.
Handler exceptions never leak a traceback to the client: they become a 500
``AEC_EXCEPTION`` and are logged.
"""

import json
import logging
import socket
import ssl
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

from . import framework
from .framework import ApiError, Request, Response
from .state import Cluster, World, redact

LOG = logging.getLogger("onefs_mock")

CONTROL_PREFIX = "/_mock/"
SESSION_PREFIX = "/session/"
NAMESPACE_PREFIX = "/namespace/"
MAX_BODY = 256 * 1024 * 1024


class Headers(dict):
    """Request headers with case-insensitive lookup (keys stored lower-case)."""

    def __init__(self, items=()):
        super().__init__((k.lower(), v) for k, v in items)

    def get(self, key, default=None):
        return super().get(key.lower(), default)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(str(key).lower())


class ClientGone(Exception):
    """The connection must be dropped without an answer (reset fault, cluster down)."""


class ClusterHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, handler, world: World, cluster: Optional[Cluster], ssl_context=None):
        self.world = world
        self.cluster = cluster
        self.ssl_context = ssl_context
        self.connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the connection's own thread.
        if self.ssl_context is not None:
            try:
                request.settimeout(30)
                request = self.ssl_context.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (OSError, ssl.SSLError):
                return
        with self.connections_lock:
            self.connections.add(request)
        try:
            self.RequestHandlerClass(request, client_address, self)
        except (ConnectionError, ssl.SSLError, socket.timeout, ClientGone):
            pass
        finally:
            with self.connections_lock:
                self.connections.discard(request)
            try:
                request.close()
            except OSError:
                pass

    def close_connections(self, keep=None) -> None:
        """Drop every open (keep-alive) connection except ``keep``."""
        with self.connections_lock:
            sockets = [s for s in self.connections if s is not keep]
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        LOG.debug("connection error from %s", client_address, exc_info=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus
    # delayed ACK add ~40 ms to every keep-alive answer (45 ms -> 2.4 ms per call).
    disable_nagle_algorithm = True
    server_version = "onefs-mock"
    sys_version = ""
    timeout = 120   # idle keep-alive connections are closed after this

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        return

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    # plumbing -------------------------------------------------------------
    @property
    def world(self) -> World:
        return self.server.world

    def dispatch(self) -> None:
        started = time.perf_counter()
        cluster = self.server.cluster
        if cluster is not None and cluster.down:
            raise ClientGone()
        split = urlsplit(self.path)
        raw_path = split.path or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = Headers(self.headers.items())
        try:
            raw_body = self._read_body(headers)
        except ApiError as err:
            self._send(err.status, _json(err.body()))
            return
        if raw_path.startswith(CONTROL_PREFIX) or raw_path == CONTROL_PREFIX.rstrip("/"):
            self._control(raw_path, query, headers, raw_body)
            return
        if cluster is None:
            self._send(404, _json(framework.not_found("Only /_mock/ is served on the control port").body()))
            return
        self._api(cluster, raw_path, query, headers, raw_body, started)

    def _read_body(self, headers: Headers) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = headers.get("content-length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise framework.bad_request("Invalid Content-Length header")
        if size < 0 or size > MAX_BODY:
            raise framework.bad_request("Invalid Content-Length header")
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes:
        parts = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise framework.bad_request("Request body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              headers: Optional[Dict[str, Any]] = None) -> None:
        self.send_response(status)
        if body or status not in (204, 304):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            for item in value if isinstance(value, list) else [value]:
                self.send_header(key, str(item))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _reset_connection(self) -> None:
        """Answer nothing and reset the TCP connection (RST), like a dying node."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        raise ClientGone()

    # control API ----------------------------------------------------------
    def _control(self, raw_path: str, query: Dict[str, str], headers: Headers, raw_body: bytes) -> None:
        route, params, known = framework.match(self.command, raw_path)
        try:
            if route is None:
                if known:
                    raise ApiError(405, "AEC_METHOD_NOT_ALLOWED", "Method %s not allowed on %s" % (self.command, raw_path))
                raise framework.not_found("Unknown control endpoint %s" % raw_path)
            cluster = self._control_cluster(query)
            body = _parse_json(raw_body) if raw_body else None
            request = Request(self.command, raw_path, params, query, body, headers, raw_body=raw_body)
            request.connection = self.connection
            request.http_handler = self
            result = route.handler(request, cluster)
            status, payload, content_type, extra = _to_http(result)
        except ApiError as err:
            status, payload, content_type, extra = err.status, _json(err.body()), "application/json", {}
        except Exception as exc:  # never a traceback on the wire
            LOG.exception("control handler failed: %s %s", self.command, raw_path)
            status, payload, content_type, extra = 500, _json(ApiError(500, "AEC_EXCEPTION", str(exc)).body()), "application/json", {}
        self._send(status, payload, content_type, extra)

    def _control_cluster(self, query: Dict[str, str]) -> Cluster:
        wanted = query.get("cluster")
        if wanted and wanted != "*":
            cluster = self.world.clusters.get(wanted)
            if cluster is None:
                raise framework.not_found("No simulated cluster named %s" % wanted)
            return cluster
        cluster = self.server.cluster or self.world.first_cluster()
        if cluster is None:
            raise framework.not_found("No simulated cluster")
        return cluster

    # platform / namespace / session API --------------------------------------
    def _api(self, cluster: Cluster, raw_path: str, query: Dict[str, str], headers: Headers,
             raw_body: bytes, started: float) -> None:
        decision = cluster.faults.decide(self.command, raw_path, _json_or_none(raw_path, raw_body))
        delay = cluster.faults.latency_s + self.world.latency_ms / 1000.0
        if delay > 0:
            time.sleep(delay)
        if decision is not None and decision.kind == "reset" and not decision.after:
            self._log(cluster, raw_path, query, raw_body, 0, started, None)
            self._reset_connection()
        user = None
        extra: Dict[str, Any] = {}
        content_type = "application/json"
        applied = False   # the handler ran to the end: the request took effect, whatever the answer says
        try:
            if decision is not None and decision.kind == "error" and not decision.after:
                raise ApiError(decision.status, decision.code, decision.message)
            request, route = self._build_request(cluster, raw_path, query, headers, raw_body)
            user = request.user
            result = self._call(route, request, cluster)
            applied = True
            status, payload, content_type, extra = _to_http(result)
            if decision is not None and decision.after:
                if decision.kind == "reset":
                    self._log(cluster, raw_path, query, raw_body, 0, started, user, applied)
                    self._reset_connection()
                raise ApiError(decision.status, decision.code, decision.message)
        except ApiError as err:
            status, payload, content_type, extra = err.status, _json(err.body()), "application/json", {}
        self._log(cluster, raw_path, query, raw_body, status, started, user, applied)
        self._send(status, payload, content_type, extra)

    def _build_request(self, cluster: Cluster, raw_path: str, query: Dict[str, str], headers: Headers,
                       raw_body: bytes) -> Tuple[Request, framework.Route]:
        route, params, known = framework.match(self.command, raw_path)
        if route is None:
            if known:
                raise ApiError(405, "AEC_METHOD_NOT_ALLOWED", "Method %s is not allowed on %s" % (self.command, raw_path))
            raise framework.not_found("Path not found: %s" % raw_path)
        version = _check_version(route, params, cluster)
        from .resources import session  # late import: resources import the server's peers

        user = None
        if not raw_path.startswith(SESSION_PREFIX):
            user = session.authenticate(cluster, headers)
            session.check_privilege(user, route)
        if raw_path.startswith(NAMESPACE_PREFIX):
            body: Any = raw_body
        else:
            body = _parse_json(raw_body) if raw_body.strip() else None
        request = Request(self.command, raw_path, params, query, body, headers, user=user, version=version,
                          raw_body=raw_body)
        request.cluster_name = cluster.name
        return request, route

    def _call(self, route: framework.Route, request: Request, cluster: Cluster) -> Any:
        try:
            with self.world.lock:
                return route.handler(request, cluster)
        except ApiError:
            raise
        except Exception as exc:
            LOG.exception("handler failed: %s %s", request.method, request.path)
            raise ApiError(500, "AEC_EXCEPTION", "Internal error: %s" % type(exc).__name__)

    def _log(self, cluster: Cluster, raw_path: str, query: Dict[str, str], raw_body: bytes, status: int,
             started: float, user: Optional[Dict[str, Any]], applied: bool = False) -> None:
        self.world.log.add({
            "ts": time.time(),
            "cluster": cluster.name,
            "method": self.command,
            "path": raw_path,
            "query": redact(query),
            "body": _loggable_body(raw_path, raw_body),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000.0, 3),
            "user": (user or {}).get("name"),
            "applied": applied,
        })


# helpers -------------------------------------------------------------------

def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _json_or_none(raw_path: str, raw: bytes) -> Any:
    """The JSON body of a platform request for fault matching; None when there is none or it is not JSON."""
    if raw_path.startswith(NAMESPACE_PREFIX) or not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        return None


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise framework.bad_request("Request body is not valid UTF-8")
    except ValueError as exc:
        raise framework.bad_request("Malformed JSON in request body: %s" % exc)


def _loggable_body(raw_path: str, raw_body: bytes) -> Any:
    if not raw_body:
        return None
    if raw_path.startswith(NAMESPACE_PREFIX):
        return {"bytes": len(raw_body)}
    try:
        return redact(json.loads(raw_body.decode("utf-8")))
    except (ValueError, UnicodeDecodeError):
        return {"unparsable_bytes": len(raw_body)}


def _check_version(route: framework.Route, params: Dict[str, str], cluster: Cluster) -> Optional[int]:
    if "v" not in route.names:
        return None
    text = params.pop("v")
    if not text.isdigit():
        raise framework.not_found("Path not found: version %s" % text)
    version = int(text)
    if version < route.min_version or version > cluster.latest_papi:
        raise framework.not_found("Path not found: %s is not available in version %d" % (route.template, version))
    return version


def _to_http(result: Any) -> Tuple[int, bytes, str, Dict[str, Any]]:
    if result is None:
        return 204, b"", "application/json", {}
    if isinstance(result, Response):
        body = result.body
        if body is None:
            payload = b""
        elif isinstance(body, (bytes, bytearray)):
            payload = bytes(body)
        else:
            payload = _json(body)
        return result.status, payload, result.content_type, dict(result.headers)
    return 200, _json(result), "application/json", {}


# endpoints -------------------------------------------------------------------

class Endpoint:
    """The listening socket of one cluster (or of the control port); can go down and up."""

    def __init__(self, world: World, cluster: Optional[Cluster], host: str, port: int, ssl_context=None):
        self.world = world
        self.cluster = cluster
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.httpd: Optional[ClusterHTTPServer] = None
        self.thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context is not None else "http"

    def url(self) -> str:
        return "%s://%s:%d" % (self.scheme, self.host, self.port)

    def start(self) -> None:
        with self._lock:
            if self.httpd is not None:
                return
            httpd = ClusterHTTPServer((self.host, self.port), Handler, self.world, self.cluster, self.ssl_context)
            self.port = httpd.server_address[1]
            self.httpd = httpd
            self.thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                           name="onefs-mock-%s" % (self.cluster.name if self.cluster else "control"),
                                           daemon=True)
            self.thread.start()
            if self.cluster is not None:
                self.cluster.port = self.port
                self.cluster.host = self.host
                self.cluster.scheme = self.scheme
                self.cluster.down = False

    def stop(self, keep=None) -> None:
        """Close the listening socket and every open connection (except ``keep``)."""
        with self._lock:
            httpd, self.httpd = self.httpd, None
            if self.cluster is not None and httpd is not None:
                self.cluster.down = True
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections(keep=keep)

    @property
    def is_up(self) -> bool:
        return self.httpd is not None


class MockServer:
    """Every endpoint of one mock process around one :class:`World`."""

    def __init__(self, world: World, tls_context=None, latency_ms: int = 0):
        self.world = world
        self.tls_context = tls_context
        self.endpoints: Dict[str, Endpoint] = {}
        self.control: Optional[Endpoint] = None
        self.down_timers: Dict[str, Any] = {}
        world.server = self
        world.latency_ms = int(latency_ms or 0)

    def add_cluster(self, name: str, host: str = "127.0.0.1", port: int = 0) -> Endpoint:
        cluster = self.world.clusters.get(name) or self.world.add_cluster(name, host, port)
        endpoint = Endpoint(self.world, cluster, host, port, self.tls_context)
        cluster.server = endpoint
        self.endpoints[name] = endpoint
        return endpoint

    def add_control(self, host: str = "127.0.0.1", port: int = 0) -> Endpoint:
        self.control = Endpoint(self.world, None, host, port, None)
        return self.control

    def start(self) -> None:
        for endpoint in self.endpoints.values():
            endpoint.start()
        if self.control is not None:
            self.control.start()

    def stop(self) -> None:
        for endpoint in list(self.endpoints.values()) + ([self.control] if self.control else []):
            endpoint.stop()
        self.world.scheduler.stop()

    # down / up --------------------------------------------------------------
    def take_down(self, name: str, seconds: Optional[float] = None, keep=None) -> None:
        endpoint = self.endpoints[name]
        self._cancel_up_timer(name)
        endpoint.stop(keep=keep)
        if seconds is not None:
            # Real seconds: an outage is about the client's retry budget, not simulated time.
            self.down_timers[name] = self.world.scheduler.call_later(float(seconds), self.bring_up, name)

    def bring_up(self, name: str) -> None:
        self._cancel_up_timer(name)
        self.endpoints[name].start()

    def bring_all_up(self) -> None:
        for name in self.endpoints:
            self.bring_up(name)

    def _cancel_up_timer(self, name: str) -> None:
        timer = self.down_timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def urls(self) -> Dict[str, str]:
        return {name: endpoint.url() for name, endpoint in self.endpoints.items()}


def build(clusters: Dict[str, Tuple[str, int]], scenario: Optional[Dict[str, Any]] = None, cert_dir: Optional[str] = None,
          tls: bool = True, latency_ms: int = 0, time_scale: float = 1.0,
          control: Optional[Tuple[str, int]] = None) -> MockServer:
    """A ready-to-start MockServer: world seeded, every cluster endpoint (and control port) bound."""
    from . import control as _control  # noqa: F401 - registers the /_mock/ routes
    from .resources import load_all
    from .seed import load_scenario

    load_all()
    world = World(load_scenario(scenario) if not isinstance(scenario, dict) else load_scenario(scenario), time_scale)
    context = None
    if tls:
        from . import tls as tls_mod

        if cert_dir is None:
            raise ValueError("TLS needs a cert_dir")
        tls_mod.ensure_certificates(cert_dir, [host for host, _ in clusters.values()])
        context = tls_mod.server_context(cert_dir)
    server = MockServer(world, context, latency_ms)
    for name, (host, port) in clusters.items():
        server.add_cluster(name, host, port)
    if control is not None:
        server.add_control(*control)
    world.reset()
    server.start()
    return server
