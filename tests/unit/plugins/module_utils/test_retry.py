"""Backoff and is_retryable, on a fake clock (no real sleeping)."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils.retry import (
    DEFAULT_RETRY_BUDGET,
    MIN_DELAY,
    Backoff,
    is_retryable,
    retry_after_seconds,
)


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_default_budget_rides_out_a_management_outage_of_several_minutes():
    assert DEFAULT_RETRY_BUDGET >= 300


def test_without_jitter_delays_grow_exponentially_up_to_the_cap():
    clock = FakeClock()
    backoff = Backoff(1000, base=0.5, factor=2.0, cap=4.0, jitter=False, sleep=clock.sleep, clock=clock)
    delays = [backoff.next_delay() for dummy in range(6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_full_jitter_stays_between_floor_and_ceiling():
    clock = FakeClock()
    backoff = Backoff(10000, base=1.0, factor=2.0, cap=8.0, sleep=clock.sleep, clock=clock)
    for attempt in range(40):
        ceiling = min(8.0, 2.0 ** attempt)
        delay = backoff.next_delay()
        assert MIN_DELAY <= delay <= ceiling


def test_jitter_spreads_delays():
    clock = FakeClock()
    seen = set()
    for dummy in range(20):
        backoff = Backoff(100, base=10.0, cap=10.0, sleep=clock.sleep, clock=clock)
        seen.add(round(backoff.next_delay(), 3))
    assert len(seen) > 5


def test_wait_sleeps_until_the_budget_is_spent_and_never_beyond_it():
    clock = FakeClock()
    backoff = Backoff(10, base=1.0, factor=2.0, cap=3.0, jitter=False, sleep=clock.sleep, clock=clock)
    waits = 0
    while backoff.wait():
        waits += 1
        assert waits < 100
    assert sum(clock.sleeps) == pytest.approx(10.0)
    assert clock.sleeps[-1] <= 3.0
    assert backoff.remaining == 0
    assert backoff.wait() is False


def test_zero_budget_allows_no_retry():
    clock = FakeClock()
    backoff = Backoff(0, sleep=clock.sleep, clock=clock)
    assert backoff.next_delay() is None
    assert list(backoff) == []
    assert clock.sleeps == []


def test_iteration_yields_delays_until_budget_spent():
    clock = FakeClock()
    backoff = Backoff(5, base=1.0, cap=1.0, jitter=False, sleep=clock.sleep, clock=clock)
    total = 0.0
    for delay in backoff:
        clock.sleep(delay)
        total += delay
    assert total == pytest.approx(5.0)


def test_retry_after_is_honoured_but_capped_by_the_budget():
    clock = FakeClock()
    backoff = Backoff(5, base=0.1, cap=0.1, jitter=False, sleep=clock.sleep, clock=clock)
    assert backoff.next_delay(at_least=3) == 3
    assert backoff.next_delay(at_least=30) == 5


@pytest.mark.parametrize("status,code,conflict,expected", [
    (503, "AEC_SERVICE_UNAVAILABLE", False, True),
    (502, None, False, True),
    (504, None, False, True),
    (429, None, False, True),
    (500, "AEC_EXCEPTION", False, False),
    (400, "AEC_BAD_REQUEST", False, False),
    (404, "AEC_NOT_FOUND", True, False),
    (409, "AEC_CONFLICT", False, False),
    (409, "AEC_CONFLICT", True, True),
    (409, "AEC_EXISTS", True, False),
])
def test_is_retryable(status, code, conflict, expected):
    assert is_retryable(status, code, retry_conflict=conflict) is expected


@pytest.mark.parametrize("value,expected", [("3", 3.0), ("0", 0.0), ("-1", None), ("soon", None), (None, None),
                                            ("999", 60.0)])
def test_retry_after_seconds(value, expected):
    assert retry_after_seconds(value) == expected
