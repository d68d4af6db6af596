"""run_each: input order, one result per item, failures kept, bounded concurrency."""

import threading
import time

import pytest

from ansible_collections.onefs.dr.plugins.module_utils.errors import NotFoundError
from ansible_collections.onefs.dr.plugins.module_utils.parallel import call_together, run_each


def test_results_in_input_order_with_names():
    results = run_each([3, 1, 2], lambda x: x * 10, max_workers=3, name_of=lambda x: "item%d" % x)
    assert [r.name for r in results] == ["item3", "item1", "item2"]
    assert [r.value for r in results] == [30, 10, 20]
    assert all(r.ok and r.error is None for r in results)


def test_one_failure_does_not_lose_the_other_results():
    def work(name):
        if name == "bad":
            raise NotFoundError("no such policy", status=404, cluster="source")
        return {"name": name, "changed": True}

    results = run_each(["a", "bad", "c"], work, max_workers=2)
    assert [r.ok for r in results] == [True, False, True]
    assert results[0].value == {"name": "a", "changed": True}
    assert isinstance(results[1].error, NotFoundError)
    assert "NotFoundError" in results[1].trace
    assert results[2].value["name"] == "c"


@pytest.mark.timeout(20)
def test_concurrency_is_bounded_by_max_workers():
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def work(dummy):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    run_each(range(30), work, max_workers=4)
    assert 1 < peak[0] <= 4


def test_single_item_runs_in_the_calling_thread():
    caller = threading.current_thread()
    results = run_each(["only"], lambda item: threading.current_thread() is caller, max_workers=10)
    assert results[0].value is True


def test_empty_input():
    assert run_each([], lambda x: x) == []


@pytest.mark.timeout(20)
def test_call_together_runs_the_calls_at_once_and_keeps_their_order():
    # Three calls that each wait for all three to have started: they finish only if they overlap.
    barrier = threading.Barrier(3, timeout=5)

    def call(value):
        def read():
            barrier.wait()
            return value
        return read

    assert call_together(call("policies"), call("jobs"), call("records")) == ["policies", "jobs", "records"]


def test_call_together_raises_the_first_failure_after_every_call_ended():
    ended = []

    def slow_ok():
        time.sleep(0.05)
        ended.append("slow")
        return 1

    def not_found():
        raise NotFoundError("no such file", status=404, cluster="target")

    def other_failure():
        raise ValueError("second")

    with pytest.raises(NotFoundError):
        call_together(not_found, slow_ok, other_failure)
    assert ended == ["slow"]
