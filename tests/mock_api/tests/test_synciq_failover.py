"""DR sequences of the reference (section 12) driven over HTTP, checked through state and data."""

import pytest

from conftest import wait_until

pytestmark = pytest.mark.timeout(60)

POLICIES = "/platform/14/sync/policies"
SRC, DST = "/ifs/data/app", "/ifs/dr/app"


def state_of(api, cluster, name):
    record = api.target(cluster, name)
    return record["failover_failback_state"] if record else None


def run_and_wait(api, control, cluster, name, action=None):
    response = api.job(cluster, name, action)
    assert response.status_code == 201, response.text
    control.wait_idle(10)


def protected(api, control, schedule=""):
    """p1: source:/ifs/data/app -> target:/ifs/dr/app, synced once."""
    api.write("source", SRC + "/orig.txt", b"v1")
    api.create_policy("source", "p1", SRC, DST, schedule=schedule)
    if not schedule:
        run_and_wait(api, control, "source", "p1")
    control.wait_idle(10)
    assert api.read("target", DST + "/orig.txt").content == b"v1"


def failover(api, control):
    """12.1: final sync, disable source policy, allow writes on the target."""
    run_and_wait(api, control, "source", "p1")
    assert api.policy("source", "p1")["last_job_state"] == "finished"
    assert api.put("source", POLICIES + "/p1", json={"enabled": False, "schedule": ""}).status_code == 204
    run_and_wait(api, control, "target", "p1", "allow_write")
    assert state_of(api, "target", "p1") == "writes_enabled"


def test_target_is_read_only_until_allow_write(api, control):
    protected(api, control)
    response = api.write("target", DST + "/x.txt", b"x")
    assert response.status_code == 403 and "Read-only" in response.json()["errors"][0]["message"]
    assert api.delete("target", "/namespace" + DST + "/orig.txt").status_code == 403
    assert control.state("target")["read_only_paths"] == [DST]
    assert api.write("target", "/ifs/dr/elsewhere.txt", b"ok").status_code == 200


def test_planned_failover(api, control):
    protected(api, control)
    api.write("source", SRC + "/last.txt", b"final")
    failover(api, control)
    assert api.read("target", DST + "/last.txt").content == b"final"       # the final sync arrived
    assert api.policy("source", "p1")["enabled"] is False
    assert api.write("target", DST + "/after.txt", b"failover write").status_code == 200
    assert control.state("target")["read_only_paths"] == []
    reports = api.get("target", "/platform/15/sync/reports", params={"policy_name": "p1"}).json()["reports"]
    assert [r["action"] for r in reports] == ["allow_write"]


def test_allow_write_passes_through_enabling_writes(api, control):
    protected(api, control)
    control.time_scale(2)                  # fofb job 1 s -> 0.5 s
    api.job("target", "p1", "allow_write")
    wait_until(lambda: state_of(api, "target", "p1") == "enabling_writes", timeout=5, interval=0.005)
    assert api.write("target", DST + "/early.txt", b"x").status_code == 403
    control.time_scale(200)
    wait_until(lambda: state_of(api, "target", "p1") == "writes_enabled", timeout=10)


def test_unplanned_failover_only_touches_the_target(api, control):
    protected(api, control)
    control.down("source")
    run_and_wait(api, control, "target", "p1", "allow_write")
    assert state_of(api, "target", "p1") == "writes_enabled"
    control.up("source")
    assert api.policy("source", "p1")["enabled"] is True                  # the dangerous leftover


def test_run_against_a_failed_over_target_fails(api, control):
    protected(api, control)
    run_and_wait(api, control, "target", "p1", "allow_write")
    api.write("target", DST + "/precious.txt", b"written during failover")
    run_and_wait(api, control, "source", "p1")
    policy = api.policy("source", "p1")
    assert policy["last_job_state"] == "failed"
    report = api.get("source", "/platform/15/sync/reports", params={"policy_name": "p1", "sort": "end_time",
                                                                   "reports_per_policy": 1}).json()["reports"][0]
    assert report["state"] == "failed" and "writes_enabled" in report["errors"][0]
    assert api.read("target", DST + "/precious.txt").content == b"written during failover"


def test_failback_discarding_target_changes(api, control):
    """12.2: revert on the target loses what was written there, then the source resumes."""
    protected(api, control)
    failover(api, control)
    api.write("target", DST + "/lost.txt", b"will be lost")
    api.write("target", DST + "/orig.txt", b"changed on target")
    assert api.put("source", POLICIES + "/p1", json={"enabled": False, "schedule": ""}).status_code == 204
    run_and_wait(api, control, "target", "p1", "allow_write_revert")
    assert state_of(api, "target", "p1") == "writes_disabled"
    assert api.read("target", DST + "/lost.txt").status_code == 404
    assert api.read("target", DST + "/orig.txt").content == b"v1"
    assert api.write("target", DST + "/again.txt", b"x").status_code == 403
    body = {"enabled": True, "schedule": "when-source-modified", "job_delay": 0}
    assert api.put("source", POLICIES + "/p1", json=body).status_code == 204
    api.write("source", SRC + "/resumed.txt", b"back")
    control.wait_idle(10)
    assert api.read("target", DST + "/resumed.txt").content == b"back"


def test_failback_keeping_target_changes_with_a_mirror(api, control):
    """12.3: resync_prep, run the mirror, allow writes on the source, resync_prep the mirror, delete it."""
    protected(api, control)
    failover(api, control)
    api.write("target", DST + "/kept.txt", b"written on target")
    # steps 1-3: disabled, manual, re-enabled (CSI does this before resync_prep)
    api.put("source", POLICIES + "/p1", json={"enabled": True, "schedule": ""})
    run_and_wait(api, control, "source", "p1", "resync_prep")
    assert state_of(api, "target", "p1") == "resync_policy_created"
    assert api.policy("source", "p1")["enabled"] is False
    mirror = api.policy("target", "p1_mirror")
    assert mirror["enabled"] is True and mirror["schedule"] == ""
    assert (mirror["source_root_path"], mirror["target_path"]) == (DST, SRC)
    assert api.write("source", SRC + "/blocked.txt", b"x").status_code == 403    # source is now a target
    assert api.write("target", DST + "/still.txt", b"still writable").status_code == 200
    # step 5: run the mirror (target -> source)
    run_and_wait(api, control, "target", "p1_mirror")
    assert api.policy("target", "p1_mirror")["last_job_state"] == "finished"
    assert api.read("source", SRC + "/kept.txt").content == b"written on target"
    assert api.read("source", SRC + "/still.txt").content == b"still writable"
    # step 6: allow writes on the source (it holds the mirror's target record)
    run_and_wait(api, control, "source", "p1_mirror", "allow_write")
    assert state_of(api, "source", "p1_mirror") == "writes_enabled"
    assert api.write("source", SRC + "/after.txt", b"source is back").status_code == 200
    # step 7: resync_prep on the mirror restores the original direction
    run_and_wait(api, control, "target", "p1_mirror", "resync_prep")
    assert state_of(api, "source", "p1_mirror") == "resync_policy_created"
    assert api.policy("target", "p1_mirror")["enabled"] is False
    assert api.policy("source", "p1")["enabled"] is True
    assert state_of(api, "target", "p1") == "writes_disabled"
    assert api.write("target", DST + "/ro.txt", b"x").status_code == 403
    # step 8: delete the mirror (also removes its record on the source)
    assert api.delete("target", POLICIES + "/p1_mirror").status_code == 204
    assert api.target("source", "p1_mirror") is None
    # step 9 + expected end state: P runs source -> target again
    api.put("source", POLICIES + "/p1", json={"enabled": True, "schedule": "when-source-modified", "job_delay": 0})
    control.wait_idle(10)
    assert api.read("target", DST + "/after.txt").content == b"source is back"
    assert api.policy("source", "p1")["last_job_state"] == "finished"
    assert api.get("target", POLICIES + "/p1").status_code == 404


def test_resync_prep_of_a_disabled_policy_is_refused(api, control):
    protected(api, control)
    failover(api, control)
    response = api.job("source", "p1", "resync_prep")
    assert response.status_code == 409 and "disabled" in response.json()["errors"][0]["message"]


def test_resync_prep_needs_a_failed_over_target(api, control):
    protected(api, control)
    run_and_wait(api, control, "source", "p1", "resync_prep")
    assert api.get("target", POLICIES + "/p1_mirror").status_code == 404
    report = api.get("source", "/platform/15/sync/reports", params={"policy_name": "p1", "sort": "end_time",
                                                                   "reports_per_policy": 1}).json()["reports"][0]
    assert report["action"] == "resync_prep" and report["state"] == "failed"
    assert state_of(api, "target", "p1") == "writes_disabled"


def test_mirror_cannot_be_deleted_while_its_resync_prep_runs(api, control):
    protected(api, control)
    failover(api, control)
    api.put("source", POLICIES + "/p1", json={"enabled": True, "schedule": ""})
    run_and_wait(api, control, "source", "p1", "resync_prep")
    run_and_wait(api, control, "target", "p1_mirror")
    run_and_wait(api, control, "source", "p1_mirror", "allow_write")
    control.time_scale(1)
    api.job("target", "p1_mirror", "resync_prep")
    response = api.delete("target", POLICIES + "/p1_mirror")
    assert response.status_code == 409 and "has an active job" in response.json()["errors"][0]["message"]
    control.time_scale(200)
    control.wait_idle(10)
    assert api.delete("target", POLICIES + "/p1_mirror").status_code == 204


def test_reprotect_after_failover(api, control):
    """12.4: delete the old policy (removes the target record), create the reverse one on the target."""
    protected(api, control)
    failover(api, control)
    api.write("target", DST + "/new-primary.txt", b"primary now")
    assert state_of(api, "target", "p1") == "writes_enabled"
    old = api.policy("source", "p1")
    assert api.delete("source", POLICIES + "/p1").status_code == 204
    assert api.target("target", "p1") is None
    api.create_policy("target", "p1", old["target_path"], old["source_root_path"], target_host="source",
                      schedule="when-source-modified", job_delay=0, enabled=True)
    wait_until(lambda: api.policy("target", "p1")["last_job_state"] in ("running", "finished"))
    control.wait_idle(10)
    assert api.policy("target", "p1")["last_job_state"] == "finished"
    assert state_of(api, "source", "p1") == "writes_disabled"
    assert api.read("source", SRC + "/new-primary.txt").content == b"primary now"
    assert api.write("source", SRC + "/x.txt", b"x").status_code == 403


def test_when_source_modified_runs_after_job_delay(api, control):
    api.write("source", SRC + "/orig.txt", b"v1")
    api.create_policy("source", "p1", SRC, DST, schedule="when-source-modified", job_delay=60)
    control.wait_idle(10)                 # creation starts the initial sync at once
    assert api.read("target", DST + "/orig.txt").content == b"v1"
    control.time_scale(100)               # job_delay 60 s -> 0.6 s
    api.write("source", SRC + "/changed.txt", b"c")
    api.write("source", SRC + "/changed2.txt", b"c2")
    assert api.get("source", "/platform/15/sync/jobs/p1").status_code == 404    # still waiting for job_delay
    assert api.read("target", DST + "/changed.txt").status_code == 404
    control.wait_idle(10)
    assert api.read("target", DST + "/changed2.txt").content == b"c2"
    reports = api.get("source", "/platform/15/sync/reports", params={"policy_name": "p1"}).json()
    assert reports["total"] == 2                                                 # one job for both writes


def test_when_source_modified_ignores_other_paths_and_disabled_policies(api, control):
    api.write("source", SRC + "/orig.txt", b"v1")
    api.create_policy("source", "p1", SRC, DST, schedule="when-source-modified")
    control.wait_idle(10)
    api.write("source", "/ifs/data/other/x.txt", b"x")
    control.wait_idle(10)
    assert api.get("source", "/platform/15/sync/reports", params={"policy_name": "p1"}).json()["total"] == 1
    api.put("source", POLICIES + "/p1", json={"enabled": False, "schedule": "when-source-modified"})
    api.write("source", SRC + "/while-disabled.txt", b"x")
    control.wait_idle(10)
    assert api.get("source", "/platform/15/sync/reports", params={"policy_name": "p1"}).json()["total"] == 1


def test_write_during_a_job_triggers_another_run(api, control):
    api.write("source", SRC + "/orig.txt", b"v1")
    control.time_scale(4)                 # 2 s overhead -> 0.5 s
    api.create_policy("source", "p1", SRC, DST, schedule="when-source-modified")
    wait_until(lambda: api.get("source", "/platform/15/sync/jobs/p1").status_code == 200, timeout=5, interval=0.005)
    api.write("source", SRC + "/during.txt", b"d")
    control.time_scale(200)
    control.wait_idle(10)
    assert api.read("target", DST + "/during.txt").content == b"d"


def test_seeded_synced_policy(api, control):
    control.seed({"clusters": {"source": {
        "files": {SRC + "/seed.txt": "seeded"},
        "policies": [{"name": "p1", "source_root_path": SRC, "target_host": "target", "target_path": DST,
                      "schedule": "when-source-modified", "synced": True}],
    }}})
    policy = api.policy("source", "p1")
    assert policy["last_job_state"] == "finished" and policy["last_success"] and policy["has_sync_state"]
    assert api.read("target", DST + "/seed.txt").text == "seeded"
    assert state_of(api, "target", "p1") == "writes_disabled"
    assert len(api.get("source", "/platform/15/sync/reports").json()["reports"]) == 1
    assert control.state("source")["jobs"] == []
