"""dr_plan: the real module process against the mock (demo scenario); plans from live state, refusals."""

import ast
from pathlib import Path

import pytest
import requests as http

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "dr_plan.py"
FINANCE = ["fin-ap", "fin-ar"]
POOLS = [{"source": "groupnet0.subnet0.finance", "target": "groupnet0.subnet0.finance"}]


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def dr_plan(onefs, check=False, source=None, **args):
    args.setdefault("peer", source or onefs.conn("source"))
    return onefs.run("dr_plan", args, cluster="target", check=check)


def step(result, order):
    return [a for a in result["actions"] if a["order"] == order]


def fail_over(onefs, names):
    for name in names:
        resp = http.put(onefs.mock.url("source") + "/platform/14/sync/policies/" + name, auth=("admin", "admin"),
                        json={"enabled": False}, verify=onefs.ca_path or False, timeout=30)
        resp.raise_for_status()
    done = onefs.run("local_target", {"policies": names, "poll_interval": 0.1}, cluster="target")
    assert done["_rc"] == 0, done


@pytest.mark.timeout(120)
def test_planned_failover_in_the_documented_order_and_read_only(onefs):
    result = dr_plan(onefs, check=True, operation="failover_planned", zone="finance", pools=POOLS,
                     spn_provider="AD.EXAMPLE.COM", quotas=True, config_sync=True)
    assert result["_rc"] == 0, result
    orders = [a["order"] for a in result["actions"]]
    assert orders == sorted(orders)
    assert sorted(set(orders)) == [3, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16]
    assert [a["action"] for a in step(result, 12)] == ["allow_write"] * 4
    assert step(result, 5)[0]["action"] == "set schedule manual (was when-source-modified), final sync"
    assert step(result, 8)[0]["action"] == "park finance.prod.example.com, fin.prod.example.com"
    assert "remove HOST/finance" in step(result, 9)[0]["action"] and step(result, 9)[0]["cluster"] == "source"
    assert all(a["destructive"] for a in step(result, 15)) and not any(a["destructive"] for a in step(result, 12))
    assert result["destructive"] is True and result["refusals"] == []
    assert any(line.startswith("12. allow writes on target (target): fin-ap") for line in result["lines"])
    assert onefs.writes() == []


@pytest.mark.timeout(120)
def test_steps_already_done_show_as_skip(onefs):
    fail_over(onefs, ["fin-ap"])
    onefs.clear_log()
    result = dr_plan(onefs, operation="failover_planned", policies=FINANCE)
    assert result["_rc"] == 0, result
    by_object = {(a["order"], a["object"]): a for a in result["actions"]}
    assert by_object[(12, "fin-ap")]["done"] and by_object[(12, "fin-ap")]["action"] == "skip (already done)"
    assert by_object[(12, "fin-ar")]["action"] == "allow_write"
    assert by_object[(6, "fin-ap")]["done"] and by_object[(5, "fin-ap")]["done"]
    assert "12. allow writes on target (target): fin-ar: allow_write (fin-ap already done)" in result["lines"]
    everything = dr_plan(onefs, operation="failover_planned", policies=["fin-ap"])
    assert everything["todo"] == 2      # only the journal steps remain
    assert onefs.writes() == []


@pytest.mark.timeout(120)
def test_reprotect_and_failback_are_refused_before_any_failover(onefs):
    refused = dr_plan(onefs, operation="reprotect", policies=FINANCE)
    assert refused["_rc"] != 0 and len(refused["refusals"]) == 2
    assert "fin-ap" in refused["msg"] and "not failed over" in refused["refusals"][0]["reason"]
    assert refused["actions"] == []
    for operation in ("failback_discard_target", "failback_discard_source"):
        result = dr_plan(onefs, operation=operation, policies=FINANCE)
        assert result["_rc"] != 0 and [r["object"] for r in result["refusals"]] == FINANCE
    partial = dr_plan(onefs, operation="reprotect", policies=FINANCE, allow_partial=True)
    assert partial["_rc"] == 0 and len(partial["refusals"]) == 2 and partial["lines"][0].startswith("REFUSED fin-ap")


@pytest.mark.timeout(180)
def test_failback_and_reprotect_after_a_failover(onefs):
    fail_over(onefs, FINANCE)
    target = dr_plan(onefs, operation="failback_discard_target", policies=FINANCE, quotas=True)
    assert target["_rc"] == 0, target
    revert = step(target, 6)
    assert [a["object"] for a in revert] == FINANCE and all(a["destructive"] for a in revert)
    assert "allow_write_revert" in revert[0]["action"]
    # the policies as dr_info describes them, so that the failback role decides from this one read
    views = {p["name"]: p for p in target["policies"]}
    assert sorted(views) == sorted(FINANCE)
    assert all(v["target"]["record_state"] == "writes_enabled" and v["mirror"]["exists"] is False
               and v["source"]["enabled"] is False for v in views.values()), views
    assert target["schedules"] == {}        # no pair given: no journal read
    source = dr_plan(onefs, operation="failback_discard_source", policies=FINANCE)
    assert source["_rc"] == 0, source
    assert [a["action"] for a in step(source, 4)] == ["resync_prep"] * 2
    assert all(a["destructive"] for a in step(source, 10))
    again = dr_plan(onefs, operation="reprotect", policies=FINANCE)
    assert again["_rc"] == 0, again
    assert [a["action"] for a in step(again, 3)] == ["delete policy (and its target record)"] * 2
    assert all(a["destructive"] for a in step(again, 3))
    # half way through the failback keeping the target data: resync_prep done
    prepped = onefs.run("resync_prep", {"policies": ["fin-ap"], "peer": onefs.conn("target"), "poll_interval": 0.1,
                                        "enable_first": True}, cluster="source")
    assert prepped["_rc"] == 0, prepped
    resumed = dr_plan(onefs, operation="failback_discard_source", policies=FINANCE)
    assert resumed["_rc"] == 0, resumed
    by_object = {(a["order"], a["object"]): a for a in resumed["actions"]}
    assert by_object[(4, "fin-ap")]["done"] and not by_object[(4, "fin-ar")]["done"]
    assert by_object[(8, "fin-ap")]["action"] == "allow_write fin-ap_mirror"


@pytest.mark.timeout(120)
def test_source_down_planned_refused_unplanned_planned(onefs):
    source = dict(onefs.conn("source"), retry_budget=1, api_timeout=2)
    onefs._control("POST", "/_mock/down", "source")
    try:
        planned = dr_plan(onefs, source=source, operation="failover_planned", policies=FINANCE)
        assert planned["_rc"] != 0 and "failover_unplanned" in planned["msg"]
        assert planned["source_visible"] is False
        unplanned = dr_plan(onefs, source=source, operation="failover_unplanned", policies=FINANCE)
        assert unplanned["_rc"] == 0, unplanned
        assert [a["action"] for a in step(unplanned, 12)] == ["allow_write"] * 2
        assert all("fence" in a["action"] for a in step(unplanned, 13))
    finally:
        onefs._control("POST", "/_mock/up?cluster=source", "target")


@pytest.mark.timeout(180)
def test_a_finished_failback_in_the_journal_plans_as_done(onefs):
    fail_over(onefs, ["fin-ap"])
    revert = onefs.run("local_target", {"policies": ["fin-ap"], "state": "writes_disabled",
                                        "discard_target_changes": True, "poll_interval": 0.1}, cluster="target")
    assert revert["_rc"] == 0
    resp = http.put(onefs.mock.url("source") + "/platform/14/sync/policies/fin-ap", auth=("admin", "admin"),
                    json={"enabled": True}, verify=onefs.ca_path or False, timeout=30)
    resp.raise_for_status()
    refused = dr_plan(onefs, operation="failback_discard_target", policies=["fin-ap"], pair="prod-dr")
    assert refused["_rc"] != 0
    started = onefs.run("dr_run", {"pair": "prod-dr", "operation": "failback_discard_target", "policies": ["fin-ap"],
                                   "peer": onefs.conn("source")}, cluster="target")
    finished = onefs.run("dr_run", {"pair": "prod-dr", "action": "finish", "run_id": started["run_id"],
                                    "peer": onefs.conn("source")}, cluster="target")
    assert finished["_rc"] == 0
    onefs.clear_log()
    done = dr_plan(onefs, operation="failback_discard_target", policies=["fin-ap"], pair="prod-dr")
    assert done["_rc"] == 0, done
    policy_steps = [a for a in done["actions"] if a["kind"] == "policy"]
    assert policy_steps and all(a["done"] for a in policy_steps)
    assert onefs.writes() == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args, option", [
    ({"operation": "failover"}, "operation"),
    ({"operation": "fence", "policies": []}, "policies"),
    ({"operation": "fence", "spn_provider": "AD.EXAMPLE.COM"}, "spn_provider"),
    ({"operation": "reprotect", "resync_prep": True}, "resync_prep"),
    ({"operation": "fence", "pools": [{"source": "a"}]}, "target"),
    ({"operation": "fence", "pair": "a/b"}, "pair"),
])
def test_bad_options_fail_before_any_request(onefs, args, option):
    result = dr_plan(onefs, **args)
    assert result["_rc"] != 0 and option in result["msg"]
    assert onefs.requests("target") == [] and onefs.requests("source") == []


@pytest.mark.timeout(180)
def test_examples_run_against_the_mock(onefs):
    source, target = onefs.conn("source"), onefs.conn("target")
    extra = {"target_host": target["onefs_host"], "target_port": target["onefs_port"], "target_user": "admin",
             "target_password": "admin", "source_host": source["onefs_host"], "source_port": source["onefs_port"],
             "source_user": "admin", "source_password": "admin", "ca_path": onefs.ca_path}
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    assert "12. allow writes on target" in out
    assert "not failed over" in out
    assert onefs.writes() == []
