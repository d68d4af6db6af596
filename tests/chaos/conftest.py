"""Chaos suite (docs: README "Reliability"): the roles under faults, outages, crashes and a lost site.

The harness is the integration one (``tests/integration/conftest.py``: the in-process mock with
``source`` and ``target`` on the demo scenario, TLS on, and :class:`Harness`); it is loaded here
under its own module name and its ``mock`` / ``onefs`` fixtures are re-exported, so nothing is
duplicated.  ``tests/integration`` is put on ``sys.path`` for ``dr_roles_helpers``.

Modes (``CHAOS_MODE``):

* ``quick`` (default; ``make chaos-quick``, a step of ``make test``): a seeded subset with scaled
  down outages and 1 killed-controller trial per role;
* ``full`` (``make chaos``): every case, real outage durations, ``CHAOS_TRIALS`` (20) seeded
  kill trials per role.

Tests marked ``full_only`` are deselected in quick mode.  Each case adds figures (faults
injected, end states verified, destructive writes repeated after a crash, secrets found) to a
JSON-lines file; the figures are summed and printed at the end of the run (also with xdist).
"""

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
INTEGRATION = HERE.parent / "integration"
if str(INTEGRATION) not in sys.path:
    sys.path.insert(0, str(INTEGRATION))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def _load_integration_conftest():
    name = "onefs_integration_conftest"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, str(INTEGRATION / "conftest.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_integration = _load_integration_conftest()
Harness = _integration.Harness
mock = _integration.mock      # noqa: F811 - re-exported fixtures (session mock, per-test reset harness)
onefs = _integration.onefs

MODE = os.environ.get("CHAOS_MODE", "quick").strip().lower() or "quick"
if MODE not in ("quick", "full"):
    raise pytest.UsageError("CHAOS_MODE must be quick or full, not %r" % MODE)
FIGURES_ENV = "ONEFS_CHAOS_FIGURES"
FIGURE_KEYS = ("cases", "faults_injected", "end_states_verified", "writes_repeated_after_crash",
               "secrets_found", "kills", "re_runs")


def pytest_configure(config):
    config.addinivalue_line("markers", "full_only: chaos case run by `make chaos` only (deselected when CHAOS_MODE=quick)")
    if not hasattr(config, "workerinput") and not os.environ.get(FIGURES_ENV):
        # The controller picks the file; xdist workers (started later) inherit the variable.
        out = Path(config.rootpath) / "build" / "chaos"
        out.mkdir(parents=True, exist_ok=True)
        path = out / ("figures-%d-%d.jsonl" % (os.getpid(), int(time.time())))
        os.environ[FIGURES_ENV] = str(path)
        config._onefs_chaos_figures = path


def pytest_collection_modifyitems(config, items):
    if MODE == "full":
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("full_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    path = getattr(config, "_onefs_chaos_figures", None)
    if path is None:
        return
    totals = dict((key, 0) for key in FIGURE_KEYS)
    notes = []
    if Path(path).exists():
        for line in Path(path).read_text().splitlines():
            entry = json.loads(line)
            for key in FIGURE_KEYS:
                totals[key] += int(entry.get(key, 0))
            if entry.get("note"):
                notes.append((entry["case"].rsplit("::", 1)[-1], entry["note"]))
        Path(path).unlink()
    terminalreporter.section("chaos figures (CHAOS_MODE=%s)" % MODE)
    for case, note in sorted(notes):
        terminalreporter.write_line("%s: %s" % (case, ", ".join("%s=%s" % item for item in sorted(note.items()))))
    terminalreporter.write_line(
        "cases run: %(cases)d, faults injected: %(faults_injected)d, end states verified: %(end_states_verified)d, "
        "controllers killed: %(kills)d, re-runs: %(re_runs)d, writes repeated after a crash: "
        "%(writes_repeated_after_crash)d, secrets found: %(secrets_found)d" % totals)


class Figures:
    """What one chaos case did; written as one JSON line when the case passed."""

    def __init__(self, name):
        self.name = name
        self.values = dict((key, 0) for key in FIGURE_KEYS)
        self.values["cases"] = 1

    def add(self, key, count=1):
        self.values[key] += int(count)

    def note(self, detail):
        """Something to print in the summary (e.g. where a controller was killed)."""
        self.values["note"] = detail

    def write(self):
        path = os.environ.get(FIGURES_ENV)
        if not path:
            return
        line = json.dumps(dict(self.values, case=self.name)) + "\n"
        with open(path, "a") as handle:
            handle.write(line)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item._onefs_chaos_passed = report.passed


@pytest.fixture
def figures(request):
    """Counters of the case; recorded only when the case passed."""
    fig = Figures(request.node.nodeid)
    yield fig
    if getattr(request.node, "_onefs_chaos_passed", False):
        fig.write()


@pytest.fixture
def chaos(onefs, figures):
    """The integration harness plus chaos helpers (tests/chaos/chaos_lib.py)."""
    from chaos_lib import Chaos

    helper = Chaos(onefs, figures)
    yield helper
    helper.close()
