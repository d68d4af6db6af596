"""dr_readiness against the simulated clusters: the clean demo passes, each planted fault is found.

Faults are planted through the clusters' own API (as an admin would make them) with
``requests``; the module is run as Ansible runs it, with the read-only ``auditor`` account.
"""

import json
import time
import xml.etree.ElementTree as ET

import pytest
import requests as http

FINANCE_POOLS = [{"source": "groupnet0.subnet0.finance", "target": "groupnet0.subnet0.finance"}]
FINANCE = ["fin-ap", "fin-ar", "fin-archive", "fin-reports"]


def api(onefs, cluster, method, path, **kwargs):
    resp = http.request(method, onefs.mock.url(cluster) + path, auth=("admin", "admin"),
                        verify=onefs.ca_path or False, timeout=30, **kwargs)
    assert resp.status_code < 300, (method, path, resp.status_code, resp.text)
    return resp.json() if resp.content else None


def readiness(onefs, user="auditor", **args):
    full = {"zone": "finance", "pools": FINANCE_POOLS, "config_sync": True, "rpo": 3600,
            "peer": onefs.conn("target", user, user)}
    full.update(args)
    conn = onefs.conn("source", user, user)
    full.update(conn)
    return onefs.run("dr_readiness", full, with_conn=False)


def non_ok(result, check=None):
    return [r for r in result["results"] if r["result"] != "ok" and (check is None or r["check"] == check)]


def find(result, check, obj):
    found = [r for r in result["results"] if r["check"] == check and r["object"] == obj]
    assert found, "no %s result for %s in %s" % (check, obj, json.dumps(result["results"], indent=1))
    return found[0]


def test_clean_demo_passes_with_a_readonly_account_and_writes_nothing(onefs, tmp_path):
    result = readiness(onefs, report_dir=str(tmp_path / "out"))
    assert result["_rc"] == 0, result
    assert result["counts"]["error"] == 0, non_ok(result)
    assert result["blocked"] is False
    assert sorted(result["policies"]) == FINANCE
    # The demo's DR side lacks the ar and reports shares: config sync will create them.
    missing = sorted(r["object"] for r in non_ok(result, "smb_share"))
    assert missing == ["ar", "reports"]
    assert all(r["result"] == "warning" and "config sync" in r["reason"] for r in non_ok(result, "smb_share"))
    assert find(result, "cluster_reachable", "source")["result"] == "ok"
    assert "9.5.0.0" in find(result, "onefs_version", "clusters")["reason"]
    assert find(result, "smartconnect_name", "fin.prod.example.com")["result"] == "ok"
    assert find(result, "spn_source", "HOST/finance.prod.example.com")["result"] == "ok"
    # Readiness never writes, and it ran as the read-only user on both clusters.
    assert onefs.writes() == []
    users = set(e.get("user") for c in ("source", "target") for e in onefs.requests(c) if e.get("user"))
    assert users == {"auditor"}
    # The files are well-formed and say the same.
    doc = json.loads((tmp_path / "out" / "readiness.json").read_text())
    assert doc["counts"] == result["counts"] and len(doc["results"]) == len(result["results"])
    suite = ET.parse(str(tmp_path / "out" / "readiness-junit.xml")).getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) == len(result["results"])
    assert len(suite.findall(".//skipped")) == result["counts"]["warning"]
    assert result["estimate"]["waves"] == 1 and result["estimate"]["failover_s"] > 0
    assert any(line.startswith("estimate:") for line in result["lines"])


def test_block_on_warning_blocks_and_fails(onefs):
    result = readiness(onefs, block_on_warning=True, fail_on_block=True)
    assert result["_rc"] != 0 and result["blocked"] is True
    assert "not ready" in result["msg"] and "smb_share" in result["msg"]


def test_missing_share_without_config_sync_is_an_error(onefs):
    before = readiness(onefs, config_sync=False)
    assert find(before, "smb_share", "ap")["result"] == "ok"
    api(onefs, "target", "DELETE", "/platform/12/protocols/smb/shares/ap", params={"zone": "finance"})
    after = readiness(onefs, config_sync=False)
    share = find(after, "smb_share", "ap")
    assert share["result"] == "error" and "config sync is off" in share["reason"]


def test_disabled_policy(onefs):
    api(onefs, "source", "PUT", "/platform/14/sync/policies/fin-ar", json={"enabled": False})
    result = readiness(onefs)
    assert [r["object"] for r in non_ok(result, "policy_enabled")] == ["fin-ar"]
    assert find(result, "policy_enabled", "fin-ar")["result"] == "error"
    assert result["blocked"] is True


@pytest.mark.timeout(120)
def test_stale_last_success(onefs):
    # every seeded sync is now 8 s old; the fresh ones have 6 s (the RPO) to be read, which a loaded
    # 2-core machine needs (3 s was once too short)
    time.sleep(8)
    for name in ("fin-ap", "fin-ar", "fin-archive"):
        api(onefs, "source", "POST", "/platform/15/sync/jobs", json={"id": name})
    onefs._control("POST", "/_mock/wait_idle", json={"timeout": 60})
    result = readiness(onefs, rpo=6)
    assert [r["object"] for r in non_ok(result, "rpo")] == ["fin-reports"]
    assert "older than the RPO of 6s" in find(result, "rpo", "fin-reports")["reason"]


@pytest.mark.timeout(120)
def test_running_job(onefs):
    scale = onefs._control("GET", "/_mock/time")
    onefs._control("POST", "/_mock/time", json={"scale": 0.02})   # jobs now take minutes
    try:
        api(onefs, "source", "POST", "/platform/15/sync/jobs", json={"id": "fin-reports"})
        result = readiness(onefs)
        job = find(result, "no_blocking_job", "fin-reports")
        assert job["result"] == "warning" and "final sync waits" in job["reason"]
        assert [r["object"] for r in non_ok(result, "no_blocking_job")] == ["fin-reports"]
    finally:
        onefs._control("POST", "/_mock/time", json={"scale": scale.get("scale", 50)})
        http.put(onefs.mock.url("source") + "/platform/15/sync/jobs/fin-reports", json={"state": "canceled"},
                 auth=("admin", "admin"), verify=onefs.ca_path or False, timeout=30)
        onefs._control("POST", "/_mock/wait_idle", json={"timeout": 20})


def test_spn_collision(onefs):
    provider = api(onefs, "target", "GET", "/platform/11/auth/providers/ads/AD.EXAMPLE.COM")["ads"][0]
    api(onefs, "target", "PUT", "/platform/11/auth/providers/ads/AD.EXAMPLE.COM",
        json={"spns": provider["spns"] + ["HOST/fin.prod.example.com"], "user": "admin", "password": "pw"})
    result = readiness(onefs)
    assert [r["object"] for r in non_ok(result, "spn_collision")] == ["HOST/fin.prod.example.com"]
    assert "DR-PS" in find(result, "spn_collision", "HOST/fin.prod.example.com")["reason"]


def test_name_claimed_twice(onefs):
    api(onefs, "target", "PUT", "/platform/3/network/groupnets/groupnet0/subnets/subnet0/pools/finance",
        json={"sc_dns_zone_aliases": ["fin.prod.example.com"]})
    result = readiness(onefs)
    assert [r["object"] for r in non_ok(result, "smartconnect_name")] == ["fin.prod.example.com"]
    assert "claimed by 2 pools" in find(result, "smartconnect_name", "fin.prod.example.com")["reason"]


def test_missing_target_pool(onefs):
    result = readiness(onefs, pools=[{"source": "groupnet0.subnet0.finance", "target": "groupnet0.subnet0.nope"}])
    assert find(result, "smartconnect_pool", "target groupnet0.subnet0.nope")["result"] == "error"


def test_conflicting_quota(onefs):
    api(onefs, "target", "POST", "/platform/1/quota/quotas",
        json={"path": "/ifs/data/finance/ar", "type": "directory", "include_snapshots": False,
              "enforced": True, "thresholds": {"hard": 1073741824}})
    result = readiness(onefs)
    bad = non_ok(result, "quota_conflict")
    assert [r["object"] for r in bad] == ["directory quota /ifs/data/finance/ar"]
    assert bad[0]["result"] == "error" and "hard 10737418240 != 1073741824" in bad[0]["reason"]


def test_unreachable_target_is_an_error(onefs):
    onefs._control("POST", "/_mock/down", cluster="target", json={})
    try:
        result = readiness(onefs, peer=dict(onefs.conn("target", "auditor", "auditor"), retry_budget=1))
    finally:
        http.post(onefs.mock.url("source") + "/_mock/up?cluster=target", verify=onefs.ca_path or False, timeout=30)
    assert find(result, "cluster_reachable", "target")["result"] == "error"
    assert result["blocked"] is True
