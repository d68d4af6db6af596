"""Small helpers shared by the network, ADS, quota, SMB and NFS areas.

Field validation the way OneFS does it (wrong type or unknown field -> 400
naming the field), list paging with ``limit``/``resume``/``offset``, and a
defensive view of the access zones (owned by another area).
"""

import base64
import binascii
import hashlib
import json
from typing import Any, Dict, Iterable, List, Optional

from ..framework import ApiError, bad_request, check_fields

# --- field validation ----------------------------------------------------------
# A spec maps a field name to one of: "str", "int", "bool", "float",
# "list[str]", "list[int]", "list[obj]", "obj", "any", or a tuple of allowed
# strings (an enum).  A trailing "?" ("int?") also accepts JSON null.  Numbers
# may carry the bounds of the OneFS spec: "int 576..9000", "float? 0.01..99.99".

_SCALARS = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "obj": (dict,),
}


def _split_bounds(kind: Any):
    if isinstance(kind, str) and " " in kind:
        base, _, bounds = kind.partition(" ")
        low, _, high = bounds.partition("..")
        return base, float(low), float(high)
    return kind, None, None


def _type_ok(value: Any, kind: Any) -> bool:
    kind, low, high = _split_bounds(kind)
    if low is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not low <= value <= high:
            return False
    if isinstance(kind, tuple):
        return isinstance(value, str) and value in kind
    if kind == "any":
        return True
    nullable = kind.endswith("?")
    kind = kind.rstrip("?")
    if value is None:
        return nullable
    if kind.startswith("list["):
        inner = kind[5:-1]
        return isinstance(value, list) and all(_type_ok(item, inner) for item in value)
    types = _SCALARS[kind]
    if isinstance(value, bool) and bool not in types:
        return False              # JSON true is not an integer for OneFS
    return isinstance(value, types)


def _describe(kind: Any) -> str:
    kind, low, high = _split_bounds(kind)
    if low is not None:
        return "%s between %g and %g" % (_describe(kind), low, high)
    if isinstance(kind, tuple):
        return "one of " + ", ".join(kind)
    return {"str": "a string", "int": "an integer", "bool": "a boolean", "float": "a number",
            "obj": "an object"}.get(kind.rstrip("?"), kind.rstrip("?"))


def validate(body: Any, spec: Dict[str, Any], what: str, required: Iterable[str] = ()) -> Dict[str, Any]:
    """Check a POST/PUT body: object, known fields, types, required fields."""
    check_fields(body, set(spec), what)
    for name in required:
        if body.get(name) is None:
            raise ApiError(400, "AEC_ARG_REQUIRED", "Field: %s is required for %s" % (name, what), name)
    for name, value in body.items():
        if not _type_ok(value, spec[name]):
            raise bad_request("Field: %s has an invalid value: expected %s" % (name, _describe(spec[name])), name)
    return body


def require_non_empty(body: Dict[str, Any], fields: Iterable[str], what: str) -> None:
    for name in fields:
        if name in body and isinstance(body[name], str) and not body[name].strip():
            raise ApiError(400, "AEC_NAMEEMPTY", "Field: %s of %s must not be empty" % (name, what), name)


def require_change(body: Dict[str, Any], what: str) -> None:
    if not body:
        raise bad_request("The request body for %s must contain at least one field" % what)


# --- paging ----------------------------------------------------------------------

def _encode_resume(offset: int, query: Dict[str, str]) -> str:
    raw = json.dumps({"o": offset, "q": query}, sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_resume(token: str) -> Dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        offset = int(data["o"])
        query = dict(data["q"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise bad_request("Invalid resume token")
    if offset < 0:
        raise bad_request("Invalid resume token")
    return {"offset": offset, "query": {str(k): str(v) for k, v in query.items()}}


def _int_option(query: Dict[str, str], name: str, low: int) -> Optional[int]:
    if name not in query:
        return None
    try:
        value = int(query[name])
    except ValueError:
        raise bad_request("Invalid value for %s: %r is not an integer" % (name, query[name]), name)
    if value < low:
        raise bad_request("Invalid value for %s: must be >= %d" % (name, low), name)
    return value


def list_query(query: Dict[str, str]) -> Dict[str, str]:
    """The effective list options: the request's, or those stored in its resume token.

    OneFS refuses any other option next to ``resume`` (the token carries them).
    """
    if "resume" not in query:
        return dict(query)
    others = sorted(set(query) - {"resume"})
    if others:
        raise bad_request("Argument %s may not be combined with resume" % others[0], others[0])
    state = _decode_resume(query["resume"])
    merged = dict(state["query"])
    merged["__offset"] = str(state["offset"])
    return merged


def page(items: List[Dict[str, Any]], query: Dict[str, str], key: str, total: bool = True,
         digest: bool = False) -> Dict[str, Any]:
    """One page of ``items`` (already filtered) with ``resume``/``total``/``digest``.

    ``query`` is the result of :func:`list_query`.
    """
    items = _sorted(items, query)
    start = int(query.get("__offset", 0))
    if "__offset" not in query:
        start = _int_option(query, "offset", 0) or 0
    limit = _int_option(query, "limit", 1)
    end = len(items) if limit is None else min(len(items), start + limit)
    body: Dict[str, Any] = {key: items[start:end]}
    stored = {k: v for k, v in query.items() if not k.startswith("__") and k != "offset"}
    body["resume"] = _encode_resume(end, stored) if end < len(items) else None
    if total:
        body["total"] = len(items)
    if digest:
        body["digest"] = content_digest(items)
    return body


def _sorted(items: List[Dict[str, Any]], query: Dict[str, str]) -> List[Dict[str, Any]]:
    field = query.get("sort")
    direction = query.get("dir", "ASC")
    if direction not in ("ASC", "DESC"):
        raise bad_request("Invalid value for dir: must be ASC or DESC", "dir")
    if not field:
        return items if direction == "ASC" else list(reversed(items))
    return sorted(items, key=lambda item: _sort_key(item.get(field)), reverse=direction == "DESC")


def _sort_key(value: Any):
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True))


def content_digest(items: List[Dict[str, Any]]) -> str:
    """A stable digest of a list's content, like the ``digest`` of SMB/NFS lists."""
    raw = json.dumps(items, sort_keys=True).encode()
    return hashlib.sha1(raw).hexdigest()


def bool_query(query: Dict[str, str], name: str) -> Optional[bool]:
    if name not in query:
        return None
    value = str(query[name]).lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise bad_request("Invalid value for %s: %r is not a boolean" % (name, query[name]), name)


# --- paths and access zones -------------------------------------------------------

def norm_path(path: str) -> str:
    """``/ifs/data//x/`` -> ``/ifs/data/x`` (OneFS stores paths without a trailing slash)."""
    parts = [part for part in path.split("/") if part]
    return "/" + "/".join(parts)


def is_inside(path: str, base: str) -> bool:
    path, base = norm_path(path), norm_path(base)
    return path == base or path.startswith(base.rstrip("/") + "/")


def check_ifs_path(path: str, field: str = "path") -> str:
    if not isinstance(path, str) or not path.startswith("/ifs"):
        raise bad_request("Field: %s must be an absolute path under /ifs" % field, field)
    normalised = norm_path(path)
    if normalised != "/ifs" and not normalised.startswith("/ifs/"):
        raise bad_request("Field: %s must be an absolute path under /ifs" % field, field)
    if any(part in (".", "..") for part in normalised.split("/")):
        raise bad_request("Field: %s must not contain . or .. components" % field, field)
    return normalised


def zone_records(cluster: Any) -> List[Dict[str, Any]]:
    """The cluster's access zones as ``[{name, path, zone_id}]``.

    Zones belong to another area; read whatever shape it keeps (a dict keyed
    by name or a list), fall back to the scenario, then to System=/ifs.
    """
    raw = cluster.store.get("zones")
    if raw is None:
        raw = (getattr(cluster, "config", None) or {}).get("zones")
    if isinstance(raw, dict) and isinstance(raw.get("zones"), list):
        raw = raw["zones"]                  # the zones area keeps {"zones": [...], "next_id": n}
    if isinstance(raw, dict):
        raw = [dict(value, name=value.get("name", key)) if isinstance(value, dict) else {"name": key}
               for key, value in raw.items()]
    zones = []
    for index, zone in enumerate(raw or []):
        if not isinstance(zone, dict) or not zone.get("name"):
            continue
        zones.append({"name": zone["name"], "path": zone.get("path") or "/ifs",
                      "zone_id": zone.get("zone_id", index + 1)})
    if not any(zone["name"] == "System" for zone in zones):
        zones.insert(0, {"name": "System", "path": "/ifs", "zone_id": 1})
    return zones


def find_zone(cluster: Any, name: Optional[str]) -> Dict[str, Any]:
    """The zone a ``?zone=`` option names (default System); 404 if unknown."""
    wanted = name or "System"
    for zone in zone_records(cluster):
        if zone["name"].lower() == wanted.lower() or str(zone["zone_id"]) == wanted:
            return zone
    raise ApiError(404, "AEC_NOT_FOUND", "Access zone '%s' not found" % wanted)


def check_in_zone(path: str, zone: Dict[str, Any], field: str = "path") -> str:
    normalised = check_ifs_path(path, field)
    if not is_inside(normalised, zone["path"]):
        raise bad_request("Path %s is not within the base path %s of access zone %s"
                          % (normalised, zone["path"], zone["name"]), field)
    return normalised


def fold(name: str) -> str:
    """Case-insensitive key (share names, DNS names, SPNs)."""
    return name.lower()


def dns_name(name: str) -> str:
    return name.strip().rstrip(".").lower()


def ensure_directory(cluster: Any, path: str, create: bool, field: str = "path", seeding: bool = False) -> None:
    """A share or export path must be an existing directory unless asked to create it.

    UNVERIFIED status code: OneFS refuses a missing path ("use create_path");
    we answer 400 naming the field.  Scenario loading creates missing paths.
    """
    from . import namespace                 # the namespace area owns the file tree
    if namespace.is_dir(cluster, path):
        return
    if namespace.exists(cluster, path):
        raise bad_request("Path %s is not a directory" % path, field)
    if not (create or seeding):
        raise bad_request("Path %s does not exist (set create_path to create it)" % path, field)
    namespace.mkdirs(cluster, path, check=not seeding)
