"""synciq.py helpers that need no cluster: schedules, selection, PUT bodies, plans."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import synciq


@pytest.mark.parametrize("value, api", [
    ("manual", ""), ("MANUAL", ""), ("", ""), (None, ""), ("  ", ""),
    ("when-source-modified", "when-source-modified"),
    ("every 1 days at 12:00 AM", "every 1 days at 12:00 AM"),
])
def test_schedule_to_api_maps_manual_to_empty(value, api):
    assert synciq.schedule_to_api(value) == api


def test_schedule_to_user_shows_empty_as_manual():
    assert synciq.schedule_to_user("") == "manual"
    assert synciq.schedule_to_user(None) == "manual"
    assert synciq.schedule_to_user("every 4 hours") == "every 4 hours"


@pytest.mark.parametrize("value", [
    "manual", "", "when-source-modified", "when-snapshot-taken", "every 1 days at 12:00 AM",
    "Every 2 days", "every 1 weeks on sunday at 11:00 PM", "every day every 15 minutes",
    "the last friday of every month at 9 PM", "yearly on March 15", "every 4 hours",
    "Every month on the 15th at 1:30 AM",
])
def test_schedule_error_accepts_onefs_schedules(value):
    assert synciq.schedule_error(value) is None


@pytest.mark.parametrize("value, word", [
    ("when-source-changed", "unknown schedule"),
    ("daily", "not manual"),
    ("every blue moon", "not manual"),
    ("x" * 300, "255"),
])
def test_schedule_error_names_the_problem(value, word):
    assert word in synciq.schedule_error(value)


def test_schedule_equal_ignores_case_and_spaces():
    assert synciq.schedule_equal("Every 1 days  at 12:00 AM", "every 1 days at 12:00 am")
    assert synciq.schedule_equal("manual", "")
    assert not synciq.schedule_equal("every 1 days", "every 2 days")


def test_update_body_always_resends_schedule_and_enabled():
    policy = {"name": "p", "schedule": "every 4 hours", "enabled": True, "description": "x"}
    assert synciq.update_body(policy, {"description": "y"}) == {
        "schedule": "every 4 hours", "enabled": True, "description": "y"}
    assert synciq.update_body(policy, {"schedule": ""}) == {"schedule": "", "enabled": True}
    assert synciq.update_body(dict(policy, enabled=False), {"conflicted": False}) == {
        "schedule": "every 4 hours", "enabled": False, "conflicted": False}


def test_policy_changes_only_lists_specified_fields_that_differ():
    policy = {"name": "p", "schedule": "", "enabled": True, "job_delay": 0,
              "source_exclude_directories": ["/ifs/a/x", "/ifs/a/y"]}
    wanted = {"schedule": "manual", "enabled": None, "job_delay": 60,
              "source_exclude_directories": ["/ifs/a/y", "/ifs/a/x"], "description": None}
    assert synciq.policy_changes(policy, wanted) == {"job_delay": 60}


def test_missing_create_fields_are_named_in_option_order():
    assert synciq.missing_create_fields({"target_host": "t"}) == ["source_root_path", "target_path", "action"]
    assert synciq.missing_create_fields({"source_root_path": "/ifs/a", "target_host": "t",
                                         "target_path": "/ifs/a", "action": "sync"}) == []


@pytest.mark.parametrize("path, base, inside", [
    ("/ifs/data/eng/src", "/ifs/data/eng", True),
    ("/ifs/data/eng", "/ifs/data/eng/", True),
    ("/ifs/data/engineering", "/ifs/data/eng", False),
    ("/ifs/home", "/ifs", True),
    (None, "/ifs", False),
])
def test_path_under_compares_whole_components(path, base, inside):
    assert synciq.path_under(path, base) is inside


RECORDS = [
    {"name": "eng-src", "source_root_path": "/ifs/data/eng/src", "target_path": "/ifs/dr/src"},
    {"name": "fin-ap", "source_root_path": "/ifs/data/finance/ap", "target_path": "/ifs/data/finance/ap"},
    {"name": "eng-docs", "source_root_path": "/ifs/data/eng/docs", "target_path": "/ifs/data/eng/docs"},
]


def test_select_by_names_keeps_order_and_reports_missing():
    selected, missing = synciq.select_policies(RECORDS, names=["fin-ap", "nope", "eng-src"])
    assert [r["name"] for r in selected] == ["fin-ap", "eng-src"]
    assert missing == ["nope"]


def test_select_by_pattern_and_by_base_path():
    by_pattern, _missing = synciq.select_policies(RECORDS, pattern="eng-*")
    assert [r["name"] for r in by_pattern] == ["eng-docs", "eng-src"]
    by_zone, _missing = synciq.select_policies(RECORDS, base_path="/ifs/data/eng")
    assert [r["name"] for r in by_zone] == ["eng-docs", "eng-src"]
    on_target, _missing = synciq.select_policies(RECORDS, base_path="/ifs/data/eng", path_field="target_path")
    assert [r["name"] for r in on_target] == ["eng-docs"]


def test_report_error_prefers_error_then_joins_errors():
    assert synciq.report_error({"error": "boom", "errors": ["x"]}) == "boom"
    assert synciq.report_error({"errors": ["a", "b"]}) == "a; b"
    assert synciq.report_error({"errors": []}) is None
    assert synciq.report_error(None) is None


def test_job_action_treats_missing_and_sync_as_run():
    assert synciq.job_action({}) == "run"
    assert synciq.job_action({"action": "sync"}) == "run"
    assert synciq.job_action({"action": "allow_write"}) == "allow_write"


# --------------------------------------------------------------------------- module option helpers
def test_rg_sync_parse_since_accepts_epoch_and_iso():
    from ansible_collections.onefs.dr.plugins.modules import rg_sync

    assert rg_sync.parse_since("1700000000") == 1700000000.0
    assert rg_sync.parse_since(1700000000.5) == 1700000000.5
    assert rg_sync.parse_since("2023-11-14T22:13:20Z") == 1700000000.0
    assert rg_sync.parse_since("2023-11-14T23:13:20+01:00") == 1700000000.0
    assert rg_sync.parse_since("2023-11-14 22:13:20") == 1700000000.0
    with pytest.raises(ValueError):
        rg_sync.parse_since("yesterday")


def test_synciq_policy_items_take_top_level_defaults_and_errors_name_options():
    from ansible_collections.onefs.dr.plugins.modules import synciq_policy

    params = dict((key, None) for key in synciq_policy.ARGUMENT_SPEC)
    params.update(policies=[{"name": "a"}, {"name": "b", "schedule": "every 2 days", "enabled": True}],
                  schedule="manual", enabled=False, state="present", force=False, local_only=False)
    items = synciq_policy.items_of(params)
    assert [(i["name"], i["schedule"], i["enabled"]) for i in items] == [
        ("a", "manual", False), ("b", "every 2 days", True)]
    items[1]["priority"] = 3
    items[0]["schedule"] = "hourly"
    errors = synciq_policy.item_errors(items, listed=True)
    assert any(e.startswith("policies[0].schedule:") for e in errors)
    assert any(e.startswith("policies[1].priority:") for e in errors)
