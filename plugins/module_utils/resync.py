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

import threading
import time

from . import synciq
from .drstate import CLUSTER_CONFIG, base_name, cluster_identity, mirror_name
from .errors import ConflictError, OnefsError
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
    return {
        "policy": synciq.get_policy(owner, name),
        "record": peer_record(peer, name, owner_guid),
        "reverse": synciq.get_policy(peer, reverse_name(name)),
        "job": synciq.active_job(owner, name),
    }


def plan_resync(owner, peer, name, owner_guid, enable_first=False):
    """Read one policy and plan: ``{name, mirror, actions, record_state, ...}``.

    Raises RefusedError (naming the option to set, when there is one) for a
    policy resync_prep cannot run on.  ``actions`` empty = already done.
    """
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
    """Carry out plans; at most ``max_running_jobs`` resync_prep jobs at once (a semaphore)."""

    def __init__(self, owner, peer, owner_guid, timeout=1800, poll_interval=2.0, max_running_jobs=MAX_RUNNING_JOBS,
                 check_mode=False, clock=time.monotonic, sleep=time.sleep):
        self.owner = owner
        self.peer = peer
        self.owner_guid = owner_guid
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.slots = threading.BoundedSemaphore(max(1, min(MAX_RUNNING_JOBS, int(max_running_jobs))))
        self.check_mode = check_mode
        self._clock = clock
        self._sleep = sleep

    def apply(self, plan):
        name = plan["name"]
        result = {"name": name, "changed": False, "actions": list(plan["actions"]), "mirror": plan["mirror"],
                  "before_state": plan["record_state"], "record_state": plan["record_state"], "job_id": None,
                  "waited_s": 0.0}
        if not plan["actions"]:
            return result
        starts = RESYNC in plan["actions"] or "enable policy" in plan["actions"]
        result["changed"] = starts
        result["diff"] = _diff(name, plan["record_state"], CREATED)
        if self.check_mode:
            result["record_state"] = CREATED if starts else plan["record_state"]
            return result
        with self.slots:
            started = self._clock()
            if plan["job"] is not None:
                result["job_id"] = plan["job"].get("job_id")
            if starts:
                result["job_id"] = self._start(plan, result)
            final = self._wait(name, started)
            result["record_state"] = record_state(final["record"])
            result["waited_s"] = round(self._clock() - started, 3)
        return result

    def _start(self, plan, result):
        name = plan["name"]
        if plan["record_state"] == synciq.ENABLING_WRITES:
            self._wait_writable(name)
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
        if answer.get("job_id") is not None:
            return answer["job_id"]
        job = synciq.active_job(self.owner, name)
        return job.get("job_id") if job else answer.get("id")

    def _wait_writable(self, name):
        wait_for(lambda: record_state(peer_record(self.peer, name, self.owner_guid)),
                 lambda state: state == synciq.WRITES_ENABLED, self.timeout, self.poll_interval,
                 describe="target record %s to be writes_enabled" % name, clock=self._clock, sleep=self._sleep,
                 cluster=getattr(self.peer, "name", None))

    def _wait(self, name, started):
        """Until the job is gone, the record is resync_policy_created and the reverse policy enabled."""
        def fetch():
            return read_policy_state(self.owner, self.peer, name, self.owner_guid)

        def failed(seen):
            if seen["job"] is not None or record_state(seen["record"]) in (CREATING, CREATED):
                return None
            report = synciq.latest_report(self.owner, name)
            error = synciq.report_error(report) if report and synciq.job_action(report) == RESYNC else None
            return "the resync_prep job of %s ended without creating the resync policy%s" % (
                name, ": %s" % error if error else " (target record %s)" % record_state(seen["record"]))

        def state(seen):
            return (bool(seen["job"]), record_state(seen["record"]), bool((seen["reverse"] or {}).get("enabled")))

        remaining = max(1.0, self.timeout - (self._clock() - started))
        return wait_for(fetch, lambda seen: _done(name, seen["policy"], seen["record"], seen["reverse"], seen["job"]),
                        remaining, self.poll_interval, failed=failed, state=state,
                        describe="resync_prep of %s (job ended, target record %s, %s enabled)"
                        % (name, CREATED, reverse_name(name)),
                        clock=self._clock, sleep=self._sleep, cluster=getattr(self.owner, "name", None))
