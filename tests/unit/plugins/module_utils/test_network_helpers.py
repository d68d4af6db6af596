"""Pure SmartConnect helpers of plugins/module_utils/network.py (no I/O)."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import network as net


def test_split_pool_id_accepts_three_parts():
    assert net.split_pool_id("groupnet0.subnet0.pool0") == ("groupnet0", "subnet0", "pool0")


@pytest.mark.parametrize("bad", ["", "pool0", "g.s", "g.s.p.x", "g..p", None])
def test_split_pool_id_refuses_other_shapes(bad):
    with pytest.raises(net.PoolIdError, match="groupnet.subnet.pool"):
        net.split_pool_id(bad)


def test_valid_dns_name():
    assert net.valid_dns_name("cifs.example.com")
    assert net.valid_dns_name("cifs.example.com.")
    assert not net.valid_dns_name("bad name.example.com")
    assert not net.valid_dns_name("-lead.example.com")
    assert not net.valid_dns_name("")


def test_plan_aliases_present_appends_missing_only_case_insensitively():
    assert net.plan_aliases(["a.x.com", "b.x.com"], ["B.x.com", "c.x.com"], "present") == \
        ["a.x.com", "b.x.com", "c.x.com"]


def test_plan_aliases_absent_really_removes():
    assert net.plan_aliases(["a.x.com", "b.x.com"], ["A.X.COM."], "absent") == ["b.x.com"]


def test_plan_aliases_exact_replaces_and_deduplicates():
    assert net.plan_aliases(["a.x.com"], ["c.x.com", "C.x.com", "d.x.com"], "exact") == ["c.x.com", "d.x.com"]


def test_plan_aliases_none_keeps_current():
    assert net.plan_aliases(["a.x.com"], None, "exact") == ["a.x.com"]


def test_plan_aliases_unknown_state():
    with pytest.raises(ValueError, match="aliases_state"):
        net.plan_aliases([], [], "merge")


def test_park_and_unpark_never_double_prefix():
    assert net.park_name("cifs.x.com", "parked-") == "parked-cifs.x.com"
    assert net.park_name("parked-cifs.x.com", "parked-") == "parked-cifs.x.com"
    assert net.park_name("PARKED-cifs.x.com", "parked-") == "PARKED-cifs.x.com"
    assert net.park_name("", "parked-") == ""
    assert net.unpark_name("parked-cifs.x.com", "parked-") == "cifs.x.com"
    assert net.unpark_name("cifs.x.com", "parked-") == "cifs.x.com"


def test_plan_pool_park_renames_zone_and_every_alias():
    pool = {"sc_dns_zone": "cifs.x.com", "sc_dns_zone_aliases": ["nfs.x.com", "parked-old.x.com"]}
    after, body, actions = net.plan_pool(pool, {"state": "parked", "park_prefix": "parked-"})
    assert body == {"sc_dns_zone": "parked-cifs.x.com",
                    "sc_dns_zone_aliases": ["parked-nfs.x.com", "parked-old.x.com"]}
    assert after["sc_dns_zone"] == "parked-cifs.x.com"
    assert actions == ["park zone cifs.x.com as parked-cifs.x.com", "park alias nfs.x.com as parked-nfs.x.com"]
    # parking again changes nothing
    again = dict(pool, sc_dns_zone=after["sc_dns_zone"], sc_dns_zone_aliases=after["aliases"])
    assert net.plan_pool(again, {"state": "parked", "park_prefix": "parked-"})[1] == {}


def test_plan_pool_unpark_restores_names():
    pool = {"sc_dns_zone": "igls-cifs.x.com", "sc_dns_zone_aliases": ["igls-nfs.x.com", "plain.x.com"]}
    after, body, actions = net.plan_pool(pool, {"state": "unparked", "park_prefix": "igls-"})
    assert after == {"sc_dns_zone": "cifs.x.com", "aliases": ["nfs.x.com", "plain.x.com"]}
    assert set(body) == {"sc_dns_zone", "sc_dns_zone_aliases"}
    assert len(actions) == 2


def test_plan_pool_present_zone_and_alias_changes():
    pool = {"sc_dns_zone": "old.x.com", "sc_dns_zone_aliases": ["a.x.com"]}
    after, body, actions = net.plan_pool(pool, {"state": "present", "sc_dns_zone": "new.x.com",
                                                "aliases": ["a.x.com", "b.x.com"], "aliases_state": "exact"})
    assert body == {"sc_dns_zone": "new.x.com", "sc_dns_zone_aliases": ["a.x.com", "b.x.com"]}
    assert actions == ["rename zone old.x.com to new.x.com", "add alias b.x.com"]
    assert after["aliases"] == ["a.x.com", "b.x.com"]


def test_plan_pool_no_change_when_only_case_or_order_differs():
    pool = {"sc_dns_zone": "Cifs.X.com", "sc_dns_zone_aliases": ["b.x.com", "a.x.com"]}
    _after, body, actions = net.plan_pool(pool, {"state": "present", "sc_dns_zone": "cifs.x.com",
                                                 "aliases": ["a.x.com", "b.x.com"], "aliases_state": "exact"})
    assert body == {} and actions == []


def test_claims_lists_released_and_claimed_names():
    before = {"sc_dns_zone": "cifs.x.com", "aliases": ["nfs.x.com"]}
    after = {"sc_dns_zone": "parked-cifs.x.com", "aliases": ["nfs.x.com"]}
    assert net.claims(before, after) == (["cifs.x.com"], ["parked-cifs.x.com"])


def test_names_by_pool_and_name_collisions():
    pools = [{"id": "g.s.a", "sc_dns_zone": "Files.X.com.", "sc_dns_zone_aliases": ["f.x.com"]},
             {"id": "g.s.b", "sc_dns_zone": "", "sc_dns_zone_aliases": []}]
    peer = net.names_by_pool(pools)
    assert peer == {"files.x.com": "g.s.a", "f.x.com": "g.s.a"}
    assert net.name_collisions(["files.x.com", "other.x.com"], peer) == [{"name": "files.x.com", "peer_pool": "g.s.a"}]
