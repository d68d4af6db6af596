"""report.py: the evidence report of a DR run, from real and hand-written run records.

The real record is made the way a role makes it: ``journal.start_run`` on the demo mock, a real
final sync of two policies with ``synciq.GroupSync`` (its points in time come from the mock's
reports), steps timed around real calls, ``journal.finish_run`` writing the JSON into a
record_dir, which :func:`report.load_record` reads back.
"""

import json
import os
import re
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import journal, report, synciq
from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

SVG_NS = "{http://www.w3.org/2000/svg}"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
BASE = 1795000000.0


# --------------------------------------------------------------------------- helpers
class Elements(HTMLParser):
    """Every start tag of a page with its attributes, and its text."""

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


def parse_html(page):
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser


def svg_of(page):
    """The inline SVG of the page, parsed as XML (it must be well-formed)."""
    match = re.search(r"<svg\b.*?</svg>", page, re.S)
    assert match, "no inline SVG in the page"
    return ET.fromstring(match.group(0))


def bars(svg, kind):
    return [r for r in svg.iter(SVG_NS + "rect") if kind in (r.get("class") or "").split()]


def step(name, phase, started, ended, status="ok", objects=("p1",), **extra):
    entry = {"name": name, "phase": phase, "started": started, "ended": ended, "status": status,
             "objects": list(objects), "changed": status == "ok", "details": {}}
    entry.update(extra)
    return entry


def planned_record(**changes):
    """A finished planned failover as DESIGN.md 6.5 describes it: 5 steps in 3 phases, 2 policies."""
    record = {
        "run_id": "20261122T031500Z-failover_planned-prod-dr", "pair": "prod-dr", "operation": "failover_planned",
        "test": False, "status": "ok", "started": BASE, "ended": BASE + 100.0, "controller": "awx-ee-1",
        "user": "awx", "scope": {"policies": ["p1", "p2"], "zone": None}, "plan": [],
        "schedules": {"p1": {"schedule": "every 1 hours", "job_delay": 0, "enabled": True}},
        "steps": [
            step("Readiness", "prepare", BASE, BASE + 10.0, changed=False),
            step("Schedules to manual and final sync", "sync", BASE + 10.0, BASE + 60.0, objects=("p1", "p2")),
            step("Disable the source policies", "sync", BASE + 60.0, BASE + 65.0, objects=("p1", "p2")),
            step("Park SmartConnect names", "cutover", BASE + 65.0, BASE + 70.0, status="skipped"),
            step("Allow writes on the target", "cutover", BASE + 70.0, BASE + 95.0, objects=("p1", "p2")),
        ],
        "points_in_time": {"p1": {"job_id": 3, "end_time": BASE + 55, "report_id": "3-p1", "state": "finished"},
                           "p2": {"job_id": 4, "end_time": BASE - 20, "report_id": "4-p2", "state": "finished"}},
        "warnings": ["share ar was created by config sync"],
        "manual_actions": ["Remount NFS clients of /ifs/data/finance on the DR side"],
        "unfenced_policies": [],
    }
    record.update(changes)
    return record


# --------------------------------------------------------------------------- hand-written records
def test_figures_of_a_planned_failover():
    summary = report.summarize(planned_record())
    assert summary["rto_s"] == 100.0 and summary["complete"] is True
    assert [(p["name"], p["duration_s"], p["steps"], p["status"]) for p in summary["phases"]] == [
        ("prepare", 10.0, 1, "ok"), ("sync", 55.0, 2, "ok"), ("cutover", 30.0, 2, "ok")]
    # achieved RPO: run start and run end minus the point in time's end_time
    assert summary["rpo"]["p1"]["at_start_s"] == -55.0 and summary["rpo"]["p1"]["at_end_s"] == 45.0
    assert summary["rpo"]["p2"]["at_start_s"] == 20.0 and summary["rpo"]["p2"]["at_end_s"] == 120.0
    assert summary["worst_rpo_s"] == 120.0
    assert (summary["steps"], summary["steps_failed"], summary["warnings"], summary["manual_actions"]) == (5, 0, 1, 1)
    assert report.rpo_text(summary["rpo"]["p1"]) == "reached during the run, 55.0 s after its start"
    assert report.rpo_text(summary["rpo"]["p2"]) == "20.0 s before the run started"


def test_steps_without_a_start_are_drawn_from_the_previous_end():
    record = planned_record(steps=[
        {"name": "Fence", "ended": BASE + 4.0, "status": "ok"},                 # from the run's start
        {"name": "Disallow writes", "ended": BASE + 30.0, "status": "ok"},      # from the end of Fence
        {"name": "Restore schedule", "ended": BASE + 30.0, "status": "ok"},     # zero length
        {"name": "Enable", "started": BASE + 31.0, "ended": BASE + 40.0, "status": "failed"},
        {"name": "Never ran"},                                                  # no time at all
    ])
    steps = report.timeline(record)
    assert [(s["started"] - BASE, s["ended"] - BASE, s["inferred_start"]) for s in steps] == [
        (0.0, 4.0, True), (4.0, 30.0, True), (30.0, 30.0, True), (31.0, 40.0, False), (40.0, 40.0, True)]
    assert [s["duration_s"] for s in steps] == [4.0, 26.0, 0.0, 9.0, 0.0]
    assert [s["phase"] for s in steps] == [report.NO_PHASE] * 5
    summary = report.summarize(record)
    assert summary["phases"] == [{"name": report.NO_PHASE, "started": BASE, "ended": BASE + 40.0, "steps": 5,
                                  "status": "failed", "duration_s": 40.0}]
    assert summary["steps_failed"] == 1
    # every step has a bar, even a zero-length one
    svg = svg_of(report.render_html(record, summary))
    step_bars = bars(svg, "step-bar")
    assert [b.get("data-index") for b in step_bars] == ["0", "1", "2", "3", "4"]
    assert all(float(b.get("width")) >= report.MIN_BAR_WIDTH for b in step_bars)
    assert "status-failed" in step_bars[3].get("class")
    assert "(previous end)" in report.render_markdown(record, summary)


def test_the_chart_has_one_bar_per_step_and_per_phase_on_one_time_axis():
    record = planned_record()
    svg = svg_of(report.render_html(record))
    step_bars, phase_bars = bars(svg, "step-bar"), bars(svg, "phase-bar")
    assert len(step_bars) == 5 and len(phase_bars) == 3
    xs = [float(b.get("x")) for b in step_bars]
    widths = [float(b.get("width")) for b in step_bars]
    assert xs == sorted(xs)
    # 100 s span: the 50 s final sync is ten times the 5 s disable step, and starts 10 s in
    scale = widths[1] / 50.0
    assert widths[2] == pytest.approx(5 * scale, abs=0.2)
    assert xs[1] - xs[0] == pytest.approx(10 * scale, abs=0.2)
    assert [b.get("class").split()[-1] for b in step_bars] == ["status-ok"] * 3 + ["status-skipped", "status-ok"]
    titles = [b.find(SVG_NS + "title").text for b in step_bars]
    assert titles[1].startswith("2. Schedules to manual and final sync: 50.0 s (ok")
    assert [b.find(SVG_NS + "title").text.split(":")[0] for b in phase_bars] == \
        ["phase prepare", "phase sync", "phase cutover"]


def test_every_string_from_the_record_is_escaped():
    record = planned_record(
        run_id="r-" + XSS, pair=XSS, user=XSS, controller=XSS, operation=XSS, status=XSS,
        scope={"policies": ["p1", XSS], "zone": XSS},
        steps=[step(XSS, XSS, BASE, BASE + 5, status=XSS, objects=(XSS,), details={"msg": XSS})],
        points_in_time={XSS: {"job_id": XSS, "end_time": BASE, "report_id": XSS, "state": XSS}},
        warnings=[XSS], manual_actions=[XSS], unfenced_policies=[XSS])
    page = report.render_html(record)
    parsed = parse_html(page)
    tags = [tag for tag, attrs in parsed.tags]
    assert "script" not in tags and "img" not in tags
    assert not [attrs for tag, attrs in parsed.tags if any(k.startswith("on") for k in attrs)]
    assert "<script" not in page and "<img" not in page
    # the payload is shown as text, many times over
    assert "".join(parsed.text).count('<script>alert("x")</script>') >= 10
    svg_of(page)  # still well-formed XML
    text = report.render_markdown(record)
    assert "<script" not in text and "<img" not in text and "&lt;script&gt;" in text
    # a run id cannot name a path outside dest_dir
    html_path, md_path = report.default_paths({"run_id": "../../etc/" + XSS}, "/tmp/reports")
    assert os.path.dirname(html_path) == "/tmp/reports" and os.path.dirname(md_path) == "/tmp/reports"
    assert re.match(r"^[A-Za-z0-9._-]+\.html$", os.path.basename(html_path))


def test_the_page_is_self_contained_and_needs_no_script():
    page = report.render_html(planned_record())
    parsed = parse_html(page)
    assert not [t for t, a in parsed.tags if t in ("script", "iframe", "object", "embed", "img")]
    linked = [(t, a) for t, a in parsed.tags if t == "link" and a.get("href") != "data:,"]
    assert linked == []
    assert not [a for t, a in parsed.tags if "src" in a]
    assert "url(" not in page and "@import" not in page
    # the only URL is the SVG namespace
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://www.w3.org/2000/svg"]
    csp = [a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]


def test_markdown_summary_content():
    text = report.render_markdown(planned_record())
    assert text.startswith("# DR run report: Planned failover\n")
    assert "| Duration (storage RTO) | 1 min 40 s |" in text
    assert "| Scope | policies p1, p2 |" in text
    assert "| prepare | 2026-11-18 11:06:40.0Z | 2026-11-18 11:06:50.0Z | 10.0 s | 1 | ok |" in text
    assert "| sync | 2026-11-18 11:06:50.0Z | 2026-11-18 11:07:45.0Z | 55.0 s | 2 | ok |" in text
    assert "| p2 | 4 | finished | 2026-11-18 11:06:20.0Z | 20.0 s | 2 min 00 s | 20.0 s before the run started |" in text
    assert "- Remount NFS clients of /ifs/data/finance on the DR side" in text
    assert "- share ar was created by config sync" in text
    assert "## Unfenced policies\n\nNone." in text


def test_a_rehearsal_an_unfinished_run_and_unfenced_policies_are_called_out():
    record = planned_record(operation="failover_test", test=True, status="running", ended=None,
                            unfenced_policies=["p1"], points_in_time={})
    summary = report.summarize(record)
    assert summary["rto_s"] is None and summary["complete"] is False and summary["test"] is True
    assert summary["rpo"]["p1"]["recorded"] is False and summary["worst_rpo_s"] is None
    page = report.render_html(record, summary)
    assert "DR rehearsal (test failover)" in page and 'class="badge test"' in page and "marked as a test" in page
    assert "The run is not finished (status running)" in page
    assert "Source policies still enabled (unfenced): p1." in page
    text = report.render_markdown(record, summary)
    assert "(TEST)" in text.splitlines()[0] and "| Test (rehearsal) | yes |" in text
    assert "no point in time recorded" in text
    assert "disable (fence) them before the source cluster returns" in text and "\n- p1" in text


def test_formatting():
    assert [report.duration(s) for s in (None, 0, 12.34, 65, 3725.4)] == \
        ["-", "0.0 s", "12.3 s", "1 min 05 s", "1 h 02 min 05 s"]
    assert report.iso(BASE + 0.46) == "2026-11-18 11:06:40.5Z"
    assert report.iso(BASE + 0.96) == "2026-11-18 11:06:41.0Z"
    assert report.iso(None) == "-"


def test_bad_records_are_refused(tmp_path):
    with pytest.raises(report.ReportError, match="run_id"):
        report.summarize({"steps": []})
    with pytest.raises(report.ReportError, match="steps must be a list"):
        report.summarize({"run_id": "r", "steps": "x"})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(report.ReportError, match="is not JSON"):
        report.load_record(str(bad))
    with pytest.raises(report.ReportError, match="cannot read"):
        report.load_record(str(tmp_path / "missing.json"))


def test_files_are_written_once_and_check_mode_writes_nothing(tmp_path):
    record = planned_record()
    html_path, md_path = report.default_paths(record, str(tmp_path / "out"))
    dry = report.write_files(record, html_path, md_path, check_mode=True)
    assert dry["changed"] is True and not os.path.exists(str(tmp_path / "out"))
    done = report.write_files(record, html_path, md_path)
    assert done["changed"] is True
    with open(html_path, encoding="utf-8") as handle:
        assert handle.read() == dry["html"]
    with open(md_path, encoding="utf-8") as handle:
        assert handle.read() == dry["markdown"]
    assert report.write_files(record, html_path, md_path)["changed"] is False
    assert report.write_files(record, html_path, md_path, check_mode=True)["changed"] is False
    changed = report.write_files(planned_record(warnings=["another"]), html_path, md_path)
    assert changed["html_changed"] and changed["markdown_changed"]
    assert sorted(os.listdir(str(tmp_path / "out"))) == sorted(os.path.basename(p) for p in (html_path, md_path))


# --------------------------------------------------------------------------- a record made on the mock


DEMO_TIME_SCALE = 50   # the conftest's demo mock runs simulated jobs 50 times faster


@pytest.fixture
def clients(demo):
    demo.control.reset()
    made = dict((name, PapiClient(hosts=[demo.url(name)], username="admin", password="admin", name=name,
                                  retry_budget=5, backoff_base=0.05, backoff_cap=0.2)) for name in ("source", "target"))
    yield made
    for each in made.values():
        each.close()


def timed(steps, name, phase, fn):
    started = time.time()
    value = fn()
    steps.append({"name": name, "phase": phase, "started": started, "ended": time.time(), "status": "ok",
                  "objects": ["fin-ap", "fin-ar"], "changed": True, "details": {}})
    return value


def test_report_of_a_record_made_by_the_journal_on_the_mock(clients, tmp_path):
    names = ["fin-ap", "fin-ar"]
    book = journal.Journal(clients["target"], clients["source"], "unit-report")
    run = journal.start_run(book, "failover_planned", {"policies": names, "zone": "finance"}, [], {}, "ctl", "ops",
                            3600)
    steps = []
    policies = timed(steps, "Read the policies", "prepare",
                     lambda: [synciq.get_policy(clients["source"], name) for name in names])
    synced = timed(steps, "Final sync", "sync",
                   lambda: synciq.GroupSync(clients["source"], policies, poll_interval=0.2, timeout=60).run())
    assert not any(entry.get("failed") for entry in synced), synced
    points = dict((entry["name"], entry) for entry in synced)
    journal.flush_run(book, run["run_id"], {"steps": steps})
    steps.append({"name": "Allow writes (not timed: drawn from the previous end)", "phase": "cutover",
                  "ended": time.time(), "status": "skipped"})
    updates = {"steps": steps, "points_in_time": points, "manual_actions": ["Remount NFS clients"]}
    finished = journal.finish_run(book, run["run_id"], "ok", updates, record_dir=str(tmp_path))
    record = report.load_record(finished["record_file"])
    assert record["run_id"] == run["run_id"] and len(record["steps"]) == 3

    summary = report.summarize(record)
    assert summary["rto_s"] == pytest.approx(record["ended"] - record["started"], abs=0.001) and summary["rto_s"] > 0
    assert [p["name"] for p in summary["phases"]] == ["prepare", "sync", "cutover"]
    sync_step = record["steps"][1]
    assert summary["phases"][1]["duration_s"] == pytest.approx(sync_step["ended"] - sync_step["started"], abs=0.001)
    for name in names:
        point = summary["rpo"][name]
        end_time = float(record["points_in_time"][name]["end_time"])
        assert point["state"] == "finished" and point["recorded"]
        assert point["at_start_s"] == pytest.approx(record["started"] - end_time, abs=0.001)
        assert point["at_end_s"] == pytest.approx(record["ended"] - end_time, abs=0.001)
        # the final sync ended during the run
        assert record["started"] - 2 <= end_time <= record["ended"] + 2
    last = report.timeline(record)[2]
    assert last["inferred_start"] and last["started"] == sync_step["ended"]

    html_path, md_path = report.default_paths(record, str(tmp_path))
    report.write_files(record, html_path, md_path)
    with open(html_path, encoding="utf-8") as handle:
        page = handle.read()
    svg = svg_of(page)
    assert len(bars(svg, "step-bar")) == 3 and len(bars(svg, "phase-bar")) == 3
    with open(md_path, encoding="utf-8") as handle:
        text = handle.read()
    assert "| Scope | access zone finance; policies fin-ap, fin-ar |" in text
    assert "- Remount NFS clients" in text and "| User | ops |" in text
    assert json.loads(json.dumps(summary)) == summary   # the module returns it as JSON
