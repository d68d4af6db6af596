"""The evidence report of a real run, opened in headless Chromium.

A playbook runs a small planned failover of one policy against the mock with the journal
(``dr_run`` start ... finish with ``record_dir``), then ``dr_report`` on the record file.
Chromium loads the HTML from disk (``--dump-dom``) with its console logged to stderr: the page
must log nothing (no script error, no blocked or failed load), and the DOM the browser built
must hold one SVG bar per step and per phase.

Chromium is Debian's ``chromium`` package (.ci/run installs it when it can); these tests skip
only when /usr/bin/chromium is absent.
"""

import json
import os
import re
import subprocess
import tempfile
from html.parser import HTMLParser

import pytest

from dr_roles_helpers import inventory_vars

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                    reason="%s is absent (apt-get install chromium)" % CHROMIUM)
# The flags this machine's offline network needs (see the machine notes): no background fetches.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--enable-logging=stderr", "--v=0"]
CONSOLE = re.compile(r":CONSOLE[:(]")

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    policies: [fin-ap]
  tasks:
    - name: Journal start (lock, run record, cached schedules)
      onefs.dr.dr_run: {pair: "{{ onefs_dr_pair }}", operation: failover_planned, policies: "{{ policies }}",
                        zone: finance, peer: "{{ onefs_dr_source }}"}
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_target }}"}
      register: run

    - name: Time the readiness step
      ansible.builtin.set_fact: {t0: "{{ now().timestamp() }}"}
    - name: Readiness
      onefs.dr.dr_readiness: {policies: "{{ policies }}", peer: "{{ onefs_dr_target }}"}
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_source }}"}
    - name: Time the final sync
      ansible.builtin.set_fact: {t1: "{{ now().timestamp() }}"}
    - name: Final sync, schedules set to manual
      onefs.dr.rg_sync: {policies: "{{ policies }}", mode: prepare_failover, poll_interval: 0.2, timeout: 120}
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_source }}"}
      register: sync
    - name: Time the disable step
      ansible.builtin.set_fact: {t2: "{{ now().timestamp() }}"}
    - name: Disable the source policy
      onefs.dr.synciq_policy: {policies: [{name: fin-ap}], enabled: false}
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_source }}"}
    - name: Time the allow-write step
      ansible.builtin.set_fact: {t3: "{{ now().timestamp() }}"}
    - name: Allow writes on the target
      onefs.dr.local_target: {policies: "{{ policies }}", state: writes_enabled, poll_interval: 0.2, timeout: 120}
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_target }}"}

    - name: Journal finish, record written on the controller
      onefs.dr.dr_run:
        pair: "{{ onefs_dr_pair }}"
        action: finish
        run_id: "{{ run.run_id }}"
        peer: "{{ onefs_dr_source }}"
        record_dir: "{{ record_dir }}"
        points_in_time: "{{ dict(sync.results | map(attribute='name') | zip(sync.results)) }}"
        manual_actions: ["Remount the NFS clients of /ifs/data/finance/ap on the DR side"]
        warnings: ["<b>not bold</b> & <script>alert('x')</script>"]
        steps:
          - {name: Readiness, phase: prepare, started: "{{ t0 | float }}", ended: "{{ t1 | float }}", status: ok}
          - {name: "Final sync, schedules set to manual", phase: sync, started: "{{ t1 | float }}",
             ended: "{{ t2 | float }}", status: ok, objects: "{{ policies }}", changed: true}
          - {name: Disable the source policy, phase: sync, started: "{{ t2 | float }}", ended: "{{ t3 | float }}",
             status: ok, objects: "{{ policies }}", changed: true}
          - {name: Allow writes on the target, phase: cutover, ended: "{{ now().timestamp() }}", status: ok,
             objects: "{{ policies }}", changed: true}
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_target }}"}
      register: finished

    - name: Evidence report next to the record
      onefs.dr.dr_report: {record_path: "{{ finished.record_file }}"}
      register: report

    - name: Keep what the test reads
      ansible.builtin.copy:
        content: "{{ {'record_file': finished.record_file, 'report': report} | to_json }}"
        dest: "{{ record_dir }}/outcome.json"
        mode: "0600"
"""


class Dom(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def open_in_chromium(path):
    """``(dom, console_lines)``: the DOM Chromium built from the file, and what its console logged."""
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([CHROMIUM] + FLAGS + ["--user-data-dir=" + profile, "--dump-dom", "file://" + path],
                              capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "</html>" in proc.stdout, "Chromium dumped no page: " + proc.stderr[-3000:]
    return proc.stdout, [line for line in proc.stderr.splitlines() if CONSOLE.search(line)]


def rects(dom, kind):
    parser = Dom()
    parser.feed(dom)
    return [a for t, a in parser.tags if t == "rect" and kind in (a.get("class") or "").split()], parser


@needs_chromium
@pytest.mark.timeout(300)
def test_report_of_a_real_run_opens_in_chromium_without_console_errors(onefs, tmp_path):
    record_dir = tmp_path / "records"
    rc, out, err = onefs.playbook(PLAYBOOK, inventory_vars(onefs, ["fin-ap"], record_dir=str(record_dir)))
    assert rc == 0, out[-5000:] + err[-2000:]
    outcome = json.loads((record_dir / "outcome.json").read_text())
    record = json.loads((record_dir / os.path.basename(outcome["record_file"])).read_text())
    report = outcome["report"]
    assert report["html_path"] == str(record_dir / (record["run_id"] + ".html"))
    assert report["markdown_path"] == str(record_dir / (record["run_id"] + ".md"))
    assert [p["name"] for p in report["summary"]["phases"]] == ["prepare", "sync", "cutover"]
    assert report["summary"]["rto_s"] == pytest.approx(record["ended"] - record["started"], abs=0.01)
    assert report["summary"]["rpo"]["fin-ap"]["state"] == "finished"

    dom, console = open_in_chromium(report["html_path"])
    assert console == [], "\n".join(console)
    step_bars, parsed = rects(dom, "step-bar")
    phase_bars, dummy = rects(dom, "phase-bar")
    assert len(step_bars) == len(record["steps"]) == 4
    assert len(phase_bars) == 3
    assert [b["data-index"] for b in step_bars] == ["0", "1", "2", "3"]
    # the browser built no element from the record's text: the warning is shown as text
    assert not [t for t, a in parsed.tags if t in ("script", "b", "img")]
    assert "<b>not bold</b> & <script>alert('x')</script>" in "".join(parsed.text)
    for step in record["steps"]:
        assert step["name"] in "".join(parsed.text)


@needs_chromium
def test_the_console_check_sees_errors(tmp_path):
    """The harness itself: a page with a failing script and a blocked load does log to the console."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                    'content="default-src \'none\'; script-src \'unsafe-inline\'"></head><body>'
                    '<img src="http://127.0.0.1:9/missing.png"><script>undefinedFunction();</script></body></html>')
    dom, console = open_in_chromium(str(page))
    assert len(console) >= 2, console
    assert any("undefinedFunction" in line for line in console)


@needs_chromium
@pytest.mark.timeout(400)
def test_the_demo_ends_with_a_report_whose_chart_shows_every_phase(onefs, tmp_path, monkeypatch):
    """playbooks/demo.yml as `make demo` runs it (connection from the environment), then its report in Chromium."""
    from pathlib import Path

    for name in ("source", "target"):
        conn = onefs.conn(name)
        monkeypatch.setenv("DEMO_%s_HOST" % name.upper(), conn["onefs_host"])
        monkeypatch.setenv("DEMO_%s_PORT" % name.upper(), str(conn["onefs_port"]))
    for prefix in ("ONEFS_", "ONEFS_PEER_"):           # what tools/demo.sh exports
        monkeypatch.setenv(prefix + "USERNAME", "admin")
        monkeypatch.setenv(prefix + "PASSWORD", "admin")
        monkeypatch.setenv(prefix + "CA_PATH", onefs.ca_path)
    monkeypatch.setenv("DEMO_DIR", str(tmp_path))
    demo = (Path(__file__).resolve().parents[2] / "playbooks" / "demo.yml").read_text()
    rc, out, err = onefs.playbook(demo, {"failover_poll_interval": 0.2})
    assert rc == 0, out[-5000:] + err[-2000:]
    assert "evidence report: " in out
    records = list((tmp_path / "records").glob("*-failover_planned-demo.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    html = records[0].with_suffix(".html")
    dom, console = open_in_chromium(str(html))
    assert console == [], "\n".join(console)
    phases = sorted(set(step["phase"] for step in record["steps"]))
    ran = set(step["phase"] for step in record["steps"] if step["status"] == "ok")
    assert {"journal", "sync", "config", "network", "identity", "writable", "quotas"} <= ran
    phase_bars, parsed = rects(dom, "phase-bar")
    assert len(phase_bars) == len(phases)             # skipped steps' phases (smb lock, resync) are drawn too
    text = "".join(parsed.text)
    for phase in phases:
        assert phase in text
    assert len(rects(dom, "step-bar")[0]) == len(record["steps"])
