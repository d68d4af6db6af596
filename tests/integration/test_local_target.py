"""local_target: the real module process against the mock's target cluster (demo scenario)."""

import ast
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "local_target.py"


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def record_of(onefs, name):
    return next((p for p in onefs.state("target")["target_policies"] if p["name"] == name), None)


def fofb(onefs, name):
    return record_of(onefs, name)["failover_failback_state"]


def job_posts(onefs, cluster="target"):
    return [w for w in onefs.writes(cluster) if w["method"] == "POST" and "/sync/jobs" in w["path"]]


@pytest.mark.timeout(180)
def test_examples_run_against_the_mock(onefs):
    conn = onefs.conn("target")
    extra = {"onefs_target_host": conn["onefs_host"], "onefs_target_port": conn["onefs_port"],
             "onefs_username": "admin", "onefs_password": "admin", "onefs_ca_path": onefs.ca_path}
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    assert fofb(onefs, "fin-ap") == "writes_disabled" and fofb(onefs, "fin-ar") == "writes_disabled"
    assert [p["body"]["action"] for p in job_posts(onefs)] == ["allow_write"] * 2 + ["allow_write_revert"] * 2


@pytest.mark.timeout(120)
def test_allow_write_check_mode_then_real_then_unchanged(onefs):
    args = {"policies": ["eng-src", "eng-docs"], "poll_interval": 0.1}
    planned = onefs.run("local_target", args, cluster="target", check=True, diff=True)
    assert planned["_rc"] == 0 and planned["changed"] is True
    assert [(d["before"]["failover_failback_state"], d["after"]["failover_failback_state"])
            for d in planned["diff"]] == [("writes_disabled", "writes_enabled")] * 2
    assert [r["actions"] for r in planned["results"]] == [["allow_write"], ["allow_write"]]
    assert onefs.writes() == []

    done = onefs.run("local_target", args, cluster="target")
    assert done["changed"] is True
    for result in done["results"]:
        assert result["before_state"] == "writes_disabled" and result["state"] == "writes_enabled"
        assert isinstance(result["job_id"], int)
    assert fofb(onefs, "eng-src") == "writes_enabled"

    onefs.clear_log()
    again = onefs.run("local_target", args, cluster="target")
    assert again["changed"] is False
    assert job_posts(onefs) == []        # no second allow_write on a writable target


@pytest.mark.timeout(120)
def test_a_group_is_watched_with_one_list_per_cycle_and_jobs_bounded(onefs):
    """The group is planned from one list of the records; every job is started before the waiting; the
    wait reads the records in one list call per cycle, never record by record, and at most
    max_running_jobs jobs run at once."""
    names = ["fin-ap", "fin-ar", "fin-reports", "eng-src", "eng-docs", "eng-tools"]
    onefs.clear_log()
    done = onefs.run("local_target", {"policies": names, "poll_interval": 0.1, "max_running_jobs": 2},
                     cluster="target")
    assert done["changed"] is True and {r["state"] for r in done["results"]} == {"writes_enabled"}
    log = [e for e in onefs.requests() if e["cluster"] == "target" and "/sync/target/policies" in e["path"]]
    per_record = [e for e in log if e["method"] == "GET" and not e["path"].endswith("/sync/target/policies")]
    lists = [e for e in log if e["method"] == "GET" and e["path"].endswith("/sync/target/policies")]
    assert per_record == []                       # planned from the list, watched through the list
    requests = [e for e in onefs.requests() if e["cluster"] == "target"]
    posts = [i for i, e in enumerate(requests) if e["method"] == "POST" and e["path"].endswith("/sync/jobs")]
    list_at = [i for i, e in enumerate(requests) if e in lists]
    assert len(posts) == len(names) and list_at[0] < posts[0]     # the plan's one list comes first
    # with max_running_jobs 2, a third allow_write is only posted after a list showed one finished
    assert any(posts[1] < i < posts[2] for i in list_at)


@pytest.mark.timeout(120)
def test_revert_without_discard_option_changes_nothing(onefs):
    onefs.run("local_target", {"policies": ["home"], "poll_interval": 0.1}, cluster="target")
    onefs.clear_log()
    refused = onefs.run("local_target", {"policies": ["home", "it-scripts"], "state": "writes_disabled"},
                        cluster="target")
    assert refused["failed"] is True and "discard_target_changes" in refused["msg"]
    assert onefs.writes() == []
    assert fofb(onefs, "home") == "writes_enabled"
    reverted = onefs.run("local_target", {"policies": ["home", "it-scripts"], "state": "writes_disabled",
                                          "discard_target_changes": True, "poll_interval": 0.1}, cluster="target")
    by_name = {r["name"]: r for r in reverted["results"]}
    assert by_name["home"]["actions"] == ["allow_write_revert"] and by_name["home"]["state"] == "writes_disabled"
    assert by_name["it-scripts"]["changed"] is False


def test_break_association_needs_its_option(onefs):
    refused = onefs.run("local_target", {"policies": ["eng-tools"], "state": "absent"}, cluster="target")
    assert refused["failed"] is True and "break_association" in refused["msg"]
    assert onefs.writes() == []
    done = onefs.run("local_target", {"policies": ["eng-tools"], "state": "absent", "break_association": True},
                     cluster="target")
    assert done["changed"] is True and record_of(onefs, "eng-tools") is None
    again = onefs.run("local_target", {"policies": ["eng-tools"], "state": "absent", "break_association": True},
                      cluster="target")
    assert again["changed"] is False


def test_unknown_policy_stops_the_whole_run_before_any_write(onefs):
    result = onefs.run("local_target", {"policies": ["fin-ap", "no-such-policy"]}, cluster="target")
    assert result["failed"] is True and "no-such-policy" in result["msg"]
    assert onefs.writes() == []
    assert fofb(onefs, "fin-ap") == "writes_disabled"


@pytest.mark.parametrize("args, option", [
    ({"policies": ["fin-ap"], "state": "writable"}, "state"),
    ({"policies": ["fin-ap"], "workers_per_node": 0}, "workers_per_node"),
    ({"policies": ["fin-ap", "fin-ap"]}, "policies"),
    ({"policies": ["fin-ap"], "poll_interval": 0}, "poll_interval"),
])
def test_bad_values_fail_before_any_request(onefs, args, option):
    result = onefs.run("local_target", args, cluster="target")
    assert result["failed"] is True and option in result["msg"]
    assert [r for r in onefs.requests("target") if not r["path"].startswith("/_mock")] == []
