"""SyncIQ policies: CRUD, validation, schedules, delete semantics, reset, paging."""

import re

import pytest

pytestmark = pytest.mark.timeout(60)

POLICIES = "/platform/14/sync/policies"


def body(**extra):
    base = {"name": "p1", "action": "sync", "source_root_path": "/ifs/data/app", "target_host": "target",
            "target_path": "/ifs/dr/app"}
    base.update(extra)
    return base


def test_create_returns_a_32_hex_id_and_get_by_id_or_name(api):
    response = api.post("source", POLICIES, json=body())
    assert response.status_code == 201
    policy_id = response.json()["id"]
    assert re.fullmatch(r"[0-9a-f]{32}", policy_id)
    by_id = api.get("source", POLICIES + "/" + policy_id).json()
    by_name = api.get("source", POLICIES + "/p1").json()
    assert by_id == by_name
    policy = by_id["policies"][0]
    assert policy["id"] == policy_id and policy["enabled"] is True and policy["schedule"] == ""
    assert policy["last_success"] is None and policy["has_sync_state"] is False
    assert policy["conflicted"] is False and policy["password_set"] is False


def test_list_envelope_and_paging(api):
    for index in range(5):
        api.create_policy("source", "p%d" % index, "/ifs/data/a%d" % index, "/ifs/dr/a%d" % index)
    page = api.get("source", POLICIES, params={"limit": 2, "sort": "name"}).json()
    assert [p["name"] for p in page["policies"]] == ["p0", "p1"] and page["total"] == 5 and page["resume"]
    names = [p["name"] for p in page["policies"]]
    while page["resume"]:
        page = api.get("source", POLICIES, params={"resume": page["resume"]}).json()
        names += [p["name"] for p in page["policies"]]
    assert names == ["p0", "p1", "p2", "p3", "p4"]
    mixed = api.get("source", POLICIES, params={"resume": "x", "limit": 1})
    assert mixed.status_code == 400


@pytest.mark.parametrize("missing", ["name", "action", "source_root_path", "target_host", "target_path"])
def test_required_fields(api, missing):
    data = body()
    del data[missing]
    response = api.post("source", POLICIES, json=data)
    assert response.status_code == 400
    assert response.json()["errors"][0].get("field") == missing


@pytest.mark.parametrize("field,value", [
    ("action", "move"), ("log_level", "loud"), ("enabled", "yes"), ("job_delay", -1), ("priority", 5),
    ("source_root_path", "/tmp/x"), ("target_path", "/ifs/../etc"), ("schedule", "sometimes"),
    ("workers_per_node", 0), ("name", ""), ("cloud_deep_copy", "maybe"),
])
def test_invalid_values(api, field, value):
    response = api.post("source", POLICIES, json=body(**{field: value}))
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["code"].startswith("AEC_")


@pytest.mark.parametrize("field", ["conflicted", "id", "last_success", "last_job_state", "has_sync_state", "bogus"])
def test_read_only_put_only_and_unknown_fields_on_create(api, field):
    response = api.post("source", POLICIES, json=body(**{field: False}))
    assert response.status_code == 400
    assert field in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("schedule", ["", "when-source-modified", "when-snapshot-taken", "every 1 days at 12:00 AM",
                                      "Every 2 days", "the last day of every month at 1:30 AM",
                                      "yearly on March 1 at 2:00 AM"])
def test_schedule_grammar_accepted_and_stored_verbatim(api, schedule):
    api.create_policy("source", "p1", "/ifs/data/app", "/ifs/dr/app", schedule=schedule, enabled=False)
    assert api.policy("source", "p1")["schedule"] == schedule


def test_duplicate_name_is_409_exists(api):
    api.create_policy("source", "p1", "/ifs/data/app", "/ifs/dr/app")
    response = api.post("source", POLICIES, json=body())
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "AEC_EXISTS"


def test_put_is_partial_and_tolerates_goi_bodies(api):
    api.create_policy("source", "p1", "/ifs/data/app", "/ifs/dr/app", description="keep me", schedule="")
    assert api.put("source", POLICIES + "/p1", json={"enabled": False, "schedule": ""}).status_code == 204
    policy = api.policy("source", "p1")
    assert policy["enabled"] is False and policy["description"] == "keep me"
    goi = {"enabled": False, "schedule": "when-source-modified", "job_delay": 300}
    assert api.put("source", POLICIES + "/p1", json=goi).status_code == 204
    assert api.policy("source", "p1")["job_delay"] == 300
    resolve = {"enabled": False, "conflicted": False, "schedule": "when-source-modified"}
    assert api.put("source", POLICIES + "/p1", json=resolve).status_code == 204


def test_clearing_conflicted_alone_on_a_healthy_policy(api):
    api.create_policy("source", "p1", "/ifs/data/app", "/ifs/dr/app")
    response = api.put("source", POLICIES + "/p1", json={"conflicted": False})
    assert response.status_code == 400
    assert "The policy was not conflicted, so no change was made" in response.json()["errors"][0]["message"]


def test_put_validation(api):
    api.create_policy("source", "p1", "/ifs/data/app", "/ifs/dr/app")
    api.create_policy("source", "p2", "/ifs/data/b", "/ifs/dr/b")
    assert api.put("source", POLICIES + "/p1", json={"id": "x"}).status_code == 400
    assert api.put("source", POLICIES + "/p1", json={"schedule": "whenever"}).status_code == 400
    assert api.put("source", POLICIES + "/p1", json={}).status_code == 400
    assert api.put("source", POLICIES + "/p1", json={"name": "p2"}).status_code == 409
    assert api.put("source", POLICIES + "/nope", json={"enabled": True}).status_code == 404
    assert api.put("source", POLICIES + "/p1", json={"name": "renamed"}).status_code == 204
    assert api.get("source", POLICIES + "/renamed").status_code == 200


def test_password_is_write_only(api, control):
    api.create_policy("source", "p1", "/ifs/data/app", "/ifs/dr/app", password="s3cret")
    policy = api.policy("source", "p1")
    assert policy["password_set"] is True and "password" not in policy


def test_unknown_policy_is_404(api):
    response = api.get("source", POLICIES + "/nope")
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "AEC_NOT_FOUND"
    assert api.delete("source", POLICIES + "/nope").status_code == 404


def synced_pair(api, control, name="p1"):
    api.write("source", "/ifs/data/app/f.txt", b"data")
    api.create_policy("source", name, "/ifs/data/app", "/ifs/dr/app")
    assert api.job("source", name).status_code == 201
    control.wait_idle(10)
    assert api.target("target", name)["failover_failback_state"] == "writes_disabled"


def test_delete_removes_the_peer_target_record(api, control):
    synced_pair(api, control)
    assert api.delete("source", POLICIES + "/p1").status_code == 204
    assert api.get("source", POLICIES + "/p1").status_code == 404
    assert api.target("target", "p1") is None
    assert api.write("target", "/ifs/dr/app/new.txt", b"writable again").status_code == 200


def test_delete_local_only_keeps_the_peer_target_record(api, control):
    synced_pair(api, control)
    assert api.delete("source", POLICIES + "/p1", params={"local_only": "true"}).status_code == 204
    assert api.target("target", "p1")["failover_failback_state"] == "writes_disabled"
    assert api.write("target", "/ifs/dr/app/new.txt", b"x").status_code == 403


def test_delete_all_policies(api, control):
    api.create_policy("source", "p1", "/ifs/data/a", "/ifs/dr/a")
    api.create_policy("source", "p2", "/ifs/data/b", "/ifs/dr/b")
    assert api.delete("source", POLICIES).status_code == 204
    assert control.state("source")["policies"] == []


def test_reset_makes_the_next_run_a_full_sync(api, control):
    synced_pair(api, control)
    assert api.policy("source", "p1")["has_sync_state"] is True
    response = api.post("source", "/platform/1/sync/policies/p1/reset", json={})
    assert response.status_code in (200, 201)
    assert api.policy("source", "p1")["has_sync_state"] is False
    assert api.job("source", "p1").status_code == 201
    control.wait_idle(10)
    reports = api.get("source", "/platform/15/sync/reports", params={"policy_name": "p1", "sort": "job_id"}).json()
    assert [r["sync_type"] for r in reports["reports"]] == ["initial", "initial"]


def test_broken_association_blocks_runs_until_reset(api, control):
    synced_pair(api, control)
    assert api.delete("target", "/platform/1/sync/target/policies/p1").status_code == 204
    assert api.write("target", "/ifs/dr/app/x.txt", b"now writable").status_code == 200
    assert api.job("source", "p1").status_code == 201
    control.wait_idle(10)
    policy = api.policy("source", "p1")
    assert policy["last_job_state"] == "failed"
    api.post("source", "/platform/1/sync/policies/p1/reset", json={})
    api.job("source", "p1")
    control.wait_idle(10)
    assert api.policy("source", "p1")["last_job_state"] == "finished"
    assert api.target("target", "p1")["failover_failback_state"] == "writes_disabled"
