"""Access zones (/platform/{v}/zones)."""

from typing import Any, Dict, Optional

from ..framework import ApiError, Response, bad_request, check_fields, exists, not_found, register_area, route
from . import namespace

PRIVILEGE = "ISI_PRIV_AUTH"
CREATE_FIELDS = {"name", "path", "create_path", "groupnet", "auth_providers", "netbios_name", "user_mapping_rules",
                 "alternate_system_provider", "system_provider", "home_directory_umask", "map_untrusted",
                 "skeleton_directory", "cache_entry_expiry", "negative_cache_entry_expiry", "force_overlap",
                 "ifs_restricted"}
UPDATE_FIELDS = CREATE_FIELDS - {"create_path"}


def _zone(zone_id: int, spec: Dict[str, Any]) -> Dict[str, Any]:
    name = str(spec["name"])
    return {
        "id": name,
        "zone_id": zone_id,
        "name": name,
        "path": namespace.normalize(spec.get("path") or "/ifs"),
        "groupnet": spec.get("groupnet", "groupnet0"),
        "auth_providers": list(spec.get("auth_providers") or ["lsa-local-provider:%s" % name]),
        "system": zone_id == 1,
        "netbios_name": spec.get("netbios_name", ""),
        "user_mapping_rules": list(spec.get("user_mapping_rules") or []),
        "alternate_system_provider": spec.get("alternate_system_provider", "lsa-file-provider:System"),
        "system_provider": spec.get("system_provider", "lsa-file-provider:System"),
        "home_directory_umask": spec.get("home_directory_umask", 63),
        "map_untrusted": spec.get("map_untrusted", ""),
        "skeleton_directory": spec.get("skeleton_directory", "/usr/share/skel"),
        "cache_entry_expiry": spec.get("cache_entry_expiry", 14400),
        "negative_cache_entry_expiry": spec.get("negative_cache_entry_expiry", 60),
        "ifs_restricted": list(spec.get("ifs_restricted") or []),
    }


def _init(cluster, section: Dict[str, Any]) -> None:
    zones = section.get("zones") or [{"name": "System", "path": "/ifs"}]
    if not any(z.get("name") == "System" for z in zones):
        zones = [{"name": "System", "path": "/ifs"}] + list(zones)
    store = {"zones": [], "next_id": 1}
    cluster.store["zones"] = store
    for spec in sorted(zones, key=lambda z: z.get("name") != "System"):
        zone = _zone(store["next_id"], spec)
        store["next_id"] += 1
        store["zones"].append(zone)
        namespace.mkdirs(cluster, zone["path"], check=False)


def _dump(cluster):
    return [dict(z) for z in cluster.store["zones"]["zones"]]


register_area("zones", init=_init, dump=_dump)


def find_zone(cluster, key: str) -> Optional[Dict[str, Any]]:
    """A zone by name or numeric zone_id (used by other areas to validate ``zone``)."""
    for zone in cluster.store["zones"]["zones"]:
        if zone["name"] == key or str(zone["zone_id"]) == str(key):
            return zone
    return None


def zone_or_404(cluster, key: str) -> Dict[str, Any]:
    zone = find_zone(cluster, key)
    if zone is None:
        raise not_found("Zone %s not found" % key)
    return zone


@route("GET", "/platform/{v}/zones", min_version=1)
def list_zones(req, cluster):
    return {"zones": _dump(cluster)}


@route("GET", "/platform/{v}/zones/{zone}", min_version=1)
def get_zone(req, cluster):
    return {"zones": [dict(zone_or_404(cluster, req.params["zone"]))]}


def _check_path(cluster, body: Dict[str, Any], create_path: bool) -> None:
    if "path" not in body:
        return
    if not isinstance(body["path"], str):
        raise bad_request("Field: path must be a string", "path")
    path = namespace.normalize(body["path"])
    if namespace.is_dir(cluster, path):
        return
    if not create_path:
        raise ApiError(400, "AEC_BAD_REQUEST", "Zone path %s does not exist; set create_path to create it" % path, "path")
    namespace.mkdirs(cluster, path)


@route("POST", "/platform/{v}/zones", min_version=1, privilege=PRIVILEGE)
def create_zone(req, cluster):
    body = check_fields(req.body, CREATE_FIELDS, "zone")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "AEC_ARG_REQUIRED", "Field: name is required", "name")
    if find_zone(cluster, name):
        raise exists("Zone %s already exists" % name)
    _check_path(cluster, body, bool(body.get("create_path")))
    store = cluster.store["zones"]
    zone = _zone(store["next_id"], body)
    store["next_id"] += 1
    store["zones"].append(zone)
    return Response(201, {"id": zone["name"]})


@route("PUT", "/platform/{v}/zones/{zone}", min_version=1, privilege=PRIVILEGE)
def update_zone(req, cluster):
    zone = zone_or_404(cluster, req.params["zone"])
    body = check_fields(req.body, UPDATE_FIELDS, "zone")
    if "name" in body and body["name"] != zone["name"]:
        if zone["system"]:
            raise bad_request("The System zone cannot be renamed", "name")
        if find_zone(cluster, body["name"]):
            raise exists("Zone %s already exists" % body["name"])
    _check_path(cluster, body, False)
    for key, value in body.items():
        zone[key] = namespace.normalize(value) if key == "path" else value
    zone["id"] = zone["name"]
    return Response(204)


@route("DELETE", "/platform/{v}/zones/{zone}", min_version=1, privilege=PRIVILEGE)
def delete_zone(req, cluster):
    zone = zone_or_404(cluster, req.params["zone"])
    if zone["system"]:
        raise ApiError(403, "AEC_FORBIDDEN", "The System zone cannot be deleted")
    cluster.store["zones"]["zones"].remove(zone)
    return Response(204)
