"""Transient API errors: 10 % of the API calls of both clusters answer 503 or have their connection
reset (seeded), through a planned failover and then a failback → both complete with the documented
end state, and no destructive call is made twice."""

import pytest

from chaos_lib import (
    SCOPE, assert_failed_over, assert_replication_as_before, is_full, snapshot,
)

SEEDS = [9001, 9002, 9003] if is_full() else [9001]
DISCARDS = ["target", "source"] if is_full() else ["target"]
CASES = [(seed, discard) for seed in SEEDS for discard in DISCARDS]


def inject(chaos, seed):
    for offset, cluster in enumerate(("source", "target")):
        chaos.faults(cluster, error_rate=0.05, error_status=503, reset_rate=0.05, seed=seed + offset)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("seed,discard", CASES, ids=["seed%d-discard_%s" % c for c in CASES])
def test_failover_and_failback_complete_through_transient_errors(chaos, figures, seed, discard):
    before = snapshot(chaos.state("source"), chaos.state("target"))
    inject(chaos, seed)
    watch = chaos.trigger(lambda entry: False, lambda entry: None)     # samples the split-brain guard only
    run = chaos.role("failover", chaos.dr_vars(), **chaos.failover_vars())
    assert run.rc == 0, run.text[-6000:]
    source, target = chaos.state("source"), chaos.state("target")
    assert_failed_over(source, target)
    figures.add("end_states_verified")

    run = chaos.role("failback", chaos.dr_vars(), failback_discard=discard, failback_poll_interval=0.2,
                     failback_timeout=300, failback_record_dir=str(chaos.record_dir))
    watch.stop()
    assert run.rc == 0, run.text[-6000:]
    injected = chaos.fault_counters()
    assert injected > 0, "no fault was injected: the case proved nothing"
    figures.add("faults_injected", injected)
    source, target = chaos.state("source"), chaos.state("target")
    assert_replication_as_before(before, source, target)
    figures.add("end_states_verified")
    chaos.assert_no_split_brain()
    assert chaos.split_brain_samples > 0
    # no destructive call took effect twice (allow_write once per policy on the target, etc.)
    calls = chaos.destructive_calls()
    assert chaos.repeated(calls) == {}, calls
    assert sorted(c for c in calls if c[1] == "allow_write" and c[0] == "target") == \
        [("target", "allow_write", name) for name in sorted(SCOPE)]
