"""The /_mock/ control API (DESIGN 2.2).

Control routes are registered with the same ``route()`` as API routes; the
server recognises the ``/_mock/`` prefix and serves them without
authentication, request log or faults.  Control handlers run without the
world lock and take it themselves where they touch state, so that
``wait_idle`` can block without stopping the world.  Resource modules may
register more ``/_mock/...`` routes (dns, spn) the same way.
"""

import time
from typing import Any, Dict

from . import seed as seed_mod
from .framework import ApiError, Response, bad_request, check_fields, not_found, route
from .resources import session


def _server(cluster):
    server = cluster.world.server
    if server is None:
        raise ApiError(503, "AEC_SERVICE_UNAVAILABLE", "This world has no HTTP server")
    return server


def _body(req) -> Dict[str, Any]:
    if req.body is None:
        return {}
    if not isinstance(req.body, dict):
        raise bad_request("The control request body must be a JSON object")
    return req.body


@route("GET", "/_mock/state", write=False)
def state(req, cluster):
    world = cluster.world
    if req.query.get("cluster") == "*":
        return world.dump_all()
    return world.dump_cluster(cluster)


@route("GET", "/_mock/requests", write=False)
def requests_log(req, cluster):
    try:
        since = int(req.query.get("since", "0") or 0)
    except ValueError:
        raise bad_request("since must be an integer")
    only = req.query.get("cluster")
    return cluster.world.log.since(since, None if only in (None, "", "*") else only)


@route("DELETE", "/_mock/requests")
def clear_requests(req, cluster):
    cluster.world.log.clear()
    return None


@route("POST", "/_mock/reset")
def reset(req, cluster):
    world = cluster.world
    world.reset()
    if world.server is not None:
        world.server.bring_all_up()
    return {"reset": True, "clusters": sorted(world.clusters)}


@route("POST", "/_mock/seed")
def load_seed(req, cluster):
    world = cluster.world
    try:
        scenario = seed_mod.load_scenario(_body(req))
    except ValueError as exc:
        raise bad_request("Invalid scenario: %s" % exc)
    try:
        world.reset(scenario)
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_request("Invalid scenario: %s: %s" % (type(exc).__name__, exc))
    if world.server is not None:
        world.server.bring_all_up()
    return {"seeded": True, "clusters": sorted(world.clusters)}


@route("GET", "/_mock/faults", write=False)
def get_faults(req, cluster):
    return cluster.faults.snapshot()


@route("POST", "/_mock/faults")
def set_faults(req, cluster):
    try:
        cluster.faults.merge(_body(req))
    except (ValueError, TypeError) as exc:
        raise bad_request(str(exc))
    return cluster.faults.snapshot()


@route("DELETE", "/_mock/faults")
def clear_faults(req, cluster):
    cluster.faults.clear()
    return None


@route("POST", "/_mock/down")
def down(req, cluster):
    body = check_fields(_body(req), {"seconds"}, "down")
    seconds = body.get("seconds")
    if seconds is not None and (not isinstance(seconds, (int, float)) or seconds < 0):
        raise bad_request("seconds must be a non-negative number")
    # Keep the connection this request came on so that its answer still goes out.
    keep = getattr(req, "connection", None)
    _server(cluster).take_down(cluster.name, seconds, keep=keep)
    handler = getattr(req, "http_handler", None)
    if handler is not None:
        handler.close_connection = True
    return {"cluster": cluster.name, "down": True, "seconds": seconds}


@route("POST", "/_mock/up")
def up(req, cluster):
    _server(cluster).bring_up(cluster.name)
    return {"cluster": cluster.name, "down": False, "url": cluster.url()}


@route("POST", "/_mock/sessions/expire")
def expire_sessions(req, cluster):
    with cluster.world.lock:
        count = session.expire_all(cluster)
    return {"expired": count}


@route("GET", "/_mock/time", write=False)
def get_time(req, cluster):
    world = cluster.world
    return {"scale": world.time_scale, "now": world.now()}


@route("POST", "/_mock/time")
def set_time(req, cluster):
    body = check_fields(_body(req), {"scale"}, "time")
    scale = body.get("scale")
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale <= 0:
        raise bad_request("scale must be a positive number")
    world = cluster.world
    with world.lock:
        world.time_scale = float(scale)
    return {"scale": world.time_scale, "now": world.now()}


@route("POST", "/_mock/wait_idle")
def wait_idle(req, cluster):
    body = check_fields(_body(req), {"timeout"}, "wait_idle")
    timeout = body.get("timeout", 30)
    if not isinstance(timeout, (int, float)) or timeout < 0 or timeout > 3600:
        raise bad_request("timeout must be a number of seconds between 0 and 3600")
    world = cluster.world
    deadline = time.monotonic() + float(timeout)
    while not world.idle():
        if time.monotonic() >= deadline:
            return Response(408, {"idle": False, "errors": [{"message": "jobs still active after %ss" % timeout}]})
        time.sleep(0.01)
    return {"idle": True}


@route("GET", "/_mock/clusters", write=False)
def clusters(req, cluster):
    world = cluster.world
    return {"clusters": {name: {"url": c.url(), "down": c.down, "cluster_name": c.cluster_name, "guid": c.guid}
                         for name, c in world.clusters.items()}}


def unknown_cluster(name: str) -> ApiError:
    return not_found("No simulated cluster named %s" % name)
