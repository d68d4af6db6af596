# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resync_prep of SyncIQ policies, idempotent, with the waits CSI does (onefs-papi.md §12.3).

``resync_prep`` of a policy ``P`` runs on the cluster that owns ``P`` (the
*owner*) and needs the target record ``P`` on the other cluster (the *peer*)
to be failed over (``writes_enabled``).  When it ends, the peer's record is
``resync_policy_created``, ``P`` is disabled and the reverse policy
``P_mirror`` exists, enabled, on the peer.  Run on a mirror ``X_mirror`` it
hands the roles back: ``X`` is enabled again on the peer and the peer's
record of ``X_mirror`` becomes ``resync_policy_created``.

A policy whose end state is already there is left alone (no write), so a
re-run after success - or after a crash half way - never fails the way the
Dell collection's second resync_prep does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from . import synciq
from .drstate import CLUSTER_CONFIG, base_name, cluster_identity, mirror_name
from .errors import ConflictError, OnefsError
from .parallel import call_together, run_each
from .waiter import wait_for

RESYNC = "resync_prep"
CREATED = "resync_policy_created"
CREATING = "creating_resync_policy"
MAX_RUNNING_JOBS = 50


class RefusedError(OnefsError):
    """A policy that resync_prep cannot (or must not) be run on; raised before any write."""


def is_mirror(name):
    return base_name(name) != name


def reverse_name(name):
    """The policy the peer ends up owning: ``P_mirror`` for ``P``, ``X`` for ``X_mirror``."""
    return base_name(name) if is_mirror(name) else mirror_name(name)


def cluster_guid(client):
    return cluster_identity(client.get(CLUSTER_CONFIG)).get("guid")


def peer_record(peer, name, owner_guid):
    """The peer's target record ``name``; with several, the one fed by the owner cluster."""
    records = synciq.target_records_named(peer, name)
    if len(records) > 1 and owner_guid:
        records = [r for r in records if synciq.matches_source(r, owner_guid)] or records
    return records[0] if records else None


def record_state(record):
    if not record:
        return None
    return record.get("failover_failback_state") or synciq.WRITES_DISABLED


def _done(name, policy, record, reverse, job):
    """Whether the end state of resync_prep of ``name`` is already there."""
    if job is not None:
        return False
    if record_state(record) != CREATED or not reverse or not reverse.get("enabled"):
        return False
    # For P the owner's policy is disabled by resync_prep; for X_mirror it may already be deleted.
    return policy is None or not policy.get("enabled") or is_mirror(name)


def read_policy_state(owner, peer, name, owner_guid):
    policy, record, reverse, job = call_together(
        lambda: synciq.get_policy(owner, name), lambda: peer_record(peer, name, owner_guid),
        lambda: synciq.get_policy(peer, reverse_name(name)), lambda: synciq.active_job(owner, name))
    return {"policy": policy, "record": record, "reverse": reverse, "job": job}


def plan_resync(owner, peer, name, owner_guid, enable_first=False, seen=None):
    """Read one policy (unless ``seen``, its :func:`read_group_state` entry, is given) and plan:
    ``{name, mirror, actions, record_state, ...}``.

    Raises RefusedError (naming the option to set, when there is one) for a
    policy resync_prep cannot run on.  ``actions`` empty = already done.
    """
    if seen is None:
        seen = read_policy_state(owner, peer, name, owner_guid)
    policy, record, reverse, job = seen["policy"], seen["record"], seen["reverse"], seen["job"]
    state = record_state(record)
    plan = dict(seen, name=name, mirror=reverse_name(name), record_state=state, actions=[], wait=False)
    where = dict(cluster=getattr(owner, "name", None), obj=name)
    if _done(name, policy, record, reverse, job):
        return plan
    if policy is None:
        if is_mirror(name) and reverse and reverse.get("enabled"):
            return plan     # the mirror was resync_prepped and deleted already
        raise RefusedError("policy %s does not exist on this cluster (resync_prep runs on the cluster that owns "
                           "the policy)" % name, **where)
    if job is not None:
        return _plan_with_job(plan, job, where)
    if record is None:
        raise RefusedError("the peer holds no target record of %s: nothing to resync_prep" % name, **where)
    if state == synciq.WRITES_DISABLED:
        raise RefusedError(
            "target record of %s on the peer is writes_disabled: %s was not failed over, so resync_prep would fail; "
            "allow writes there first (local_target state=writes_enabled)"
            % (name, "the original source" if is_mirror(name) else "the target"), **where)
    if state in (synciq.DISABLING_WRITES,):
        raise RefusedError("target record of %s on the peer is %s: wait for allow_write_revert to end" % (name, state),
                           **where)
    if policy.get("conflicted"):
        raise RefusedError("policy %s is conflicted (error state): resolve it first (synciq_policy resolve: true)"
                           % name, **where)
    if state == synciq.ENABLING_WRITES:
        plan["actions"].append("wait for writes_enabled")
    if state == CREATING:
        plan["actions"].append("wait for %s" % CREATED)
        plan["wait"] = True
        return plan
    if not policy.get("enabled"):
        if not enable_first:
            raise RefusedError("policy %s is disabled and OneFS refuses resync_prep of a disabled policy; set "
                               "enable_first: true to enable it first" % name, field="enable_first", **where)
        plan["actions"].append("enable policy")
    plan["actions"].append(RESYNC)
    return plan


def _plan_with_job(plan, job, where):
    action = synciq.job_action(job)
    if action != RESYNC:
        raise RefusedError("policy %s has an active %s job (job %s); resync_prep cannot start before it ends"
                           % (plan["name"], action, job.get("job_id")), **where)
    plan["actions"].append("join job %s" % job.get("job_id"))
    plan["wait"] = True
    return plan


def _diff(name, before, after):
    header = "target record %s (peer)" % name
    return {"before": {"name": name, "failover_failback_state": before} if before else {},
            "after": {"name": name, "failover_failback_state": after} if after else {},
            "before_header": header, "after_header": header}


class ResyncRunner:
    """Settings of a resync_prep run and the start of one policy's job; :class:`ResyncGroup` drives it."""

    def __init__(self, owner, peer, owner_guid, timeout=1800, poll_interval=2.0, max_running_jobs=MAX_RUNNING_JOBS,
                 check_mode=False, clock=time.monotonic, sleep=time.sleep):
        self.owner = owner
        self.peer = peer
        self.owner_guid = owner_guid
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.max_running_jobs = max(1, min(MAX_RUNNING_JOBS, int(max_running_jobs)))
        self.check_mode = check_mode
        self._clock = clock
        self._sleep = sleep

    def apply(self, plan):
        """One policy's plan carried out (the group runner with a group of one)."""
        return ResyncGroup(self, [plan], max_workers=1).run()[0]

    def _start(self, plan, result):
        name = plan["name"]
        if "enable policy" in plan["actions"]:
            synciq.update_policy(self.owner, plan["policy"], {"enabled": True})
        try:
            answer = synciq.start_job(self.owner, name, action=RESYNC)
        except ConflictError as err:
            job = synciq.active_job(self.owner, name)
            if job is None or synciq.job_action(job) != RESYNC:
                raise
            result["actions"].append("joined job %s (%s)" % (job.get("job_id"), err.message))
            return job.get("job_id")
        # OneFS answers with the policy as "id", not the job's number: the group's next read of the
        # active jobs (or, for a job that ended first, its report) supplies it - no GET per policy.
        return answer.get("job_id")


def read_group_state(owner, peer, names, owner_guid):
    """``{name: {policy, record, reverse, job}}`` for a group: four list calls whatever its size, sent at once."""
    owner_policies, peer_policies, jobs, peer_records = call_together(
        lambda: synciq.list_policies(owner), lambda: synciq.list_policies(peer),
        lambda: synciq.active_jobs(owner), lambda: synciq.list_target_records(peer))
    policies = dict((p.get("name"), p) for p in owner_policies)
    reverses = dict((p.get("name"), p) for p in peer_policies)
    records = {}
    for record in peer_records:
        records.setdefault(record.get("name"), []).append(record)
    seen = {}
    for name in names:
        candidates = records.get(name) or []
        if len(candidates) > 1 and owner_guid:
            candidates = [r for r in candidates if synciq.matches_source(r, owner_guid)] or candidates
        seen[name] = {"policy": policies.get(name), "record": candidates[0] if candidates else None,
                      "reverse": reverses.get(reverse_name(name)), "job": synciq.job_of(jobs, {"name": name})}
    return seen


class ResyncGroup:
    """resync_prep of a whole group: every job started (at most ``max_running_jobs`` at once) and the group
    watched with :func:`read_group_state` once per poll cycle, instead of one waiting thread per policy."""

    def __init__(self, runner, plans, max_workers=10):
        self.runner = runner
        self.max_workers = max_workers
        self.entries = []
        for plan in plans:
            result = {"name": plan["name"], "changed": False, "actions": list(plan["actions"]), "mirror": plan["mirror"],
                      "before_state": plan["record_state"], "record_state": plan["record_state"],
                      "job_id": (plan["job"] or {}).get("job_id"), "waited_s": 0.0}
            starts = RESYNC in plan["actions"] or "enable policy" in plan["actions"]
            if plan["actions"]:
                result["changed"] = starts
                result["diff"] = _diff(plan["name"], plan["record_state"], CREATED)
            status = "done"
            if plan["actions"] and runner.check_mode:
                result["record_state"] = CREATED if starts else plan["record_state"]
            elif plan["actions"]:
                status = "pending" if starts else "running"
            self.entries.append({"plan": plan, "result": result, "status": status, "error": None, "seen": None})

    def _in(self, *statuses):
        return [e for e in self.entries if e["status"] in statuses]

    def run(self):
        runner = self.runner
        started = runner._clock()
        if self._in("pending", "running"):
            try:
                wait_for(self._cycle, lambda dummy: not self._in("pending", "running"), runner.timeout,
                         runner.poll_interval, describe="resync_prep of %d policies" % len(self.entries),
                         clock=runner._clock, sleep=runner._sleep, cluster=getattr(runner.owner, "name", None))
            except OnefsError as err:     # timeout, or the clusters stopped answering
                for entry in self._in("pending", "running"):
                    self._fail(entry, "resync_prep of %s did not end (%s): %s" % (
                        entry["plan"]["name"], self._described(entry), err))
            self._fill_job_ids()
        waited = round(runner._clock() - started, 3)
        outcomes = []
        for entry in self.entries:
            result = dict(entry["result"])
            if entry["plan"]["actions"] and not runner.check_mode:
                result["waited_s"] = waited
            if entry["error"]:
                result.update(failed=True, msg=entry["error"])
            outcomes.append(result)
        return outcomes

    def _fail(self, entry, message):
        entry["status"] = "failed"
        entry["error"] = message

    def _fill_job_ids(self):
        """Numbers of jobs that ended before a cycle saw them, from one list of the reports."""
        missing = [e for e in self.entries if e["status"] == "done" and e["result"]["job_id"] is None
                   and RESYNC in e["plan"]["actions"]]
        if not missing:
            return
        ids = synciq.job_ids_from_reports(self.runner.owner, [e["plan"]["name"] for e in missing], RESYNC)
        for entry in missing:
            entry["result"]["job_id"] = ids.get(entry["plan"]["name"])

    @staticmethod
    def _described(entry):
        seen = entry["seen"] or {}
        return "job %s, target record %s, reverse policy %s" % (
            "running" if seen.get("job") else "gone", record_state(seen.get("record")),
            "enabled" if (seen.get("reverse") or {}).get("enabled") else "not enabled")

    def _cycle(self):
        runner = self.runner
        names = [e["plan"]["name"] for e in self._in("pending", "running")]
        group = read_group_state(runner.owner, runner.peer, names, runner.owner_guid)
        for entry in self._in("running"):
            self._observe(entry, group[entry["plan"]["name"]])
        self._start_pending(group)
        return tuple((e["status"], self._described(e)) for e in self.entries)

    def _observe(self, entry, seen):
        name = entry["plan"]["name"]
        entry["seen"] = seen
        entry["result"]["record_state"] = record_state(seen["record"])
        if entry["result"]["job_id"] is None and seen["job"] is not None and synciq.job_action(seen["job"]) == RESYNC:
            entry["result"]["job_id"] = seen["job"].get("job_id")
        if _done(name, seen["policy"], seen["record"], seen["reverse"], seen["job"]):
            entry["status"] = "done"
            return
        if seen["job"] is None and record_state(seen["record"]) not in (CREATING, CREATED):
            report = synciq.latest_report(self.runner.owner, name)
            error = synciq.report_error(report) if report and synciq.job_action(report) == RESYNC else None
            self._fail(entry, "the resync_prep job of %s ended without creating the resync policy%s" % (
                name, ": %s" % error if error else " (target record %s)" % record_state(seen["record"])))

    def _start_pending(self, group):
        running = len([e for e in self._in("running") if (e["seen"] or {}).get("job") is not None])
        room = max(0, self.runner.max_running_jobs - running)
        ready = [e for e in self._in("pending")
                 if record_state(group[e["plan"]["name"]]["record"]) != synciq.ENABLING_WRITES][:room]

        def start(entry):
            entry["result"]["job_id"] = self.runner._start(entry["plan"], entry["result"])
            entry["status"] = "running"

        for outcome in run_each(ready, start, max_workers=self.max_workers, name_of=lambda e: e["plan"]["name"]):
            if not outcome.ok:
                entry = [e for e in ready if e["plan"]["name"] == outcome.name][0]
                self._fail(entry, "resync_prep of %s could not start: %s" % (outcome.name, outcome.error))
