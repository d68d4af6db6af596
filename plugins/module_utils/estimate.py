# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failover time estimate from the policies' recent SyncIQ reports.  Pure functions.

What is estimated (and what is not) is stated in :data:`INCLUDED` and
:data:`EXCLUDED` and returned with every estimate, the way a DR team needs to
read it:

* final sync of the group: each policy's expected incremental sync is the mean
  duration of its recent successful sync reports (the maximum is kept as the
  pessimistic figure); the jobs run ``max_running_jobs`` (SyncIQ: 50) at a
  time, so the policies are packed into waves, longest first, each wave lasting
  as long as its longest job;
* allow_write: the mean of the policy's recent ``allow_write`` target reports
  when there are some, else ``step_overhead_s``; they run in waves too;
* every other step of the failover (disable policies, SmartConnect, SPNs,
  quotas, config sync, journal) costs ``step_overhead_s`` each.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

INCLUDED = ("final sync of every policy (waves of max_running_jobs, each as long as its longest job)",
            "allow_write on the target (from allow_write target reports, else the per-step constant)",
            "a fixed per-step constant for each other failover step")
EXCLUDED = ("DNS TTL expiry and client caches", "client remounts and reconnects", "AD replication of SPNs",
            "hooks and approvals", "data changed since the last reports (a larger backlog syncs longer)")

FOFB_ACTIONS = ("allow_write", "allow_write_revert", "resync_prep", "resync_prep_domain_mark",
                "resync_prep_restore", "resync_prep_finalize")
OK_STATES = ("finished", "success", "completed")
# Failover steps other than the final sync and allow_write (DESIGN 6.2 steps 3, 6-11, 14, 16).
OTHER_STEPS = ("journal start", "disable source policies", "config sync", "park SmartConnect names",
               "remove source SPNs", "add SmartConnect names", "add target SPNs", "quotas", "journal finish")


def duration(report):
    """Seconds a report's job took (``duration`` if given, else end - start), or None."""
    if report.get("duration") is not None and report.get("end_time"):
        return max(0.0, float(report["duration"]))
    start, end = report.get("start_time"), report.get("end_time")
    if start is None or end is None:
        return None
    return max(0.0, float(end) - float(start))


def _action(report):
    action = report.get("action")
    return "run" if action in (None, "", "none", "run", "sync", "copy") else action


def durations(reports, action="run"):
    """Durations of the successful reports of one action (``run`` = replication syncs)."""
    found = []
    for report in reports or []:
        if _action(report) != action or report.get("state") not in OK_STATES:
            continue
        seconds = duration(report)
        if seconds is not None:
            found.append(seconds)
    return found


def expected(values, default):
    """``(mean, max, samples)`` of the values, or the default for both when there are none."""
    if not values:
        return float(default), float(default), 0
    return sum(values) / len(values), max(values), len(values)


def waves(seconds, width):
    """Total time of jobs run ``width`` at a time, longest first, each wave as long as its longest job."""
    ordered = sorted(seconds, reverse=True)
    total = 0.0
    for start in range(0, len(ordered), max(1, int(width))):
        total += ordered[start]
    return total


def wave_count(count, width):
    width = max(1, int(width))
    return (count + width - 1) // width


def estimate(history, target_history=None, max_running_jobs=50, step_overhead_s=10.0, default_sync_s=300.0):
    """The estimate of a planned failover of the policies of ``history``.

    ``history``: ``{policy: [source reports]}``; ``target_history``: ``{policy:
    [target reports]}`` (allow_write durations).  Returns ``{final_sync_s,
    final_sync_worst_s, allow_write_s, other_steps_s, failover_s,
    failover_worst_s, waves, policies: [...], basis, included, excluded}``.
    """
    target_history = target_history or {}
    per_policy = []
    for name in sorted(history):
        mean, worst, samples = expected(durations(history[name]), default_sync_s)
        aw_mean, _aw_worst, aw_samples = expected(durations(target_history.get(name), "allow_write"),
                                                  step_overhead_s)
        per_policy.append({"policy": name, "sync_s": round(mean, 1), "sync_worst_s": round(worst, 1),
                           "samples": samples, "allow_write_s": round(aw_mean, 1),
                           "allow_write_samples": aw_samples})
    final = waves([p["sync_s"] for p in per_policy], max_running_jobs)
    final_worst = waves([p["sync_worst_s"] for p in per_policy], max_running_jobs)
    allow_write = waves([p["allow_write_s"] for p in per_policy], max_running_jobs)
    other = step_overhead_s * len(OTHER_STEPS)
    without = [p["policy"] for p in per_policy if not p["samples"]]
    wave_total = wave_count(len(per_policy), max_running_jobs)
    basis = "%d policies, %d wave(s) of up to %d jobs" % (len(per_policy), wave_total, max_running_jobs)
    if without:
        basis += "; no sync history for %s (assumed %ss each)" % (", ".join(without), default_sync_s)
    return {
        "final_sync_s": round(final, 1), "final_sync_worst_s": round(final_worst, 1),
        "allow_write_s": round(allow_write, 1), "other_steps_s": round(other, 1),
        "failover_s": round(final + allow_write + other, 1),
        "failover_worst_s": round(final_worst + allow_write + other, 1),
        "waves": wave_count(len(per_policy), max_running_jobs), "policies": per_policy, "basis": basis,
        "included": list(INCLUDED), "excluded": list(EXCLUDED),
    }
