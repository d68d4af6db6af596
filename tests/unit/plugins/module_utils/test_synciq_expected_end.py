"""GroupSync times its polls by the expected end of its jobs, on the in-process mock in real time.

The demo scenario's sync jobs are made to take 4.6 s (``job_overhead_s``, time scale 1). OneFS,
like the mock, counts whole seconds, so the previous sync's report says 4 or 5 s and the next job
is expected to end within 5 or 6 s. With 0.75 s polls (the first poll learns the job's id, which
resets the interval) backing off towards 3 s, the back-off alone would poll at about 4.3 s and then
at 6.8 s, past either expected end; each wait must instead end by the expected end (or one poll
interval after it began).
"""

import time

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import synciq
from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

DEMO_TIME_SCALE = 1
POLL = 0.75


@pytest.fixture
def slow_jobs(demo):
    demo.control.reset()
    simulation = demo.world.config.setdefault("simulation", {})
    saved = dict(simulation)
    simulation["job_overhead_s"] = 4.6
    client = PapiClient(hosts=[demo.url("source")], username="admin", password="admin", name="source")
    yield client
    client.close()
    simulation.clear()
    simulation.update(saved)
    demo.control.reset()


@pytest.mark.timeout(90)
def test_each_wait_ends_by_the_expected_end_of_the_job(slow_jobs):
    client = slow_jobs
    first = synciq.GroupSync(client, [synciq.get_policy(client, "fin-ap")], poll_interval=0.2, timeout=30).run()
    assert first[0]["state"] == "finished"          # its report: what the next sync is expected to take

    waits = []

    def sleep(seconds):
        waits.append((time.monotonic(), seconds))
        time.sleep(seconds)

    group = synciq.GroupSync(client, [synciq.get_policy(client, "fin-ap")], poll_interval=POLL, timeout=30,
                             sleep=sleep)
    results = group.run()
    assert results[0]["state"] == "finished" and not results[0]["failed"]
    [entry] = group.entries
    assert entry.expected_s in (4.0, 5.0)
    expected_end = entry.started_at + entry.expected_s + synciq.REPORT_SECONDS
    before_the_end = [(at, seconds) for at, seconds in waits if at < expected_end]
    assert len(before_the_end) >= 4                 # the back-off reached its cap before the end
    # 0.1 s of slack for the time between computing a wait and sleeping on a loaded machine: still
    # well under the second by which the back-off alone would overshoot
    for at, seconds in before_the_end:
        assert at + seconds <= max(expected_end, at + POLL) + 0.1, (at - entry.started_at, seconds)
