"""quota: the real module process against the mock (demo scenario quotas on the source)."""

import ast
from pathlib import Path

import pytest

GIB = 1024 ** 3
MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "quota.py"


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def quotas(onefs, cluster="source"):
    return onefs.state(cluster)["quotas"]


def at(onefs, path, cluster="source"):
    return [q for q in quotas(onefs, cluster) if q["path"] == path]


def api_requests(onefs, cluster="source"):
    return [r for r in onefs.requests(cluster) if not r["path"].startswith("/_mock")]


@pytest.mark.timeout(120)
def test_examples_run_against_the_mock(onefs):
    conn = onefs.conn("source")
    extra = {"onefs_host": conn["onefs_host"], "onefs_port": conn["onefs_port"], "onefs_username": "admin",
             "onefs_password": "admin", "onefs_ca_path": onefs.ca_path}
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    methods = [w["method"] for w in onefs.writes("source")]
    # two creates, one modify in place, then the purge deletes both
    assert methods == ["POST", "POST", "PUT", "DELETE", "DELETE"]
    assert at(onefs, "/ifs/data/zone1/app1") == []
    assert len(quotas(onefs)) == 6


def test_create_list_then_second_run_is_unchanged(onefs):
    args = {"quotas": [
        {"path": "/ifs/data/finance/new", "hard": "10GiB", "soft": "8GiB", "soft_grace": "7d", "advisory": "6GiB"},
        {"path": "/ifs/data/finance/new", "type": "user", "persona": "UID:1000", "hard": "1TB"},
        {"path": "/ifs/data/finance/ap", "hard": 10737418240},
    ]}
    first = onefs.run("quota", args)
    assert first["changed"] is True and first["_rc"] == 0
    assert [r["changed"] for r in first["results"]] == [True, True, False]
    created = {q["type"]: q for q in at(onefs, "/ifs/data/finance/new")}
    assert created["directory"]["thresholds"]["soft_grace"] == 604800
    assert created["user"]["thresholds"]["hard"] == 10 ** 12

    onefs.clear_log()
    second = onefs.run("quota", args)
    assert second["changed"] is False
    assert onefs.writes() == []
    assert len(at(onefs, "/ifs/data/finance/new")) == 2


def test_check_mode_and_diff_write_nothing(onefs):
    args = {"quotas": [{"path": "/ifs/data/finance/ap", "hard": "20GiB"},
                       {"path": "/ifs/data/eng/src", "state": "absent"},
                       {"path": "/ifs/data/brand-new", "hard": "1GiB"}],
            "purge_under": "/ifs/data/finance"}
    result = onefs.run("quota", args, check=True, diff=True)
    assert result["changed"] is True
    assert onefs.writes() == []
    names = [r["name"] for r in result["results"]]
    assert names[:3] == ["/ifs/data/finance/ap (directory)", "/ifs/data/eng/src (directory)",
                         "/ifs/data/brand-new (directory)"]
    assert sorted(r["before"]["path"] for r in result["results"] if r.get("purged")) == [
        "/ifs/data/finance/ar", "/ifs/data/finance/reports"]
    modify = result["diff"][0]
    assert (modify["before"]["hard"], modify["after"]["hard"]) == (10 * GIB, 20 * GIB)


def test_modify_in_place_never_duplicates(onefs):
    before = at(onefs, "/ifs/data/finance/ar")[0]
    result = onefs.run("quota", {"quotas": [{"path": "/ifs/data/finance/ar/", "hard": "1TB", "advisory": "none"}]})
    after = at(onefs, "/ifs/data/finance/ar")
    assert len(after) == 1 and after[0]["id"] == before["id"]
    assert after[0]["thresholds"]["hard"] == 10 ** 12 and after[0]["thresholds"]["advisory"] is None
    assert result["results"][0]["id"] == before["id"]


def test_purge_under_removes_unlisted_quotas(onefs):
    result = onefs.run("quota", {"quotas": [{"path": "/ifs/data/finance/ap", "hard": "10GiB"}],
                                 "purge_under": "/ifs/data/finance/"})
    assert result["changed"] is True
    assert sorted(q["path"] for q in quotas(onefs) if q["path"].startswith("/ifs/data/finance")) == [
        "/ifs/data/finance/ap"]
    assert len(quotas(onefs)) == 4
    onefs.clear_log()
    again = onefs.run("quota", {"quotas": [{"path": "/ifs/data/finance/ap", "hard": "10GiB"}],
                                "purge_under": "/ifs/data/finance/"})
    assert again["changed"] is False and onefs.writes() == []


def test_absent_deletes(onefs):
    result = onefs.run("quota", {"quotas": [{"path": "/ifs/data/eng/builds", "type": "user",
                                             "persona": "UID:2001", "state": "absent"}]})
    assert result["changed"] is True
    assert at(onefs, "/ifs/data/eng/builds") == []


def test_one_failing_quota_does_not_hide_the_others_and_skips_the_purge(onefs):
    result = onefs.run("quota", {"quotas": [{"path": "/ifs", "hard": "1TB"},
                                            {"path": "/ifs/data/finance/ok", "hard": "1GiB"}],
                                 "purge_under": "/ifs/data/finance"})
    assert result["failed"] is True
    assert "1 of 2" in result["msg"] and "/ifs (directory)" in result["msg"]
    failed, ok = result["results"]
    assert failed["failed"] is True and "force" in failed["msg"]
    assert ok["changed"] is True and len(at(onefs, "/ifs/data/finance/ok")) == 1
    assert "purge_under skipped" in result["purge_skipped"]
    assert len(at(onefs, "/ifs/data/finance/ar")) == 1


@pytest.mark.parametrize("entry,option", [
    ({"path": "/ifs/a", "soft": "1GiB"}, "soft_grace"),
    ({"path": "/ifs/a", "hard": "10G"}, "quotas[0].hard"),
    ({"path": "/ifs/a", "type": "user"}, "quotas[0].persona"),
    ({"path": "/ifs/a", "persona": "UID:1"}, "quotas[0].persona"),
    ({"path": "data/a"}, "quotas[0].path"),
    ({"path": "/ifs/a", "hard": "1GiB", "advisory": "2GiB"}, "quotas[0].advisory"),
    ({"path": "/ifs/a", "type": "tree"}, "type"),
    ({"path": "/ifs/a", "soft": "1GiB", "soft_grace": "soon"}, "quotas[0].soft_grace"),
])
def test_bad_values_fail_before_any_request(onefs, entry, option):
    result = onefs.run("quota", {"quotas": [entry]})
    assert result.get("failed") is True
    assert option in result["msg"]
    assert api_requests(onefs) == []


def test_duplicate_entries_and_bad_purge_path_fail_before_any_request(onefs):
    dup = onefs.run("quota", {"quotas": [{"path": "/ifs/a"}, {"path": "/ifs/a/"}]})
    assert dup["failed"] is True and "quotas" in dup["msg"] and "entries 0 and 1" in dup["msg"]
    root = onefs.run("quota", {"purge_under": "/ifs"})
    assert root["failed"] is True and "purge_under" in root["msg"]
    assert api_requests(onefs) == []


def test_empty_list_is_nothing_to_do(onefs):
    result = onefs.run("quota", {"quotas": []})
    assert result["changed"] is False and result["results"] == [] and not result.get("failed")
    assert api_requests(onefs) == []


def test_read_only_user_can_plan_but_not_write(onefs):
    args = {"username": "auditor", "password": "auditor",
            "quotas": [{"path": "/ifs/data/finance/ap", "hard": "20GiB"}, {"path": "/ifs/data/ro", "hard": "1GiB"}]}
    planned = onefs.run("quota", args, check=True)
    assert planned["changed"] is True and not planned.get("failed")
    refused = onefs.run("quota", args)
    assert refused["failed"] is True and "2 of 2" in refused["msg"]
    assert all("ISI_PRIV_QUOTA" in r["msg"] for r in refused["results"])
    assert at(onefs, "/ifs/data/ro") == []


def test_quota_list_read_from_the_source_is_created_on_the_target(onefs):
    """The failover use: dr_info's quota views (with the source ids) go to the target as they are."""
    from ansible_collections.onefs.dr.plugins.module_utils.quota import quota_view

    views = [quota_view(q) for q in quotas(onefs, "source") if q["path"].startswith("/ifs/data/")]
    copied = onefs.run("quota", {"quotas": views}, cluster="target")
    assert copied["changed"] is True and len(copied["results"]) == 5
    target = {(q["path"], q["type"]): q for q in quotas(onefs, "target")}
    for view in views:
        made = target[(view["path"], view["type"])]
        for name in ("hard", "soft", "advisory", "soft_grace"):
            assert made["thresholds"][name] == view[name]
        assert (made["enforced"], made["container"]) == (view["enforced"], view["container"])
    assert target[("/ifs/data/eng/builds", "user")]["persona"]["id"] == "UID:2001"
    onefs.clear_log()
    again = onefs.run("quota", {"quotas": views}, cluster="target")
    assert again["changed"] is False and onefs.writes() == []
