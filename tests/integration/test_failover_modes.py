"""The failover role's modes (seeds 003/004) against the mock: access_zone, ip_pool, dfs - and their failback.

What clients see is read from the mock: which cluster claims each SmartConnect name (/_mock/dns),
the SPN registry and its collisions over time (/_mock/spn), and the shares on each side.
"""

import pytest
import requests as http

from dr_roles_helpers import inventory_vars, policy, record, role_playbook
from test_failover_role import AD, FIN_SPNS, pool, spns

FIN_NAMES = ["finance.prod.example.com", "fin.prod.example.com"]
ENG_POOL = "groupnet0.subnet0.eng"
ENG_NAMES = ["eng.prod.example.com", "engineering.prod.example.com", "build.prod.example.com"]


def run(onefs, role, inventory, **role_vars):
    settings = {"%s_poll_interval" % role: 0.2, "%s_timeout" % role: 120}
    if role == "failover":
        settings["failover_readiness"] = False
    settings.update(role_vars)
    return onefs.playbook(role_playbook(role, **settings), inventory)


def claims(onefs, name):
    return onefs.mock.control.dns(name)["claims"]


def zone_inventory(onefs, mode, **extra):
    data = inventory_vars(onefs, [], onefs_dr_zone="finance", onefs_dr_mode=mode,
                          onefs_dr_spn_provider="AD.EXAMPLE.COM", onefs_dr_ad=AD)
    data.update(extra)
    return data


@pytest.mark.timeout(400)
def test_access_zone_mode_moves_the_zone_and_its_pools_without_a_pool_mapping(onefs):
    inventory = zone_inventory(onefs, "access_zone")
    rc, out, err = run(onefs, "failover", inventory)
    assert rc == 0, out + err
    source, target = onefs.state("source"), onefs.state("target")
    for name in ("fin-ap", "fin-ar", "fin-reports", "fin-archive"):         # every policy of the zone
        assert record(target, name)["failover_failback_state"] == "writes_enabled"
    assert record(target, "eng-src")["failover_failback_state"] == "writes_disabled"
    for name in FIN_NAMES:
        assert claims(onefs, name) == ["target"]
    for spn in FIN_SPNS:
        assert spn.lower() in spns(target) and spn.lower() not in spns(source)
    assert onefs.mock.control.spn()["collisions"] == []
    # config sync is on in this mode: every share of the zone exists on the target with the same settings
    shares = dict(((s["zone"], s["name"]), s) for s in target["smb_shares"])
    for share in (s for s in source["smb_shares"] if s["zone"] == "finance"):
        assert shares[("finance", share["name"])]["permissions"] == share["permissions"]
    # back again, keeping the target's data: names return to the source
    rc, out, err = run(onefs, "failback", inventory, failback_discard="source")
    assert rc == 0, out + err
    for name in FIN_NAMES:
        assert claims(onefs, name) == ["source"]
    assert onefs.mock.control.spn()["collisions"] == []
    assert policy(onefs.state("source"), "fin-ap")["enabled"]


@pytest.mark.timeout(400)
def test_ip_pool_mode_moves_one_pool_and_its_policies_with_the_igls_prefix(onefs):
    ip_pool = {"source": ENG_POOL, "target": ENG_POOL, "policies": ["eng-src", "eng-docs"]}
    inventory = inventory_vars(onefs, [], onefs_dr_mode="ip_pool", onefs_dr_ip_pool=ip_pool,
                               onefs_dr_spn_provider="AD.EXAMPLE.COM", onefs_dr_ad=AD, onefs_dr_park_prefix="igls-")
    rc, out, err = run(onefs, "failover", inventory)
    assert rc == 0, out + err
    source, target = onefs.state("source"), onefs.state("target")
    assert pool(source, ENG_POOL)["sc_dns_zone"] == "igls-eng.prod.example.com"
    parked = ["igls-build.prod.example.com", "igls-engineering.prod.example.com"]
    assert sorted(pool(source, ENG_POOL)["sc_dns_zone_aliases"]) == parked
    for name in ENG_NAMES:
        assert claims(onefs, name) == ["target"]
    for name in FIN_NAMES:
        assert claims(onefs, name) == ["source"]                         # other pools stay
    assert record(target, "eng-src")["failover_failback_state"] == "writes_enabled"
    assert record(target, "eng-docs")["failover_failback_state"] == "writes_enabled"
    assert record(target, "eng-builds")["failover_failback_state"] == "writes_disabled"   # not mapped to the pool
    assert onefs.mock.control.spn()["collisions"] == []
    onefs.clear_log()
    rc, out, err = run(onefs, "failover", inventory)
    assert rc == 0, out + err
    assert onefs.writes() == []


@pytest.mark.timeout(400)
def test_dfs_mode_swaps_the_share_names_and_moves_no_name_or_spn(onefs):
    # a DFS pair: the target holds no share of the zone under its real name (standby copies only)
    for name in [s["name"] for s in onefs.state("target")["smb_shares"] if s["zone"] == "finance"]:
        http.delete(onefs.mock.url("target") + "/platform/12/protocols/smb/shares/" + name, params={"zone": "finance"},
                    auth=("admin", "admin"), verify=onefs.ca_path, timeout=30).raise_for_status()
    inventory = zone_inventory(onefs, "dfs")
    spn_before = onefs.mock.control.spn()["registry"]
    rc, out, err = run(onefs, "failover", inventory)
    assert rc == 0, out + err
    source, target = onefs.state("source"), onefs.state("target")
    source_names = sorted(s["name"] for s in source["smb_shares"] if s["zone"] == "finance")
    target_names = sorted(s["name"] for s in target["smb_shares"] if s["zone"] == "finance")
    assert source_names == ["dfs-standby-ap", "dfs-standby-ar", "dfs-standby-reports"]
    assert target_names == ["ap", "ar", "reports"]
    for name in FIN_NAMES:
        assert claims(onefs, name) == ["source"]                         # DFS: names and SPNs stay
    assert onefs.mock.control.spn()["registry"] == spn_before
    assert pool(target)["sc_dns_zone"] == ""
    rc, out, err = run(onefs, "failback", inventory, failback_discard="target")
    assert rc == 0, out + err
    source, target = onefs.state("source"), onefs.state("target")
    assert sorted(s["name"] for s in source["smb_shares"] if s["zone"] == "finance") == ["ap", "ar", "reports"]
    assert sorted(s["name"] for s in target["smb_shares"] if s["zone"] == "finance") == \
        ["dfs-standby-ap", "dfs-standby-ar", "dfs-standby-reports"]
