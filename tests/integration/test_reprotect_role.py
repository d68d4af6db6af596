"""reprotect role against the mock (demo scenario): the original target becomes the new source.

End states from the mock's state dumps; "the delete happens once" from the request log.
"""

import pytest

from dr_roles_helpers import (
    failover, inventory_vars, policy, policy_deletes, read_file, record, role_playbook, run_through_interruptions,
    write_file,
)

SCOPE = ("fin-ap", "eng-src")


def run_reprotect(onefs, policies=SCOPE, check=False, **extra):
    settings = dict(reprotect_poll_interval=0.2, reprotect_timeout=120, **extra)
    return onefs.playbook(role_playbook("reprotect", **settings), inventory_vars(onefs, policies), check=check)


def assert_reprotected(onefs):
    source, target = onefs.state("source"), onefs.state("target")
    for name in SCOPE:
        assert policy(source, name) is None                           # deleted on the original source
        reverse = policy(target, name)
        old = record(onefs.state("target"), name)
        assert old is None                                            # its target record went with it
        assert reverse is not None and reverse["enabled"]
        assert reverse["last_success"]                                # the first sync ran
        assert record(source, name)["failover_failback_state"] == "writes_disabled"   # source is the target now
    ap = policy(target, "fin-ap")
    assert (ap["source_root_path"], ap["target_path"]) == ("/ifs/data/finance/ap", "/ifs/data/finance/ap")
    assert (ap["schedule"], ap["job_delay"]) == ("when-source-modified", 300)       # the cached original schedule
    return source, target


@pytest.mark.timeout(300)
def test_reprotect_reverses_the_direction_and_replicates_target_writes_back(onefs):
    failover(onefs, list(SCOPE))
    write_file(onefs, "target", "/ifs/data/finance/ap/written-on-dr.txt", "new data at DR\n")
    rc, out, err = run_reprotect(onefs, reprotect_record_dir=str(onefs.tmp_path / "records"))
    assert rc == 0, out + err
    assert_reprotected(onefs)
    assert read_file(onefs, "source", "/ifs/data/finance/ap/written-on-dr.txt") == "new data at DR\n"
    reports = list((onefs.tmp_path / "records").glob("*-reprotect-*.html"))
    assert len(reports) == 1 and "Step 1 - Delete the SyncIQ policy on the original source" in reports[0].read_text()
    assert out.index("Step 1 - Delete") < out.index("Step 2 - Create") < out.index("Step 3 - Start")
    onefs.clear_log()
    rc, out, err = run_reprotect(onefs)
    assert rc == 0, out + err
    assert onefs.writes() == []


@pytest.mark.timeout(120)
def test_reprotect_before_a_failover_is_refused_with_the_reason_and_writes_nothing(onefs):
    rc, out, err = run_reprotect(onefs)
    assert rc != 0
    assert "is not failed over" in out and "run the failover first" in out
    assert onefs.writes() == []


@pytest.mark.timeout(300)
def test_a_reprotect_that_died_after_the_delete_is_finished_by_a_rerun(onefs):
    """Dell's CSM could never finish this case: its retry looked for the deleted policy."""
    failover(onefs, list(SCOPE))
    onefs.clear_log()
    onefs.faults({"fail_next": [{"method": "POST", "path": "/sync/policies$", "status": 403}]}, cluster="target")
    rc, out, err = run_reprotect(onefs)
    assert rc != 0 and "Re-run the same command" in out
    assert all(policy(onefs.state("source"), name) is None for name in SCOPE)    # the delete had happened
    rc, out, err = run_reprotect(onefs)
    assert rc == 0, out + err
    assert_reprotected(onefs)
    assert len(policy_deletes(onefs, cluster="source")) == 2                     # never deleted twice


# Each documented write step of the reprotect in turn ("after": the write took effect, its answer was
# lost). Step 3 (the first sync) has no crash of its own here: a policy created with a
# when-source-modified schedule starts its first job itself, on OneFS as on the mock.
INTERRUPTIONS = [
    ("delete applied, answer lost", "source",
     {"method": "DELETE", "path": "/sync/policies/[^/]+$", "after": True}),
    ("create applied, answer lost", "target", {"method": "POST", "path": "/sync/policies$", "after": True}),
]


@pytest.mark.timeout(600)
def test_a_reprotect_crashed_at_each_step_in_turn_is_finished_by_the_re_runs(onefs):
    failover(onefs, list(SCOPE))
    write_file(onefs, "target", "/ifs/data/finance/ap/written-on-dr.txt", "new data at DR\n")
    onefs.clear_log()
    run_through_interruptions(onefs, INTERRUPTIONS, lambda: run_reprotect(onefs))
    assert_reprotected(onefs)
    assert read_file(onefs, "source", "/ifs/data/finance/ap/written-on-dr.txt") == "new data at DR\n"
    assert len(policy_deletes(onefs, cluster="source")) == 2                     # never deleted twice
    creates = [w for w in onefs.writes("target") if w["method"] == "POST" and w["path"].endswith("/sync/policies")
               and w["applied"]]
    assert sorted(w["body"]["name"] for w in creates) == sorted(SCOPE)            # never created twice
