"""drstate: the replication state of a policy as one word.

Part 1 walks the decision table of ``drstate.classify`` row by row (pure
inputs shaped like PAPI objects).  Part 2 builds the per-cluster views from
what the in-process mock answers and classifies real transitions.
"""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import drstate
from ansible_collections.onefs.dr.plugins.module_utils.drstate import side


def pol(enabled=True, last_success=1700000000, last_job_state="finished", conflicted=False, **extra):
    policy = {"name": "P", "enabled": enabled, "last_success": last_success,
              "last_job_state": last_job_state, "conflicted": conflicted, "schedule": "when-source-modified"}
    policy.update(extra)
    return policy


def rec(state="writes_disabled", last_job_state="finished"):
    return {"name": "P", "failover_failback_state": state, "last_job_state": last_job_state}


def job(action=None, state="running"):
    return {"policy_name": "P", "action": action, "state": state}


PROTECTED_S = side(policy=pol())
PROTECTED_T = side(record=rec())

# (case id, original source view, original target view, unplanned_recorded, state, words in a reason)
TABLE = [
    ("1 nothing visible", None, None, None, "unknown", "neither"),
    ("2 enabled on both sides", side(policy=pol()), side(policy=pol(), record=rec("writes_enabled")), None,
     "split_brain", "enabled on both"),
    ("3 both records writable", side(policy=pol(enabled=False), mirror_record=rec("writes_enabled")),
     side(record=rec("writes_enabled"), mirror_policy=pol()), None, "split_brain", "both writes_enabled"),
    ("4 reprotected", side(record=rec()), side(policy=pol()), None, "reprotected", None),
    ("4 reprotected, first reverse sync pending", side(), side(policy=pol(last_success=None)), None,
     "reprotected", "not synced yet"),
    ("4 reprotected, source not visible", None, side(policy=pol()), None, "reprotected", "not visible"),
    ("4 reprotected, reverse sync running", side(record=rec()), side(policy=pol(), job=job()), None,
     "reprotected", "reverse sync"),
    ("5 reprotect half done", side(policy=pol(enabled=False)), side(policy=pol(), record=rec("writes_enabled")),
     None, "unknown", "reprotect was not finished"),
    ("6 resync_prep running on source", side(policy=pol(), job=job("resync_prep")), side(record=rec("writes_enabled")),
     None, "failback_in_progress", "resync_prep of P"),
    ("6 target record creating_resync_policy", side(policy=pol(enabled=False)),
     side(record=rec("creating_resync_policy")), None, "failback_in_progress", "resync_prep of P"),
    ("7 source writable again", side(policy=pol(enabled=False), mirror_record=rec("writes_enabled")),
     side(record=rec("resync_policy_created"), mirror_policy=pol(name="P_mirror")), None,
     "failback_in_progress", "resync_prep P_mirror next"),
    ("7 allow_write on the mirror running", side(policy=pol(enabled=False), mirror_record=rec("enabling_writes")),
     side(record=rec("resync_policy_created"), mirror_policy=pol()), None, "failback_in_progress", "enabling_writes"),
    ("8 resync_prep of the mirror running", side(policy=pol(enabled=False), mirror_record=rec()),
     side(record=rec("resync_policy_created"), mirror_policy=pol(), mirror_job=job("resync_prep")), None,
     "failback_in_progress", "resync_prep of P_mirror"),
    ("8 mirror record creating_resync_policy", side(policy=pol(enabled=False), mirror_record=rec("creating_resync_policy")),
     side(record=rec("resync_policy_created"), mirror_policy=pol(), mirror_job=job("resync_prep")), None,
     "failback_in_progress", "resync_prep of P_mirror"),
    ("9 mirror handed back, policy still disabled", side(policy=pol(enabled=False), mirror_record=rec("resync_policy_created")),
     side(record=rec("writes_disabled"), mirror_policy=pol(enabled=False)), None, "failback_in_progress",
     "not yet re-enabled"),
    ("9 mirror handed back, target record not disabled", side(policy=pol(), mirror_record=rec("resync_policy_created")),
     side(record=rec("resync_policy_created"), mirror_policy=pol(enabled=False)), None, "failback_in_progress",
     "not yet re-enabled"),
    ("9 mirror handed back and finished: protected, mirror kept", side(policy=pol(), mirror_record=rec("resync_policy_created")),
     side(record=rec(), mirror_policy=pol(enabled=False)), None, "protected", "kept"),
    ("10 resync prepped", side(policy=pol(enabled=False)),
     side(record=rec("resync_policy_created"), mirror_policy=pol(last_success=None)), None, "resync_prepped",
     "not synced yet"),
    ("10 resync prepped, mirror synced", side(policy=pol(enabled=False), mirror_record=rec()),
     side(record=rec("resync_policy_created"), mirror_policy=pol()), None, "resync_prepped", "last synced"),
    ("10 resync prepped, mirror missing", side(policy=pol(enabled=False)), side(record=rec("resync_policy_created")),
     None, "resync_prepped", "missing"),
    ("10 resync prepped, source not visible", None, side(record=rec("resync_policy_created"), mirror_policy=pol()),
     None, "resync_prepped", None),
    ("10a mirror conflicted", side(policy=pol(enabled=False)),
     side(record=rec("resync_policy_created"), mirror_policy=pol(conflicted=True)), None, "conflicted", "P_mirror"),
    ("10b mirror sync running", side(policy=pol(enabled=False)),
     side(record=rec("resync_policy_created"), mirror_policy=pol(), mirror_job=job()), None,
     "failback_in_progress", "mirror sync"),
    ("11 allow_write job running", side(policy=pol(enabled=False)), side(record=rec(), job=job("allow_write")),
     None, "failing_over", "allow_write"),
    ("11 target record enabling_writes", side(policy=pol(enabled=False)), side(record=rec("enabling_writes")),
     None, "failing_over", "allow_write"),
    ("12 allow_write_revert job running", side(policy=pol(enabled=False)),
     side(record=rec("writes_enabled"), job=job("allow_write_revert")), None, "failing_back", "discarded"),
    ("12 target record disabling_writes", side(policy=pol(enabled=False)), side(record=rec("disabling_writes")),
     None, "failing_back", "discarded"),
    ("13a failed over, source disabled", side(policy=pol(enabled=False)), side(record=rec("writes_enabled")),
     None, "failed_over", None),
    ("13a failed over, source not visible", None, side(record=rec("writes_enabled")), None, "failed_over",
     "fence"),
    ("13a failed over, source policy gone", side(), side(record=rec("writes_enabled")), None, "failed_over",
     "no longer exists"),
    ("13b unplanned, recorded", side(policy=pol()), side(record=rec("writes_enabled")), True,
     "failed_over_unplanned", "fence"),
    ("13b unplanned, records unknown", side(policy=pol()), side(record=rec("writes_enabled")), None,
     "failed_over_unplanned", "split brain"),
    ("13b enabled with a manual schedule", side(policy=pol(schedule="")), side(record=rec("writes_enabled")), None,
     "failed_over_unplanned", "failback being prepared"),
    ("13c both writable, nothing recorded", side(policy=pol()), side(record=rec("writes_enabled")), False,
     "split_brain", "no unplanned failover is recorded"),
    ("14 source not visible, target writes_disabled", None, side(record=rec()), None, "protected",
     "target record only"),
    ("14 source not visible, last target job failed", None, side(record=rec(last_job_state="failed")), None,
     "sync_failed", "failed"),
    ("14 source not visible, no target record", None, side(), None, "unknown", "not found"),
    ("15 target record without source policy", side(), side(record=rec()), None, "unknown", "local_only"),
    ("15 policy nowhere", side(), side(), None, "unknown", "not found"),
    ("16 conflicted", side(policy=pol(conflicted=True)), side(record=rec()), None, "conflicted", "resolve"),
    ("17 syncing", side(policy=pol(), job=job()), side(record=rec()), None, "syncing", None),
    ("17 syncing, paused", side(policy=pol(), job=job(state="paused")), side(record=rec()), None, "syncing",
     "paused"),
    ("17 syncing, first run", side(policy=pol(last_success=None), job=job()), side(), None, "syncing", None),
    ("18 disabled", side(policy=pol(enabled=False)), side(record=rec()), None, "disabled", None),
    ("18 disabled beats a finished job", side(policy=pol(enabled=False), job=job(state="finished")),
     side(record=rec()), None, "disabled", None),
    ("19 never synced", side(policy=pol(last_success=None, last_job_state=None)), side(), None, "unsynced",
     "never completed"),
    ("20 association broken", side(policy=pol()), side(), None, "unknown", "association broken"),
    ("21 last source job failed", side(policy=pol(last_job_state="failed")), side(record=rec()), None,
     "sync_failed", "source policy"),
    ("21 last target job failed", side(policy=pol()), side(record=rec(last_job_state="needs_attention")), None,
     "sync_failed", "target record"),
    ("22 protected", PROTECTED_S, PROTECTED_T, None, "protected", None),
    ("22 protected, target not visible", PROTECTED_S, None, None, "protected", "target record state unknown"),
]


@pytest.mark.parametrize("case, source, target, unplanned, state, reason", TABLE, ids=[row[0] for row in TABLE])
def test_classify_table(case, source, target, unplanned, state, reason):
    got, reasons = drstate.classify(source, target, unplanned_recorded=unplanned, name="P")
    assert got == state, (case, reasons)
    assert got in drstate.STATES
    if reason:
        assert any(reason in text for text in reasons), reasons


def test_table_reaches_every_state():
    reached = {row[4] for row in TABLE}
    assert reached == set(drstate.STATES)


def test_protected_has_no_reasons():
    assert drstate.classify(PROTECTED_S, PROTECTED_T) == ("protected", [])


def test_classify_does_not_modify_views():
    source = side(policy=pol(enabled=False))
    target = side(record=rec("writes_enabled"))
    before = (repr(source), repr(target))
    drstate.classify(source, target)
    assert (repr(source), repr(target)) == before


@pytest.mark.parametrize("name, base", [("P", "P"), ("P_mirror", "P"), ("_mirror", "_mirror"),
                                        ("a_mirror_mirror", "a_mirror"), (None, None)])
def test_base_name(name, base):
    assert drstate.base_name(name) == base


@pytest.mark.parametrize("record, state", [(None, None), ({}, None), ({"name": "P"}, "writes_disabled"),
                                           (rec("writes_enabled"), "writes_enabled")])
def test_fofb(record, state):
    assert drstate.fofb(record) == state


@pytest.mark.parametrize("action, expected", [(None, "run"), ("", "run"), ("sync", "run"), ("copy", "run"),
                                              ("run", "run"), ("allow_write", "allow_write"),
                                              ("resync_prep", "resync_prep")])
def test_job_action(action, expected):
    assert drstate.job_action(job(action)) == expected


def test_summary_counts_every_state():
    counts = drstate.summary(["protected", "protected", "split_brain"])
    assert counts["protected"] == 2 and counts["split_brain"] == 1
    assert set(counts) == set(drstate.STATES)
    assert sum(counts.values()) == 3


# --------------------------------------------------------------------------- orientation
S_VIEW = side(name="P", policy=pol())
T_VIEW = side(name="P", record=rec())


@pytest.mark.parametrize("local, peer, original, local_is_source", [
    (S_VIEW, T_VIEW, "auto", True),
    (T_VIEW, S_VIEW, "auto", False),
    (T_VIEW, None, "auto", False),              # only the DR cluster given
    (S_VIEW, None, "auto", True),
    (side(name="P", mirror_policy=pol(), record=rec("resync_policy_created")), side(name="P", policy=pol(enabled=False)),
     "auto", False),
    (side(name="P"), S_VIEW, "auto", False),     # policy only on the peer
    (S_VIEW, T_VIEW, "peer", False),            # the user knows better
    (T_VIEW, S_VIEW, "cluster", True),
])
def test_orient(local, peer, original, local_is_source):
    oriented = drstate.orient(local, peer, original)
    assert oriented[2] is local_is_source
    assert oriented[:2] == ((local, peer) if local_is_source else (peer, local))


def test_orient_reports_a_tie():
    is_source, reasons = drstate.orient(S_VIEW, side(name="P", policy=pol()), "auto")[2:]
    assert is_source is True
    assert reasons and "both clusters own policy P" in reasons[0]


def test_reprotect_reads_as_protected_in_auto_and_reprotected_when_told():
    original_source = side(name="P", record=rec())        # holds the reverse target record now
    original_target = side(name="P", policy=pol())        # owns the reverse policy
    source, target = drstate.orient(original_source, original_target, "auto")[:2]
    assert drstate.classify(source, target)[0] == "protected"
    source, target = drstate.orient(original_source, original_target, "cluster")[:2]
    assert drstate.classify(source, target)[0] == "reprotected"


# =========================================================================== part 2: against the mock
# read_clusters / select_names / describe on the demo scenario (ten synced policies, source -> target).
from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient  # noqa: E402


DEMO_TIME_SCALE = 50   # the conftest's demo mock runs simulated jobs 50 times faster


@pytest.fixture
def ctl(demo):
    demo.control.reset()
    demo.control.clear_requests()
    return demo.control


@pytest.fixture
def clients(demo, ctl):
    made = dict((name, PapiClient(hosts=[demo.url(name)], username="admin", password="admin", name=name,
                                  retry_budget=2, backoff_base=0.05, backoff_cap=0.2))
                for name in ("source", "target"))
    yield made
    for client in made.values():
        client.close()


def api_calls(ctl, cluster):
    return [r for r in ctl.requests(cluster=cluster)
            if r.get("cluster", cluster) == cluster and not r["path"].startswith(("/session", "/_mock"))]


def read(clients, gather=drstate.DEFAULT_GATHER, zone=None, peer=True):
    return drstate.read_clusters({drstate.LOCAL: clients["source"], drstate.PEER: clients["target"] if peer else None},
                                 list(gather), zone=zone)


@pytest.mark.timeout(60)
def test_read_clusters_reads_each_area_once_per_cluster(ctl, clients):
    clusters = read(clients)
    assert clusters[drstate.LOCAL]["identity"]["name"] == "prod-ps"
    assert clusters[drstate.PEER]["identity"]["name"] == "dr-ps"
    for cluster in ("source", "target"):
        calls = api_calls(ctl, cluster)
        assert all(r["method"] == "GET" for r in calls), calls
        # identity + one GET per area (policies, records, jobs, reports, pools, ads, quotas)
        assert len(calls) == 1 + len(drstate.reads_for(drstate.DEFAULT_GATHER)), [r["path"] for r in calls]


@pytest.mark.timeout(60)
def test_describe_the_demo(ctl, clients):
    clusters = read(clients)
    names = drstate.select_names(clusters)
    assert len(names) == 10
    result = drstate.describe(clusters, names, list(drstate.DEFAULT_GATHER))
    assert result["summary"]["protected"] == 10, [(p["name"], p["state"], p["reasons"]) for p in result["policies"]]
    home = [p for p in result["policies"] if p["name"] == "home"][0]
    assert home["source"]["schedule"] == "when-source-modified" and home["target"]["record_state"] == "writes_disabled"


@pytest.mark.timeout(60)
def test_zone_scope_uses_each_clusters_base_path(ctl, clients):
    clusters = read(clients, gather=["policies"], zone="eng")
    assert drstate.select_names(clusters, zone="eng") == ["eng-builds", "eng-docs", "eng-src", "eng-tools"]
    assert drstate.select_names(clusters, pattern="fin-a*") == ["fin-ap", "fin-ar", "fin-archive"]
    assert drstate.select_names(clusters, names=["home", "fin-ap_mirror"]) == ["home", "fin-ap"]


@pytest.mark.timeout(60)
def test_failed_over_policy_from_the_mock(demo, ctl, clients):
    source, target = clients["source"], clients["target"]
    policy = source.get_item("/platform/14/sync/policies/fin-ap", "policies")
    source.put("/platform/14/sync/policies/fin-ap", {"enabled": False, "schedule": policy["schedule"]})
    target.post("/platform/15/sync/jobs", {"id": "fin-ap", "action": "allow_write"})
    ctl.wait_idle(timeout=30)
    ctl.clear_requests()
    clusters = read(clients, gather=["policies"])
    entry = drstate.describe(clusters, ["fin-ap"], ["policies"])["policies"][0]
    assert entry["state"] == "failed_over", entry
    assert entry["target"]["record_state"] == "writes_enabled"
    # dr_info's reads never write
    assert [r for r in api_calls(ctl, "source") + api_calls(ctl, "target") if r["method"] != "GET"] == []


@pytest.mark.timeout(60)
def test_unreachable_peer_is_not_visible(demo, ctl, clients):
    demo.control.down("target")
    try:
        clusters = read(clients, gather=["policies"])
    finally:
        demo.control.up("target")
    assert clusters[drstate.PEER]["visible"] is False and clusters[drstate.PEER]["error"]
    entry = drstate.describe(clusters, ["fin-ap"], ["policies"])["policies"][0]
    assert entry["state"] == "protected"
    assert any("not reachable" in reason for reason in entry["reasons"]), entry["reasons"]


@pytest.mark.timeout(60)
def test_a_failed_read_is_recorded_and_the_others_kept(demo, ctl, clients):
    demo.control.fail_next("target", path="/sync/reports", method="GET", status=500, code="AEC_EXCEPTION",
                           message="injected")
    demo.control.fail_next("source", path="/sync/target/policies", method="GET", status=500, code="AEC_EXCEPTION",
                           message="injected")
    try:
        clusters = read(clients)
    finally:
        demo.control.clear_faults("source")
        demo.control.clear_faults("target")
    errors = drstate.read_errors(clusters)
    assert [e.split(":")[0] for e in errors] == ["local records", "peer reports"], errors
    assert all("injected" in e for e in errors)
    assert clusters[drstate.PEER]["policies"] is not None and clusters[drstate.LOCAL]["pools"]
    result = drstate.describe(clusters, ["fin-ap"], list(drstate.DEFAULT_GATHER))
    entry = result["policies"][0]
    # the source's records failed: its side is not judged; the target's record still is
    assert entry["state"] == "protected" and entry["source"]["visible"] is False, entry
    assert any("could not read its records" in reason for reason in entry["reasons"]), entry["reasons"]
    assert result["pools"]["local"] and result["quotas"]["local"]
