"""SyncIQ jobs: lifecycle, reports, pause/resume/cancel, limits, failures, delete with an active job."""

import pytest

from conftest import wait_until

pytestmark = pytest.mark.timeout(60)

JOBS = "/platform/15/sync/jobs"
REPORTS = "/platform/15/sync/reports"


def setup_policy(api, name="p1", root="/ifs/data/app", target="/ifs/dr/app", size=1000, **fields):
    api.write("source", root + "/f.bin", b"x" * size)
    api.create_policy("source", name, root, target, **fields)


def test_run_copies_the_tree_and_writes_reports(api, control):
    setup_policy(api)
    api.write("source", "/ifs/data/app/sub/g.txt", b"g")
    response = api.job("source", "p1")
    assert response.status_code == 201 and response.json() == {"id": "p1"}
    control.wait_idle(10)
    assert api.get("source", JOBS + "/p1").status_code == 404
    assert api.get("source", JOBS).json() == {"jobs": [], "resume": None, "total": 0}
    assert api.read("target", "/ifs/dr/app/sub/g.txt").content == b"g"
    assert api.read("target", "/ifs/dr/app/f.bin").content == b"x" * 1000
    policy = api.policy("source", "p1")
    assert policy["last_job_state"] == "finished" and policy["has_sync_state"] is True
    assert policy["last_success"] == policy["last_started"]
    report = api.get("source", REPORTS + "/1-p1").json()["reports"][0]
    assert report["state"] == "finished" and report["action"] == "run" and report["sync_type"] == "initial"
    assert report["policy_name"] == "p1" and report["bytes_transferred"] == 1001
    target_report = api.get("target", "/platform/15/sync/target/reports/1-p1").json()["reports"][0]
    assert target_report["source_host"] == "source" and target_report["target_path"] == "/ifs/dr/app"
    record = api.target("target", "p1")
    assert record["id"] == policy["id"] and record["source_cluster_guid"] == api.get(
        "source", "/platform/3/cluster/config").json()["guid"]
    assert record["failover_failback_state"] == "writes_disabled" and record["last_job_state"] == "finished"


def test_second_run_is_incremental_and_sync_deletes_on_target(api, control):
    setup_policy(api)
    api.job("source", "p1")
    control.wait_idle(10)
    api.delete("source", "/namespace/ifs/data/app/f.bin")
    api.write("source", "/ifs/data/app/new.txt", b"new")
    api.job("source", "p1")
    control.wait_idle(10)
    report = api.get("source", REPORTS + "/2-p1").json()["reports"][0]
    assert report["sync_type"] == "incremental" and report["bytes_transferred"] == 3
    assert api.read("target", "/ifs/dr/app/f.bin").status_code == 404
    assert api.read("target", "/ifs/dr/app/new.txt").content == b"new"


def test_copy_policy_keeps_deleted_files_on_target(api, control):
    setup_policy(api, action="copy")
    api.job("source", "p1")
    control.wait_idle(10)
    api.delete("source", "/namespace/ifs/data/app/f.bin")
    api.write("source", "/ifs/data/app/other.txt", b"o")
    api.job("source", "p1")
    control.wait_idle(10)
    assert api.read("target", "/ifs/dr/app/f.bin").status_code == 200


def test_job_moves_through_states_in_simulated_time(api, control):
    control.time_scale(20)               # overhead 2 s -> 100 ms
    setup_policy(api)
    api.job("source", "p1")
    seen = set()

    def finished():
        response = api.get("source", JOBS + "/p1")
        if response.status_code == 404:
            return True
        seen.add(response.json()["jobs"][0]["state"])
        return False

    wait_until(finished, timeout=10)
    assert "running" in seen
    assert seen <= {"scheduled", "running"}


def test_reports_query_options(api, control):
    setup_policy(api, "a", "/ifs/data/a", "/ifs/dr/a")
    setup_policy(api, "b", "/ifs/data/b", "/ifs/dr/b")
    for _ in range(2):
        api.job("source", "a")
        api.job("source", "b")
        control.wait_idle(10)
    default = api.get("source", REPORTS).json()
    assert sorted(r["id"] for r in default["reports"]) == ["2-a", "2-b"]     # one per policy by default
    only_a = api.get("source", REPORTS, params={"policy_name": "a"}).json()
    assert sorted(r["id"] for r in only_a["reports"]) == ["1-a", "2-a"] and only_a["total"] == 2
    latest = api.get("source", REPORTS, params={"policy_name": "a", "sort": "end_time", "reports_per_policy": 1})
    assert [r["id"] for r in latest.json()["reports"]] == ["2-a"]
    per_policy = api.get("source", REPORTS, params={"reports_per_policy": 2}).json()
    assert len(per_policy["reports"]) == 4
    finished = api.get("source", REPORTS, params={"state": "failed"}).json()
    assert finished["reports"] == []
    assert len(api.get("source", REPORTS, params={"newer_than": 1, "reports_per_policy": 5}).json()["reports"]) == 4
    page = api.get("source", REPORTS, params={"limit": 3, "reports_per_policy": 5}).json()
    assert len(page["reports"]) == 3 and page["resume"]
    rest = api.get("source", REPORTS, params={"resume": page["resume"]}).json()
    assert len(rest["reports"]) == 1 and rest["resume"] is None
    assert api.get("source", REPORTS + "/9-a").status_code == 404
    assert api.get("source", REPORTS + "/1-a/subreports").json()["subreports"] == []


def test_invalid_job_requests(api):
    setup_policy(api)
    assert api.post("source", JOBS, json={"id": "p1", "action": "run"}).status_code == 400
    assert api.post("source", JOBS, json={}).status_code == 400
    assert api.post("source", JOBS, json={"id": "p1", "bogus": 1}).status_code == 400
    assert api.post("source", JOBS, json={"id": "nope"}).status_code == 404
    # allow_write is a target-side action: the source has no target record of p1
    assert api.job("source", "p1", "allow_write").status_code == 404


def test_pause_resume_cancel(api, control):
    control.time_scale(1)                # 2 s overhead: long enough to act on
    setup_policy(api)
    api.job("source", "p1")
    wait_until(lambda: api.get("source", JOBS + "/p1").json()["jobs"][0]["state"] == "running")
    assert api.put("source", JOBS + "/p1", json={"state": "paused"}).status_code == 204
    assert api.get("source", JOBS, params={"state": "paused"}).json()["total"] == 1
    assert api.put("source", JOBS + "/p1", json={"state": "running"}).status_code == 204
    assert api.get("source", JOBS + "/p1").json()["jobs"][0]["state"] == "running"
    assert api.put("source", JOBS + "/p1", json={"state": "bogus"}).status_code == 400
    assert api.put("source", JOBS + "/p1", json={"state": "canceled"}).status_code == 204
    assert api.get("source", JOBS + "/p1").status_code == 404
    assert api.policy("source", "p1")["last_job_state"] == "canceled"
    assert api.get("source", REPORTS + "/1-p1").json()["reports"][0]["state"] == "canceled"
    assert api.read("target", "/ifs/dr/app/f.bin").status_code == 404        # nothing copied


def test_cancel_all_and_cancel_from_target(api, control):
    control.time_scale(1)
    setup_policy(api)
    api.job("source", "p1")
    assert api.delete("source", JOBS).status_code == 204
    assert api.get("source", JOBS).json()["total"] == 0
    control.time_scale(200)
    api.post("source", "/platform/1/sync/policies/p1/reset", json={})
    api.job("source", "p1")
    control.wait_idle(10)
    control.time_scale(1)
    api.write("source", "/ifs/data/app/more.txt", b"m")
    api.job("source", "p1")
    response = api.post("target", "/platform/1/sync/target/policies/p1/cancel", json={})
    assert response.status_code in (200, 201)
    assert api.get("source", JOBS + "/p1").status_code == 404
    assert api.policy("source", "p1")["last_job_state"] == "canceled"


def test_one_active_job_per_policy(api, control):
    control.time_scale(1)
    setup_policy(api)
    assert api.job("source", "p1").status_code == 201
    second = api.job("source", "p1")
    assert second.status_code == 409


def test_max_running_jobs_leaves_the_rest_waiting(api, control):
    control.seed({"simulation": {"max_running_jobs": 1, "job_overhead_s": 2.0}})
    control.time_scale(1)
    setup_policy(api, "a", "/ifs/data/a", "/ifs/dr/a")
    setup_policy(api, "b", "/ifs/data/b", "/ifs/dr/b")
    api.job("source", "a")
    wait_until(lambda: api.get("source", JOBS + "/a").json()["jobs"][0]["state"] == "running")
    api.job("source", "b")
    wait_until(lambda: api.get("source", JOBS + "/b").status_code == 200)
    states = {j["id"]: j["state"] for j in api.get("source", JOBS).json()["jobs"]}
    assert states == {"a": "running", "b": "scheduled"}
    control.time_scale(400)
    control.wait_idle(20)
    assert api.policy("source", "b")["last_job_state"] == "finished"


def test_delete_with_an_active_job_needs_force(api, control):
    control.time_scale(1)
    setup_policy(api)
    api.job("source", "p1")
    response = api.delete("source", "/platform/14/sync/policies/p1")
    assert response.status_code == 409
    assert response.json()["errors"][0]["message"] == "The policy p1 has an active job and cannot be deleted."
    assert api.delete("source", "/platform/14/sync/policies/p1", params={"force": "true"}).status_code == 204
    assert api.get("source", JOBS + "/p1").status_code == 404


def test_conflicted_policy_refuses_jobs_until_resolved(api, control):
    setup_policy(api)
    api.put("source", "/platform/14/sync/policies/p1", json={"conflicted": True})
    response = api.job("source", "p1")
    assert response.status_code == 409
    assert "is in an error state. Please resolve it and retry" in response.json()["errors"][0]["message"]
    api.put("source", "/platform/14/sync/policies/p1", json={"enabled": True, "conflicted": False, "schedule": ""})
    assert api.job("source", "p1").status_code == 201


def test_disabled_policy_refuses_jobs(api):
    setup_policy(api, enabled=False)
    response = api.job("source", "p1")
    assert response.status_code == 409 and "disabled" in response.json()["errors"][0]["message"]


def test_fail_next_job_fault(api, control):
    setup_policy(api)
    control.fail_next_job("source", "p1", "Injected: target out of space")
    api.job("source", "p1")
    control.wait_idle(10)
    policy = api.policy("source", "p1")
    assert policy["last_job_state"] == "failed" and policy["last_success"] is None
    report = api.get("source", REPORTS, params={"policy_name": "p1"}).json()["reports"][0]
    assert report["state"] == "failed" and report["errors"] == ["Injected: target out of space"]
    api.job("source", "p1")                   # the fault was for one job only
    control.wait_idle(10)
    assert api.policy("source", "p1")["last_job_state"] == "finished"


def test_unreachable_or_unknown_target_fails_the_job(api, control):
    setup_policy(api)
    control.down("target")
    api.job("source", "p1")
    control.wait_idle(10)
    control.up("target")
    report = api.get("source", REPORTS, params={"policy_name": "p1"}).json()["reports"][0]
    assert report["state"] == "failed" and "target" in report["error"]
    api.create_policy("source", "p2", "/ifs/data/app", "/ifs/dr/x", target_host="nowhere.example.com")
    api.job("source", "p2")
    control.wait_idle(10)
    assert api.policy("source", "p2")["last_job_state"] == "failed"


def test_target_host_matches_cluster_name_and_addresses(api, control):
    control.seed({"clusters": {"target": {"cluster_name": "dr-ps", "addresses": ["dr-ps.example.com", "10.0.0.20"]}}})
    for index, host in enumerate(["target", "dr-ps", "DR-PS.example.com", "10.0.0.20"]):
        root = "/ifs/data/h%d" % index
        setup_policy(api, "h%d" % index, root, "/ifs/dr/h%d" % index, target_host=host)
        api.job("source", "h%d" % index)
    control.wait_idle(10)
    states = {p["name"]: p["last_job_state"] for p in control.state("source")["policies"]}
    assert states == {"h0": "finished", "h1": "finished", "h2": "finished", "h3": "finished"}


def test_two_policies_cannot_share_a_target_path(api, control):
    setup_policy(api, "a", "/ifs/data/a", "/ifs/dr/shared")
    setup_policy(api, "b", "/ifs/data/b", "/ifs/dr/shared")
    api.job("source", "a")
    control.wait_idle(10)
    api.job("source", "b")
    control.wait_idle(10)
    assert api.policy("source", "b")["last_job_state"] == "failed"


def test_wait_idle_times_out_with_408(mock, control):
    control.time_scale(0.01)
    api_url = mock.url("source")
    import requests

    requests.put(api_url + "/namespace/ifs/data/app/f", data=b"x", auth=("admin", "admin"), timeout=10)
    requests.post(api_url + "/platform/14/sync/policies", auth=("admin", "admin"), timeout=10,
                  json={"name": "slow", "action": "sync", "source_root_path": "/ifs/data/app",
                        "target_host": "target", "target_path": "/ifs/dr/app"})
    requests.post(api_url + "/platform/15/sync/jobs", json={"id": "slow"}, auth=("admin", "admin"), timeout=10)
    response = requests.post(mock.control.control_url + "/_mock/wait_idle", json={"timeout": 0.2}, timeout=10)
    assert response.status_code == 408


def test_a_target_path_below_a_file_fails_the_job_cleanly(api, control):
    setup_policy(api, target="/ifs/dr/blocker/app")
    api.write("target", "/ifs/dr/blocker", b"a file where a directory should be")
    api.job("source", "p1")
    control.wait_idle(10)
    policy = api.policy("source", "p1")
    assert policy["last_job_state"] == "failed"
    assert api.get("source", JOBS).json()["total"] == 0


def test_test_action_reports_but_copies_nothing(api, control):
    setup_policy(api)
    assert api.job("source", "p1", "test").status_code == 201
    control.wait_idle(10)
    report = api.get("source", REPORTS, params={"policy_name": "p1"}).json()["reports"][0]
    assert report["action"] == "test" and report["state"] == "finished"
    assert api.read("target", "/ifs/dr/app/f.bin").status_code == 404
    assert api.policy("source", "p1")["last_success"] is None


def test_target_reports_and_rotation_endpoints(api, control):
    setup_policy(api)
    api.job("source", "p1")
    control.wait_idle(10)
    listing = api.get("target", "/platform/15/sync/target/reports").json()
    assert [r["id"] for r in listing["reports"]] == ["1-p1"] and listing["total"] == 1
    assert "policy" not in listing["reports"][0]
    assert api.get("target", "/platform/15/sync/target/reports/1-p1/subreports").json()["total"] == 0
    assert api.get("source", "/platform/1/sync/reports-rotate").json()["running"] is False
    assert api.post("source", "/platform/1/sync/reports-rotate", json={}).status_code in (200, 201)


def test_sync_paths_accept_every_version_up_to_latest(api, control):
    setup_policy(api)
    for version in (1, 3, 11, 14, 15, 16):
        assert api.get("source", "/platform/%d/sync/policies/p1" % version).status_code == 200
        assert api.get("source", "/platform/%d/sync/jobs/" % version).status_code == 200
    assert api.get("source", "/platform/17/sync/policies/p1").status_code == 404
    assert api.post("source", "/platform/11/sync/jobs/", json={"id": "p1"}).status_code == 201   # GOI style
    control.wait_idle(10)
    targets = api.get("target", "/platform/1/sync/target/policies", params={"target_path": "/ifs/dr/app"}).json()
    assert targets["total"] == 1 and targets["policies"][0]["name"] == "p1"


def test_sync_settings_service_and_job_limit(api, control):
    settings = api.get("source", "/platform/16/sync/settings").json()["settings"]
    assert settings["service"] == "on" and settings["max_concurrent_jobs"] == 50
    setup_policy(api)
    assert api.put("source", "/platform/16/sync/settings", json={"service": "off"}).status_code == 204
    response = api.job("source", "p1")
    assert response.status_code == 409 and "service is off" in response.json()["errors"][0]["message"]
    assert api.put("source", "/platform/16/sync/settings", json={"service": "paused"}).status_code == 204
    assert api.job("source", "p1").status_code == 201
    with pytest.raises(Exception):
        control.wait_idle(0.3)                     # paused service: the job waits
    assert api.get("source", JOBS + "/p1").json()["jobs"][0]["state"] == "scheduled"
    assert api.put("source", "/platform/16/sync/settings", json={"service": "on"}).status_code == 204
    control.wait_idle(10)
    assert api.policy("source", "p1")["last_job_state"] == "finished"
    assert api.put("source", "/platform/16/sync/settings", json={"service": "maybe"}).status_code == 400
    assert api.put("source", "/platform/16/sync/settings", json={"bogus": 1}).status_code == 400
