"""report role and playbook: the evidence report of a run read back from the journal on the clusters.

As AWX runs it - in a fresh container that shares no file with the failover job - the record
comes from the pair's journal (``dr_run load``), never from the controller's disk. The run
picked is the most recently started one (of ``report_operation`` when given).
"""

import json

import pytest

from dr_roles_helpers import PAIR, inventory_vars, read_file

pytestmark = pytest.mark.timeout(300)

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    out: %(out)s
  tasks:
    - name: A planned failover's journal (its steps are not run here, only recorded)
      onefs.dr.dr_run: {pair: "{{ onefs_dr_pair }}", operation: failover_planned, policies: [fin-ap],
                        peer: "{{ onefs_dr_source }}"}
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_target }}"}
      register: planned
    - name: Finish it
      onefs.dr.dr_run:
        pair: "{{ onefs_dr_pair }}"
        action: finish
        run_id: "{{ planned.run_id }}"
        peer: "{{ onefs_dr_source }}"
        steps: [{name: Final sync, phase: sync, started: "{{ planned.record.started }}",
                 ended: "{{ planned.record.started + 2 }}", status: ok, objects: [fin-ap]}]
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_target }}"}

    - name: Report of the last run (the failover)
      ansible.builtin.include_role: {name: onefs.dr.report}
    - name: Keep it
      ansible.builtin.set_fact: {kept1: "{{ report_result }}"}

    - name: A fence run that failed (it stays open in the journal)
      onefs.dr.dr_run: {pair: "{{ onefs_dr_pair }}", operation: fence, policies: [fin-ap], peer: "{{ onefs_dr_source }}"}
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_target }}"}
      register: fence
    - name: Finish it as failed
      onefs.dr.dr_run:
        pair: "{{ onefs_dr_pair }}"
        action: finish
        status: failed
        run_id: "{{ fence.run_id }}"
        peer: "{{ onefs_dr_source }}"
        steps: [{name: "Step 0 - Fence <the> source", phase: fence, ended: 1.0e10, status: failed}]
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_target }}"}

    - name: Report of the last run (now the fence)
      ansible.builtin.include_role: {name: onefs.dr.report}
    - name: Keep it
      ansible.builtin.set_fact: {kept2: "{{ report_result }}"}

    - name: Report of the last planned failover
      ansible.builtin.include_role: {name: onefs.dr.report}
      vars: {report_operation: failover_planned, report_dest_dir: "{{ out }}/planned"}
    - name: Keep it
      ansible.builtin.set_fact: {kept3: "{{ report_result }}"}

    - name: No reprotect ran
      block:
        - name: Report of the last reprotect
          ansible.builtin.include_role: {name: onefs.dr.report}
          vars: {report_operation: reprotect}
      rescue:
        - name: Write what was kept
          ansible.builtin.copy:
            content: "{{ {'1': kept1, '2': kept2, '3': kept3, 'refusal': ansible_failed_result.msg} | to_json }}"
            dest: "{{ out }}/kept.json"
            mode: "0600"
"""


def test_reports_read_from_the_journal(onefs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    records = tmp_path / "records"
    rc, stdout, err = onefs.playbook(PLAYBOOK % {"out": json.dumps(str(out))},
                                     inventory_vars(onefs, ["fin-ap"], onefs_dr_record_dir=str(records)))
    assert rc == 0, stdout[-5000:] + err[-2000:]

    opened = json.loads(read_file(onefs, "target", "/ifs/.onefs_dr/%s/open.json" % PAIR))
    failover_id = opened["last"]["failover_planned"]["run_id"]
    kept = json.loads((out / "kept.json").read_text())
    first = kept["1"]
    assert first["html_path"] == str(records / (failover_id + ".html"))
    assert first["summary"]["run_id"] == failover_id and first["summary"]["operation"] == "failover_planned"
    assert first["summary"]["status"] == "ok" and first["summary"]["rto_s"] > 0
    assert [(p["name"], p["duration_s"]) for p in first["summary"]["phases"]] == [("sync", 2.0)]
    assert "# DR run report: Planned failover" in stdout          # the summary is shown in the play
    assert (records / (failover_id + ".md")).read_text() == first["markdown"]

    second = kept["2"]
    fence_id = second["summary"]["run_id"]
    assert fence_id != failover_id and "-fence-" in fence_id
    assert second["summary"]["status"] == "failed" and second["summary"]["steps_failed"] == 1
    page = (records / (fence_id + ".html")).read_text()
    assert "Step 0 - Fence &lt;the&gt; source" in page and page.count('class="bar step-bar') == 1

    third = kept["3"]
    assert third["summary"]["run_id"] == failover_id
    assert third["html_path"] == str(out / "planned" / (failover_id + ".html"))

    refusal = kept["refusal"]
    assert "holds no reprotect run" in refusal and fence_id in refusal

    # Reading the journal wrote nothing: every write is a journal file of the two runs the playbook made.
    writes = onefs.writes()
    assert [w for w in writes if not w["path"].startswith("/namespace/ifs/.onefs_dr/")] == []
    assert all(w["path"].endswith(("/lock", "/open.json", "/schedules.json", failover_id + ".json", fence_id + ".json"))
               for w in writes), writes


def test_report_of_a_local_record_reads_no_cluster(onefs, tmp_path):
    record = {"run_id": "20261122T031500Z-fence-prod-dr", "pair": PAIR, "operation": "fence", "status": "ok",
              "started": 1795000000.0, "ended": 1795000003.0,
              "steps": [{"name": "Step 0 - Fence", "phase": "fence", "ended": 1795000002.0, "status": "ok"}]}
    path = tmp_path / "rec.json"
    path.write_text(json.dumps(record))
    rc, stdout, err = onefs.playbook("- ansible.builtin.import_playbook: onefs.dr.report\n",
                                     {"report_record_path": str(path), "report_dest_dir": str(tmp_path / "out")})
    assert rc == 0, stdout[-3000:] + err[-2000:]
    assert (tmp_path / "out" / "20261122T031500Z-fence-prod-dr.html").exists()
    assert "| Duration (storage RTO) | 3.0 s |" in (tmp_path / "out" / "20261122T031500Z-fence-prod-dr.md").read_text()
    assert onefs.requests("source") == [] and onefs.requests("target") == []
