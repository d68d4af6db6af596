"""NFS exports and aliases (reference section 9.3).

``cluster.store["nfs"]`` = ``{"exports": {int id: export}, "next_id": n,
"aliases": {zone: {alias name: alias}}}``.  Export ids are integers unique
on the cluster; every call takes ``?zone=`` (default System) and only sees
that zone's objects.

Duplicate export path in one zone: a GOI comment says OneFS answers 500; we
answer 409 ``AEC_CONFLICT`` (OneFS maps EEXIST to it, and a 500 would be
indistinguishable from a crash), unless ``force`` or ``ignore_conflicts``
is set.  Alias ids start with ``/`` and arrive ``%2F``-encoded in the URL.
"""

from typing import Any, Dict, List

from ..framework import ApiError, Response, bad_request, conflict, exists, register_area, route, single
from . import _shared
from .smb import persona

PRIV = "ISI_PRIV_NFS"

MAP_SPEC = {"enabled": "bool", "primary_group": "obj", "secondary_groups": "list[obj]", "user": "obj"}
FLAVORS = ("unix", "krb5", "krb5i", "krb5p")
MAPPINGS = ("map_all", "map_failure", "map_non_root", "map_root")
EXPORT_SPEC = {
    "all_dirs": "bool", "block_size": "int", "can_set_time": "bool", "case_insensitive": "bool",
    "case_preserving": "bool", "chown_restricted": "bool", "clients": "list[str]",
    "commit_asynchronous": "bool", "description": "str", "directory_transfer_size": "int 0..131072",
    "encoding": "str", "link_max": "int", "map_all": "obj", "map_failure": "obj", "map_full": "bool",
    "map_lookup_uid": "bool", "map_non_root": "obj", "map_retry": "bool", "map_root": "obj",
    "max_file_size": "int", "name_max_size": "int", "no_truncate": "bool", "paths": "list[str]",
    "read_only": "bool", "read_only_clients": "list[str]", "read_transfer_max_size": "int 0..1048576",
    "read_transfer_multiple": "int", "read_transfer_size": "int 0..131072", "read_write_clients": "list[str]",
    "readdirplus": "bool", "readdirplus_prefetch": "int", "return_32bit_file_ids": "bool",
    "root_clients": "list[str]", "security_flavors": "list[str]", "setattr_asynchronous": "bool",
    "snapshot": "str", "symlinks": "bool", "time_delta": "float 0..4294967295", "write_datasync_action": "str",
    "write_datasync_reply": "str", "write_filesync_action": "str", "write_filesync_reply": "str",
    "write_transfer_max_size": "int 0..1048576", "write_transfer_multiple": "int",
    "write_transfer_size": "int 0..524288",
    "write_unstable_action": "str", "write_unstable_reply": "str",
}
CREATE_SPEC = dict(EXPORT_SPEC, zone="str", create_path="bool")
ALIAS_SPEC = {"name": "str", "path": "str", "zone": "str"}
CLIENT_LISTS = ("clients", "read_only_clients", "read_write_clients", "root_clients")


def _store(cluster: Any) -> Dict[str, Any]:
    return cluster.store.setdefault("nfs", {"exports": {}, "next_id": 1, "aliases": {}})


def _mapping(enabled: bool, user: str) -> Dict[str, Any]:
    return {"enabled": enabled, "primary_group": {"id": None, "name": None, "type": None},
            "secondary_groups": [], "user": {"id": user, "name": None, "type": None}}


def _export_defaults(ident: int, zone: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "all_dirs": False, "block_size": 8192, "can_set_time": True, "case_insensitive": False,
        "case_preserving": True, "chown_restricted": False, "clients": [], "commit_asynchronous": False,
        "conflicting_paths": [], "description": "", "directory_transfer_size": 131072,
        "encoding": "DEFAULT", "id": ident, "link_max": 32767,
        "map_all": _mapping(False, "USER:nobody"), "map_failure": _mapping(False, "USER:nobody"),
        "map_full": True, "map_lookup_uid": False, "map_non_root": _mapping(False, "USER:nobody"),
        "map_retry": True, "map_root": _mapping(True, "USER:nobody"), "max_file_size": 9223372036854775807,
        "name_max_size": 255, "no_truncate": False, "paths": [], "read_only": False,
        "read_only_clients": [], "read_transfer_max_size": 1048576, "read_transfer_multiple": 512,
        "read_transfer_size": 131072, "read_write_clients": [], "readdirplus": True,
        "readdirplus_prefetch": 10, "return_32bit_file_ids": False, "root_clients": [],
        "security_flavors": ["unix"], "setattr_asynchronous": False, "snapshot": "-", "symlinks": True,
        "time_delta": 1e-9, "unresolved_clients": [], "write_datasync_action": "DATASYNC",
        "write_datasync_reply": "DATASYNC", "write_filesync_action": "FILESYNC",
        "write_filesync_reply": "FILESYNC", "write_transfer_max_size": 1048576,
        "write_transfer_multiple": 512, "write_transfer_size": 524288, "write_unstable_action": "UNSTABLE",
        "write_unstable_reply": "UNSTABLE", "zone": zone["name"],
    }


# --- validation ------------------------------------------------------------------------------------

def _check_mapping(value: Any, field: str) -> Dict[str, Any]:
    body = _shared.validate(value, MAP_SPEC, field)
    result = {"enabled": body.get("enabled", True),
              "primary_group": {"id": None, "name": None, "type": None},
              "secondary_groups": [], "user": {"id": "USER:nobody", "name": None, "type": None}}
    if body.get("user"):
        result["user"] = persona(body["user"], field + ".user")
    if body.get("primary_group"):
        result["primary_group"] = persona(body["primary_group"], field + ".primary_group")
    for item in body.get("secondary_groups") or []:
        result["secondary_groups"].append({"id": _shared.validate(item, {"id": "str"}, field).get("id")})
    return result


def _normalise(body: Dict[str, Any], zone: Dict[str, Any]) -> Dict[str, Any]:
    clean = {key: (list(value) if isinstance(value, list) else value) for key, value in body.items()}
    if "paths" in clean:
        if not clean["paths"]:
            raise ApiError(400, "AEC_ARG_REQUIRED", "Field: paths must list at least one path", "paths")
        clean["paths"] = [_shared.check_in_zone(path, zone, "paths") for path in clean["paths"]]
    for name in MAPPINGS:
        if name in clean:
            clean[name] = _check_mapping(clean[name], name)
    for flavor in clean.get("security_flavors") or []:
        if flavor not in FLAVORS:
            raise bad_request("Field: security_flavors has an invalid value %r" % flavor, "security_flavors")
    for name in CLIENT_LISTS:
        for client in clean.get(name) or []:
            if not client.strip() or " " in client.strip():
                raise bad_request("Field: %s has an invalid client %r" % (name, client), name)
    return clean


def _check_duplicates(cluster: Any, zone: Dict[str, Any], paths: List[str], skip: Any, force: bool) -> None:
    if force:
        return
    for export in _store(cluster)["exports"].values():
        if export["id"] == skip or export["zone"] != zone["name"]:
            continue
        shared = sorted(set(export["paths"]) & set(paths))
        if shared:
            raise conflict("Export %d in zone %s already exports path %s"
                           % (export["id"], zone["name"], shared[0]))


def _find_export(cluster: Any, zone: Dict[str, Any], raw_id: str) -> Dict[str, Any]:
    try:
        ident = int(raw_id)
    except ValueError:
        raise ApiError(404, "AEC_NOT_FOUND", "Export %s not found" % raw_id)
    export = _store(cluster)["exports"].get(ident)
    if export is None or export["zone"] != zone["name"]:
        raise ApiError(404, "AEC_NOT_FOUND", "Export %d not found in zone %s" % (ident, zone["name"]))
    return export


def _check_paths(cluster: Any, paths: List[str], create: bool, ignore_bad_paths: bool, seeding: bool = False) -> None:
    if ignore_bad_paths:
        return
    for path in paths:
        _shared.ensure_directory(cluster, path, create, "paths", seeding)


def _create_export(cluster: Any, zone: Dict[str, Any], body: Any, force: bool, ignore_bad_paths: bool = False,
                   seeding: bool = False) -> Dict[str, Any]:
    body = _shared.validate(body, CREATE_SPEC, "NFS export", required=("paths",))
    if "zone" in body:
        zone = _shared.find_zone(cluster, body["zone"])
    clean = _normalise(body, zone)
    clean.pop("zone", None)
    _check_duplicates(cluster, zone, clean["paths"], None, force)
    _check_paths(cluster, clean["paths"], bool(clean.pop("create_path", False)), ignore_bad_paths, seeding)
    store = _store(cluster)
    ident = store["next_id"]
    store["next_id"] = ident + 1
    record = dict(_export_defaults(ident, zone), **clean)
    store["exports"][ident] = record
    return record


# --- aliases ---------------------------------------------------------------------------------------------

def _zone_aliases(cluster: Any, zone: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return _store(cluster)["aliases"].setdefault(zone["name"], {})


def _check_alias_name(name: str) -> str:
    if not name.startswith("/") or len(name) < 2 or " " in name or "//" in name:
        raise ApiError(400, "AEC_NAMEILLEGAL", "Alias name %r must start with / and name a path" % name, "name")
    return name.rstrip("/") or name


def _alias_view(cluster: Any, alias: Dict[str, Any]) -> Dict[str, Any]:
    """``health`` follows the path: an alias to a missing directory is not ok."""
    from . import namespace
    if namespace.is_dir(cluster, alias["path"]):
        health = "ok"
    elif namespace.exists(cluster, alias["path"]):
        health = "path not directory"
    else:
        health = "path not found"
    return dict(alias, id=alias["name"], health=health)


def _find_alias(cluster: Any, zone: Dict[str, Any], name: str) -> Dict[str, Any]:
    found = _zone_aliases(cluster, zone).get(name)
    if found is None:
        raise ApiError(404, "AEC_NOT_FOUND", "Alias %s not found in zone %s" % (name, zone["name"]))
    return found


def _create_alias(cluster: Any, zone: Dict[str, Any], body: Any) -> Dict[str, Any]:
    body = _shared.validate(body, ALIAS_SPEC, "NFS alias", required=("name", "path"))
    if "zone" in body:
        zone = _shared.find_zone(cluster, body["zone"])
    name = _check_alias_name(body["name"])
    path = _shared.check_in_zone(body["path"], zone)
    aliases = _zone_aliases(cluster, zone)
    if name in aliases:
        raise exists("Alias %s already exists in zone %s" % (name, zone["name"]))
    record = {"name": name, "path": path, "zone": zone["name"]}
    aliases[name] = record
    return record


# --- seed and dump ----------------------------------------------------------------------------------------

def init(cluster: Any, seed: Dict[str, Any]) -> None:
    cluster.store["nfs"] = {"exports": {}, "next_id": 1, "aliases": {}}
    for item in seed.get("nfs_exports") or []:
        _create_export(cluster, _shared.find_zone(cluster, item.get("zone")), dict(item), force=False, seeding=True)
    for item in seed.get("nfs_aliases") or []:
        _create_alias(cluster, _shared.find_zone(cluster, item.get("zone")), dict(item))


def dump_exports(cluster: Any) -> List[Dict[str, Any]]:
    return [dict(export) for export in _store(cluster)["exports"].values()]


def dump_aliases(cluster: Any) -> List[Dict[str, Any]]:
    return [_alias_view(cluster, alias)
            for aliases in _store(cluster)["aliases"].values() for alias in aliases.values()]


register_area("nfs_exports", init=init, dump=dump_exports)
register_area("nfs_aliases", dump=dump_aliases)


# --- API: exports ----------------------------------------------------------------------------------------------

@route("GET", "/platform/{v}/protocols/nfs/exports", privilege=PRIV)
def list_exports(req, cluster):
    query = _shared.list_query(req.query)
    zone = _shared.find_zone(cluster, query.get("zone"))
    wanted = _shared.norm_path(query["path"]) if "path" in query else None
    with cluster.world.lock:
        items = [dict(e) for e in _store(cluster)["exports"].values()
                 if e["zone"] == zone["name"] and (wanted is None or wanted in e["paths"])]
    return _shared.page(items, query, "exports", digest=True)


@route("POST", "/platform/{v}/protocols/nfs/exports", privilege=PRIV)
def create_export(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    force = req.flag("force") or req.flag("ignore_conflicts")
    with cluster.world.lock:
        record = _create_export(cluster, zone, req.body, force, req.flag("ignore_bad_paths"))
    return Response(201, {"id": record["id"]})


@route("GET", "/platform/{v}/protocols/nfs/exports/{id}", privilege=PRIV)
def get_export(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    with cluster.world.lock:
        return single("exports", dict(_find_export(cluster, zone, req.params["id"])))


@route("PUT", "/platform/{v}/protocols/nfs/exports/{id}", privilege=PRIV)
def update_export(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    body = _shared.validate(req.body, EXPORT_SPEC, "NFS export")
    _shared.require_change(body, "NFS export")
    with cluster.world.lock:
        record = _find_export(cluster, zone, req.params["id"])
        clean = _normalise(body, zone)
        if "paths" in clean:
            force = req.flag("force") or req.flag("ignore_conflicts")
            _check_duplicates(cluster, zone, clean["paths"], record["id"], force)
            _check_paths(cluster, clean["paths"], False, req.flag("ignore_bad_paths"))
        record.update(clean)
    return None


@route("DELETE", "/platform/{v}/protocols/nfs/exports/{id}", privilege=PRIV)
def delete_export(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    with cluster.world.lock:
        record = _find_export(cluster, zone, req.params["id"])
        del _store(cluster)["exports"][record["id"]]
    return None


@route("GET", "/platform/{v}/protocols/nfs/exports-summary", privilege=PRIV)
def exports_summary(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    with cluster.world.lock:
        count = sum(1 for e in _store(cluster)["exports"].values() if e["zone"] == zone["name"])
    return {"summary": {"count": count}}


# --- API: aliases ----------------------------------------------------------------------------------------------

@route("GET", "/platform/{v}/protocols/nfs/aliases", min_version=2, privilege=PRIV)
def list_aliases(req, cluster):
    query = _shared.list_query(req.query)
    zone = _shared.find_zone(cluster, query.get("zone"))
    with cluster.world.lock:
        items = [_alias_view(cluster, alias) for alias in _zone_aliases(cluster, zone).values()]
    return _shared.page(items, query, "aliases")


@route("POST", "/platform/{v}/protocols/nfs/aliases", min_version=2, privilege=PRIV)
def create_alias(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    with cluster.world.lock:
        record = _create_alias(cluster, zone, req.body)
    return Response(201, {"id": record["name"], "health": _alias_view(cluster, record)["health"]})


@route("GET", "/platform/{v}/protocols/nfs/aliases/{alias}", min_version=2, privilege=PRIV)
def get_alias(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    with cluster.world.lock:
        return single("aliases", _alias_view(cluster, _find_alias(cluster, zone, req.params["alias"])))


@route("PUT", "/platform/{v}/protocols/nfs/aliases/{alias}", min_version=2, privilege=PRIV)
def update_alias(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    body = _shared.validate(req.body, ALIAS_SPEC, "NFS alias")
    _shared.require_change(body, "NFS alias")
    with cluster.world.lock:
        record = _find_alias(cluster, zone, req.params["alias"])
        target = _shared.find_zone(cluster, body["zone"]) if "zone" in body else zone
        name = _check_alias_name(body["name"]) if "name" in body else record["name"]
        path = _shared.check_in_zone(body.get("path", record["path"]), target)
        target_aliases = _zone_aliases(cluster, target)
        if (target["name"] != zone["name"] or name != record["name"]) and name in target_aliases:
            raise exists("Alias %s already exists in zone %s" % (name, target["name"]))
        del _zone_aliases(cluster, zone)[record["name"]]
        record.update(name=name, path=path, zone=target["name"])
        target_aliases[name] = record
    return None


@route("DELETE", "/platform/{v}/protocols/nfs/aliases/{alias}", min_version=2, privilege=PRIV)
def delete_alias(req, cluster):
    zone = _shared.find_zone(cluster, req.query.get("zone"))
    with cluster.world.lock:
        record = _find_alias(cluster, zone, req.params["alias"])
        del _zone_aliases(cluster, zone)[record["name"]]
    return None
