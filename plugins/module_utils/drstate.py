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
    if not policy.get("schedule"):
        reasons.append("its schedule is manual: this may also be a failback being prepared (enable, then "
                       "resync_prep)")
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


# =========================================================================== reading both clusters
# Everything below does I/O, through the other areas' service functions only;
# the classifier above stays pure.  One GET per area and cluster (no per-policy
# reads), the two clusters read at the same time on a bounded pool.

LOCAL = "local"
PEER = "peer"
CLUSTER_CONFIG = "/platform/3/cluster/config"
SYSTEM_ZONE = "System"

# What dr_info can gather; ``policies`` (the classification) always reads the
# policies, target records and active jobs of both clusters.
GATHER_CHOICES = ("cluster", "policies", "target_policies", "jobs", "reports", "pools", "spns", "quotas",
                  "shares", "exports")
DEFAULT_GATHER = ("cluster", "policies", "target_policies", "jobs", "reports", "pools", "spns", "quotas")
# gather entry -> the per-cluster reads it needs
_NEEDS = {
    "cluster": (),
    "policies": ("policies", "records", "jobs"),
    "target_policies": ("policies", "records"),
    "jobs": ("policies", "records", "jobs"),
    "reports": ("policies", "records", "reports"),
    "pools": ("pools",),
    "spns": ("ads",),
    "quotas": ("policies", "records", "quotas"),
    "shares": ("policies", "records", "shares"),
    "exports": ("policies", "records", "exports"),
}


def reads_for(gather):
    """The per-cluster reads (area names) that a ``gather`` list needs, in a stable order."""
    wanted = []
    for item in gather:
        for area in _NEEDS[item]:
            if area not in wanted:
                wanted.append(area)
    return wanted


def cluster_identity(config):
    """``{name, guid, onefs_version}`` from ``GET /platform/3/cluster/config``."""
    version = (config or {}).get("onefs_version") or {}
    release = version.get("release") if isinstance(version, dict) else version
    return {"name": (config or {}).get("name"), "guid": (config or {}).get("guid"),
            "onefs_version": (release or "").lstrip("v") or None}


def _read_area(client, area, zone):
    # Imported here so the classifier above needs nothing but the standard library.
    from . import ads, network, protocols, quota, synciq

    if area == "policies":
        return synciq.list_policies(client)
    if area == "records":
        return synciq.list_target_records(client)
    if area == "jobs":
        return synciq.active_jobs(client)
    if area == "reports":
        return synciq.reports_by_policy(client, per_policy=1)
    if area == "pools":
        return network.list_pools(client, access_zone=zone)
    if area == "ads":
        return ads.list_providers(client)
    if area == "quotas":
        return quota.list_quotas_under(client, "/ifs")
    if area == "shares":
        return protocols.list_objects(client, protocols.SMB, zone or SYSTEM_ZONE)
    if area == "exports":
        return protocols.list_objects(client, protocols.NFS_EXPORT, zone or SYSTEM_ZONE)
    raise ValueError("unknown area %r" % area)


def _identify(entry, zone):
    """Phase 1 on one cluster: log in, read its identity (and the zone's base path)."""
    from . import synciq
    from .errors import NotFoundError

    label, client = entry
    data = {"label": label, "visible": True, "error": None}
    data["identity"] = cluster_identity(client.get(CLUSTER_CONFIG))
    data["zone_path"] = None
    if zone:
        try:
            data["zone_path"] = synciq.zone_base_path(client, zone)
        except NotFoundError as err:
            if label == LOCAL:
                raise
            # A zone missing on the peer only narrows the scope to what the local cluster selects.
            data["zone_error"] = str(err)
    return data


def read_clusters(clients, gather, zone=None, max_workers=10):
    """``{label: data}`` for ``clients`` (``{"local": client, "peer": client-or-None}``).

    Phase 1 reads each cluster's identity (this is also its only login); a peer
    that cannot be reached (:class:`UnavailableError`) is kept as not visible
    with its ``error``, any other failure is raised.  Phase 2 reads every area
    of every visible cluster in parallel (at most ``max_workers`` threads); an
    area that fails is recorded in ``data["errors"]`` (``{area: message}``) so
    that what the other reads found is still returned.
    """
    from .errors import UnavailableError
    from .parallel import run_each

    present = [(label, client) for label, client in sorted(clients.items()) if client is not None]
    clusters = {}
    for result in run_each(present, lambda entry: _identify(entry, zone), max_workers=max_workers,
                           name_of=lambda entry: entry[0]):
        if result.ok:
            clusters[result.name] = result.value
        elif result.name == PEER and isinstance(result.error, UnavailableError):
            clusters[PEER] = {"label": PEER, "visible": False, "error": str(result.error), "identity": None}
        else:
            raise result.error
    tasks = [(label, client, area) for label, client in present if clusters[label]["visible"]
             for area in reads_for(gather)]
    outcome = run_each(tasks, lambda task: _read_area(task[1], task[2], zone), max_workers=max_workers,
                       name_of=lambda task: "%s %s" % (task[0], task[2]))
    for (label, _client, area), result in zip(tasks, outcome):
        if result.ok:
            clusters[label][area] = result.value
        else:
            clusters[label].setdefault("errors", {})[area] = str(result.error)
    return clusters


# Without these three reads a cluster's side of a policy cannot be judged.
CORE_AREAS = ("policies", "records", "jobs")


def read_errors(clusters):
    """``["local policies: <error>", ...]`` for every area that could not be read."""
    return ["%s %s: %s" % (label, area, message) for label, data in sorted(clusters.items())
            for area, message in sorted((data.get("errors") or {}).items())]


# --------------------------------------------------------------------------- building views
def _by_name(items):
    found = {}
    for item in items or []:
        found.setdefault(item.get("name"), item)
    return found


def pick_record(records, name, peer_guid=None):
    """The target record ``name``; with several, the one whose source is the peer cluster."""
    named = [r for r in records or [] if r.get("name") == name]
    if len(named) > 1 and peer_guid:
        from_peer = [r for r in named if str(r.get("source_cluster_guid") or "").lower() == str(peer_guid).lower()]
        named = from_peer or named
    return named[0] if named else None


def cluster_view(data, name, peer_guid=None):
    """The :func:`side` of policy ``name`` on one read cluster (None when not visible)."""
    if not data or not data.get("visible"):
        return None
    if set(data.get("errors") or {}) & set(CORE_AREAS):
        return None
    policies = _by_name(data.get("policies"))
    records = data.get("records") or []
    jobs = data.get("jobs") or {}
    mirror = mirror_name(name)
    return side(name=name, policy=policies.get(name), record=pick_record(records, name, peer_guid),
                mirror_policy=policies.get(mirror), mirror_record=pick_record(records, mirror, peer_guid),
                job=jobs.get(name), mirror_job=jobs.get(mirror))


def _local_paths(data, names):
    """The paths a cluster holds for policies ``names``: its policies' sources and its records' targets."""
    wanted = set(names)
    wanted.update(mirror_name(n) for n in names)
    paths = [p.get("source_root_path") for p in data.get("policies") or [] if p.get("name") in wanted]
    paths += [r.get("target_path") for r in data.get("records") or [] if r.get("name") in wanted]
    return [p for p in paths if p]


def known_names(clusters):
    """Every base policy name seen on any visible cluster (policies and target records)."""
    names = set()
    for data in clusters.values():
        for item in (data.get("policies") or []) + (data.get("records") or []):
            if item.get("name"):
                names.add(base_name(item["name"]))
    return names


def select_names(clusters, names=None, pattern=None, zone=None):
    """The base policy names of the scope, in a stable order.

    ``names`` are kept as given (even when absent: they are reported as
    ``unknown``); ``pattern`` is a shell glob on the base name; ``zone`` keeps
    the policies whose path on some cluster lies under that cluster's base
    path of the zone.
    """
    import fnmatch

    from .synciq import path_under

    if names:
        return list(dict.fromkeys(base_name(n) for n in names))
    every = sorted(known_names(clusters))
    if pattern:
        return [n for n in every if fnmatch.fnmatchcase(n, pattern)]
    if zone:
        chosen = set()
        for data in clusters.values():
            base = data.get("zone_path")
            if not base:
                continue
            for name in every:
                if any(path_under(path, base) for path in _local_paths(data, [name])):
                    chosen.add(name)
        return [n for n in every if n in chosen]
    return every


# --------------------------------------------------------------------------- what dr_info returns
def job_view(job):
    if not job:
        return None
    return {"id": job.get("id"), "job_id": job.get("job_id"), "action": job_action(job),
            "state": job.get("state"), "start_time": job.get("start_time")}


def report_view(report):
    if not report:
        return None
    errors = [str(e) for e in report.get("errors") or [] if e]
    if report.get("error"):
        errors.insert(0, str(report["error"]))
    return {"id": report.get("id"), "job_id": report.get("job_id"), "action": job_action(report),
            "state": report.get("state"), "start_time": report.get("start_time"),
            "end_time": report.get("end_time"), "errors": errors}


def _latest(data, name):
    reports = ((data or {}).get("reports") or {}).get(name) or []
    return report_view(reports[0]) if reports else None


def _schedule(policy):
    from .synciq import schedule_to_user

    return schedule_to_user(policy.get("schedule"))


def source_section(view, data, label):
    """What is known of policy P on the original source."""
    policy = _get(view, "policy") or {}
    return {
        "cluster": label, "visible": view is not None, "exists": bool(policy) if view is not None else None,
        "enabled": policy.get("enabled"), "schedule": _schedule(policy) if policy else None,
        "job_delay": policy.get("job_delay"), "last_job_state": policy.get("last_job_state"),
        "last_started": policy.get("last_started"), "last_success": policy.get("last_success"),
        "conflicted": policy.get("conflicted"), "running_job": job_view(_get(view, "job")),
        "target_host": policy.get("target_host"), "target_path": policy.get("target_path"),
        "source_root_path": policy.get("source_root_path"),
        "last_report": _latest(data, policy.get("name")) if policy else None,
    }


def target_section(view, label):
    """What is known of the target record P (and of a reverse policy P) on the original target."""
    record = _get(view, "record") or {}
    reverse = _get(view, "policy")
    return {
        "cluster": label, "visible": view is not None, "exists": bool(record) if view is not None else None,
        "id": record.get("id"), "record_state": fofb(record) if record else None,
        "last_job_state": record.get("last_job_state"), "source_host": record.get("source_host"),
        "source_cluster_guid": record.get("source_cluster_guid"), "target_path": record.get("target_path"),
        "last_update_from_source": record.get("last_update_from_source"),
        "running_job": job_view(_get(view, "job")),
        "reverse_policy": None if not reverse else {
            "enabled": reverse.get("enabled"), "target_host": reverse.get("target_host"),
            "last_job_state": reverse.get("last_job_state"), "last_success": reverse.get("last_success")},
    }


def mirror_section(source, target, target_data):
    """``P_mirror`` on the original target, and its record on the original source."""
    mirror = _get(target, "mirror_policy") or {}
    record = _get(source, "mirror_record")
    return {
        "name": mirror.get("name") or None, "exists": bool(mirror) if target is not None else None,
        "enabled": mirror.get("enabled"), "schedule": _schedule(mirror) if mirror else None,
        "last_job_state": mirror.get("last_job_state"), "last_success": mirror.get("last_success"),
        "conflicted": mirror.get("conflicted"), "running_job": job_view(_get(target, "mirror_job")),
        "record_state": fofb(record), "last_report": _latest(target_data, mirror.get("name")) if mirror else None,
    }


def policy_result(name, clusters, original_source="auto", unplanned_failovers=None):
    """One entry of dr_info's ``policies``: the state word, reasons and both sides."""
    local_data, peer_data = clusters.get(LOCAL), clusters.get(PEER)
    local_guid = ((local_data or {}).get("identity") or {}).get("guid")
    peer_guid = ((peer_data or {}).get("identity") or {}).get("guid")
    local = cluster_view(local_data, name, peer_guid)
    peer = cluster_view(peer_data, name, local_guid)
    source, target, local_is_source, reasons = orient(local, peer, original_source)
    if peer_data is None:
        reasons.append("no peer given: only the %s side is known" % ("source" if local_is_source else "target"))
    elif not peer_data.get("visible"):
        reasons.append("peer cluster not reachable: %s" % peer_data.get("error"))
    for label, data in ((LOCAL, local_data), (PEER, peer_data)):
        failed = sorted(set((data or {}).get("errors") or {}) & set(CORE_AREAS))
        if failed:
            reasons.append("%s cluster treated as not visible: could not read its %s" % (label, ", ".join(failed)))
    unplanned = None if unplanned_failovers is None else name in unplanned_failovers
    state, why = classify(source, target, unplanned_recorded=unplanned, name=name)
    labels = (LOCAL, PEER) if local_is_source else (PEER, LOCAL)
    source_data, target_data = (local_data, peer_data) if local_is_source else (peer_data, local_data)
    return {
        "name": name, "state": state, "reasons": why + reasons, "original_source": labels[0],
        "source": source_section(source, source_data, labels[0]),
        "target": target_section(target, labels[1]),
        "mirror": mirror_section(source, target, target_data),
    }


def spn_results(clusters):
    """``{label: [provider]}``: SPNs, recommended, missing, extra and collisions with the other cluster."""
    from . import ads

    found = {}
    for label, data in clusters.items():
        if not data.get("visible"):
            continue
        other = clusters.get(PEER if label == LOCAL else LOCAL) or {}
        others = dict(((p.get("name") or p.get("id") or "").upper(), p) for p in other.get("ads") or [])
        entries = []
        for provider in data.get("ads") or []:
            view = ads.provider_view(provider)
            check = ads.spn_check(provider)
            peer_provider = others.get((view["name"] or "").upper())
            entries.append({
                "name": view["name"], "machine_account": view["machine_account"], "spns": view["spns"],
                "recommended": view["recommended_spns"], "missing": check["missing"], "extra": check["extra"],
                "collisions": ads.collisions(view["spns"], peer_provider),
            })
        found[label] = entries
    return found


def _scoped_roots(data, names):
    roots = _local_paths(data, names)
    if data.get("zone_path"):
        roots.append(data["zone_path"])
    return roots


def _under_any(paths, roots):
    from .synciq import path_under

    return any(path_under(path, root) for path in paths for root in roots)


def per_cluster(clusters, names, gather):
    """The per-cluster lists of ``gather``: ``{key: {label: [...]}}``."""
    from . import network, protocols, quota

    wanted = set(names) | set(mirror_name(n) for n in names)
    out = {}
    for label, data in clusters.items():
        if not data.get("visible"):
            continue
        roots = _scoped_roots(data, names)
        if "target_policies" in gather:
            out.setdefault("target_policies", {})[label] = [
                r for r in data.get("records") or [] if r.get("name") in wanted]
        if "jobs" in gather:
            out.setdefault("jobs", {})[label] = [
                dict(job_view(job), policy=policy) for policy, job in sorted((data.get("jobs") or {}).items())
                if policy in wanted]
        if "reports" in gather:
            out.setdefault("reports", {})[label] = dict(
                (policy, _latest(data, policy)) for policy in sorted(data.get("reports") or {}) if policy in wanted)
        if "pools" in gather:
            out.setdefault("pools", {})[label] = [network.pool_summary(p) for p in data.get("pools") or []]
        if "quotas" in gather:
            out.setdefault("quotas", {})[label] = [
                quota.quota_view(q) for q in data.get("quotas") or [] if _under_any([q.get("path")], roots)]
        for key, kind in (("shares", protocols.SMB), ("exports", protocols.NFS_EXPORT)):
            if key in gather:
                out.setdefault(key, {})[label] = [
                    item for item in data.get(key) or [] if _under_any(kind.paths(item), roots)]
    return out


def describe(clusters, names, gather, original_source="auto", unplanned_failovers=None):
    """Everything dr_info returns (except ``changed``) from what :func:`read_clusters` read."""
    result = {}
    if "cluster" in gather:
        result["cluster"] = dict(
            (label, dict(data.get("identity") or {}, reachable=data.get("visible"), error=data.get("error")))
            for label, data in clusters.items())
    if "policies" in gather:
        policies = [policy_result(name, clusters, original_source, unplanned_failovers) for name in names]
        result["policies"] = policies
        result["summary"] = summary(entry["state"] for entry in policies)
    if "spns" in gather:
        result["spns"] = spn_results(clusters)
    result.update(per_cluster(clusters, names, gather))
    return result
