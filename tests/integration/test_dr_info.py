"""dr_info against the mock: the real module process, real SyncIQ transitions.

Transitions are driven through the mock's Platform API with plain ``requests``
(the calls an operator or the roles would make); after each step dr_info must
report the expected word.  Read-only-ness is proven from the request log.
"""

import ast
import json
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.timeout(240)

POLICY_NAMES = ["eng-builds", "eng-docs", "eng-src", "eng-tools", "fin-ap", "fin-ar", "fin-archive",
                "fin-reports", "home", "it-scripts"]
JOBS = "/platform/15/sync/jobs"
POLICIES = "/platform/14/sync/policies"


# --------------------------------------------------------------------------- helpers
def papi(onefs, cluster, method, path, body=None, expect=(200, 201, 204)):
    """One PAPI call as an operator would make it (Basic auth), checked."""
    resp = requests.request(method, onefs.mock.url(cluster) + path, json=body, auth=("admin", "admin"),
                            verify=onefs.ca_path or False, timeout=30)
    assert resp.status_code in expect, (method, path, resp.status_code, resp.text)
    return resp.json() if resp.content else None


def wait_idle(onefs, timeout=60):
    onefs._control("POST", "/_mock/wait_idle", json={"timeout": timeout})


def start_job(onefs, cluster, policy, action=None, join=False):
    """Start a job and wait until every job is over; ``join`` accepts one that already runs."""
    body = {"id": policy}
    if action:
        body["action"] = action
    answer = papi(onefs, cluster, "POST", JOBS, body, expect=(200, 201, 204, 409) if join else (200, 201, 204))
    if join and answer and "errors" in answer:
        assert "active job" in answer["errors"][0]["message"], answer
    wait_idle(onefs)


def set_policy(onefs, cluster, name, **fields):
    current = papi(onefs, cluster, "GET", "%s/%s" % (POLICIES, name))["policies"][0]
    body = {"schedule": current["schedule"], "enabled": current["enabled"]}
    body.update(fields)
    papi(onefs, cluster, "PUT", "%s/%s" % (POLICIES, name), body)


def info(onefs, cluster="source", peer="target", check=False, **args):
    if peer:
        args["peer"] = peer if isinstance(peer, dict) else onefs.conn(peer)
    return onefs.run("dr_info", args, cluster=cluster, check=check)


def by_name(result):
    return dict((entry["name"], entry) for entry in result["policies"])


def state_of(onefs, name, **args):
    result = info(onefs, policies=[name], **args)
    assert result["_rc"] == 0, result
    entry = result["policies"][0]
    return entry["state"], entry


def logins(entries):
    return [e for e in entries if e["method"] == "POST" and e["path"].startswith("/session/")]


def examples():
    source = (Path(__file__).resolve().parents[2] / "plugins" / "modules" / "dr_info.py").read_text()
    tree = ast.parse(source)
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


# --------------------------------------------------------------------------- the demo as it starts
def test_examples_run_against_the_mock(onefs):
    source, target = onefs.conn("source"), onefs.conn("target")
    extra = {"source_host": source["onefs_host"], "source_port": source["onefs_port"], "source_user": "admin",
             "source_password": "admin", "target_host": target["onefs_host"], "target_port": target["onefs_port"],
             "target_user": "admin", "target_password": "admin", "ca_path": onefs.ca_path}
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    assert '"fin-ap": "protected"' in out and '"fin-ar": "protected"' in out, out
    assert onefs.writes() == []


def test_every_demo_policy_is_protected_and_nothing_is_written(onefs):
    result = info(onefs)
    assert result["_rc"] == 0, result
    assert result["changed"] is False
    assert [entry["name"] for entry in result["policies"]] == POLICY_NAMES
    assert {entry["state"] for entry in result["policies"]} == {"protected"}, \
        [(e["name"], e["state"], e["reasons"]) for e in result["policies"] if e["state"] != "protected"]
    assert result["summary"]["protected"] == 10 and sum(result["summary"].values()) == 10
    assert result["cluster"]["local"]["name"] == "prod-ps"
    assert result["cluster"]["peer"]["name"] == "dr-ps"
    assert result["cluster"]["local"]["guid"] != result["cluster"]["peer"]["guid"]
    entry = by_name(result)["fin-ap"]
    assert entry["original_source"] == "local"
    assert entry["source"]["enabled"] is True and entry["source"]["schedule"] == "when-source-modified"
    assert entry["source"]["job_delay"] == 300
    assert entry["source"]["last_success"]
    assert entry["source"]["last_report"]["state"] == "finished"
    assert entry["target"]["record_state"] == "writes_disabled"
    assert entry["target"]["source_cluster_guid"] == result["cluster"]["local"]["guid"]
    assert entry["mirror"]["exists"] is False
    assert onefs.writes() == []


def test_one_login_and_one_read_per_area_and_cluster(onefs):
    result = info(onefs)
    assert result["_rc"] == 0, result
    for cluster in ("source", "target"):
        entries = [e for e in onefs.requests(cluster) if e.get("cluster", cluster) == cluster]
        assert len(logins(entries)) == 1, entries
        reads = [e for e in entries if e["method"] == "GET"]
        # config, policies, target records, jobs, reports, pools, ADS, quotas: one GET each
        assert len(reads) == 8, [e["path"] for e in reads]
        print("%s: %d requests (%d GET)" % (cluster, len(entries), len(reads)))


def test_check_mode_reports_the_same_and_writes_nothing(onefs):
    normal = info(onefs)
    onefs.clear_log()
    checked = info(onefs, check=True)
    assert checked["_rc"] == 0, checked
    assert [(e["name"], e["state"]) for e in checked["policies"]] == [(e["name"], e["state"]) for e in normal["policies"]]
    assert onefs.writes() == []
    again = info(onefs)
    assert again["changed"] is False and again["summary"] == normal["summary"]


def test_pools_spns_and_quotas_of_both_clusters(onefs):
    result = info(onefs, zone="finance")
    assert result["_rc"] == 0, result
    assert [e["name"] for e in result["policies"]] == ["fin-ap", "fin-ar", "fin-archive", "fin-reports"]
    source_pools = result["pools"]["local"]
    assert [p["id"] for p in source_pools] == ["groupnet0.subnet0.finance"]
    assert source_pools[0]["sc_dns_zone"] == "finance.prod.example.com"
    assert source_pools[0]["aliases"] == ["fin.prod.example.com"]
    assert [p["sc_dns_zone"] for p in result["pools"]["peer"]] == [""]
    quota_paths = sorted(q["path"] for q in result["quotas"]["local"])
    assert quota_paths == ["/ifs/data/finance/ap", "/ifs/data/finance/ar", "/ifs/data/finance/reports"]
    assert result["quotas"]["peer"] == []
    source_ads = result["spns"]["local"][0]
    assert source_ads["machine_account"].upper().startswith("PROD-PS")
    assert "HOST/finance.prod.example.com" in source_ads["spns"]
    assert source_ads["collisions"] == [] and result["spns"]["peer"][0]["collisions"] == []


def test_spn_held_by_both_machine_accounts_is_a_collision(onefs):
    provider = "/platform/14/auth/providers/ads/AD.EXAMPLE.COM"
    current = papi(onefs, "target", "GET", provider)["ads"][0]["spns"]
    papi(onefs, "target", "PUT", provider, {"spns": current + ["HOST/finance.prod.example.com"],
                                            "user": "administrator", "password": "secret"})
    onefs.clear_log()
    result = info(onefs, gather=["spns"])
    assert result["_rc"] == 0, result
    assert result["spns"]["local"][0]["collisions"] == [
        {"spn": "HOST/finance.prod.example.com", "account": result["spns"]["peer"][0]["machine_account"]}]
    assert [c["spn"] for c in result["spns"]["peer"][0]["collisions"]] == ["HOST/finance.prod.example.com"]
    assert "policies" not in result and "pools" not in result
    assert onefs.writes() == []


def test_scope_by_names_keeps_order_and_reports_unknown_names(onefs):
    result = info(onefs, policies=["home", "fin-ap", "no-such-policy"], gather=["policies"])
    assert result["_rc"] == 0, result
    assert [(e["name"], e["state"]) for e in result["policies"]] == [
        ("home", "protected"), ("fin-ap", "protected"), ("no-such-policy", "unknown")]
    assert result["summary"]["unknown"] == 1


def test_scope_by_pattern(onefs):
    result = info(onefs, name_pattern="eng-*", gather=["policies", "jobs"])
    assert [e["name"] for e in result["policies"]] == ["eng-builds", "eng-docs", "eng-src", "eng-tools"]
    assert result["jobs"] == {"local": [], "peer": []}


@pytest.mark.parametrize("args, words", [
    ({"policies": ["fin-ap"], "zone": "finance"}, ["mutually exclusive", "policies", "zone"]),
    ({"gather": ["policies", "bogus"]}, ["gather", "bogus"]),
    ({"max_workers": 0}, ["max_workers"]),
    ({"original_source": "sideways"}, ["original_source"]),
    ({"policies": []}, ["policies"]),
    ({"zone": "/ifs/data"}, ["zone"]),
])
def test_bad_values_fail_before_any_request(onefs, args, words):
    result = info(onefs, **args)
    assert result["_rc"] != 0 and result.get("failed"), result
    for word in words:
        assert word in result["msg"], result["msg"]
    assert onefs.requests("source") == [] and onefs.requests("target") == []


def test_original_source_peer_needs_a_peer(onefs):
    result = info(onefs, peer=None, original_source="peer")
    assert result["_rc"] != 0 and "original_source" in result["msg"] and "peer" in result["msg"]
    assert onefs.requests("source") == []


def test_unknown_zone_names_the_zone(onefs):
    result = info(onefs, zone="nowhere")
    assert result["_rc"] != 0 and "nowhere" in result["msg"], result


# --------------------------------------------------------------------------- transitions
def test_syncing_then_disabled_then_failed_over(onefs):
    onefs._control("POST", "/_mock/time", json={"scale": 0.5})   # slow jobs so that one can be paused
    try:
        answer = papi(onefs, "source", "POST", JOBS, {"id": "fin-ap"})
        job_id = (answer or {}).get("id") or "fin-ap"
        papi(onefs, "source", "PUT", "%s/%s" % (JOBS, job_id), {"state": "paused"})
        state, entry = state_of(onefs, "fin-ap")
        assert state == "syncing", entry
        assert entry["source"]["running_job"]["state"] == "paused"
        papi(onefs, "source", "PUT", "%s/%s" % (JOBS, job_id), {"state": "canceled"})
    finally:
        onefs._control("POST", "/_mock/time", json={"scale": 50})
    wait_idle(onefs)

    set_policy(onefs, "source", "fin-ap", enabled=False)
    assert state_of(onefs, "fin-ap")[0] == "disabled"

    start_job(onefs, "target", "fin-ap", "allow_write")
    state, entry = state_of(onefs, "fin-ap")
    assert state == "failed_over", entry
    assert entry["target"]["record_state"] == "writes_enabled"

    # Seen from the DR cluster alone (the source is not given): still failed over, and it says what it cannot see.
    result = info(onefs, cluster="target", peer=None, policies=["fin-ap"])
    entry = result["policies"][0]
    assert entry["state"] == "failed_over" and entry["original_source"] == "peer"
    assert any("not visible" in reason for reason in entry["reasons"]), entry["reasons"]


def test_unplanned_failover_needs_fencing_or_is_split_brain(onefs):
    start_job(onefs, "target", "eng-src", "allow_write")      # the source policy stays enabled
    state, entry = state_of(onefs, "eng-src")
    assert state == "failed_over_unplanned", entry
    assert any("fence" in reason for reason in entry["reasons"])
    assert state_of(onefs, "eng-src", unplanned_failovers=["eng-src"])[0] == "failed_over_unplanned"
    assert state_of(onefs, "eng-src", unplanned_failovers=[])[0] == "split_brain"
    assert onefs.writes("source") == []


def test_failback_keeping_dr_changes_step_by_step(onefs):
    """Seed 000 "failback - discard source": every intermediate step has its word."""
    name, mirror = "fin-ar", "fin-ar_mirror"
    set_policy(onefs, "source", name, enabled=False)
    start_job(onefs, "target", name, "allow_write")
    assert state_of(onefs, name)[0] == "failed_over"

    set_policy(onefs, "source", name, enabled=True, schedule="")
    state, entry = state_of(onefs, name)                      # enabled again before resync_prep
    assert state == "failed_over_unplanned", entry
    assert any("failback being prepared" in reason for reason in entry["reasons"]), entry["reasons"]
    start_job(onefs, "source", name, "resync_prep")
    state, entry = state_of(onefs, name)
    assert state == "resync_prepped", entry
    assert entry["mirror"]["exists"] is True and entry["target"]["record_state"] == "resync_policy_created"

    start_job(onefs, "target", mirror)                        # copy DR changes back
    state, entry = state_of(onefs, name)
    assert state == "resync_prepped", entry
    assert entry["mirror"]["last_success"], entry

    start_job(onefs, "source", mirror, "allow_write")         # the original source takes writes again
    state, entry = state_of(onefs, name)
    assert state == "failback_in_progress", entry
    assert entry["mirror"]["record_state"] == "writes_enabled"

    start_job(onefs, "target", mirror, "resync_prep")         # roles handed back (the mock re-enables P)
    state, entry = state_of(onefs, name)
    assert state == "protected", entry
    assert entry["mirror"]["enabled"] is False and entry["mirror"]["record_state"] == "resync_policy_created"
    assert any("kept" in reason for reason in entry["reasons"]), entry["reasons"]

    papi(onefs, "target", "DELETE", "%s/%s" % (POLICIES, mirror))
    set_policy(onefs, "source", name, enabled=True, schedule="every 1 days at 12:00 AM")
    start_job(onefs, "source", name)
    state, entry = state_of(onefs, name)
    assert state == "protected", entry
    assert entry["mirror"]["exists"] is False


def test_failback_discarding_dr_changes(onefs):
    name = "fin-reports"
    set_policy(onefs, "source", name, enabled=False)
    start_job(onefs, "target", name, "allow_write")
    start_job(onefs, "target", name, "allow_write_revert")
    assert state_of(onefs, name)[0] == "disabled"
    set_policy(onefs, "source", name, enabled=True)
    assert state_of(onefs, name)[0] == "protected"


def test_reprotect_reads_reprotected_when_the_original_source_is_named(onefs):
    name = "eng-docs"
    old = papi(onefs, "source", "GET", "%s/%s" % (POLICIES, name))["policies"][0]
    set_policy(onefs, "source", name, enabled=False)
    start_job(onefs, "target", name, "allow_write")
    papi(onefs, "source", "DELETE", "%s/%s" % (POLICIES, name), expect=(200, 204))
    papi(onefs, "target", "POST", POLICIES, {
        "name": name, "action": "sync", "source_root_path": old["target_path"], "target_path": old["source_root_path"],
        "target_host": "source", "schedule": "when-source-modified", "job_delay": old["job_delay"], "enabled": True})
    start_job(onefs, "target", name, join=True)          # a when-source-modified policy may start by itself
    state, entry = state_of(onefs, name, original_source="cluster")
    assert state == "reprotected", entry
    assert entry["target"]["reverse_policy"]["enabled"] is True
    # Without the history, the new direction is simply protected, with the DR cluster as its source.
    state, entry = state_of(onefs, name)
    assert state == "protected", entry
    assert entry["original_source"] == "peer"


def test_unreachable_peer_is_reported_not_fatal(onefs):
    onefs._control("POST", "/_mock/down", "target", json={})
    try:
        peer = dict(onefs.conn("target"), retry_budget=2, api_timeout=2)
        result = info(onefs, peer=peer, policies=["fin-ap"], gather=["cluster", "policies"])
    finally:
        onefs._control("POST", "/_mock/up?cluster=target", "source", json={})
    assert result["_rc"] == 0, result
    assert result["cluster"]["peer"]["reachable"] is False and result["cluster"]["peer"]["error"]
    entry = result["policies"][0]
    assert entry["state"] == "protected"
    assert any("not reachable" in reason for reason in entry["reasons"]), entry["reasons"]
    assert "peer cluster not reachable" in json.dumps(result.get("warnings")), result.get("warnings")


def test_a_failed_read_fails_the_task_but_returns_the_rest(onefs):
    onefs.faults({"fail_next": [{"method": "GET", "path": "/sync/reports", "count": 1, "status": 500,
                                 "code": "AEC_EXCEPTION", "message": "injected report failure"}]}, cluster="target")
    result = info(onefs, zone="finance")
    assert result["_rc"] != 0 and result["failed"], result
    assert "peer reports" in result["msg"] and "injected report failure" in result["msg"], result["msg"]
    assert result["read_errors"] == [e for e in result["read_errors"] if e.startswith("peer reports")]
    assert {e["state"] for e in result["policies"]} == {"protected"}     # the rest is still there
    assert result["pools"]["local"] and result["quotas"]["local"]
    assert onefs.writes() == []


def test_a_read_only_account_is_enough(onefs):
    args = dict(onefs.conn("source", username="auditor", password="auditor"))
    args["peer"] = onefs.conn("target", username="auditor", password="auditor")
    args["gather"] = ["cluster", "policies", "target_policies", "jobs", "reports", "pools", "spns", "quotas",
                      "shares", "exports"]
    result = onefs.run("dr_info", args, with_conn=False)
    assert result["_rc"] == 0, result
    assert result["summary"]["protected"] == 10
    assert {s["name"] for s in result["shares"]["local"]} == {"home"}     # System zone: only /ifs/home
    assert [e["paths"] for e in result["exports"]["local"]] == [["/ifs/data/it/scripts"]]
    users = {e.get("user") for name in ("source", "target") for e in onefs.requests(name) if e.get("user")}
    assert users == {"auditor"}, users
