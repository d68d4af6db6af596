"""Two failovers of the same pair started at the same moment from two controllers → one proceeds,
the other refuses with a message naming the run that holds the pair's lock; the end state is the
one of a single failover and no destructive call is made twice.

The final sync runs at simulated time scale 1 here (a few seconds), so that the first run holds
the lock well past the moment the second one asks for it.
"""

import pytest

from chaos_lib import SCOPE, assert_failed_over


@pytest.mark.timeout(600)
@pytest.mark.full_only
def test_two_failovers_at_once_one_proceeds_the_other_refuses(chaos, figures):
    chaos.time_scale(1)
    watch = chaos.trigger(lambda entry: False, lambda entry: None)      # split-brain samples
    runs = [chaos.role("failover", chaos.dr_vars(), start=True, env={"ONEFS_DR_CONTROLLER": name},
                       **chaos.failover_vars())
            for name in ("controller-a", "controller-b")]
    for run in runs:
        run.wait(500)
    watch.stop()
    ok = [run for run in runs if run.rc == 0]
    refused = [run for run in runs if run.rc != 0]
    assert len(ok) == 1 and len(refused) == 1, [(run.rc, run.out[-2000:]) for run in runs]
    out = refused[0].out
    assert "is locked by run " in out and "wait for it to finish" in out, out[-4000:]
    assert "controller controller-" in out
    assert_failed_over(chaos.state("source"), chaos.state("target"))
    figures.add("end_states_verified")
    chaos.assert_no_split_brain()
    calls = chaos.destructive_calls()
    assert chaos.repeated(calls) == {}, calls
    assert sorted(c[2] for c in calls if c[1] == "allow_write") == sorted(SCOPE)
