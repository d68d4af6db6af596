"""playbooks/inventory.example.yml describes cluster pairs with variables the roles read."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "playbooks" / "inventory.example.yml"
CONNECTION_KEYS = {"onefs_host", "onefs_port", "username", "password", "validate_certs", "ca_path", "auth",
                   "api_timeout", "retry_budget", "api_trace"}


def _hosts():
    data = yaml.safe_load(INVENTORY.read_text(encoding="utf-8"))
    hosts = {}

    def walk(group, inherited):
        merged = dict(inherited, **(group.get("vars") or {}))
        for name, host_vars in (group.get("hosts") or {}).items():
            hosts[name] = dict(merged, **(host_vars or {}))
        for child in (group.get("children") or {}).values():
            walk(child or {}, merged)

    walk(data["all"], {})
    return hosts


def _read_by_roles():
    names = set()
    for defaults in ROOT.glob("roles/*/defaults/main.yml"):
        names.update(re.findall(r"\b(onefs_dr_[a-z_]+)\b", defaults.read_text(encoding="utf-8")))
    return names


def test_every_pair_is_complete():
    hosts = _hosts()
    assert len(hosts) >= 2, "the example shows more than one pair (they run in parallel)"
    pairs = [h["onefs_dr_pair"] for h in hosts.values()]
    assert len(set(pairs)) == len(pairs), "each pair has its own name (lock and journal)"
    for name, host in hosts.items():
        assert host["ansible_connection"] == "local", name
        for side in ("onefs_dr_source", "onefs_dr_target"):
            assert set(host[side]) <= CONNECTION_KEYS, (name, side, set(host[side]) - CONNECTION_KEYS)
            assert "onefs_host" in host[side], (name, side)
            assert "lookup(" in host[side]["password"] or "vault" in host[side]["password"], \
                "%s: no clear-text password in the example" % name
        assert host.get("onefs_dr_zone") or host.get("onefs_dr_policies"), "%s has no scope" % name


def test_every_shared_variable_is_read_by_a_role():
    if not list(ROOT.glob("roles/*/defaults/main.yml")):
        return
    read = _read_by_roles()
    for name, host in _hosts().items():
        unknown = sorted(k for k in host if k.startswith("onefs_dr_") and k not in read)
        assert not unknown, "%s sets variables no role reads: %s" % (name, unknown)
