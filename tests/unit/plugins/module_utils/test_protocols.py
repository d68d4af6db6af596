"""protocols.py against the in-process mock (demo scenario): config sync and the SMB lock.

Everything is asserted from the mock's state dump and request log.
"""

import json

import pytest
import requests

from ansible_collections.onefs.dr.plugins.module_utils import protocols as p
from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

WRITES = ("POST", "PUT", "DELETE")
ALL = list(p.KIND_NAMES)
RECORD = "/ifs/.onefs_dr/smb_lock/finance.json"

pytestmark = pytest.mark.timeout(120)


class Ctl:
    """The mock's /_mock/ control API (DESIGN.md §2.2), through the source port."""

    def __init__(self, url):
        self.url = url

    def call(self, method, path, body=None, **query):
        response = requests.request(method, self.url + "/_mock/" + path, json=body, params=query or None,
                                    timeout=30)
        assert response.status_code < 400, response.text
        return response.json() if response.content else None

    def state(self, cluster):
        return self.call("GET", "state", cluster=cluster)

    def log(self, cluster):
        return [e for e in self.call("GET", "requests")["requests"] if e["cluster"] == cluster]

    def writes(self, cluster, prefix="/platform"):
        """Write calls (login excluded) whose path starts with ``prefix``."""
        return [e for e in self.log(cluster) if e["method"] in WRITES and e["path"].startswith(prefix)
                and not e["path"].startswith("/session/")]


@pytest.fixture
def ctl(demo):
    control = Ctl(demo.url("source"))
    control.call("POST", "reset")
    control.call("DELETE", "requests")
    return control


def _client(demo, name):
    return PapiClient(hosts=[demo.url(name)], username="admin", password="admin", name=name,
                      retry_budget=5, backoff_base=0.01, backoff_cap=0.05)


@pytest.fixture
def source(demo, ctl):
    client = _client(demo, "source")
    yield client
    client.close()


@pytest.fixture
def target(demo, ctl):
    client = _client(demo, "target")
    yield client
    client.close()


def comparable(kind, records, zone):
    """The settings of a zone's objects as the comparison sees them, keyed by identity."""
    return {p.identity(kind, r): {f: p.canonical(v) for f, v in p.settings(kind, r).items()}
            for r in records if r.get("zone") == zone}


def sync(source, target, zone, counter=None, **kwargs):
    return p.sync_config(source, target, kwargs.pop("kinds", ALL), zone, kwargs.pop("target_zone", zone),
                         counter=counter, **kwargs)


# --- config sync -------------------------------------------------------------------------

def test_sync_zone_creates_missing_and_target_matches_source(ctl, source, target):
    results = sync(source, target, "finance")
    actions = {(r["kind"], r["name"]): r["action"] for r in results}
    assert actions == {
        ("smb_shares", "ap"): "none", ("smb_shares", "ar"): "create", ("smb_shares", "reports"): "create",
        ("nfs_exports", "/ifs/data/finance/reports"): "create", ("nfs_aliases", "/fin-reports"): "create",
    }
    src, tgt = ctl.state("source"), ctl.state("target")
    for kind, key in ((p.SMB, "smb_shares"), (p.NFS_EXPORT, "nfs_exports"), (p.NFS_ALIAS, "nfs_aliases")):
        assert comparable(kind, tgt[key], "finance") == comparable(kind, src[key], "finance")
    assert not ctl.writes("source"), "the source is only read"


def test_second_run_is_unchanged_and_writes_nothing(ctl, source, target):
    sync(source, target, "eng")
    ctl.call("DELETE", "requests")
    results = sync(source, target, "eng")
    assert [r["action"] for r in results] == ["none"] * len(results)
    assert not any(r["changed"] for r in results)
    assert ctl.writes("target") == []


def test_check_mode_plans_without_writing(ctl, source, target):
    results = sync(source, target, "System", check_mode=True)
    assert {(r["name"], r["action"]) for r in results} == {("home", "create"), ("/ifs/data/it/scripts", "create")}
    assert all(r["changed"] for r in results)
    assert ctl.writes("target") == [] and ctl.writes("source") == []
    assert not [s for s in ctl.state("target")["smb_shares"] if s["name"] == "home"]


def test_update_sends_only_the_differing_fields(ctl, source, target):
    target.put(p.SMB_SHARES + "/ap", {"description": "stale", "browsable": False}, query={"zone": "finance"})
    ctl.call("DELETE", "requests")
    results = sync(source, target, "finance", kinds=["smb_shares"])
    ap = next(r for r in results if r["name"] == "ap")
    assert ap["action"] == "update" and ap["fields"] == ["browsable", "description"]
    assert ap["before"] == {"browsable": False, "description": "stale"}
    puts = [w for w in ctl.writes("target") if w["method"] == "PUT"]
    assert len(puts) == 1 and puts[0]["body"] == {"browsable": True, "description": ""}


def test_permissions_are_replaced_as_a_whole(ctl, source, target):
    extra = {"permission": "read", "permission_type": "allow",
             "trustee": {"id": "SID:S-1-1-0", "name": "Everyone", "type": "wellknown"}}
    current = target.get_item(p.SMB_SHARES + "/ap", "shares", query={"zone": "finance"})
    target.put(p.SMB_SHARES + "/ap", {"permissions": current["permissions"] + [extra]}, query={"zone": "finance"})
    sync(source, target, "finance", kinds=["smb_shares"])
    after = target.get_item(p.SMB_SHARES + "/ap", "shares", query={"zone": "finance"})
    wanted = source.get_item(p.SMB_SHARES + "/ap", "shares", query={"zone": "finance"})
    assert after["permissions"] == wanted["permissions"]


def test_paths_scope_and_path_map(ctl, source, target):
    # OneFS refuses a share on a path that does not exist: the mapped DR directory must be there.
    target.put_raw("/ifs/data/eng/dr/builds", b"", headers={"x-isi-ifs-target-type": "container"})
    results = sync(source, target, "eng", roots=["/ifs/data/eng/builds", "/ifs/data/eng/tools"],
                   path_map=[{"source": "/ifs/data/eng", "target": "/ifs/data/eng/dr"},
                             {"source": "/ifs/data/eng/tools", "target": "/ifs/data/eng/tools"}])
    assert {(r["kind"], r["name"], r["action"]) for r in results} == {
        ("smb_shares", "builds", "create"),
        ("nfs_exports", "/ifs/data/eng/dr/builds,/ifs/data/eng/tools", "create"),
        ("nfs_aliases", "/builds", "create"),
    }
    tgt = ctl.state("target")
    assert [s["path"] for s in tgt["smb_shares"] if s["name"] == "builds"] == ["/ifs/data/eng/dr/builds"]
    assert [a["path"] for a in tgt["nfs_aliases"] if a["name"] == "/builds"] == ["/ifs/data/eng/dr/builds"]
    assert any(e["paths"] == ["/ifs/data/eng/dr/builds", "/ifs/data/eng/tools"] for e in tgt["nfs_exports"])
    assert not [s for s in tgt["smb_shares"] if s["name"] == "docs"], "docs is outside the path scope"


def test_remove_extra_only_on_opt_in_and_only_in_scope(ctl, source, target):
    target.post(p.SMB_SHARES, {"name": "old", "path": "/ifs/data/finance/old", "create_path": True},
                query={"zone": "finance"})
    target.post(p.SMB_SHARES, {"name": "elsewhere", "path": "/ifs/data/finance/x", "create_path": True},
                query={"zone": "finance"})
    results = sync(source, target, "finance", kinds=["smb_shares"])
    assert "remove" not in [r["action"] for r in results]
    roots = ["/ifs/data/finance/old", "/ifs/data/finance/ap"]
    results = sync(source, target, "finance", kinds=["smb_shares"], roots=roots, remove_extra=True)
    assert {(r["name"], r["action"]) for r in results} == {("ap", "none"), ("old", "remove")}
    names = {s["name"] for s in ctl.state("target")["smb_shares"] if s["zone"] == "finance"}
    assert "old" not in names and "elsewhere" in names


def test_target_zone_receives_the_copies(ctl, source, target):
    results = sync(source, target, "finance", target_zone="System", kinds=["smb_shares", "nfs_aliases"])
    assert all(r["action"] == "create" for r in results)
    tgt = ctl.state("target")
    assert {s["name"] for s in tgt["smb_shares"] if s["zone"] == "System"} == {"ap", "ar", "reports"}
    writes = ctl.writes("target")
    assert writes and all(w["query"].get("zone") == "System" for w in writes)


def test_injected_conflicts_are_retried_and_counted_from_the_log(ctl, source, target):
    ctl.call("POST", "smb", {"conflict_rate": 0.4, "seed": 7}, cluster="target")
    counter = p.ConflictCounter()
    results = sync(source, target, "eng", counter=counter, kinds=["smb_shares"], max_workers=3)
    assert not [r for r in results if r.get("failed")]
    conflicts = [w for w in ctl.writes("target") if w["status"] == 409]
    assert counter.count == len(conflicts) > 0
    assert {s["name"] for s in ctl.state("target")["smb_shares"] if s["zone"] == "eng"} == {"src", "builds", "docs"}


def test_exhausted_conflicts_fail_that_object_without_hiding_the_others(ctl, source, target):
    ctl.call("POST", "smb", {"conflict_rate": 1.0}, cluster="target")
    counter = p.ConflictCounter()
    results = sync(source, target, "eng", counter=counter, retries=2)
    failed = [r for r in results if r.get("failed")]
    assert {r["name"] for r in failed} == {"builds", "docs"}
    assert all("AEC_CONFLICT" in r["msg"] or "409" in r["msg"] for r in failed)
    assert counter.count == 2 * 2
    ok = {(r["kind"], r["name"]) for r in results if r["action"] == "create" and not r.get("failed")}
    assert ok == {("nfs_exports", "/ifs/data/eng/builds,/ifs/data/eng/tools"), ("nfs_aliases", "/builds")}
    assert any(a["name"] == "/builds" for a in ctl.state("target")["nfs_aliases"])


def test_locked_source_shares_are_copied_with_their_saved_originals(ctl, source, target):
    wanted = comparable(p.SMB, ctl.state("source")["smb_shares"], "finance")
    p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR, names=["ar", "reports"])
    # "ap" exists on the target already; lock it by hand on the source too, without a record entry
    source.put(p.SMB_SHARES + "/ap", {"permissions": [p.DENY_EVERYONE], "run_as_root": []}, query={"zone": "finance"})
    results = sync(source, target, "finance", kinds=["smb_shares"], lock_dir=p.DEFAULT_LOCK_DIR)
    notes = {r["name"]: r.get("source_lock", "") for r in results}
    assert "saved original" in notes["ar"] and "saved original" in notes["reports"]
    assert "no saved original" in notes["ap"]
    copied = comparable(p.SMB, ctl.state("target")["smb_shares"], "finance")
    assert copied["ar"] == wanted["ar"] and copied["reports"] == wanted["reports"]
    assert p.is_locked(copied["ap"])


def test_locked_source_shares_copied_as_is_without_lock_dir(ctl, source, target):
    p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR, names=["ar"])
    ctl.call("DELETE", "requests")
    results = sync(source, target, "finance", kinds=["smb_shares"])
    assert not [r for r in results if "source_lock" in r]
    assert not [e for e in ctl.log("source") if e["path"].startswith("/namespace")], "no record read"
    ar = next(s for s in ctl.state("target")["smb_shares"] if s["name"] == "ar")
    assert p.is_locked(ar)


@pytest.mark.parametrize("status, code", [(503, "AEC_SERVICE_UNAVAILABLE"), (409, "AEC_CONFLICT")])
def test_a_create_applied_but_answered_with_an_error_is_not_sent_twice(ctl, source, target, status, code):
    ctl.call("POST", "faults", {"fail_next": [{"method": "POST", "path": "/nfs/exports$", "count": 1,
                                               "status": status, "code": code, "after": True}]},
             cluster="target")
    results = sync(source, target, "System", kinds=["nfs_exports"])
    assert [(r["name"], r["action"], r.get("failed")) for r in results] == [("/ifs/data/it/scripts", "create", None)]
    exports = [e for e in ctl.state("target")["nfs_exports"] if e["paths"] == ["/ifs/data/it/scripts"]]
    assert len(exports) == 1 and results[0]["id"] == exports[0]["id"]
    posts = [w for w in ctl.writes("target") if w["method"] == "POST"]
    assert len(posts) == 1


# --- SMB lock ------------------------------------------------------------------------------

def finance_shares(ctl):
    return {s["name"]: s for s in ctl.state("source")["smb_shares"] if s["zone"] == "finance"}


def test_lock_saves_originals_before_the_first_share_write_then_denies_everyone(ctl, source):
    before = finance_shares(ctl)
    results, written, missing, store = p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR)
    assert written and missing == [] and store.path == RECORD
    assert {r["name"]: r["action"] for r in results} == {"ap": "lock", "ar": "lock", "reports": "lock"}
    log = ctl.log("source")
    record_put = min(e["seq"] for e in log if e["method"] == "PUT" and e["path"].endswith("finance.json"))
    share_puts = [e["seq"] for e in log if e["method"] == "PUT" and e["path"].startswith(p.SMB_SHARES)]
    assert len(share_puts) == 3 and record_put < min(share_puts)
    locked = finance_shares(ctl)
    assert all(p.is_locked(s) for s in locked.values())
    saved = json.loads(source.get_raw(RECORD))
    for name, share in before.items():
        assert saved["shares"][name]["permissions"] == share["permissions"]
        assert saved["shares"][name]["run_as_root"] == share["run_as_root"]
    assert RECORD in ctl.state("source")["files"]
    assert not [s for s in ctl.state("source")["smb_shares"] if s["zone"] != "finance" and p.is_locked(s)]


def test_second_lock_writes_nothing_and_keeps_the_originals(ctl, source):
    p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR)
    saved = source.get_raw(RECORD)
    ctl.call("DELETE", "requests")
    results, written = p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR)[:2]
    assert not written and [r["action"] for r in results] == ["none"] * 3
    assert all(r["saved"] for r in results)
    assert ctl.writes("source", prefix="/") == []
    assert source.get_raw(RECORD) == saved


def test_unlock_restores_exactly_and_removes_the_record(ctl, source):
    before = finance_shares(ctl)
    p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR)
    results, state = p.unlock_shares(source, "finance", p.DEFAULT_LOCK_DIR)[:2]
    assert state == "removed" and {r["action"] for r in results} == {"restore"}
    assert finance_shares(ctl) == before
    assert RECORD not in ctl.state("source")["files"]
    ctl.call("DELETE", "requests")
    results, state = p.unlock_shares(source, "finance", p.DEFAULT_LOCK_DIR)[:2]
    assert (results, state) == ([], "absent") and ctl.writes("source", prefix="/") == []


def test_check_mode_lock_and_unlock_write_nothing(ctl, source):
    results, written = p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR, check_mode=True)[:2]
    assert not written and {r["action"] for r in results} == {"lock"}
    assert ctl.writes("source", prefix="/") == []
    p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR)
    ctl.call("DELETE", "requests")
    results, state = p.unlock_shares(source, "finance", p.DEFAULT_LOCK_DIR, check_mode=True)[:2]
    assert {r["action"] for r in results} == {"restore"} and state == "unchanged"
    assert ctl.writes("source", prefix="/") == []


def test_a_failed_share_write_leaves_a_record_from_which_unlock_restores(ctl, source):
    before = finance_shares(ctl)
    ctl.call("POST", "faults", {"fail_next": [{"method": "PUT", "path": "/smb/shares/ar", "count": 5,
                                               "status": 500, "code": "AEC_EXCEPTION"}]}, cluster="source")
    results, written = p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR, retries=0)[:2]
    assert written
    assert {r["name"] for r in results if r.get("failed")} == {"ar"}
    ctl.call("DELETE", "faults", cluster="source")
    # A new controller (new client) unlocks from the record on the cluster alone.
    results, state = p.unlock_shares(source, "finance", p.DEFAULT_LOCK_DIR)[:2]
    assert {r["name"]: r["action"] for r in results} == {"ap": "restore", "ar": "none", "reports": "restore"}
    assert state == "removed" and finance_shares(ctl) == before


def test_already_locked_share_without_record_is_not_saved_as_original(ctl, source):
    source.put(p.SMB_SHARES + "/ar", {"permissions": [p.DENY_EVERYONE], "run_as_root": []},
               query={"zone": "finance"})
    results = p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR)[0]
    ar = next(r for r in results if r["name"] == "ar")
    assert ar["action"] == "none" and ar["saved"] is False
    assert "ar" not in json.loads(source.get_raw(RECORD))["shares"]


def test_scope_by_names_and_roots_and_partial_unlock_keeps_the_rest(ctl, source):
    results, _written, missing, _store = p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR, names=["AP", "nope"])
    assert [r["name"] for r in results] == ["ap"] and missing == ["nope"]
    p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR, roots=["/ifs/data/finance/reports"])
    assert set(json.loads(source.get_raw(RECORD))["shares"]) == {"ap", "reports"}
    results, state = p.unlock_shares(source, "finance", p.DEFAULT_LOCK_DIR, names=["reports"])[:2]
    assert [r["name"] for r in results] == ["reports"] and state == "kept"
    assert set(json.loads(source.get_raw(RECORD))["shares"]) == {"ap"}
    assert p.is_locked(finance_shares(ctl)["ap"]) and not p.is_locked(finance_shares(ctl)["reports"])


def test_conflicts_during_lock_are_retried(ctl, source):
    ctl.call("POST", "smb", {"conflict_rate": 0.5, "seed": 3}, cluster="source")
    counter = p.ConflictCounter()
    results = p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR, counter=counter, max_workers=3)[0]
    assert not [r for r in results if r.get("failed")]
    assert counter.count == len([w for w in ctl.writes("source") if w["status"] == 409])
    assert all(p.is_locked(s) for s in finance_shares(ctl).values())


def test_a_conflicting_create_is_not_taken_for_our_own(ctl, source, target):
    # the target exports the path already, with other clients: OneFS refuses a second export (409)
    target.post(p.NFS_EXPORTS, {"paths": ["/ifs/data/finance/reports"], "clients": ["10.99.0.1"]},
                query={"zone": "finance"})
    source.post(p.NFS_EXPORTS, {"paths": ["/ifs/data/finance/reports"], "clients": ["10.10.8.0/24"]},
                query={"zone": "finance", "force": True})
    counter = p.ConflictCounter()
    results = sync(source, target, "finance", counter=counter, kinds=["nfs_exports"], retries=1)
    assert [(r["action"], bool(r.get("failed"))) for r in results] == [("update", False), ("create", True)]
    assert counter.count == 1


# --- name_prefix (DFS mode) ------------------------------------------------------------------

def test_name_prefix_creates_standby_copies_then_writes_nothing(ctl, source, target):
    planned = sync(source, target, "finance", kinds=["smb_shares"], name_prefix="dfs-standby-", check_mode=True)
    assert [(r["name"], r["source_name"], r["action"]) for r in planned] == [
        ("dfs-standby-ap", "ap", "create"), ("dfs-standby-ar", "ar", "create"),
        ("dfs-standby-reports", "reports", "create")]
    assert ctl.writes("target") == []

    sync(source, target, "finance", kinds=["smb_shares"], name_prefix="dfs-standby-")
    tgt = {s["name"]: s for s in ctl.state("target")["smb_shares"] if s["zone"] == "finance"}
    assert set(tgt) == {"ap", "dfs-standby-ap", "dfs-standby-ar", "dfs-standby-reports"}
    src = {s["name"]: s for s in ctl.state("source")["smb_shares"] if s["zone"] == "finance"}
    for name in ("ap", "ar", "reports"):
        copy_ = dict(p.settings(p.SMB, tgt["dfs-standby-" + name]), name=name)
        assert p.differing_fields(p.SMB, p.settings(p.SMB, src[name]), copy_) == []

    ctl.call("DELETE", "requests")
    again = sync(source, target, "finance", kinds=["smb_shares"], name_prefix="dfs-standby-", remove_extra=True)
    assert [r["action"] for r in again] == ["none"] * 3
    assert ctl.writes("target") == [], "the target's own 'ap' is not a copy: neither updated nor removed"


def test_name_prefix_remove_extra_only_removes_prefixed_shares(ctl, source, target):
    for name in ("dfs-standby-old", "local"):
        target.post(p.SMB_SHARES, {"name": name, "path": "/ifs/data/finance/" + name, "create_path": True},
                    query={"zone": "finance"})
    results = sync(source, target, "finance", kinds=["smb_shares"], name_prefix="dfs-standby-", remove_extra=True)
    assert [(r["name"], r["action"]) for r in results if r["action"] == "remove"] == [("dfs-standby-old", "remove")]
    names = {s["name"] for s in ctl.state("target")["smb_shares"] if s["zone"] == "finance"}
    assert {"local", "ap"} <= names and "dfs-standby-old" not in names


def test_name_prefix_leaves_exports_and_aliases_alone(ctl, source, target):
    results = sync(source, target, "finance", name_prefix="dfs-standby-")
    assert {(r["kind"], r["name"]) for r in results if r["kind"] != "smb_shares"} == {
        ("nfs_exports", "/ifs/data/finance/reports"), ("nfs_aliases", "/fin-reports")}
    assert any(a["name"] == "/fin-reports" for a in ctl.state("target")["nfs_aliases"])


def test_name_prefix_copies_of_locked_shares_get_the_saved_originals(ctl, source, target):
    original = {s["name"]: s["permissions"] for s in ctl.state("source")["smb_shares"] if s["zone"] == "finance"}
    p.lock_shares(source, "finance", p.DEFAULT_LOCK_DIR)
    results = sync(source, target, "finance", kinds=["smb_shares"], name_prefix="dfs-standby-",
                   lock_dir=p.DEFAULT_LOCK_DIR)
    assert all("saved original" in r["source_lock"] for r in results)
    copied = {s["name"]: s["permissions"] for s in ctl.state("target")["smb_shares"] if s["zone"] == "finance"}
    assert {name: copied["dfs-standby-" + name] for name in original} == original
