"""journal.py against the in-process mock: lock atomicity, first cache wins, resume, source skipped."""

import threading

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import journal
from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

PAIR = "unit-pair"


DEMO_TIME_SCALE = 50   # the conftest's demo mock runs simulated jobs 50 times faster


@pytest.fixture
def ctl(demo):
    demo.control.up("source")
    demo.control.reset()
    demo.control.clear_requests()
    return demo.control


def client(demo, name, **kwargs):
    kwargs.setdefault("retry_budget", 5)
    return PapiClient(hosts=[demo.url(name)], username="admin", password="admin", name=name,
                      backoff_base=0.05, backoff_cap=0.2, **kwargs)


@pytest.fixture
def clients(demo, ctl):
    made = {name: client(demo, name) for name in ("source", "target")}
    yield made
    for each in made.values():
        each.close()


def book(clients, now=None, **kwargs):
    kwargs.setdefault("now", now or journal.time.time)
    return journal.Journal(clients["target"], clients["source"], PAIR, **kwargs)


def namespace_writes(ctl, cluster):
    return [r for r in ctl.requests(cluster=cluster)
            if r["method"] in ("PUT", "DELETE") and r["path"].startswith("/namespace/ifs/.onefs_dr")]


def test_only_one_of_many_concurrent_lock_takers_wins(demo, ctl):
    outcomes = []
    barrier = threading.Barrier(8)

    def take(index):
        own = {"target": client(demo, "target"), "source": client(demo, "source")}
        barrier.wait(timeout=10)
        try:
            book(own).take_lock("run-%d" % index, "fence", "c%d" % index, None, 3600)
            outcomes.append(("ok", index))
        except journal.LockHeldError as err:
            outcomes.append(("held", str(err)))
        finally:
            for each in own.values():
                each.close()

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [entry for entry in outcomes if entry[0] == "ok"]
    assert len(outcomes) == 8 and len(winners) == 1
    winner = "run-%d" % winners[0][1]
    assert all(winner in text for kind, text in outcomes if kind == "held")
    created = [r for r in namespace_writes(ctl, "target") if r["path"].endswith("/lock")]
    assert len([r for r in created if r["status"] < 300]) == 1


def test_first_cache_wins_across_runs_and_clusters(clients, ctl):
    clock = iter(range(1000, 2000, 10))
    first = book(clients, now=lambda: float(next(clock)))
    cache, added = first.cache_schedules({"p1": {"schedule": "every 1 hours", "job_delay": 0, "enabled": True}}, "r1")
    assert added == ["p1"] and cache["p1"]["run_id"] == "r1"
    cache, added = first.cache_schedules({"p1": {"schedule": "manual", "enabled": True},
                                          "p2": {"schedule": "when-source-modified", "job_delay": 5}}, "r2")
    assert added == ["p2"] and cache["p1"]["schedule"] == "every 1 hours"
    # the source's copy is older for p2: it wins over the target's
    older = {"policies": {"p2": {"schedule": "every 2 days", "cached_at": 1.0, "run_id": "r0"}}}
    assert journal.merge_caches({"policies": cache}, older)["p2"]["schedule"] == "every 2 days"
    assert [w["cluster"] for w in namespace_writes(ctl, "target") + namespace_writes(ctl, "source")]


def test_resume_keeps_steps_and_returns_the_cached_schedules(clients):
    journal_ = book(clients)
    started = journal.start_run(journal_, "failover_planned", {"policies": ["p1"]}, [{"step": "a"}],
                                {"p1": {"schedule": "every 1 hours", "job_delay": 0, "enabled": True}},
                                "c1", "u", 3600)
    journal.flush_run(journal_, started["run_id"], {"steps": [{"name": "one", "started": 1.0, "status": "ok"}]})
    journal.finish_run(journal_, started["run_id"], "failed", {})
    again = journal.start_run(book(clients), "failover_planned", {"policies": ["p1"]}, [{"step": "b"}],
                              {"p1": {"schedule": "manual", "job_delay": 0, "enabled": True}}, "c2", "u", 3600)
    assert again["resumed"] and again["run_id"] == started["run_id"]
    assert again["schedules"]["p1"]["schedule"] == "every 1 hours"
    assert [s["name"] for s in again["record"]["steps"]] == ["one"]
    assert again["record"]["plan"] == [{"step": "a"}] and again["record"]["resume_plans"] == [[{"step": "b"}]]
    done = journal.finish_run(book(clients), started["run_id"], "ok", {}, forget_schedules=True)
    assert done["forgotten"] == ["p1"] and book(clients).cached_schedules() == {}
    fresh = journal.start_run(book(clients), "failover_planned", {"policies": ["p1"]}, [], {}, "c3", "u", 3600)
    assert fresh["resumed"] is False and fresh["run_id"] != started["run_id"]
    assert fresh["record"]["resumes"] == [] and fresh["record"]["status"] == "running"


def test_source_down_is_skipped_only_when_allowed(demo, clients, ctl):
    ctl.down("source")
    try:
        quick = {"target": clients["target"], "source": client(demo, "source", retry_budget=1, api_timeout=1)}
        strict = journal.Journal(quick["target"], quick["source"], PAIR)
        with pytest.raises(journal.UnavailableError):
            strict.take_lock("r1", "failover_unplanned", "c", None, 3600)
        quick["source"] = client(demo, "source", retry_budget=1, api_timeout=1)
        loose = journal.Journal(quick["target"], quick["source"], PAIR, source_required=False)
        outcome = journal.start_run(loose, "failover_unplanned", {"policies": ["p1"]}, [], {}, "c", None, 3600)
        assert "source" in loose.skipped and outcome["record"]["journal_skipped"]["source"]
    finally:
        ctl.up("source")


def test_check_mode_writes_nothing(clients, ctl):
    dry = book(clients, check_mode=True)
    outcome = journal.start_run(dry, "reprotect", {"policies": ["fin-ap"]}, [], {"fin-ap": {"schedule": "manual"}},
                                "c", None, 3600)
    assert outcome["run_id"] and dry.writes
    assert namespace_writes(ctl, "target") == [] and namespace_writes(ctl, "source") == []


def test_scrub_masks_every_secret_looking_key():
    data = {"password": "x", "a": [{"ad_password": "y", "ok": 1}], "api_token": "z", "user": "awx"}
    assert journal.scrub(data) == {"password": "********", "a": [{"ad_password": "********", "ok": 1}],
                                   "api_token": "********", "user": "awx"}


@pytest.mark.parametrize("value", ["", "../x", "a/b", ".hidden", "x" * 200])
def test_bad_names_are_refused(value):
    assert journal.name_error("pair", value)


def test_merge_steps_replaces_same_step_and_appends_new():
    one = {"name": "a", "started": 1.0, "status": "running"}
    merged = journal.merge_steps([one], [dict(one, status="ok"), {"name": "b", "started": 2.0}])
    assert [(s["name"], s.get("status")) for s in merged] == [("a", "ok"), ("b", None)]
