"""SMB shares (reference section 9.2).

``cluster.store["smb"]`` maps a zone name to ``{folded share name: share}``
(share names are case-insensitive on OneFS).  Every call takes ``?zone=``
(default System); a share's path must lie inside its zone's base path.

OneFS serialises SMB share configuration writes cluster-wide; many
concurrent share updates (failing over many zones at once) make some of them
fail with 409 ``AEC_CONFLICT``.  ``/_mock/smb`` reproduces that with two
knobs: ``conflict_rate`` (that fraction of share writes answers 409, from a
seeded random generator) and ``serialize_ms`` (after each share write the
cluster commits the change for that long; a share write arriving meanwhile
gets 409).
"""

import random
import time
import zlib
from typing import Any, Dict, List

from ..framework import ApiError, Response, bad_request, exists, not_found, register_area, route, single
from . import _shared

PRIV = "ISI_PRIV_SMB"

PERSONA_SPEC = {"id": "str", "name": "str", "type": "str"}
PERMISSION_SPEC = {"permission": ("full", "change", "read"), "permission_type": ("allow", "deny"),
                   "trustee": "obj"}
SHARE_SPEC = {
    "access_based_enumeration": "bool", "access_based_enumeration_root_only": "bool",
    "allow_delete_readonly": "bool", "allow_execute_always": "bool", "allow_variable_expansion": "bool",
    "auto_create_directory": "bool", "browsable": "bool", "ca_timeout": "int 2..6000",
    "ca_write_integrity": ("none", "write-read-coherent", "full"),
    "change_notify": ("all", "norecurse", "none"), "continuously_available": "bool",
    "create_permissions": ("default acl", "inherit mode bits", "use create mask and mode"),
    "csc_policy": ("manual", "documents", "programs", "none"), "description": "str",
    "directory_create_mask": "int 0..511", "directory_create_mode": "int 0..511", "file_create_mask": "int 0..511",
    "file_create_mode": "int 0..511", "file_filter_extensions": "list[str]", "file_filter_type": ("deny", "allow"),
    "file_filtering_enabled": "bool", "hide_dot_files": "bool", "host_acl": "list[str]",
    "impersonate_guest": ("always", "bad user", "never"), "impersonate_user": "str",
    "inheritable_path_acl": "bool", "mangle_byte_start": "int 0..65535", "mangle_map": "list[str]", "name": "str",
    "ntfs_acl_support": "bool", "oplocks": "bool", "path": "str", "permissions": "list[obj]",
    "run_as_root": "list[obj]", "smb3_encryption_enabled": "bool", "sparse_file": "bool",
    "strict_ca_lockout": "bool", "strict_flush": "bool", "strict_locking": "bool", "zone": "str",
}
CREATE_SPEC = dict(SHARE_SPEC, create_path="bool")
EVERYONE = {"id": "SID:S-1-1-0", "name": "Everyone", "type": "wellknown"}
WELL_KNOWN = {"everyone": EVERYONE,
              "root": {"id": "UID:0", "name": "root", "type": "user"},
              "administrators": {"id": "SID:S-1-5-32-544", "name": "Administrators", "type": "group"}}
NAME_LIMIT = 511
_BAD_NAME_CHARS = set('"\\/[]:|<>+=;,*?')


def _store(cluster: Any) -> Dict[str, Dict[str, Dict[str, Any]]]:
    return cluster.store.setdefault("smb", {})


def _zone_shares(cluster: Any, zone: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return _store(cluster).setdefault(zone["name"], {})


def _defaults(name: str, path: str, zone: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "access_based_enumeration": False, "access_based_enumeration_root_only": False,
        "allow_delete_readonly": False, "allow_execute_always": False, "allow_variable_expansion": False,
        "auto_create_directory": False, "browsable": True, "ca_timeout": 120,
        "ca_write_integrity": "write-read-coherent", "change_notify": "norecurse",
        "continuously_available": False, "create_permissions": "default acl", "csc_policy": "manual",
        "description": "", "directory_create_mask": 448, "directory_create_mode": 0,
        "file_create_mask": 448, "file_create_mode": 64, "file_filter_extensions": [],
        "file_filter_type": "deny", "file_filtering_enabled": False, "hide_dot_files": False,
        "host_acl": [], "id": name, "impersonate_guest": "never", "impersonate_user": "",
        "inheritable_path_acl": False, "mangle_byte_start": 60672, "mangle_map": [], "name": name,
        "ntfs_acl_support": True, "oplocks": True, "path": path,
        "permissions": [{"permission": "read", "permission_type": "allow", "trustee": dict(EVERYONE)}],
        "run_as_root": [], "smb3_encryption_enabled": False, "sparse_file": False,
        "strict_ca_lockout": True, "strict_flush": True, "strict_locking": False,
        "zid": zone["zone_id"], "zone": zone["name"],
    }


# --- validation ----------------------------------------------------------------------------------

def persona(item: Any, field: str) -> Dict[str, Any]:
    """A trustee/persona with an id, resolving well-known names like OneFS does."""
    item = _shared.validate(item, PERSONA_SPEC, field)
    if not item.get("id") and not item.get("name"):
        raise bad_request("Field: %s needs an id or a name" % field, field)
    known = WELL_KNOWN.get((item.get("name") or "").lower())
    if not item.get("id"):
        if known:
            return dict(known)
        # A stable pseudo-SID so a name resolves the same way every time.
        rid = 1000 + zlib.crc32(item["name"].lower().encode()) % 100000
        return {"id": "SID:S-1-5-21-1004336348-1177238915-682003330-%d" % rid, "name": item["name"],
                "type": item.get("type") or "user"}
    if ":" not in item["id"]:
        raise bad_request("Field: %s.id must look like SID:S-1-1-0, UID:0 or GID:0" % field, field)
    return {"id": item["id"], "name": item.get("name") or (known or {}).get("name"),
            "type": item.get("type") or (known or {}).get("type") or "user"}


def _permissions(items: List[Any]) -> List[Dict[str, Any]]:
    result = []
    for item in items:
        entry = _shared.validate(item, PERMISSION_SPEC, "share permission",
                                 required=("permission", "permission_type", "trustee"))
        result.append({"permission": entry["permission"], "permission_type": entry["permission_type"],
                       "trustee": persona(entry["trustee"], "trustee")})
    return result


def _check_name(name: str) -> None:
    if not name or len(name) > NAME_LIMIT or any(ch in _BAD_NAME_CHARS for ch in name):
        raise ApiError(400, "AEC_NAMEILLEGAL", "Invalid share name %r" % name, "name")


def _normalise(body: Dict[str, Any], zone: Dict[str, Any]) -> Dict[str, Any]:
    clean = dict(body)
    if "name" in clean:
        _check_name(clean["name"])
    if "path" in clean:
        clean["path"] = _shared.check_in_zone(clean["path"], zone)
    if "permissions" in clean:
        clean["permissions"] = _permissions(clean["permissions"])
    if "run_as_root" in clean:
        clean["run_as_root"] = [persona(item, "run_as_root") for item in clean["run_as_root"]]
    for key, value in list(clean.items()):
        if isinstance(value, list) and key not in ("permissions", "run_as_root"):
            clean[key] = list(value)
    return clean


def _find(cluster: Any, zone: Dict[str, Any], name: str) -> Dict[str, Any]:
    found = _zone_shares(cluster, zone).get(_shared.fold(name))
    if found is None:
        raise not_found("SMB share %s not found in zone %s" % (name, zone["name"]))
    return found


# --- share-config serialisation and injected conflicts -------------------------------------------

def _faults(cluster: Any) -> Dict[str, Any]:
    return cluster.store.setdefault("smb_faults", _new_faults())


def _new_faults(conflict_rate: float = 0.0, seed: Any = None, serialize_ms: int = 0) -> Dict[str, Any]:
    return {"conflict_rate": conflict_rate, "seed": seed, "serialize_ms": serialize_ms,
            "rng": random.Random(seed), "writes": 0, "conflicts_injected": 0, "conflicts_busy": 0,
            "busy_until": 0.0}


class _ShareWrite:
    """Context for one share write: refuses it with 409 when the knobs say so.

    ``serialize_ms`` models OneFS committing share configuration cluster-wide
    after it answers: until that commit is done, another share write is
    refused.  (Handlers run under the world lock, so the commit window is
    kept as a deadline rather than by sleeping.)
    """

    def __init__(self, cluster: Any):
        self.cluster = cluster

    def __enter__(self):
        with self.cluster.world.lock:
            faults = _faults(self.cluster)
            faults["writes"] += 1
            if faults["conflict_rate"] and faults["rng"].random() < faults["conflict_rate"]:
                faults["conflicts_injected"] += 1
                raise _busy()
            now = time.monotonic()
            if now < faults["busy_until"]:
                faults["conflicts_busy"] += 1
                raise _busy()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            with self.cluster.world.lock:
                faults = _faults(self.cluster)
                faults["busy_until"] = time.monotonic() + faults["serialize_ms"] / 1000.0
        return False


def _busy() -> ApiError:
    return ApiError(409, "AEC_CONFLICT",
                    "Unable to modify SMB share configuration: another configuration change is in progress")


# --- seed and dump ----------------------------------------------------------------------------------

def init(cluster: Any, seed: Dict[str, Any]) -> None:
    cluster.store["smb"] = {}
    cluster.store["smb_faults"] = _new_faults()
    for item in seed.get("smb_shares") or []:
        body = dict(item)
        zone = _shared.find_zone(cluster, body.pop("zone", None))
        _create(cluster, zone, body, seeding=True)


def dump(cluster: Any) -> List[Dict[str, Any]]:
    return [dict(share) for shares in _store(cluster).values() for share in shares.values()]


register_area("smb_shares", init=init, dump=dump)


def _create(cluster: Any, zone: Dict[str, Any], body: Any, seeding: bool = False) -> Dict[str, Any]:
    body = _shared.validate(body, CREATE_SPEC, "SMB share", required=("name", "path"))
    if "zone" in body:
        zone = _shared.find_zone(cluster, body["zone"])
    clean = _normalise(body, zone)
    shares = _zone_shares(cluster, zone)
    if _shared.fold(clean["name"]) in shares:
        raise exists("SMB share %s already exists in zone %s" % (clean["name"], zone["name"]))
    _shared.ensure_directory(cluster, clean["path"], bool(clean.get("create_path")), seeding=seeding)
    clean.pop("create_path", None)
    clean.pop("zone", None)
    record = dict(_defaults(clean["name"], clean["path"], zone), **clean)
    shares[_shared.fold(record["name"])] = record
    return record


# --- API ----------------------------------------------------------------------------------------------

@route("GET", "/platform/{v}/protocols/smb/shares", privilege=PRIV)
def list_shares(req, cluster):
    query = _shared.list_query(req.query)
    zone = _shared.find_zone(cluster, query.get("zone"))
    with cluster.world.lock:
        items = [dict(share) for share in _zone_shares(cluster, zone).values()]
    return _shared.page(items, query, "shares", digest=True)


@route("POST", "/platform/{v}/protocols/smb/shares", privilege=PRIV)
def create_share(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    _shared.validate(req.body, CREATE_SPEC, "SMB share", required=("name", "path"))
    with _ShareWrite(cluster):
        with cluster.world.lock:
            record = _create(cluster, zone, req.body)
    return Response(201, {"id": record["name"]})


@route("DELETE", "/platform/{v}/protocols/smb/shares", privilege=PRIV)
def delete_all_shares(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    with _ShareWrite(cluster):
        with cluster.world.lock:
            _zone_shares(cluster, zone).clear()
    return None


@route("GET", "/platform/{v}/protocols/smb/shares/{share}", privilege=PRIV)
def get_share(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    with cluster.world.lock:
        return single("shares", dict(_find(cluster, zone, req.params["share"])))


@route("PUT", "/platform/{v}/protocols/smb/shares/{share}", privilege=PRIV)
def update_share(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    body = _shared.validate(req.body, SHARE_SPEC, "SMB share")
    _shared.require_change(body, "SMB share")
    with _ShareWrite(cluster):
        with cluster.world.lock:
            record = _find(cluster, zone, req.params["share"])
            target = _shared.find_zone(cluster, body["zone"]) if "zone" in body else zone
            clean = _normalise(body, target)
            if "path" in clean:
                _shared.ensure_directory(cluster, clean["path"], False)
            if "path" not in clean and target["name"] != zone["name"]:
                _shared.check_in_zone(record["path"], target)
            clean.pop("zone", None)
            _apply(cluster, zone, target, record, clean)
    return None


def _apply(cluster, zone, target, record, clean) -> None:
    """Apply a PUT: rename and zone moves re-key the share."""
    old_key = _shared.fold(record["name"])
    new_name = clean.get("name", record["name"])
    new_key = _shared.fold(new_name)
    target_shares = _zone_shares(cluster, target)
    if (target["name"] != zone["name"] or new_key != old_key) and new_key in target_shares:
        raise exists("SMB share %s already exists in zone %s" % (new_name, target["name"]))
    record.update(clean)
    record["id"] = new_name
    record["zone"], record["zid"] = target["name"], target["zone_id"]
    del _zone_shares(cluster, zone)[old_key]
    target_shares[new_key] = record


@route("DELETE", "/platform/{v}/protocols/smb/shares/{share}", privilege=PRIV)
def delete_share(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    with _ShareWrite(cluster):
        with cluster.world.lock:
            _find(cluster, zone, req.params["share"])
            del _zone_shares(cluster, zone)[_shared.fold(req.params["share"])]
    return None


@route("GET", "/platform/{v}/protocols/smb/shares-summary", privilege=PRIV)
def shares_summary(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    with cluster.world.lock:
        return {"summary": {"count": len(_zone_shares(cluster, zone))}}


# --- control: /_mock/smb ---------------------------------------------------------------------------------

def _fault_view(cluster: Any) -> Dict[str, Any]:
    faults = _faults(cluster)
    return {key: value for key, value in faults.items() if key not in ("rng", "busy_until")}


@route("GET", "/_mock/smb")
def get_smb_faults(req, cluster):
    with cluster.world.lock:
        return _fault_view(cluster)


@route("POST", "/_mock/smb")
def set_smb_faults(req, cluster):
    body = _shared.validate(req.body if req.body is not None else {},
                            {"conflict_rate": "float", "seed": "any", "serialize_ms": "int"}, "smb faults")
    rate = body.get("conflict_rate", 0.0)
    if not 0.0 <= rate <= 1.0:
        raise bad_request("conflict_rate must be between 0 and 1", "conflict_rate")
    if body.get("serialize_ms", 0) < 0:
        raise bad_request("serialize_ms must not be negative", "serialize_ms")
    with cluster.world.lock:
        cluster.store["smb_faults"] = _new_faults(rate, body.get("seed"), body.get("serialize_ms", 0))
        return _fault_view(cluster)


@route("DELETE", "/_mock/smb")
def clear_smb_faults(req, cluster):
    with cluster.world.lock:
        cluster.store["smb_faults"] = _new_faults()
    return None
