"""The shipped scenarios keep the promises their comments make."""

import pytest

from onefs_mock.testing import start_mock

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def demo():
    server = start_mock(clusters=("source", "target"), seed="demo", tls=False, time_scale=1000)
    yield server
    server.stop()


def test_demo_policies_are_synced_and_mixed(demo):
    source = demo.control.state("source")
    policies = {p["name"]: p for p in source["policies"]}
    assert len(policies) == 10
    schedules = [p["schedule"] for p in policies.values()]
    assert schedules.count("when-source-modified") == 4
    assert any(s.startswith("every ") for s in schedules) and "" in schedules
    assert all(p["last_job_state"] == "finished" for p in policies.values())
    assert policies["fin-archive"]["target_path"] != policies["fin-archive"]["source_root_path"]
    zones = {z["name"]: z["path"] for z in source["zones"]}
    assert zones == {"System": "/ifs", "finance": "/ifs/data/finance", "eng": "/ifs/data/eng"}
    target = demo.control.state("target")
    assert {t["name"] for t in target["target_policies"]} == set(policies)
    assert {t["failover_failback_state"] for t in target["target_policies"]} == {"writes_disabled"}
    assert "/ifs/dr/finance/archive/2020/ledger.txt" in target["files"]


def test_demo_names_live_on_the_source_and_target_pools_wait_for_them(demo):
    dns = demo.control.dns()
    claims = {item["name"]: item["claims"] for item in dns["names"]}
    for name in ("finance.prod.example.com", "fin.prod.example.com", "eng.prod.example.com",
                 "engineering.prod.example.com", "build.prod.example.com"):
        assert claims[name] == ["source"]
    assert dns["split_brain"] == []
    target_pools = {p["name"]: p for p in demo.control.state("target")["pools"]}
    assert target_pools["finance"]["sc_dns_zone"] == "" and target_pools["finance"]["sc_dns_zone_aliases"] == []
    assert target_pools["eng"]["access_zone"] == "eng"


def test_demo_spns_cover_the_source_names_without_collisions(demo):
    ads = demo.control.state("source")["ads"][0]
    assert set(ads["recommended_spns"]) <= set(ads["spns"])
    assert ads["dup_spns"] == []
    spn = demo.control.spn()
    assert spn["collisions"] == [] and spn["history"] == []


def test_demo_configuration_is_partly_on_the_target(demo):
    source, target = demo.control.state("source"), demo.control.state("target")
    source_shares = {(s["zone"], s["name"]) for s in source["smb_shares"]}
    target_shares = {(s["zone"], s["name"]) for s in target["smb_shares"]}
    assert target_shares and target_shares < source_shares
    assert len(target["nfs_exports"]) < len(source["nfs_exports"])
    assert len(source["quotas"]) == 6 and target["quotas"] == []
    policy_roots = [p["source_root_path"] for p in source["policies"]]
    for quota in source["quotas"]:
        assert any(quota["path"] == root or quota["path"].startswith(root + "/") for root in policy_roots)


def test_minimal_scenario_has_one_policy():
    server = start_mock(clusters=("source", "target"), seed="minimal", tls=False, time_scale=1000)
    try:
        source = server.control.state("source")
        assert [p["name"] for p in source["policies"]] == ["p1"]
        assert server.control.state("target")["files"].get("/ifs/data/app1/readme.txt")
    finally:
        server.stop()
