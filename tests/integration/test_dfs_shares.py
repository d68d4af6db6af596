"""dfs_shares: the real module process against the mock (demo scenario).

The module runs against the ORIGINAL source (top-level connection) with ``peer`` = the original
target; config_sync (against the target, ``peer`` = the source) makes the standby copies first.
The demo target serves its own ``ap`` in zone finance under the real name; in DFS mode only the
standby copy may exist there, so most tests remove it first (one test shows the refusal it causes).
"""

import ast
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "dfs_shares.py"
PREFIX = "dfs-standby-"

pytestmark = pytest.mark.timeout(300)


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def names(onefs, cluster, zone="finance"):
    return sorted(s["name"] for s in onefs.state(cluster)["smb_shares"] if s["zone"] == zone)


def api_calls(onefs, cluster):
    return [r for r in onefs.requests(cluster) if r.get("cluster") == cluster and r["path"].startswith("/platform")]


def share_puts(onefs):
    """Share PUTs on either cluster, in arrival order (the mock keeps one log for all clusters)."""
    return sorted((w for w in onefs.writes() if w["method"] == "PUT" and "/protocols/smb/shares/" in w["path"]),
                  key=lambda w: w["seq"])


def drop_target_ap(onefs):
    from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

    conn = onefs.conn("target")
    with PapiClient(hosts=[conn["onefs_host"]], port=conn["onefs_port"], username="admin", password="admin",
                    ca_path=conn.get("ca_path"), validate_certs=conn.get("validate_certs", True),
                    name="target") as client:
        client.delete("/platform/12/protocols/smb/shares/ap", query={"zone": "finance"})


def standby_copies(onefs, zone="finance"):
    """config_sync with name_prefix: dfs-standby-<name> on the target for every share of the zone."""
    result = onefs.run("config_sync", {"peer": onefs.conn("source"), "zone": zone, "kinds": ["smb_shares"],
                                       "name_prefix": PREFIX}, cluster="target")
    assert result["_rc"] == 0, result.get("msg")
    return result


def dfs_shares(onefs, check=False, diff=False, **args):
    full = dict({"peer": onefs.conn("target"), "zone": "finance"}, **args)
    return onefs.run("dfs_shares", full, cluster="source", check=check, diff=diff)


def test_failover_then_failback_with_check_mode_and_idempotence(onefs):
    drop_target_ap(onefs)
    copies = standby_copies(onefs)
    assert [(r["name"], r["source_name"], r["action"]) for r in copies["results"]] == [
        ("dfs-standby-ap", "ap", "create"), ("dfs-standby-ar", "ar", "create"),
        ("dfs-standby-reports", "reports", "create")]
    onefs.clear_log()

    planned = dfs_shares(onefs, active="target", check=True, diff=True)
    assert planned["_rc"] == 0 and planned["changed"] is True, planned.get("msg")
    assert onefs.writes() == [], "check mode writes nothing"
    assert planned["diff"][0] == {
        "before": {"source": "ap", "target": "dfs-standby-ap"}, "after": {"source": "dfs-standby-ap", "target": "ap"},
        "before_header": "SMB share ap: names (source zone finance, target zone finance)",
        "after_header": "SMB share ap: names (source zone finance, target zone finance)"}
    assert names(onefs, "source") == ["ap", "ar", "reports"]

    failover = dfs_shares(onefs, active="target")
    assert failover["_rc"] == 0 and failover["changed"] is True, failover.get("msg")
    assert [(r["name"], r["actions"]) for r in failover["results"]] == [
        ("ap", ["source: rename ap -> dfs-standby-ap", "target: rename dfs-standby-ap -> ap"]),
        ("ar", ["source: rename ar -> dfs-standby-ar", "target: rename dfs-standby-ar -> ar"]),
        ("reports", ["source: rename reports -> dfs-standby-reports", "target: rename dfs-standby-reports -> reports"])]
    assert names(onefs, "source") == ["dfs-standby-ap", "dfs-standby-ar", "dfs-standby-reports"]
    assert names(onefs, "target") == ["ap", "ar", "reports"]
    puts = share_puts(onefs)
    assert [w["cluster"] for w in puts] == ["source"] * 3 + ["target"] * 3, "every deactivation first"
    assert len(onefs.writes()) == 6

    onefs.clear_log()
    again = dfs_shares(onefs, active="target")
    assert again["_rc"] == 0 and again["changed"] is False
    assert onefs.writes() == []

    # a config_sync re-run after the renames (a resumed failover) neither doubles the prefix nor makes a second copy
    resync = standby_copies(onefs)
    assert resync["changed"] is False and onefs.writes() == []

    onefs.clear_log()
    failback = dfs_shares(onefs, active="source", diff=True)
    assert failback["_rc"] == 0 and failback["changed"] is True, failback.get("msg")
    assert failback["results"][0]["actions"] == ["target: rename ap -> dfs-standby-ap",
                                                 "source: rename dfs-standby-ap -> ap"]
    assert [w["cluster"] for w in share_puts(onefs)] == ["target"] * 3 + ["source"] * 3
    assert names(onefs, "source") == ["ap", "ar", "reports"]
    assert names(onefs, "target") == ["dfs-standby-ap", "dfs-standby-ar", "dfs-standby-reports"]

    onefs.clear_log()
    back_again = dfs_shares(onefs, active="source")
    assert back_again["changed"] is False and onefs.writes() == []


def test_refused_before_any_write_when_the_active_side_lacks_a_share(onefs):
    result = dfs_shares(onefs, active="target")   # no standby copies on the target yet
    assert result["_rc"] != 0 and result["results"] == []
    assert result["msg"].startswith("refused before any write: ")
    assert "share ar: the target (active) has neither ar nor dfs-standby-ar in zone finance: " \
           "run config_sync with name_prefix first" in result["msg"]
    assert {r["name"] for r in result["refusals"]} == {"ar", "reports"}
    assert onefs.writes() == []


def test_refused_when_a_cluster_has_both_names(onefs):
    standby_copies(onefs)   # the demo target keeps its own 'ap' next to 'dfs-standby-ap'
    onefs.clear_log()
    result = dfs_shares(onefs, active="target", check=True)
    assert result["_rc"] != 0
    reason = "the target has both ap and dfs-standby-ap in zone finance: ambiguous, remove or rename one"
    assert result["refusals"] == [{"name": "ap", "reason": reason}]
    result = dfs_shares(onefs, active="target", shares=["ar", "reports"])   # the others are fine
    assert result["_rc"] == 0 and result["changed"] is True
    assert names(onefs, "target") == ["ap", "ar", "dfs-standby-ap", "reports"]


def test_injected_conflicts_on_share_puts_are_retried(onefs):
    drop_target_ap(onefs)
    standby_copies(onefs)
    conflict = {"method": "PUT", "path": "/protocols/smb/shares/.", "status": 409, "code": "AEC_CONFLICT",
                "message": "another configuration change is in progress", "count": 2}
    onefs.faults({"fail_next": [conflict]}, cluster="source")
    onefs.faults({"fail_next": [dict(conflict, count=1)]}, cluster="target")
    onefs.clear_log()
    result = dfs_shares(onefs, active="target", max_workers=2)
    assert result["_rc"] == 0, result.get("msg")
    conflicts = [w for w in share_puts(onefs) if w["status"] == 409]
    assert len(conflicts) == 3 and result["conflicts_retried"] == 3
    assert names(onefs, "target") == ["ap", "ar", "reports"]
    assert names(onefs, "source") == ["dfs-standby-ap", "dfs-standby-ar", "dfs-standby-reports"]


def test_exhausted_conflicts_fail_the_share_and_leave_it_served_by_neither_not_both(onefs):
    drop_target_ap(onefs)
    standby_copies(onefs)
    onefs.faults({"fail_next": [{"method": "PUT", "path": "/protocols/smb/shares/ar$", "status": 409,
                                 "code": "AEC_CONFLICT", "count": 5}]}, cluster="source")
    result = dfs_shares(onefs, active="target", conflict_retries=1)
    assert result["_rc"] != 0 and result["msg"].startswith("1 of 3 object(s) failed: ar: source: rename ar")
    assert names(onefs, "source") == ["ar", "dfs-standby-ap", "dfs-standby-reports"]
    assert names(onefs, "target") == ["ap", "dfs-standby-ar", "reports"]


def test_examples_run_against_the_mock(onefs):
    drop_target_ap(onefs)
    source, target = onefs.conn("source"), onefs.conn("target")
    extra = {"source_host": source["onefs_host"], "source_port": source["onefs_port"], "source_username": "admin",
             "source_password": "admin", "target_host": target["onefs_host"], "target_port": target["onefs_port"],
             "target_username": "admin", "target_password": "admin"}
    if onefs.ca_path:
        extra["onefs_ca_path"] = onefs.ca_path
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    assert "source: rename reports -> dfs-standby-reports" in out
    assert names(onefs, "source") == ["ap", "ar", "dfs-standby-reports"]
    assert names(onefs, "target") == ["dfs-standby-ap", "dfs-standby-ar", "reports"]


@pytest.mark.parametrize("args, option", [
    ({"prefix": "dfs/"}, "prefix"),               # ours (every case: tests/unit/.../test_dfs.py)
    ({"active": "both"}, "active"),               # Ansible's choices
    ({"peer": None}, "peer"),
])
def test_bad_values_fail_before_any_request(onefs, args, option):
    full = dict({"peer": onefs.conn("target"), "active": "target"}, **args)
    if full["peer"] is None:
        del full["peer"]
    result = onefs.run("dfs_shares", full, cluster="source")
    assert result["_rc"] != 0 and option in result["msg"]
    assert api_calls(onefs, "source") == [] and api_calls(onefs, "target") == []
