"""Network: groupnets, subnets and SmartConnect pools (reference section 6).

Store ``cluster.store["network"]``::

    {"groupnets": {name: {"fields": {...}, "subnets": {name: {"fields": {...},
                   "pools": {name: pool record}}}}}}

A pool's id is ``groupnet.subnet.pool``; renaming a pool changes its id and
URL.  Every change of a pool's SmartConnect names is reported to the DNS
area so that the claims history sees it.
"""

import ipaddress
from typing import Any, Dict, List, Optional

from ..framework import ApiError, Response, exists, not_found, register_area, route, single
from . import _shared
from .dns import observe_claims

PRIV = "ISI_PRIV_NETWORK"

GROUPNET_SPEC = {
    "allow_wildcard_subdomains": "bool", "description": "str", "dns_cache_enabled": "bool",
    "dns_options": "list[str]", "dns_search": "list[str]", "dns_servers": "list[str]",
    "name": "str", "server_side_dns_search": "bool",
}

RANGE_SPEC = {"low": "str", "high": "str"}

SUBNET_SPEC = {
    "description": "str", "dsr_addrs": "list[str]", "gateway": "str", "gateway_priority": "int 1..2147483647",
    "mtu": "int 576..9000", "name": "str", "prefixlen": "int 1..128", "sc_service_addrs": "list[obj]",
    "sc_service_name": "str", "vlan_enabled": "bool", "vlan_id": "int 1..4094",
    "addr_family": ("ipv4", "ipv6"),
}

POLICIES = ("round_robin", "conn_count", "throughput", "cpu_usage")
POOL_SPEC = {
    "access_zone": "str", "aggregation_mode": ("roundrobin", "failover", "lacp", "fec"),
    "alloc_method": ("dynamic", "static"), "description": "str", "ifaces": "list[obj]",
    "ipv6_perform_dad": "bool", "name": "str", "nfsv3_rroce_only": "bool", "nfs_rroce_only": "bool",
    "ranges": "list[obj]",
    "rebalance_policy": ("auto", "manual"), "sc_auto_unsuspend_delay": "int 0..86400",
    "sc_connect_policy": POLICIES, "sc_dns_zone": "str", "sc_dns_zone_aliases": "list[str]",
    "sc_failover_policy": POLICIES, "sc_subnet": "str", "sc_ttl": "int 0..2147483647",
    "static_routes": "list[obj]",
}
POOL_SEED_EXTRA = {"sc_suspended_nodes": "list[int]", "rules": "list[str]"}

NAME_LIMIT = 32


# --- records ------------------------------------------------------------------------

def _groupnet_defaults(name: str) -> Dict[str, Any]:
    return {"allow_wildcard_subdomains": True, "description": "", "dns_cache_enabled": True,
            "dns_options": [], "dns_search": [], "dns_servers": [], "name": name,
            "server_side_dns_search": True}


def _subnet_defaults(name: str) -> Dict[str, Any]:
    return {"addr_family": "ipv4", "description": "", "dsr_addrs": [], "gateway": None,
            "gateway_priority": 10, "mtu": 1500, "name": name, "prefixlen": 24,
            "sc_service_addrs": [], "sc_service_name": "", "vlan_enabled": False, "vlan_id": None}


def _pool_defaults(groupnet: str, subnet: str, name: str) -> Dict[str, Any]:
    return {"access_zone": "System", "addr_family": "ipv4", "aggregation_mode": "lacp",
            "alloc_method": "static", "description": "", "firewall_policy": "default_pools_policy",
            "groupnet": groupnet, "id": "%s.%s.%s" % (groupnet, subnet, name), "ifaces": [],
            "ipv6_perform_dad": False, "linklayer": "ethernet", "name": name, "nfs_rroce_only": False,
            "nfsv3_rroce_only": False, "ranges": [],
            "rebalance_policy": "auto", "rules": [], "sc_auto_unsuspend_delay": 0,
            "sc_connect_policy": "round_robin", "sc_dns_zone": "", "sc_dns_zone_aliases": [],
            "sc_failover_policy": "round_robin", "sc_subnet": subnet, "sc_suspended_nodes": [],
            "sc_ttl": 0, "static_routes": [], "subnet": subnet}


def _store(cluster: Any) -> Dict[str, Any]:
    return cluster.store.setdefault("network", {"groupnets": {}})


def _groupnet(cluster: Any, name: str) -> Dict[str, Any]:
    found = _store(cluster)["groupnets"].get(name)
    if found is None:
        raise not_found("Groupnet %s not found" % name)
    return found


def _subnet(cluster: Any, groupnet: str, name: str) -> Dict[str, Any]:
    found = _groupnet(cluster, groupnet)["subnets"].get(name)
    if found is None:
        raise not_found("Subnet %s.%s not found" % (groupnet, name))
    return found


def _pool(cluster: Any, groupnet: str, subnet: str, name: str) -> Dict[str, Any]:
    found = _subnet(cluster, groupnet, subnet)["pools"].get(name)
    if found is None:
        raise not_found("Pool %s.%s.%s not found" % (groupnet, subnet, name))
    return found


def all_pools(cluster: Any) -> List[Dict[str, Any]]:
    """Every pool of a cluster, in creation order (used by DNS and ADS)."""
    pools = []
    for groupnet in _store(cluster)["groupnets"].values():
        for subnet in groupnet["subnets"].values():
            pools.extend(subnet["pools"].values())
    return pools


def _groupnet_view(name: str, record: Dict[str, Any]) -> Dict[str, Any]:
    return dict(record["fields"], id=name, subnets=list(record["subnets"]))


def _subnet_view(groupnet: str, name: str, record: Dict[str, Any]) -> Dict[str, Any]:
    fields = record["fields"]
    return dict(fields, id="%s.%s" % (groupnet, name), groupnet=groupnet,
                base_addr=_base_addr(record), firewall_policy="default_subnets_policy",
                pools=list(record["pools"]))


def _base_addr(record: Dict[str, Any]) -> str:
    """The network address of a subnet, from any address we know in it."""
    fields = record["fields"]
    candidates = [fields.get("gateway")]
    candidates += [r.get("low") for r in fields.get("sc_service_addrs") or []]
    candidates += [r.get("low") for pool in record["pools"].values() for r in pool.get("ranges") or []]
    default = "::" if fields.get("addr_family") == "ipv6" else "0.0.0.0"
    for address in candidates:
        try:
            network = ipaddress.ip_network("%s/%s" % (address, fields.get("prefixlen", 24)), strict=False)
        except ValueError:
            continue
        return str(network.network_address)
    return default


def _check_name(body: Dict[str, Any], what: str) -> None:
    name = body.get("name")
    if name is None:
        return
    if not name or "." in name or "/" in name or len(name) > NAME_LIMIT:
        raise ApiError(400, "AEC_NAMEILLEGAL", "Invalid %s name %r" % (what, name), "name")


def _check_ranges(body: Dict[str, Any], field: str) -> None:
    for item in body.get(field) or []:
        _shared.validate(item, RANGE_SPEC, "%s range" % field, required=("low", "high"))


def _check_zone(cluster: Any, body: Dict[str, Any]) -> None:
    if "access_zone" not in body:
        return
    try:
        _shared.find_zone(cluster, body["access_zone"])
    except ApiError:
        raise _shared.bad_request("Field: access_zone names an unknown access zone %r" % body["access_zone"],
                                  "access_zone")


def _check_sc_names(body: Dict[str, Any]) -> None:
    names = []
    if body.get("sc_dns_zone"):
        names.append(body["sc_dns_zone"])
    names.extend(body.get("sc_dns_zone_aliases") or [])
    for name in names:
        if len(name) > 2048 or " " in name.strip() or not name.strip(". "):
            raise _shared.bad_request("Invalid SmartConnect zone name %r" % name, "sc_dns_zone")


# --- seed ---------------------------------------------------------------------------

def _seed_fields(spec: Dict[str, Any], item: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in item.items() if key in spec}


def init(cluster: Any, seed: Dict[str, Any]) -> None:
    groupnets = seed.get("groupnets")
    if groupnets is None:
        groupnets = [{"name": "groupnet0", "subnets": [{"name": "subnet0", "pools": [{"name": "pool0"}]}]}]
    store = {"groupnets": {}}
    cluster.store["network"] = store
    for groupnet in groupnets:
        gname = groupnet["name"]
        g_record = {"fields": dict(_groupnet_defaults(gname), **_seed_fields(GROUPNET_SPEC, groupnet)),
                    "subnets": {}}
        store["groupnets"][gname] = g_record
        for subnet in groupnet.get("subnets", []):
            sname = subnet["name"]
            s_fields = dict(_subnet_defaults(sname), **_seed_fields(SUBNET_SPEC, subnet))
            s_fields["sc_service_addrs"] = [_seed_range(r) for r in s_fields["sc_service_addrs"]]
            s_record = {"fields": s_fields, "pools": {}}
            g_record["subnets"][sname] = s_record
            for pool in subnet.get("pools", []):
                spec = dict(POOL_SPEC, **POOL_SEED_EXTRA)
                record = dict(_pool_defaults(gname, sname, pool["name"]), **_seed_fields(spec, pool))
                record["ranges"] = [_seed_range(r) for r in record["ranges"]]
                s_record["pools"][pool["name"]] = record
    if all("network" in other.store for other in cluster.world.clusters.values()):
        observe_claims(cluster.world)        # the last cluster loaded: the baseline of the history


def _seed_range(item: Any) -> Dict[str, str]:
    """Seeds may write an address range as "low-high" or a single address."""
    if isinstance(item, dict):
        return {"low": item["low"], "high": item.get("high", item["low"])}
    low, _, high = str(item).partition("-")
    return {"low": low, "high": high or low}


def dump(cluster: Any) -> List[Dict[str, Any]]:
    return [dict(pool) for pool in all_pools(cluster)]


register_area("pools", init=init, dump=dump)      # dump key "pools" (DESIGN 2.2)


# --- groupnets ----------------------------------------------------------------------

@route("GET", "/platform/{v}/network/groupnets", min_version=3, privilege=PRIV)
def list_groupnets(req, cluster):
    query = _shared.list_query(req.query)
    items = [_groupnet_view(n, r) for n, r in _store(cluster)["groupnets"].items()]
    return _shared.page(items, query, "groupnets")


@route("POST", "/platform/{v}/network/groupnets", min_version=3, privilege=PRIV)
def create_groupnet(req, cluster):
    body = _shared.validate(req.body, GROUPNET_SPEC, "groupnet", required=("name",))
    _check_name(body, "groupnet")
    with cluster.world.lock:
        groupnets = _store(cluster)["groupnets"]
        if body["name"] in groupnets:
            raise exists("Groupnet %s already exists" % body["name"])
        groupnets[body["name"]] = {"fields": dict(_groupnet_defaults(body["name"]), **body), "subnets": {}}
    return _created(body["name"])


@route("GET", "/platform/{v}/network/groupnets/{groupnet}", min_version=3, privilege=PRIV)
def get_groupnet(req, cluster):
    name = req.params["groupnet"]
    return single("groupnets", _groupnet_view(name, _groupnet(cluster, name)))


@route("PUT", "/platform/{v}/network/groupnets/{groupnet}", min_version=3, privilege=PRIV)
def update_groupnet(req, cluster):
    body = _shared.validate(req.body, GROUPNET_SPEC, "groupnet")
    _check_name(body, "groupnet")
    with cluster.world.lock:
        old = req.params["groupnet"]
        record = _groupnet(cluster, old)
        new = body.get("name", old)
        groupnets = _store(cluster)["groupnets"]
        if new != old and new in groupnets:
            raise exists("Groupnet %s already exists" % new)
        record["fields"].update(body)
        if new != old:
            _store(cluster)["groupnets"] = _renamed(groupnets, old, new)
            for subnet in record["subnets"].values():
                for pool in subnet["pools"].values():
                    pool["groupnet"] = new
                    pool["id"] = "%s.%s.%s" % (new, pool["subnet"], pool["name"])
    return None


@route("DELETE", "/platform/{v}/network/groupnets/{groupnet}", min_version=3, privilege=PRIV)
def delete_groupnet(req, cluster):
    with cluster.world.lock:
        name = req.params["groupnet"]
        record = _groupnet(cluster, name)
        if record["subnets"]:
            # UNVERIFIED: OneFS refuses to delete a groupnet that still has subnets.
            raise ApiError(409, "AEC_CONFLICT", "Groupnet %s still has subnets" % name)
        del _store(cluster)["groupnets"][name]
    return None


# --- subnets --------------------------------------------------------------------------

def _check_subnet_body(body: Dict[str, Any]) -> None:
    _check_name(body, "subnet")
    _check_ranges(body, "sc_service_addrs")


@route("GET", "/platform/{v}/network/subnets", min_version=3, privilege=PRIV)
def list_all_subnets(req, cluster):
    query = _shared.list_query(req.query)
    wanted = query.get("groupnet")
    items = [_subnet_view(g, s, rec)
             for g, grec in _store(cluster)["groupnets"].items() if wanted in (None, g)
             for s, rec in grec["subnets"].items()]
    return _shared.page(items, query, "subnets")


@route("GET", "/platform/{v}/network/groupnets/{groupnet}/subnets", min_version=3, privilege=PRIV)
def list_subnets(req, cluster):
    query = _shared.list_query(req.query)
    groupnet = req.params["groupnet"]
    items = [_subnet_view(groupnet, s, rec) for s, rec in _groupnet(cluster, groupnet)["subnets"].items()]
    return _shared.page(items, query, "subnets")


@route("POST", "/platform/{v}/network/groupnets/{groupnet}/subnets", min_version=3, privilege=PRIV)
def create_subnet(req, cluster):
    body = _shared.validate(req.body, SUBNET_SPEC, "subnet", required=("name", "prefixlen", "addr_family"))
    _check_subnet_body(body)
    with cluster.world.lock:
        subnets = _groupnet(cluster, req.params["groupnet"])["subnets"]
        if body["name"] in subnets:
            raise exists("Subnet %s already exists" % body["name"])
        subnets[body["name"]] = {"fields": dict(_subnet_defaults(body["name"]), **body), "pools": {}}
    return _created(body["name"])


@route("GET", "/platform/{v}/network/groupnets/{groupnet}/subnets/{subnet}", min_version=3, privilege=PRIV)
def get_subnet(req, cluster):
    groupnet, subnet = req.params["groupnet"], req.params["subnet"]
    return single("subnets", _subnet_view(groupnet, subnet, _subnet(cluster, groupnet, subnet)))


@route("PUT", "/platform/{v}/network/groupnets/{groupnet}/subnets/{subnet}", min_version=3, privilege=PRIV)
def update_subnet(req, cluster):
    spec = dict(SUBNET_SPEC)
    spec.pop("addr_family")                      # not modifiable (SDK GroupnetSubnet)
    body = _shared.validate(req.body, spec, "subnet")
    _check_subnet_body(body)
    with cluster.world.lock:
        groupnet, old = req.params["groupnet"], req.params["subnet"]
        record = _subnet(cluster, groupnet, old)
        subnets = _groupnet(cluster, groupnet)["subnets"]
        new = body.get("name", old)
        if new != old and new in subnets:
            raise exists("Subnet %s already exists" % new)
        record["fields"].update(body)
        if new != old:
            _groupnet(cluster, groupnet)["subnets"] = _renamed(subnets, old, new)
            for pool in record["pools"].values():
                pool["subnet"] = new
                pool["id"] = "%s.%s.%s" % (groupnet, new, pool["name"])
    return None


@route("DELETE", "/platform/{v}/network/groupnets/{groupnet}/subnets/{subnet}", min_version=3, privilege=PRIV)
def delete_subnet(req, cluster):
    with cluster.world.lock:
        groupnet, name = req.params["groupnet"], req.params["subnet"]
        record = _subnet(cluster, groupnet, name)
        if record["pools"] and not req.flag("force"):
            raise ApiError(409, "AEC_CONFLICT", "Subnet %s.%s still has pools" % (groupnet, name))
        del _groupnet(cluster, groupnet)["subnets"][name]
        observe_claims(cluster.world)
    return None


# --- pools ----------------------------------------------------------------------------

def _filter_pools(pools: List[Dict[str, Any]], query: Dict[str, str]) -> List[Dict[str, Any]]:
    for field in ("access_zone", "alloc_method", "groupnet", "subnet"):
        if field in query:
            pools = [pool for pool in pools if pool[field] == query[field]]
    return [dict(pool) for pool in pools]


def _check_pool_body(cluster: Any, body: Dict[str, Any]) -> None:
    _check_name(body, "pool")
    _check_ranges(body, "ranges")
    _check_zone(cluster, body)
    _check_sc_names(body)
    for item in body.get("ifaces") or []:
        _shared.validate(item, {"iface": "str", "lnn": "int"}, "pool interface")
    for item in body.get("static_routes") or []:
        _shared.validate(item, {"gateway": "str", "prefixlen": "int", "subnet": "str"},
                         "static route", required=("gateway", "prefixlen", "subnet"))


@route("GET", "/platform/{v}/network/pools", min_version=3, privilege=PRIV)
def list_all_pools(req, cluster):
    query = _shared.list_query(req.query)
    return _shared.page(_filter_pools(all_pools(cluster), query), query, "pools")


@route("GET", "/platform/{v}/network/groupnets/{groupnet}/subnets/{subnet}/pools", min_version=3, privilege=PRIV)
def list_pools(req, cluster):
    query = _shared.list_query(req.query)
    pools = list(_subnet(cluster, req.params["groupnet"], req.params["subnet"])["pools"].values())
    return _shared.page(_filter_pools(pools, query), query, "pools")


@route("POST", "/platform/{v}/network/groupnets/{groupnet}/subnets/{subnet}/pools", min_version=3, privilege=PRIV)
def create_pool(req, cluster):
    body = _shared.validate(req.body, POOL_SPEC, "pool", required=("name",))
    _check_pool_body(cluster, body)
    groupnet, subnet = req.params["groupnet"], req.params["subnet"]
    with cluster.world.lock:
        pools = _subnet(cluster, groupnet, subnet)["pools"]
        if body["name"] in pools:
            raise exists("Pool %s.%s.%s already exists" % (groupnet, subnet, body["name"]))
        pools[body["name"]] = dict(_pool_defaults(groupnet, subnet, body["name"]), **_copy(body))
        observe_claims(cluster.world)
    return _created("%s.%s.%s" % (groupnet, subnet, body["name"]))


@route("GET", "/platform/{v}/network/groupnets/{groupnet}/subnets/{subnet}/pools/{pool}",
       min_version=3, privilege=PRIV)
def get_pool(req, cluster):
    pool = _pool(cluster, req.params["groupnet"], req.params["subnet"], req.params["pool"])
    return single("pools", dict(pool))


@route("PUT", "/platform/{v}/network/groupnets/{groupnet}/subnets/{subnet}/pools/{pool}",
       min_version=3, privilege=PRIV)
def update_pool(req, cluster):
    body = _shared.validate(req.body, POOL_SPEC, "pool")
    _check_pool_body(cluster, body)
    groupnet, subnet, old = req.params["groupnet"], req.params["subnet"], req.params["pool"]
    with cluster.world.lock:
        record = _pool(cluster, groupnet, subnet, old)
        pools = _subnet(cluster, groupnet, subnet)["pools"]
        new = body.get("name", old)
        if new != old and new in pools:
            raise exists("Pool %s.%s.%s already exists" % (groupnet, subnet, new))
        # Lists (aliases, ranges, ...) are replaced as a whole, like OneFS.
        record.update(_copy(body))
        if new != old:
            record["id"] = "%s.%s.%s" % (groupnet, subnet, new)
            _subnet(cluster, groupnet, subnet)["pools"] = _renamed(pools, old, new)
        observe_claims(cluster.world)
    return None


@route("DELETE", "/platform/{v}/network/groupnets/{groupnet}/subnets/{subnet}/pools/{pool}",
       min_version=3, privilege=PRIV)
def delete_pool(req, cluster):
    groupnet, subnet, name = req.params["groupnet"], req.params["subnet"], req.params["pool"]
    with cluster.world.lock:
        _pool(cluster, groupnet, subnet, name)
        del _subnet(cluster, groupnet, subnet)["pools"][name]
        observe_claims(cluster.world)
    return None


@route("POST", "/platform/{v}/network/groupnets/{groupnet}/subnets/{subnet}/pools/{pool}/rebalance-ips",
       min_version=3, privilege=PRIV)
def rebalance_pool(req, cluster):
    if req.body not in (None, {}):
        _shared.validate(req.body, {}, "rebalance-ips")
    with cluster.world.lock:
        pool = _pool(cluster, req.params["groupnet"], req.params["subnet"], req.params["pool"])
        counters = cluster.store.setdefault("network_rebalances", {})
        counters[pool["id"]] = counters.get(pool["id"], 0) + 1
    return {}


@route("POST", "/platform/{v}/network/sc-rebalance-all", min_version=3, privilege=PRIV)
def rebalance_all(req, cluster):
    if req.body not in (None, {}):
        _shared.validate(req.body, {}, "sc-rebalance-all")
    with cluster.world.lock:
        counters = cluster.store.setdefault("network_rebalances", {})
        for pool in all_pools(cluster):
            counters[pool["id"]] = counters.get(pool["id"], 0) + 1
    return {}


# --- helpers --------------------------------------------------------------------------

def _created(ident: str) -> Response:
    return Response(201, {"id": ident})


def _copy(body: Dict[str, Any]) -> Dict[str, Any]:
    """Deep-enough copy so later edits of the caller's lists do not leak into the store."""
    return {key: (list(value) if isinstance(value, list) else value) for key, value in body.items()}


def _renamed(mapping: Dict[str, Any], old: str, new: str) -> Dict[str, Any]:
    """The same ordered mapping with one key renamed in place."""
    return {(new if key == old else key): value for key, value in mapping.items()}


def find_pool(cluster: Any, pool_id: str) -> Optional[Dict[str, Any]]:
    for pool in all_pools(cluster):
        if pool["id"] == pool_id:
            return pool
    return None
