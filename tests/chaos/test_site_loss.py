"""The source site disappears → an unplanned failover completes on the target without contacting
the source (the API trace of both connection dicts shows no attempt to reach it); the run record
lists the source policies as unfenced (this suite found them missing; fixed in b386b12).  When the
source comes back, ``--tags fence`` disables its still-enabled policies before anything else is
written to it, and from then on a write on the source starts no replication onto the writable
target (nothing written on DR is lost)."""

import json

import pytest

from chaos_lib import ROOT, SCOPE, assert_failed_over, policy, record
from dr_roles_helpers import read_file, write_file

DR_WRITE = "/ifs/data/finance/ap/written-on-dr.txt"
SOURCE_WRITE = "/ifs/data/finance/ap/written-on-the-returned-source.txt"


def shipped_playbook():
    return (ROOT / "playbooks" / "failover.yml").read_text()


def trace_entries(path, port):
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    return [e for e in entries if e.get("node", "").endswith(":%d" % port)]


def unplanned_record(chaos):
    return json.loads(next(chaos.record_dir.glob("*failover_unplanned*.json")).read_text())


def reports_of(state, names):
    return sorted(r["id"] for r in state["reports"] if r.get("policy_name") in names)


@pytest.mark.timeout(600)
def test_unplanned_failover_without_the_source_then_fenced_when_it_returns(chaos, figures):
    trace = chaos.tmp / "trace.jsonl"
    source_conn = chaos.conn("source", retry_budget=5, api_trace=str(trace))
    target_conn = chaos.conn("target", api_trace=str(trace))
    before_source = chaos.state("source")
    chaos.down("source")                                   # the site is gone (until /_mock/up)

    extra = chaos.dr_vars(source=source_conn, target=target_conn, failover_type="unplanned", failover_confirm=True,
                          failover_poll_interval=0.2, failover_record_dir=str(chaos.record_dir))
    run = chaos.play(shipped_playbook(), extra, name="unplanned")
    assert run.rc == 0, run.text[-6000:]
    assert trace_entries(trace, chaos.mock.port("source")) == [], "the source was contacted"
    assert trace_entries(trace, chaos.mock.port("target")), "no trace at all: the check proves nothing"
    source, target = chaos.state("source"), chaos.state("target")
    assert_failed_over(source, target, planned=False)
    for name in SCOPE:
        assert policy(source, name)["enabled"]            # the source could not be fenced
    run_record = unplanned_record(chaos)
    assert run_record["status"] == "ok" and run_record["operation"] == "failover_unplanned"
    assert sorted(run_record["unfenced_policies"]) == sorted(SCOPE)     # the record says what is left to fence
    assert "--tags fence" in run.out
    chaos.assert_no_split_brain(unplanned=True)            # allowed: explicit unplanned, and recorded
    figures.add("end_states_verified")

    # business goes on on the DR site
    write_file(chaos.onefs, "target", DR_WRITE, "written on DR while the source was gone\n")

    # the source returns: the first write it receives is the fence
    chaos.clear_log()
    chaos.up("source")
    run = chaos.play(shipped_playbook(), chaos.dr_vars(failover_record_dir=str(chaos.record_dir)),
                     args=("--tags", "fence"), name="fence")
    assert run.rc == 0, run.text[-6000:]
    source_writes = [e for e in chaos.log() if e["cluster"] == "source" and e["path"].startswith("/platform")
                     and e["method"] in ("POST", "PUT", "DELETE")]
    assert source_writes, "the fence wrote nothing to the source"
    fence = source_writes[:len(SCOPE)]
    assert all(e["method"] == "PUT" and "/sync/policies/" in e["path"] and e["body"].get("enabled") is False
               for e in fence), source_writes
    assert [e for e in source_writes if (e.get("body") or {}).get("action")] == []   # no job was started
    source, target = chaos.state("source"), chaos.state("target")
    for name in SCOPE:
        assert not policy(source, name)["enabled"], name
        assert record(target, name)["failover_failback_state"] == "writes_enabled", name
    assert reports_of(source, SCOPE) == reports_of(before_source, SCOPE)      # nothing ran in between
    chaos.assert_no_split_brain()                          # fenced: no exception needed any more
    figures.add("end_states_verified")

    # a write on the returned source starts no run onto the writable target; DR data is intact
    write_file(chaos.onefs, "source", SOURCE_WRITE, "late write on the old source\n")
    chaos.wait_idle()
    assert reports_of(chaos.state("source"), SCOPE) == reports_of(before_source, SCOPE)
    assert read_file(chaos.onefs, "target", DR_WRITE) == "written on DR while the source was gone\n"
    assert read_file(chaos.onefs, "target", SOURCE_WRITE) is None
