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


def _galaxy():
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_galaxy_metadata():
    galaxy = _galaxy()
    assert (galaxy["namespace"], galaxy["name"]) == ("onefs", "dr")
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    for tag in galaxy["tags"]:
        assert tag.isalnum() and tag.islower(), f"Galaxy tags are lowercase alphanumeric: {tag!r}"
    # the simulator and the tooling are not collection content
    for path in ("tests/mock_api", ".venv", "build", "tools", "benchmarks", ".ci"):
        assert path in galaxy["build_ignore"], path


def test_every_role_has_what_the_importer_needs():
    roles = os.path.join(ROOT, "roles")
    for role in sorted(os.listdir(roles)) if os.path.isdir(roles) else []:
        if not os.path.isdir(os.path.join(roles, role)):
            continue
        assert os.path.isfile(os.path.join(roles, role, "README.md")), f"roles/{role}/README.md is missing"
        assert os.path.isfile(os.path.join(roles, role, "meta", "argument_specs.yml")), (
            f"roles/{role}/meta/argument_specs.yml is missing"
        )
