"""failback role against the mock (demo scenario), after a failover done with the modules.

End states are read from the mock's state dump and files; "destructive call repeated" is
counted in the mock's request log (allow_write_revert, resync_prep, allow_write, policy DELETE).
"""

import pytest

from dr_roles_helpers import (
    api_writes, failover, inventory_vars, job_posts, policy, policy_deletes, read_file, record, role_playbook,
    run_through_interruptions, write_file,
)

SCOPE = ["fin-ap", "eng-src"]
NEW_FILE = "/ifs/data/finance/ap/after-failover.txt"


def run_failback(onefs, discard, policies=tuple(SCOPE), check=False, **extra):
    role_vars = dict(failback_discard=discard, failback_poll_interval=0.2, failback_timeout=120)
    role_vars.update(extra)
    return onefs.playbook(role_playbook("failback", **role_vars), inventory_vars(onefs, policies), check=check)


def assert_original_direction(onefs):
    source, target = onefs.state("source"), onefs.state("target")
    fin_ap, eng_src = policy(source, "fin-ap"), policy(source, "eng-src")
    assert fin_ap["enabled"] and eng_src["enabled"]
    assert (fin_ap["schedule"], fin_ap["job_delay"]) == ("when-source-modified", 300)
    assert (eng_src["schedule"], eng_src["job_delay"]) == ("when-source-modified", 60)
    for name in SCOPE:
        assert record(target, name)["failover_failback_state"] == "writes_disabled"
        assert policy(target, name + "_mirror") is None
        assert record(source, name + "_mirror") is None
    return source, target


@pytest.mark.timeout(300)
def test_discard_target_throws_away_target_writes_and_restores_the_source(onefs):
    failover(onefs, SCOPE)
    write_file(onefs, "target", NEW_FILE, "written on DR\n")
    rc, out, err = run_failback(onefs, "target")
    assert rc == 0, out + err
    assert_original_direction(onefs)
    assert read_file(onefs, "target", NEW_FILE) is None          # discarded
    assert read_file(onefs, "source", NEW_FILE) is None
    assert len(job_posts(onefs, "allow_write_revert", "target")) == 2   # one per policy
    # the steps ran in the documented order
    assert "Step 1 - Set the source policy schedule to manual" in out
    assert out.index("Step 2 - Disallow writes") < out.index("Step 3 - Restore") < out.index("Step 4 - Enable")


@pytest.mark.timeout(300)
def test_discard_source_copies_target_writes_back_and_deletes_the_mirror(onefs):
    failover(onefs, SCOPE)
    write_file(onefs, "target", NEW_FILE, "written on DR\n")
    onefs.clear_log()
    rc, out, err = run_failback(onefs, "source", failback_record_dir=str(onefs.tmp_path / "records"))
    assert rc == 0, out + err
    assert_original_direction(onefs)
    reports = list((onefs.tmp_path / "records").glob("*-failback_discard_source-*.html"))
    assert len(reports) == 1 and "Step 3 - Resync-prep the source policy" in reports[0].read_text()
    assert read_file(onefs, "source", NEW_FILE) == "written on DR\n"   # kept
    assert read_file(onefs, "target", NEW_FILE) == "written on DR\n"
    assert len(job_posts(onefs, "resync_prep", "source")) == 2
    assert len(job_posts(onefs, "resync_prep", "target")) == 2        # on the mirrors
    assert len(policy_deletes(onefs, cluster="target")) == 2           # the mirrors
    assert job_posts(onefs, "allow_write_revert") == []
    # steps 1 and 2: one PUT per source policy sets the schedule to manual and enables it together,
    # so the policy is never enabled with its original schedule
    names = {p["id"]: p["name"] for p in onefs.state("source")["policies"]}
    writes = api_writes(onefs, "source")
    step3 = writes.index(job_posts(onefs, "resync_prep", "source")[0])
    step12 = [w for w in writes[:step3] if w["method"] == "PUT" and "/sync/policies/" in w["path"]]
    assert sorted(names[w["path"].rsplit("/", 1)[1]] for w in step12) == sorted(SCOPE)
    assert all(w["body"].get("enabled") is True and w["body"].get("schedule") == "" for w in step12)


@pytest.mark.timeout(300)
def test_keep_mirror_leaves_the_mirror_disabled_on_the_target(onefs):
    failover(onefs, ["fin-ap"])
    rc, out, err = run_failback(onefs, "source", policies=["fin-ap"], failback_keep_mirror=True)
    assert rc == 0, out + err
    mirror = policy(onefs.state("target"), "fin-ap_mirror")
    assert mirror is not None and not mirror["enabled"]
    assert policy(onefs.state("source"), "fin-ap")["enabled"]
    onefs.clear_log()
    rc, out, err = run_failback(onefs, "source", policies=["fin-ap"], failback_keep_mirror=True)
    assert rc == 0, out + err
    assert onefs.writes() == []


@pytest.mark.timeout(300)
def test_unplanned_failover_is_fenced_first(onefs):
    failover(onefs, SCOPE, planned=False)
    assert policy(onefs.state("source"), "fin-ap")["enabled"]          # left enabled by the unplanned failover
    onefs.clear_log()
    rc, out, err = run_failback(onefs, "target")
    assert rc == 0, out + err
    assert_original_direction(onefs)
    puts = [w for w in onefs.writes("source") if w["method"] == "PUT" and "/sync/policies/" in w["path"]]
    assert puts[0]["body"]["enabled"] is False                     # the fence is the first write
    assert "Step 0 - Fence" in out


@pytest.mark.timeout(120)
def test_check_mode_prints_the_plan_and_writes_nothing(onefs):
    failover(onefs, SCOPE)
    onefs.clear_log()
    rc, out, err = run_failback(onefs, "target", check=True)
    assert rc == 0, out + err
    assert "fin-ap: failed_over: 1" in out
    assert onefs.writes() == []


@pytest.mark.timeout(120)
def test_discard_is_required(onefs):
    rc, out, err = onefs.playbook(role_playbook("failback", failback_poll_interval=0.2), inventory_vars(onefs, SCOPE))
    assert rc != 0
    assert "failback_discard" in out + err
    assert onefs.writes() == []


# --- interrupted runs ---------------------------------------------------------------------
# Each fault stops the run at one step; "after": the write took effect but its answer was lost.
JOBS = "/sync/jobs$"
POLICY = "/sync/policies/[^/]+$"
INTERRUPTIONS = {
    "target": [
        ("revert applied, answer lost", "target",
         {"method": "POST", "path": JOBS, "body": {"action": "allow_write_revert"}, "after": True}),
        ("revert refused", "target", {"method": "POST", "path": JOBS, "body": {"action": "allow_write_revert"}}),
        ("schedule restore applied, answer lost", "source",
         {"method": "PUT", "path": POLICY, "body": {"schedule": "when-source-modified"}, "after": True}),
        ("enable refused", "source", {"method": "PUT", "path": POLICY, "body": {"enabled": True}}),
    ],
    "source": [
        ("enable refused", "source", {"method": "PUT", "path": POLICY, "body": {"enabled": True}}),
        ("resync_prep applied, answer lost", "source",
         {"method": "POST", "path": JOBS, "body": {"action": "resync_prep"}, "after": True}),
        ("mirror run refused", "target", {"method": "POST", "path": JOBS, "body": {"id": "fin-ap_mirror"}}),
        ("allow_write on the source applied, answer lost", "source",
         {"method": "POST", "path": JOBS, "body": {"action": "allow_write"}, "after": True}),
        ("mirror resync_prep refused", "target", {"method": "POST", "path": JOBS, "body": {"action": "resync_prep"}}),
        ("mirror delete applied, answer lost", "target", {"method": "DELETE", "path": POLICY, "after": True}),
        ("schedule restore refused", "source",
         {"method": "PUT", "path": POLICY, "body": {"schedule": "when-source-modified"}}),
    ],
}
for _cases in INTERRUPTIONS.values():
    for _case in _cases:
        _case[2]["status"] = 403        # not retried by the client: the run stops at that step
# Chains of crashes (dr_roles_helpers.run_through_interruptions): one run per step, the steps of a
# chain in the order the role reaches them; a step's two variants (applied and answer lost,
# refused) match the same request, so they go in different chains.
CHAINS = [
    ("target", [INTERRUPTIONS["target"][i] for i in (1, 2, 3)]),
    ("target", [INTERRUPTIONS["target"][0]]),
    ("source", INTERRUPTIONS["source"]),
]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("discard,steps", CHAINS, ids=["%s: %s" % (c[0], ", ".join(s[0] for s in c[1])) for c in CHAINS])
def test_interrupted_run_resumes_to_the_same_end_state(onefs, discard, steps):
    failover(onefs, SCOPE)
    write_file(onefs, "target", NEW_FILE, "written on DR\n")
    onefs.clear_log()
    run_through_interruptions(onefs, steps, lambda: run_failback(onefs, discard))
    assert_original_direction(onefs)
    expected = None if discard == "target" else "written on DR\n"
    assert read_file(onefs, "source", NEW_FILE) == expected
    # every destructive call that took effect happened exactly once per policy over all the runs
    if discard == "target":
        assert len(job_posts(onefs, "allow_write_revert", "target")) == 2
    else:
        assert len(job_posts(onefs, "resync_prep", "source")) == 2
        assert len(job_posts(onefs, "resync_prep", "target")) == 2
        assert len(job_posts(onefs, "allow_write", "source")) == 2
        assert len(policy_deletes(onefs, cluster="target")) == 2          # one per mirror (paths carry ids)
    # the idempotence test of the failback, for both discard modes: a completed failback run again
    # writes nothing, journal included
    onefs.clear_log()
    rc, out, err = run_failback(onefs, discard)
    assert rc == 0, out + err
    assert onefs.writes() == []


@pytest.mark.timeout(300)
@pytest.mark.parametrize("discard", ["target", "source"])
def test_names_spns_and_quotas_come_back_with_the_failback(onefs, discard):
    from test_failover_role import AD, FIN_SPNS, POOL, assert_failed_over, run_failover, pool, quota_paths, spns
    before = onefs.state("source")
    rc, out, err = run_failover(onefs)          # moves fin-ap and fin-ar with the names, SPNs and quotas
    assert rc == 0, out + err
    assert_failed_over(onefs)
    network = dict(onefs_dr_pools=[{"source": POOL, "target": POOL}], onefs_dr_spn_provider="AD.EXAMPLE.COM",
                   onefs_dr_ad=AD)
    rc, out, err = onefs.playbook(role_playbook("failback", failback_discard=discard, failback_poll_interval=0.2,
                                                failback_timeout=120), inventory_vars(onefs, ["fin-ap", "fin-ar"],
                                                                                      **network))
    assert rc == 0, out + err
    source, target = onefs.state("source"), onefs.state("target")
    assert (pool(source)["sc_dns_zone"], pool(source)["sc_dns_zone_aliases"]) == \
        (pool(before)["sc_dns_zone"], pool(before)["sc_dns_zone_aliases"])
    assert pool(target)["sc_dns_zone"] == "parked-finance.prod.example.com"
    for spn in FIN_SPNS:
        assert spn.lower() in spns(source) and spn.lower() not in spns(target)
    assert quota_paths(source) == quota_paths(before)
    assert not set(quota_paths(target)) & {"/ifs/data/finance/ap", "/ifs/data/finance/ar"}
    assert onefs.mock.control.spn()["collisions"] == []
    # a second failback writes nothing
    onefs.clear_log()
    rc, out, err = onefs.playbook(role_playbook("failback", failback_discard=discard, failback_poll_interval=0.2,
                                                failback_timeout=120), inventory_vars(onefs, ["fin-ap", "fin-ar"],
                                                                                      **network))
    assert rc == 0, out + err
    assert onefs.writes() == []
