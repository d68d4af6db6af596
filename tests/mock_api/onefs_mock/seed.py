"""Scenario (seed) loading and the defaults used when a scenario is silent.

A scenario is a dict (from YAML or JSON) with ``clusters`` keyed by the
``--cluster`` name, optional world-wide ``domains`` and ``simulation``
settings (schema: docs/DESIGN.md 2.4, README).  ``cluster_section`` always
returns a complete section: a cluster the scenario does not mention gets the
default one (System zone, groupnet0.subnet0.pool0, admin and auditor users).
Resource modules read their own keys from that section and may add defaults
to ``DEFAULT_CLUSTER`` (e.g. the network area's default groupnet).
"""

import copy
import json
import os
from pathlib import Path
from typing import Any, Dict, Optional, Union

# The built-in scenarios: tests/mock_api/scenarios in the source tree (and an editable install); a
# wheel or a plain `pip install` ships the same files as onefs_mock/scenarios (pyproject.toml).
SOURCE_SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
PACKAGED_SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
SCENARIO_DIR = SOURCE_SCENARIO_DIR if SOURCE_SCENARIO_DIR.is_dir() else PACKAGED_SCENARIO_DIR

DEFAULT_USERS = [
    {"name": "admin", "password": "admin", "role": "admin"},
    {"name": "auditor", "password": "auditor", "role": "readonly"},
]

DEFAULT_CLUSTER: Dict[str, Any] = {
    "onefs_version": "9.5.0.0",
    "users": DEFAULT_USERS,
    "zones": [{"name": "System", "path": "/ifs"}],
    "groupnets": [
        {
            "name": "groupnet0",
            "subnets": [{"name": "subnet0", "sc_service_addrs": [], "pools": [{"name": "pool0", "access_zone": "System"}]}],
        }
    ],
    "session": {"timeout_inactive": 900, "timeout_absolute": 14400},
}

DEFAULT_SIMULATION: Dict[str, Any] = {
    "job_overhead_s": 2.0,       # fixed cost of any sync job (simulated seconds)
    "bandwidth_mb_s": 100.0,     # copy speed (MB per simulated second)
    "fofb_job_s": 1.0,           # duration of allow_write / allow_write_revert / resync_prep
    "max_running_jobs": 50,      # OneFS runs at most 50 SyncIQ jobs at once
}

DEFAULT_SCENARIO: Dict[str, Any] = {"clusters": {}, "simulation": dict(DEFAULT_SIMULATION)}


def cluster_section(scenario: Dict[str, Any], name: str) -> Dict[str, Any]:
    """The scenario section of one cluster, with defaults for every missing key."""
    given = ((scenario or {}).get("clusters") or {}).get(name) or {}
    section = copy.deepcopy(DEFAULT_CLUSTER)
    section.update(copy.deepcopy(given))
    section["session"] = dict(DEFAULT_CLUSTER["session"], **(given.get("session") or {}))
    return section


def simulation_settings(scenario: Dict[str, Any]) -> Dict[str, Any]:
    settings = dict(DEFAULT_SIMULATION)
    settings.update((scenario or {}).get("simulation") or {})
    return settings


def load_scenario(source: Union[None, str, Path, Dict[str, Any]]) -> Dict[str, Any]:
    """A scenario from a dict, a file path, a scenario name (``demo``) or None (defaults)."""
    if source is None:
        return copy.deepcopy(DEFAULT_SCENARIO)
    if isinstance(source, dict):
        return validate_scenario(copy.deepcopy(source))
    path = _scenario_path(str(source))
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return validate_scenario(json.loads(text))
    import yaml  # only needed for YAML seeds

    return validate_scenario(yaml.safe_load(text) or {})


def scenario_dirs():
    """Where built-in scenarios live: $ONEFS_MOCK_SCENARIOS, the source tree or the installed package, ./scenarios."""
    dirs = [Path(os.environ["ONEFS_MOCK_SCENARIOS"])] if os.environ.get("ONEFS_MOCK_SCENARIOS") else []
    return dirs + [SCENARIO_DIR, Path.cwd() / "scenarios"]


def _scenario_path(source: str) -> Path:
    path = Path(source)
    if path.is_file():
        return path
    for directory in scenario_dirs():
        for candidate in (directory / (source + ".yml"), directory / (source + ".yaml"), directory / source):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError("no scenario file or built-in scenario named %r" % source)


def validate_scenario(scenario: Any) -> Dict[str, Any]:
    """Shape checks only; each area validates its own section when it loads it."""
    if not isinstance(scenario, dict):
        raise ValueError("a scenario must be a mapping")
    clusters = scenario.setdefault("clusters", {})
    if not isinstance(clusters, dict):
        raise ValueError("scenario 'clusters' must be a mapping of cluster name to section")
    for name, section in clusters.items():
        if section is not None and not isinstance(section, dict):
            raise ValueError("scenario section of cluster %r must be a mapping" % name)
    if not isinstance(scenario.get("simulation") or {}, dict):
        raise ValueError("scenario 'simulation' must be a mapping")
    return scenario


def scenario_clusters(scenario: Optional[Dict[str, Any]]):
    return list(((scenario or {}).get("clusters") or {}).keys())
