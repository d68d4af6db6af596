"""failover role against the mock (demo scenario): planned, unplanned (+ fence), rehearsal.

End states are read from the mock's state dumps; order and "destructive call made once" from
the mock's request log. Readiness is covered by its own tests; here it runs only where noted.
"""

import json
from pathlib import Path

import pytest

from dr_roles_helpers import (
    PAIR, inventory_vars, job_posts, policy, read_file, record, role_playbook, run_through_interruptions,
    write_file,
)

SCOPE = ["fin-ap", "fin-ar"]
POOL = "groupnet0.subnet0.finance"
FIN_NAMES = ["finance.prod.example.com", "fin.prod.example.com"]
FIN_SPNS = ["HOST/finance", "HOST/finance.prod.example.com", "HOST/fin", "HOST/fin.prod.example.com"]
ROOT = Path(__file__).resolve().parents[2]
AD = {"ad_user": "svc-spn", "ad_password": "Spn-Secret-42"}


def dr_vars(onefs, policies=tuple(SCOPE), **extra):
    data = inventory_vars(onefs, policies, onefs_dr_pools=[{"source": POOL, "target": POOL}],
                          onefs_dr_spn_provider="AD.EXAMPLE.COM", onefs_dr_ad=AD)
    data.update(extra)
    return data


def run_failover(onefs, failover_type="planned", check=False, policies=tuple(SCOPE), args=(), **role_vars):
    settings = dict(failover_type=failover_type, failover_poll_interval=0.2, failover_timeout=120,
                    failover_readiness=False)
    settings.update(role_vars)
    return onefs.playbook(role_playbook("failover", **settings), dr_vars(onefs, policies), check=check, args=args)


def pool(state, pool_id=POOL):
    return next(p for p in state["pools"] if p["id"] == pool_id)


def spns(state):
    return [s.lower() for s in state["ads"][0]["spns"]]


def quota_paths(state):
    return sorted(q["path"] for q in state["quotas"])


def assert_failed_over(onefs):
    source, target = onefs.state("source"), onefs.state("target")
    for name in SCOPE:
        assert not policy(source, name)["enabled"]
        assert policy(source, name)["schedule"] == ""                      # manual
        assert record(target, name)["failover_failback_state"] == "writes_enabled"
    # names: parked on the source, claimed on the target
    assert pool(source)["sc_dns_zone"] == "parked-finance.prod.example.com"
    assert pool(source)["sc_dns_zone_aliases"] == ["parked-fin.prod.example.com"]
    assert pool(target)["sc_dns_zone"] == "finance.prod.example.com"
    assert pool(target)["sc_dns_zone_aliases"] == ["fin.prod.example.com"]
    # SPNs: off the source's machine account, on the target's
    for spn in FIN_SPNS:
        assert spn.lower() not in spns(source)
        assert spn.lower() in spns(target)
    # quotas of the two paths moved; the others stay on the source
    for path in ("/ifs/data/finance/ap", "/ifs/data/finance/ar"):
        assert path in quota_paths(target)
        assert path not in quota_paths(source)
    assert "/ifs/data/eng/src" in quota_paths(source)
    return source, target


def first_index(entries, predicate):
    return next(i for i, e in enumerate(entries) if predicate(e))


@pytest.mark.timeout(300)
def test_planned_failover_moves_everything_in_the_documented_order(onefs):
    write_file(onefs, "source", "/ifs/data/finance/ap/last-minute.txt", "written just before failover\n")
    rc, out, err = run_failover(onefs)
    assert rc == 0, out + err
    assert_failed_over(onefs)
    # the final sync carried the last write over
    assert read_file(onefs, "target", "/ifs/data/finance/ap/last-minute.txt") == "written just before failover\n"
    # the documented order, from the request log of both clusters (global sequence numbers)
    log = onefs.requests("source")          # the mock keeps one log for both clusters, in arrival order
    writes = [e for e in log if e["method"] in ("POST", "PUT", "DELETE") and e["path"].startswith("/platform")]

    def at(cluster, method, fragment, action=None):
        return first_index(writes, lambda e: e["cluster"] == cluster and e["method"] == method
                           and fragment in e["path"]
                           and (action is None or (e.get("body") or {}).get("action", "sync") == action))

    order = [
        at("source", "PUT", "/sync/policies/"),                              # schedule -> manual
        at("source", "POST", "/sync/jobs", "sync"),                          # final sync
        at("source", "PUT", "/network/groupnets/groupnet0/subnets/subnet0/pools/finance"),   # park
        at("source", "PUT", "/auth/providers/ads/"),                         # SPNs removed on the source
        at("target", "PUT", "/network/groupnets/groupnet0/subnets/subnet0/pools/finance"),   # claim
        at("target", "PUT", "/auth/providers/ads/"),                         # SPNs added on the target
        at("target", "POST", "/sync/jobs", "allow_write"),                   # writable
        at("target", "POST", "/quota/quotas"),                               # quotas created on the target
        at("source", "DELETE", "/quota/quotas/"),                            # ... then removed from the source
    ]
    assert order == sorted(order), [writes[i]["path"] for i in order]
    disable = first_index(writes, lambda e: e["cluster"] == "source" and "/sync/policies/" in e["path"]
                          and (e.get("body") or {}).get("enabled") is False)
    assert order[1] < disable < order[2]
    # every destructive or one-shot call once per object
    assert len(job_posts(onefs, "allow_write", "target")) == 2
    assert len([w for w in writes if w["method"] == "DELETE"]) == 2


@pytest.mark.timeout(300)
def test_second_run_writes_nothing_and_check_mode_writes_nothing(onefs):
    rc, out, err = run_failover(onefs, check=True)
    assert rc == 0, out + err
    assert "12. allow writes on target (target): fin-ap: allow_write" in out
    assert onefs.writes() == []
    rc, out, err = run_failover(onefs)
    assert rc == 0, out + err
    onefs.clear_log()
    rc, out, err = run_failover(onefs)
    assert rc == 0, out + err
    assert "every step is already done" in out
    assert onefs.writes() == []


@pytest.mark.timeout(300)
def test_the_run_record_is_written_with_timed_steps_and_points_in_time(onefs):
    record_dir = onefs.tmp_path / "records"
    rc, out, err = run_failover(onefs, failover_record_dir=str(record_dir))
    assert rc == 0, out + err
    files = list(record_dir.glob("*failover_planned*.json"))
    assert len(files) == 1
    run = json.loads(files[0].read_text())
    assert run["status"] == "ok" and run["operation"] == "failover_planned" and run["pair"] == PAIR
    assert run["schedules"]["fin-ap"]["schedule"] == "when-source-modified"     # cached before manual
    names = [s["name"] for s in run["steps"]]
    assert names.index("Steps 5 and 6 - Schedules to manual, final sync, policies disabled") < names.index("Step 12 - Allow writes on the target")
    for step in run["steps"]:
        if step["status"] != "skipped":
            assert step["started"] <= step["ended"], step
    assert set(run["points_in_time"]) == set(SCOPE)
    assert all(p["state"] == "finished" and p["end_time"] for p in run["points_in_time"].values())
    assert run["plan"], "the plan is stored with the record"


def run_playbook(onefs, extra, args=()):
    """The shipped playbooks/failover.yml, as users run it (confirmation guard, fence tag)."""
    text = (ROOT / "playbooks" / "failover.yml").read_text()
    return onefs.playbook(text, extra, args=args)


@pytest.mark.timeout(300)
def test_unplanned_never_contacts_the_source_and_the_fence_tag_fences_it_later(onefs):
    records = onefs.tmp_path / "records"
    extra = dr_vars(onefs, onefs_dr_pools=[{"source": POOL, "target": POOL, "names": FIN_NAMES}],
                    failover_type="unplanned", failover_confirm=True, failover_poll_interval=0.2,
                    onefs_dr_record_dir=str(records))
    # The source is up here, so that the log can prove it is never contacted (not even a login).
    rc, out, err = run_playbook(onefs, extra)
    assert rc == 0, out + err
    assert [e for e in onefs.requests() if e["cluster"] == "source"] == []
    run = json.loads(next(records.glob("*failover_unplanned*.json")).read_text())
    assert sorted(run["unfenced_policies"]) == sorted(SCOPE)
    # both clusters answer for the names now: the returned source must give them up when fenced
    assert onefs.mock.control.dns(FIN_NAMES[0])["claims"] == ["source", "target"]
    source, target = onefs.state("source"), onefs.state("target")
    for name in SCOPE:
        assert record(target, name)["failover_failback_state"] == "writes_enabled"
        assert policy(source, name)["enabled"]                  # not fenced: the source was down
    assert pool(target)["sc_dns_zone"] == "finance.prod.example.com"
    for spn in FIN_SPNS:
        assert spn.lower() in spns(target)
    assert "--tags fence" in out
    # the source is back: fence it, on its own tag (no confirmation needed: fencing only disables)
    onefs.clear_log()
    rc, out, err = run_playbook(onefs, dr_vars(onefs), args=("--tags", "fence"))
    assert rc == 0, out + err
    source = onefs.state("source")
    assert all(not policy(source, name)["enabled"] for name in SCOPE)
    assert [w for w in onefs.writes("target") if w["path"].startswith("/platform")] == []
    for name in FIN_NAMES:
        assert onefs.mock.control.dns(name)["claims"] == ["target"]
    for spn in FIN_SPNS:
        assert spn.lower() not in spns(source)
    held = onefs.mock.control.spn()["registry"]
    assert all(len(accounts) == 1 for accounts in held.values()), held
    # fencing again writes nothing
    onefs.clear_log()
    rc, out, err = run_playbook(onefs, dr_vars(onefs), args=("--tags", "fence"))
    assert rc == 0, out + err
    assert onefs.writes() == []


@pytest.mark.timeout(120)
def test_the_playbook_asks_for_confirmation_and_bad_options_are_named(onefs):
    rc, out, err = run_playbook(onefs, dr_vars(onefs))
    assert rc != 0 and "failover_confirm=yes" in out
    rc, out, err = run_failover(onefs, "sideways")
    assert rc != 0 and "failover_type" in out + err
    rc, out, err = run_failover(onefs, failover_pools=[{"source": POOL}])
    assert rc != 0 and "failover_pools" in out + err
    assert onefs.writes() == []


# --- rehearsal ------------------------------------------------------------------------------
def comparable(state):
    """What a rehearsal must leave exactly as it found it (jobs, reports and the journal aside)."""
    return {
        "policies": sorted((p["name"], p["enabled"], p["schedule"], p.get("job_delay"), p["target_path"])
                           for p in state["policies"]),
        "records": sorted((r["name"], r["failover_failback_state"]) for r in state["target_policies"]),
        "pools": sorted((p["id"], p["sc_dns_zone"], tuple(p["sc_dns_zone_aliases"])) for p in state["pools"]),
        "spns": sorted(spns(state)),
        "quotas": sorted((q["path"], q["type"], json.dumps(q["thresholds"], sort_keys=True)) for q in state["quotas"]),
        "shares": sorted((s["name"], s["path"], json.dumps(s.get("permissions"), sort_keys=True))
                         for s in state["smb_shares"]),
    }


@pytest.mark.timeout(300)
def test_a_rehearsal_and_its_end_leave_both_clusters_as_they_were(onefs):
    before = {name: comparable(onefs.state(name)) for name in ("source", "target")}
    rc, out, err = run_failover(onefs, "test", failover_record_dir=str(onefs.tmp_path / "records"))
    assert rc == 0, out + err
    target = onefs.state("target")
    assert all(record(target, n)["failover_failback_state"] == "writes_enabled" for n in SCOPE)
    assert comparable(onefs.state("source"))["pools"] == before["source"]["pools"]     # names never move
    run = json.loads(next((onefs.tmp_path / "records").glob("*failover_test*.json")).read_text())
    assert run["test"] is True and run["operation"] == "failover_test"
    # the test writes on the target, the business keeps writing on the source
    write_file(onefs, "target", "/ifs/data/finance/ap/rehearsal-probe.txt", "test write\n")
    write_file(onefs, "source", "/ifs/data/finance/ap/during-rehearsal.txt", "business as usual\n")
    rc, out, err = onefs.playbook(role_playbook("failback", failback_discard="target", failback_poll_interval=0.2,
                                                failback_timeout=120), dr_vars(onefs))
    assert rc == 0, out + err
    after = {name: comparable(onefs.state(name)) for name in ("source", "target")}
    assert after == before
    assert read_file(onefs, "target", "/ifs/data/finance/ap/rehearsal-probe.txt") is None
    assert read_file(onefs, "source", "/ifs/data/finance/ap/during-rehearsal.txt") == "business as usual\n"


# --- interrupted runs -----------------------------------------------------------------------
POLICY = "/sync/policies/[^/]+$"
JOBS = "/sync/jobs$"
FIN_POOL = "/pools/finance$"
ADS = "/auth/providers/ads/"
INTERRUPTIONS = [
    ("schedule to manual refused", "source", {"method": "PUT", "path": POLICY, "body": {"schedule": ""}}),
    ("final sync of fin-ar refused", "source", {"method": "POST", "path": JOBS, "body": {"id": "fin-ar"}}),
    ("disable applied, answer lost", "source",
     {"method": "PUT", "path": POLICY, "body": {"enabled": False}, "after": True}),
    ("park refused", "source", {"method": "PUT", "path": FIN_POOL}),
    ("SPN removal applied, answer lost", "source", {"method": "PUT", "path": ADS, "after": True}),
    ("claim refused", "target", {"method": "PUT", "path": FIN_POOL}),
    ("SPN add applied, answer lost", "target", {"method": "PUT", "path": ADS, "after": True}),
    ("allow_write applied, answer lost", "target",
     {"method": "POST", "path": JOBS, "body": {"action": "allow_write"}, "after": True}),
    ("quota create applied, answer lost", "target", {"method": "POST", "path": "/quota/quotas$", "after": True}),
    ("quota removal refused", "source", {"method": "DELETE", "path": "/quota/quotas/"}),
]


@pytest.mark.timeout(600)
def test_interrupted_failover_resumes_to_the_same_end_state(onefs):
    """The failover crashes at each step of INTERRUPTIONS in turn (403: not retried, the run stops
    there), each re-run resumes where the last one stopped, and the last one finishes."""
    run_through_interruptions(onefs, INTERRUPTIONS, lambda: run_failover(onefs))
    assert_failed_over(onefs)
    # every one-shot call took effect exactly once per object over all the runs
    assert len(job_posts(onefs, "sync", "source")) == 2
    assert len(job_posts(onefs, "allow_write", "target")) == 2
    quota_deletes = [w for w in onefs.writes("source") if w["method"] == "DELETE" and "/quota/quotas/" in w["path"]
                     and w["applied"]]
    assert len(quota_deletes) == 2
    onefs.clear_log()
    rc, out, err = run_failover(onefs)
    assert rc == 0, out + err
    assert onefs.writes() == []


@pytest.mark.timeout(300)
def test_readiness_gates_a_fresh_failover_but_not_its_resumption(onefs):
    zone = dr_vars(onefs, policies=(), onefs_dr_zone="finance")
    settings = dict(failover_poll_interval=0.2, failover_timeout=120, failover_config_sync=True)

    def run(**extra):
        return onefs.playbook(role_playbook("failover", **dict(settings, **extra)), zone)

    # share "ar" of zone finance exists on the source only: with config sync that is a readiness
    # warning, and with block_on_warning the failover stops before its first write
    rc, out, err = run(failover_block_on_warning=True)
    assert rc != 0 and "will be created by config sync" in out
    assert onefs.writes() == []
    # without it the failover runs (and copies the share); a re-run after it (readiness would now
    # find disabled policies and writable targets) is not blocked and writes nothing
    rc, out, err = run()
    assert rc == 0, out + err
    assert_failed_over(onefs)
    assert "ar" in [share["name"] for share in onefs.state("target")["smb_shares"]]
    onefs.clear_log()
    rc, out, err = run()
    assert rc == 0, out + err
    assert onefs.writes() == []


@pytest.mark.timeout(300)
def test_a_run_that_could_not_be_finished_is_finished_by_the_re_run(onefs):
    """Every step done, but the run record could not be written (the start wrote it once; the
    finish and the rescue's finish are refused): the pair stays locked and the run open. The
    re-run has nothing left to do, yet resumes the run to finish it and release the lock."""
    refused = {"method": "PUT", "path": "onefs_dr/prod-dr/runs/", "skip": 1, "count": 10, "status": 403}
    onefs.faults({"fail_next": [refused]}, cluster="target")
    rc, out, err = run_failover(onefs)
    assert rc != 0 and "failover_lock_takeover=true" in out
    assert_failed_over(onefs)
    onefs._control("DELETE", "/_mock/faults", "target")
    lock = read_file(onefs, "target", "/ifs/.onefs_dr/%s/lock" % PAIR)
    assert lock is not None
    rc, out, err = run_failover(onefs, failover_lock_takeover=True, failover_record_dir=str(onefs.tmp_path / "rec"))
    assert rc == 0, out + err
    assert read_file(onefs, "target", "/ifs/.onefs_dr/%s/lock" % PAIR) is None
    run = json.loads(next((onefs.tmp_path / "rec").glob("*failover_planned*.json")).read_text())
    assert run["status"] == "ok" and run["run_id"] == json.loads(lock)["run_id"]
    assert len(job_posts(onefs, "allow_write", "target")) == 2          # nothing done twice
    onefs.clear_log()
    rc, out, err = run_failover(onefs)
    assert rc == 0 and onefs.writes() == []
