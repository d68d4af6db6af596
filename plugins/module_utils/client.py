# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PapiClient: the only place in the collection that opens HTTP connections.

What it takes care of so that no module has to:

* session login once per client (cookies ``isisessid``/``isicsrf``, the
  ``X-CSRF-Token`` and ``Referer`` headers on every call), a transparent
  re-login when the session expired, logout on ``close()``; Basic auth as an
  option;
* several node addresses: sessions are node-local in OneFS, so after moving
  to another node the client logs in again;
* retries with back-off and jitter, bounded by ``retry_budget`` seconds, on
  connection errors, timeouts and 429/502/503/504 (409 ``AEC_CONFLICT`` on
  request); a POST whose answer was lost is never re-sent blindly;
* ``resume`` paging, typed errors, thread safety, an opt-in request trace.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import re
import threading
import time

try:
    from urllib.parse import quote, urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported, but keep ansible-test's compile happy
    from urllib import quote  # type: ignore
    from urlparse import urlsplit  # type: ignore

from .errors import (
    OnefsError,
    NotFoundError,
    TlsError,
    UnauthorizedError,
    UnavailableError,
    error_from_response,
)
from .retry import DEFAULT_RETRY_BUDGET, Backoff, is_retryable, retry_after_seconds

# ``requests`` is imported lazily (start-up stays light, and ansible-test's
# import sanity runs without it); modules report a missing library with
# ``missing_required_lib('requests')`` when HAS_REQUESTS is False.
HAS_REQUESTS = importlib.util.find_spec("requests") is not None
REQUESTS_IMPORT_ERROR = None if HAS_REQUESTS else "No module named 'requests'"

SESSION_PATH = "/session/1/session"
DEFAULT_PORT = 8080
# A node that does not accept a TCP connection within this time is treated as
# down and the next node is tried (the whole answer may take api_timeout).
CONNECT_TIMEOUT = 10.0
# Bounds of loops that the budget normally ends long before.
MAX_ATTEMPTS = 100000
MAX_PAGES = 100000

_RESEND = object()


class Node:
    """One node address: scheme, host and port."""

    def __init__(self, scheme, host, port):
        self.scheme = scheme
        self.host = host
        self.port = int(port)

    @property
    def netloc(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s:%d" % (host, self.port)

    @property
    def origin(self):
        """What OneFS expects in ``Referer``: ``https://host:port``."""
        return "%s://%s" % (self.scheme, self.netloc)

    def __repr__(self):
        return self.netloc


def parse_node(text, port=DEFAULT_PORT, scheme="https"):
    """A :class:`Node` from ``host``, ``host:port``, ``[v6]:port`` or ``http(s)://host:port``."""
    text = str(text).strip()
    if not text:
        raise ValueError("empty host name")
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("unsupported host URL %r" % text)
        return Node(parts.scheme, parts.hostname, parts.port or port)
    if text.startswith("["):
        host, dummy, rest = text[1:].partition("]")
        return Node(scheme, host, rest.lstrip(":") or port)
    if text.count(":") == 1:
        host, dummy, given = text.partition(":")
        return Node(scheme, host, given or port)
    return Node(scheme, text, port)


def split_hosts(hosts):
    """A list of host strings from a list, a single string or a comma-separated string."""
    if isinstance(hosts, str):
        hosts = [hosts]
    found = []
    for entry in hosts or []:
        found.extend(part.strip() for part in str(entry).split(",") if part.strip())
    return found


def q(segment):
    """Quote one path segment (``/`` becomes ``%2F``: NFS alias names start with one)."""
    return quote(str(segment), safe="")


def _encode_query(query):
    """Query values the way OneFS reads them (booleans as true/false, None dropped)."""
    if not query:
        return None
    encoded = {}
    for key, value in query.items():
        if value is None:
            continue
        encoded[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return encoded


class _NotSent(Exception):
    """The request never reached the cluster (refused, no route, DNS, connect timeout)."""


class _Lost(Exception):
    """The request may have reached the cluster but no answer arrived."""


class _LoginRetry(Exception):
    """The login got a retryable answer (e.g. 503): the call itself was not sent."""

    def __init__(self, error, retry_after=None):
        super(_LoginRetry, self).__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class _Session:
    """One OneFS session: it is only valid on the node that issued it."""

    def __init__(self, node, sessid, csrf):
        self.node = node
        self.sessid = sessid
        self.csrf = csrf

    def cookie_header(self):
        cookies = ["isisessid=%s" % self.sessid]
        if self.csrf:
            cookies.append("isicsrf=%s" % self.csrf)
        return "; ".join(cookies)


class _CallState:
    """What one logical call has been through (for retries and the final error)."""

    def __init__(self):
        self.relogged = False
        self.node_failures = 0
        self.nodes = []
        self.last = None
        self.attempts = 0
        self.lost_once = False

    def saw_node(self, node):
        if node.netloc not in self.nodes:
            self.nodes.append(node.netloc)


def _set_cookies(response):
    """``{name: value}`` of every ``Set-Cookie`` header of a response."""
    raw = getattr(response, "raw", None)
    headers = getattr(raw, "headers", None)
    values = headers.getlist("Set-Cookie") if hasattr(headers, "getlist") else []
    found = {}
    for value in values:
        pair = value.split(";", 1)[0]
        name, sep, content = pair.partition("=")
        if sep:
            found[name.strip()] = content.strip()
    if not found:
        found.update(response.cookies.items())
    return found


_OBJECT_PREFIX = re.compile(r"^<[^>]+>:\s*")
_CERT_PROBLEMS = ("certificate verify failed", "certificate_verify_failed", "doesn't match",
                  "hostname mismatch", "self signed", "self-signed", "unable to get local issuer")


def _reason(exc):
    """The innermost readable cause of a requests/urllib3 exception."""
    cause = exc.args[0] if exc.args else exc
    cause = getattr(cause, "reason", cause)
    text = _OBJECT_PREFIX.sub("", str(cause))
    text = re.sub(r"^\w+(Connection|Pool)\([^)]*\):\s*", "", text)
    return text or type(exc).__name__


def _is_cert_problem(text):
    lowered = text.lower()
    return any(marker in lowered for marker in _CERT_PROBLEMS)


class PapiClient:
    """A thread-safe client of one OneFS cluster (one or more node addresses)."""

    def __init__(self, hosts, port=DEFAULT_PORT, username=None, password=None, auth="session",
                 validate_certs=True, ca_path=None, api_timeout=60, retry_budget=DEFAULT_RETRY_BUDGET,
                 name=None, trace=None, max_connections=50, scheme="https",
                 backoff_base=0.5, backoff_cap=20.0, sleep=time.sleep, clock=time.monotonic):
        if auth not in ("session", "basic"):
            raise ValueError("auth must be 'session' or 'basic', not %r" % (auth,))
        self.nodes = [parse_node(host, port or DEFAULT_PORT, scheme) for host in split_hosts(hosts)]
        if not self.nodes:
            raise ValueError("at least one host is needed")
        self.name = name or self.nodes[0].host
        self.username = username
        self._password = password
        self.auth = auth
        self.validate_certs = bool(validate_certs)
        self.ca_path = ca_path
        self.api_timeout = float(api_timeout)
        self.retry_budget = float(retry_budget)
        self.max_connections = max(1, int(max_connections))
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._clock = clock
        self._trace = _make_trace(trace)
        self._auth_lock = threading.RLock()
        self._count_lock = threading.Lock()
        self._local = threading.local()
        self._node_index = 0
        self._session = None
        self._latest = None
        self.requests_made = 0
        self.retries = 0
        self.logins = 0
        self._http = self._new_http_session()

    # ---- public API ------------------------------------------------------------------

    q = staticmethod(q)

    @property
    def node(self):
        """The node address calls currently go to."""
        return self.nodes[self._node_index]

    def get(self, path, query=None, obj=None):
        """GET a PAPI path; the parsed JSON answer."""
        return _json_body(self.request("GET", path, query=query, obj=obj), self, "GET", path)

    def get_item(self, path, key, query=None, obj=None):
        """The single element of a one-element GET (``{key: [item]}``), or None on 404."""
        try:
            data = self.get(path, query=query, obj=obj)
        except NotFoundError:
            return None
        items = data.get(key) or []
        return items[0] if items else None

    def list(self, path, key, query=None, obj=None, max_pages=MAX_PAGES):
        """Every item under ``key`` across ``resume`` pages.

        OneFS refuses ``resume`` combined with any other option, so follow-up
        pages send ``resume`` alone.
        """
        items = []
        page_query = dict(query or {})
        for dummy in range(max_pages):
            data = self.get(path, query=page_query, obj=obj)
            items.extend(data.get(key) or [])
            token = data.get("resume")
            if not token:
                return items
            page_query = {"resume": token}
        raise OnefsError("more than %d pages" % max_pages, cluster=self.name, method="GET", path=path, obj=obj)

    def post(self, path, body=None, query=None, verify=None, retry_conflict=False, idempotent=False, obj=None):
        """POST; the parsed answer (``{}`` for an empty one).

        After a lost answer (reset, timeout, 502/503/504 after sending) the
        POST may or may not have been applied.  ``verify()`` then tells: a
        non-None result is taken as the POST's outcome and returned; None means
        it was not applied and the POST is sent again.  Without ``verify`` such
        a POST raises UnavailableError, unless ``idempotent=True`` says that
        sending it twice is harmless.
        """
        response = self.request("POST", path, query=query, body=body, verify=verify,
                                retry_conflict=retry_conflict, idempotent=idempotent, obj=obj)
        if not isinstance(response, _Response):
            return response          # the outcome found by verify()
        return _json_body(response, self, "POST", path)

    def put(self, path, body=None, query=None, retry_conflict=False, obj=None):
        """PUT (idempotent: retried after a lost answer); the parsed answer, usually ``{}``."""
        response = self.request("PUT", path, query=query, body=body, retry_conflict=retry_conflict, obj=obj)
        return _json_body(response, self, "PUT", path)

    def delete(self, path, query=None, retry_conflict=False, obj=None):
        """DELETE (idempotent: a 404 after a lost answer means the first one worked)."""
        response = self.request("DELETE", path, query=query, retry_conflict=retry_conflict, obj=obj)
        return _json_body(response, self, "DELETE", path)

    def latest_version(self):
        """The cluster's highest PAPI version, as an int (cached)."""
        if self._latest is None:
            data = self.get("/platform/latest")
            self._latest = int(str(data.get("latest", "1")).split(".", 1)[0])
        return self._latest

    # ---- namespace (/namespace/ifs/...) ----------------------------------------------

    @staticmethod
    def namespace_path(path):
        """``/namespace/ifs/a%20b`` from ``/ifs/a b`` or ``/namespace/ifs/a b`` (quoted here)."""
        path = str(path)
        if path.startswith("/ifs"):
            path = "/namespace" + path
        if not path.startswith("/namespace/"):
            raise ValueError("not a /ifs or /namespace path: %r" % path)
        return quote(path, safe="/")

    def get_raw(self, path, query=None):
        """The bytes of a file under /ifs, or None when it does not exist."""
        try:
            response = self.request("GET", self.namespace_path(path), query=query, obj=path)
        except NotFoundError:
            return None
        return response.content

    def put_raw(self, path, data, headers=None, query=None):
        """Write a file under /ifs (whole content; PUT is idempotent)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        sent = {"Content-Type": "application/octet-stream", "x-isi-ifs-target-type": "object"}
        sent.update(headers or {})
        response = self.request("PUT", self.namespace_path(path), query=query, data=data, headers=sent, obj=path)
        return _json_body(response, self, "PUT", path)

    def delete_raw(self, path, query=None):
        """Delete a file under /ifs; False when it did not exist."""
        try:
            self.request("DELETE", self.namespace_path(path), query=query, obj=path)
        except NotFoundError:
            return False
        return True

    # ---- lifecycle -------------------------------------------------------------------

    def close(self):
        """Log out (best effort, one attempt) and release the connections."""
        with self._auth_lock:
            session, self._session = self._session, None
        if session is not None:
            self._logout(session)
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def __repr__(self):
        return "PapiClient(%s, nodes=%s, auth=%s)" % (self.name, self.nodes, self.auth)

    # ---- the request loop ------------------------------------------------------------

    def request(self, method, path, query=None, body=None, data=None, headers=None, verify=None,
                retry_conflict=False, idempotent=None, obj=None):
        """Send one logical call with login, retries and node failover; the HTTP response.

        Raises a typed :class:`OnefsError` for any error answer.
        """
        if not path.startswith("/"):
            raise ValueError("PAPI paths are absolute: %r" % path)
        if idempotent is None:
            idempotent = method != "POST"
        outer = getattr(self._local, "deadline", None)
        budget = self.retry_budget if outer is None else max(0.0, min(self.retry_budget, outer - self._clock()))
        backoff = Backoff(budget, base=self._backoff_base, cap=self._backoff_cap, sleep=self._sleep, clock=self._clock)
        self._local.deadline = self._clock() + budget
        try:
            return self._loop(method, path, _encode_query(query), body, data, headers, verify,
                              retry_conflict, idempotent, obj, backoff)
        finally:
            self._local.deadline = outer

    def _loop(self, method, path, query, body, data, headers, verify, retry_conflict, idempotent, obj, backoff):
        where = dict(cluster=self.name, method=method, path=path, obj=obj)
        state = _CallState()
        for dummy in range(MAX_ATTEMPTS):
            node = self.node
            state.saw_node(node)
            state.attempts += 1
            try:
                session = self._session_for(node)
                response = self._send(node, method, path, query, body, data, headers, session)
            except _NotSent as exc:
                state.last = "%s: %s" % (node.netloc, exc)
                self._node_failed(node, state, backoff, where)
                continue
            except _LoginRetry as exc:
                state.last = exc.error
                self._pause(backoff, state, where, exc.retry_after)
                continue
            except _Lost as exc:
                state.last = "%s: %s" % (node.netloc, exc)
                outcome = self._after_lost(idempotent, verify, state, where, backoff)
                if outcome is not _RESEND:
                    return outcome
                state.lost_once = True
                self._node_failed(node, state, backoff, where)
                continue
            outcome = self._answer(response, session, state, where, retry_conflict, idempotent, verify, backoff)
            if outcome is not _RESEND:
                return outcome
        raise self._unavailable(state, where, backoff)

    def _answer(self, response, session, state, where, retry_conflict, idempotent, verify, backoff):
        """Handle an HTTP answer: the response to return, or _RESEND to go round again."""
        status = response.status_code
        if status < 400:
            return response
        if status == 401 and session is not None and not state.relogged:
            # Expired or revoked session: log in again once, then repeat the call.
            state.relogged = True
            self._drop_session(session)
            return _RESEND
        if status == 404 and where["method"] == "DELETE" and state.lost_once:
            return response          # the first DELETE worked; only its answer was lost
        error = self._error(response, where)
        if not is_retryable(status, error.code, retry_conflict):
            raise error
        state.last = error
        if status >= 500:
            state.lost_once = True   # a 5xx after sending may still have been applied
        if not idempotent and status >= 500:
            outcome = self._after_lost(idempotent, verify, state, where, backoff)
            if outcome is not _RESEND:
                return outcome
        self._pause(backoff, state, where, retry_after_seconds(response.headers.get("Retry-After")))
        return _RESEND

    def _after_lost(self, idempotent, verify, state, where, backoff):
        """After a lost answer: _RESEND when repeating is safe, else the verified outcome."""
        if idempotent:
            return _RESEND
        if verify is None:
            raise UnavailableError(
                "the answer was lost after the request was sent (%s); the POST may or may not have "
                "been applied, so it was not sent again" % (state.last,),
                elapsed=round(backoff.elapsed, 1), nodes=state.nodes, attempts=state.attempts, **where)
        try:
            result = verify()
        except OnefsError as err:
            raise UnavailableError(
                "the answer was lost after the request was sent (%s) and checking whether the POST "
                "was applied failed: %s" % (state.last, err),
                elapsed=round(backoff.elapsed, 1), nodes=state.nodes, attempts=state.attempts, **where)
        return _RESEND if result is None else result

    def _node_failed(self, node, state, backoff, where):
        """Move to the next node; pause only after a whole round of nodes failed."""
        state.node_failures += 1
        self._switch_node(node)
        if len(self.nodes) > 1 and state.node_failures % len(self.nodes):
            if backoff.remaining <= 0:
                raise self._unavailable(state, where, backoff)
            self._count_retry()
            return
        self._pause(backoff, state, where)

    def _pause(self, backoff, state, where, retry_after=None):
        if not backoff.wait(retry_after):
            raise self._unavailable(state, where, backoff)
        self._count_retry()

    def _unavailable(self, state, where, backoff):
        last = state.last
        status = getattr(last, "status", None)
        code = getattr(last, "code", None)
        reason = getattr(last, "message", None) or str(last or "no answer")
        message = "gave up after %.1f s and %d attempt(s) on node(s) %s (retry_budget %g s); last problem: %s" % (
            backoff.elapsed, state.attempts, ", ".join(state.nodes), backoff.budget_s, reason)
        return UnavailableError(message, status=status, code=code, elapsed=round(backoff.elapsed, 1),
                                nodes=state.nodes, attempts=state.attempts, **where)

    def _error(self, response, where):
        return error_from_response(response.status_code, response.text, response.headers.get("Content-Type"),
                                   reason=response.reason, **where)

    # ---- nodes and sessions ----------------------------------------------------------

    def _switch_node(self, failed):
        """Go to the node after ``failed`` (once, even when many threads saw it fail)."""
        if len(self.nodes) == 1:
            return
        with self._auth_lock:
            if self.nodes[self._node_index] is failed:
                self._node_index = (self._node_index + 1) % len(self.nodes)

    def _session_for(self, node):
        """The session valid on ``node`` (None with Basic auth), logging in when needed."""
        if self.auth != "session":
            return None
        session = self._session
        if session is not None and session.node is node:
            return session
        with self._auth_lock:
            # Another thread may have logged in while this one waited for the lock.
            session = self._session
            if session is not None and session.node is node:
                return session
            self._session = self._login(node)
            return self._session

    def _drop_session(self, session):
        """Forget ``session`` unless another thread already replaced it."""
        with self._auth_lock:
            if self._session is session:
                self._session = None

    def _login(self, node):
        body = {"username": self.username, "password": self._password, "services": ["platform", "namespace"]}
        try:
            response = self._send(node, "POST", SESSION_PATH, None, body, None, None, None)
        except _Lost as exc:
            # A login is harmless to repeat, and the call itself was not sent.
            raise _NotSent("login: %s" % exc)
        self._count(logins=1)
        where = dict(cluster=self.name, method="POST", path=SESSION_PATH)
        if response.status_code in (200, 201):
            return self._session_from(node, response, where)
        error = self._error(response, where)
        if response.status_code == 401:
            raise UnauthorizedError("login as %r refused: %s" % (self.username, error.message),
                                    status=401, code=error.code, **where)
        if is_retryable(response.status_code):
            raise _LoginRetry(error, retry_after_seconds(response.headers.get("Retry-After")))
        raise error

    def _session_from(self, node, response, where):
        cookies = _set_cookies(response)
        sessid = cookies.get("isisessid")
        if not sessid:
            raise OnefsError("login answer carried no isisessid cookie", status=response.status_code, **where)
        csrf = cookies.get("isicsrf") or response.headers.get("X-CSRF-Token")
        return _Session(node, sessid, csrf)

    def _logout(self, session):
        try:
            self._send(session.node, "DELETE", SESSION_PATH, None, None, None, None, session, timeout=5.0)
        except (_NotSent, _Lost, OnefsError):
            pass  # best effort: the session expires on its own

    def _renew_cookie(self, session, response):
        """OneFS 9.3+ hands out a replacement ``isisessid`` when the session nears expiry."""
        sessid = _set_cookies(response).get("isisessid")
        if sessid and sessid != session.sessid and sessid != "deleted":
            with self._auth_lock:
                if self._session is session:
                    session.sessid = sessid

    # ---- one HTTP exchange -----------------------------------------------------------

    def _send(self, node, method, path, query, body, data, headers, session, timeout=None):
        sent = {"Accept": "application/json", "Referer": node.origin}
        if session is not None:
            sent["Cookie"] = session.cookie_header()
            if session.csrf:
                sent["X-CSRF-Token"] = session.csrf
        sent.update(headers or {})
        auth = (self.username or "", self._password or "") if self.auth == "basic" else None
        started = time.monotonic()
        try:
            response = self._http.request(
                method, node.origin + path, params=query, json=body, data=data, headers=sent, auth=auth,
                timeout=(min(CONNECT_TIMEOUT, timeout or self.api_timeout), timeout or self.api_timeout),
                verify=self._verify(), allow_redirects=False)
        except Exception as exc:  # classified below; never leaves this method unclassified
            self._record(node, method, path, None, started, type(exc).__name__)
            raise self._classify(exc, node, method, path)
        self._record(node, method, path, response.status_code, started)
        if session is not None:
            self._renew_cookie(session, response)
        return _Response(response)

    def _classify(self, exc, node, method, path):
        """Turn a requests/urllib3 exception into _NotSent, _Lost or TlsError."""
        import requests

        reason = _reason(exc)
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                            requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader)):
            return OnefsError("invalid request: %s" % reason, cluster=self.name, method=method, path=path)
        if isinstance(exc, requests.exceptions.SSLError) and _is_cert_problem(reason):
            hint = ("give the cluster's CA certificate with ca_path (ONEFS_CA_PATH)" if not self.ca_path
                    else "ca_path %s does not sign it" % self.ca_path)
            return TlsError("the TLS certificate of %s was refused (%s); %s, or set validate_certs: false "
                            "only in a lab" % (node.origin, reason, hint),
                            cluster=self.name, method=method, path=path)
        if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
            return _NotSent(reason)
        if isinstance(exc, requests.exceptions.ConnectionError) and _never_connected(exc):
            return _NotSent(reason)
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                            requests.exceptions.ChunkedEncodingError)):
            return _Lost(reason)
        if isinstance(exc, requests.exceptions.RequestException):
            return _Lost(reason)
        raise exc

    def _verify(self):
        if not self.validate_certs:
            return False
        return self.ca_path or True

    def _new_http_session(self):
        import http.cookiejar

        import requests
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        # Cookies are handled by hand per session (node-local, replaced on re-login);
        # a shared jar mutated by many threads would send stale ones.
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        adapter = HTTPAdapter(pool_connections=max(1, len(self.nodes)), pool_maxsize=self.max_connections,
                              pool_block=True, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        if not self.validate_certs:
            import urllib3

            # The module warns once; one warning per request would drown the output.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        return session

    # ---- counters and trace ----------------------------------------------------------

    def _count(self, requests_made=0, retries=0, logins=0):
        with self._count_lock:
            self.requests_made += requests_made
            self.retries += retries
            self.logins += logins

    def _count_retry(self):
        self._count(retries=1)

    def _record(self, node, method, path, status, started, error=None):
        self._count(requests_made=1)
        if self._trace is None:
            return
        entry = {"cluster": self.name, "method": method, "path": path, "status": status,
                 "duration_ms": round((time.monotonic() - started) * 1000.0, 1), "node": node.netloc}
        if error:
            entry["error"] = error
        self._trace(entry)


class _Response:
    """The part of a requests response the callers use (keeps requests out of their imports)."""

    def __init__(self, response):
        self.status_code = response.status_code
        self.headers = response.headers
        self.reason = response.reason
        self.content = response.content
        self.raw = response.raw
        self.cookies = response.cookies

    @property
    def text(self):
        return self.content.decode("utf-8", "replace")


def _json_body(response, client, method, path):
    if not response.content or not response.content.strip():
        return {}
    try:
        return json.loads(response.content.decode("utf-8"))
    except ValueError:
        raise OnefsError("the answer is not JSON: %r" % response.content[:200], status=response.status_code,
                         cluster=client.name, method=method, path=path)


def _never_connected(exc):
    """True when urllib3 says the TCP connection was never established."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    cause = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError)


def _make_trace(trace):
    """A callable receiving one dict per HTTP request, from a callable or a file path."""
    if trace is None or trace == "":
        return None
    if callable(trace):
        return trace
    return _FileTrace(str(trace))


class _FileTrace:
    """Appends one JSON line per request (no bodies, no headers: nothing secret)."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()

    def __call__(self, entry):
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self._lock:
            with open(self.path, "a") as handle:
                handle.write(line)
