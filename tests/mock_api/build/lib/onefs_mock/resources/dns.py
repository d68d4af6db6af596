"""Simulated DNS: which cluster(s) claim a SmartConnect name.

A cluster claims a name when the name is the ``sc_dns_zone`` or one of the
``sc_dns_zone_aliases`` of any of its pools (case-insensitive, trailing dot
ignored).  Two clusters claiming one name is a split brain: with DNS
delegated to both clusters' SmartConnect service IPs, clients would land on
either cluster at random.

The claims are computed from the pools whenever asked.  Every change of the
claims (after each pool write, and lazily on the control endpoints) is
appended to a history in ``world.store["dns"]`` so a test can ask whether a
name was ever claimed by two clusters during a run, even if the split brain
lasted only between two API calls.
"""

from typing import Any, Dict, List

from ..framework import register_area, route
from ._shared import dns_name


def _store(world: Any) -> Dict[str, Any]:
    return world.store.setdefault("dns", {"last": None, "history": []})


def pool_names(pool: Dict[str, Any]) -> List[str]:
    """The SmartConnect names of one pool, normalised."""
    names = []
    if pool.get("sc_dns_zone"):
        names.append(dns_name(pool["sc_dns_zone"]))
    names.extend(dns_name(alias) for alias in pool.get("sc_dns_zone_aliases") or [] if alias)
    return [name for name in names if name]


def cluster_names(cluster: Any) -> List[str]:
    from .network import all_pools     # network imports this module: import late
    names: List[str] = []
    for pool in all_pools(cluster):
        for name in pool_names(pool):
            if name not in names:
                names.append(name)
    return names


def current_claims(world: Any) -> Dict[str, List[str]]:
    """``{name: [cluster keys]}`` for every name claimed right now."""
    claims: Dict[str, List[str]] = {}
    for key, cluster in world.clusters.items():
        for name in cluster_names(cluster):
            claims.setdefault(name, []).append(key)
    return {name: sorted(owners) for name, owners in sorted(claims.items())}


def observe_claims(world: Any) -> None:
    """Append every changed claim to the history (call under ``world.lock``)."""
    with world.lock:
        store = _store(world)
        now_claims = current_claims(world)
        last = store["last"] or {}
        at = world.now()
        for name in sorted(set(last) | set(now_claims)):
            owners = now_claims.get(name, [])
            if last.get(name, []) != owners:
                store["history"].append({"at": at, "name": name, "claims": owners,
                                         "split_brain": len(owners) > 1})
        store["last"] = now_claims


def _answer(name: str, owners: List[str]) -> Dict[str, Any]:
    return {"name": name, "claims": owners, "split_brain": len(owners) > 1}


def world_init(world: Any, scenario: Dict[str, Any]) -> None:
    world.store["dns"] = {"last": None, "history": []}


def world_dump(world: Any) -> Dict[str, Any]:
    observe_claims(world)
    return {"claims": current_claims(world), "history": list(_store(world)["history"])}


register_area("dns", world_init=world_init, world_dump=world_dump)


@route("GET", "/_mock/dns")
def get_dns(req, cluster):
    world = cluster.world
    with world.lock:
        observe_claims(world)
        claims = current_claims(world)
    if "name" in req.query:
        name = dns_name(req.query["name"])
        return _answer(name, claims.get(name, []))
    names = [_answer(name, owners) for name, owners in claims.items()]
    return {"names": names, "split_brain": [item["name"] for item in names if item["split_brain"]]}


@route("GET", "/_mock/dns/history")
def get_dns_history(req, cluster):
    world = cluster.world
    with world.lock:
        observe_claims(world)
        history = list(_store(world)["history"])
    if "name" in req.query:
        wanted = dns_name(req.query["name"])
        history = [entry for entry in history if entry["name"] == wanted]
    ever = sorted({entry["name"] for entry in history if entry["split_brain"]})
    return {"history": history, "ever_split_brain": bool(ever), "split_brain_names": ever}
