"""SmartQuotas (reference section 8).

``cluster.store["quotas"]`` maps the 32-character quota id to its record.
At most one quota exists per (path, type, persona, include_snapshots); a
second create answers 409 ``AEC_EXISTS`` (the reference leaves the exact code
UNVERIFIED; the issue asks for AEC_EXISTS).  The list pages with ``limit`` and
``resume`` and, like OneFS, carries ``resume`` but no ``total``.
"""

from typing import Any, Dict, List, Optional

from ..framework import ApiError, Response, bad_request, exists, register_area, route, single
from . import _shared

PRIV = "ISI_PRIV_QUOTA"

TYPES = ("directory", "user", "group", "default-directory", "default-user", "default-group")
PERSONA_TYPES = ("user", "group")
THRESHOLD_SPEC = {"hard": "int? 1..18446744073709551615", "soft": "int? 1..18446744073709551615",
                  "advisory": "int? 1..18446744073709551615", "soft_grace": "int? 1..4294967295",
                  "percent_soft": "float? 0.01..99.99", "percent_advisory": "float? 0.01..99.99"}
PERSONA_SPEC = {"id": "str", "name": "str", "type": "str"}
MODIFY_SPEC = {
    "container": "bool", "description": "str", "enforced": "bool", "force": "bool",
    "ignore_limit_checks": "bool", "labels": "str", "linked": "bool", "thresholds": "obj",
    "thresholds_include_overhead": "bool",
    "thresholds_on": ("applogicalsize", "fslogicalsize", "physicalsize"),
}
CREATE_SPEC = dict(MODIFY_SPEC, path="str", type=TYPES, include_snapshots="bool", persona="obj?")
CREATE_SPEC.pop("linked")
NOT_FOUND = "Failed to fetch quota domain record: No such file or directory"
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_TYPE_CODE = {"directory": "AQEA", "user": "AQAA", "group": "AgAA", "default-directory": "BQEA",
              "default-user": "BAAA", "default-group": "BgAA"}


def _store(cluster: Any) -> Dict[str, Dict[str, Any]]:
    return cluster.store.setdefault("quotas", {})


def _new_id(cluster: Any, quota_type: str) -> str:
    """A 32-character id shaped like OneFS's (``AABpAQEAAAAAAAAAAAAAQA0AAAAAAAAA``)."""
    counter = cluster.store.get("quota_seq", 0) + 1
    cluster.store["quota_seq"] = counter
    digits = ""
    value = counter
    while value:
        value, rest = divmod(value, len(_ID_ALPHABET))
        digits = _ID_ALPHABET[rest] + digits
    tail = digits.rjust(12, "A")
    return ("AABp" + _TYPE_CODE[quota_type] + "AAAAAAAAAAAA" + tail)[:32]


# --- validation --------------------------------------------------------------------------------

def _check_thresholds(value: Any, current: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    if value is None:
        value = {}
    thresholds = _shared.validate(value, THRESHOLD_SPEC, "quota thresholds")
    merged = dict(current or {})
    merged.update(thresholds)
    for name in ("hard", "soft", "advisory"):
        if merged.get(name) is not None and merged[name] < 1:
            raise bad_request("Field: thresholds.%s must be at least 1 byte" % name, name)
    if merged.get("soft") is not None and merged.get("soft_grace") is None:
        raise bad_request("Field: thresholds.soft_grace is required with a soft threshold", "soft_grace")
    hard = merged.get("hard")
    for name in ("soft", "advisory"):
        if hard is not None and merged.get(name) is not None and merged[name] > hard:
            raise bad_request("Field: thresholds.%s must not exceed the hard threshold" % name, name)
    return merged


def _persona_key(persona: Optional[Dict[str, Any]]) -> Optional[str]:
    if not persona:
        return None
    if persona.get("id"):
        return persona["id"].upper()
    return ("%s:%s" % (persona.get("type", ""), persona.get("name", ""))).upper()


def _check_persona(body: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    persona = body.get("persona")
    if body["type"] not in PERSONA_TYPES:
        if persona:
            raise bad_request("Field: persona is only valid for user and group quotas", "persona")
        return None
    if not persona:
        raise ApiError(400, "AEC_ARG_REQUIRED", "Field: persona is required for %s quotas" % body["type"],
                       "persona")
    persona = _shared.validate(persona, PERSONA_SPEC, "quota persona")
    if not persona.get("id") and not persona.get("name"):
        raise bad_request("Field: persona needs an id (UID:1000) or a name", "persona")
    if persona.get("id") and ":" not in persona["id"]:
        raise bad_request("Field: persona.id must look like UID:1000, GID:0 or SID:S-1-...", "persona")
    return {"id": persona.get("id"), "name": persona.get("name"), "type": persona.get("type", body["type"])}


# --- records ---------------------------------------------------------------------------------

def _record(ident: str, body: Dict[str, Any], persona, thresholds: Dict[str, Any]) -> Dict[str, Any]:
    has_limit = any(thresholds.get(name) is not None for name in ("hard", "soft", "advisory"))
    return {
        "container": body.get("container", False), "description": body.get("description", ""),
        "efficiency_ratio": None, "enforced": body.get("enforced", has_limit), "id": ident,
        "include_snapshots": body["include_snapshots"], "labels": body.get("labels", ""),
        "linked": False, "notifications": "default", "path": body["path"], "persona": persona,
        "ready": True, "reduction_ratio": None, "thresholds": thresholds,
        "thresholds_on": body.get("thresholds_on", "fslogicalsize"), "type": body["type"],
    }


def _usages(cluster: Any, paths: List[str]) -> Dict[str, Dict[str, Any]]:
    """Logical usage of each quota path from the namespace files under it.

    One pass over the files, adding each to every ancestor that is a quota
    path: a list of many quotas stays linear in the number of files.
    """
    totals = {path: [0, 0] for path in paths}
    files = cluster.store.get("files")
    if isinstance(files, dict) and totals:
        for name, item in files.items():
            if not isinstance(name, str):
                continue
            size = _file_size(item)
            node = name
            while node:
                if node in totals:
                    totals[node][0] += size
                    totals[node][1] += 1
                node = node.rpartition("/")[0]
    return {path: _usage_block(size, count) for path, (size, count) in totals.items()}


def _usage_block(size: int, count: int) -> Dict[str, Any]:
    return {"applogical": size, "applogical_ready": True, "fslogical": size, "fslogical_ready": True,
            "fsphysical": size, "fsphysical_ready": True, "inodes": count, "inodes_ready": True,
            "physical": size, "physical_data": size, "physical_data_ready": True,
            "physical_protection": 0, "physical_protection_ready": True, "physical_ready": True,
            "shadow_refs": 0, "shadow_refs_ready": True}


def _file_size(item: Any) -> int:
    data = getattr(item, "data", None)          # namespace Node(kind, data, mtime)
    if isinstance(data, bytes):
        return len(data)
    if isinstance(item, (bytes, str)):
        return len(item)
    if isinstance(item, dict):
        if isinstance(item.get("size"), int):
            return item["size"]
        data = item.get("data", item.get("content"))
        if isinstance(data, (bytes, str)):
            return len(data)
    return 0


def _views(cluster: Any, records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    usages = _usages(cluster, sorted({record["path"] for record in records}))
    return [_view(record, usages[record["path"]]) for record in records]


def _view(record: Dict[str, Any], usage: Dict[str, Any]) -> Dict[str, Any]:
    view = dict(record)
    thresholds = {name: record["thresholds"].get(name) for name in THRESHOLD_SPEC}
    for name in ("hard", "soft", "advisory"):
        limit = thresholds[name]
        thresholds[name + "_exceeded"] = limit is not None and usage["fslogical"] > limit
        thresholds[name + "_last_exceeded"] = None
    view["thresholds"] = thresholds
    view["usage"] = usage
    if record["persona"] is not None:
        view["persona"] = dict(record["persona"])
    return view


def _create(cluster: Any, body: Dict[str, Any]) -> Dict[str, Any]:
    body = _shared.validate(body, CREATE_SPEC, "quota", required=("path", "type", "include_snapshots"))
    path = _shared.check_ifs_path(body["path"])
    if path == "/ifs" and not body.get("force"):
        raise bad_request("A quota on /ifs requires force", "path")
    body = dict(body, path=path)
    persona = _check_persona(body)
    thresholds = _check_thresholds(body.get("thresholds"))
    key = (path, body["type"], _persona_key(persona), body["include_snapshots"])
    for other in _store(cluster).values():
        if (other["path"], other["type"], _persona_key(other["persona"]), other["include_snapshots"]) == key:
            raise exists("Quota already exists for path %s type %s" % (path, body["type"]))
    record = _record(_new_id(cluster, body["type"]), body, persona, thresholds)
    _store(cluster)[record["id"]] = record
    return record


def _find(cluster: Any, ident: str) -> Dict[str, Any]:
    found = _store(cluster).get(ident)
    if found is None:
        raise ApiError(404, "AEC_NOT_FOUND", NOT_FOUND)
    return found


# --- seed and dump ----------------------------------------------------------------------------

def init(cluster: Any, seed: Dict[str, Any]) -> None:
    cluster.store["quotas"] = {}
    cluster.store["quota_seq"] = 0
    for item in seed.get("quotas") or []:
        body = dict({"type": "directory", "include_snapshots": False}, **item)
        _create(cluster, body)


def dump(cluster: Any) -> List[Dict[str, Any]]:
    return _views(cluster, list(_store(cluster).values()))


register_area("quotas", init=init, dump=dump)


# --- list filters --------------------------------------------------------------------------------

def _matches(record: Dict[str, Any], query: Dict[str, str]) -> bool:
    if "path" in query:
        wanted = _shared.norm_path(query["path"])
        children = _shared.bool_query(query, "recurse_path_children")
        parents = _shared.bool_query(query, "recurse_path_parents")
        ok = record["path"] == wanted
        ok = ok or (children and _shared.is_inside(record["path"], wanted))
        ok = ok or (parents and _shared.is_inside(wanted, record["path"]))
        if not ok:
            return False
    if "type" in query and record["type"] != query["type"]:
        return False
    if "persona" in query and _persona_key(record["persona"]) != query["persona"].upper():
        if not _persona_name_matches(record["persona"], query["persona"]):
            return False
    for flag in ("enforced", "include_snapshots"):
        value = _shared.bool_query(query, flag)
        if value is not None and record[flag] != value:
            return False
    return True


def _persona_name_matches(persona: Optional[Dict[str, Any]], wanted: str) -> bool:
    """``USER:alice`` / ``GROUP:wheel`` match a persona given by name."""
    if not persona or ":" not in wanted:
        return False
    kind, _, name = wanted.partition(":")
    return kind.lower() in ("user", "group") and (persona.get("name") or "").lower() == name.lower()


def _check_query(query: Dict[str, str]) -> None:
    if "type" in query and query["type"] not in TYPES:
        raise bad_request("Invalid value for type: %s" % query["type"], "type")
    if "persona" in query and "type" not in query:
        raise bad_request("Argument persona requires type", "persona")
    if "zone" in query:
        pass                       # only affects name resolution on OneFS


# --- API ---------------------------------------------------------------------------------------------

@route("GET", "/platform/{v}/quota/quotas", privilege=PRIV)
def list_quotas(req, cluster):
    query = _shared.list_query(req.query)
    _check_query(query)
    with cluster.world.lock:
        items = _views(cluster, [r for r in _store(cluster).values() if _matches(r, query)])
    return _shared.page(items, query, "quotas", total=False)


@route("POST", "/platform/{v}/quota/quotas", privilege=PRIV)
def create_quota(req, cluster):
    if "zone" in req.query:
        _shared.find_zone(cluster, req.query["zone"])
    with cluster.world.lock:
        record = _create(cluster, req.body)
    return Response(201, {"id": record["id"]})


@route("GET", "/platform/{v}/quota/quotas/{id}", privilege=PRIV)
def get_quota(req, cluster):
    with cluster.world.lock:
        return single("quotas", _views(cluster, [_find(cluster, req.params["id"])])[0])


@route("PUT", "/platform/{v}/quota/quotas/{id}", privilege=PRIV)
def update_quota(req, cluster):
    body = req.body
    if isinstance(body, dict):
        for fixed in ("path", "type", "persona", "include_snapshots"):
            if fixed in body:
                raise bad_request("Field: %s cannot be modified" % fixed, fixed)
    body = _shared.validate(body, MODIFY_SPEC, "quota")
    _shared.require_change(body, "quota")
    with cluster.world.lock:
        record = _find(cluster, req.params["id"])
        if record.get("linked") and body.get("linked") is not False:
            raise bad_request("A linked quota cannot be modified until it is unlinked")
        if "thresholds" in body:
            record["thresholds"] = _check_thresholds(body["thresholds"], record["thresholds"])
        for key, value in body.items():
            if key not in ("thresholds", "force", "ignore_limit_checks", "thresholds_include_overhead"):
                record[key] = value
    return None


@route("DELETE", "/platform/{v}/quota/quotas/{id}", privilege=PRIV)
def delete_quota(req, cluster):
    with cluster.world.lock:
        _find(cluster, req.params["id"])
        del _store(cluster)[req.params["id"]]
    return None


@route("DELETE", "/platform/{v}/quota/quotas", privilege=PRIV)
def delete_quotas(req, cluster):
    """Bulk delete by the list filters; without any filter OneFS would delete every quota."""
    query = dict(req.query)
    query.pop("zone", None)
    _check_query(query)
    with cluster.world.lock:
        doomed = [ident for ident, record in _store(cluster).items() if _matches(record, query)]
        for ident in doomed:
            del _store(cluster)[ident]
    return None


@route("GET", "/platform/{v}/quota/quotas-summary", privilege=PRIV)
def quotas_summary(req, cluster):
    with cluster.world.lock:
        records = list(_store(cluster).values())
    count = {kind: sum(1 for r in records if r["type"] == kind) for kind in TYPES}
    return {"summary": {
        "count": len(records),
        "default_group_quotas_count": count["default-group"],
        "default_user_quotas_count": count["default-user"],
        "directory_quotas_count": count["directory"] + count["default-directory"],
        "group_quotas_count": count["group"],
        "linked_quotas_count": sum(1 for r in records if r.get("linked")),
        "user_quotas_count": count["user"],
    }}
