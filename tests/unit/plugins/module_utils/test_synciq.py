"""synciq.py service functions against the in-process mock (demo scenario: ten synced policies)."""

import time

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import synciq
from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient
from ansible_collections.onefs.dr.plugins.module_utils.errors import OnefsError

WRITES = ("POST", "PUT", "DELETE")
NEW_POLICY = {"source_root_path": "/ifs/data/eng/new", "target_host": "target",
              "target_path": "/ifs/data/eng/new", "action": "sync", "schedule": "manual"}


DEMO_TIME_SCALE = 50   # the conftest's demo mock runs simulated jobs 50 times faster


@pytest.fixture
def ctl(demo):
    demo.control.clear_faults("source")
    demo.control.clear_faults("target")
    demo.control.reset()
    demo.control.clear_requests()
    return demo.control


@pytest.fixture
def clients(demo, ctl):
    made = {name: PapiClient(hosts=[demo.url(name)], username="admin", password="admin", name=name,
                             retry_budget=5, backoff_base=0.05, backoff_cap=0.2)
            for name in ("source", "target")}
    yield made
    for client in made.values():
        client.close()


def api(ctl, cluster, methods=None):
    entries = [r for r in ctl.requests(cluster=cluster) if not r["path"].startswith(("/session", "/_mock"))]
    return [r for r in entries if methods is None or r["method"] in methods]


def policy_of(ctl, name, cluster="source"):
    return next((p for p in ctl.state(cluster)["policies"] if p["name"] == name), None)


def target_record_of(ctl, name):
    return next((p for p in ctl.state("target")["target_policies"] if p["name"] == name), None)


# --------------------------------------------------------------------------- policies
def test_update_resends_schedule_and_enabled_and_changes_only_the_given_field(ctl, clients):
    result = synciq.ensure_policy(clients["source"], "fin-ar", {"description": "AR, nightly"})
    assert result["changed"] and result["actions"] == ["set description"]
    assert result["previous"] == {"schedule": "every 1 days at 12:00 AM", "enabled": True}
    puts = api(ctl, "source", ("PUT",))
    assert len(puts) == 1
    assert puts[0]["body"] == {"description": "AR, nightly", "schedule": "every 1 days at 12:00 AM", "enabled": True}
    stored = policy_of(ctl, "fin-ar")
    assert stored["description"] == "AR, nightly" and stored["schedule"] == "every 1 days at 12:00 AM"


def test_second_identical_run_changes_nothing(ctl, clients):
    synciq.ensure_policy(clients["source"], "fin-ap", {"schedule": "manual", "enabled": False})
    ctl.clear_requests()
    again = synciq.ensure_policy(clients["source"], "fin-ap", {"schedule": "manual", "enabled": False})
    assert not again["changed"] and again["actions"] == []
    assert again["previous"] == {"schedule": "manual", "enabled": False}
    assert api(ctl, "source", WRITES) == []


def test_check_mode_plans_without_writing(ctl, clients):
    result = synciq.ensure_policy(clients["source"], "eng-src", {"schedule": "every 2 days", "job_delay": 0},
                                  check_mode=True)
    assert result["changed"] and sorted(result["actions"]) == ["set job_delay", "set schedule"]
    assert result["policy"]["schedule"] == "every 2 days"
    assert api(ctl, "source", WRITES) == []
    assert policy_of(ctl, "eng-src")["schedule"] == "when-source-modified"


def test_create_needs_the_fields_onefs_requires(ctl, clients):
    with pytest.raises(OnefsError) as caught:
        synciq.ensure_policy(clients["source"], "brand-new", {"target_host": "target"})
    assert "source_root_path, target_path, action" in str(caught.value)
    assert api(ctl, "source", WRITES) == []


def test_create_then_unchanged(ctl, clients):
    created = synciq.ensure_policy(clients["source"], "eng-new", dict(NEW_POLICY))
    assert created["changed"] and created["actions"] == ["create policy"] and created["previous"] is None
    assert policy_of(ctl, "eng-new")["source_root_path"] == "/ifs/data/eng/new"
    again = synciq.ensure_policy(clients["source"], "eng-new", dict(NEW_POLICY))
    assert not again["changed"]


def test_delete_with_active_job_needs_force(ctl, clients):
    ctl.time_scale(0.2)     # the job runs >= 10 s: still active below
    try:
        synciq.start_job(clients["source"], "home")
        with pytest.raises(OnefsError) as caught:
            synciq.ensure_policy(clients["source"], "home", {}, state="absent")
        assert "force" in str(caught.value)
        assert policy_of(ctl, "home") is not None
        result = synciq.ensure_policy(clients["source"], "home", {}, state="absent", force=True)
    finally:
        ctl.time_scale(50)
    assert result["changed"] and "force" in result["actions"][0]
    assert policy_of(ctl, "home") is None


def test_delete_local_only_keeps_the_target_record(ctl, clients):
    synciq.ensure_policy(clients["source"], "eng-docs", {}, state="absent", local_only=True)
    assert policy_of(ctl, "eng-docs") is None
    assert target_record_of(ctl, "eng-docs") is not None
    synciq.ensure_policy(clients["source"], "eng-tools", {}, state="absent")
    assert target_record_of(ctl, "eng-tools") is None


def test_update_sends_one_get_and_one_put_and_returns_the_read_policy_with_the_change(ctl, clients):
    before = synciq.get_policy(clients["source"], "fin-ar")
    ctl.clear_requests()
    result = synciq.ensure_policy(clients["source"], "fin-ar", {"schedule": "manual", "description": "AR"})
    assert [r["method"] for r in api(ctl, "source")] == ["GET", "PUT"]       # no read after the PUT
    assert result["policy"] == dict(before, schedule="", description="AR")   # OneFS's form of manual
    stored = policy_of(ctl, "fin-ar")
    assert (stored["schedule"], stored["description"]) == ("", "AR")


def test_a_policy_already_read_is_not_read_again(ctl, clients):
    listed = synciq.policy_index(synciq.list_policies(clients["source"]))
    ctl.clear_requests()
    result = synciq.ensure_policy(clients["source"], "fin-ap", {"enabled": False}, current=listed["fin-ap"])
    assert result["changed"] and [r["method"] for r in api(ctl, "source")] == ["PUT"]
    assert result["policy"]["enabled"] is False and result["previous"]["enabled"] is True
    # None is an answer (no such policy), not "read it"
    gone = synciq.ensure_policy(clients["source"], "fin-ap", {}, state="absent", current=None)
    assert gone["changed"] is False and [r["method"] for r in api(ctl, "source")] == ["PUT"]
    assert policy_of(ctl, "fin-ap") is not None


def test_policy_index_finds_a_policy_by_name_or_id_the_id_first():
    one = {"id": "a1", "name": "fin-ap"}
    other = {"id": "b2", "name": "a1"}          # a name equal to another policy's id
    index = synciq.policy_index([one, other])
    assert index["fin-ap"] is one and index["b2"] is other and index["a1"] is one


def test_resolving_a_conflict_returns_the_policy_not_conflicted_without_reading_it_again(ctl, clients):
    body = {"conflicted": True, "schedule": "every 1 hours", "enabled": True}
    clients["source"].put("/platform/14/sync/policies/fin-reports", body)
    ctl.clear_requests()
    result = synciq.ensure_policy(clients["source"], "fin-reports", {}, resolve=True)
    assert result["actions"] == ["resolve conflict"] and result["policy"]["conflicted"] is False
    assert [r["method"] for r in api(ctl, "source")] == ["GET", "PUT"]
    assert policy_of(ctl, "fin-reports")["conflicted"] is False


@pytest.mark.timeout(60)
def test_delete_with_wait_timeout_waits_for_the_job_to_end_then_deletes(ctl, clients):
    ctl.time_scale(1)       # the job runs about 2 s
    try:
        synciq.start_job(clients["source"], "home")
        job_id = synciq.active_job(clients["source"], "home")["job_id"]
        ctl.clear_requests()
        result = synciq.ensure_policy(clients["source"], "home", {}, state="absent", wait_timeout=30,
                                      poll_interval=0.1)
    finally:
        ctl.time_scale(50)
    assert result["actions"] == ["delete policy after its run job %s ended (wait_timeout) and its target record" % job_id]
    assert policy_of(ctl, "home") is None
    reports = [r for r in ctl.state("source")["reports"] if r["policy_name"] == "home" and r["job_id"] == job_id]
    assert [r["state"] for r in reports] == ["finished"]          # ended on its own, not cancelled
    deletes = api(ctl, "source", ("DELETE",))
    assert len(deletes) == 1 and "force" not in (deletes[0]["query"] or {})


@pytest.mark.timeout(60)
def test_wait_jobs_ended_polls_one_job_list_and_times_out_naming_wait_timeout(ctl, clients):
    ctl.time_scale(0.2)     # the jobs run >= 10 s
    try:
        for name in ("home", "eng-src"):
            synciq.start_job(clients["source"], name)
        policies = [synciq.get_policy(clients["source"], name) for name in ("home", "fin-ap", "eng-src")]
        ctl.clear_requests()
        with pytest.raises(OnefsError) as caught:
            synciq.wait_jobs_ended(clients["source"], policies, timeout=0.6, poll_interval=0.1)
    finally:
        ctl.time_scale(50)
    error = caught.value
    assert error.field == "wait_timeout" and error.message.startswith("wait_timeout: 2 of 3 policies")
    assert "home (run job" in error.message and "eng-src (run job" in error.message and "fin-ap" not in error.message
    log = api(ctl, "source")
    assert len(log) >= 2 and {(r["method"], r["path"]) for r in log} == {("GET", synciq.JOBS)}


def test_check_mode_with_wait_timeout_neither_waits_nor_writes(ctl, clients):
    ctl.time_scale(0.2)
    try:
        synciq.start_job(clients["source"], "home")
        ctl.clear_requests()
        result = synciq.ensure_policy(clients["source"], "home", {}, state="absent", wait_timeout=600,
                                      check_mode=True)
    finally:
        ctl.time_scale(50)
    assert result["changed"] and "once its active run job" in result["actions"][0]
    # not waited: the active jobs were read once, not polled
    job_reads = [r for r in api(ctl, "source") if r["path"].startswith(synciq.JOBS)]
    assert len(job_reads) == 1
    assert api(ctl, "source", WRITES) == [] and policy_of(ctl, "home") is not None


# --------------------------------------------------------------------------- jobs and reports
def test_start_job_after_a_lost_answer_starts_one_job(ctl, clients):
    ctl.fail_next("source", r"/sync/jobs/?$", method="POST", status=503, after=True)
    synciq.start_job(clients["source"], "it-scripts")
    posts = [r for r in api(ctl, "source", ("POST",)) if r["path"].rstrip("/").endswith("/sync/jobs")]
    assert len(posts) == 1           # verified, never re-sent
    ctl.wait_idle(timeout=30)
    reports = synciq.policy_reports(clients["source"], "it-scripts", per_policy=5)
    assert len(reports) == 2         # the seed's initial sync + exactly one new job


def test_active_jobs_and_latest_reports_by_policy(ctl, clients):
    synciq.start_job(clients["source"], "eng-src")
    assert "eng-src" in synciq.active_jobs(clients["source"])
    assert synciq.active_job(clients["source"], "fin-ap") is None
    ctl.wait_idle(timeout=30)
    latest = synciq.reports_by_policy(clients["source"], per_policy=1)
    assert set(latest) >= {"eng-src", "fin-ap", "home"}
    assert latest["eng-src"][0]["state"] == "finished"


# --------------------------------------------------------------------------- group sync
@pytest.mark.timeout(60)
def test_group_sync_polls_all_jobs_with_one_request_per_cycle(ctl, clients):
    names = ["eng-src", "eng-builds", "eng-docs", "eng-tools"]
    policies = [synciq.get_policy(clients["source"], name) for name in names]
    ctl.clear_requests()
    group = synciq.GroupSync(clients["source"], policies, point_in_time_name="pit-1", poll_interval=0.05, timeout=30)
    results = group.run()
    assert [r["name"] for r in results] == names
    for result in results:
        assert result["state"] == "finished" and not result["failed"]
        assert result["point_in_time_name"] == "pit-1"
        assert result["end_time"] >= result["start_time"] and result["report_id"]
    log = api(ctl, "source")
    starts = [r for r in log if r["method"] == "POST" and "/sync/jobs" in r["path"]]
    assert sorted(r["body"]["id"] for r in starts) == sorted(names)
    per_policy_job_reads = [r for r in log if r["method"] == "GET" and "/sync/jobs/" in r["path"].rstrip("/")
                            and not r["path"].rstrip("/").endswith("/sync/jobs")]
    assert per_policy_job_reads == []     # never one job GET per policy


@pytest.mark.timeout(60)
def test_group_sync_never_runs_more_than_max_running_jobs(ctl, clients):
    names = ["fin-ap", "fin-ar", "fin-reports", "eng-src", "eng-builds"]
    policies = [synciq.get_policy(clients["source"], name) for name in names]
    results = synciq.GroupSync(clients["source"], policies, max_running_jobs=2, poll_interval=0.02,
                               timeout=40).run()
    assert all(r["state"] == "finished" for r in results)
    spans = sorted((r["start_time"], r["end_time"]) for r in results)
    for start, _end in spans:
        overlapping = [1 for s, e in spans if s <= start < e]
        assert len(overlapping) <= 2


@pytest.mark.timeout(60)
def test_group_sync_joins_a_running_job(ctl, clients):
    ctl.time_scale(1)   # slow enough (2 s) that the job is still running when the group looks
    try:
        synciq.start_job(clients["source"], "home")
        ctl.clear_requests()
        results = synciq.GroupSync(clients["source"], [synciq.get_policy(clients["source"], "home")],
                                   poll_interval=0.05, timeout=40).run()
    finally:
        ctl.time_scale(50)
    assert results[0]["joined"] and not results[0]["changed"] and results[0]["state"] == "finished"
    assert [r for r in api(ctl, "source", ("POST",)) if "/sync/jobs" in r["path"]] == []


@pytest.mark.timeout(60)
def test_group_sync_failed_job_names_policy_and_error_and_keeps_others(ctl, clients):
    ctl.fail_next_job("source", "fin-ar", error="Target path is read-only")
    policies = [synciq.get_policy(clients["source"], name) for name in ("fin-ap", "fin-ar")]
    results = synciq.GroupSync(clients["source"], policies, poll_interval=0.05, timeout=30).run()
    ok, bad = results
    assert ok["state"] == "finished" and not ok["failed"]
    assert bad["failed"] and "fin-ar" in bad["msg"] and "Target path is read-only" in bad["msg"]


@pytest.mark.timeout(60)
def test_group_sync_resolves_error_state_and_retries(ctl, clients):
    ctl.fail_next("source", r"/sync/jobs/?$", method="POST", status=409, code="AEC_CONFLICT",
                  message="Policy eng-src is in an error state. Please resolve it and retry")
    policy = synciq.get_policy(clients["source"], "eng-src")
    results = synciq.GroupSync(clients["source"], [policy], poll_interval=0.05, timeout=30).run()
    assert results[0]["state"] == "finished" and results[0]["retries"] == 1
    assert results[0]["actions"] == ["resolve conflict", "start job"]
    puts = api(ctl, "source", ("PUT",))
    assert puts and puts[0]["body"] == {"conflicted": False, "schedule": "when-source-modified", "enabled": True}


@pytest.mark.timeout(60)
def test_group_sync_gives_up_after_error_retries(ctl, clients):
    ctl.fail_next("source", r"/sync/jobs/?$", method="POST", status=409, code="AEC_CONFLICT", count=5,
                  message="Policy eng-src is in an error state. Please resolve it and retry")
    policy = synciq.get_policy(clients["source"], "eng-src")
    results = synciq.GroupSync(clients["source"], [policy], error_retries=2, poll_interval=0.02, timeout=30).run()
    assert results[0]["failed"] and results[0]["retries"] == 2 and "error state" in results[0]["msg"]


def test_group_sync_check_mode_starts_nothing(ctl, clients):
    policies = [synciq.get_policy(clients["source"], name) for name in ("fin-ap", "home")]
    ctl.clear_requests()
    results = synciq.GroupSync(clients["source"], policies, check_mode=True).run()
    assert [r["actions"] for r in results] == [["start job"], ["start job"]]
    assert api(ctl, "source", WRITES) == []


@pytest.mark.timeout(60)
def test_group_sync_since_skips_policies_already_synced(ctl, clients):
    time.sleep(1.05 - time.time() % 1)    # report times are whole seconds: the seed's are now older
    before = time.time()
    policies = [synciq.get_policy(clients["source"], name) for name in ("fin-ap", "home")]
    synciq.GroupSync(clients["source"], policies[:1], poll_interval=0.05, timeout=30).run()
    ctl.clear_requests()
    results = synciq.GroupSync(clients["source"], policies, since=before, poll_interval=0.05, timeout=30).run()
    assert not results[0]["changed"] and results[0]["state"] == "finished"
    assert results[1]["changed"]
    starts = [r["body"]["id"] for r in api(ctl, "source", ("POST",)) if "/sync/jobs" in r["path"]]
    assert starts == ["home"]


def test_set_group_manual_saves_schedules(ctl, clients):
    policies = [synciq.get_policy(clients["source"], name) for name in ("fin-ap", "it-scripts")]
    saved, outcomes = synciq.set_group_manual(clients["source"], policies)
    assert saved["fin-ap"] == {"schedule": "when-source-modified", "enabled": True, "job_delay": 300}
    assert saved["it-scripts"]["schedule"] == "manual"
    assert [o.value["changed"] for o in outcomes] == [True, False]
    puts = api(ctl, "source", ("PUT",))
    assert [p["body"] for p in puts] == [{"schedule": "", "enabled": True}]
    assert policy_of(ctl, "fin-ap")["schedule"] == ""


# --------------------------------------------------------------------------- target side
@pytest.mark.timeout(60)
def test_group_wait_returns_the_point_in_time_of_a_sync_started_on_the_source(ctl, clients):
    time.sleep(1.05 - time.time() % 1)    # the seed's reports (whole seconds) are now older than since
    since = time.time()
    records = [synciq.get_target_record(clients["target"], "fin-ap")]
    synciq.start_job(clients["source"], "fin-ap")
    results = synciq.GroupWait(clients["target"], records, since, "dr-test", timeout=30, poll_interval=0.05).run()
    assert results[0]["state"] == "finished" and results[0]["start_time"] >= int(since)
    assert results[0]["job_id"] == 2          # the job started above, not the seed's initial sync
    assert results[0]["point_in_time_name"] == "dr-test"
    assert api(ctl, "target", WRITES) == []


@pytest.mark.timeout(30)
def test_group_wait_times_out_when_no_sync_comes(ctl, clients):
    records = [synciq.get_target_record(clients["target"], "eng-src")]
    results = synciq.GroupWait(clients["target"], records, time.time() + 5, timeout=0.5, poll_interval=0.05).run()
    assert results[0]["failed"] and "eng-src" in results[0]["msg"]


@pytest.mark.timeout(60)
def test_allow_write_runs_once_and_waits(ctl, clients):
    target = clients["target"]
    plan = synciq.plan_target(target, "fin-ap", "writes_enabled")
    assert plan["actions"] == ["allow_write"] and plan["before_state"] == "writes_disabled"
    result = synciq.apply_target(target, plan, "writes_enabled", poll_interval=0.05, timeout=30)
    assert result["state"] == "writes_enabled" and result["changed"]
    assert target_record_of(ctl, "fin-ap")["failover_failback_state"] == "writes_enabled"
    ctl.clear_requests()
    again = synciq.plan_target(target, "fin-ap", "writes_enabled")
    assert again["actions"] == [] and again["job"] is None
    assert api(ctl, "target", WRITES) == []


@pytest.mark.timeout(60)
def test_revert_needs_discard_target_changes(ctl, clients):
    target = clients["target"]
    synciq.apply_target(target, synciq.plan_target(target, "eng-src", "writes_enabled"), "writes_enabled",
                        poll_interval=0.05, timeout=30)
    ctl.clear_requests()
    with pytest.raises(synciq.GuardError) as caught:
        synciq.plan_target(target, "eng-src", "writes_disabled")
    assert caught.value.field == "discard_target_changes"
    assert api(ctl, "target", WRITES) == []
    plan = synciq.plan_target(target, "eng-src", "writes_disabled", discard_target_changes=True)
    result = synciq.apply_target(target, plan, "writes_disabled", poll_interval=0.05, timeout=30)
    assert result["state"] == "writes_disabled" and result["actions"] == ["allow_write_revert"]


def test_break_association_is_guarded(ctl, clients):
    target = clients["target"]
    with pytest.raises(synciq.GuardError):
        synciq.plan_target(target, "home", "absent")
    plan = synciq.plan_target(target, "home", "absent", break_association=True)
    synciq.apply_target(target, plan, "absent")
    assert target_record_of(ctl, "home") is None
    assert synciq.plan_target(target, "home", "absent")["actions"] == []


def test_zone_base_path(ctl, clients):
    assert synciq.zone_base_path(clients["source"], "eng") == "/ifs/data/eng"
    with pytest.raises(OnefsError):
        synciq.zone_base_path(clients["source"], "nope")


# --------------------------------------------------------------------------- two records, one name
TWO_SOURCES = {
    "clusters": {
        "source": {"cluster_name": "prod-a", "policies": [
            {"name": "shared", "source_root_path": "/ifs/data/a", "target_host": "target",
             "target_path": "/ifs/dr/a", "schedule": "", "enabled": True, "synced": True}]},
        "other": {"cluster_name": "prod-b", "policies": [
            {"name": "shared", "source_root_path": "/ifs/data/b", "target_host": "target",
             "target_path": "/ifs/dr/b", "schedule": "", "enabled": True, "synced": True}]},
        "target": {"cluster_name": "dr"},
    },
}


@pytest.mark.timeout(60)
def test_same_name_from_two_sources_needs_source_cluster():
    from onefs_mock.testing import start_mock

    mock = start_mock(clusters=("source", "other", "target"), seed=TWO_SOURCES, tls=False, latency_ms=0,
                      time_scale=50)
    client = PapiClient(hosts=[mock.url("target")], username="admin", password="admin", name="target")
    try:
        with pytest.raises(synciq.AmbiguousTargetError) as caught:
            synciq.plan_target(client, "shared", "writes_enabled")
        assert caught.value.field == "source_cluster" and "prod-b" in str(caught.value)
        # planned from a group's one list of the records: the same refusal, the same choice
        listed = synciq.list_target_records(client)
        with pytest.raises(synciq.AmbiguousTargetError):
            synciq.plan_target(client, "shared", "writes_enabled", listed=listed)
        records = synciq.target_records_named(client, "shared")
        guid_b = next(r["source_cluster_guid"] for r in records if r["target_path"] == "/ifs/dr/b")
        from_list = synciq.plan_target(client, "shared", "writes_enabled", source_cluster=guid_b, listed=listed)
        plan = synciq.plan_target(client, "shared", "writes_enabled", source_cluster=guid_b)
        assert from_list["record"]["target_path"] == plan["record"]["target_path"] == "/ifs/dr/b"
        assert from_list["actions"] == plan["actions"] == ["allow_write"]
        result = synciq.apply_target(client, plan, "writes_enabled", poll_interval=0.05, timeout=30)
        assert result["state"] == "writes_enabled" and result["source_cluster_guid"] == guid_b
        states = {r["target_path"]: r["failover_failback_state"] for r in synciq.list_target_records(client)}
        assert states == {"/ifs/dr/a": "writes_disabled", "/ifs/dr/b": "writes_enabled"}
    finally:
        client.close()
        mock.stop()


@pytest.mark.timeout(60)
def test_group_sync_keeps_per_policy_results_when_the_cluster_stops_answering(ctl, demo):
    client = PapiClient(hosts=[demo.url("source")], username="admin", password="admin", name="source",
                        retry_budget=0.5, backoff_base=0.05, backoff_cap=0.1)
    try:
        policies = [synciq.get_policy(client, name) for name in ("fin-ap", "home")]
        ctl.time_scale(1)     # jobs outlive the outage

        def sleep_then_outage(seconds):
            # the jobs are started; from the first poll on, the cluster answers 503
            ctl.fail_next("source", r"/sync/jobs/?$", method="GET", status=503, count=1000)
            time.sleep(seconds)

        results = synciq.GroupSync(client, policies, poll_interval=0.05, timeout=30, sleep=sleep_then_outage).run()
    finally:
        ctl.clear_faults("source")
        ctl.time_scale(50)
        client.close()
    assert [r["failed"] for r in results] == [True, True]
    assert all("state unknown" in r["msg"] for r in results)
