# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replication state of one SyncIQ policy as one word.

Pure functions: no I/O.  ``dr_info`` reads both clusters, builds one
:func:`side` view per cluster and calls :func:`classify`; the failover,
failback and reprotect roles decide from the word and the ``reasons``.

Vocabulary.  For a policy ``P``, **S** is the *original source* (the cluster
that owned ``P`` when it was set up) and **T** the *original target* (it holds
the target record ``P``).  On each side we look at:

* ``policy``         SyncIQ policy ``P`` owned by that cluster (source side),
* ``record``         target record ``P`` held by that cluster,
* ``mirror_policy``  policy ``P_mirror`` owned by that cluster (resync_prep makes it on T),
* ``mirror_record``  target record ``P_mirror`` (held by S once the mirror ran),
* ``job``/``mirror_job``  the active job of ``P``/``P_mirror`` on that cluster.

A side that could not be read is ``None`` ("not visible"); an object that was
read and is absent is ``None`` inside a visible side.

Decision table (first matching row wins; sides: S = original source, T = original target)::

  #  condition                                                          state
  1  neither side visible                                               unknown
  2  T owns an enabled policy P and S still owns an enabled policy P    split_brain
  3  T record P writes_enabled and S record P_mirror writes_enabled     split_brain
  4  T owns policy P (reverse direction), S owns no policy P            reprotected
  5  T owns policy P and S owns a disabled P (reprotect half done)      unknown
  6  resync_prep of P running on S, or T record creating_resync_policy  failback_in_progress
  7  S record P_mirror enabling_writes / writes_enabled                 failback_in_progress
  8  resync_prep of P_mirror running, or S record P_mirror
     creating_resync_policy                                             failback_in_progress
  9  S record P_mirror resync_policy_created (roles handed back) and
     T record P not writes_disabled or S policy P not enabled           failback_in_progress
 10  T record resync_policy_created or P_mirror enabled on T:
       a P_mirror conflicted                                            conflicted
       b P_mirror job running                                           failback_in_progress
       c otherwise                                                      resync_prepped
 11  allow_write job running on T, or T record enabling_writes          failing_over
 12  allow_write_revert job running on T, or T record disabling_writes  failing_back
 13  T record writes_enabled and:
       a S not visible / S has no policy P / S policy P disabled        failed_over
       b S policy P enabled, unplanned failover recorded or unknown     failed_over_unplanned
       c S policy P enabled, no unplanned failover recorded             split_brain
 14  S not visible: T record writes_disabled                            protected (judged from T only)
                    no T record                                         unknown
 15  S has no policy P                                                  unknown
 16  S policy P conflicted                                              conflicted
 17  S runs a sync job of P                                             syncing
 18  S policy P disabled                                                disabled
 19  P never synced (no last_success)                                   unsynced
 20  T visible and no T record P                                        unknown (association broken?)
 21  last job of P (S policy or T record) failed                        sync_failed
 22  otherwise (S policy enabled, T record writes_disabled or T not
     visible, last job ok)                                              protected

Which cluster is S is decided by :func:`orient` (or told by the user): the
classifier itself only sees "original source" and "original target" sides.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MIRROR_SUFFIX = "_mirror"

PROTECTED = "protected"
SYNCING = "syncing"
UNSYNCED = "unsynced"
SYNC_FAILED = "sync_failed"
DISABLED = "disabled"
CONFLICTED = "conflicted"
FAILING_OVER = "failing_over"
FAILED_OVER = "failed_over"
FAILED_OVER_UNPLANNED = "failed_over_unplanned"
FAILING_BACK = "failing_back"
RESYNC_PREPPED = "resync_prepped"
FAILBACK_IN_PROGRESS = "failback_in_progress"
REPROTECTED = "reprotected"
SPLIT_BRAIN = "split_brain"
UNKNOWN = "unknown"

STATES = (
    PROTECTED, SYNCING, UNSYNCED, SYNC_FAILED, DISABLED, CONFLICTED, FAILING_OVER, FAILED_OVER,
    FAILED_OVER_UNPLANNED, FAILING_BACK, RESYNC_PREPPED, FAILBACK_IN_PROGRESS, REPROTECTED,
    SPLIT_BRAIN, UNKNOWN,
)

# failover_failback_state values of a target record (onefs-papi.md 5.1).
WRITES_DISABLED = "writes_disabled"
ENABLING_WRITES = "enabling_writes"
WRITES_ENABLED = "writes_enabled"
DISABLING_WRITES = "disabling_writes"
CREATING_RESYNC_POLICY = "creating_resync_policy"
RESYNC_POLICY_CREATED = "resync_policy_created"

# Job states in which the job is still listed by GET /sync/jobs.
ACTIVE_JOB_STATES = ("scheduled", "running", "paused", "pending")
FAILED_JOB_STATES = ("failed", "canceled", "needs_attention", "unknown")
RUN_ACTIONS = (None, "", "none", "run", "sync", "copy")

SIDE_KEYS = ("policy", "record", "mirror_policy", "mirror_record", "job", "mirror_job")


# --------------------------------------------------------------------------- inputs
def mirror_name(name):
    return name + MIRROR_SUFFIX


def base_name(name):
    """``P_mirror`` -> ``P``; other names unchanged."""
    if name and name.endswith(MIRROR_SUFFIX) and len(name) > len(MIRROR_SUFFIX):
        return name[:-len(MIRROR_SUFFIX)]
    return name


def side(policy=None, record=None, mirror_policy=None, mirror_record=None, job=None, mirror_job=None,
         name=None):
    """One cluster's view of a policy (every argument a PAPI object or None)."""
    return {"name": name, "policy": policy, "record": record, "mirror_policy": mirror_policy,
            "mirror_record": mirror_record, "job": job, "mirror_job": mirror_job}


def fofb(record):
    """The failover_failback_state of a target record, None when there is no record."""
    if not record:
        return None
    return record.get("failover_failback_state") or WRITES_DISABLED


def job_action(job):
    """``run`` for a replication job, else the FOFB action (``allow_write``, ``resync_prep``...)."""
    if not job:
        return None
    action = job.get("action")
    return "run" if action in RUN_ACTIONS else action


def is_active(job):
    return bool(job) and (job.get("state") in ACTIVE_JOB_STATES or not job.get("state"))


def _get(view, key):
    return (view or {}).get(key)


def _enabled(policy):
    return bool(policy) and bool(policy.get("enabled"))


def _running(view, key, action):
    job = _get(view, key)
    return is_active(job) and job_action(job) == action


# --------------------------------------------------------------------------- orientation
def holds_source(view):
    """Whether a side looks like the original source of the policy."""
    if not view:
        return False
    return bool(view.get("policy") or view.get("mirror_record"))


def holds_target(view):
    if not view:
        return False
    return bool(view.get("record") or view.get("mirror_policy"))


def orient(local, peer, original_source="auto"):
    """``(source_view, target_view, local_is_source, reasons)``.

    ``original_source`` is ``cluster`` (the module's cluster), ``peer``, or
    ``auto``: the side holding the target record ``P`` or ``P_mirror`` is the
    original target; else the side owning policy ``P`` is the original source;
    ties go to the module's cluster.  In ``auto`` a reprotected policy reads as
    ``protected`` in its new direction (only the user knows the history).
    """
    if original_source == "cluster":
        return local, peer, True, []
    if original_source == "peer":
        return peer, local, False, []
    local_target = holds_target(local) and not _get(local, "policy")
    peer_target = holds_target(peer) and not _get(peer, "policy")
    if local_target and not peer_target:
        return peer, local, False, []
    if peer_target and not local_target:
        return local, peer, True, []
    if holds_source(peer) and not holds_source(local):
        return peer, local, False, []
    reasons = []
    if holds_source(local) and holds_source(peer):
        reasons.append("both clusters own policy %s; the module's cluster is taken as the "
                       "original source (set original_source to say otherwise)"
                       % (_get(local, "name") or "P"))
    return local, peer, True, reasons


# --------------------------------------------------------------------------- the table
def classify(source, target, unplanned_recorded=None, name="P"):
    """``(state, reasons)`` of policy ``name`` from the original source's and
    original target's views (each from :func:`side`, or None when not visible).

    ``unplanned_recorded``: True when a deliberate unplanned failover of the
    policy is on record, False when records were read and there is none, None
    when unknown.  See the module docstring for the table.
    """
    reasons = []
    for rule in _RULES:
        state = rule(source, target, unplanned_recorded, name, reasons)
        if state:
            return state, reasons
    return PROTECTED, reasons


def _r_not_visible(s, t, unplanned, name, reasons):
    if s is None and t is None:
        reasons.append("neither cluster could be read")
        return UNKNOWN
    return None


def _r_two_sources(s, t, unplanned, name, reasons):
    if _enabled(_get(t, "policy")) and _enabled(_get(s, "policy")):
        reasons.append("policy %s is enabled on both clusters: each side replicates to the other" % name)
        return SPLIT_BRAIN
    return None


def _r_both_records_writable(s, t, unplanned, name, reasons):
    if fofb(_get(t, "record")) == WRITES_ENABLED and fofb(_get(s, "mirror_record")) == WRITES_ENABLED:
        reasons.append("target record %s on the original target and target record %s on the original "
                       "source are both writes_enabled" % (name, mirror_name(name)))
        return SPLIT_BRAIN
    return None


def _r_reverse(s, t, unplanned, name, reasons):
    reverse = _get(t, "policy")
    if not reverse:
        return None
    if s is not None and _get(s, "policy"):
        reasons.append("policy %s exists on both clusters; the original source's copy is disabled: "
                       "a reprotect was not finished" % name)
        return UNKNOWN
    if s is None:
        reasons.append("original source not visible: cannot confirm its policy %s is gone" % name)
    if not _enabled(reverse):
        reasons.append("reverse policy %s is disabled" % name)
    if _running(t, "job", "run"):
        reasons.append("reverse sync of %s running" % name)
    if not reverse.get("last_success"):
        reasons.append("reverse policy %s has not synced yet" % name)
    return REPROTECTED


def _r_resync_prep_running(s, t, unplanned, name, reasons):
    if _running(s, "job", "resync_prep") or fofb(_get(t, "record")) == CREATING_RESYNC_POLICY:
        reasons.append("resync_prep of %s running" % name)
        return FAILBACK_IN_PROGRESS
    return None


def _r_source_writable_again(s, t, unplanned, name, reasons):
    state = fofb(_get(s, "mirror_record"))
    if state in (ENABLING_WRITES, WRITES_ENABLED):
        reasons.append("target record %s on the original source is %s: resync_prep %s next"
                       % (mirror_name(name), state, mirror_name(name)))
        return FAILBACK_IN_PROGRESS
    return None


def _r_mirror_resync_prep(s, t, unplanned, name, reasons):
    if _running(t, "mirror_job", "resync_prep") or fofb(_get(s, "mirror_record")) == CREATING_RESYNC_POLICY:
        reasons.append("resync_prep of %s running" % mirror_name(name))
        return FAILBACK_IN_PROGRESS
    return None


def _r_resync_prepped(s, t, unplanned, name, reasons):
    mirror = _get(t, "mirror_policy")
    prepped = fofb(_get(t, "record")) == RESYNC_POLICY_CREATED
    if not prepped and not _enabled(mirror):
        return None
    if mirror is None and t is not None:
        reasons.append("target record %s is resync_policy_created but %s is missing on the original target"
                       % (name, mirror_name(name)))
    if mirror and mirror.get("conflicted"):
        reasons.append("mirror policy %s is conflicted" % mirror_name(name))
        return CONFLICTED
    if _running(t, "mirror_job", "run"):
        reasons.append("mirror sync of %s running" % mirror_name(name))
        return FAILBACK_IN_PROGRESS
    if mirror and not mirror.get("last_success"):
        reasons.append("mirror %s has not synced yet" % mirror_name(name))
    elif mirror:
        reasons.append("mirror %s last synced at %s" % (mirror_name(name), mirror.get("last_success")))
    return RESYNC_PREPPED


def _r_mirror_handed_back(s, t, unplanned, name, reasons):
    if fofb(_get(s, "mirror_record")) != RESYNC_POLICY_CREATED:
        return None
    record_state = fofb(_get(t, "record"))
    if record_state not in (WRITES_DISABLED, None) or not _enabled(_get(s, "policy")):
        reasons.append("%s was resync_prepped back; policy %s not yet re-enabled with target record "
                       "writes_disabled" % (mirror_name(name), name))
        return FAILBACK_IN_PROGRESS
    return None


def _r_failing_over(s, t, unplanned, name, reasons):
    if _running(t, "job", "allow_write") or fofb(_get(t, "record")) == ENABLING_WRITES:
        reasons.append("allow_write of %s running on the original target" % name)
        return FAILING_OVER
    return None


def _r_failing_back(s, t, unplanned, name, reasons):
    if _running(t, "job", "allow_write_revert") or fofb(_get(t, "record")) == DISABLING_WRITES:
        reasons.append("allow_write_revert of %s running: writes made on the target are discarded" % name)
        return FAILING_BACK
    return None


def _r_failed_over(s, t, unplanned, name, reasons):
    if fofb(_get(t, "record")) != WRITES_ENABLED:
        return None
    policy = _get(s, "policy")
    if s is None:
        reasons.append("original source not visible: fence its policy %s before it comes back" % name)
        return FAILED_OVER
    if not policy:
        reasons.append("policy %s no longer exists on the original source" % name)
        return FAILED_OVER
    if not _enabled(policy):
        return FAILED_OVER
    if unplanned is False:
        reasons.append("target writable while policy %s is still enabled on the source and no unplanned "
                       "failover is recorded" % name)
        return SPLIT_BRAIN
    reasons.append("policy %s still enabled on the original source: disable it (fence) before it syncs "
                   "or takes writes" % name)
    if unplanned is None:
        reasons.append("no failover record was read: if this failover was not deliberate, both sides "
                       "take writes (split brain)")
    return FAILED_OVER_UNPLANNED


def _r_source_not_visible(s, t, unplanned, name, reasons):
    if s is not None:
        return None
    if fofb(_get(t, "record")) == WRITES_DISABLED:
        reasons.append("original source not visible: judged from the target record only")
        if (_get(t, "record") or {}).get("last_job_state") in FAILED_JOB_STATES:
            reasons.append("last job of %s on the target: %s" % (name, t["record"]["last_job_state"]))
            return SYNC_FAILED
        return PROTECTED
    reasons.append("policy %s not found on the visible cluster" % name)
    return UNKNOWN


def _r_no_source_policy(s, t, unplanned, name, reasons):
    if _get(s, "policy"):
        return None
    if _get(t, "record"):
        reasons.append("target record %s has no policy on the original source (deleted with local_only?)" % name)
    else:
        reasons.append("policy %s not found" % name)
    return UNKNOWN


def _r_conflicted(s, t, unplanned, name, reasons):
    if s["policy"].get("conflicted"):
        reasons.append("policy %s is conflicted: resolve it before the next run" % name)
        return CONFLICTED
    return None


def _r_syncing(s, t, unplanned, name, reasons):
    job = s.get("job")
    if is_active(job) and job_action(job) == "run":
        if job.get("state") == "paused":
            reasons.append("sync job of %s is paused" % name)
        return SYNCING
    return None


def _r_disabled(s, t, unplanned, name, reasons):
    if not _enabled(s["policy"]):
        return DISABLED
    return None


def _r_unsynced(s, t, unplanned, name, reasons):
    if not s["policy"].get("last_success"):
        reasons.append("policy %s has never completed a sync" % name)
        return UNSYNCED
    return None


def _r_no_record(s, t, unplanned, name, reasons):
    if t is not None and not t.get("record"):
        reasons.append("no target record %s on the original target (association broken?)" % name)
        return UNKNOWN
    return None


def _r_sync_failed(s, t, unplanned, name, reasons):
    failed = False
    for where, obj in (("source policy", s["policy"]), ("target record", _get(t, "record"))):
        state = (obj or {}).get("last_job_state")
        if state in FAILED_JOB_STATES:
            reasons.append("last job of %s (%s): %s" % (name, where, state))
            failed = True
    return SYNC_FAILED if failed else None


def _r_protected(s, t, unplanned, name, reasons):
    if t is None:
        reasons.append("original target not visible: target record state unknown")
    mirror = _get(t, "mirror_policy")
    if mirror:
        reasons.append("mirror %s kept (disabled) on the original target" % mirror_name(name))
    return PROTECTED


_RULES = (
    _r_not_visible, _r_two_sources, _r_both_records_writable, _r_reverse, _r_resync_prep_running,
    _r_source_writable_again, _r_mirror_resync_prep, _r_mirror_handed_back, _r_resync_prepped,
    _r_failing_over, _r_failing_back, _r_failed_over, _r_source_not_visible, _r_no_source_policy,
    _r_conflicted, _r_syncing, _r_disabled, _r_unsynced, _r_no_record, _r_sync_failed, _r_protected,
)


def summary(states):
    """``{state: count}`` for every state word (zeros included, so roles can index it)."""
    counts = dict((state, 0) for state in STATES)
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return counts
