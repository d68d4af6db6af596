"""rg_sync: the real module process against the mock (demo scenario)."""

import ast
import time
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "rg_sync.py"
ENG = ["eng-builds", "eng-docs", "eng-src", "eng-tools"]


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def policy_of(onefs, name):
    return next((p for p in onefs.state("source")["policies"] if p["name"] == name), None)


def mark_conflicted(onefs, name):
    """Put a policy in OneFS's error state (conflicted) through the API, as a failed job would."""
    from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

    conn = onefs.conn("source")
    client = PapiClient(hosts=[conn["onefs_host"]], port=conn["onefs_port"], username="admin", password="admin",
                        ca_path=onefs.ca_path, validate_certs=bool(onefs.ca_path))
    try:
        body = {"conflicted": True, "schedule": "every 1 hours", "enabled": True}
        client.put("/platform/14/sync/policies/%s" % name, body)
    finally:
        client.close()


def job_posts(onefs, cluster="source"):
    return [w for w in onefs.writes(cluster) if w["method"] == "POST" and "/sync/jobs" in w["path"]]


@pytest.mark.timeout(240)
def test_examples_run_against_the_mock(onefs):
    source, target = onefs.conn("source"), onefs.conn("target")
    extra = {"onefs_source_host": source["onefs_host"], "onefs_source_port": source["onefs_port"],
             "onefs_target_host": target["onefs_host"], "onefs_target_port": target["onefs_port"],
             "onefs_username": "admin", "onefs_password": "admin", "onefs_ca_path": onefs.ca_path}
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    started = sorted(p["body"]["id"] for p in job_posts(onefs))
    assert started == sorted(ENG + ["fin-ap", "fin-ar", "fin-archive", "fin-reports", "it-scripts"])
    assert policy_of(onefs, "it-scripts")["enabled"] is False
    assert all(policy_of(onefs, name)["schedule"] == "" for name in ("fin-ap", "fin-ar", "fin-archive"))
    assert onefs.writes("target") == []


@pytest.mark.timeout(120)
def test_zone_sync_returns_points_in_time_and_polls_once_per_cycle(onefs):
    result = onefs.run("rg_sync", {"zone": "eng", "point_in_time_name": "pit-a", "poll_interval": 0.1})
    assert result["_rc"] == 0 and result["changed"] is True
    assert [r["name"] for r in result["results"]] == ENG
    for entry in result["results"]:
        assert entry["state"] == "finished" and entry["point_in_time_name"] == "pit-a"
        assert entry["job_id"] is not None and entry["end_time"] >= entry["start_time"]
        assert entry["bytes_transferred"] is not None and entry["files_transferred"] is not None
    gets = [r for r in onefs.requests("source") if r["method"] == "GET" and "/sync/jobs/" in r["path"]]
    assert gets == []   # no per-policy job reads: one list GET per cycle


def test_check_mode_reports_the_jobs_it_would_start(onefs):
    result = onefs.run("rg_sync", {"name_pattern": "fin-*", "mode": "prepare_failover"}, check=True, diff=True)
    assert result["_rc"] == 0 and result["changed"] is True
    assert {d["before_header"]: (d["before"]["schedule"], d["after"]["schedule"]) for d in result["diff"]} == {
        "policy fin-ap": ("when-source-modified", "manual"), "policy fin-ar": ("every 1 days at 12:00 AM", "manual"),
        "policy fin-archive": ("every 1 weeks on sunday at 11:00 PM", "manual"),
        "policy fin-reports": ("every 1 hours", "manual")}
    by_name = {r["name"]: r for r in result["results"]}
    assert by_name["fin-ap"]["actions"] == ["set schedule manual (was when-source-modified)", "start job"]
    assert result["saved_schedules"]["fin-ar"]["schedule"] == "every 1 days at 12:00 AM"
    assert onefs.writes() == []


@pytest.mark.timeout(120)
def test_prepare_failover_saves_schedules_then_syncs(onefs):
    result = onefs.run("rg_sync", {"policies": ["fin-ap", "it-scripts"], "mode": "prepare_failover",
                                   "poll_interval": 0.1})
    assert result["_rc"] == 0
    assert result["saved_schedules"] == {
        "fin-ap": {"schedule": "when-source-modified", "job_delay": 300, "enabled": True},
        "it-scripts": {"schedule": "manual", "job_delay": 0, "enabled": True}}
    assert policy_of(onefs, "fin-ap")["schedule"] == ""
    assert [r["state"] for r in result["results"]] == ["finished", "finished"]
    puts = [w for w in onefs.writes("source") if w["method"] == "PUT"]
    assert [p["body"] for p in puts] == [{"schedule": "", "enabled": True}]


@pytest.mark.timeout(120)
def test_disable_after_sync_disables_the_synced_group_with_its_schedule_manual(onefs):
    args = {"policies": ["fin-ap", "fin-ar"], "mode": "prepare_failover", "disable_after_sync": True,
            "poll_interval": 0.1}
    planned = onefs.run("rg_sync", args, check=True, diff=True)
    assert planned["_rc"] == 0 and planned["changed"] is True
    assert all(r["actions"][-1] == "disable policy" for r in planned["results"]), planned["results"]
    assert onefs.writes() == [] and policy_of(onefs, "fin-ap")["enabled"] is True

    done = onefs.run("rg_sync", args, diff=True)
    assert done["_rc"] == 0, done
    assert [r["state"] for r in done["results"]] == ["finished", "finished"]
    for name in ("fin-ap", "fin-ar"):
        assert policy_of(onefs, name)["enabled"] is False and policy_of(onefs, name)["schedule"] == ""
    writes = onefs.writes("source")
    syncs = [i for i, w in enumerate(writes) if w["method"] == "POST" and w["path"].endswith("/sync/jobs")]
    disables = [i for i, w in enumerate(writes) if w["method"] == "PUT" and w["body"].get("enabled") is False]
    assert len(syncs) == 2 and len(disables) == 2 and max(syncs) < min(disables)
    assert all(writes[i]["body"]["schedule"] == "" for i in disables)     # not the schedule first read
    assert {d["after"].get("enabled") for d in done["diff"]} == {False}


@pytest.mark.timeout(120)
def test_disable_after_sync_disables_nothing_when_a_sync_fails(onefs):
    onefs.faults({"fail_next_job": {"policy": "eng-docs", "error": "Unable to connect to target cluster"}})
    result = onefs.run("rg_sync", {"zone": "eng", "mode": "prepare_failover", "disable_after_sync": True,
                                   "poll_interval": 0.1})
    assert result["failed"] is True and "eng-docs" in result["msg"]
    assert all(policy_of(onefs, name)["enabled"] for name in ENG)
    assert [w for w in onefs.writes("source") if w["method"] == "PUT" and w["body"].get("enabled") is False] == []


@pytest.mark.timeout(120)
def test_since_makes_a_rerun_resume(onefs):
    time.sleep(1.05 - time.time() % 1)
    since = int(time.time())
    first = onefs.run("rg_sync", {"policies": ["eng-src", "home"], "since": str(since), "poll_interval": 0.1})
    assert first["changed"] is True
    onefs.clear_log()
    again = onefs.run("rg_sync", {"policies": ["eng-src", "home"], "since": str(since), "poll_interval": 0.1})
    assert again["changed"] is False and onefs.writes() == []
    assert [r["job_id"] for r in again["results"]] == [r["job_id"] for r in first["results"]]


@pytest.mark.timeout(120)
def test_failed_job_fails_the_module_naming_policy_and_error(onefs):
    onefs.faults({"fail_next_job": {"policy": "eng-docs", "error": "Unable to connect to target cluster"}})
    result = onefs.run("rg_sync", {"zone": "eng", "poll_interval": 0.1})
    assert result["failed"] is True
    assert "eng-docs" in result["msg"] and "Unable to connect to target cluster" in result["msg"]
    states = {r["name"]: r["state"] for r in result["results"]}
    assert states["eng-src"] == "finished" and states["eng-docs"] != "finished"


@pytest.mark.timeout(120)
def test_wait_on_target_starts_nothing_and_returns_the_point_in_time(onefs):
    time.sleep(1.05 - time.time() % 1)    # the seed's reports (whole seconds) are now older than since
    since = time.time()
    onefs.run("rg_sync", {"policies": ["fin-ap", "home"], "poll_interval": 0.1})
    onefs.clear_log()
    waited = onefs.run("rg_sync", {"policies": ["fin-ap", "home"], "mode": "wait", "since": str(since),
                                   "point_in_time_name": "dr", "timeout": 30, "poll_interval": 0.1},
                       cluster="target")
    assert waited["_rc"] == 0 and waited["changed"] is False
    assert [r["state"] for r in waited["results"]] == ["finished", "finished"]
    assert all(r["start_time"] >= int(since) and r["job_id"] == 2 for r in waited["results"])
    assert onefs.writes() == []


def test_wait_times_out_naming_the_policies(onefs):
    time.sleep(1.05 - time.time() % 1)    # since = module start, a second after the seed's reports
    waited = onefs.run("rg_sync", {"zone": "finance", "mode": "wait", "timeout": 1, "poll_interval": 0.2},
                       cluster="target")
    assert waited["failed"] is True and "fin-ap" in waited["msg"]
    assert onefs.writes() == []


def test_disabled_policy_is_refused_before_any_write(onefs):
    onefs.run("synciq_policy", {"name": "eng-tools", "enabled": False})
    onefs.clear_log()
    result = onefs.run("rg_sync", {"zone": "eng"})
    assert result["failed"] is True and "eng-tools" in result["msg"] and "disabled" in result["msg"]
    assert onefs.writes() == []


@pytest.mark.parametrize("args, option", [
    ({"policies": ["fin-ap"], "max_running_jobs": 51}, "max_running_jobs"),
    ({"policies": ["fin-ap"], "since": "yesterday"}, "since"),
    ({"policies": ["fin-ap"], "mode": "pull"}, "mode"),
    ({"policies": ["fin-ap"], "zone": "eng"}, "mutually exclusive"),
    ({"policies": ["fin-ap"], "disable_after_sync": True}, "disable_after_sync"),
])
def test_bad_values_fail_before_any_request(onefs, args, option):
    result = onefs.run("rg_sync", args)
    assert result["failed"] is True and option in result["msg"]
    assert [r for r in onefs.requests("source") if not r["path"].startswith("/_mock")] == []


def test_unknown_policy_names_fail_before_any_write(onefs):
    result = onefs.run("rg_sync", {"policies": ["fin-ap", "nope"]})
    assert result["failed"] is True and "nope" in result["msg"]
    assert onefs.writes() == []


@pytest.mark.timeout(120)
def test_lost_answer_of_a_job_start_never_starts_a_second_job(onefs):
    onefs.faults({"fail_next": [{"method": "POST", "path": "/sync/jobs/?$", "count": 1, "status": 503,
                                 "after": True}]})
    result = onefs.run("rg_sync", {"policies": ["eng-src"], "poll_interval": 0.1})
    assert result["_rc"] == 0 and result["results"][0]["state"] == "finished"
    assert len(job_posts(onefs)) == 1
    reports = [r for r in onefs.state("source")["reports"] if r["policy_name"] == "eng-src"]
    assert len(reports) == 2          # the seed's initial sync and exactly one new job


@pytest.mark.timeout(120)
def test_conflicted_policy_is_resolved_and_synced(onefs):
    mark_conflicted(onefs, "fin-reports")
    onefs.clear_log()
    result = onefs.run("rg_sync", {"policies": ["fin-reports", "fin-ap"], "poll_interval": 0.1})
    assert result["_rc"] == 0
    first = result["results"][0]
    assert first["actions"] == ["resolve conflict", "start job"] and first["retries"] == 1
    assert first["state"] == "finished"
    assert policy_of(onefs, "fin-reports")["conflicted"] is False
