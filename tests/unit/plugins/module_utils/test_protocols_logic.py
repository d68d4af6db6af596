"""Pure logic of plugins/module_utils/protocols.py: path mapping, scope, comparison, planning, lock plans.

No server needed: these functions take records and return plans.
"""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import protocols as p
from ansible_collections.onefs.dr.plugins.module_utils.errors import ConflictError, NotFoundError

PAIRS = p.normalise_path_map([
    {"source": "/ifs/data", "target": "/ifs/dr"},
    {"source": "/ifs/data/zone1/app1", "target": "/ifs/special/app1"},
])


@pytest.mark.parametrize("path, expected", [
    ("/ifs/data/zone1/app1/x", "/ifs/special/app1/x"),     # longest prefix wins
    ("/ifs/data/zone1/app1", "/ifs/special/app1"),
    ("/ifs/data/zone1/app10", "/ifs/dr/zone1/app10"),       # whole components only
    ("/ifs/data/", "/ifs/dr"),
    ("/ifs/database/x", "/ifs/database/x"),                 # not a component prefix: unchanged
    ("/ifs/other//y/", "/ifs/other/y"),                     # normalised, unchanged
])
def test_map_path_longest_component_prefix(path, expected):
    assert p.map_path(path, PAIRS) == expected


def test_validate_path_map_names_the_bad_entry():
    assert p.validate_path_map([{"source": "/ifs/a", "target": "/ifs/b"}]) is None
    assert "path_map[1].target" in p.validate_path_map([{"source": "/ifs/a", "target": "/ifs/b"},
                                                        {"source": "/ifs/c", "target": "data"}])
    assert "twice" in p.validate_path_map([{"source": "/ifs/a/", "target": "/ifs/b"},
                                           {"source": "/ifs/a", "target": "/ifs/c"}])
    assert "paths" in p.validate_roots(["relative"], "paths")


def test_scope_requires_every_export_path_under_a_root():
    export = {"paths": ["/ifs/data/a", "/ifs/home/b"]}
    assert not p.in_roots(p.NFS_EXPORT, export, ["/ifs/data"])
    assert p.in_roots(p.NFS_EXPORT, export, ["/ifs/data", "/ifs/home"])
    assert p.in_roots(p.NFS_EXPORT, export, [])
    assert not p.in_roots(p.SMB, {"path": "/ifs/datax"}, ["/ifs/data"])


def test_comparison_ignores_server_fields_and_maps_paths():
    source = {"name": "s1", "id": "s1", "zid": 1, "zone": "System", "path": "/ifs/data/s1",
              "browsable": True, "ca_timeout": None}
    target = {"name": "s1", "id": "s1", "zid": 7, "zone": "dr", "path": "/ifs/dr/s1/", "browsable": True}
    wanted = p.desired_on_target(p.SMB, source, PAIRS)
    assert wanted == {"name": "s1", "path": "/ifs/dr/s1", "browsable": True}
    assert p.differing_fields(p.SMB, wanted, target) == []
    target["browsable"] = False
    assert p.differing_fields(p.SMB, wanted, target) == ["browsable"]


def test_permissions_compared_as_an_ordered_whole():
    allow = {"permission": "full", "permission_type": "allow", "trustee": {"id": "SID:S-1-1-0"}}
    deny = dict(allow, permission_type="deny")
    wanted = {"name": "s", "permissions": [allow, deny]}
    assert p.differing_fields(p.SMB, wanted, {"name": "s", "permissions": [deny, allow]}) == ["permissions"]


def test_plan_sync_create_update_none_and_extras_only_on_opt_in():
    source = [{"name": "A", "path": "/ifs/data/a", "browsable": True},
              {"name": "b", "path": "/ifs/data/b", "browsable": True},
              {"name": "c", "path": "/ifs/data/c"}]
    target = [{"name": "a", "path": "/ifs/dr/a", "browsable": True},      # share names fold case
              {"name": "b", "path": "/ifs/dr/b", "browsable": False},
              {"name": "old", "path": "/ifs/dr/old"}]
    plans = p.plan_sync(p.SMB, source, target, PAIRS, remove_extra=False)
    assert [(x["name"], x["action"]) for x in plans] == [("A", "none"), ("b", "update"), ("c", "create")]
    assert plans[1]["changes"] == {"browsable": True}
    assert plans[2]["changes"] == {"name": "c", "path": "/ifs/dr/c"}
    plans = p.plan_sync(p.SMB, source, target, PAIRS, remove_extra=True)
    assert [(x["name"], x["action"]) for x in plans][-1] == ("old", "remove")


def test_exports_match_by_mapped_paths_and_duplicates_pair_in_order():
    source = [{"id": 1, "paths": ["/ifs/data/e"], "clients": ["a"]},
              {"id": 2, "paths": ["/ifs/data/e"], "clients": ["b"]}]
    target = [{"id": 40, "paths": ["/ifs/dr/e"], "clients": ["a"]}]
    plans = p.plan_sync(p.NFS_EXPORT, source, target, PAIRS, remove_extra=True)
    assert [(x["action"], x.get("id")) for x in plans] == [("none", 40), ("create", None)]
    assert plans[1]["changes"] == {"paths": ["/ifs/dr/e"], "clients": ["b"]}


def test_item_paths_encode_alias_names_fully():
    assert p.NFS_ALIAS.item_path({"name": "/proj"}) == p.NFS_ALIASES + "/%2Fproj"
    assert p.NFS_EXPORT.item_path({"id": 12}) == p.NFS_EXPORTS + "/12"
    assert p.SMB.item_path({"name": "my share"}) == p.SMB_SHARES + "/my%20share"


def _conflict():
    return ConflictError("busy", status=409, code="AEC_CONFLICT")


def test_conflict_retry_is_bounded_and_counted():
    calls = []
    counter = p.ConflictCounter()

    def always_busy():
        calls.append(1)
        raise _conflict()

    with pytest.raises(ConflictError):
        p.write_with_conflict_retry(always_busy, 3, counter, sleep=lambda s: None)
    assert len(calls) == 4 and counter.count == 3


def test_conflict_retry_stops_on_success_and_does_not_retry_other_errors():
    answers = [_conflict(), _conflict(), "ok"]

    def flaky():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    counter = p.ConflictCounter()
    assert p.write_with_conflict_retry(flaky, 5, counter, sleep=lambda s: None) == "ok"
    assert counter.count == 2

    exists = ConflictError("exists", status=409, code="AEC_EXISTS")
    calls = []

    def duplicate():
        calls.append(1)
        raise exists

    with pytest.raises(ConflictError):
        p.write_with_conflict_retry(duplicate, 5, sleep=lambda s: None)
    assert len(calls) == 1

    def gone():
        raise NotFoundError("gone")

    with pytest.raises(NotFoundError):
        p.write_with_conflict_retry(gone, 5, sleep=lambda s: None)


def test_before_retry_can_finish_a_conflicted_create():
    def busy():
        raise _conflict()

    assert p.write_with_conflict_retry(busy, 5, sleep=lambda s: None, before_retry=lambda: {"id": 9}) == {"id": 9}


LOCKED = {"permissions": [dict(p.DENY_EVERYONE)], "run_as_root": []}


def test_is_locked_needs_exactly_the_deny_entry_and_no_run_as_root():
    assert p.is_locked(LOCKED)
    assert not p.is_locked(dict(LOCKED, run_as_root=[{"id": "UID:0"}]))
    assert not p.is_locked({"permissions": [dict(p.DENY_EVERYONE, permission_type="allow")]})
    assert not p.is_locked({"permissions": []})


def test_plan_lock_never_saves_the_lock_as_an_original():
    original = {"permissions": [{"permission": "read", "permission_type": "allow",
                                 "trustee": {"id": "SID:S-1-1-0"}}], "run_as_root": [{"id": "UID:0"}]}
    shares = [dict(original, name="open", path="/ifs/data/open"), dict(LOCKED, name="shut", path="/ifs/data/shut")]
    record = p.new_lock_record("System", p.DEFAULT_LOCK_DIR)
    plans = p.plan_lock(shares, record)
    assert [(x["name"], x["action"], x["saved"]) for x in plans] == [("open", "lock", True), ("shut", "none", False)]
    assert plans[0]["original"] == original


def test_plan_unlock_restores_only_what_differs_and_reports_missing():
    saved = {"permissions": [{"permission": "read", "permission_type": "allow", "trustee": {"id": "SID:S-1-1-0"}}],
             "run_as_root": [], "path": "/ifs/data/a"}
    record = {"shares": {"a": saved, "b": dict(saved, path="/ifs/data/b"), "gone": dict(saved, path="/ifs/data/g")}}
    shares = {"a": dict(LOCKED, name="a", path="/ifs/data/a"),
              "b": {"name": "b", "path": "/ifs/data/b", "permissions": saved["permissions"], "run_as_root": []}}
    plans = p.plan_unlock(shares, record)
    assert [(x["name"], x["action"]) for x in plans] == [("a", "restore"), ("b", "none"), ("gone", "missing")]
    plans = p.plan_unlock(shares, record, roots=["/ifs/data/a"])
    assert [x["name"] for x in plans] == ["a"]
    plans = p.plan_unlock(shares, record, names=["B"])
    assert [x["name"] for x in plans] == ["b"]


def test_lock_record_path_is_per_zone():
    assert p.lock_record_path("/ifs/.onefs_dr/smb_lock/", "zone1") == "/ifs/.onefs_dr/smb_lock/zone1.json"


# --- config_sync name_prefix (DFS mode) -----------------------------------------------------

def _shares(*names):
    return [{"name": name, "path": "/ifs/data/" + name} for name in names]


def test_name_prefix_copies_under_the_prefix_and_only_prefixed_target_shares_are_copies():
    copies, targets, standby, origin, ambiguous = p.prefixed_shares(
        _shares("ap", "ar"), _shares("ap", "DFS-ar", "local"), "dfs-")
    assert [s["name"] for s in copies] == ["dfs-ap", "dfs-ar"]
    assert [s["name"] for s in targets] == ["DFS-ar"]       # case-insensitive; 'ap' and 'local' are not copies
    assert origin == {"dfs-ap": "ap", "dfs-ar": "ar"} and standby == [] and not ambiguous
    plans = p.plan_sync(p.SMB, copies, targets, [], remove_extra=True)
    assert [(x["name"], x["action"]) for x in plans] == [("dfs-ap", "create"), ("dfs-ar", "update")]
    assert plans[1]["changes"] == {"path": "/ifs/data/ar"}


def test_name_prefix_source_standby_shares_are_not_copied_and_keep_their_target_namesake():
    copies, targets, standby, _origin, _ambiguous = p.prefixed_shares(
        _shares("dfs-ap", "ar"), _shares("dfs-ap", "dfs-old"), "dfs-")
    assert [s["name"] for s in copies] == ["dfs-ar"]          # never dfs-dfs-ap
    assert [s["name"] for s in targets] == ["dfs-old"]         # dfs-ap is out of remove_extra's reach
    assert [(x["name"], x["action"], x["current"]["name"]) for x in standby] == [("dfs-ap", "none", "dfs-ap")]
    assert "not copied" in standby[0]["note"]


def test_name_prefix_source_with_both_names_is_ambiguous():
    _copies, _targets, standby, _origin, ambiguous = p.prefixed_shares(_shares("ap", "dfs-AP"), [], "dfs-")
    assert ambiguous == {"dfs-ap"} and standby == []


def test_share_name_error_names_the_option():
    assert p.share_name_error("dfs-standby-", "name_prefix") is None
    assert "name_prefix must not be empty" == p.share_name_error(" ", "name_prefix")
    assert "must not contain / :" in p.share_name_error("a/b:", "prefix")
