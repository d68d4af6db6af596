"""resync_prep: the real module process against the mock (demo scenario)."""

import ast
from pathlib import Path

import pytest
import requests as http

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "resync_prep.py"


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def policy(onefs, cluster, name):
    return next((p for p in onefs.state(cluster)["policies"] if p["name"] == name), None)


def record(onefs, cluster, name):
    return next((p for p in onefs.state(cluster)["target_policies"] if p["name"] == name), None)


def job_posts(onefs, cluster):
    return [w for w in onefs.writes(cluster) if w["method"] == "POST" and "/sync/jobs" in w["path"]]


def fail_over(onefs, names):
    done = onefs.run("local_target", {"policies": names, "poll_interval": 0.1}, cluster="target")
    assert done["_rc"] == 0, done


def disable(onefs, name):
    resp = http.put(onefs.mock.url("source") + "/platform/14/sync/policies/" + name, auth=("admin", "admin"),
                    json={"enabled": False}, verify=onefs.ca_path or False, timeout=30)
    resp.raise_for_status()


def resync(onefs, names, cluster="source", check=False, diff=False, **args):
    other = "target" if cluster == "source" else "source"
    args.update(policies=names, peer=onefs.conn(other))
    args.setdefault("poll_interval", 0.1)
    return onefs.run("resync_prep", args, cluster=cluster, check=check, diff=diff)


@pytest.mark.timeout(180)
def test_resync_prep_creates_mirrors_once_and_check_mode_writes_nothing(onefs):
    fail_over(onefs, ["fin-ap", "eng-src"])
    onefs.clear_log()
    planned = resync(onefs, ["fin-ap", "eng-src"], check=True, diff=True)
    assert planned["_rc"] == 0 and planned["changed"] is True
    assert [r["actions"] for r in planned["results"]] == [["resync_prep"], ["resync_prep"]]
    assert [d["after"]["failover_failback_state"] for d in planned["diff"]] == ["resync_policy_created"] * 2
    assert onefs.writes() == []

    done = resync(onefs, ["fin-ap", "eng-src"])
    assert done["_rc"] == 0, done
    for result in done["results"]:
        assert result["changed"] and result["record_state"] == "resync_policy_created"
        assert result["mirror"] == result["name"] + "_mirror" and isinstance(result["job_id"], int)
    # the job numbers come from the group's lists of jobs or reports, not from a GET per policy
    per_policy_reads = [r["path"] for r in onefs.requests() if r["method"] == "GET"
                        and r["path"].rsplit("/", 1)[-1] in ("fin-ap", "eng-src")]
    assert per_policy_reads == []
    for name in ("fin-ap", "eng-src"):
        assert record(onefs, "target", name)["failover_failback_state"] == "resync_policy_created"
        assert policy(onefs, "target", name + "_mirror")["enabled"] is True
        assert policy(onefs, "source", name)["enabled"] is False
    posts = job_posts(onefs, "source")
    assert sorted(p["body"]["id"] for p in posts) == ["eng-src", "fin-ap"]
    assert {p["body"]["action"] for p in posts} == {"resync_prep"}

    onefs.clear_log()
    again = resync(onefs, ["fin-ap", "eng-src"])
    assert again["_rc"] == 0 and again["changed"] is False
    assert [r["actions"] for r in again["results"]] == [[], []]
    assert onefs.writes() == []
    # a group is planned from list calls (policies on both clusters, target records, active jobs),
    # not from reads of each policy, record and job
    log = onefs.requests()      # one log for both clusters
    sync_reads = sorted((r["cluster"], r["path"].split("/", 3)[3]) for r in log if "/sync/" in r["path"])
    assert sync_reads == [("source", "sync/jobs"), ("source", "sync/policies"),
                          ("target", "sync/policies"), ("target", "sync/target/policies")], sync_reads


@pytest.mark.timeout(240)
def test_resync_prep_on_the_mirror_restores_the_original_direction(onefs):
    fail_over(onefs, ["fin-ap"])
    assert resync(onefs, ["fin-ap"])["_rc"] == 0
    # seed 000 failback discard source: (mirror sync,) allow writes on the source, resync_prep the mirror
    allowed = onefs.run("local_target", {"policies": ["fin-ap_mirror"], "poll_interval": 0.1}, cluster="source")
    assert allowed["_rc"] == 0, allowed
    back = resync(onefs, ["fin-ap_mirror"], cluster="target")
    assert back["_rc"] == 0, back
    assert back["results"][0]["mirror"] == "fin-ap" and back["results"][0]["actions"] == ["resync_prep"]
    assert policy(onefs, "source", "fin-ap")["enabled"] is True
    assert record(onefs, "target", "fin-ap")["failover_failback_state"] == "writes_disabled"
    assert record(onefs, "source", "fin-ap_mirror")["failover_failback_state"] == "resync_policy_created"
    assert policy(onefs, "target", "fin-ap_mirror")["enabled"] is False
    onefs.clear_log()
    again = resync(onefs, ["fin-ap_mirror"], cluster="target")
    assert again["_rc"] == 0 and again["changed"] is False and onefs.writes() == []


@pytest.mark.timeout(180)
def test_refusals_stop_everything_before_any_write(onefs):
    fail_over(onefs, ["fin-ap"])
    disable(onefs, "fin-ar")
    fail_over(onefs, ["fin-ar"])
    onefs.clear_log()
    refused = resync(onefs, ["fin-ap", "eng-src", "fin-ar", "nope"])
    assert refused["_rc"] != 0 and refused["changed"] is False
    by_name = {r["name"]: r for r in refused["results"]}
    assert by_name["fin-ap"]["planned"] == ["resync_prep"] and not by_name["fin-ap"].get("failed")
    assert "writes_disabled" in by_name["eng-src"]["msg"] and "not failed over" in by_name["eng-src"]["msg"]
    assert "enable_first" in by_name["fin-ar"]["msg"]
    assert "does not exist" in by_name["nope"]["msg"]
    assert onefs.writes() == []
    fixed = resync(onefs, ["fin-ap", "fin-ar"], enable_first=True)
    assert fixed["_rc"] == 0, fixed
    assert fixed["results"][1]["actions"] == ["enable policy", "resync_prep"]
    assert policy(onefs, "target", "fin-ar_mirror")["enabled"] is True


@pytest.mark.timeout(180)
def test_a_failed_job_fails_its_policy_only(onefs):
    fail_over(onefs, ["fin-ap", "eng-src"])
    onefs.faults({"fail_next_job": {"policy": "eng-src", "error": "injected resync failure"}}, cluster="source")
    done = resync(onefs, ["fin-ap", "eng-src"])
    assert done["_rc"] != 0 and "eng-src" in done["msg"] and "1 of 2" in done["msg"]
    by_name = {r["name"]: r for r in done["results"]}
    assert by_name["fin-ap"]["record_state"] == "resync_policy_created" and by_name["fin-ap"]["changed"]
    assert by_name["eng-src"]["failed"] and "injected resync failure" in by_name["eng-src"]["msg"]
    # a re-run finishes the failed one and leaves the done one alone
    onefs.clear_log()
    again = resync(onefs, ["fin-ap", "eng-src"])
    assert again["_rc"] == 0, again
    assert [r["actions"] for r in again["results"]] == [[], ["resync_prep"]]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args, option", [
    ({"policies": []}, "policies"),
    ({"policies": ["a", "a"]}, "policies"),
    ({"policies": ["a"], "max_running_jobs": 51}, "max_running_jobs"),
    ({"policies": ["a"], "timeout": 0}, "timeout"),
    ({"policies": ["a"], "enable_first": "perhaps"}, "enable_first"),
])
def test_bad_options_fail_before_any_request(onefs, args, option):
    args["peer"] = onefs.conn("target")
    result = onefs.run("resync_prep", args, cluster="source")
    assert result["_rc"] != 0 and option in result["msg"]
    assert onefs.requests("source") == [] and onefs.requests("target") == []


@pytest.mark.timeout(60)
def test_peer_is_required(onefs):
    result = onefs.run("resync_prep", {"policies": ["fin-ap"]}, cluster="source")
    assert result["_rc"] != 0 and "peer" in result["msg"] and onefs.requests("source") == []


@pytest.mark.timeout(180)
def test_examples_run_against_the_mock(onefs):
    disable(onefs, "fin-ap")
    disable(onefs, "fin-ar")
    fail_over(onefs, ["fin-ap", "fin-ar"])
    source, target = onefs.conn("source"), onefs.conn("target")
    extra = {"target_host": target["onefs_host"], "target_port": target["onefs_port"], "target_user": "admin",
             "target_password": "admin", "source_host": source["onefs_host"], "source_port": source["onefs_port"],
             "source_user": "admin", "source_password": "admin", "ca_path": onefs.ca_path}
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    assert "fin-ap_mirror" in out and "fin-ar_mirror" in out
    assert policy(onefs, "target", "fin-ar_mirror")["enabled"] is True
