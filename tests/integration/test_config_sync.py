"""config_sync: the real module process against the mock (demo scenario).

The module runs against the target cluster (written) with ``peer`` = the source (only read).
"""

import ast
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "config_sync.py"

pytestmark = pytest.mark.timeout(300)


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def peer(onefs):
    return onefs.conn("source")


def api_calls(onefs, cluster):
    return [r for r in onefs.requests(cluster) if r.get("cluster") == cluster and not r["path"].startswith("/_mock")]


def shares(onefs, cluster, zone):
    return {s["name"]: s for s in onefs.state(cluster)["smb_shares"] if s["zone"] == zone}


def test_examples_run_against_the_mock(onefs):
    target, source = onefs.conn("target"), onefs.conn("source")
    extra = {"onefs_host": target["onefs_host"], "onefs_port": target["onefs_port"], "onefs_username": "admin",
             "onefs_password": "admin", "source_host": source["onefs_host"], "source_port": source["onefs_port"],
             "source_username": "admin", "source_password": "admin"}
    if onefs.ca_path:
        extra["onefs_ca_path"] = onefs.ca_path
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    assert "'create': 4" in out or '"create": 4' in out      # the debug task printed the counts
    assert set(shares(onefs, "target", "finance")) == {"ap", "ar", "reports", "dfs-standby-ap", "dfs-standby-ar",
                                                       "dfs-standby-reports"}   # the last example: DFS mode
    assert shares(onefs, "target", "eng")["builds"]["path"] == "/ifs/data/eng/dr-builds"
    assert onefs.writes("source") == []


def test_check_mode_diff_then_apply_then_unchanged(onefs):
    args = {"peer": peer(onefs), "zone": "finance"}
    planned = onefs.run("config_sync", args, cluster="target", check=True, diff=True)
    assert planned["_rc"] == 0 and planned["changed"] is True
    assert onefs.writes() == []
    assert planned["counts"] == {"create": 4, "update": 0, "remove": 0, "none": 1, "failed": 0}
    headers = sorted(d["before_header"] for d in planned["diff"])
    assert headers == ["target: NFS alias /fin-reports (zone finance)",
                       "target: NFS export /ifs/data/finance/reports (zone finance)",
                       "target: SMB share ar (zone finance)", "target: SMB share reports (zone finance)"]
    created = next(d for d in planned["diff"] if d["before_header"].endswith("share ar (zone finance)"))
    assert created["before"] == {} and created["after"]["path"] == "/ifs/data/finance/ar"

    done = onefs.run("config_sync", args, cluster="target")
    assert done["_rc"] == 0 and done["changed"] is True
    assert [(r["kind"], r["name"], r["action"]) for r in done["results"]] == [
        ("smb_shares", "ap", "none"), ("smb_shares", "ar", "create"), ("smb_shares", "reports", "create"),
        ("nfs_exports", "/ifs/data/finance/reports", "create"), ("nfs_aliases", "/fin-reports", "create")]
    assert len(onefs.writes("target")) == 4 and onefs.writes("source") == []
    assert "diff" not in done

    onefs.clear_log()
    again = onefs.run("config_sync", args, cluster="target")
    assert again["changed"] is False and again["counts"]["none"] == 5
    assert onefs.writes() == []


def test_name_prefix_standby_copies_check_mode_then_apply_then_unchanged(onefs):
    args = {"peer": peer(onefs), "zone": "finance", "name_prefix": "dfs-standby-"}
    planned = onefs.run("config_sync", args, cluster="target", check=True, diff=True)
    assert planned["_rc"] == 0 and planned["changed"] is True and planned["name_prefix"] == "dfs-standby-"
    assert onefs.writes() == []
    smb = [(r["name"], r.get("source_name"), r["action"]) for r in planned["results"] if r["kind"] == "smb_shares"]
    assert smb == [("dfs-standby-ap", "ap", "create"), ("dfs-standby-ar", "ar", "create"),
                   ("dfs-standby-reports", "reports", "create")]
    assert "target: SMB share dfs-standby-ap (zone finance)" in [d["before_header"] for d in planned["diff"]]
    assert planned["counts"] == {"create": 5, "update": 0, "remove": 0, "none": 0, "failed": 0}

    done = onefs.run("config_sync", args, cluster="target")
    assert done["_rc"] == 0 and done["changed"] is True
    names = set(shares(onefs, "target", "finance"))
    assert names == {"ap", "dfs-standby-ap", "dfs-standby-ar", "dfs-standby-reports"}   # the target's own ap: untouched
    source = shares(onefs, "source", "finance")
    assert shares(onefs, "target", "finance")["dfs-standby-reports"]["access_based_enumeration"] is True
    assert shares(onefs, "target", "finance")["dfs-standby-ap"]["path"] == source["ap"]["path"]
    assert any(a["name"] == "/fin-reports" for a in onefs.state("target")["nfs_aliases"])   # aliases keep their names

    onefs.clear_log()
    again = onefs.run("config_sync", dict(args, remove_extra=True), cluster="target")
    assert again["_rc"] == 0 and again["changed"] is False and again["counts"]["none"] == 5
    assert onefs.writes() == []


def target_client(onefs):
    from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

    conn = onefs.conn("target")
    return PapiClient(hosts=[conn["onefs_host"]], port=conn["onefs_port"], username="admin", password="admin",
                      ca_path=conn.get("ca_path"), validate_certs=conn.get("validate_certs", True), name="target")


def test_drift_is_repaired_field_by_field_and_extras_go_only_on_opt_in(onefs):
    args = {"peer": peer(onefs), "zone": "eng", "kinds": ["smb_shares"]}
    onefs.run("config_sync", args, cluster="target")
    with target_client(onefs) as client:   # drift made on the target through its API
        client.put("/platform/12/protocols/smb/shares/builds", {"description": "drifted"}, query={"zone": "eng"})
        scratch = {"name": "scratch", "path": "/ifs/data/eng/scratch", "create_path": True}
        client.post("/platform/12/protocols/smb/shares", scratch, query={"zone": "eng"})
    onefs.clear_log()

    repaired = onefs.run("config_sync", args, cluster="target", diff=True)
    builds = next(r for r in repaired["results"] if r["name"] == "builds")
    assert builds["action"] == "update" and builds["fields"] == ["description"]
    assert repaired["diff"] == [{"before": {"description": "drifted"}, "after": {"description": ""},
                                 "before_header": "target: SMB share builds (zone eng)",
                                 "after_header": "target: SMB share builds (zone eng)"}]
    writes = onefs.writes("target")
    assert [(w["method"], w["body"]) for w in writes] == [("PUT", {"description": ""})]
    assert "scratch" in shares(onefs, "target", "eng")

    removed = onefs.run("config_sync", dict(args, remove_extra=True), cluster="target")
    assert [(r["name"], r["action"]) for r in removed["results"] if r["changed"]] == [("scratch", "remove")]
    assert "scratch" not in shares(onefs, "target", "eng")

    onefs.clear_log()
    again = onefs.run("config_sync", dict(args, remove_extra=True), cluster="target")
    assert again["changed"] is False and onefs.writes() == []


def test_conflicts_are_retried_and_counted(onefs):
    onefs._control("POST", "/_mock/smb", "target", json={"conflict_rate": 0.3, "seed": 11})
    result = onefs.run("config_sync", {"peer": peer(onefs), "zone": "eng", "max_workers": 3}, cluster="target")
    assert result["_rc"] == 0, result.get("msg")
    assert result["counts"]["failed"] == 0
    conflicts = [w for w in onefs.writes("target") if w["status"] == 409]
    assert result["conflicts_retried"] == len(conflicts)
    assert set(shares(onefs, "target", "eng")) == {"src", "builds", "docs"}


def test_one_failing_object_does_not_hide_the_others(onefs):
    onefs._control("POST", "/_mock/smb", "target", json={"conflict_rate": 1.0})
    result = onefs.run("config_sync", {"peer": peer(onefs), "zone": "eng", "conflict_retries": 1}, cluster="target")
    assert result["_rc"] != 0 and result.get("failed") is True
    assert result["msg"].startswith("2 of 7 object(s) failed")   # 3 shares, 2 exports, 2 aliases
    assert "builds" in result["msg"] and "docs" in result["msg"]
    by_name = {(r["kind"], r["name"]): r for r in result["results"]}
    assert by_name[("smb_shares", "builds")]["failed"] is True
    assert by_name[("nfs_aliases", "/builds")]["action"] == "create"
    assert any(a["name"] == "/builds" for a in onefs.state("target")["nfs_aliases"])
    assert result["conflicts_retried"] == 2


@pytest.mark.parametrize("args, option", [
    ({"max_workers": 0}, "max_workers"),
    ({"conflict_retries": 99}, "conflict_retries"),
    ({"kinds": ["smb_shares", "quotas"]}, "kinds"),
    ({"path_map": [{"source": "/ifs/data", "target": "data"}]}, "path_map[0].target"),
    ({"paths": ["data/finance"]}, "paths"),
    ({"path_map": [{"source": "/ifs/data"}]}, "target"),
    ({"lock_dir": "/tmp/locks"}, "lock_dir"),
    ({"locked_shares": "copy"}, "locked_shares"),
    ({"name_prefix": "dfs/"}, "name_prefix"),
])
def test_bad_values_fail_before_any_request(onefs, args, option):
    full = dict({"peer": peer(onefs)}, **args)
    result = onefs.run("config_sync", full, cluster="target")
    assert result["_rc"] != 0 and option in result["msg"]
    assert api_calls(onefs, "target") == [] and api_calls(onefs, "source") == []


def test_missing_peer_is_named(onefs):
    result = onefs.run("config_sync", {"zone": "finance"}, cluster="target")
    assert result["_rc"] != 0 and "peer.onefs_host" in result["msg"]
    assert onefs.writes() == []


def test_shares_locked_by_smb_lock_reach_the_target_with_their_original_permissions(onefs):
    original = {s["name"]: s["permissions"] for s in onefs.state("source")["smb_shares"] if s["zone"] == "finance"}
    locked = onefs.run("smb_lock", {"zone": "finance"}, cluster="source")
    assert locked["_rc"] == 0 and locked["changed"] is True
    result = onefs.run("config_sync", {"peer": peer(onefs), "zone": "finance", "kinds": ["smb_shares"]},
                       cluster="target")
    assert result["_rc"] == 0
    assert {r["name"] for r in result["results"] if "saved original" in r.get("source_lock", "")} == {
        "ap", "ar", "reports"}
    copied = shares(onefs, "target", "finance")
    assert {name: copied[name]["permissions"] for name in original} == original

    as_is = onefs.run("config_sync", {"peer": peer(onefs), "zone": "finance", "kinds": ["smb_shares"],
                                      "locked_shares": "as_is"}, cluster="target", check=True)
    assert {r["name"]: r["fields"] for r in as_is["results"]} == {
        "ap": ["permissions", "run_as_root"], "ar": ["permissions"], "reports": ["permissions"]}


def test_a_read_only_user_on_the_source_is_enough(onefs):
    onefs.run("smb_lock", {"zone": "finance", "shares": ["ar"]}, cluster="source")   # a record to read too
    onefs.clear_log()
    reader = onefs.conn("source", username="auditor", password="auditor")
    result = onefs.run("config_sync", {"peer": reader, "zone": "finance"}, cluster="target")
    assert result["_rc"] == 0, result.get("msg")
    assert result["counts"]["create"] == 4
    assert [r["name"] for r in result["results"] if r.get("source_lock")] == ["ar"]
    assert {e.get("user") for e in onefs.requests("source") if e.get("cluster") == "source"
            and e["path"].startswith(("/platform", "/namespace"))} == {"auditor"}
