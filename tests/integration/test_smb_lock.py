"""smb_lock: the real module process against the mock (demo scenario, source cluster)."""

import ast
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "smb_lock.py"
RECORD = "/ifs/.onefs_dr/smb_lock/finance.json"
SHARES = "/platform/12/protocols/smb/shares"

pytestmark = pytest.mark.timeout(300)


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def finance(onefs):
    return {s["name"]: s for s in onefs.state("source")["smb_shares"] if s["zone"] == "finance"}


def denies_everyone(share):
    return (share["run_as_root"] == [] and len(share["permissions"]) == 1
            and share["permissions"][0]["permission_type"] == "deny"
            and share["permissions"][0]["trustee"]["id"] == "SID:S-1-1-0")


def api_calls(onefs, cluster="source"):
    return [r for r in onefs.requests(cluster) if r.get("cluster") == cluster and not r["path"].startswith("/_mock")]


def test_examples_lock_then_restore(onefs):
    before = finance(onefs)
    conn = onefs.conn("source")
    extra = {"onefs_host": conn["onefs_host"], "onefs_port": conn["onefs_port"], "onefs_username": "admin",
             "onefs_password": "admin"}
    if onefs.ca_path:
        extra["onefs_ca_path"] = onefs.ca_path
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    assert RECORD in out                         # the debug task printed the record path
    share_puts = [w for w in onefs.writes("source") if w["path"].startswith(SHARES)]
    assert len(share_puts) == 6                  # 3 locks then 3 restores
    assert all(denies_everyone({"run_as_root": w["body"]["run_as_root"], "permissions": w["body"]["permissions"]})
               for w in share_puts[:3])
    assert finance(onefs) == before
    assert RECORD not in onefs.state("source")["files"]


def test_lock_check_mode_then_lock_then_idempotent(onefs):
    args = {"state": "locked", "zone": "finance"}
    planned = onefs.run("smb_lock", args, check=True, diff=True)
    assert planned["_rc"] == 0 and planned["changed"] is True
    assert onefs.writes() == []
    assert [d["before_header"] for d in planned["diff"]] == ["SMB share ap (zone finance)",
                                                             "SMB share ar (zone finance)",
                                                             "SMB share reports (zone finance)"]
    assert all(d["after"]["permissions"][0]["permission_type"] == "deny" for d in planned["diff"])

    locked = onefs.run("smb_lock", args)
    assert locked["_rc"] == 0 and locked["changed"] is True and locked["record_state"] == "written"
    assert locked["record"] == RECORD
    assert all(denies_everyone(s) for s in finance(onefs).values())
    assert RECORD in onefs.state("source")["files"]
    writes = onefs.writes("source")
    assert writes[0]["path"].startswith("/namespace/ifs/.onefs_dr/smb_lock/")   # record first
    others = [s for s in onefs.state("source")["smb_shares"] if s["zone"] != "finance"]
    assert not [s for s in others if denies_everyone(s)]

    onefs.clear_log()
    again = onefs.run("smb_lock", args)
    assert again["changed"] is False and again["record_state"] == "unchanged"
    assert [r["action"] for r in again["results"]] == ["none"] * 3
    assert onefs.writes() == []


def test_unlock_restores_exactly_and_second_unlock_is_a_no_op(onefs):
    before = finance(onefs)
    onefs.run("smb_lock", {"zone": "finance"})
    planned = onefs.run("smb_lock", {"zone": "finance", "state": "unlocked"}, check=True)
    assert planned["changed"] is True and planned["record_state"] == "unchanged"
    assert all(denies_everyone(s) for s in finance(onefs).values())

    unlocked = onefs.run("smb_lock", {"zone": "finance", "state": "unlocked"}, diff=True)
    assert unlocked["_rc"] == 0 and unlocked["changed"] is True and unlocked["record_state"] == "removed"
    assert finance(onefs) == before
    assert RECORD not in onefs.state("source")["files"]

    onefs.clear_log()
    again = onefs.run("smb_lock", {"zone": "finance", "state": "unlocked"})
    assert again["changed"] is False and again["record_state"] == "absent"
    assert onefs.writes() == []


def test_a_failed_share_is_named_and_the_others_stay_locked_and_restorable(onefs):
    before = finance(onefs)
    onefs.faults({"fail_next": [{"method": "PUT", "path": "/smb/shares/ar", "count": 3, "status": 500}]})
    result = onefs.run("smb_lock", {"zone": "finance"})
    assert result["_rc"] != 0 and result["msg"].startswith("1 of 3 object(s) failed: ar:")
    assert {r["name"]: r["action"] for r in result["results"]} == {"ap": "lock", "ar": "lock", "reports": "lock"}
    shares = finance(onefs)
    assert denies_everyone(shares["ap"]) and denies_everyone(shares["reports"]) and not denies_everyone(shares["ar"])
    onefs._control("DELETE", "/_mock/faults")
    unlocked = onefs.run("smb_lock", {"zone": "finance", "state": "unlocked"})
    assert unlocked["_rc"] == 0 and finance(onefs) == before


def test_scope_by_paths_and_share_names(onefs):
    by_path = onefs.run("smb_lock", {"zone": "finance", "paths": ["/ifs/data/finance/reports"]})
    assert [r["name"] for r in by_path["results"]] == ["reports"]
    by_name = onefs.run("smb_lock", {"zone": "finance", "shares": ["AP"]})
    assert [r["name"] for r in by_name["results"]] == ["ap"]
    shares = finance(onefs)
    assert denies_everyone(shares["ap"]) and denies_everyone(shares["reports"]) and not denies_everyone(shares["ar"])


@pytest.mark.parametrize("args, option", [
    ({"state": "frozen"}, "state"),
    ({"lock_dir": "/tmp/locks"}, "lock_dir"),
    ({"paths": ["data"]}, "paths"),
    ({"max_workers": 100}, "max_workers"),
    ({"shares": [""]}, "shares"),
])
def test_bad_values_fail_before_any_request(onefs, args, option):
    result = onefs.run("smb_lock", dict({"zone": "finance"}, **args))
    assert result["_rc"] != 0 and option in result["msg"]
    assert api_calls(onefs) == []


def test_unknown_share_name_fails_before_any_write(onefs):
    result = onefs.run("smb_lock", {"zone": "finance", "shares": ["ap", "nope"]})
    assert result["_rc"] != 0 and "shares" in result["msg"] and "nope" in result["msg"]
    assert onefs.writes() == []


def test_a_user_who_cannot_save_the_record_locks_nothing(onefs):
    before = finance(onefs)
    conn = onefs.conn("source", username="auditor", password="auditor")
    result = onefs.run("smb_lock", dict(conn, zone="finance"), with_conn=False)
    assert result["_rc"] != 0 and "403" in result["msg"]
    assert finance(onefs) == before
    assert not [w for w in onefs.writes("source") if w["path"].startswith(SHARES)]
