"""synciq_policy: the real module process against the mock (demo scenario)."""

import ast
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "synciq_policy.py"


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def policy_of(onefs, name, cluster="source"):
    return next((p for p in onefs.state(cluster)["policies"] if p["name"] == name), None)


@pytest.mark.timeout(180)
def test_examples_run_against_the_mock(onefs):
    conn = onefs.conn("source")
    extra = {"onefs_source_host": conn["onefs_host"], "onefs_source_port": conn["onefs_port"],
             "onefs_username": "admin", "onefs_password": "admin", "onefs_ca_path": onefs.ca_path}
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    # created then deleted again; fin-ap/fin-ar set to manual then restored from the registered results
    assert policy_of(onefs, "eng-wiki") is None
    assert policy_of(onefs, "fin-ap")["schedule"] == "when-source-modified"
    assert policy_of(onefs, "fin-ar")["schedule"] == "every 1 days at 12:00 AM"
    puts = [w for w in onefs.writes("source") if w["method"] == "PUT"]
    assert all("schedule" in w["body"] and "enabled" in w["body"] for w in puts)


def test_many_policies_check_mode_then_real_then_unchanged(onefs):
    args = {"policies": [{"name": "fin-ap"}, {"name": "eng-src", "enabled": True}, {"name": "it-scripts"}],
            "schedule": "manual", "enabled": False}
    planned = onefs.run("synciq_policy", args, check=True, diff=True)
    assert planned["_rc"] == 0 and planned["changed"] is True
    assert onefs.writes() == []
    assert [d["after"].get("schedule") for d in planned["diff"]] == ["manual", "manual", "manual"]

    done = onefs.run("synciq_policy", args)
    assert done["changed"] is True
    assert [r["name"] for r in done["results"]] == ["fin-ap", "eng-src", "it-scripts"]
    assert [r["previous"] for r in done["results"]] == [
        {"schedule": "when-source-modified", "enabled": True},
        {"schedule": "when-source-modified", "enabled": True},
        {"schedule": "manual", "enabled": True}]
    # the item's own value wins over the top-level default
    assert policy_of(onefs, "eng-src")["enabled"] is True
    assert policy_of(onefs, "fin-ap")["enabled"] is False and policy_of(onefs, "fin-ap")["schedule"] == ""

    onefs.clear_log()
    again = onefs.run("synciq_policy", args)
    assert again["changed"] is False and onefs.writes() == []


@pytest.mark.parametrize("args, option", [
    ({"name": "fin-ap", "schedule": "daily"}, "schedule"),
    ({"policies": [{"name": "fin-ap"}, {"name": "home", "schedule": "when-source-changed"}]}, "policies[1].schedule"),
    ({"name": "fin-ap", "workers_per_node": 40}, "workers_per_node"),
    ({"name": "fin-ap", "conflicted": True}, "conflicted"),
    ({"name": "fin-ap", "action": "move"}, "action"),
])
def test_bad_values_fail_before_any_request_naming_the_option(onefs, args, option):
    result = onefs.run("synciq_policy", args)
    assert result.get("failed") is True and option in result["msg"]
    assert [r for r in onefs.requests("source") if not r["path"].startswith("/_mock")] == []


def test_create_without_required_fields_names_them(onefs):
    result = onefs.run("synciq_policy", {"name": "brand-new", "target_host": "target"})
    assert result["failed"] is True
    assert "source_root_path, target_path, action" in result["msg"]
    assert onefs.writes() == []


def test_delete_with_active_job_needs_force_others_still_reported(onefs):
    onefs._control("POST", "/_mock/time", json={"scale": 0.2})    # the job runs >= 10 s: still active below
    try:
        started = onefs.run("rg_sync", {"policies": ["home"], "timeout": 1, "poll_interval": 0.2})
        assert started["results"][0]["actions"] == ["start job"]
        result = onefs.run("synciq_policy", {"policies": [{"name": "home"}, {"name": "it-scripts"}],
                                             "state": "absent", "local_only": True})
        assert result["failed"] is True and "home" in result["msg"] and "force" in result["msg"]
        by_name = {r["name"]: r for r in result["results"]}
        assert by_name["it-scripts"]["changed"] is True and policy_of(onefs, "it-scripts") is None
        assert policy_of(onefs, "home") is not None
        forced = onefs.run("synciq_policy", {"name": "home", "state": "absent", "force": True})
        assert forced["changed"] is True and policy_of(onefs, "home") is None
    finally:
        onefs._control("POST", "/_mock/time", json={"scale": 50})


def test_resolve_conflict_is_a_no_change_on_a_healthy_policy(onefs):
    result = onefs.run("synciq_policy", {"name": "fin-reports", "conflicted": False})
    assert result["_rc"] == 0 and result["changed"] is False
    for write in onefs.writes("source"):
        assert write["body"]["schedule"] == "every 1 hours" and write["body"]["enabled"] is True


def mark_conflicted(onefs, name):
    """What OneFS does after certain failed jobs: the policy stays conflicted until resolved."""
    from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

    conn = onefs.conn("source")
    client = PapiClient(hosts=[conn["onefs_host"]], port=conn["onefs_port"], username="admin", password="admin",
                        ca_path=onefs.ca_path, validate_certs=bool(onefs.ca_path))
    try:
        body = {"conflicted": True, "schedule": "every 1 hours", "enabled": True}
        client.put("/platform/14/sync/policies/%s" % name, body)
    finally:
        client.close()


def test_resolve_conflict_of_a_conflicted_policy(onefs):
    mark_conflicted(onefs, "fin-reports")
    onefs.clear_log()
    planned = onefs.run("synciq_policy", {"name": "fin-reports", "conflicted": False}, check=True)
    assert planned["changed"] is True and planned["results"][0]["actions"] == ["resolve conflict"]
    assert onefs.writes() == []
    done = onefs.run("synciq_policy", {"name": "fin-reports", "conflicted": False})
    assert done["changed"] is True and policy_of(onefs, "fin-reports")["conflicted"] is False
    assert [w["body"] for w in onefs.writes("source")] == [
        {"conflicted": False, "schedule": "every 1 hours", "enabled": True}]
