"""readiness role and playbook through ansible-playbook against the mock (demo scenario).

The module's checks and each planted fault are covered by test_readiness.py; here the role's
own behaviour: the clean demo passes (the playbook, read-only), an error stops the play before
the caller's next task, block_on_warning makes a warning block, the files are written, and
the fact readiness_result reaches the caller.
"""

import json
import re
import xml.etree.ElementTree as ET

import pytest
import requests as http

from dr_roles_helpers import inventory_vars

pytestmark = pytest.mark.timeout(300)

FINANCE = ["fin-ap", "fin-ar", "fin-archive", "fin-reports"]
FINANCE_POOLS = [{"source": "groupnet0.subnet0.finance", "target": "groupnet0.subnet0.finance"}]


def zone_vars(onefs, tmp_path, **extra):
    """The shared inventory model for zone finance, with the record dir under tmp_path."""
    data = inventory_vars(onefs, [], onefs_dr_zone="finance", onefs_dr_pools=FINANCE_POOLS,
                          onefs_dr_spn_provider="AD.EXAMPLE.COM", onefs_dr_record_dir=str(tmp_path / "records"))
    data.update(extra)
    return data


def caller_playbook(out_file, **role_vars):
    """A caller like the failover role: include_role, then a task that uses readiness_result."""
    lines = "".join("        %s: %s\n" % (key, json.dumps(value)) for key, value in role_vars.items())
    return """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Readiness gate
      ansible.builtin.include_role:
        name: onefs.dr.readiness
      vars:
%s
    - name: Caller's next step, given the readiness result
      ansible.builtin.copy:
        content: "{{ readiness_result | to_json }}"
        dest: %s
        mode: "0600"
""" % (lines or "        {}\n", json.dumps(str(out_file)))


def test_playbook_passes_the_clean_demo_writes_the_files_and_nothing_else(onefs, tmp_path):
    rc, out, err = onefs.playbook("- ansible.builtin.import_playbook: onefs.dr.readiness\n",
                                  zone_vars(onefs, tmp_path, readiness_config_sync=True, readiness_rpo=3600))
    assert rc == 0, out + err
    # The summary: the demo's DR side lacks two shares that config sync will create (warnings only).
    assert "WARNING smb_share [ar]" in out and "WARNING smb_share [reports]" in out
    assert "WARNING nfs_export [/ifs/data/finance/reports]" in out
    assert re.search(r"readiness: \d+ ok, 3 warning\(s\), 0 error\(s\)", out)
    assert "estimate: final sync" in out
    assert "Ready: " in out
    # Files under <onefs_dr_record_dir>/readiness, and they agree with each other.
    report = tmp_path / "records" / "readiness-prod-dr"
    doc = json.loads((report / "readiness.json").read_text())
    assert doc["blocked"] is False and doc["counts"]["error"] == 0
    assert sorted(doc["policies"]) == FINANCE
    suite = ET.parse(str(report / "readiness-junit.xml")).getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) == len(doc["results"]) > 20
    assert sorted((c.get("classname"), c.get("name")) for c in cases) == \
        sorted(("readiness." + r["check"], str(r["object"])) for r in doc["results"])
    assert len(suite.findall(".//skipped")) == doc["counts"]["warning"] == 3
    assert suite.findall(".//failure") == []
    # Read-only: no write reached either cluster.
    assert onefs.writes() == []


def test_an_error_stops_the_caller_before_its_next_task(onefs, tmp_path):
    resp = http.put(onefs.mock.url("source") + "/platform/14/sync/policies/fin-ar", json={"enabled": False},
                    auth=("admin", "admin"), verify=onefs.ca_path or False, timeout=30)
    assert resp.status_code < 300, resp.text
    marker = tmp_path / "next-step.json"
    rc, out, err = onefs.playbook(caller_playbook(marker, readiness_config_sync=True),
                                  zone_vars(onefs, tmp_path))
    assert rc != 0
    assert "Not ready for a failover: 1 error(s)" in out, out + err
    assert "ERROR   policy_enabled [fin-ar]: policy fin-ar is disabled" in out
    assert not marker.exists()
    # The files were still written and say why.
    doc = json.loads((tmp_path / "records" / "readiness-prod-dr" / "readiness.json").read_text())
    assert doc["blocked"] is True
    assert [(r["check"], r["object"]) for r in doc["results"] if r["result"] == "error"] == \
        [("policy_enabled", "fin-ar")]


def test_block_on_warning_makes_the_warnings_block(onefs, tmp_path):
    marker = tmp_path / "next-step.json"
    rc, out, err = onefs.playbook(caller_playbook(marker, readiness_config_sync=True, readiness_block_on_warning=True,
                                                  readiness_report_dir=str(tmp_path / "gate")),
                                  zone_vars(onefs, tmp_path))
    assert rc != 0
    assert "warnings block: readiness_block_on_warning is true" in out, out + err
    assert "WARNING smb_share [ar]" in out[out.index("Not ready for a failover"):]
    assert not marker.exists()
    assert json.loads((tmp_path / "gate" / "readiness.json").read_text())["blocked"] is True
    assert not (tmp_path / "records").exists()       # readiness_report_dir overrides the default


def test_report_only_exports_readiness_result_to_the_caller(onefs, tmp_path):
    marker = tmp_path / "next-step.json"
    # as the failover role calls it: its own record dir and pair name
    rc, out, err = onefs.playbook(caller_playbook(marker, readiness_config_sync=False, readiness_fail_on_block=False,
                                                  readiness_record_dir=str(tmp_path / "other"),
                                                  readiness_pair="pair-b"),
                                  zone_vars(onefs, tmp_path))
    assert rc == 0, out + err
    assert "files: " in out and "readiness-junit.xml" in out
    result = json.loads(marker.read_text())
    # Without config sync the missing share and export are errors; not failing, the caller decides from the fact.
    assert result["blocked"] is True and sorted(result["policies"]) == FINANCE
    errors = sorted((r["check"], r["object"]) for r in result["results"] if r["result"] == "error")
    assert errors == [("nfs_export", "/ifs/data/finance/reports"), ("smb_share", "ar"), ("smb_share", "reports")]
    assert result["files"]["junit"] == str(tmp_path / "other" / "readiness-pair-b" / "readiness-junit.xml")
    assert onefs.writes() == []
