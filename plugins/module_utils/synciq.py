# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SyncIQ service functions: policies, jobs, reports and target records.

Plain functions over a :class:`PapiClient` (``client.get/get_item/list/post/put/delete``)
so modules, roles' helpers and ``dr_info`` share one implementation and unit
tests can drive them against the mock without Ansible.

Rules encoded here (``onefs-papi.md`` §3-§5):

* every policy PUT resends the current ``schedule`` and ``enabled`` (OneFS may
  clear them when a PUT omits them);
* ``schedule: ""`` is manual; modules show it as ``manual``;
* a job start is a non-idempotent POST: after a lost answer the client asks
  :func:`start_job`'s ``verify`` whether a job of that policy is active (or
  already reported) before it would ever send it again;
* ``GET /sync/jobs/<policy>`` answers 404 when the policy has no active job;
* several target records can share one name: they are told apart by the
  source cluster's guid or host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re
import time

from .errors import NotFoundError, OnefsError, WaitTimeoutError
from .parallel import call_together, run_each
from .waiter import wait_for

POLICIES = "/platform/14/sync/policies"
POLICY_RESET = "/platform/1/sync/policies/%s/reset"
JOBS = "/platform/15/sync/jobs"
REPORTS = "/platform/15/sync/reports"
TARGET_POLICIES = "/platform/1/sync/target/policies"
TARGET_REPORTS = "/platform/15/sync/target/reports"
ZONES = "/platform/3/zones"

MANUAL = "manual"
SPECIAL_SCHEDULES = ("when-source-modified", "when-snapshot-taken")

# Job states (onefs-papi.md §4.2).  "Active" jobs are listed by GET /sync/jobs.
ACTIVE_JOB_STATES = ("scheduled", "running", "paused", "pending")
SUCCESS_STATES = ("finished", "success w/ prior failures")
FAILED_STATES = ("failed", "canceled", "needs_attention", "unknown")

# Job actions that are not a replication run (failover/failback jobs).
FOFB_ACTIONS = ("allow_write", "allow_write_revert", "resync_prep", "test")

# failover_failback_state of a target record (onefs-papi.md §5.1).
WRITES_DISABLED = "writes_disabled"
WRITES_ENABLED = "writes_enabled"
ENABLING_WRITES = "enabling_writes"
DISABLING_WRITES = "disabling_writes"
TRANSIENT_FOFB_STATES = (ENABLING_WRITES, DISABLING_WRITES, "creating_resync_policy")

# Part of the message OneFS answers when a job is started on a conflicted policy.
ERROR_STATE_TEXT = "error state"
NOT_CONFLICTED_TEXT = "not conflicted"
ACTIVE_JOB_TEXT = "active job"

# Fields a user may set on a policy (synciq_policy options); OneFS names.
POLICY_FIELDS = (
    "source_root_path", "target_host", "target_path", "action", "schedule", "job_delay",
    "enabled", "description", "rpo_alert", "source_include_directories",
    "source_exclude_directories", "workers_per_node", "priority", "target_snapshot_archive",
    "target_snapshot_expiration", "skip_when_source_unmodified", "target_certificate_id",
)
CREATE_REQUIRED = ("source_root_path", "target_host", "target_path", "action")
LIST_FIELDS = ("source_include_directories", "source_exclude_directories")


# --------------------------------------------------------------------------- schedules
_DAY = r"(mon|tue|wed|thu|fri|sat|sun)[a-z]*"
_TIME = r"\d{1,2}(:\d{2})?\s*(am|pm)?"
_RECURRENCE_START = re.compile(r"^(every|the|yearly)\b", re.IGNORECASE)
_RECURRENCE_WORDS = re.compile(
    r"\b(day|days|weekday|weekdays|week|weeks|month|months|hour|hours|minute|minutes|"
    r"yearly|" + _DAY + r"|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b",
    re.IGNORECASE)
_AT_TIME = re.compile(r"\bat\s+" + _TIME + r"\s*$", re.IGNORECASE)


def schedule_to_api(value):
    """The schedule as OneFS stores it: ``manual`` (or empty/None) becomes ``""``."""
    if value is None:
        return ""
    text = str(value).strip()
    return "" if text.lower() == MANUAL or not text else text


def schedule_to_user(value):
    """The schedule as modules show it: OneFS's ``""`` (manual) becomes ``manual``."""
    text = schedule_to_api(value)
    return text or MANUAL


def schedule_error(value):
    """Why ``value`` is not a schedule OneFS would take, or None.

    Loose on purpose (OneFS's isidate grammar is large): the special words, or a
    recurrence that starts with ``every``/``the``/``yearly`` and names a unit,
    day or month.  Catches typos such as ``when-source-changed`` or ``daily``.
    """
    text = schedule_to_api(value)
    if not text or text in SPECIAL_SCHEDULES:
        return None
    if text.lower().startswith("when-"):
        return "unknown schedule %r (use manual, %s)" % (value, ", ".join(SPECIAL_SCHEDULES))
    if len(text) > 255:
        return "schedule is longer than 255 characters"
    if not _RECURRENCE_START.match(text) or not _RECURRENCE_WORDS.search(text):
        return ("schedule %r is not manual, %s or a OneFS recurrence such as "
                "'every 1 days at 12:00 AM'" % (value, ", ".join(SPECIAL_SCHEDULES)))
    return None


def schedule_equal(one, other):
    """OneFS may normalise the casing of a recurrence: compare case-insensitively."""
    return " ".join(schedule_to_api(one).lower().split()) == " ".join(schedule_to_api(other).lower().split())


# --------------------------------------------------------------------------- policies
def policy_path(client, name):
    return "%s/%s" % (POLICIES, client.q(name))


def get_policy(client, name):
    """The policy named (or with id) ``name``, or None."""
    return client.get_item(policy_path(client, name), "policies")


def list_policies(client):
    """Every SyncIQ policy of the cluster (all pages)."""
    return client.list(POLICIES, "policies")


def schedule_state(policy):
    """``{schedule, enabled, job_delay}`` of a policy, schedule in the user's form."""
    return {
        "schedule": schedule_to_user(policy.get("schedule")),
        "enabled": bool(policy.get("enabled")),
        "job_delay": policy.get("job_delay"),
    }


def missing_create_fields(wanted):
    """The fields OneFS requires on create that ``wanted`` lacks, in option order."""
    return [field for field in CREATE_REQUIRED if wanted.get(field) in (None, "")]


def create_body(name, wanted):
    body = {"name": name}
    for field in POLICY_FIELDS:
        if wanted.get(field) is not None:
            body[field] = wanted[field]
    if "schedule" in body:
        body["schedule"] = schedule_to_api(body["schedule"])
    return body


def create_policy(client, name, wanted):
    """Create a policy; returns its id.  A lost answer is verified by name."""
    answer = client.post(POLICIES, create_body(name, wanted),
                         verify=lambda: _id_of(get_policy(client, name)))
    return (answer or {}).get("id")


def _id_of(record):
    return {"id": record.get("id")} if record else None


def _field_equal(field, current, wanted):
    if field == "schedule":
        return schedule_equal(current, wanted)
    if field in LIST_FIELDS:
        return sorted(current or []) == sorted(wanted or [])
    return current == wanted


def policy_changes(policy, wanted):
    """``{field: wanted value}`` for every specified field that differs from ``policy``."""
    changes = {}
    for field in POLICY_FIELDS:
        value = wanted.get(field)
        if value is None:
            continue
        if not _field_equal(field, policy.get(field), value):
            changes[field] = schedule_to_api(value) if field == "schedule" else value
    return changes


def update_body(policy, changes):
    """A PUT body: the changes plus the current ``schedule``/``enabled`` (onefs-papi.md §3.4)."""
    body = {"schedule": schedule_to_api(policy.get("schedule")), "enabled": bool(policy.get("enabled"))}
    body.update(changes)
    if "schedule" in body:
        body["schedule"] = schedule_to_api(body["schedule"])
    return body


def update_policy(client, policy, changes):
    """PUT ``changes`` to ``policy`` (a GET result), resending its schedule and enabled."""
    client.put(policy_path(client, policy.get("id") or policy["name"]), update_body(policy, changes))


def set_schedule(client, policy, schedule):
    """Set a policy's schedule (``manual`` allowed); returns True when it changed."""
    if schedule_equal(policy.get("schedule"), schedule):
        return False
    update_policy(client, policy, {"schedule": schedule_to_api(schedule)})
    return True


def resolve_conflict(client, policy):
    """Clear ``conflicted`` (schedule and enabled resent).  False when it was not conflicted."""
    try:
        update_policy(client, policy, {"conflicted": False})
    except OnefsError as err:
        if NOT_CONFLICTED_TEXT in (err.message or "").lower():
            return False
        raise
    return True


def delete_policy(client, name, force=False, local_only=False):
    """DELETE a policy.  ``local_only`` keeps the peer's target record; ``force`` ignores a running job."""
    query = {}
    if force:
        query["force"] = "true"
    if local_only:
        query["local_only"] = "true"
    client.delete(policy_path(client, name), query=query or None)


def reset_policy(client, name):
    """POST /sync/policies/<name>/reset: the next run is a full/differential sync."""
    client.post(POLICY_RESET % client.q(name), {})


# --------------------------------------------------------------------------- selection
def zone_base_path(client, zone):
    """The base path of an access zone (``GET /platform/3/zones/<zone>``)."""
    record = client.get_item("%s/%s" % (ZONES, client.q(zone)), "zones")
    if not record:
        raise NotFoundError("access zone %s not found" % zone, status=404, code="AEC_NOT_FOUND",
                            cluster=getattr(client, "name", None), obj=zone)
    return record.get("path") or "/ifs"


def path_under(path, base):
    """Whether ``path`` is ``base`` or inside it (whole path components only)."""
    if not path or not base:
        return False
    base = base.rstrip("/") or "/"
    path = path.rstrip("/") or "/"
    return path == base or path.startswith(base if base == "/" else base + "/")


def select_policies(records, names=None, pattern=None, base_path=None, path_field="source_root_path"):
    """The records of a replication group, and the requested names that were not found.

    ``records`` are policies (source) or target records (target).  Exactly one
    of ``names`` (kept in the given order), ``pattern`` (shell glob on the
    name) or ``base_path`` (every record whose ``path_field`` lies under it)
    selects the group.  Returns ``(selected, missing_names)``.
    """
    if names:
        by_name = {}
        for record in records:
            by_name.setdefault(record.get("name"), record)
        selected = [by_name[name] for name in names if name in by_name]
        return selected, [name for name in names if name not in by_name]
    if pattern:
        chosen = [r for r in records if fnmatch.fnmatchcase(r.get("name") or "", pattern)]
    elif base_path:
        chosen = [r for r in records if path_under(r.get(path_field), base_path)]
    else:
        chosen = list(records)
    return sorted(chosen, key=lambda r: r.get("name") or ""), []


# --------------------------------------------------------------------------- jobs
def job_path(client, policy_name):
    return "%s/%s" % (JOBS, client.q(policy_name))


def job_policy_name(job):
    """The policy a job belongs to (``policy_name``, else ``policy.name``, else ``id``)."""
    return job.get("policy_name") or (job.get("policy") or {}).get("name") or job.get("id")


def job_action(job):
    """The job's action, ``run`` for a replication run."""
    action = job.get("action")
    return "run" if action in (None, "", "none", "sync", "copy") else action


def active_job(client, policy_name):
    """The active job of one policy, or None (OneFS answers 404 when idle)."""
    try:
        answer = client.get(job_path(client, policy_name))
    except NotFoundError:
        return None
    jobs = [job for job in (answer or {}).get("jobs") or [] if job.get("state") in ACTIVE_JOB_STATES or not job.get("state")]
    return jobs[0] if jobs else None


def active_jobs(client):
    """``{policy name: job}`` of every active job of the cluster (one paged GET)."""
    found = {}
    for job in client.list(JOBS, "jobs"):
        found[job_policy_name(job)] = job
    return found


def start_job(client, policy_name, action=None, since=None, **extra):
    """POST /sync/jobs for a policy; returns the job (as answered or found by ``verify``).

    ``action`` None is a replication run (OneFS has no "run" value).  After a
    lost answer ``verify`` looks for an active job of the policy with the same
    action, or a report of one that started at or after ``since`` (the job may
    already have finished), so a second job is never started by a retry.
    """
    body = {"id": policy_name}
    if action:
        body["action"] = action
    body.update({key: value for key, value in extra.items() if value is not None})
    started_at = since if since is not None else time.time() - 1
    wanted = action or "run"

    def verify():
        job = active_job(client, policy_name)
        if job and job_action(job) == wanted:
            return job
        if action:
            return None
        report = latest_report(client, policy_name)
        if report and (report.get("start_time") or 0) >= started_at:
            return report
        return None

    answer = client.post(JOBS, body, verify=verify) or {}
    return answer


# --------------------------------------------------------------------------- reports
def report_sort_key(report):
    return (report.get("end_time") or report.get("start_time") or 0, report.get("job_id") or 0)


def latest_report(client, policy_name, target=False):
    """The newest report of one policy (source side, or target side with ``target``), or None."""
    reports = policy_reports(client, policy_name, target=target, per_policy=1)
    return reports[0] if reports else None


def policy_reports(client, policy_name, target=False, per_policy=5):
    """Up to ``per_policy`` newest reports of one policy, newest first."""
    query = {"policy_name": policy_name, "reports_per_policy": per_policy,
             "sort": "end_time", "dir": "DESC"}
    try:
        reports = client.list(TARGET_REPORTS if target else REPORTS, "reports", query=query)
    except NotFoundError:
        return []
    reports = [r for r in reports if r.get("policy_name", policy_name) == policy_name]
    return sorted(reports, key=report_sort_key, reverse=True)[:per_policy]


def reports_by_policy(client, target=False, per_policy=1, names=None):
    """``{policy name: [reports newest first]}`` for every policy, in one paged GET.

    Used instead of one request per policy when a group's jobs finish together.
    """
    query = {"reports_per_policy": per_policy, "sort": "end_time", "dir": "DESC"}
    wanted = set(names) if names is not None else None
    grouped = {}
    for report in client.list(TARGET_REPORTS if target else REPORTS, "reports", query=query):
        name = report.get("policy_name") or (report.get("policy") or {}).get("name")
        if wanted is not None and name not in wanted:
            continue
        grouped.setdefault(name, []).append(report)
    for name in grouped:
        grouped[name] = sorted(grouped[name], key=report_sort_key, reverse=True)[:per_policy]
    return grouped


def report_error(report):
    """The error text of a report (``error``, else the joined ``errors``), or None."""
    if not report:
        return None
    if report.get("error"):
        return report["error"]
    errors = [str(entry) for entry in report.get("errors") or [] if entry]
    return "; ".join(errors) or None


def job_ids_from_reports(client, names, action):
    """``{policy name: job number}`` of the newest ``action`` job of each policy in ``names``, from one
    list of the reports: for jobs that ended before a group's poll saw them running."""
    found = reports_by_policy(client, per_policy=2, names=names)
    ids = {}
    for name in names:
        report = next((r for r in found.get(name) or [] if job_action(r) == action), None)
        if report is not None:
            ids[name] = report.get("job_id")
    return ids


def point_in_time(report, name=None):
    """The point in time a finished sync reached, as the modules return it."""
    return {
        "job_id": report.get("job_id"),
        "report_id": report.get("id"),
        "state": report.get("state"),
        "start_time": report.get("start_time"),
        "end_time": report.get("end_time"),
        "bytes_transferred": report.get("bytes_transferred"),
        "files_transferred": report.get("files_transferred"),
        "point_in_time_name": name,
    }


def is_sync_report(report):
    return job_action(report) not in FOFB_ACTIONS


# --------------------------------------------------------------------------- target records
def target_path_of(client, record_id):
    return "%s/%s" % (TARGET_POLICIES, client.q(record_id))


def list_target_records(client):
    """Every target record ("Local Target" policy) of the cluster."""
    return client.list(TARGET_POLICIES, "policies")


def target_records_named(client, name):
    """Every target record called ``name`` (OneFS may hold several), [] when none."""
    try:
        answer = client.get(target_path_of(client, name))
    except NotFoundError:
        return []
    return [r for r in (answer or {}).get("policies") or [] if r.get("name", name) == name or r.get("id") == name]


def matches_source(record, source_cluster):
    """Whether a target record comes from ``source_cluster`` (guid, or host/name)."""
    wanted = str(source_cluster).lower()
    return wanted in (str(record.get("source_cluster_guid") or "").lower(),
                      str(record.get("source_host") or "").lower())


class AmbiguousTargetError(OnefsError):
    """Several target records share a name and nothing tells them apart."""


def get_target_record(client, name, source_cluster=None, listed=None):
    """The one target record for ``name`` (and ``source_cluster`` when given), or None.

    ``listed``: every target record of the cluster, read once for a group
    (:func:`list_target_records`), instead of one GET for this name.
    Raises :class:`AmbiguousTargetError` naming the candidates when several
    records match, so the caller can ask the user for ``source_cluster``.
    """
    if listed is None:
        records = target_records_named(client, name)
    else:
        records = [r for r in listed if r.get("name") == name or r.get("id") == name]
    if source_cluster:
        records = [r for r in records if matches_source(r, source_cluster)]
    if len(records) > 1:
        sources = ", ".join("%s (%s)" % (r.get("source_host"), r.get("source_cluster_guid")) for r in records)
        raise AmbiguousTargetError(
            "%d target records are named %s (sources: %s); set source_cluster to the source "
            "cluster's guid or host" % (len(records), name, sources),
            cluster=getattr(client, "name", None), obj=name, field="source_cluster")
    return records[0] if records else None


def read_target_record(client, record_id):
    """A target record by id (None once deleted)."""
    return client.get_item(target_path_of(client, record_id), "policies")


def delete_target_record(client, record_id, force=False):
    """Break the association: DELETE /sync/target/policies/<id>."""
    client.delete(target_path_of(client, record_id), query={"force": "true"} if force else None)


# --------------------------------------------------------------------------- replication groups
# Resolution of a report's duration: OneFS counts whole seconds.
REPORT_SECONDS = 1.0
# Poll cycles a finished job may go without its report before it counts as failed
# (the report is written when the job leaves the active list; this absorbs a race).
MAX_REPORT_MISSES = 5


class _Entry:
    """What one policy of a group has gone through during one call."""

    def __init__(self, record):
        self.record = record
        self.name = record.get("name")
        self.status = "pending"     # pending | running | done | failed
        self.job_id = None
        self.joined = False
        self.started = False
        self.retries = 0
        self.misses = 0
        self.baseline_id = None
        self.expected_s = None      # how long its job should take: its last successful sync's duration
        self.started_at = None      # clock() when this call started its job (None for a joined job)
        self.report = None
        self.error = None
        self.actions = []
        self.changed = False

    def fail(self, message):
        self.status = "failed"
        self.error = message

    def result(self, point_in_time_name):
        data = {"name": self.name, "changed": self.changed, "actions": list(self.actions),
                "joined": self.joined, "retries": self.retries, "failed": self.status == "failed",
                "msg": self.error}
        data.update(point_in_time(self.report or {}, point_in_time_name))
        if self.job_id is not None and data["job_id"] is None:
            data["job_id"] = self.job_id
        return data


class GroupSync:
    """Sync a replication group from its source cluster and wait for every job.

    Per policy: join its active run, or start one (at most ``max_running_jobs``
    of the group at once); a start refused because the policy is in an error
    state is resolved (``conflicted: false``) and retried up to
    ``error_retries`` times.  One ``GET /sync/jobs`` per poll cycle serves the
    whole group; reports of the jobs that ended in a cycle are fetched in one
    list call when more than two ended.  ``since`` (epoch s): a policy whose
    newest report is a successful sync that started at or after it is not
    synced again (a re-run resumes instead of repeating).
    """

    def __init__(self, client, policies, point_in_time_name=None, max_running_jobs=50,
                 error_retries=3, timeout=3600, poll_interval=5.0, since=None, check_mode=False,
                 max_workers=10, clock=time.monotonic, sleep=time.sleep, now=time.time):
        self.client = client
        self.entries = [_Entry(policy) for policy in policies]
        self.point_in_time_name = point_in_time_name
        self.max_running_jobs = max(1, int(max_running_jobs))
        self.error_retries = max(0, int(error_retries))
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.since = since
        self.check_mode = check_mode
        self.max_workers = max_workers
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._ended_durations = []   # OneFS durations (s) of the jobs this call saw end successfully
        self.waited_s = 0.0

    # -- the run ------------------------------------------------------------------
    def run(self):
        """Sync every policy; returns one result per policy, in input order."""
        if self.entries:
            reports, jobs = call_together(lambda: self._reports_of(self.entries, per_policy=1),
                                          lambda: active_jobs(self.client))
            self._read_baseline(reports)
            self._join_active(jobs)
            if not self.check_mode:
                self._drive()
            else:
                for entry in self._in("pending"):
                    entry.actions.append("start job")
                    entry.changed = True
        return [entry.result(self.point_in_time_name) for entry in self.entries]

    def _in(self, *statuses):
        return [entry for entry in self.entries if entry.status in statuses]

    def _read_baseline(self, found):
        """The newest report of each policy before this call (tells new reports from old ones)."""
        for entry in self.entries:
            reports = found.get(entry.name) or []
            baseline = reports[0] if reports else None
            entry.baseline_id = baseline.get("id") if baseline else None
            entry.expected_s = _job_seconds(baseline)
            if self.since is not None and _synced_since(baseline, self.since):
                entry.status = "done"
                entry.report = baseline
                entry.actions.append("already synced since %s" % int(self.since))

    def _join_active(self, jobs):
        for entry in self._in("pending"):
            job = jobs.get(entry.name)
            if not job:
                continue
            if job_action(job) != "run":
                entry.fail("policy %s has an active %s job; a sync cannot start before it ends"
                           % (entry.name, job_action(job)))
                continue
            entry.status = "running"
            entry.joined = True
            entry.job_id = job.get("job_id")
            entry.actions.append("join job %s" % (entry.job_id,))

    def _drive(self):
        """Cycles of (poll the running jobs, start what fits) until none is left."""
        started = self._clock()

        def cycle():
            if self._in("running"):
                self._poll()
            self._start_pending()
            return tuple((entry.status, entry.job_id) for entry in self.entries)

        try:
            wait_for(cycle, lambda _: not self._in("pending", "running"), self.timeout, self.poll_interval,
                     describe="the sync jobs of %d policies" % len(self.entries),
                     clock=self._clock, sleep=self._sleep, cluster=getattr(self.client, "name", None),
                     expected_in=self._next_end_in)
        except WaitTimeoutError:
            self._time_out()
        except OnefsError as err:
            # The cluster stopped answering (retry budget spent): keep what is known per policy.
            for entry in self._in("pending", "running"):
                entry.fail("policy %s: polling the cluster failed, job state unknown: %s" % (entry.name, err))
        self.waited_s = round(self._clock() - started, 3)

    def _time_out(self):
        for entry in self._in("pending", "running"):
            what = "job %s still running" % entry.job_id if entry.status == "running" else "job not started"
            entry.fail("policy %s: timed out after %ss (%s)" % (entry.name, self.timeout, what))

    # -- starting jobs ------------------------------------------------------------
    def _start_pending(self):
        room = self.max_running_jobs - len(self._in("running"))
        batch = self._in("pending")[:max(0, room)]
        for outcome in run_each(batch, self._start_one, max_workers=self.max_workers, name_of=lambda e: e.name):
            if not outcome.ok:   # not an API error: keep the others going, report this one
                self._entry(outcome.name).fail("policy %s: %s" % (outcome.name, outcome.error))

    def _entry(self, name):
        return [entry for entry in self.entries if entry.name == name][0]

    def _start_one(self, entry):
        try:
            answer = start_job(self.client, entry.name, since=self._now() - 1)
        except OnefsError as err:
            self._start_refused(entry, err)
            return entry
        entry.status = "running"
        entry.started = entry.changed = True
        entry.started_at = self._clock()
        entry.job_id = (answer or {}).get("job_id")
        entry.actions.append("start job")
        return entry

    def _start_refused(self, entry, err):
        text = (err.message or "").lower()
        if ERROR_STATE_TEXT in text or "conflicted" in text:
            self._resolve_and_retry(entry, err)
        elif ACTIVE_JOB_TEXT in text or "already running" in text:
            # A scheduled run started between our GET and POST: wait for that one.
            entry.status = "running"
            entry.joined = True
            entry.actions.append("join job")
        else:
            entry.fail("policy %s: starting the sync failed: %s" % (entry.name, err))

    def _resolve_and_retry(self, entry, err):
        if entry.retries >= self.error_retries:
            entry.fail("policy %s is still in an error state after %d resolve attempts: %s"
                       % (entry.name, entry.retries, err.message))
            return
        entry.retries += 1
        try:
            resolve_conflict(self.client, entry.record)
        except OnefsError as resolve_err:
            entry.fail("policy %s: resolving its error state failed: %s" % (entry.name, resolve_err))
            return
        entry.changed = True
        entry.actions.append("resolve conflict")

    # -- polling ------------------------------------------------------------------
    def _poll(self):
        """One cycle: which jobs ended, and their reports.  True when something changed."""
        jobs = active_jobs(self.client)
        ended = []
        for entry in self._in("running"):
            job = jobs.get(entry.name)
            if job and job_action(job) == "run" and entry.job_id in (None, job.get("job_id")):
                entry.job_id = job.get("job_id")
                continue
            ended.append(entry)
        if not ended:
            return False
        found = self._reports_of(ended, per_policy=2)
        for entry in ended:
            self._settle(entry, found.get(entry.name) or [])
        return True

    def _next_end_in(self):
        """Seconds until the soonest expected end of a job this call started (None: nothing to expect).

        A job is expected to take as long as its policy's last successful sync, or else as long as
        the typical job of this group that already ended (the jobs of a wave tend to end together),
        plus one second: reports count whole seconds, so a job reported at 2 s took up to 3. A job
        well past its expected end (by half of it) no longer counts: back off as usual.
        """
        typical = sorted(self._ended_durations)[len(self._ended_durations) // 2] if self._ended_durations else None
        now = self._clock()
        soonest = None
        for entry in self._in("running"):
            expected = entry.expected_s or typical
            if entry.started_at is None or not expected:
                continue
            left = entry.started_at + expected + REPORT_SECONDS - now
            if left >= -expected / 2.0 and (soonest is None or left < soonest):
                soonest = left
        return soonest

    def _reports_of(self, entries, per_policy):
        if len(entries) > 2:
            return reports_by_policy(self.client, per_policy=per_policy, names=[e.name for e in entries])
        return {entry.name: policy_reports(self.client, entry.name, per_policy=per_policy) for entry in entries}

    def _settle(self, entry, reports):
        report = _report_of_job(reports, entry)
        if report is None:
            entry.misses += 1
            if entry.misses > MAX_REPORT_MISSES:
                entry.fail("policy %s: job %s ended but no report of it appeared" % (entry.name, entry.job_id))
            return
        entry.report = report
        entry.job_id = report.get("job_id", entry.job_id)
        if report.get("state") in SUCCESS_STATES:
            entry.status = "done"
            seconds = _job_seconds(report)
            if seconds:
                self._ended_durations.append(seconds)
            return
        entry.fail("policy %s: sync job %s ended %s: %s" % (
            entry.name, entry.job_id, report.get("state"), report_error(report) or "no error message"))


def _job_seconds(report):
    """A successful sync report's ``duration`` in seconds, when there is a usable one (else None)."""
    if not report or not is_sync_report(report) or report.get("state") not in SUCCESS_STATES:
        return None
    duration = report.get("duration")
    return float(duration) if isinstance(duration, (int, float)) and duration > 0 else None


def started_since(report, since):
    """Whether a report's job started at or after ``since`` (OneFS times are whole seconds)."""
    return (report.get("start_time") or 0) >= int(since)


def _synced_since(report, since):
    return bool(report and is_sync_report(report) and report.get("state") in SUCCESS_STATES
                and started_since(report, since))


def _report_of_job(reports, entry):
    """The report of the job an entry waited for: new since the baseline, same job id if known."""
    for report in reports:
        if report.get("id") == entry.baseline_id or not is_sync_report(report):
            continue
        if entry.job_id is None or report.get("job_id") == entry.job_id:
            return report
    return None


def set_group_manual(client, policies, check_mode=False, max_workers=10):
    """Set every policy's schedule to manual; returns ``(saved, results)``.

    ``saved`` = ``{name: {schedule, job_delay, enabled}}`` as they were before
    (what a role caches to restore later); ``results`` = per policy
    ``{name, changed, actions}``.  Policy records are updated in place.
    """
    saved = {policy["name"]: schedule_state(policy) for policy in policies}

    def one(policy):
        if not schedule_to_api(policy.get("schedule")):
            return {"name": policy["name"], "changed": False, "actions": []}
        action = "set schedule manual (was %s)" % schedule_to_user(policy.get("schedule"))
        if not check_mode:
            update_policy(client, policy, {"schedule": ""})
            policy["schedule"] = ""
        return {"name": policy["name"], "changed": True, "actions": [action]}

    return saved, run_each(policies, one, max_workers=max_workers, name_of=lambda p: p["name"])


def disable_group(client, policies, check_mode=False, max_workers=10):
    """Disable every enabled policy (the source side of a failover once its final sync is done).

    Per policy ``{name, changed, actions}`` outcomes; the records are updated in
    place, and each PUT resends the record's schedule (manual after
    :func:`set_group_manual`), not the one first read.
    """
    def one(policy):
        if not policy.get("enabled"):
            return {"name": policy["name"], "changed": False, "actions": []}
        if not check_mode:
            update_policy(client, policy, {"enabled": False})
            policy["enabled"] = False
        return {"name": policy["name"], "changed": True, "actions": ["disable policy"]}

    return run_each(policies, one, max_workers=max_workers, name_of=lambda p: p["name"])


class GroupWait:
    """Wait on the target cluster until every policy of a group has a new point in time.

    Starts nothing (SyncIQ is push-only): each poll cycle reads the target-side
    reports of all still-waiting policies in one list call and accepts a
    successful sync that started at or after ``since`` (epoch s).
    """

    def __init__(self, client, records, since, point_in_time_name=None, timeout=3600,
                 poll_interval=5.0, clock=time.monotonic, sleep=time.sleep):
        self.client = client
        self.entries = [_Entry(record) for record in records]
        self.since = since
        self.point_in_time_name = point_in_time_name
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._clock = clock
        self._sleep = sleep
        self.waited_s = 0.0

    def run(self):
        started = self._clock()

        def cycle():
            self._poll()
            return tuple(entry.status for entry in self.entries)

        try:
            wait_for(cycle, lambda _: not self._waiting(), self.timeout, self.poll_interval,
                     describe="a new point in time of %d policies" % len(self.entries),
                     clock=self._clock, sleep=self._sleep, cluster=getattr(self.client, "name", None))
        except WaitTimeoutError:
            for entry in self._waiting():
                entry.fail("policy %s: no finished sync that started at or after %s reached the "
                           "target within %ss%s" % (entry.name, int(self.since), self.timeout, _last_seen(entry)))
        except OnefsError as err:
            for entry in self._waiting():
                entry.fail("policy %s: reading the target reports failed: %s" % (entry.name, err))
        self.waited_s = round(self._clock() - started, 3)
        return [entry.result(self.point_in_time_name) for entry in self.entries]

    def _waiting(self):
        return [entry for entry in self.entries if entry.status == "pending"]

    def _poll(self):
        waiting = self._waiting()
        if not waiting:
            return False
        if len(waiting) > 2:
            found = reports_by_policy(self.client, target=True, per_policy=3, names=[e.name for e in waiting])
        else:
            found = {e.name: policy_reports(self.client, e.name, target=True, per_policy=3) for e in waiting}
        progressed = False
        for entry in waiting:
            for report in found.get(entry.name) or []:
                if not started_since(report, self.since) or not is_sync_report(report):
                    continue
                if report.get("state") in SUCCESS_STATES:
                    entry.status = "done"
                    entry.report = report
                    entry.error = None
                    entry.actions.append("waited for job %s" % report.get("job_id"))
                    progressed = True
                    break
                entry.error = report_error(report) or "job %s %s" % (report.get("job_id"), report.get("state"))
        return progressed


def _last_seen(entry):
    return " (last sync after it: %s)" % entry.error if entry.error else ""


# --------------------------------------------------------------------------- synciq_policy
# Default of ensure_policy's ``current`` and ``job``: read them here. None is an answer
# (no such policy, no active job), so it cannot mark "not read yet".
NOT_READ = object()


def policy_index(records):
    """``{id: policy, name: policy}`` of listed policies, to look up an item named by either.

    An id wins over an equal name, as ``GET /sync/policies/<key>`` resolves it.
    """
    index = {}
    for record in records:
        index.setdefault(record.get("name"), record)
    for record in records:
        if record.get("id"):
            index[record["id"]] = record
    return index


def job_of(jobs, policy):
    """The active job of ``policy`` in an :func:`active_jobs` answer, or None."""
    for key in (policy.get("name"), policy.get("id")):
        job = jobs.get(key) if key else None
        # same reading as active_job(): a listed job without a state counts as active
        if job and (job.get("state") in ACTIVE_JOB_STATES or not job.get("state")):
            return job
    return None


def _job_text(job):
    return "%s job %s, %s" % (job_action(job), job.get("job_id"), job.get("state"))


def wait_jobs_ended(client, policies, timeout, poll_interval, jobs=None, clock=time.monotonic, sleep=time.sleep):
    """Wait until none of ``policies`` (policy records) has an active job; the last :func:`active_jobs` answer.

    One job list per poll cycle serves every policy; ``jobs`` is a list already
    read (used as the first poll).  Raises OnefsError naming ``wait_timeout``
    and the policies still busy once ``timeout`` seconds have passed.
    """
    first = [jobs] if jobs is not None else []

    def fetch():
        return first.pop() if first else active_jobs(client)

    def busy(answer):
        return [(policy, job_of(answer, policy)) for policy in policies if job_of(answer, policy)]

    try:
        return wait_for(fetch, lambda answer: not busy(answer), timeout, poll_interval,
                        describe="the active jobs of %d policies to end" % len(policies),
                        state=lambda answer: sorted((p.get("name"), j.get("job_id"), j.get("state")) for p, j in busy(answer)),
                        clock=clock, sleep=sleep, cluster=getattr(client, "name", None))
    except WaitTimeoutError as err:
        still = busy(err.last or {})
        raise OnefsError("wait_timeout: %d of %d policies still had an active job after %ss, so none was deleted: %s"
                         % (len(still), len(policies), timeout,
                            ", ".join("%s (%s)" % (p.get("name"), _job_text(j)) for p, j in still)),
                         cluster=getattr(client, "name", None), field="wait_timeout")


def _shown(policy, fields):
    """The fields of a policy that a diff shows (schedule in the user's form)."""
    if not policy:
        return {}
    shown = {"name": policy.get("name")}
    for field in fields:
        if field in policy:
            shown[field] = schedule_to_user(policy[field]) if field == "schedule" else policy[field]
    return shown


def _policy_result(name, changed, actions, before, after, fields):
    previous = {"schedule": schedule_to_user(before.get("schedule")),
                "enabled": bool(before.get("enabled"))} if before else None
    return {
        "name": name, "changed": changed, "actions": actions,
        "policy": after, "previous": previous,
        "diff": {"before": _shown(before, fields), "after": _shown(after, fields),
                 "before_header": "policy %s" % name, "after_header": "policy %s" % name},
    }


def ensure_policy(client, name, wanted, state="present", force=False, local_only=False,
                  resolve=False, check_mode=False, current=NOT_READ, job=NOT_READ,
                  wait_timeout=0, poll_interval=2.0, waited_for=None):
    """Make one source policy as specified; read, plan, apply (check mode: plan only).

    ``wanted`` holds only the fields the user gave (None = leave as is).
    ``resolve`` clears ``conflicted``.  ``current`` is the policy as already
    read (None: it does not exist) and ``job`` its active job for a delete
    (None: idle); left at :data:`NOT_READ` they are read here.  A delete of a
    policy with an active job waits up to ``wait_timeout`` seconds for it to
    end (not in check mode); ``waited_for`` is a job the caller already
    waited for, named in the action.  Raises OnefsError (naming the option)
    when the plan cannot be applied: missing create fields, active job
    without ``force`` or ``wait_timeout``, a wait that timed out.

    The returned ``policy`` after an update is ``current`` with the changes
    applied: OneFS answers a PUT with no body, and reading the policy again
    would double the requests of a large group.
    """
    fields = [field for field in POLICY_FIELDS if wanted.get(field) is not None]
    if current is NOT_READ:
        current = get_policy(client, name)
    if state == "absent":
        return _remove_policy(client, name, current, fields, job=job, force=force, local_only=local_only,
                              check_mode=check_mode, wait_timeout=wait_timeout, poll_interval=poll_interval,
                              waited_for=waited_for)
    if current is None:
        return _create_policy(client, name, wanted, check_mode, fields)
    changes = policy_changes(current, wanted)
    actions = ["set %s" % field for field in sorted(changes)]
    if resolve and current.get("conflicted", True):
        # GET may not show the flag: without it a PUT is sent and OneFS says whether it did anything.
        actions.append("resolve conflict")
    if not actions:
        return _policy_result(name, False, [], current, current, fields)
    if not check_mode:
        if changes:
            update_policy(client, current, changes)
        if "resolve conflict" in actions and not resolve_conflict(client, dict(current, **changes)):
            actions.remove("resolve conflict")
    after = dict(current, **changes)
    if "resolve conflict" in actions:
        after["conflicted"] = False
    return _policy_result(name, bool(actions), actions, current, after, fields)


def _create_policy(client, name, wanted, check_mode, fields):
    missing = missing_create_fields(wanted)
    if missing:
        raise OnefsError("policy %s does not exist; creating it needs %s" % (name, ", ".join(missing)),
                         cluster=getattr(client, "name", None), obj=name, field=missing[0])
    actions = ["create policy"]
    if check_mode:
        return _policy_result(name, True, actions, None, create_body(name, wanted), fields)
    create_policy(client, name, wanted)
    # The POST answers only the id; creating is rare enough to read the whole new policy back.
    return _policy_result(name, True, actions, None, get_policy(client, name), fields)


def _remove_policy(client, name, current, fields, job, force, local_only, check_mode, wait_timeout,
                   poll_interval, waited_for):
    if current is None:
        return _policy_result(name, False, [], None, None, fields)
    if job is NOT_READ:
        job = active_job(client, name)
    if job and not force and wait_timeout > 0 and not check_mode:
        wait_jobs_ended(client, [current], wait_timeout, poll_interval)
        waited_for, job = job, None
    if job and not force and not (wait_timeout > 0 and check_mode):
        raise OnefsError("policy %s has an active %s job (job %s, %s); set force: true to delete it anyway "
                         "(the job is cancelled) or wait_timeout to wait for it to end"
                         % (name, job_action(job), job.get("job_id"), job.get("state")),
                         cluster=getattr(client, "name", None), obj=name, field="force")
    action = "delete policy"
    if job and force:
        action += " with its active job (force)"
    elif job:
        action += " once its active %s job %s (%s) ends (wait_timeout)" % (job_action(job), job.get("job_id"), job.get("state"))
    elif waited_for:
        action += " after its %s job %s ended (wait_timeout)" % (job_action(waited_for), waited_for.get("job_id"))
    action += " (keep the target record: local_only)" if local_only else " and its target record"
    if not check_mode:
        delete_policy(client, current.get("id") or name, force=force, local_only=local_only)
    return _policy_result(name, True, [action], current, None, fields)


# --------------------------------------------------------------------------- local_target
class GuardError(OnefsError):
    """A destructive change the user did not allow with its option (raised before any write)."""


JOB_FOR_STATE = {WRITES_ENABLED: "allow_write", WRITES_DISABLED: "allow_write_revert"}
SETTLES_TO = {ENABLING_WRITES: WRITES_ENABLED, DISABLING_WRITES: WRITES_DISABLED,
              "creating_resync_policy": "resync_policy_created"}


def plan_target(client, name, state, source_cluster=None, discard_target_changes=False,
                break_association=False, listed=None):
    """Read one target record (or find it in ``listed``) and plan: ``{name, record, before_state, actions, job}``.

    Raises GuardError when the plan needs ``discard_target_changes`` or
    ``break_association`` and the user did not set it, and OnefsError when
    the record cannot reach ``state`` (missing, or in a resync state).
    """
    record = get_target_record(client, name, source_cluster, listed=listed)
    before = record.get("failover_failback_state") if record else None
    plan = {"name": name, "record": record, "before_state": before, "actions": [], "job": None}
    where = dict(cluster=getattr(client, "name", None), obj=name)
    if state == "absent":
        if record is None:
            return plan
        if not break_association:
            raise GuardError("removing the target record of %s breaks the association: the source policy "
                             "then needs a reset and a full sync; set break_association: true" % name,
                             field="break_association", **where)
        plan["actions"] = ["break association"]
        return plan
    if record is None:
        raise NotFoundError("no target record of policy %s on this cluster%s" % (
            name, " from source %s" % source_cluster if source_cluster else ""), status=404, **where)
    settled = SETTLES_TO.get(before, before)
    if settled == state:
        if before != state:
            plan["actions"] = ["wait for %s" % state]
        return plan
    if settled not in JOB_FOR_STATE:
        raise OnefsError("target record of %s is %s: neither allow_write nor allow_write_revert applies "
                         "(finish or undo the resync first)" % (name, before), **where)
    if state == WRITES_DISABLED and not discard_target_changes:
        raise GuardError("target record of %s is %s: allow_write_revert discards everything written to "
                         "%s since the failover; set discard_target_changes: true"
                         % (name, before, record.get("target_path")), field="discard_target_changes", **where)
    if before != settled:
        plan["actions"].append("wait for %s" % settled)
    plan["job"] = JOB_FOR_STATE[state]
    plan["actions"].append(plan["job"])
    return plan


def apply_target(client, plan, state, workers_per_node=None, timeout=600, poll_interval=2.0,
                 check_mode=False, clock=time.monotonic, sleep=time.sleep):
    """Carry out a :func:`plan_target` plan; the module's per-policy result."""
    record = plan["record"]
    result = {"name": plan["name"], "changed": bool(plan["job"]) or "break association" in plan["actions"],
              "actions": plan["actions"], "before_state": plan["before_state"],
              "state": plan["before_state"], "job_id": None, "waited_s": 0.0,
              "record_id": record.get("id") if record else None,
              "source_cluster_guid": record.get("source_cluster_guid") if record else None}
    result["diff"] = _target_diff(plan["name"], plan["before_state"], None if state == "absent" else state)
    if check_mode or not plan["actions"]:
        if check_mode and plan["actions"]:
            result["state"] = None if state == "absent" else state
        return result
    started = clock()
    if state == "absent":
        delete_target_record(client, record["id"])
        result["state"] = None
        return result
    record_id = record["id"]
    current = plan["before_state"]
    if current in SETTLES_TO:
        current = _wait_target(client, record_id, SETTLES_TO[current], timeout, poll_interval, clock, sleep)
    if plan["job"]:
        answer = _start_fofb_job(client, record, plan["job"], workers_per_node)
        result["job_id"] = _job_id_of(client, record["name"], answer)
        remaining = max(1.0, timeout - (clock() - started))
        current = _wait_target(client, record_id, state, remaining, poll_interval, clock, sleep)
        if not isinstance(result["job_id"], int):
            result["job_id"] = _reported_job_id(client, record["name"], plan["job"], result["job_id"])
    result["state"] = current
    result["waited_s"] = round(clock() - started, 3)
    return result


def _job_id_of(client, name, answer):
    """The numeric job id: OneFS answers a job POST with the policy as ``id``, so ask the job."""
    if answer.get("job_id") is not None:
        return answer["job_id"]
    job = active_job(client, name)
    return job.get("job_id") if job else answer.get("id")


def _reported_job_id(client, name, action, fallback):
    """The job id from the newest report of a short job that ended before it could be read."""
    report = latest_report(client, name)
    return report.get("job_id") if report and job_action(report) == action else fallback


def _target_diff(name, before, after):
    header = "target record %s" % name
    return {"before": {"name": name, "failover_failback_state": before} if before else {},
            "after": {"name": name, "failover_failback_state": after} if after else {},
            "before_header": header, "after_header": header}


def _start_fofb_job(client, record, action, workers_per_node):
    """POST an allow_write(_revert) job for a target record; a lost answer is checked on the record."""
    job_state = {"allow_write": (ENABLING_WRITES, WRITES_ENABLED),
                 "allow_write_revert": (DISABLING_WRITES, WRITES_DISABLED)}[action]
    body = {"id": record.get("id") or record["name"], "action": action}
    if workers_per_node:
        body["workers_per_node"] = workers_per_node

    def verify():
        now = read_target_record(client, record["id"]) or {}
        if now.get("failover_failback_state") in job_state:
            return {"id": body["id"], "verified": True}
        job = active_job(client, record["name"])
        return job if job and job_action(job) == action else None

    return client.post(JOBS, body, verify=verify) or {}


def _wait_target(client, record_id, wanted, timeout, poll_interval, clock, sleep):
    def fetch():
        return read_target_record(client, record_id)

    def failed(record):
        # A job that fails leaves the record in its old state: that shows as a timeout
        # naming the state seen last (last_job_state may be stale from older runs).
        return "the target record disappeared" if record is None else None

    record = wait_for(fetch, lambda r: bool(r) and r.get("failover_failback_state") == wanted,
                      timeout, poll_interval, describe="target record %s to be %s" % (record_id, wanted),
                      failed=failed, state=lambda r: (r or {}).get("failover_failback_state"),
                      clock=clock, sleep=sleep, cluster=getattr(client, "name", None))
    return record.get("failover_failback_state")


# --------------------------------------------------------------------------- target records of a group
class TargetGroup:
    """Bring a group's target records to ``state`` (the ``local_target`` module), waiting for all at once.

    Each record's allow_write / allow_write_revert job is started (at most
    ``max_running_jobs`` running, starts sent by ``max_workers`` threads), then
    the whole group is watched with one list of the target records per poll
    cycle - not one read per record per cycle - so that waiting costs the time
    of the slowest job, not of the slowest worker's queue. Per-record outcomes
    as :func:`apply_target` returns them.
    """

    def __init__(self, client, plans, state, workers_per_node=None, timeout=600, poll_interval=2.0,
                 max_running_jobs=50, max_workers=10, check_mode=False, clock=time.monotonic, sleep=time.sleep):
        self.client = client
        self.state = state
        self.workers_per_node = workers_per_node
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.max_running_jobs = max(1, int(max_running_jobs))
        self.max_workers = max_workers
        self.check_mode = check_mode
        self._clock = clock
        self._sleep = sleep
        self.entries = [self._entry(plan) for plan in plans]

    def _entry(self, plan):
        record = plan["record"]
        result = {"name": plan["name"], "changed": bool(plan["job"]) or "break association" in plan["actions"],
                  "actions": plan["actions"], "before_state": plan["before_state"], "state": plan["before_state"],
                  "job_id": None, "waited_s": 0.0, "record_id": record.get("id") if record else None,
                  "source_cluster_guid": record.get("source_cluster_guid") if record else None,
                  "diff": _target_diff(plan["name"], plan["before_state"],
                                       None if self.state == "absent" else self.state)}
        # settling: a transient state to wait out first; pending: job to start; running: job started
        status = "done"
        if plan["actions"] and not self.check_mode:
            status = "settling" if plan["before_state"] in SETTLES_TO else ("pending" if plan["job"] else "done")
        if self.check_mode and plan["actions"]:
            result["state"] = None if self.state == "absent" else self.state
        return {"plan": plan, "result": result, "status": status, "error": None}

    def _in(self, *statuses):
        return [e for e in self.entries if e["status"] in statuses]

    def run(self):
        if self.state == "absent":
            return self._break_associations()
        started = self._clock()
        if self._in("settling", "pending", "running"):
            try:
                wait_for(self._cycle, lambda dummy: not self._in("settling", "pending", "running"), self.timeout,
                         self.poll_interval, describe="the target records of %d policies to be %s"
                         % (len(self.entries), self.state), clock=self._clock, sleep=self._sleep,
                         cluster=getattr(self.client, "name", None))
            except WaitTimeoutError:
                for entry in self._in("settling", "pending", "running"):
                    self._fail(entry, "target record of %s did not reach %s within %ss (last seen %s)"
                               % (entry["plan"]["name"], self.state, self.timeout, entry["result"]["state"]))
            except OnefsError as err:
                for entry in self._in("settling", "pending", "running"):
                    self._fail(entry, "watching the target record of %s failed: %s" % (entry["plan"]["name"], err))
            self._fill_job_ids()
        waited = round(self._clock() - started, 3)
        for entry in self.entries:
            if entry["plan"]["job"] or entry["plan"]["before_state"] in SETTLES_TO:
                entry["result"]["waited_s"] = waited
        return [self._outcome(entry) for entry in self.entries]

    def _outcome(self, entry):
        result = dict(entry["result"])
        if entry["error"]:
            result.update(failed=True, msg=entry["error"])
        return result

    def _fail(self, entry, message):
        entry["status"] = "failed"
        entry["error"] = message

    def _break_associations(self):
        doomed = [e for e in self.entries if e["plan"]["actions"] and not self.check_mode]

        def delete(entry):
            delete_target_record(self.client, entry["plan"]["record"]["id"])
            entry["result"]["state"] = None

        for outcome in run_each(doomed, delete, max_workers=self.max_workers, name_of=lambda e: e["plan"]["name"]):
            if not outcome.ok:
                self._fail([e for e in doomed if e["plan"]["name"] == outcome.name][0], str(outcome.error))
        return [self._outcome(entry) for entry in self.entries]

    # -- one poll cycle: read every record once, then start what may start -------------
    def _cycle(self):
        if self._in("settling", "running"):
            records = dict((r.get("id"), r) for r in list_target_records(self.client))
            for entry in self._in("settling", "running"):
                self._observe(entry, records.get(entry["plan"]["record"]["id"]))
        self._start_pending()
        return tuple((e["status"], e["result"]["state"]) for e in self.entries)

    def _observe(self, entry, record):
        if record is None:
            self._fail(entry, "the target record of %s disappeared" % entry["plan"]["name"])
            return
        current = record.get("failover_failback_state")
        entry["result"]["state"] = current
        if entry["status"] == "settling":
            if current == SETTLES_TO[entry["plan"]["before_state"]]:
                entry["status"] = "pending" if entry["plan"]["job"] else "done"
            return
        if current == self.state:
            entry["status"] = "done"

    def _start_pending(self):
        room = self.max_running_jobs - len(self._in("running"))
        batch = self._in("pending")[:max(0, room)]

        def start(entry):
            plan = entry["plan"]
            answer = _start_fofb_job(self.client, plan["record"], plan["job"], self.workers_per_node)
            entry["result"]["job_id"] = answer.get("job_id")
            entry["status"] = "running"

        for outcome in run_each(batch, start, max_workers=self.max_workers, name_of=lambda e: e["plan"]["name"]):
            if not outcome.ok:
                entry = [e for e in batch if e["plan"]["name"] == outcome.name][0]
                self._fail(entry, "%s of %s could not start: %s" % (entry["plan"]["job"], outcome.name, outcome.error))

    def _fill_job_ids(self):
        """Job ids OneFS did not answer with: from the jobs' reports, one list call for the group."""
        missing = [e for e in self.entries if e["plan"]["job"] and not isinstance(e["result"]["job_id"], int)
                   and e["status"] == "done"]
        if not missing:
            return
        # one state per group, so one job action (JOB_FOR_STATE) for every record in it
        ids = job_ids_from_reports(self.client, [e["plan"]["record"]["name"] for e in missing],
                                   missing[0]["plan"]["job"])
        for entry in missing:
            entry["result"]["job_id"] = ids.get(entry["plan"]["record"]["name"], entry["result"]["job_id"])
