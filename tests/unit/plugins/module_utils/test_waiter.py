"""wait_for on a fake clock: back-off while nothing changes, reset on change, timeout, early failure."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils.errors import WaitFailedError, WaitTimeoutError
from ansible_collections.onefs.dr.plugins.module_utils.waiter import wait_for


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def sequence(values):
    """fetch() returning the given values, then the last one forever."""
    values = list(values)
    calls = []

    def fetch():
        calls.append(1)
        return values[min(len(calls), len(values)) - 1]

    fetch.calls = calls
    return fetch


def test_returns_the_first_value_that_is_done():
    clock = FakeClock()
    fetch = sequence(["running", "running", "finished"])
    value = wait_for(fetch, lambda v: v == "finished", timeout=60, poll_interval=2, clock=clock, sleep=clock.sleep)
    assert value == "finished"
    assert len(fetch.calls) == 3


def test_backs_off_by_half_while_unchanged_up_to_four_times_the_interval():
    clock = FakeClock()
    fetch = sequence(["running"] * 10 + ["finished"])
    wait_for(fetch, lambda v: v == "finished", timeout=1000, poll_interval=2, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == pytest.approx([2, 3, 4.5, 6.75, 8, 8, 8, 8, 8, 8])


def test_interval_resets_when_the_state_changes():
    clock = FakeClock()
    fetch = sequence(["a", "a", "a", "b", "b", "done"])
    wait_for(fetch, lambda v: v == "done", timeout=1000, poll_interval=1, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == pytest.approx([1, 1.5, 2.25, 1, 1.5])


def test_state_function_selects_what_counts_as_a_change():
    clock = FakeClock()
    fetch = sequence([{"state": "running", "ts": 1}, {"state": "running", "ts": 2}, {"state": "running", "ts": 3},
                      {"state": "done", "ts": 4}])
    wait_for(fetch, lambda v: v["state"] == "done", timeout=100, poll_interval=1, clock=clock,
             sleep=clock.sleep, state=lambda v: v["state"])
    assert clock.sleeps == pytest.approx([1, 1.5, 2.25])


def test_explicit_max_interval():
    clock = FakeClock()
    fetch = sequence(["x"] * 6 + ["done"])
    wait_for(fetch, lambda v: v == "done", timeout=100, poll_interval=1, max_interval=2, clock=clock,
             sleep=clock.sleep)
    assert max(clock.sleeps) == 2


def test_timeout_names_what_it_waited_for_and_the_last_state():
    clock = FakeClock()
    fetch = sequence(["running"])
    with pytest.raises(WaitTimeoutError) as caught:
        wait_for(fetch, lambda v: False, timeout=10, poll_interval=1, describe="job of policy p1 to finish",
                 clock=clock, sleep=clock.sleep, cluster="source")
    err = caught.value
    assert "job of policy p1 to finish" in str(err)
    assert "'running'" in str(err)
    assert "10" in str(err)
    assert err.last == "running"
    assert err.timeout == 10
    assert clock.now == pytest.approx(10)
    assert err.to_dict()["last"] == "running"


def test_never_sleeps_past_the_timeout():
    clock = FakeClock()
    with pytest.raises(WaitTimeoutError):
        wait_for(sequence([1]), lambda v: False, timeout=7, poll_interval=5, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == pytest.approx([5, 2])


def test_failed_state_stops_early():
    clock = FakeClock()
    fetch = sequence(["running", "failed"])
    with pytest.raises(WaitFailedError) as caught:
        wait_for(fetch, lambda v: v == "finished", timeout=100, poll_interval=1, describe="the sync job",
                 failed=lambda v: "job failed" if v == "failed" else None, clock=clock, sleep=clock.sleep)
    assert "job failed" in str(caught.value)
    assert caught.value.last == "failed"
    assert clock.now == 1


def test_bounded_even_if_the_clock_does_not_move():
    frozen = FakeClock()
    with pytest.raises(WaitTimeoutError):
        wait_for(sequence([0]), lambda v: False, timeout=5, poll_interval=1, clock=frozen, sleep=lambda s: None)


@pytest.mark.timeout(10)
def test_real_clock_short_wait():
    fetch = sequence([1, 2, 3])
    assert wait_for(fetch, lambda v: v == 3, timeout=5, poll_interval=0.01) == 3


def test_an_expected_change_cuts_the_back_off_short_but_never_below_the_poll_interval():
    clock = FakeClock()
    fetch = sequence(["running"] * 6 + ["finished"])
    job_ends_at = 10.0
    wait_for(fetch, lambda v: v == "finished", timeout=1000, poll_interval=1, clock=clock, sleep=clock.sleep,
             expected_in=lambda: job_ends_at - clock.now)
    # back-off alone: 1, 1.5, 2.25, 3.375, 4, 4 (polls at 1, 2.5, 4.75, 8.125, 12.125: 2.1 s late);
    # the expected end at 10 s cuts the fifth wait to 1.875, then the poll interval holds while overdue
    assert clock.sleeps == pytest.approx([1, 1.5, 2.25, 3.375, 1.875, 1])


def test_no_expectation_leaves_the_back_off_alone():
    clock = FakeClock()
    fetch = sequence(["running"] * 5 + ["finished"])
    wait_for(fetch, lambda v: v == "finished", timeout=1000, poll_interval=2, clock=clock, sleep=clock.sleep,
             expected_in=lambda: None)
    assert clock.sleeps == pytest.approx([2, 3, 4.5, 6.75, 8])
