"""The contract between the HTTP layer of the mock and its resource handlers.

Every resource module under ``onefs_mock.resources`` registers its handlers
with :func:`route`.  A handler receives a :class:`Request` and the
:class:`~onefs_mock.state.Cluster` the request arrived on, and returns a
:class:`Response` (or a plain ``dict`` for a ``200`` JSON body, or ``None``
for ``204``).  It raises :class:`ApiError` for any OneFS-style error.  The
HTTP layer owns authentication, versions, fault injection, latency, the
request log and the JSON encoding; handlers only see domain data.

Path templates use ``{name}`` placeholders.  ``{v}`` is the PAPI version
number: the router checks it against ``min_version`` and ``latest`` and puts
the integer into ``request.version``.  ``{id}``-style placeholders match one
URL-decoded path segment; a placeholder written ``{name:path}`` matches the
rest of the path (used by the namespace API).
"""

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import unquote

# Highest PAPI version the simulated clusters answer for GET /platform/latest.
LATEST_PAPI = 16


class ApiError(Exception):
    """An error the way OneFS reports it: status plus one error entry."""

    def __init__(self, status: int, code: Optional[str], message: str, field_name: Optional[str] = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field_name

    def body(self) -> Dict[str, Any]:
        entry: Dict[str, Any] = {"message": self.message}
        if self.code:
            entry["code"] = self.code
        if self.field:
            entry["field"] = self.field
        return {"errors": [entry]}


def bad_request(message: str, field_name: Optional[str] = None) -> ApiError:
    return ApiError(400, "AEC_BAD_REQUEST", message, field_name)


def not_found(message: str) -> ApiError:
    return ApiError(404, "AEC_NOT_FOUND", message)


def exists(message: str) -> ApiError:
    return ApiError(409, "AEC_EXISTS", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "AEC_CONFLICT", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "AEC_FORBIDDEN", message)


@dataclass
class Request:
    method: str
    path: str
    params: Dict[str, str]              # path placeholders, URL-decoded
    query: Dict[str, str]               # last value wins, like OneFS
    body: Any                           # parsed JSON (dict/list) or None; raw bytes for namespace PUT
    headers: Dict[str, str]
    user: Optional[Dict[str, Any]] = None   # the authenticated user record
    version: Optional[int] = None           # PAPI version from the URL, when the route has {v}
    raw_body: bytes = b""

    def flag(self, name: str) -> bool:
        """A boolean query option the way OneFS reads it (true/1/yes)."""
        return str(self.query.get(name, "")).lower() in ("true", "1", "yes")


@dataclass
class Response:
    status: int = 200
    body: Any = None                          # dict -> JSON; bytes -> raw; None -> empty
    headers: Dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


Handler = Callable[[Request, Any], Any]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    min_version: int
    write: bool
    privilege: Optional[str]
    regex: "re.Pattern[str]"
    names: List[str]


_ROUTES: List[Route] = []
_LOCK = threading.Lock()


def _compile(template: str) -> Tuple["re.Pattern[str]", List[str]]:
    names: List[str] = []
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", template.rstrip("/")):
        if part.startswith("{") and part.endswith("}"):
            name, _, kind = part[1:-1].partition(":")
            names.append(name)
            pattern += "(.+)" if kind == "path" else "([^/]+)"
        else:
            pattern += re.escape(part)
    return re.compile("^" + pattern + "/?$"), names


def route(method: str, template: str, min_version: int = 1, write: Optional[bool] = None,
          privilege: Optional[str] = None):
    """Register a handler.

    ``write`` defaults to True for every method but GET.  ``privilege`` names
    the OneFS RBAC privilege the call needs (``ISI_PRIV_SYNCIQ``,
    ``ISI_PRIV_NETWORK``, ``ISI_PRIV_AUTH``, ``ISI_PRIV_QUOTA``,
    ``ISI_PRIV_SMB``, ``ISI_PRIV_NFS``, ``ISI_PRIV_NS_IFS_ACCESS``, ...): a
    read-only user gets 403 ``AEC_FORBIDDEN`` naming it on any write.
    """

    def decorator(func: Handler) -> Handler:
        regex, names = _compile(template)
        is_write = method != "GET" if write is None else write
        with _LOCK:
            _ROUTES.append(Route(method, template, func, min_version, is_write, privilege, regex, names))
        return func

    return decorator


def match(method: str, path: str) -> Tuple[Optional[Route], Dict[str, str], bool]:
    """Find the route for a request.

    Returns ``(route, params, path_known)``; ``path_known`` tells a 405 (the
    path exists for another method) from a 404.
    """
    path_known = False
    for candidate in _ROUTES:
        found = candidate.regex.match(path)
        if not found:
            continue
        path_known = True
        if candidate.method != method:
            continue
        params = {name: unquote(value) for name, value in zip(candidate.names, found.groups())}
        return candidate, params, True
    return None, {}, path_known


def routes() -> List[Route]:
    return list(_ROUTES)


def check_fields(body: Any, allowed: set, what: str) -> Dict[str, Any]:
    """Reject bodies that are not objects or that carry unknown fields, as OneFS does."""
    if not isinstance(body, dict):
        raise bad_request("The request body for %s must be a JSON object" % what)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad_request("Field: %s is not a valid field for %s" % (unknown[0], what), unknown[0])
    return body


def single(key: str, item: Dict[str, Any]) -> Dict[str, Any]:
    """The one-element list envelope of a single GET."""
    return {key: [item]}


# --- state areas -------------------------------------------------------------
# Each resource module owns the data of its area.  It registers how to build
# that data from the scenario (``init``) and how to show it in the state dump
# (``dump``).  The data lives in ``cluster.store[area]`` (per cluster) or
# ``world.store[area]`` (shared by every cluster: AD domains, DNS).
# ``cluster`` exposes: name, store (dict), world, config (its scenario section).
# ``world`` exposes: clusters (dict name -> cluster), store (dict), lock (RLock
# guarding every change), now() (epoch seconds), find_cluster(host) -> cluster or None,
# config (the whole scenario).


@dataclass
class Area:
    name: str
    init: Optional[Callable[[Any, Dict[str, Any]], None]] = None        # (cluster, cluster_seed)
    dump: Optional[Callable[[Any], Any]] = None                         # (cluster) -> json
    world_init: Optional[Callable[[Any, Dict[str, Any]], None]] = None  # (world, scenario)
    world_dump: Optional[Callable[[Any], Any]] = None                   # (world) -> json


_AREAS: List[Area] = []


def register_area(name: str, init=None, dump=None, world_init=None, world_dump=None) -> None:
    _AREAS.append(Area(name, init, dump, world_init, world_dump))


def areas() -> List[Area]:
    return list(_AREAS)
