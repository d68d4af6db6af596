# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence report of a DR run, from its run record (docs/DESIGN.md 6.5); plain Python, no I/O but files.

* :func:`summarize` - the figures: the run's duration (RTO of the storage layer), each
  phase's and step's measured duration, the point in time reached per policy and the
  achieved RPO (run start and run end minus the point in time's ``end_time``).
* :func:`timeline` - one entry per step with the times it is drawn with: a step without
  ``started`` starts at the previous step's end (the run's start for the first one).
* :func:`render_markdown` and :func:`render_html` - the Markdown summary and a
  self-contained HTML page (inline CSS and inline SVG Gantt chart, no script, no external
  asset, a Content-Security-Policy that forbids loading anything). Every string taken from
  the record is escaped.
* :func:`build` and :func:`write_files` - what ``dr_report`` calls.

The output is deterministic for a given record (no "generated at" time), so writing it
again is not a change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import json
import math
import os
import re
import tempfile
import time

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"
NO_PHASE = "(no phase)"

OPERATIONS = {
    "failover_planned": "Planned failover",
    "failover_unplanned": "Unplanned failover",
    "failover_test": "DR rehearsal (test failover)",
    "failback_discard_target": "Failback, target changes discarded",
    "failback_discard_source": "Failback, target data copied back",
    "reprotect": "Reprotect",
    "fence": "Fence",
}

# SVG geometry (pixels)
SVG_WIDTH = 1000
LABEL_WIDTH = 330
RIGHT_MARGIN = 70
ROW_HEIGHT = 22
BAR_HEIGHT = 14
AXIS_HEIGHT = 28
MIN_BAR_WIDTH = 3
LABEL_CHARS = 48


class ReportError(Exception):
    """The record cannot be read or is not a run record."""


# --------------------------------------------------------------------------- input
def load_record(path):
    """The run record in the JSON file ``path`` (``<record_dir>/<run_id>.json`` of ``dr_run finish``)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as err:
        raise ReportError("cannot read the run record %s: %s" % (path, err))
    try:
        record = json.loads(data.decode("utf-8"))
    except ValueError as err:
        raise ReportError("%s is not JSON: %s" % (path, err))
    check_record(record)
    return record


def check_record(record):
    if not isinstance(record, dict):
        raise ReportError("a run record is a JSON object, got %s" % type(record).__name__)
    if not record.get("run_id") or not isinstance(record.get("run_id"), str):
        raise ReportError("the run record has no run_id: is it a record written by dr_run?")
    for key in ("steps", "warnings", "manual_actions", "unfenced_policies"):
        if record.get(key) is not None and not isinstance(record[key], list):
            raise ReportError("the run record's %s must be a list" % key)
    for key in ("points_in_time", "scope"):
        if record.get(key) is not None and not isinstance(record[key], dict):
            raise ReportError("the run record's %s must be an object" % key)


def _num(value):
    """A finite number of seconds, or None (missing, null, text that is no number)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    return number


def _text(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def safe_name(value):
    """A file name from a run id: letters, digits, ``.``, ``_`` and ``-`` only (no path from the record)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", _text(value)).strip("._") or "run"
    return name[:200]


# --------------------------------------------------------------------------- figures
def timeline(record):
    """``[{index, name, phase, status, changed, objects, started, ended, duration_s, inferred_start, details}]``.

    Times are epoch seconds. A step without ``started`` is drawn from the previous step's end
    (the run's start for the first step); a step without ``ended`` ends where it starts.
    """
    cursor = _num(record.get("started"))
    entries = []
    for index, step in enumerate(record.get("steps") or []):
        if not isinstance(step, dict):
            step = {"name": _text(step)}
        started, ended = _num(step.get("started")), _num(step.get("ended"))
        inferred = started is None
        if started is None:
            started = cursor if cursor is not None else ended
        if ended is None:
            ended = started
        if started is not None and ended is not None and ended < started:
            ended = started
        objects = step.get("objects")
        if not isinstance(objects, list):
            objects = [] if objects is None else [objects]
        entries.append({
            "index": index, "name": _text(step.get("name")) or "step %d" % (index + 1),
            "phase": _text(step.get("phase")) or NO_PHASE, "status": _text(step.get("status")) or "unknown",
            "changed": bool(step.get("changed")), "objects": [_text(o) for o in objects],
            "started": started, "ended": ended,
            "duration_s": None if started is None else round(ended - started, 3),
            "inferred_start": inferred, "details": step.get("details") or {},
        })
        if ended is not None:
            cursor = ended
    return entries


def _combined_status(statuses):
    if FAILED in statuses:
        return FAILED
    if any(s not in (OK, SKIPPED) for s in statuses):
        return sorted(s for s in statuses if s not in (OK, SKIPPED))[0]
    if OK in statuses:
        return OK
    return SKIPPED


def phases(steps):
    """Per phase, in order of first appearance: ``{name, started, ended, duration_s, steps, status}``.

    A phase lasts from its first step's start to its last step's end (wall time).
    """
    found = []
    by_name = {}
    for step in steps:
        phase = by_name.get(step["phase"])
        if phase is None:
            phase = {"name": step["phase"], "started": None, "ended": None, "steps": 0, "statuses": []}
            by_name[step["phase"]] = phase
            found.append(phase)
        phase["steps"] += 1
        phase["statuses"].append(step["status"])
        if step["started"] is not None:
            phase["started"] = step["started"] if phase["started"] is None else min(phase["started"], step["started"])
        if step["ended"] is not None:
            phase["ended"] = step["ended"] if phase["ended"] is None else max(phase["ended"], step["ended"])
    for phase in found:
        statuses = phase.pop("statuses")
        phase["status"] = _combined_status(statuses)
        phase["duration_s"] = (round(phase["ended"] - phase["started"], 3)
                               if phase["started"] is not None and phase["ended"] is not None else None)
    return found


def points_in_time(record):
    """Per policy of the scope (and of ``points_in_time``): the point in time and the achieved RPO.

    ``at_start_s`` = run start - the point in time's ``end_time`` (negative: reached during the
    run, by its final sync); ``at_end_s`` = run end - ``end_time``: an upper bound of the writes
    made on the source after the point in time, until the run ended.
    """
    started, ended = _num(record.get("started")), _num(record.get("ended"))
    reached = record.get("points_in_time") or {}
    names = list((record.get("scope") or {}).get("policies") or [])
    names += sorted(n for n in reached if n not in names)
    found = {}
    for name in names:
        point = reached.get(name)
        if not isinstance(point, dict):
            found[_text(name)] = {"end_time": None, "job_id": None, "report_id": None, "state": None,
                                  "at_start_s": None, "at_end_s": None, "recorded": False}
            continue
        end_time = _num(point.get("end_time"))
        found[_text(name)] = {
            "end_time": end_time, "job_id": point.get("job_id"), "report_id": point.get("report_id"),
            "state": point.get("state"), "recorded": True,
            "at_start_s": round(started - end_time, 3) if started is not None and end_time is not None else None,
            "at_end_s": round(ended - end_time, 3) if ended is not None and end_time is not None else None,
        }
    return found


def summarize(record):
    """The figures of the report (also the module's ``summary``)."""
    check_record(record)
    steps = timeline(record)
    started, ended = _num(record.get("started")), _num(record.get("ended"))
    rpo = points_in_time(record)
    worst = [p["at_end_s"] for p in rpo.values() if p["at_end_s"] is not None]
    return {
        "run_id": record["run_id"], "pair": record.get("pair"), "operation": record.get("operation"),
        "test": bool(record.get("test")), "status": record.get("status"),
        "started": started, "ended": ended,
        "rto_s": round(ended - started, 3) if started is not None and ended is not None else None,
        "complete": ended is not None and record.get("status") in (OK, FAILED),
        "rpo": rpo, "worst_rpo_s": max(worst) if worst else None,
        "phases": phases(steps), "steps": len(steps),
        "steps_failed": len([s for s in steps if s["status"] == FAILED]),
        "warnings": len(record.get("warnings") or []), "manual_actions": len(record.get("manual_actions") or []),
        "unfenced_policies": [_text(p) for p in record.get("unfenced_policies") or []],
    }


# --------------------------------------------------------------------------- formatting
def iso(epoch):
    if epoch is None:
        return "-"
    tenths = int(round(epoch * 10))
    return "%s.%dZ" % (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(tenths // 10)), tenths % 10)


def duration(seconds):
    """``12.3 s``, ``4 min 05 s``, ``2 h 03 min 04 s``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        return "%s%.1f s" % (sign, seconds)
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%s%d h %02d min %02d s" % (sign, hours, minutes, secs)
    return "%s%d min %02d s" % (sign, minutes, secs)


def rpo_text(point):
    """What the achieved RPO of one policy means, in words."""
    if not point["recorded"]:
        return "no point in time recorded"
    if point["end_time"] is None:
        return "point in time without an end time (state %s)" % (point["state"] or "unknown")
    if point["at_start_s"] is not None and point["at_start_s"] < 0:
        return "reached during the run, %s after its start" % duration(-point["at_start_s"])
    return "%s before the run started" % duration(point["at_start_s"])


def operation_label(record):
    return OPERATIONS.get(record.get("operation"), _text(record.get("operation")) or "DR run")


def _scope_text(record):
    scope = record.get("scope") or {}
    parts = []
    if scope.get("zone"):
        parts.append("access zone %s" % _text(scope["zone"]))
    if scope.get("policies"):
        parts.append("policies %s" % ", ".join(_text(p) for p in scope["policies"]))
    return "; ".join(parts) or "-"


TEST_NOTE = ("This run is marked as a test (DR rehearsal): the target was made writable for testing and "
             "then reverted; it proves that the target can take over and how long the storage steps take, "
             "not that clients, DNS or applications follow.")


# --------------------------------------------------------------------------- Markdown
def _md(value):
    """Record text made harmless in Markdown: HTML escaped, table pipes and newlines neutralised."""
    text = html.escape(_text(value), quote=False)
    text = re.sub(r"[\r\n]+", " ", text)
    return text.replace("|", "\\|").replace("`", "\\`")


def render_markdown(record, summary=None):
    summary = summary or summarize(record)
    steps = timeline(record)
    out = ["# DR run report: %s%s" % (_md(operation_label(record)), " (TEST)" if summary["test"] else ""), ""]
    facts = [
        ("Run", record["run_id"]), ("Pair", record.get("pair")), ("Operation", record.get("operation")),
        ("Test (rehearsal)", "yes" if summary["test"] else "no"), ("Status", record.get("status")),
        ("Scope", _scope_text(record)), ("Started", iso(summary["started"])), ("Ended", iso(summary["ended"])),
        ("Duration (storage RTO)", duration(summary["rto_s"])),
        ("User", record.get("user")), ("Controller", record.get("controller")),
    ]
    if record.get("resumes"):
        facts.append(("Resumed", "%d time(s)" % len(record["resumes"])))
    out += ["| | |", "|---|---|"] + ["| %s | %s |" % (_md(k), _md(v) or "-") for k, v in facts]
    if summary["test"]:
        out += ["", "> " + _md(TEST_NOTE)]
    if not summary["complete"]:
        out += ["", "> The run is not finished (status %s): durations end at the last recorded step."
                % _md(record.get("status") or "unknown")]
    out += ["", "## Point in time per policy (achieved RPO)", ""]
    if summary["rpo"]:
        out += ["| policy | job | state | point in time (end of sync) | run start - point in time | "
                "run end - point in time | |", "|---|---|---|---|---|---|---|"]
        for name, point in summary["rpo"].items():
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                _md(name), _md(point["job_id"]) or "-", _md(point["state"]) or "-", iso(point["end_time"]),
                duration(point["at_start_s"]), duration(point["at_end_s"]), _md(rpo_text(point))))
    else:
        out.append("No policy in the record.")
    out += ["", "## Phases", "", "| phase | start | end | duration | steps | status |", "|---|---|---|---|---|---|"]
    for phase in summary["phases"]:
        cells = (_md(phase["name"]), iso(phase["started"]), iso(phase["ended"]), duration(phase["duration_s"]),
                 phase["steps"], _md(phase["status"]))
        out.append("| %s | %s | %s | %s | %d | %s |" % cells)
    out += ["", "## Steps", "", "| # | step | phase | status | changed | start | end | duration | objects |",
            "|---|---|---|---|---|---|---|---|---|"]
    for step in steps:
        out.append("| %d | %s | %s | %s | %s | %s%s | %s | %s | %s |" % (
            step["index"] + 1, _md(step["name"]), _md(step["phase"]), _md(step["status"]),
            "yes" if step["changed"] else "no", iso(step["started"]), " (previous end)" if step["inferred_start"] else "",
            iso(step["ended"]), duration(step["duration_s"]), _md(", ".join(step["objects"])) or "-"))
    for title, key in (("Warnings", "warnings"), ("Left for a person to do", "manual_actions")):
        out += ["", "## %s" % title, ""]
        out += ["- %s" % _md(item) for item in record.get(key) or []] or ["None."]
    out += ["", "## Unfenced policies", ""]
    if summary["unfenced_policies"]:
        out += ["These source policies are still enabled: disable (fence) them before the source cluster returns.", ""]
        out += ["- %s" % _md(name) for name in summary["unfenced_policies"]]
    else:
        out.append("None.")
    out += ["", "_Written by onefs.dr dr_report from run record %s._" % _md(record["run_id"]), ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- HTML
def _h(value):
    return html.escape(_text(value), quote=True)


def _short(text, limit=LABEL_CHARS):
    text = _text(text)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _ticks(span):
    """A round tick interval giving 4 to 10 ticks over ``span`` seconds."""
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                 43200, 86400):
        if span / step <= 10:
            return step
    return span / 10.0


def _fmt(number):
    return ("%.1f" % number).rstrip("0").rstrip(".")


def render_svg(record, steps=None, phase_list=None):
    """The Gantt-like chart: one row and bar per phase, then one row and bar per step, on one time axis.

    Bars carry ``class="bar phase-bar"`` / ``class="bar step-bar status-<status>"`` and a
    ``data-index``; each has a ``<title>`` (tooltip) with its name and duration.
    """
    steps = timeline(record) if steps is None else steps
    phase_list = phases(steps) if phase_list is None else phase_list
    times = [t for s in steps for t in (s["started"], s["ended"]) if t is not None]
    times += [t for t in (_num(record.get("started")), _num(record.get("ended"))) if t is not None]
    origin = min(times) if times else 0.0
    span = (max(times) - origin) if times else 0.0
    span = span if span > 0 else 1.0
    chart_x, chart_w = LABEL_WIDTH, SVG_WIDTH - LABEL_WIDTH - RIGHT_MARGIN
    rows = len(phase_list) + len(steps) + (1 if phase_list and steps else 0)
    height = AXIS_HEIGHT + rows * ROW_HEIGHT + 10

    def xpos(epoch):
        return chart_x + (epoch - origin) / span * chart_w

    out = ['<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" width="%d" height="%d" '
           'viewBox="0 0 %d %d" aria-labelledby="timeline-title">' % (SVG_WIDTH, height, SVG_WIDTH, height),
           '<title id="timeline-title">Timeline of run %s: %d phase(s), %d step(s)</title>'
           % (_h(record.get("run_id")), len(phase_list), len(steps))]
    interval = _ticks(span)
    tick = 0.0
    while tick <= span + 1e-9:
        x = xpos(origin + tick)
        out.append('<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>' % (x, AXIS_HEIGHT - 6, x, height - 6))
        out.append('<text class="tick" x="%.1f" y="%d" text-anchor="middle">+%ss</text>'
                   % (x, AXIS_HEIGHT - 10, _fmt(tick)))
        tick += interval
    y = AXIS_HEIGHT

    def draw_bar(kind, index, name, entry, css):
        start = entry["started"] if entry["started"] is not None else origin
        end = entry["ended"] if entry["ended"] is not None else start
        x = xpos(start)
        width = max(MIN_BAR_WIDTH, xpos(end) - x)
        tip = "%s: %s (%s, %s to %s)" % (name, duration(entry["duration_s"]), entry["status"],
                                         iso(entry["started"]), iso(entry["ended"]))
        top = y + (ROW_HEIGHT - BAR_HEIGHT) // 2
        return ('<rect class="bar %s status-%s" data-index="%d" x="%.1f" y="%d" width="%.1f" height="%d" rx="2">'
                '<title>%s</title></rect>' % (kind, css, index, x, top, width, BAR_HEIGHT, _h(tip)))

    for index, phase in enumerate(phase_list):
        out.append('<text class="label phase-label" x="%d" y="%d">%s</text>'
                   % (LABEL_WIDTH - 8, y + ROW_HEIGHT - 7, _h(_short("phase " + phase["name"]))))
        out.append(draw_bar("phase-bar", index, "phase " + phase["name"], phase, _status_class(phase["status"])))
        out.append(_duration_label(xpos, origin, phase, y))
        y += ROW_HEIGHT
    if phase_list and steps:
        middle = y + ROW_HEIGHT // 2
        out.append('<line class="sep" x1="0" y1="%d" x2="%d" y2="%d"/>' % (middle, SVG_WIDTH, middle))
        y += ROW_HEIGHT
    for step in steps:
        label = "%d. %s" % (step["index"] + 1, step["name"])
        out.append('<text class="label" x="%d" y="%d">%s<title>%s</title></text>'
                   % (LABEL_WIDTH - 8, y + ROW_HEIGHT - 7, _h(_short(label)), _h(label)))
        out.append(draw_bar("step-bar", step["index"], label, step, _status_class(step["status"])))
        out.append(_duration_label(xpos, origin, step, y))
        y += ROW_HEIGHT
    out.append("</svg>")
    return "\n".join(out)


def _duration_label(xpos, origin, entry, y):
    end = entry["ended"] if entry["ended"] is not None else origin
    return '<text class="dur" x="%.1f" y="%d">%s</text>' % (min(SVG_WIDTH - RIGHT_MARGIN + 4, xpos(end) + 6),
                                                            y + ROW_HEIGHT - 7, _h(duration(entry["duration_s"])))


def _status_class(status):
    return status if status in (OK, FAILED, SKIPPED) else "other"


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:2rem;color:#1d2430;
background:#fff;line-height:1.4}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5dae1}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #d5dae1;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f1f4f8}td.num{text-align:right;white-space:nowrap}td{overflow-wrap:break-word}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.8rem;font-size:.85rem;font-weight:600;color:#fff}
.badge.ok{background:#2e7d32}.badge.failed{background:#c62828}.badge.other,.badge.skipped{background:#ef6c00}
.badge.test{background:#6a1b9a}.note{background:#f7f2fb;border-left:4px solid #6a1b9a;padding:.5rem 1rem}
.alert{background:#fdecea;border-left:4px solid #c62828;padding:.5rem 1rem}
.muted{color:#5f6b7a;font-size:.85rem}
svg.timeline{max-width:100%;height:auto;border:1px solid #d5dae1;background:#fbfcfd}
svg .label{font-size:12px;text-anchor:end;fill:#1d2430}svg .phase-label{font-weight:600}
svg .tick,svg .dur{font-size:10px;fill:#5f6b7a}svg .grid{stroke:#e3e7ec;stroke-width:1}
svg .sep{stroke:#c3cad3;stroke-dasharray:4 3}
svg .status-ok{fill:#43a047}svg .status-failed{fill:#e53935}svg .status-skipped{fill:#b0bec5}
svg .status-other{fill:#fb8c00}svg .phase-bar{fill-opacity:.55;stroke:#37474f;stroke-width:.5}
pre{white-space:pre-wrap;font-size:.8rem;margin:0}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _table(headers, rows, numeric=()):
    head = "<thead><tr>%s</tr></thead>" % "".join("<th>%s</th>" % _h(h) for h in headers) if headers else ""
    out = ["<table>%s<tbody>" % head]
    for row in rows:
        cells = []
        for pos, cell in enumerate(row):
            css = ' class="num"' if pos in numeric else ""
            cells.append("<td%s>%s</td>" % (css, cell))
        out.append("<tr>%s</tr>" % "".join(cells))
    out.append("</tbody></table>")
    return "\n".join(out)


def _list(items):
    if not items:
        return "<p>None.</p>"
    return "<ul>%s</ul>" % "".join("<li>%s</li>" % _h(item) for item in items)


def render_html(record, summary=None):
    """A self-contained HTML page (UTF-8): inline CSS, inline SVG, no script, nothing loaded."""
    summary = summary or summarize(record)
    steps = timeline(record)
    status = _text(record.get("status")) or "unknown"
    title = "DR run report: %s - %s" % (operation_label(record), record["run_id"])
    badge = '<span class="badge %s">%s</span>' % (_status_class(status), _h(status))
    out = ['<!DOCTYPE html>', '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="%s">' % CSP,
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<link rel="icon" href="data:,">',
           "<title>%s</title>" % _h(title), "<style>%s</style>" % CSS, "</head>", "<body>",
           "<h1>%s %s%s</h1>" % (_h(operation_label(record)), badge,
                                 ' <span class="badge test">TEST</span>' if summary["test"] else ""),
           '<p class="muted">Run %s of pair %s</p>' % (_h(record["run_id"]), _h(record.get("pair") or "-"))]
    if summary["test"]:
        out.append('<p class="note">%s</p>' % _h(TEST_NOTE))
    if not summary["complete"]:
        out.append('<p class="alert">The run is not finished (status %s): durations end at the last recorded step.</p>'
                   % _h(status))
    if summary["unfenced_policies"]:
        out.append('<p class="alert">Source policies still enabled (unfenced): %s. Disable them before the source '
                   'cluster returns.</p>' % _h(", ".join(summary["unfenced_policies"])))
    facts = [
        ("Operation", _h(record.get("operation"))), ("Test (rehearsal)", "yes" if summary["test"] else "no"),
        ("Status", _h(status)), ("Scope", _h(_scope_text(record))), ("Started", _h(iso(summary["started"]))),
        ("Ended", _h(iso(summary["ended"]))),
        ("Duration (RTO of the storage layer)", "<strong>%s</strong>" % _h(duration(summary["rto_s"]))),
        ("Worst achieved RPO (run end - point in time)", _h(duration(summary["worst_rpo_s"]))),
        ("User", _h(record.get("user") or "-")), ("Controller", _h(record.get("controller") or "-")),
    ]
    if record.get("resumes"):
        facts.append(("Resumed", "%d time(s)" % len(record["resumes"])))
    out.append("<h2>Run</h2>")
    out.append(_table(None, [("<strong>%s</strong>" % _h(k), v) for k, v in facts]))

    out.append("<h2>Point in time per policy (achieved RPO)</h2>")
    out.append('<p class="muted">The point in time is the end of the last sync that reached the target. Run start '
               'minus it is the data at risk when the run began (negative: reached during the run by its final '
               'sync); run end minus it bounds the writes made on the source after it.</p>')
    out.append(_table(["policy", "job", "report", "state", "point in time", "run start - point in time",
                       "run end - point in time", ""],
                      [(_h(name), _h(p["job_id"] if p["job_id"] is not None else "-"), _h(p["report_id"] or "-"),
                        _h(p["state"] or "-"), _h(iso(p["end_time"])), _h(duration(p["at_start_s"])),
                        _h(duration(p["at_end_s"])), _h(rpo_text(p))) for name, p in summary["rpo"].items()],
                      numeric=(5, 6)))

    out.append("<h2>Phases</h2>")
    out.append(_table(["phase", "start", "end", "duration", "steps", "status"],
                      [(_h(p["name"]), _h(iso(p["started"])), _h(iso(p["ended"])), _h(duration(p["duration_s"])),
                        "%d" % p["steps"], _h(p["status"])) for p in summary["phases"]], numeric=(3, 4)))

    out.append("<h2>Timeline</h2>")
    out.append('<figure>%s<figcaption class="muted">One bar per phase, then one per step, from its start to its '
               'end. A step recorded without a start is drawn from the end of the previous step.</figcaption>'
               '</figure>' % render_svg(record, steps, summary["phases"]))

    out.append("<h2>Steps</h2>")
    rows = []
    for step in steps:
        details = ""
        if step["details"]:
            details = "<details><summary>details</summary><pre>%s</pre></details>" % _h(
                json.dumps(step["details"], indent=1, sort_keys=True, default=str))
        rows.append(("%d" % (step["index"] + 1), _h(step["name"]) + details, _h(step["phase"]), _h(step["status"]),
                     "yes" if step["changed"] else "no",
                     _h(iso(step["started"])) + (' <span class="muted">(previous end)</span>'
                                                 if step["inferred_start"] else ""),
                     _h(iso(step["ended"])), _h(duration(step["duration_s"])), _h(", ".join(step["objects"]) or "-")))
    out.append(_table(["#", "step", "phase", "status", "changed", "start", "end", "duration", "objects"], rows,
                      numeric=(0, 7)))

    out.append("<h2>Warnings</h2>")
    out.append(_list([_text(w) for w in record.get("warnings") or []]))
    out.append("<h2>Left for a person to do</h2>")
    out.append(_list([_text(a) for a in record.get("manual_actions") or []]))
    out.append("<h2>Unfenced policies</h2>")
    out.append(_list(summary["unfenced_policies"]))
    out.append('<p class="muted">Written by onefs.dr dr_report from run record %s. Times are UTC.</p>'
               % _h(record["run_id"]))
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- files
def default_paths(record, dest_dir):
    base = os.path.join(dest_dir, safe_name(record["run_id"]))
    return base + ".html", base + ".md"


def build(record):
    """``(summary, html, markdown)`` of a record."""
    summary = summarize(record)
    return summary, render_html(record, summary), render_markdown(record, summary)


def _current(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_file(path, text, check_mode=False):
    """Write ``text`` (UTF-8) to ``path`` atomically unless it holds it already; returns whether it changed."""
    data = text.encode("utf-8")
    if _current(path) == data:
        return False
    if check_mode:
        return True
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder)
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def write_files(record, html_path, markdown_path, check_mode=False):
    """Render and write both files; ``{summary, html, markdown, changed, html_changed, markdown_changed}``."""
    summary, page, text = build(record)
    html_changed = write_file(html_path, page, check_mode)
    markdown_changed = write_file(markdown_path, text, check_mode)
    return {"summary": summary, "html": page, "markdown": text, "html_changed": html_changed,
            "markdown_changed": markdown_changed, "changed": html_changed or markdown_changed}
