"""resync.py against the in-process mock: plans from live state, the job bound, waits."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import resync, synciq
from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

NAMES = ["fin-ap", "eng-src", "eng-docs"]


DEMO_TIME_SCALE = 50   # the conftest's demo mock runs simulated jobs 50 times faster


@pytest.fixture
def ctl(demo):
    demo.control.reset()
    demo.control.clear_requests()
    return demo.control


@pytest.fixture
def clients(demo, ctl):
    made = {name: PapiClient(hosts=[demo.url(name)], username="admin", password="admin", name=name,
                             retry_budget=5, backoff_base=0.05, backoff_cap=0.2)
            for name in ("source", "target")}
    yield made
    for client in made.values():
        client.close()


def fail_over(clients, names):
    for name in names:
        record = synciq.get_target_record(clients["target"], name)
        plan = synciq.plan_target(clients["target"], name, synciq.WRITES_ENABLED)
        synciq.apply_target(clients["target"], plan, synciq.WRITES_ENABLED, timeout=60, poll_interval=0.05)
        assert record is not None


def test_plan_refuses_a_target_that_was_not_failed_over(clients):
    guid = resync.cluster_guid(clients["source"])
    with pytest.raises(resync.RefusedError) as err:
        resync.plan_resync(clients["source"], clients["target"], "fin-ap", guid)
    assert "writes_disabled" in str(err.value) and "local_target" in str(err.value)


@pytest.mark.timeout(120)
def test_max_running_jobs_one_runs_the_jobs_one_after_the_other(clients, ctl):
    fail_over(clients, NAMES)
    ctl.clear_requests()
    guid = resync.cluster_guid(clients["source"])
    plans = [resync.plan_resync(clients["source"], clients["target"], name, guid) for name in NAMES]
    assert [p["actions"] for p in plans] == [["resync_prep"]] * 3
    runner = resync.ResyncRunner(clients["source"], clients["target"], guid, timeout=60, poll_interval=0.05,
                                 max_running_jobs=1)
    results = resync.ResyncGroup(runner, plans, max_workers=3).run()
    assert not [r for r in results if r.get("failed")], results
    assert [r["record_state"] for r in results] == ["resync_policy_created"] * 3
    log = ctl.requests(cluster="source")
    posts = [r for r in log if r["method"] == "POST" and r["path"].endswith("/sync/jobs")]
    assert len(posts) == 3
    # before each next POST, a list of the jobs showed no job of the group running
    for previous, nxt in zip(posts, posts[1:]):
        lists = [r for r in log if r["method"] == "GET" and r["path"].endswith("/sync/jobs")
                 and previous["seq"] < r["seq"] < nxt["seq"]]
        names = (nxt["body"]["id"], previous["body"]["id"])
        assert lists, "%s started without a look at the running jobs after %s" % names


@pytest.mark.timeout(120)
def test_the_group_is_watched_with_list_calls_not_per_policy_reads(clients, ctl):
    fail_over(clients, NAMES)
    guid = resync.cluster_guid(clients["source"])
    plans = [resync.plan_resync(clients["source"], clients["target"], name, guid) for name in NAMES]
    ctl.clear_requests()
    runner = resync.ResyncRunner(clients["source"], clients["target"], guid, timeout=60, poll_interval=0.05)
    results = resync.ResyncGroup(runner, plans, max_workers=3).run()
    assert [r["record_state"] for r in results] == ["resync_policy_created"] * 3
    per_policy = [r for r in ctl.requests() if r["method"] == "GET"
                  and any(r["path"].endswith("/" + name) or r["path"].endswith("/" + name + "_mirror")
                          for name in NAMES)]
    # only the job-id lookups after each start read one policy; the waiting reads lists
    assert len(per_policy) <= len(NAMES), [r["path"] for r in per_policy]


@pytest.mark.timeout(120)
def test_done_policy_plans_nothing(clients):
    fail_over(clients, ["fin-ap"])
    guid = resync.cluster_guid(clients["source"])
    runner = resync.ResyncRunner(clients["source"], clients["target"], guid, timeout=60, poll_interval=0.05)
    first = runner.apply(resync.plan_resync(clients["source"], clients["target"], "fin-ap", guid))
    assert first["record_state"] == "resync_policy_created"
    again = resync.plan_resync(clients["source"], clients["target"], "fin-ap", guid)
    assert again["actions"] == [] and again["mirror"] == "fin-ap_mirror"
