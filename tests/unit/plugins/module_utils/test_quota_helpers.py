"""Pure quota helpers of plugins/module_utils/quota.py: sizes, durations, identity, plans."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import quota as qu


@pytest.mark.parametrize("text,size", [
    (1048576, 1048576), ("1048576", 1048576), ("10GiB", 10 * 1024 ** 3), ("1TB", 10 ** 12),
    ("512MB", 512 * 10 ** 6), ("512 mib", 512 * 1024 ** 2), ("1.5GiB", 1610612736), ("2kB", 2000),
    ("3KiB", 3072), ("7B", 7), ("1PiB", 1024 ** 5),
])
def test_parse_size(text, size):
    assert qu.parse_size(text, "hard") == size


@pytest.mark.parametrize("text,why", [("10G", "unknown unit"), ("ten", "not a size"), ("1.3B", "whole number"),
                                      (0, "at least 1"), ("-5", "not a size"), (True, "boolean")])
def test_parse_size_refuses_and_names_the_option(text, why):
    with pytest.raises(qu.QuotaInputError, match="quotas\\[2\\].hard: .*" + why):
        qu.parse_size(text, "quotas[2].hard")


def test_parse_size_none_and_clear():
    assert qu.parse_size(None) is None
    assert qu.parse_size("None") == qu.CLEAR


@pytest.mark.parametrize("text,seconds", [(60, 60), ("7d", 604800), ("12h", 43200), ("1w", 604800), ("90", 90)])
def test_parse_duration(text, seconds):
    assert qu.parse_duration(text) == seconds


def test_parse_duration_refuses_bad_values():
    with pytest.raises(qu.QuotaInputError, match="soft_grace"):
        qu.parse_duration("3 fortnights")
    with pytest.raises(qu.QuotaInputError, match="soft_grace"):
        qu.parse_duration(0)


@pytest.mark.parametrize("text,persona", [
    ("UID:1000", {"id": "UID:1000"}), ("sid:S-1-5-21-1", {"id": "SID:S-1-5-21-1"}),
    ("USER:alice", {"type": "user", "name": "alice"}), ("group:wheel", {"type": "group", "name": "wheel"}),
    ({"id": "GID:0"}, {"id": "GID:0"}), (None, None),
])
def test_parse_persona(text, persona):
    assert qu.parse_persona(text) == persona


def test_parse_persona_refuses_bare_names():
    with pytest.raises(qu.QuotaInputError, match="persona"):
        qu.parse_persona("alice")


def test_persona_matches_by_id_or_name():
    assert qu.persona_matches({"id": "UID:1000"}, {"id": "uid:1000", "name": "alice", "type": "user"})
    assert qu.persona_matches({"type": "user", "name": "alice"}, {"id": "UID:1000", "name": "Alice", "type": "user"})
    assert not qu.persona_matches({"type": "group", "name": "alice"}, {"name": "alice", "type": "user"})
    assert qu.persona_matches(None, None)
    assert not qu.persona_matches(None, {"id": "UID:1"})


def test_quota_key_normalizes_path():
    assert qu.quota_key("/ifs/data/a/", "directory", None, False) == qu.quota_key("/ifs/data/a", "directory", None, 0)
    assert qu.quota_key("/ifs/a", "directory", None, True) != qu.quota_key("/ifs/a", "directory", None, False)


def test_normalize_spec_requires_soft_grace_with_soft():
    with pytest.raises(qu.QuotaInputError, match="quotas\\[0\\].soft_grace"):
        qu.normalize_spec({"path": "/ifs/a", "soft": "1GiB"}, 0)


def test_normalize_spec_checks_persona_and_path_and_order():
    with pytest.raises(qu.QuotaInputError, match="persona"):
        qu.normalize_spec({"path": "/ifs/a", "type": "user"}, 0)
    with pytest.raises(qu.QuotaInputError, match="persona"):
        qu.normalize_spec({"path": "/ifs/a", "type": "directory", "persona": "UID:1"}, 0)
    with pytest.raises(qu.QuotaInputError, match="path"):
        qu.normalize_spec({"path": "data/a"}, 0)
    with pytest.raises(qu.QuotaInputError, match="advisory"):
        qu.normalize_spec({"path": "/ifs/a", "hard": "1GiB", "advisory": "2GiB"}, 0)


def test_check_duplicates_names_both_entries():
    specs = [qu.normalize_spec({"path": "/ifs/a/"}, 0), qu.normalize_spec({"path": "/ifs/b"}, 1),
             qu.normalize_spec({"path": "/ifs/a"}, 2)]
    with pytest.raises(qu.QuotaInputError, match="entries 0 and 2"):
        qu.check_duplicates(specs)


def test_plan_modify_only_what_differs_and_merges_thresholds():
    spec = qu.normalize_spec({"path": "/ifs/a", "hard": "2GiB", "advisory": "none", "description": "x"}, 0)
    quota = {"id": "Q1", "path": "/ifs/a", "type": "directory", "description": "x", "enforced": True,
             "thresholds": {"hard": 1024, "advisory": 512, "soft": None, "soft_grace": None, "hard_exceeded": False}}
    body, actions = qu.plan_modify(spec, quota)
    assert body == {"thresholds": {"hard": 2 * 1024 ** 3, "advisory": None, "soft": None, "soft_grace": None}}
    assert actions == ["set advisory 512 -> None", "set hard 1024 -> 2147483648"]
    quota["thresholds"].update(hard=2 * 1024 ** 3, advisory=None)
    assert qu.plan_modify(spec, quota) == ({}, [])


def test_plan_purge_keeps_listed_and_outside():
    specs = [qu.normalize_spec({"path": "/ifs/z/keep"}, 0), qu.normalize_spec({"path": "/ifs/z/gone", "state": "absent"}, 1)]
    existing = [{"id": "1", "path": "/ifs/z/keep", "type": "directory", "include_snapshots": False, "persona": None},
                {"id": "2", "path": "/ifs/z/other", "type": "directory", "include_snapshots": False, "persona": None},
                {"id": "3", "path": "/ifs/z", "type": "directory", "include_snapshots": False, "persona": None},
                {"id": "4", "path": "/ifs/zz", "type": "directory", "include_snapshots": False, "persona": None},
                {"id": "5", "path": "/ifs/z/gone", "type": "directory", "include_snapshots": False, "persona": None}]
    assert [q["id"] for q in qu.plan_purge(existing, specs, "/ifs/z/")] == ["2", "3"]
