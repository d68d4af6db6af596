"""The final sync fails (``fail_next_job``) → the failover stops before any target is made
writable; the error names the policy and the SyncIQ report's reason; the source stays the
active side (policies enabled, target records read-only, names, SPNs and quotas in place);
nothing is lost (a file written just before is still on the source, and — ``make chaos`` — reaches
the target when the same command is run again after the cause is gone)."""

import json

import pytest

from chaos_lib import SCOPE, assert_failed_over, is_full, policy, pool, quota_paths, record, spns, FIN_SPNS
from dr_roles_helpers import read_file, write_file

REASON = "Injected: the source snapshot could not be taken (SyncIQ error 42)"
LAST_WRITE = "/ifs/data/finance/ar/last-minute.txt"     # fin-ar: scheduled, no automatic run


@pytest.mark.timeout(600)
def test_a_failed_final_sync_stops_before_the_target_is_writable(chaos, figures):
    write_file(chaos.onefs, "source", LAST_WRITE, "written just before the failover\n")
    chaos.clear_log()
    chaos.faults("source", fail_next_job={"policy": "fin-ar", "error": REASON})
    figures.add("faults_injected")
    run = chaos.role("failover", chaos.dr_vars(), **chaos.failover_vars())
    assert run.rc != 0, "the failover went on after a failed final sync"
    out = run.out
    assert 'failed at "Steps 5 and 6 - Set the schedules to manual, run the final sync' in out, out[-4000:]
    failure = [line for line in out.splitlines() if 'failed at "Steps 5 and 6' in line][-1]
    assert "fin-ar" in failure and REASON in failure, failure

    # nothing was made writable: no allow_write was ever sent, every target record is read-only
    log = chaos.log()
    assert [e for e in log if (e.get("body") or {}).get("action") == "allow_write"] == []
    source, target = chaos.state("source"), chaos.state("target")
    for name in SCOPE:
        assert record(target, name)["failover_failback_state"] == "writes_disabled", name
        assert policy(source, name)["enabled"], "%s was disabled although the failover stopped" % name
    assert pool(source)["sc_dns_zone"] == "finance.prod.example.com"
    for spn in FIN_SPNS:
        assert spn.lower() in spns(source)
    assert "/ifs/data/finance/ar" in quota_paths(source)
    # nothing lost: the last write is on the source, untouched on the target (no revert, no sync)
    assert read_file(chaos.onefs, "source", LAST_WRITE) == "written just before the failover\n"
    assert read_file(chaos.onefs, "target", LAST_WRITE) is None
    chaos.assert_no_split_brain()
    # the run record says why
    failed = [json.loads(p.read_text()) for p in chaos.record_dir.glob("*failover_planned*.json")]
    assert failed and failed[-1]["status"] == "failed", failed
    assert REASON in json.dumps(failed[-1]["details"]), failed[-1].get("details")
    figures.add("end_states_verified")

    # the cause is gone (the fault was used up): the same command completes (make chaos only)
    if not is_full():
        return
    run = chaos.role("failover", chaos.dr_vars(), **chaos.failover_vars())
    figures.add("re_runs")
    assert run.rc == 0, run.text[-6000:]
    assert_failed_over(chaos.state("source"), chaos.state("target"))
    assert read_file(chaos.onefs, "target", LAST_WRITE) == "written just before the failover\n"
    assert chaos.repeated(chaos.destructive_calls()) == {}
    figures.add("end_states_verified")
