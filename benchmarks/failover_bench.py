#!/usr/bin/env python3
"""Benchmark: planned failover + failback (discard source) of N policies, collection vs loop baseline.

For each N (default 1, 10, 100, 500) it starts the simulator (``onefs-mock`` CLI, plain HTTP,
``--latency-ms`` added to every API call, the scenario's simulated job times) with N synced
policies and runs, through ``ansible-playbook``:

* the collection: ``playbooks/failover.yml`` (role onefs.dr.failover, planned,
  ``failover_readiness: false``), the same command again (an idempotent re-run: time and writes),
  then ``playbooks/failback.yml`` (role onefs.dr.failback, ``failback_discard: source``);
* the baseline (N <= ``--baseline-max``; larger N extrapolated from a straight-line fit and
  marked as such): the same documented steps written the way playbooks are written today, one
  task per step with ``loop:`` over the policies and one policy per module call, each job
  waited for in turn (the collection's own modules in single-policy form).

Per N it prints and writes to ``benchmarks/RESULTS.md``: wall time, the lower bound computed from
the mock's parameters (dependent round trips x latency + job waves ceil(N/50) x job time, derived
in ``CHAIN``), ratio to the bound, speed-up over the baseline, Ansible tasks run, API requests
per policy (the mock's request log), peak RSS of ansible-playbook and its children, and where
the time of each step goes; draws ``benchmarks/failover_bench.svg`` (wall time against N).

    .venv/bin/python benchmarks/failover_bench.py                     # the full run (~25 min)
    .venv/bin/python benchmarks/failover_bench.py --sizes 1 10 --baseline-max 10
    .venv/bin/python benchmarks/failover_bench.py --quick             # N=1, fast jobs: a smoke run

Figures only: nothing here asserts a duration. Every run has a timeout; servers bind 127.0.0.1.
"""

import argparse
import heapq
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402  pylint: disable=wrong-import-position
import yaml  # noqa: E402  pylint: disable=wrong-import-position

ROOT = _common.ROOT
BENCH_DIR = ROOT / "benchmarks"
ANALYSIS_BEGIN = "<!-- analysis:begin (kept when the benchmark rewrites this file) -->"
ANALYSIS_END = "<!-- analysis:end -->"
ORIGINAL_SCHEDULE = "every 1 days at 12:00 AM"
WRITES = ("POST", "PUT", "DELETE", "PATCH")

# The unavoidable chain of dependent requests of one policy, with every policy handled at the same
# time (no request of a policy can be sent before the answer to the previous one: it decides it,
# or the documented order needs it), and the jobs on the way. "job:X" = a wave of simulated jobs.
CHAIN = {
    "failover": [
        ("login", "POST /session/1/session, both clusters at once", 1),
        ("read state", "GET the source policies, the target records and the journal, all at once", 1),
        ("journal start", "lock + original schedules cached on the clusters before any change (DESIGN 6.2 step 3)", 1),
        ("schedule to manual", "PUT /sync/policies/P {schedule: ''}", 1),
        ("start the final sync", "POST /sync/jobs {id: P}", 1),
        ("job:sync", "the final sync job", 0),
        ("see it end", "GET /sync/jobs (or the report)", 1),
        ("disable on the source", "PUT /sync/policies/P {enabled: false} (before the target is writable)", 1),
        ("allow writes", "POST /sync/jobs {id: P, action: allow_write} on the target", 1),
        ("job:fofb", "the allow_write job", 0),
        ("see it end", "GET the target record (writes_enabled)", 1),
        ("journal finish", "run record + unlock, both clusters at once", 1),
    ],
    "failback": [
        ("login", "POST /session/1/session, both clusters at once", 1),
        ("read state", "GET policies and target records of both clusters and the journal, all at once", 1),
        ("journal start", "lock + open the run", 1),
        ("schedule to manual", "none: the failover left it manual (read in 'read state')", 0),
        ("enable", "PUT /sync/policies/P {enabled: true} (OneFS refuses resync_prep of a disabled policy)", 1),
        ("resync-prep", "POST /sync/jobs {id: P, action: resync_prep} on the source", 1),
        ("job:fofb", "the resync_prep job (creates P_mirror on the target)", 0),
        ("see it end", "GET the job / the mirror", 1),
        ("run the mirror", "POST /sync/jobs {id: P_mirror} on the target", 1),
        ("job:sync", "the mirror's sync job", 0),
        ("see it end", "GET /sync/jobs", 1),
        ("allow writes on the source", "POST /sync/jobs {id: P_mirror, action: allow_write} on the source", 1),
        ("job:fofb", "the allow_write job", 0),
        ("see it end", "GET the source's target record", 1),
        ("resync-prep the mirror", "POST /sync/jobs {id: P_mirror, action: resync_prep} on the target", 1),
        ("job:fofb", "the resync_prep job (P enabled again on the source)", 0),
        ("see it end", "GET the job / P", 1),
        ("delete the mirror + restore the schedule",
         "DELETE /sync/policies/P_mirror (target) and PUT P {schedule} (source), at once", 1),
        ("journal finish", "run record + unlock", 1),
    ],
}


# ----------------------------------------------------------------------------------- the bound
def job_times(opts):
    scale = opts.time_scale
    return {"sync": opts.job_s / scale, "fofb": opts.fofb_s / scale}


def lower_bound(count, opts):
    """Seconds no orchestration of ``count`` policies can beat on this mock; and its parts."""
    times = job_times(opts)
    waves = math.ceil(count / float(opts.max_running_jobs))
    chains = [CHAIN[operation] for operation in opts.operations]
    trips = sum(n for chain in chains for _, _, n in chain)
    jobs = sum(times[step.split(":", 1)[1]] for chain in chains for step, _, _ in chain if step.startswith("job:"))
    return {"round_trips": trips, "latency_s": trips * opts.latency_ms / 1000.0, "waves": waves,
            "job_s_per_wave": jobs, "jobs_s": waves * jobs,
            "total": trips * opts.latency_ms / 1000.0 + waves * jobs}


# The jobs of one policy, in order, with the cluster each runs on: what a per-policy pipeline
# (each policy goes on to its next job as soon as its last one ended) could overlap.
JOB_STAGES = {
    "failover": [("source", "sync"), ("target", "fofb")],
    "failback": [("source", "fofb"), ("target", "sync"), ("source", "fofb"), ("target", "fofb")],
}


def pipelined_jobs_s(count, operation, opts):
    """Job time of ``count`` policies when each policy moves on alone (not built: see RESULTS.md).

    Every cluster runs at most ``max_running_jobs`` jobs at once, and a policy's next job waits for
    its previous one; policies take free slots in the order they became ready. The roles wait for a
    whole step instead (a step ends before the next starts), which is what ``lower_bound`` counts.
    """
    times = job_times(opts)
    slots = {cluster: [0.0] * opts.max_running_jobs for cluster, _ in JOB_STAGES[operation]}
    ready = [0.0] * count
    for cluster, kind in JOB_STAGES[operation]:
        free = slots[cluster]
        heapq.heapify(free)
        for index in sorted(range(count), key=lambda i: ready[i]):
            start = max(heapq.heappop(free), ready[index])
            ready[index] = start + times[kind]
            heapq.heappush(free, ready[index])
    return max(ready) if ready else 0.0


# ----------------------------------------------------------------------------------- playbooks
def connection(url):
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return {"onefs_host": "http://%s" % host, "onefs_port": int(port), "username": "admin", "password": "admin",
            "validate_certs": False}


def write_inventory(path, urls, names, record_dir):
    host = {"ansible_connection": "local", "onefs_dr_pair": "bench", "onefs_dr_source": connection(urls["source"]),
            "onefs_dr_target": connection(urls["target"]), "onefs_dr_policies": names,
            "onefs_dr_record_dir": str(record_dir), "bench_schedule": ORIGINAL_SCHEDULE}
    Path(path).write_text(json.dumps({"all": {"hosts": {"bench-pair": host}}}, indent=1))


def _task(name, module, args, cluster, poll):
    lines = ["    - name: %s" % name, "      %s:" % module]
    for key, value in args.items():
        lines.append("        %s: %s" % (key, value))
    if poll is not None and module.split(".")[-1] in ("rg_sync", "local_target", "resync_prep"):
        lines.append("        poll_interval: %s" % poll)
    lines += ["      loop: \"{{ onefs_dr_policies }}\"",
              "      module_defaults:",
              "        group/onefs.dr.onefs: \"{{ onefs_dr_%s }}\"" % cluster]
    return "\n".join(lines)


def baseline_playbook(kind, poll):
    """The documented steps as users write them today: one task per step, a loop, one policy per call."""
    mirror = "\"{{ item }}_mirror\""
    one, one_mirror = "[\"{{ item }}\"]", "[\"{{ item }}_mirror\"]"
    if kind == "failover":
        title = "Baseline planned failover, one policy per module call"
        steps = [
            _task("Step 1 - Set the schedule to manual", "onefs.dr.synciq_policy",
                  {"name": "\"{{ item }}\"", "schedule": "manual"}, "source", poll),
            _task("Step 2 - Run the final sync and wait for it", "onefs.dr.rg_sync",
                  {"policies": one, "mode": "sync"}, "source", poll),
            _task("Step 3 - Disable the policy on the source", "onefs.dr.synciq_policy",
                  {"name": "\"{{ item }}\"", "enabled": "false"}, "source", poll),
            _task("Step 4 - Allow writes on the target", "onefs.dr.local_target",
                  {"policies": one, "state": "writes_enabled"}, "target", poll),
        ]
    else:
        title = "Baseline failback keeping the target data (seed 000 discard source), one policy per call"
        steps = [
            _task("Step 1 - Set the source policy schedule to manual", "onefs.dr.synciq_policy",
                  {"name": "\"{{ item }}\"", "schedule": "manual"}, "source", poll),
            _task("Step 2 - Enable the source policy", "onefs.dr.synciq_policy",
                  {"name": "\"{{ item }}\"", "enabled": "true"}, "source", poll),
            _task("Step 3 - Resync-prep the source policy", "onefs.dr.resync_prep",
                  {"policies": one, "peer": "\"{{ onefs_dr_target }}\""}, "source", poll),
            _task("Step 4 - Run the mirror policy on the target", "onefs.dr.rg_sync",
                  {"policies": one_mirror, "mode": "sync"}, "target", poll),
            _task("Step 5 - Allow writes on the source for the mirror", "onefs.dr.local_target",
                  {"policies": one_mirror, "state": "writes_enabled"}, "source", poll),
            _task("Step 6 - Resync-prep the mirror policy", "onefs.dr.resync_prep",
                  {"policies": one_mirror, "peer": "\"{{ onefs_dr_source }}\""}, "target", poll),
            _task("Step 7 - Delete the mirror policy", "onefs.dr.synciq_policy",
                  {"name": mirror, "state": "absent"}, "target", poll),
            _task("Step 8 - Restore the source policy schedule", "onefs.dr.synciq_policy",
                  {"name": "\"{{ item }}\"", "schedule": "\"{{ bench_schedule }}\""}, "source", poll),
        ]
    return "\n".join([
        "---",
        "- name: %s" % title,
        "  hosts: all",
        "  gather_facts: false",
        "  connection: local",
        "  vars:",
        "    ansible_python_interpreter: \"{{ ansible_playbook_python }}\"",
        "    ansible_pipelining: true",
        "  tasks:",
    ] + steps) + "\n"


# ----------------------------------------------------------------------------------- running
def ansible_playbook():
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.exists() else (shutil.which("ansible-playbook") or "ansible-playbook")


def run_playbook(playbook, inventory, extra_vars, work, label, timeout, collections):
    """Run ansible-playbook; wall time, rc, peak RSS of it and its children (wait4), per-task rows."""
    timing_file = work / ("timing-%s.json" % label)
    log_file = work / ("ansible-%s.log" % label)
    vars_file = work / ("vars-%s.json" % label)
    vars_file.write_text(json.dumps(extra_vars))
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_CALLBACK_PLUGINS": str(work / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "bench_timing",
        "BENCH_TIMING_FILE": str(timing_file),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    })
    cmd = [ansible_playbook(), "-i", str(inventory), str(playbook), "-e", "@%s" % vars_file]
    with open(log_file, "w") as log:
        started_wall = time.time()
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(work),
                                start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    timing = json.loads(timing_file.read_text()) if timing_file.exists() else {"tasks": []}
    return {"label": label, "wall": wall, "rc": proc.returncode, "start": started_wall,
            "end": started_wall + wall, "peak_rss_mib": usage.ru_maxrss / 1024.0,
            "cpu_s": usage.ru_utime + usage.ru_stime, "timing": timing,
            "log": str(log_file), "timed_out": wall >= timeout}


def check_run(run):
    if run["rc"] != 0:
        tail = Path(run["log"]).read_text().splitlines()[-40:]
        why = ", timed out" if run["timed_out"] else ""
        raise SystemExit("%s failed (rc %s%s):\n%s" % (run["label"], run["rc"], why, "\n".join(tail)))


def verify(urls, names, phase):
    """The mock's state after a phase: every policy where it should be (raises otherwise)."""
    source = _common.control(urls["source"], "GET", "state")
    target = _common.control(urls["target"], "GET", "state")
    policies = dict((p["name"], p) for p in source["policies"])
    records = dict((r["name"], r) for r in target["target_policies"])
    mirrors = [p["name"] for p in target["policies"] if p["name"].endswith("_mirror")]
    wrong = []
    for name in names:
        policy, record = policies.get(name), records.get(name)
        if policy is None or record is None:
            wrong.append("%s missing" % name)
        elif phase == "failover" and (policy["enabled"] or record["failover_failback_state"] != "writes_enabled"):
            wrong.append("%s: enabled %s, record %s" % (name, policy["enabled"], record["failover_failback_state"]))
        elif phase == "failback" and (not policy["enabled"] or policy["schedule"] != ORIGINAL_SCHEDULE
                                      or record["failover_failback_state"] != "writes_disabled"):
            wrong.append("%s: enabled %s, schedule %r, record %s" % (
                name, policy["enabled"], policy["schedule"], record["failover_failback_state"]))
    if phase == "failback" and mirrors:
        wrong.append("mirrors left on the target: %s" % ", ".join(mirrors[:5]))
    if wrong:
        raise SystemExit("state after the %s is wrong: %s" % (phase, "; ".join(wrong[:10])))


def measure(run, urls, count):
    """Attach the run's API requests (from the mock's log, cleared before the run) and its figures."""
    log = _common.api_requests(urls["source"])
    Path(run["log"]).with_suffix(".requests.json").write_text(json.dumps(log))
    writes = [e for e in log if e["method"] in WRITES and not e["path"].startswith("/session/")]
    tasks = run["timing"]["tasks"]
    ran = [t for t in tasks if t["status"] not in ("skipped", "started")]
    onefs = [t for t in ran if t["action"].startswith("onefs.dr.")]
    run.update({
        "requests": len(log), "writes": len(writes),
        "requests_per_policy": len(log) / float(count),
        "tasks_run": len(ran), "tasks_skipped": sum(1 for t in tasks if t["status"] == "skipped"),
        "module_runs": sum(max(t["items"], 1) + t.get("retries", 0) for t in onefs),
        "steps": step_breakdown(tasks, log, run),
    })
    return run


# ----------------------------------------------------------------------------------- analysis
def _union(intervals):
    total, end = 0.0, None
    for lo, hi in sorted(intervals):
        if end is None or lo > end:
            total += hi - lo
            end = hi
        elif hi > end:
            total += hi - end
            end = hi
    return total


def _job_action(entry):
    body = entry.get("body") if isinstance(entry.get("body"), dict) else {}
    return body.get("action") or "sync"


def step_breakdown(tasks, log, run):
    """Per task: duration, requests, module start-up (task start -> first request), API busy time,
    idle time inside the module (sleeps and client CPU), jobs started and their wave floor."""
    spans = [(e["ts"] - e["duration_ms"] / 1000.0, e["ts"], e) for e in log]
    rows = []
    previous_end = run["start"]
    for task in tasks:
        if task["end"] is None:
            continue
        lo, hi = task["start"], task["end"]
        inside = [(a, b, e) for a, b, e in spans if a >= lo - 0.002 and b <= hi + 0.002]
        row = {"name": task["name"], "action": task["action"], "status": task["status"],
               "duration": hi - lo, "gap_before": max(0.0, lo - previous_end), "requests": len(inside),
               "items": task["items"], "retries": task.get("retries", 0), "objects": task.get("objects"),
               "waited_s": task.get("waited_s")}
        previous_end = hi
        if inside:
            first = min(a for a, _, _ in inside)
            last = max(b for _, b, _ in inside)
            busy = _union([(a, b) for a, b, _ in inside])
            row.update(startup=first - lo, tail=hi - last, busy=busy, idle=(last - first) - busy)
            jobs = {}
            for _, _, entry in inside:
                if entry["method"] == "POST" and entry["path"].endswith("/sync/jobs") and entry["status"] < 300:
                    action = _job_action(entry)
                    jobs[action] = jobs.get(action, 0) + 1
            row["jobs"] = jobs
            row["gets"] = sum(1 for _, _, e in inside if e["method"] == "GET")
        rows.append(row)
    run["tail_after_tasks"] = max(0.0, run["end"] - previous_end)
    return rows


def classify(run, opts):
    """Split a run's wall time: ansible start-up and exit, between tasks, tasks without API calls,
    module start-up/exit, API round trips, idle inside modules (of which job floor)."""
    times = job_times(opts)
    parts = {"ansible start-up + exit": 0.0, "between tasks (controller)": 0.0, "tasks without API calls": 0.0,
             "module start-up + exit": 0.0, "API requests in flight": 0.0, "idle inside modules": 0.0}
    job_floor = 0.0
    steps = run["steps"]
    if steps:
        parts["ansible start-up + exit"] = steps[0]["gap_before"] + run["tail_after_tasks"]
    for i, step in enumerate(steps):
        if i:
            parts["between tasks (controller)"] += step["gap_before"]
        if "busy" not in step:
            parts["tasks without API calls"] += step["duration"]
            continue
        parts["module start-up + exit"] += step["startup"] + step["tail"]
        parts["API requests in flight"] += step["busy"]
        parts["idle inside modules"] += step["idle"]
        for action, count in step.get("jobs", {}).items():
            kind = "sync" if action in ("sync", "run") else "fofb"
            job_floor += math.ceil(count / float(opts.max_running_jobs)) * times[kind]
    return parts, job_floor


# ----------------------------------------------------------------------------------- one size
def run_size(count, opts, work_root):
    work = work_root / ("n%d" % count)
    work.mkdir(parents=True)
    (work / "callback_plugins").mkdir()
    shutil.copy(str(BENCH_DIR / "_timing_callback.py"), str(work / "callback_plugins" / "bench_timing.py"))
    names = [_common.policy_name(i) for i in range(count)]
    seed = _common.write_seed(work / "seed.json", _common.policy_scenario(
        count, opts.job_s, opts.fofb_s, opts.max_running_jobs, schedule=ORIGINAL_SCHEDULE))
    inventory = work / "inventory.json"
    records = work / "records"
    records.mkdir()
    timeout = opts.run_timeout
    out = {"n": count}
    proc, urls = _common.start_mock(seed, opts.latency_ms, opts.time_scale, opts.tree / "tests" / "mock_api")
    try:
        write_inventory(inventory, urls, names, records)
        poll = {} if opts.poll_interval is None else {"failover_poll_interval": opts.poll_interval,
                                                      "failback_poll_interval": opts.poll_interval}
        poll.update(opts.role_vars)

        def collection(label, playbook, extra):
            _common.control(urls["source"], "DELETE", "requests")
            run = run_playbook(opts.tree / "playbooks" / playbook, inventory, dict(extra, **poll), work, label,
                               timeout, opts.collections)
            check_run(run)
            return measure(run, urls, count)

        print("  N=%d collection failover ..." % count, flush=True)
        out["failover"] = collection("failover", "failover.yml",
                                     {"failover_confirm": True, "failover_readiness": False})
        verify(urls, names, "failover")
        if opts.rerun:
            print("  N=%d collection failover again (idempotent re-run) ..." % count, flush=True)
            out["rerun"] = collection("rerun", "failover.yml", {"failover_confirm": True, "failover_readiness": False})
            verify(urls, names, "failover")
        if "failback" in opts.operations:
            print("  N=%d collection failback (discard source) ..." % count, flush=True)
            out["failback"] = collection("failback", "failback.yml",
                                         {"failback_confirm": True, "failback_discard": "source"})
            verify(urls, names, "failback")

        if count <= opts.baseline_max:
            _common.control(urls["source"], "POST", "reset")
            for kind in opts.operations:
                print("  N=%d baseline %s ..." % (count, kind), flush=True)
                playbook = work / ("baseline-%s.yml" % kind)
                playbook.write_text(baseline_playbook(kind, opts.poll_interval))
                _common.control(urls["source"], "DELETE", "requests")
                run = run_playbook(playbook, inventory, {}, work, "baseline-" + kind, timeout, opts.collections)
                check_run(run)
                out["baseline_" + kind] = measure(run, urls, count)
                verify(urls, names, kind)
    finally:
        _common.stop_mock(proc)
    return out


# ----------------------------------------------------------------------------------- report
def fit_line(points):
    """Least-squares a + b*N through measured (N, seconds); one point: proportional to N."""
    if len(points) == 1:
        return 0.0, points[0][1] / float(points[0][0])
    n = float(len(points))
    sx = sum(x for x, _ in points)
    sy = sum(y for _, y in points)
    sxx = sum(x * x for x, _ in points)
    sxy = sum(x * y for x, y in points)
    slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    return (sy - slope * sx) / n, slope


def summarise(results, opts):
    def both(result, prefix=""):
        return [result[prefix + op] for op in opts.operations]

    def pair(runs, key, default=0):
        return tuple([run[key] for run in runs] + [default] * (2 - len(runs)))

    measured = [(r["n"], sum(run["wall"] for run in both(r, "baseline_")))
                for r in results if "baseline_failover" in r]
    base_a, base_b = fit_line(measured) if measured else (None, None)
    rows = []
    for r in results:
        n = r["n"]
        bound = lower_bound(n, opts)
        runs = both(r)
        wall = sum(run["wall"] for run in runs)
        row = {"n": n, "wall": wall, "failover_wall": r["failover"]["wall"],
               "failback_wall": r["failback"]["wall"] if "failback" in r else None,
               "bound": bound["total"], "ratio": wall / bound["total"],
               "tasks": pair(runs, "tasks_run"), "module_runs": pair(runs, "module_runs"),
               "req_per_policy": pair(runs, "requests_per_policy", 0.0),
               "rss": max(run["peak_rss_mib"] for run in runs), "cpu": sum(run["cpu_s"] for run in runs)}
        if "rerun" in r:
            row["rerun"] = (r["rerun"]["wall"], r["rerun"]["writes"], r["rerun"]["wall"] / r["failover"]["wall"])
        if "baseline_failover" in r:
            bases = both(r, "baseline_")
            bf, bb = bases[0], bases[-1]
            row.update(baseline=sum(run["wall"] for run in bases), baseline_measured=True,
                       baseline_tasks=(bf["tasks_run"], bb["tasks_run"]),
                       baseline_module_runs=(bf["module_runs"], bb["module_runs"]),
                       baseline_req_per_policy=(bf["requests_per_policy"], bb["requests_per_policy"]),
                       baseline_rss=max(bf["peak_rss_mib"], bb["peak_rss_mib"]),
                       baseline_cpu=sum(run["cpu_s"] for run in bases))
        elif base_a is not None:
            row.update(baseline=base_a + base_b * n, baseline_measured=False)
        if row.get("baseline"):
            row["speedup"] = row["baseline"] / wall
        rows.append(row)
    return rows, (base_a, base_b)


def fmt_s(value):
    return "%.1f" % value if value < 100 else "%.0f" % value


def table(rows):
    lines = [
        "| N | collection wall s (failover + failback) | lower bound s | ratio to bound | baseline wall s "
        "| speed-up | Ansible tasks run: collection (baseline) | module runs: collection (baseline) "
        "| API requests per policy: failover / failback (baseline) | peak RSS MiB: collection (baseline) "
        "| controller CPU s: collection (baseline) |",
        "|---:|---|---:|---:|---|---:|---|---|---|---|---|",
    ]
    for row in rows:
        if "baseline" in row:
            base = "%s%s" % (fmt_s(row["baseline"]), "" if row["baseline_measured"] else " (extrapolated)")
            speed = "%.1f×%s" % (row["speedup"], "" if row["baseline_measured"] else " (extr.)")
        else:
            base, speed = "—", "—"
        single = row["failback_wall"] is None
        tasks = "%d" % row["tasks"][0] if single else "%d + %d" % row["tasks"]
        runs = "%d" % row["module_runs"][0] if single else "%d + %d" % row["module_runs"]
        reqs = "%.1f" % row["req_per_policy"][0] if single else "%.1f / %.1f" % row["req_per_policy"]
        rss = "%.0f" % row["rss"]
        cpu = "%.0f" % row["cpu"]
        if row.get("baseline_measured"):
            tasks += " (%d)" % row["baseline_tasks"][0] if single else " (%d + %d)" % row["baseline_tasks"]
            runs += " (%d)" % row["baseline_module_runs"][0] if single else " (%d + %d)" % row["baseline_module_runs"]
            reqs += (" (%.1f)" % row["baseline_req_per_policy"][0] if single
                     else " (%.1f / %.1f)" % row["baseline_req_per_policy"])
            rss += " (%.0f)" % row["baseline_rss"]
            cpu += " (%.0f)" % row["baseline_cpu"]
        lines.append("| %d | %s (%s + %s) | %s | %.2f | %s | %s | %s | %s | %s | %s | %s |" % (
            row["n"], fmt_s(row["wall"]), fmt_s(row["failover_wall"]),
            "—" if row["failback_wall"] is None else fmt_s(row["failback_wall"]),
            fmt_s(row["bound"]), row["ratio"], base, speed, tasks, runs, reqs, rss, cpu))
    return lines


def rerun_table(rows):
    lines = ["| N | first failover s | idempotent re-run s | re-run / first | writes of the re-run |",
             "|---:|---:|---:|---:|---:|"]
    for row in rows:
        if "rerun" in row:
            lines.append("| %d | %s | %s | %.0f %% | %d |" % (row["n"], fmt_s(row["failover_wall"]),
                                                              fmt_s(row["rerun"][0]), 100 * row["rerun"][2],
                                                              row["rerun"][1]))
    return lines


def targets_section(rows):
    """The targets of issue 8, against this run's figures (measured at the N given, when it was run)."""
    by_n = dict((row["n"], row) for row in rows)
    lines = ["| target (issue 8) | measured | met |", "|---|---|---|"]

    def add(text, value, met):
        lines.append("| %s | %s | %s |" % (text, value, "—" if met is None else ("yes" if met else "**no**")))

    for n, limit in ((100, 1.5), (500, 2.0)):
        row = by_n.get(n)
        add("ratio to the lower bound ≤ %g at N = %d" % (limit, n), "%.2f" % row["ratio"] if row else "not run",
            row["ratio"] <= limit if row else None)
    row = by_n.get(100)
    if row and "speedup" in row:
        add("≥ 10× faster than the baseline at N = 100", "%.1f×%s" % (
            row["speedup"], "" if row["baseline_measured"] else " (baseline extrapolated)"), row["speedup"] >= 10)
    else:
        add("≥ 10× faster than the baseline at N = 100", "not run", None)
    counts = [(row["n"], row["tasks"][0]) for row in rows]
    add("Ansible tasks of a failover do not grow with N", ", ".join("%d at N = %d" % (t, n) for n, t in counts),
        len(set(t for _, t in counts)) == 1 if len(counts) > 1 else None)
    largest = rows[-1]
    add("API requests per policy of a planned failover (report; remove every one not needed)",
        "%.1f at N = %d" % (largest["req_per_policy"][0], largest["n"]), None)
    row = by_n.get(500)
    if row and "rerun" in row:
        add("idempotent re-run at N = 500: < 10 % of the first run, no write",
            "%.0f %% (%.1f s of %.1f s), %d writes" % (
                100 * row["rerun"][2], row["rerun"][0], row["failover_wall"], row["rerun"][1]),
            row["rerun"][2] < 0.10 and row["rerun"][1] == 0)
    else:
        add("idempotent re-run at N = 500: < 10 % of the first run, no write", "not run", None)
    return lines


def bound_section(opts):
    times = job_times(opts)
    lines = [
        "Mock parameters: %d ms added to every API request; sync job %.2f s (`job_overhead_s` %.2f, no changed "
        "bytes); failover/failback job %.2f s (`fofb_job_s` %.2f); time scale %g; at most %d jobs at once per "
        "cluster (`max_running_jobs`)." % (opts.latency_ms, times["sync"], opts.job_s, times["fofb"], opts.fofb_s,
                                           opts.time_scale, opts.max_running_jobs),
        "",
        "Lower bound = (dependent round trips of one policy) × latency + ceil(N / %d) × (job time per wave). "
        "Every policy is assumed to be handled at the same time (requests of different policies overlap "
        "freely); within one policy, each request below needs the answer to the one before it (it decides "
        "it, or the documented order requires it). Each step waits for its own wave of jobs (a step ends "
        "before the next one starts)." % opts.max_running_jobs,
        "",
    ]
    for operation in ("failover", "failback"):
        lines += ["**%s** (%s):" % (operation.capitalize(), "planned, policies only: no pools, SPNs, quotas"
                                    if operation == "failover" else "discard source, seed 000"),
                  "", "| # | step | request | round trips | job wave s |", "|---:|---|---|---:|---:|"]
        trips = 0
        wave = 0.0
        for index, (step, text, count) in enumerate(CHAIN[operation], 1):
            if step.startswith("job:"):
                seconds = times[step.split(":", 1)[1]]
                wave += seconds
                lines.append("| %d | %s | %s | | %.2f |" % (index, "job", text, seconds))
            else:
                trips += count
                lines.append("| %d | %s | %s | %d | |" % (index, step, text, count))
        lines += ["| | **total** | | **%d** | **%.2f** |" % (trips, wave), ""]
    example = lower_bound(500, opts)
    lines.append("Total: %d round trips × %d ms = %.2f s, plus %.2f s of jobs per wave; for N = 500: %.2f + "
                 "%d × %.2f = %.2f s. Not counted: ansible-playbook's own start-up, module process start-up, "
                 "the mock's CPU time per request, and logouts (none of them is imposed by the clusters)."
                 % (example["round_trips"], opts.latency_ms, example["latency_s"], example["job_s_per_wave"],
                    example["latency_s"], example["waves"], example["job_s_per_wave"], example["total"]))
    lines += ["", "**Step by step against a per-policy pipeline.** The roles run each documented step for the "
              "whole group and start the next step when every policy is through (Eyeglass also groups "
              "make-writable and resync-prep for all policies): that keeps a group consistent (no policy of "
              "the group is made writable while the final sync of another failed). Each cluster has its own "
              "%d job slots, so a pipeline in which every policy moves on alone would overlap the source's "
              "jobs with the target's: its job time, computed (not built, not measured):" % opts.max_running_jobs,
              "", "| N | job time, step by step: failover + failback s | per-policy pipeline s |", "|---:|---:|---:|"]
    for count in opts.sizes:
        stepwise = lower_bound(count, opts)["jobs_s"]
        piped = sum(pipelined_jobs_s(count, operation, opts) for operation in opts.operations)
        lines.append("| %d | %.1f | %.1f |" % (count, stepwise, piped))
    return lines


def steps_section(result, opts):
    """Per-step table of the collection's failover and failback at one N (the largest measured)."""
    times = job_times(opts)
    n = result["n"]
    lines = []
    for label in opts.operations:
        run = result[label]
        parts, floor = classify(run, opts)
        lines += ["**Collection %s, N = %d: %.1f s** (job waves of its steps: %.1f s)" % (label, n, run["wall"], floor),
                  "", "| where | seconds | share |", "|---|---:|---:|"]
        for key, value in parts.items():
            lines.append("| %s | %.1f | %.0f %% |" % (key, value, 100.0 * value / run["wall"]))
        lines += ["", "| task | s | requests | req / policy | start-up s | API busy s | idle s | jobs (waves × s) |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
        for step in run["steps"]:
            if step["status"] == "skipped" or step["duration"] < 0.3 and not step["requests"]:
                continue
            jobs = ", ".join(
                "%d %s (%d × %.1f)" % (count, action, math.ceil(count / float(opts.max_running_jobs)),
                                       times["sync" if action in ("sync", "run") else "fofb"])
                for action, count in sorted(step.get("jobs", {}).items()))
            if "busy" in step:
                per = step["requests"] / float(n)
                lines.append("| %s | %.1f | %d | %s | %.1f | %.1f | %.1f | %s |" % (
                    step["name"].replace("|", "/"), step["duration"], step["requests"],
                    "%.1f" % per if per >= 0.95 or n == 1 else "%.2f" % per,
                    step["startup"], step["busy"], step["idle"], jobs))
            else:
                lines.append("| %s | %.1f | 0 | | | | | |" % (step["name"].replace("|", "/"), step["duration"]))
        lines += ["(tasks under 0.3 s without API requests left out; they are in *tasks without API calls*)", ""]
    return lines


def baseline_steps_section(result):
    n = result["n"]
    lines = ["**Baseline, N = %d** (one module run per policy per step)" % n, "",
             "| task | s | items | s per item | requests per item |", "|---|---:|---:|---:|---:|"]
    for label in ("baseline_failover", "baseline_failback"):
        for step in result.get(label, {}).get("steps", []):
            if not step["items"]:
                continue
            items = float(step["items"])
            lines.append("| %s | %.1f | %d | %.2f | %.1f |" % (
                step["name"], step["duration"], step["items"], step["duration"] / items, step["requests"] / items))
    lines.append("")
    return lines


def svg_chart(rows, path, caption=""):
    """Wall time against N, log-log: the collection, the baseline (dashed where extrapolated), the bound."""
    width, height, left, right, top, bottom = 760, 460, 80, 200, 32, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    ns = [r["n"] for r in rows]
    values = [r["wall"] for r in rows] + [r["bound"] for r in rows] + [r["baseline"] for r in rows if "baseline" in r]
    x_lo, x_hi = math.log10(min(ns + [1])), math.log10(max(ns + [10]))
    y_lo = math.floor(math.log10(max(min(values), 0.1)))
    y_hi = math.ceil(math.log10(max(values)))
    if y_hi <= y_lo:
        y_hi = y_lo + 1
    if x_hi <= x_lo:
        x_hi = x_lo + 1

    def px(n):
        return left + (math.log10(n) - x_lo) / (x_hi - x_lo) * plot_w

    def py(v):
        return top + plot_h - (math.log10(max(v, 1e-3)) - y_lo) / (y_hi - y_lo) * plot_h

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="12">' % (width, height, width, height),
           '<title>Failover + failback wall time against the number of policies</title>',
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-weight="bold">%s</text>' % (left, caption)]
    for exp in range(int(y_lo), int(y_hi) + 1):
        y = py(10 ** exp)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (left, y, left + plot_w, y))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s s</text>' % (left - 6, y + 4, "{:g}".format(10 ** exp)))
    for n in ns:
        x = px(n)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>' % (x, top, x, top + plot_h))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (x, top + plot_h + 18, n))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>' % (left, top, plot_w, plot_h))
    out.append('<text x="%d" y="%d" text-anchor="middle">policies (N, log scale)</text>'
               % (left + plot_w / 2, height - 15))
    out.append('<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)">wall time, failover + '
               'failback (log scale)</text>' % (top + plot_h / 2, top + plot_h / 2))

    def series(points, color, dash=None, label=None, legend_y=None):
        if not points:
            return
        d = " ".join("%.1f,%.1f" % (px(n), py(v)) for n, v in points)
        style = ' stroke-dasharray="%s"' % dash if dash else ""
        out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (d, color, style))
        for n, v in points:
            out.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>N=%d: %.1f s</title></circle>'
                       % (px(n), py(v), color, n, v))
        if label:
            lx = left + plot_w + 15
            out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>'
                       % (lx, legend_y, lx + 25, legend_y, color, style))
            out.append('<text x="%d" y="%d">%s</text>' % (lx + 30, legend_y + 4, label))

    measured = [(r["n"], r["baseline"]) for r in rows if r.get("baseline_measured")]
    extrapolated = [(r["n"], r["baseline"]) for r in rows if "baseline" in r]
    series([(r["n"], r["bound"]) for r in rows], "#2a9d8f", dash="2,3", label="lower bound", legend_y=top + 20)
    series([(r["n"], r["wall"]) for r in rows], "#1d3557", label="collection (roles)", legend_y=top + 45)
    if len(extrapolated) > len(measured):
        series(extrapolated[max(0, len(measured) - 1):], "#e63946", dash="7,5", label="baseline, extrapolated",
               legend_y=top + 95)
    series(measured, "#e63946", label="baseline (loop per policy)", legend_y=top + 70)
    out.append("</svg>")
    Path(path).write_text("\n".join(out) + "\n")


def write_results(path, rows, results, opts, info, started, elapsed, line):
    previous = Path(path).read_text() if Path(path).exists() else ""
    if ANALYSIS_BEGIN in previous and ANALYSIS_END in previous:
        analysis = previous[previous.index(ANALYSIS_BEGIN):previous.index(ANALYSIS_END) + len(ANALYSIS_END)]
    else:
        analysis = "\n".join([ANALYSIS_BEGIN, "(no analysis written yet)", ANALYSIS_END])
    measured_max = max([r["n"] for r in rows if r.get("baseline_measured")] or [0])

    def walls(result, baseline):
        return sum(run["wall"] for key, run in result.items()
                   if isinstance(run, dict) and "wall" in run and key.startswith("baseline_") == baseline)
    collection_s = sum(walls(r, False) for r in results)
    baseline_s = sum(walls(r, True) for r in results)
    largest_s = walls(results[-1], False)
    shown = [arg for arg in opts.argv if arg != "--keep"]
    if opts.ref and "--ref" in shown:
        index = shown.index("--ref")
        shown[index:index + 2] = ["--ref", info["checkout"].split()[1]]
    command = "make bench-failover" if not shown else ".venv/bin/python benchmarks/failover_bench.py " + " ".join(shown)
    lines = [
        "# Failover benchmark: the collection against the lower bound and a loop-per-policy baseline",
        "",
        "Written by `benchmarks/failover_bench.py` (reproduce: `%s`; `make bench` runs it with every other "
        "benchmark). Figures only — no test asserts a duration." % command,
        "",
        "Machine: %s, %s cores, %s RAM, %s; Python %s, ansible-core %s. Code measured: %s. Run %s, "
        "%.0f s (%.1f min) in all; 1-minute load average during the run min / mean / max %s (the machine is "
        "shared: a load above the core count slows every CPU-bound part)." % (
            info["cpu"], info["cores"], info["memory"], info["os"], info["python"], info["ansible_core"],
            info["checkout"], time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)), elapsed, elapsed / 60.0,
            info["load"]),
        "",
        "What runs, per N, against the simulator (`onefs-mock` CLI, plain HTTP, %d ms added to every API "
        "request): `playbooks/failover.yml` (role `onefs.dr.failover`, planned, `failover_readiness: false`), "
        "then `playbooks/failback.yml` (role `onefs.dr.failback`, `failback_discard: source`), each one "
        "`ansible-playbook` process, with the roles' defaults%s. The baseline does the same documented steps "
        "with one task per step, `loop:` over the policies and one policy per module call "
        "(`synciq_policy name=`, `rg_sync policies=[one]`, `local_target policies=[one]`, "
        "`resync_prep policies=[one]`), each job waited for in turn, with the modules' default poll "
        "intervals%s. The state of the clusters is checked after every run." % (
            opts.latency_ms,
            "" if opts.poll_interval is None else " except `poll_interval` %g s" % opts.poll_interval,
            "" if opts.poll_interval is None else " (here %g s)" % opts.poll_interval),
        "",
        "The baseline is measured up to N = %d and extrapolated beyond (a straight line through the measured "
        "points: %.1f s + %.2f s × N; it runs one policy after another, so its time is linear in N): measuring "
        "it at N = 100 would take about %.0f min by itself. The whole benchmark is meant to stay around 30 "
        "minutes; this run took %.0f min: %.0f min of collection runs (%.0f min of them at N = %d) and %.0f min "
        "of baseline runs. `--sizes 1 10 100` skips the longest part; `--quick` is a one-minute smoke run." % (
            measured_max, line[0] or 0, line[1] or 0, ((line[0] or 0) + (line[1] or 0) * 100) / 60.0,
            elapsed / 60.0, collection_s / 60.0, largest_s / 60.0, results[-1]["n"], baseline_s / 60.0),
        "",
    ]
    lines += table(rows)
    lines += ["",
              "*wall s*: the two `ansible-playbook` processes, start to exit. *Ansible tasks run*: tasks that ran "
              "(not skipped), failover + failback, from a callback; *module runs*: module executions (each loop "
              "item and each `until` retry counts). *API requests per policy*: every request both clusters "
              "received (login, reads, writes, journal files) / N. *Peak RSS*: the largest resident set of "
              "ansible-playbook or any of its children (`wait4`); *controller CPU s*: user + system CPU time of "
              "ansible-playbook and all its children (modules included) - unlike wall time, it hardly changes "
              "with the load other jobs put on the machine.",
              "", "![wall time against N](failover_bench.svg)", "",
              "## Idempotent re-run of a completed failover", ""]
    lines += rerun_table(rows)
    lines += ["", "## The targets of issue 8", ""]
    lines += targets_section(rows)
    lines += ["", "## Lower bound: how it is derived", ""]
    lines += bound_section(opts)
    lines += ["", "## Where the time goes", "", analysis, "", "### Measured per step (largest N)", ""]
    largest = results[-1]
    lines += ["Columns: *start-up* = task start → its first API request (templating, then the fork of the "
              "worker, or AnsiballZ and a new Python for a module process; login excluded); *API busy* = time with at least one request in flight; *idle* = time "
              "inside the module between its first and last request with no request in flight (sleeps between "
              "polls, waits for jobs, client CPU).", ""]
    lines += steps_section(largest, opts)
    with_baseline = [r for r in results if "baseline_failover" in r]
    if with_baseline:
        lines += baseline_steps_section(with_baseline[-1])
    Path(path).write_text("\n".join(lines) + "\n")


def git(*args):
    try:
        return subprocess.run(["git"] + list(args), cwd=str(ROOT), capture_output=True, text=True,
                              timeout=60, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def export_ref(ref, work_root):
    """``git archive`` of ``ref`` as a collection tree under work_root (the index and checkout untouched)."""
    sha = git("rev-parse", "--verify", "%s^{commit}" % ref)
    if not sha:
        raise SystemExit("--ref %s: not a commit of this repository" % ref)
    tree = work_root / "collections" / "ansible_collections" / "onefs" / "dr"
    tree.mkdir(parents=True)
    archive = subprocess.Popen(["git", "archive", "--format=tar", sha], cwd=str(ROOT), stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout, check=True, timeout=300)
    archive.stdout.close()
    if archive.wait(timeout=300) != 0:
        raise SystemExit("git archive %s failed" % sha)
    return sha, tree, work_root / "collections"


def checkout_state(ref_sha=None):
    """The commit measured, and whether the code the playbooks run differed from it."""
    if ref_sha:
        return "commit %s (`--ref`, exported with `git archive`: exactly what a fresh clone runs)" % ref_sha[:7]
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = [line for line in git("status", "--porcelain", "--", "roles", "plugins", "playbooks").splitlines() if line]
    return "commit %s%s" % (head, " + %d uncommitted file(s) under roles/, plugins/, playbooks/" % len(dirty)
                            if dirty else "")


class LoadSampler(threading.Thread):
    """1-minute load average every ``every`` seconds while the benchmark runs (other jobs skew timings)."""

    def __init__(self, every=15.0):
        super(LoadSampler, self).__init__(daemon=True)
        self.every = every
        self.samples = []
        self.stopped = threading.Event()

    def run(self):
        while True:
            try:
                self.samples.append(os.getloadavg()[0])
            except OSError:
                return
            if self.stopped.wait(self.every):
                return

    def summary(self):
        if not self.samples:
            return "unknown"
        return "%.1f / %.1f / %.1f" % (min(self.samples), sum(self.samples) / len(self.samples), max(self.samples))


def print_rows(rows):
    print("%6s %10s %9s %7s %14s %9s %12s %12s" % ("N", "wall s", "bound s", "ratio", "baseline s", "speed-up",
                                                   "tasks", "req/policy"))
    for row in rows:
        base = "%.1f%s" % (row["baseline"], "" if row["baseline_measured"] else "*") if "baseline" in row else "-"
        speed = "%.1fx" % row["speedup"] if "speedup" in row else "-"
        print("%6d %10.1f %9.1f %7.2f %14s %9s %12s %12s" % (
            row["n"], row["wall"], row["bound"], row["ratio"], base, speed, "%d+%d" % row["tasks"],
            "%.1f/%.1f" % row["req_per_policy"]))
    print("(* extrapolated)")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="numbers of policies (default 1 10 100 500)")
    parser.add_argument("--baseline-max", type=int, help="largest N the baseline is measured at (default 10)")
    parser.add_argument("--latency-ms", type=int, help="added to every API request (default 20)")
    parser.add_argument("--job-s", type=float, default=2.0, help="simulated sync job time (job_overhead_s)")
    parser.add_argument("--fofb-s", type=float, default=1.0, help="simulated allow_write/resync_prep job time")
    parser.add_argument("--time-scale", type=float, help="simulated times are divided by it (default 1)")
    parser.add_argument("--max-running-jobs", type=int, default=50)
    parser.add_argument("--poll-interval", type=float,
                        help="poll_interval for both approaches (default: the roles' and modules' defaults)")
    parser.add_argument("--operations", nargs="+", choices=["failover", "failback"], default=["failover", "failback"],
                        help="what to run (default both; the failback needs the failover before it)")
    parser.add_argument("--role-var", dest="role_vars", action="append", default=[], metavar="NAME=VALUE",
                        help="extra variable for the roles' playbooks (YAML value), e.g. failover_max_workers=50")
    parser.add_argument("--no-rerun", dest="rerun", action="store_false", help="skip the idempotent re-run")
    parser.add_argument("--rerun", dest="force_rerun", action="store_true", help="do the re-run also with --quick")
    parser.add_argument("--run-timeout", type=float, default=1800, help="seconds per ansible-playbook run")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: N=1, baseline N=1, 5 ms, jobs 10x faster, poll 0.2 s, no re-run, "
                             "results under build/bench/ unless --results/--svg/--json say otherwise")
    parser.add_argument("--results", help="Markdown table (default benchmarks/RESULTS.md)")
    parser.add_argument("--svg", help="chart (default benchmarks/failover_bench.svg)")
    parser.add_argument("--json", help="raw figures (default build/bench/failover_bench.json)")
    parser.add_argument("--ref", help="measure this commit (git archive into the work directory) instead of the "
                                      "working tree, e.g. HEAD when the checkout holds unfinished edits")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, playbooks)")
    parser.add_argument("--render", metavar="JSON", help="run nothing: write the table and the chart again from "
                                                         "the raw figures of an earlier run (its --json file)")
    opts = parser.parse_args(argv)
    opts.argv = list(argv)
    quick = opts.quick
    opts.sizes = opts.sizes or ([1] if quick else [1, 10, 100, 500])
    opts.baseline_max = opts.baseline_max if opts.baseline_max is not None else (1 if quick else 10)
    opts.latency_ms = opts.latency_ms if opts.latency_ms is not None else (5 if quick else 20)
    opts.time_scale = opts.time_scale or (10.0 if quick else 1.0)
    if quick:
        opts.rerun = opts.force_rerun
        opts.poll_interval = opts.poll_interval if opts.poll_interval is not None else 0.2
    out_dir = ROOT / "build" / "bench"
    results_dir = out_dir if quick else BENCH_DIR
    opts.results = Path(opts.results) if opts.results else results_dir / "RESULTS.md"
    opts.svg = Path(opts.svg) if opts.svg else results_dir / "failover_bench.svg"
    opts.json = Path(opts.json) if opts.json else out_dir / (
        "failover_bench-quick.json" if quick else "failover_bench.json")
    if any(n < 1 for n in opts.sizes) or opts.time_scale <= 0 or opts.latency_ms < 0:
        parser.error("sizes must be >= 1, time scale > 0, latency >= 0")
    opts.sizes = sorted(set(opts.sizes))
    opts.operations = [op for op in ("failover", "failback") if op in opts.operations]
    role_vars = {}
    for text in opts.role_vars:
        name, sep, value = text.partition("=")
        if not sep or not name:
            parser.error("--role-var takes NAME=VALUE, got %r" % text)
        role_vars[name] = yaml.safe_load(value)
    opts.role_vars = role_vars
    return opts


def render(opts):
    """RESULTS.md and the chart from an earlier run's raw figures (the analysis block is kept)."""
    data = json.loads(Path(opts.render).read_text())
    saved = argparse.Namespace(**data["options"])
    saved.results, saved.svg = opts.results, opts.svg
    rows, line = summarise(data["results"], saved)
    started = data.get("started") or data["results"][0]["failover"]["start"]
    write_results(saved.results, rows, data["results"], saved, data["machine"], started,
                  data["elapsed_s"], line)
    svg_chart(rows, saved.svg, chart_caption(saved))
    print_rows(rows)
    print("written from %s: %s, %s" % (opts.render, saved.results, saved.svg))
    return 0


def chart_caption(opts):
    times = job_times(opts)
    return "%s of N policies, %d ms per API request, jobs %g s / %g s" % (
        " + ".join(opts.operations).capitalize(), opts.latency_ms, times["sync"], times["fofb"])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    opts = parse_args(argv)
    if opts.render:
        return render(opts)
    _common.ensure_collection_link()
    info = _common.machine()
    started = time.time()
    clock = time.monotonic()
    print("failover benchmark: N = %s, baseline up to N = %d, %d ms latency, jobs %.2f s / %.2f s, poll %s" % (
        " ".join(map(str, opts.sizes)), opts.baseline_max, opts.latency_ms, opts.job_s / opts.time_scale,
        opts.fofb_s / opts.time_scale, "defaults" if opts.poll_interval is None else "%g s" % opts.poll_interval))
    work_root = Path(tempfile.mkdtemp(prefix="failover-bench-"))
    if opts.ref:
        sha, opts.tree, opts.collections = export_ref(opts.ref, work_root)
    else:
        sha, opts.tree, opts.collections = None, ROOT, _common.COLLECTIONS
    info["checkout"] = checkout_state(sha)
    sampler = LoadSampler()
    sampler.start()
    results = []
    try:
        for count in opts.sizes:
            size_start = time.monotonic()
            results.append(run_size(count, opts, work_root))
            print("  N=%d done in %.0f s" % (count, time.monotonic() - size_start), flush=True)
    finally:
        sampler.stopped.set()
        info["load"] = sampler.summary()
        if opts.keep:
            print("work directory kept: %s" % work_root)
        else:
            shutil.rmtree(str(work_root), ignore_errors=True)
    elapsed = time.monotonic() - clock
    rows, line = summarise(results, opts)
    for path in (opts.results, opts.svg, opts.json):
        path.parent.mkdir(parents=True, exist_ok=True)
    write_results(opts.results, rows, results, opts, info, started, elapsed, line)
    svg_chart(rows, opts.svg, chart_caption(opts))
    for result in results:
        for run in result.values():
            if isinstance(run, dict):
                run.pop("timing", None)
    opts.json.write_text(json.dumps({"machine": info, "options": {k: (str(v) if isinstance(v, Path) else v)
                                                                  for k, v in vars(opts).items()},
                                     "elapsed_s": elapsed, "started": started, "rows": rows, "results": results,
                                     "baseline_line": line}, indent=1, default=str))
    print_rows(rows)
    print("written: %s, %s, %s (%.0f s)" % (opts.results, opts.svg, opts.json, elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
