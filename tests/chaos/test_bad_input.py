"""Bad input (issue 9, item 2): invalid module arguments fail before the first request, with a
message naming the option, and no traceback reaches the user.

* A generated suite (hypothesis, derandomized: the same examples every run) takes a valid set of
  arguments of a module that reads or writes on the clusters and breaks one option: a value
  outside its ``choices``, a non-number for a number, a non-boolean for a boolean, a number ≤ 0
  for a worker count, timeout or poll interval, an option that does not exist (top level, or in
  a ``policies`` item of synciq_policy).  The module process runs against the simulator, not in
  check mode: nothing may reach the simulator at all.  ``make chaos``: 150 examples, quick: 12.
* The connection options every module shares are checked one by one (out-of-range numbers).
  Not tested: ``onefs_port: 0``, which PapiClient silently turns into 8080 (``port or DEFAULT_PORT``):
  the test would send requests to whatever listens on 127.0.0.1:8080.
"""

import importlib
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chaos_lib import is_full

MODULES = {
    "dr_info": {"policies": ["fin-ap"]},
    "local_target": {"policies": ["fin-ap"], "state": "writes_enabled"},
    "synciq_policy": {"policies": [{"name": "fin-ap", "enabled": True}]},
    "rg_sync": {"policies": ["fin-ap"], "mode": "sync"},
    "quota": {"quotas": [{"path": "/ifs/data/finance/ap", "type": "directory"}]},
    "spn": {"provider": "AD.EXAMPLE.COM", "spns": ["HOST/finance"], "state": "present"},
    "smartconnect_zone": {"pool": "groupnet0.subnet0.finance", "state": "present"},
    "resync_prep": {"policies": ["fin-ap"]},
    "dr_plan": {"operation": "failover_planned", "policies": ["fin-ap"], "peer": "SOURCE"},
    "dr_run": {"pair": "prod-dr", "action": "load", "operation": "failover_planned", "peer": "SOURCE"},
}
POSITIVE = ("max_workers", "timeout", "poll_interval", "max_running_jobs")
EXAMPLES = 150 if is_full() else 12


def spec_of(module):
    mod = importlib.import_module("ansible_collections.onefs.dr.plugins.modules.%s" % module)
    return mod.ARGUMENT_SPEC


def mutations(module):
    """Every (path, option, bad value, kind) one can make of the module's spec."""
    spec = spec_of(module)
    found = []

    def of(options, where):
        for name, opt in sorted(options.items()):
            kind = opt.get("type", "str")
            if opt.get("choices"):
                found.append((where, name, "not-a-choice", "choice"))
            if kind in ("int", "float"):
                found.append((where, name, "many", "number"))
                if name in POSITIVE:
                    found.append((where, name, 0, "not positive"))
                    found.append((where, name, -3, "not positive"))
            if kind == "bool":
                found.append((where, name, "perhaps", "boolean"))
        found.append((where, "no_such_option", "x", "unknown"))

    of(spec, ())
    if module == "synciq_policy":
        of(spec["policies"]["options"], ("policies", 0))
    return found


CASES = [(module, m) for module in sorted(MODULES) for m in mutations(module)]


def build_args(onefs, module, where, name, value):
    args = json.loads(json.dumps(MODULES[module]))
    if args.get("peer") == "SOURCE":
        args["peer"] = onefs.conn("source")
    target = args
    for step in where:
        target = target[step]
    target[name] = value
    return args


@pytest.mark.timeout(1800)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=st.sampled_from(CASES))
def test_an_invalid_module_argument_is_refused_before_any_request(onefs, figures, case):
    module, (where, name, value, kind) = case
    onefs.clear_log()
    result = onefs.run(module, build_args(onefs, module, where, name, value), cluster="target")
    label = "%s %s%s=%r (%s)" % (module, "".join("%s[%s]." % (w, "") if isinstance(w, str) else "" for w in where),
                                 name, value, kind)
    assert result.get("failed") is True, "%s was accepted: %s" % (label, result)
    assert name in result["msg"], "%s: the message does not name the option: %s" % (label, result["msg"])
    assert "Traceback" not in result["msg"] + result["_stderr"], label
    assert onefs.requests("target") == [], "%s: requests were made before the refusal" % label


CONNECTION_CASES = [("api_timeout", 0), ("api_timeout", -1), ("retry_budget", -3), ("onefs_port", 70000)]
# Found by this suite (client/connection options are not range-checked):
CONNECTION_BUGS = {
    ("api_timeout", 0): "api_timeout <= 0 is not checked: requests raises ValueError('Invalid timeout (0.0, 0.0)') "
                        "from PapiClient._send, _classify re-raises it, the module dies with a traceback and no JSON",
    ("api_timeout", -1): "api_timeout <= 0 is not checked: ValueError traceback from requests, no JSON result",
    ("retry_budget", -3): "retry_budget < 0 is not checked: accepted silently (Backoff clamps it to 0: no retry at all)",
    ("onefs_port", 70000): "onefs_port is not range-checked: the refusal comes from URL parsing ('invalid request: "
                           "Failed to parse: https://127.0.0.1:70000/session/1/session') and does not name the option",
}


def connection_case(option, value):
    marks = []
    bug = CONNECTION_BUGS.get((option, value))
    if bug and not is_full():
        marks.append(pytest.mark.xfail(reason=bug, strict=True))
    return pytest.param(option, value, marks=marks, id="%s=%s" % (option, value))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("option,value", [connection_case(*c) for c in CONNECTION_CASES])
def test_an_out_of_range_connection_option_is_refused_before_any_request(onefs, figures, option, value):
    onefs.clear_log()
    args = dict(onefs.conn("target"), policies=["fin-ap"], retry_budget=2)     # a wrong port must not hang
    args[option] = value
    try:
        result = onefs.run("dr_info", args, cluster="target", with_conn=False)
    except AssertionError as exc:             # the module printed no JSON at all
        pytest.fail("%s=%r: no result, the module crashed: %s" % (option, value, str(exc)[-300:]))
    assert result.get("failed") is True, "%s=%r was accepted" % (option, value)
    assert option in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"] + result["_stderr"]
    assert onefs.requests("target") == []
