"""Cluster identity: /platform/latest, cluster/config, cluster/identity."""

from typing import Any, Dict

from ..framework import Response, bad_request, check_fields, register_area, route

RELEASE_DATE = 1672531200  # reldate of the simulated build (epoch seconds)


def _init(cluster, section: Dict[str, Any]) -> None:
    cluster.store["cluster"] = {
        "description": str(section.get("description", "")),
        "motd": str(section.get("motd", "")),
        "motd_header": str(section.get("motd_header", "")),
        "nodes": int(section.get("nodes", 3)),
    }


def config_body(cluster) -> Dict[str, Any]:
    data = cluster.store["cluster"]
    version = cluster.onefs_version.lstrip("v")
    devices = [{"devid": n, "guid": cluster.guid[:-2] + "%02x" % n, "is_up": True, "lnn": n}
               for n in range(1, data["nodes"] + 1)]
    return {
        "description": data["description"],
        "devices": devices,
        "encoding": "utf-8",
        "guid": cluster.guid,
        "has_quorum": True,
        "is_compliance": False,
        "is_virtual": False,
        "is_vonefs": False,
        "join_mode": "manual",
        "local_devid": 1,
        "local_lnn": 1,
        "local_serial": "SIM%s-1" % cluster.guid[:8].upper(),
        "name": cluster.cluster_name,
        "onefs_version": {
            "build": "B_%s_SIM" % version.replace(".", "_"),
            "copyright": "Simulated by onefs-mock",
            "reldate": RELEASE_DATE,
            "release": "v" + version,
            "revision": "0",
            "type": "Isilon OneFS",
            "version": "Isilon OneFS v%s" % version,
        },
        "timezone": {"abbreviation": "UTC", "custom": "", "name": "UTC", "path": "UTC"},
        "upgrade_type": None,
    }


def identity_body(cluster) -> Dict[str, Any]:
    data = cluster.store["cluster"]
    return {
        "description": data["description"],
        "logon": {"motd": data["motd"], "motd_header": data["motd_header"]},
        "mttdl_level_msg": "none",
        "name": cluster.cluster_name,
    }


register_area("cluster", init=_init, dump=config_body)


@route("GET", "/platform/latest")
def latest(req, cluster):
    return {"latest": str(cluster.latest_papi)}


@route("GET", "/platform/{v}/cluster/config", min_version=1)
def get_config(req, cluster):
    return config_body(cluster)


@route("GET", "/platform/{v}/cluster/identity", min_version=1)
def get_identity(req, cluster):
    return identity_body(cluster)


@route("PUT", "/platform/{v}/cluster/identity", min_version=1, privilege="ISI_PRIV_CLUSTER")
def put_identity(req, cluster):
    body = check_fields(req.body, {"name", "description", "logon"}, "cluster identity")
    data = cluster.store["cluster"]
    if "name" in body:
        if not isinstance(body["name"], str) or not body["name"]:
            raise bad_request("Field: name must be a non-empty string", "name")
        # The cluster's name is part of its scenario section (find_cluster matches it).
        cluster.config["cluster_name"] = body["name"]
    if "description" in body:
        data["description"] = str(body["description"])
    logon = body.get("logon")
    if logon is not None:
        check_fields(logon, {"motd", "motd_header"}, "logon")
        data["motd"] = str(logon.get("motd", data["motd"]))
        data["motd_header"] = str(logon.get("motd_header", data["motd_header"]))
    return Response(204)
