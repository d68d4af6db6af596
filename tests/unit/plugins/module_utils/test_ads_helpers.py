"""Pure SPN helpers of plugins/module_utils/ads.py (no I/O)."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import ads


def test_spns_from_smartconnect_gives_short_and_fqdn():
    assert ads.spns_from_smartconnect(["cifs.ad.example.com", "nfs.ad.example.com."]) == [
        "HOST/cifs", "HOST/cifs.ad.example.com", "HOST/nfs", "HOST/nfs.ad.example.com"]


def test_spns_from_smartconnect_deduplicates_short_names():
    assert ads.spns_from_smartconnect(["cifs.a.com", "cifs.b.com"]) == ["HOST/cifs", "HOST/cifs.a.com", "HOST/cifs.b.com"]


@pytest.mark.parametrize("spn,ok", [("HOST/cifs", True), ("HOST/cifs.x.com", True), ("nfs/x.com:2049", True),
                                    ("HOST/x.com/X.COM", True), ("HOST", False), ("HOST/ bad", False),
                                    ("/cifs", False), ("", False)])
def test_valid_spn(spn, ok):
    assert ads.valid_spn(spn) is ok


def test_plan_spns_states():
    current = ["HOST/a", "HOST/b"]
    assert ads.plan_spns(current, ["host/B", "HOST/c"], "present") == ["HOST/a", "HOST/b", "HOST/c"]
    assert ads.plan_spns(current, ["host/B", "HOST/c"], "absent") == ["HOST/a"]
    assert ads.plan_spns(current, ["HOST/c"], "exact") == ["HOST/c"]
    with pytest.raises(ValueError):
        ads.plan_spns(current, [], "fix")


def test_spn_check_missing_and_extra_respect_extra_expected():
    provider = {"spns": ["HOST/a", "HOST/old", "HTTP/web"], "recommended_spns": ["HOST/a", "HOST/b"],
                "extra_expected_spns": ["HTTP/web"]}
    assert ads.spn_check(provider) == {"missing": ["HOST/b"], "extra": ["HOST/old"]}


def test_plan_extra_expected_follows_adds_and_removes():
    extra = ads.plan_extra_expected(["HTTP/web", "HOST/gone"], ["HOST/a"], added=["HOST/a", "HOST/new"],
                                    removed=["HOST/gone"])
    assert extra == ["HTTP/web", "HOST/new"]


def test_collisions_name_the_peer_account():
    peer = {"machine_account": "PROD-PS$", "spns": ["HOST/cifs", "HOST/cifs.x.com"]}
    assert ads.collisions(["host/CIFS", "HOST/other"], peer) == [{"spn": "host/CIFS", "account": "PROD-PS$"}]
    assert ads.collisions(["HOST/cifs"], None) == []


def test_plan_provider_actions():
    provider = {"spns": ["HOST/a"], "recommended_spns": ["HOST/a", "HOST/b"], "extra_expected_spns": []}
    desired, added, removed, extra, actions = ads.plan_provider(provider, ["HOST/b", "HTTP/x"], "exact")
    assert desired == ["HOST/b", "HTTP/x"]
    assert added == ["HOST/b", "HTTP/x"] and removed == ["HOST/a"]
    assert extra == ["HTTP/x"]
    assert actions == ["add SPN HOST/b", "add SPN HTTP/x", "remove SPN HOST/a", "update extra_expected_spns"]
