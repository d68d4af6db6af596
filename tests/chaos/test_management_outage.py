"""A management outage of the source or the target (connections refused, ``/_mock/down``) in the
middle of a planned failover.

* ridden out: the outage is shorter than the connection dicts' ``retry_budget`` → the run waits
  it out (the API trace shows the refused attempts) and completes with the documented end state;
* shorter budget: the run stops with a message naming the step, the budget and the refused
  connection; once the cluster is back the same command completes, with no destructive call
  made twice (quick suite: the source; the target case, whose outage outlasts the failed run and
  leaves the pair locked, is the deterministic last test: see TAKEOVER_HINT).

``make chaos``: the issue's 3-minute outage (budget 300 s, then 60 s).  Quick suite: a 10 s outage
with a 30 s budget, then with a 3 s budget.
"""

import json
import time

import pytest

from chaos_lib import SCOPE, assert_failed_over, is_full

OUTAGE_S = 180 if is_full() else 10
RIDE_BUDGET = 300 if is_full() else 30
SHORT_BUDGET = 60 if is_full() else 3
CLUSTERS = ["source", "target"] if is_full() else ["source"]
SHORT_CLUSTERS = ["source", "target"] if is_full() else ["source"]
TIMEOUT = 1800 if is_full() else 600
# Found by this suite: an outage of the target that outlasts the failed run leaves the pair locked
# (the rescue cannot record the failure there), and the plain re-run was refused by the run's own
# lock for lock_ttl although the message said "Re-run the same command".  Since 7139e47 the message
# says the pair stays locked and names failover_lock_takeover, which the re-run here then uses.
TAKEOVER_HINT = "-e failover_lock_takeover=true"


def rerun_settings(failed_run):
    """The settings of the re-run the failure message asks for."""
    return {"failover_lock_takeover": True} if TAKEOVER_HINT in failed_run.out else {}


def outage_point(cluster):
    """Where the outage starts: the source goes down once its policies are disabled (step 6; the
    park of step 8 is next), the target once the names are parked on the source (step 8; the
    claim of step 10 is next)."""
    if cluster == "source":
        return lambda e: (e["cluster"] == "source" and e["method"] == "PUT" and "/sync/policies/" in e["path"]
                          and (e.get("body") or {}).get("enabled") is False and e["applied"])
    return lambda e: (e["cluster"] == "source" and e["method"] == "PUT" and e["path"].endswith("/pools/finance")
                      and e["applied"])


def inventory(chaos, budget, trace):
    return chaos.dr_vars(source=chaos.conn("source", retry_budget=budget, api_trace=str(trace)),
                         target=chaos.conn("target", retry_budget=budget, api_trace=str(trace)))


def refused_attempts(chaos, trace, cluster):
    """Trace entries of calls to ``cluster`` that got no answer (connection refused)."""
    port = chaos.mock.port(cluster)
    found = []
    for line in trace.read_text().splitlines() if trace.exists() else []:
        entry = json.loads(line)
        if entry.get("error") and entry.get("node", "").endswith(":%d" % port):
            found.append(entry)
    return found


def wait_up(chaos, cluster, limit_s):
    for dummy in range(int(limit_s / 0.5) + 1):
        if chaos.is_up(cluster):
            return
        time.sleep(0.5)
    raise AssertionError("%s is still down after %s s" % (cluster, limit_s))


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("cluster", CLUSTERS)
def test_an_outage_shorter_than_the_retry_budget_is_ridden_out(chaos, figures, cluster):
    trace = chaos.tmp / "trace.jsonl"
    trig = chaos.trigger(outage_point(cluster), lambda entry: chaos.down(cluster, OUTAGE_S))
    run = chaos.role("failover", inventory(chaos, RIDE_BUDGET, trace), timeout=TIMEOUT - 60,
                     **chaos.failover_vars())
    fired = trig.stop()
    assert fired is not None, "the outage was never started: %s" % run.text[-3000:]
    assert run.rc == 0, run.text[-6000:]
    refused = refused_attempts(chaos, trace, cluster)
    assert refused, "no call met the outage: the case proved nothing"
    assert_failed_over(chaos.state("source"), chaos.state("target"))
    figures.add("end_states_verified")
    chaos.assert_no_split_brain()
    assert chaos.repeated(chaos.destructive_calls()) == {}


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("cluster", SHORT_CLUSTERS)
def test_an_outage_longer_than_the_retry_budget_stops_clearly_and_a_re_run_completes(chaos, figures, cluster):
    trace = chaos.tmp / "trace.jsonl"
    trig = chaos.trigger(outage_point(cluster), lambda entry: chaos.down(cluster, OUTAGE_S))
    run = chaos.role("failover", inventory(chaos, SHORT_BUDGET, trace), timeout=TIMEOUT - 60,
                     **chaos.failover_vars())
    fired = trig.stop()
    assert fired is not None, "the outage was never started: %s" % run.text[-3000:]
    assert run.rc != 0, "the run did not stop although the outage outlasted the budget"
    out = run.out
    # the message: which step, that the cluster could not be reached, the budget, and what to do
    assert 'failover (planned) failed at "Step ' in out, out[-4000:]
    assert "retry_budget %d s" % SHORT_BUDGET in out, out[-4000:]
    assert "gave up after" in out and "Re-run the same command" in out, out[-4000:]
    assert "refused" in out.lower(), out[-4000:]
    # nothing was made writable while the source could still be active... and no both-sides state
    chaos.assert_no_split_brain()
    assert refused_attempts(chaos, trace, cluster)

    wait_up(chaos, cluster, OUTAGE_S + 30)
    run = chaos.role("failover", inventory(chaos, SHORT_BUDGET, trace), timeout=TIMEOUT - 60,
                     **chaos.failover_vars(**rerun_settings(run)))
    figures.add("re_runs")
    assert run.rc == 0, run.text[-6000:]
    assert_failed_over(chaos.state("source"), chaos.state("target"))
    figures.add("end_states_verified")
    calls = chaos.destructive_calls()
    assert chaos.repeated(calls) == {}, calls
    assert sorted(c[2] for c in calls if c[1] == "allow_write") == sorted(SCOPE)


@pytest.mark.timeout(TIMEOUT)
def test_the_target_down_until_the_run_has_stopped_then_a_re_run_completes(chaos, figures):
    """Deterministic version of the target case: the target stays down (no timer) until the failed
    run, its rescue included, has ended: the message says the pair stays locked and how to go on;
    then the target comes back and the re-run it asks for completes."""
    trig = chaos.trigger(outage_point("target"), lambda entry: chaos.down("target"))
    trace = chaos.tmp / "trace.jsonl"
    run = chaos.role("failover", inventory(chaos, SHORT_BUDGET, trace), timeout=TIMEOUT - 60,
                     **chaos.failover_vars())
    assert trig.stop() is not None, run.text[-3000:]
    assert run.rc != 0 and 'failover (planned) failed at "Step ' in run.out, run.out[-4000:]
    assert "The pair stays locked by this run" in run.out and TAKEOVER_HINT in run.out, run.out[-4000:]
    chaos.up("target")
    run = chaos.role("failover", inventory(chaos, SHORT_BUDGET, trace), timeout=TIMEOUT - 60,
                     **chaos.failover_vars(**rerun_settings(run)))
    figures.add("re_runs")
    assert run.rc == 0, run.out[-4000:]
    assert_failed_over(chaos.state("source"), chaos.state("target"))
    figures.add("end_states_verified")
    assert chaos.repeated(chaos.destructive_calls()) == {}
    assert chaos.lock() is None
