"""The collection's filters, called as Jinja calls them."""

from ansible_collections.onefs.dr.plugins.filter.named_items import named_items
from ansible_collections.onefs.dr.plugins.filter.run_steps import run_steps
from ansible_collections.onefs.dr.plugins.filter.with_env import with_env


def test_named_items():
    assert named_items(["a", "b"]) == [{"name": "a"}, {"name": "b"}]
    assert named_items(["p"], {"enabled": False}) == [{"enabled": False, "name": "p"}]
    assert named_items(["g.s.p"], key="pool") == [{"pool": "g.s.p"}]
    assert named_items(None) == []


def test_run_steps_takes_times_status_and_objects_from_registered_results():
    synced = {"changed": True, "timing": {"started": 1.0, "ended": 3.5},
              "results": [{"name": "p1"}, {"name": "p2"}, {"name": "p1"}]}
    table = [
        {"name": "sync", "phase": "sync", "result": synced},
        {"name": "lock", "phase": "prepare", "result": {"skipped": True, "changed": False}},
        {"name": "never ran", "phase": "x", "result": ""},
        {"name": "broken", "phase": "writable", "result": {"failed": True, "timing": {"started": 4, "ended": 5}}},
    ]
    assert run_steps(table) == [
        {"name": "sync", "phase": "sync", "started": 1.0, "ended": 3.5, "status": "ok", "changed": True,
         "objects": ["p1", "p2"]},
        {"name": "lock", "phase": "prepare", "started": None, "ended": None, "status": "skipped", "changed": False,
         "objects": []},
        {"name": "broken", "phase": "writable", "started": 4, "ended": 5, "status": "failed", "changed": False,
         "objects": []},
    ]


def test_with_env_fills_only_what_the_dict_lacks(monkeypatch):
    monkeypatch.setenv("ONEFS_SOURCE_HOST", "env-host")
    monkeypatch.setenv("ONEFS_SOURCE_USERNAME", "svc")
    monkeypatch.setenv("ONEFS_SOURCE_PASSWORD", "from-env")
    monkeypatch.setenv("ONEFS_SOURCE_CA_PATH", "")
    monkeypatch.delenv("ONEFS_SOURCE_PORT", raising=False)
    assert with_env({"onefs_host": "inv-host", "ca_path": "/ca.pem"}, "ONEFS_SOURCE_") == {
        "onefs_host": "inv-host", "ca_path": "/ca.pem", "username": "svc", "password": "from-env"}
    assert with_env(None, "ONEFS_TARGET_") == {}
