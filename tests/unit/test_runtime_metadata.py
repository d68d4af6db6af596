"""meta/runtime.yml must list every module in the `onefs` action group, and nothing else."""

import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _runtime():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def _module_files():
    mdir = os.path.join(ROOT, "plugins", "modules")
    if not os.path.isdir(mdir):
        return set()
    return {
        name[:-3]
        for name in os.listdir(mdir)
        if name.endswith(".py") and not name.startswith("_") and name != "__init__.py"
    }


def test_requires_ansible():
    assert _runtime()["requires_ansible"].startswith(">=2.")


def test_every_module_is_in_the_action_group():
    group = _runtime()["action_groups"]["onefs"]
    missing = sorted(_module_files() - set(group))
    assert not missing, f"add to meta/runtime.yml action_groups.onefs: {missing}"


def test_every_group_entry_is_a_module():
    group = _runtime()["action_groups"]["onefs"]
    assert len(group) == len(set(group)), "duplicate entries in action_groups.onefs"
    assert group == sorted(group), "keep action_groups.onefs sorted"
    stale = sorted(set(group) - _module_files())
    assert not stale, f"meta/runtime.yml action_groups.onefs names modules that do not exist: {stale}"
