"""Active Directory providers and SPNs (reference section 7).

Per cluster, ``cluster.store["ads"]`` maps the provider id (upper-case domain)
to its record.  The AD credentials sent with a create or an SPN change are
checked for presence and then dropped: they are never stored.

The domain-wide SPN registry is not stored separately: it is the union of
the ``spns`` of every provider of every cluster joined to the same domain,
plus SPNs the scenario registers on other machine accounts
(``domains: [{name, spns: {SPN: ACCOUNT$}}]``).  An SPN registered on two
machine accounts is a collision (Kerberos then fails for that name); every
collision seen is kept with its time in ``world.store["ad"]["history"]`` so
SPNs moved in the wrong order (added on the target before being removed
from the source) stay detectable after the fact.
"""

from typing import Any, Dict, List, Tuple

from ..framework import ApiError, Response, bad_request, exists, not_found, register_area, route
from . import _shared
from .dns import pool_names

PRIV = "ISI_PRIV_AUTH"

SETTINGS_SPEC = {
    "allocate_gids": "bool", "allocate_uids": "bool", "assume_default_domain": "bool",
    "authentication": "bool", "check_online_interval": "int 30..86400", "controller_time": "int 0..4294967295",
    "create_home_directory": "bool", "domain_offline_alerts": "bool",
    "extra_expected_spns": "list[str]", "findable_groups": "list[str]", "findable_users": "list[str]",
    "home_directory_template": "str", "ignore_all_trusts": "bool",
    "ignored_trusted_domains": "list[str]", "include_trusted_domains": "list[str]",
    "ldap_sign_and_seal": "bool", "login_shell": "str", "lookup_domains": "list[str]",
    "lookup_groups": "bool", "lookup_normalize_groups": "bool", "lookup_normalize_users": "bool",
    "lookup_users": "bool", "machine_account": "str", "machine_password_changes": "bool",
    "machine_password_lifespan": "int 3600..31536000", "node_dc_affinity": "str", "node_dc_affinity_timeout": "int",
    "nss_enumeration": "bool", "restrict_findable": "bool", "rpc_call_timeout": "int 0..3600",
    "server_retry_limit": "int 0..65535", "sfu_support": ("none", "rfc2307"), "store_sfu_mappings": "bool",
    "unfindable_groups": "list[str]", "unfindable_users": "list[str]",
    "user": "str", "password": "str",
}
CREATE_SPEC = dict(SETTINGS_SPEC, name="str", dns_domain="str", groupnet="str", instance="str",
                   kerberos_hdfs_spn="bool", kerberos_nfs_spn="bool", organizational_unit="str")
UPDATE_SPEC = dict(SETTINGS_SPEC, spns="list[str]", domain_controller="str", reset_schannel="bool")
CREDENTIALS = ("user", "password")


# --- records ----------------------------------------------------------------------------

def _store(cluster: Any) -> Dict[str, Dict[str, Any]]:
    return cluster.store.setdefault("ads", {})


def _world(world: Any) -> Dict[str, Any]:
    return world.store.setdefault("ad", {"external": {}, "unique": set(), "last": {}, "history": [],
                                         "refused": []})


def _account(name: str) -> str:
    name = name.strip().upper()
    return name if name.endswith("$") else name + "$"


def _short(account: str) -> str:
    return account.rstrip("$").lower()


def _default_account(cluster: Any) -> str:
    config = getattr(cluster, "config", None) or {}
    return _account(config.get("cluster_name") or cluster.name)


def own_spns(record: Dict[str, Any]) -> List[str]:
    """The SPNs a machine account registers for itself when joining."""
    short = _short(record["machine_account"])
    return ["HOST/%s" % short, "HOST/%s" % record["hostname"]]


def _new_record(cluster: Any, body: Dict[str, Any]) -> Dict[str, Any]:
    domain = body["name"].strip().rstrip(".").upper()
    account = _account(body.get("machine_account") or _default_account(cluster))
    record = {
        "allocate_gids": True, "allocate_uids": True, "assume_default_domain": False,
        "authentication": True, "check_online_interval": 300, "controller_time": 0,
        "create_home_directory": False, "domain_offline_alerts": False, "dup_spns": [],
        "extra_expected_spns": [], "findable_groups": [], "findable_users": [],
        "forest": domain.lower(), "groupnet": "groupnet0", "home_directory_template": "/ifs/home/%D/%U",
        "hostname": "%s.%s" % (_short(account), domain.lower()), "id": domain,
        "ignore_all_trusts": False, "ignored_trusted_domains": [], "include_trusted_domains": [],
        "instance": "", "kerberos_hdfs_spn": False, "kerberos_nfs_spn": False,
        "ldap_sign_and_seal": False, "login_shell": "/bin/zsh", "lookup_domains": [],
        "lookup_groups": True, "lookup_normalize_groups": True, "lookup_normalize_users": True,
        "lookup_users": True, "machine_account": account, "machine_password_changes": True,
        "machine_password_lifespan": 2592000, "name": domain,
        "netbios_domain": domain.split(".")[0], "node_dc_affinity": "", "node_dc_affinity_timeout": 0,
        "nss_enumeration": False, "organizational_unit": "Computers", "primary_domain": domain.lower(),
        "restrict_findable": True, "rpc_call_timeout": 30, "server_retry_limit": 5,
        "sfu_support": "none", "site": "Default-First-Site-Name", "spns": [], "status": "online",
        "store_sfu_mappings": False, "system": False, "unfindable_groups": [], "unfindable_users": [],
        "zone_name": "System",
    }
    for key, value in body.items():
        if key not in CREDENTIALS and key not in ("name", "machine_account", "dns_domain"):
            record[key] = list(value) if isinstance(value, list) else value
    record["spns"] = own_spns(record)
    return record


def recommended_spns(cluster: Any, record: Dict[str, Any]) -> List[str]:
    """What OneFS expects: the machine's own HOST SPNs, then HOST/<short> and
    HOST/<fqdn> for every SmartConnect zone name and alias of the cluster's
    pools in the provider's groupnet (nfs/ too with kerberos_nfs_spn)."""
    from .network import all_pools     # network -> dns -> (late) network
    services = ["HOST"] + (["nfs"] if record.get("kerberos_nfs_spn") else [])
    result = list(own_spns(record))
    for pool in all_pools(cluster):
        if pool.get("groupnet") != record.get("groupnet"):
            continue
        for fqdn in pool_names(pool):
            short = fqdn.split(".")[0]
            for service in services:
                result.extend(["%s/%s" % (service, short), "%s/%s" % (service, fqdn)])
    return _unique(result)


def _unique(spns: List[str]) -> List[str]:
    seen, result = set(), []
    for spn in spns:
        if _shared.fold(spn) not in seen:
            seen.add(_shared.fold(spn))
            result.append(spn)
    return result


def _check_spns(spns: List[str], field: str) -> None:
    for spn in spns:
        service, _, host = spn.partition("/")
        if not service or not host or " " in spn:
            raise bad_request("Invalid SPN %r: expected service/host" % spn, field)


def _view(cluster: Any, record: Dict[str, Any], check_duplicates: bool) -> Dict[str, Any]:
    view = dict(record)
    view["recommended_spns"] = recommended_spns(cluster, record)
    view["dup_spns"] = duplicate_spns(cluster.world, record) if check_duplicates else []
    return view


def _provider(cluster: Any, ident: str) -> Dict[str, Any]:
    found = _store(cluster).get(ident.strip().rstrip(".").upper())
    if found is None:
        raise not_found("Failed to find provider lsa-activedirectory-provider:%s" % ident)
    return found


# --- the domain-wide registry ---------------------------------------------------------------

def registry(world: Any) -> Dict[str, Dict[str, Dict[str, Any]]]:
    """``{domain: {folded spn: {"spn": text, "accounts": [..]}}}`` across every cluster."""
    result: Dict[str, Dict[str, Dict[str, Any]]] = {}

    def add(domain: str, spn: str, account: str) -> None:
        entry = result.setdefault(domain, {}).setdefault(_shared.fold(spn), {"spn": spn, "accounts": []})
        if account not in entry["accounts"]:
            entry["accounts"].append(account)

    for domain, spns in _world(world)["external"].items():
        for spn, account in spns.items():
            add(domain, spn, _account(account))
    for cluster in world.clusters.values():
        for record in _store(cluster).values():
            for spn in record["spns"]:
                add(record["name"], spn, record["machine_account"])
    for entries in result.values():
        for entry in entries.values():
            entry["accounts"].sort()
    return result


def _collisions(world: Any) -> Dict[Tuple[str, str], Dict[str, Any]]:
    found = {}
    for domain, entries in registry(world).items():
        for key, entry in entries.items():
            if len(entry["accounts"]) > 1:
                found[(domain, key)] = {"domain": domain, "spn": entry["spn"], "accounts": entry["accounts"]}
    return found


def observe_spns(world: Any) -> None:
    """Record every new (or changed) collision with its time (call under the lock)."""
    with world.lock:
        store = _world(world)
        current = _collisions(world)
        at = world.now()
        last = store["last"]
        fresh = {}
        for key, entry in current.items():
            previous = last.get(key)
            if previous and previous["accounts"] == entry["accounts"]:
                fresh[key] = previous
                continue
            fresh[key] = dict(entry, at=at)
            store["history"].append(dict(entry, at=at))
        store["last"] = fresh


def duplicate_spns(world: Any, record: Dict[str, Any]) -> List[str]:
    """SPNs of this provider that another machine account of the domain also holds."""
    entries = registry(world).get(record["name"], {})
    return [spn for spn in record["spns"]
            if len(entries.get(_shared.fold(spn), {}).get("accounts", [])) > 1]


# --- seed and dump ----------------------------------------------------------------------------

def init(cluster: Any, seed: Dict[str, Any]) -> None:
    store: Dict[str, Dict[str, Any]] = {}
    cluster.store["ads"] = store
    for item in seed.get("ads") or []:
        body = {key: value for key, value in item.items() if key in CREATE_SPEC and key not in CREDENTIALS}
        record = _new_record(cluster, body)
        if item.get("spns") is not None:
            record["spns"] = _unique(list(item["spns"]))
        store[record["id"]] = record
    if all("ads" in other.store for other in cluster.world.clusters.values()):
        observe_spns(cluster.world)          # the last cluster loaded: seeded collisions count too


def world_init(world: Any, scenario: Dict[str, Any]) -> None:
    external, unique = {}, set()
    for domain in scenario.get("domains") or []:
        if isinstance(domain, dict) and domain.get("name"):
            external[domain["name"].upper()] = dict(domain.get("spns") or {})
            if domain.get("unique_spns"):
                unique.add(domain["name"].upper())
    world.store["ad"] = {"external": external, "unique": unique, "last": {}, "history": [], "refused": []}


def dump(cluster: Any) -> List[Dict[str, Any]]:
    return [_view(cluster, record, True) for record in _store(cluster).values()]


def world_dump(world: Any) -> Dict[str, Any]:
    return spn_state(world)


register_area("ads", init=init, dump=dump)
register_area("domains", world_init=world_init, world_dump=world_dump)


# --- API ---------------------------------------------------------------------------------------

@route("GET", "/platform/{v}/auth/providers/ads", privilege=PRIV)
def list_ads(req, cluster):
    with cluster.world.lock:
        return {"ads": [_view(cluster, record, False) for record in _store(cluster).values()]}


@route("POST", "/platform/{v}/auth/providers/ads", privilege=PRIV)
def create_ads(req, cluster):
    body = _shared.validate(req.body, CREATE_SPEC, "ADS provider", required=("name", "user", "password"))
    _shared.require_non_empty(body, ("name", "user", "password"), "ADS provider")
    _check_spns(body.get("extra_expected_spns") or [], "extra_expected_spns")
    with cluster.world.lock:
        record = _new_record(cluster, body)
        if record["id"] in _store(cluster):
            raise exists("An Active Directory provider for %s already exists" % record["id"])
        _store(cluster)[record["id"]] = record
        observe_spns(cluster.world)
    return Response(201, {"id": record["id"]})


@route("GET", "/platform/{v}/auth/providers/ads/{id}", privilege=PRIV)
def get_ads(req, cluster):
    with cluster.world.lock:
        record = _provider(cluster, req.params["id"])
        return {"ads": [_view(cluster, record, req.flag("check_duplicates"))]}


@route("PUT", "/platform/{v}/auth/providers/ads/{id}", privilege=PRIV)
def update_ads(req, cluster):
    body = _shared.validate(req.body, UPDATE_SPEC, "ADS provider")
    _shared.require_change(body, "ADS provider")
    _check_spns(body.get("spns") or [], "spns")
    _check_spns(body.get("extra_expected_spns") or [], "extra_expected_spns")
    with cluster.world.lock:
        record = _provider(cluster, req.params["id"])
        _check_machine_account(record, body)
        if "spns" in body and _spns_change(record, body["spns"]):
            _require_credentials(body)
            _check_unique(cluster.world, record, body["spns"])
        for key, value in body.items():
            if key in CREDENTIALS or key in ("domain_controller", "reset_schannel", "machine_account"):
                continue
            record[key] = _unique(list(value)) if key == "spns" else (list(value) if isinstance(value, list) else value)
        observe_spns(cluster.world)
    return None


@route("DELETE", "/platform/{v}/auth/providers/ads/{id}", privilege=PRIV)
def delete_ads(req, cluster):
    with cluster.world.lock:
        record = _provider(cluster, req.params["id"])
        del _store(cluster)[record["id"]]
        observe_spns(cluster.world)
    return None


def _check_machine_account(record: Dict[str, Any], body: Dict[str, Any]) -> None:
    if "machine_account" in body and _account(body["machine_account"]) != record["machine_account"]:
        raise bad_request("Field: machine_account cannot be modified on an existing provider", "machine_account")


def _spns_change(record: Dict[str, Any], spns: List[str]) -> bool:
    return {_shared.fold(s) for s in spns} != {_shared.fold(s) for s in record["spns"]}


def _check_unique(world: Any, record: Dict[str, Any], spns: List[str]) -> None:
    """Domains with ``unique_spns`` act like Windows Server 2012 R2+ DCs: an SPN
    already held by another account is refused (and the attempt recorded)."""
    store = _world(world)
    if record["name"] not in store["unique"]:
        return
    entries = registry(world).get(record["name"], {})
    for spn in spns:
        holders = [a for a in entries.get(_shared.fold(spn), {}).get("accounts", []) if a != record["machine_account"]]
        if holders:
            store["refused"].append({"domain": record["name"], "spn": spn, "account": record["machine_account"],
                                     "holders": holders, "at": world.now()})
            raise ApiError(409, "AEC_CONFLICT", "SPN %s is already registered on %s in %s: SPNs must be unique"
                           % (spn, ", ".join(holders), record["name"]), "spns")


def _require_credentials(body: Dict[str, Any]) -> None:
    missing = [name for name in CREDENTIALS if not body.get(name)]
    if missing:
        raise ApiError(400, "AEC_ARG_REQUIRED",
                       "Changing spns requires AD credentials: field(s) %s missing" % " and ".join(missing),
                       missing[0])


# --- control -------------------------------------------------------------------------------------

def spn_state(world: Any) -> Dict[str, Any]:
    with world.lock:
        observe_spns(world)
        flat: Dict[str, List[str]] = {}
        domains: Dict[str, Dict[str, List[str]]] = {}
        for domain, entries in registry(world).items():
            for entry in entries.values():
                domains.setdefault(domain, {})[entry["spn"]] = entry["accounts"]
                merged = flat.setdefault(entry["spn"], [])
                merged.extend(a for a in entry["accounts"] if a not in merged)
        store = _world(world)
        return {"registry": flat, "domains": domains,
                "collisions": [dict(entry) for entry in store["last"].values()],
                "history": [dict(entry) for entry in store["history"]],
                "refused": [dict(entry) for entry in store["refused"]]}


@route("GET", "/_mock/spn")
def get_spn(req, cluster):
    return spn_state(cluster.world)
