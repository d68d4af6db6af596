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


@pytest.mark.parametrize("args, problem", [
    ({"name": "fin-ap", "wait_timeout": -1}, "wait_timeout: must be 0 to 86400"),
    ({"name": "fin-ap", "wait_timeout": 86401}, "wait_timeout: must be 0 to 86400"),
    ({"policies": [{"name": "fin-ap"}, {"name": "home"}], "wait_timeout": 5, "poll_interval": 0},
     "poll_interval: must be more than 0"),
    ({"name": "fin-ap", "poll_interval": -1.5}, "poll_interval: must be more than 0"),
])
def test_bad_wait_values_fail_before_any_request_naming_the_option(onefs, args, problem):
    result = onefs.run("synciq_policy", dict(args, state="absent"))
    assert result.get("failed") is True and result["msg"] == "invalid options: " + problem
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


# --------------------------------------------------------------------------- requests per policy
POLICY_LIST = "/platform/14/sync/policies"
JOB_LIST = "/platform/15/sync/jobs"


def api_log(onefs, cluster="source"):
    """The module's API requests to one cluster, in order (no session, no control calls)."""
    return [r for r in onefs.requests(cluster) if r.get("cluster") == cluster
            and r["path"].startswith("/platform")]


def test_several_policies_one_list_one_put_each_no_read_after(onefs):
    args = {"policies": [{"name": "fin-ap"}, {"name": "eng-src"}, {"name": "it-scripts"}],
            "schedule": "every 2 days", "max_workers": 3}
    result = onefs.run("synciq_policy", args)
    assert result["_rc"] == 0 and result["changed"] is True
    log = api_log(onefs)
    reads = [(r["method"], r["path"]) for r in log if r["method"] == "GET"]
    assert reads == [("GET", POLICY_LIST)]              # one list, no GET per policy
    puts = [r for r in log if r["method"] == "PUT"]
    assert len(puts) == 3 and len(log) == 4
    assert log[0]["method"] == "GET"                     # nothing is read after the PUTs
    # the returned policy is the one read before with the change applied, schedule in OneFS's form
    for entry in result["results"]:
        stored = policy_of(onefs, entry["name"])
        assert entry["policy"]["schedule"] == stored["schedule"] == "every 2 days"
        assert entry["policy"]["id"] == stored["id"] and entry["policy"]["enabled"] is stored["enabled"]

    onefs.clear_log()
    manual = onefs.run("synciq_policy", dict(args, schedule="manual"))
    assert [r["policy"]["schedule"] for r in manual["results"]] == ["", "", ""]
    assert [r["previous"]["schedule"] for r in manual["results"]] == ["every 2 days"] * 3


def test_a_policy_named_by_its_id_is_found_in_the_list(onefs):
    ident = policy_of(onefs, "fin-ar")["id"]
    result = onefs.run("synciq_policy", {"policies": [{"name": ident}, {"name": "fin-ap"}], "description": "by id"})
    assert result["_rc"] == 0 and [r["changed"] for r in result["results"]] == [True, True]
    assert policy_of(onefs, "fin-ar")["description"] == "by id"
    assert [r["method"] for r in api_log(onefs)] == ["GET", "PUT", "PUT"]


def test_deleting_three_policies_reads_the_job_list_once(onefs):
    result = onefs.run("synciq_policy", {"policies": [{"name": "eng-docs"}, {"name": "eng-tools"},
                                                      {"name": "it-scripts"}], "state": "absent"})
    assert result["_rc"] == 0 and result["changed"] is True
    log = api_log(onefs)
    assert [(r["method"], r["path"]) for r in log if r["method"] == "GET"] == [("GET", POLICY_LIST), ("GET", JOB_LIST)]
    assert len([r for r in log if r["method"] == "DELETE"]) == 3 and len(log) == 5
    assert all(policy_of(onefs, name) is None for name in ("eng-docs", "eng-tools", "it-scripts"))


# --------------------------------------------------------------------------- wait_timeout
def start_job(onefs, name):
    """A replication run of ``name``, started as any OneFS client would (POST /sync/jobs)."""
    from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

    conn = onefs.conn("source")
    client = PapiClient(hosts=[conn["onefs_host"]], port=conn["onefs_port"], username="admin", password="admin",
                        ca_path=onefs.ca_path, validate_certs=bool(onefs.ca_path))
    try:
        client.post(JOB_LIST, {"id": name})
    finally:
        client.close()
    jobs = onefs.state("source")["jobs"]
    assert [j["policy_name"] for j in jobs] == [name]
    return jobs[0]["job_id"]


def time_scale(onefs, scale):
    onefs._control("POST", "/_mock/time", json={"scale": scale})


@pytest.mark.timeout(120)
@pytest.mark.parametrize("many", [True, False], ids=["policies", "name"])
def test_wait_timeout_deletes_a_policy_once_its_job_has_ended(onefs, many):
    time_scale(onefs, 1)       # the job runs about 2 s: the module has to wait for it
    try:
        job_id = start_job(onefs, "home")
        onefs.clear_log()
        args = {"policies": [{"name": "home"}, {"name": "it-scripts"}]} if many else {"name": "home"}
        result = onefs.run("synciq_policy", dict(args, state="absent", wait_timeout=60, poll_interval=0.2))
    finally:
        time_scale(onefs, 50)
    assert result["_rc"] == 0, result.get("msg")
    home = result["results"][0]
    assert home["changed"] is True and "after its run job %s ended (wait_timeout)" % job_id in home["actions"][0]
    assert policy_of(onefs, "home") is None and (not many or policy_of(onefs, "it-scripts") is None)
    # the job ran to its end: not cancelled by the delete
    reports = [r for r in onefs.state("source")["reports"] if r["policy_name"] == "home" and r["job_id"] == job_id]
    assert [r["state"] for r in reports] == ["finished"]
    log = api_log(onefs)
    deletes = [r for r in log if r["method"] == "DELETE"]
    assert len(deletes) == (2 if many else 1) and all("force" not in (r["query"] or {}) for r in deletes)
    job_reads = [r for r in log if r["method"] == "GET" and r["path"].startswith(JOB_LIST)]
    assert len(job_reads) >= 2                       # it polled ...
    assert max(r["seq"] for r in job_reads) < min(r["seq"] for r in deletes)   # ... before deleting anything
    if many:
        assert all(r["path"] == JOB_LIST for r in job_reads)                     # the list, not one GET per policy


@pytest.mark.timeout(120)
@pytest.mark.parametrize("many", [True, False], ids=["policies", "name"])
def test_a_too_short_wait_timeout_fails_naming_it_and_deletes_nothing(onefs, many):
    time_scale(onefs, 0.2)     # the job runs >= 10 s
    try:
        job_id = start_job(onefs, "home")
        onefs.clear_log()
        args = {"policies": [{"name": "it-scripts"}, {"name": "home"}]} if many else {"name": "home"}
        result = onefs.run("synciq_policy", dict(args, state="absent", wait_timeout=1, poll_interval=0.2))
    finally:
        time_scale(onefs, 50)
    assert result["failed"] is True
    assert "wait_timeout" in result["msg"] and "home (run job %s, running)" % job_id in result["msg"]
    assert onefs.writes() == []
    assert policy_of(onefs, "home") is not None and policy_of(onefs, "it-scripts") is not None


@pytest.mark.timeout(120)
def test_wait_timeout_in_check_mode_neither_waits_nor_writes(onefs):
    time_scale(onefs, 0.2)
    try:
        job_id = start_job(onefs, "home")
        onefs.clear_log()
        result = onefs.run("synciq_policy", {"policies": [{"name": "home"}, {"name": "it-scripts"}],
                                             "state": "absent", "wait_timeout": 600}, check=True)
        still_running = [j["policy_name"] for j in onefs.state("source")["jobs"]]
    finally:
        time_scale(onefs, 50)
    assert result["_rc"] == 0 and result["changed"] is True
    assert result["results"][0]["actions"] == [
        "delete policy once its active run job %s (running) ends (wait_timeout) and its target record" % job_id]
    assert still_running == ["home"] and result["timing"]["seconds"] < 10
    assert onefs.writes() == [] and policy_of(onefs, "home") is not None
