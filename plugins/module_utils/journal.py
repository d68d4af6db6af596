# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DR journal kept on the clusters themselves (DESIGN.md §6.3, §6.5).

A failover whose controller dies (an AWX job container that is killed) must
be resumable from another controller without losing the original schedules
of the policies it set to manual.  So everything a run needs to resume lives
on the clusters, written through the namespace API:

``/ifs/.onefs_dr/<pair>/lock``            who runs now (run id, operation, start, controller)
``/ifs/.onefs_dr/<pair>/schedules.json``  the original schedules per policy, first cache wins
``/ifs/.onefs_dr/<pair>/open.json``       the unfinished run of each operation (what ``start`` resumes)
``/ifs/.onefs_dr/<pair>/runs/<id>.json``  the run record (plan, steps, result)

Every file is written to both clusters at once, and both copies are written
before the next file; reads prefer the target (it is the cluster that must be
up for any DR operation). A source that does not answer (unplanned failover)
is recorded in ``skipped`` and left out. The lock alone is created on the
target first, with ``overwrite=false``, which OneFS refuses with 409 when the
file exists: two controllers cannot both take it; then it is copied to the
source.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import getpass
import json
import os
import re
import socket
import tempfile
import time
import uuid

from .errors import ConflictError, OnefsError, UnavailableError
from .parallel import call_together

ROOT = "/ifs/.onefs_dr"
OPERATIONS = ("failover_planned", "failover_unplanned", "failover_test", "failback_discard_target",
              "failback_discard_source", "reprotect", "fence")
STATUSES = ("ok", "failed", "running")
STEP_STATUSES = ("ok", "failed", "skipped", "running")
DEFAULT_LOCK_TTL = 3600
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|credential", re.IGNORECASE)
MASK = "********"
SCHEDULE_FIELDS = ("schedule", "job_delay", "enabled")


class LockHeldError(OnefsError):
    """Another live run holds the pair's lock."""


class JournalError(OnefsError):
    """The journal cannot do what was asked (unknown run, foreign lock...)."""


# --------------------------------------------------------------------------- names and paths
def name_error(kind, value):
    """Why ``value`` cannot be a pair name or run id (it becomes a path component), or None."""
    if not value or not _NAME.match(str(value)):
        return "%s must be 1-128 letters, digits, '.', '_' or '-' (not starting with '.', '_' or '-'), got %r" % (
            kind, value)
    return None


def pair_dir(pair):
    return "%s/%s" % (ROOT, pair)


def lock_path(pair):
    return pair_dir(pair) + "/lock"


def schedules_path(pair):
    return pair_dir(pair) + "/schedules.json"


def open_path(pair):
    return pair_dir(pair) + "/open.json"


def run_path(pair, run_id):
    return "%s/runs/%s.json" % (pair_dir(pair), run_id)


def new_run_id(operation, pair, now):
    """``20261122T031500Z-failover_planned-prod-dr`` (sorts by time, names what and where)."""
    return "%s-%s-%s" % (time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)), operation, pair)


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch else None


# --------------------------------------------------------------------------- content helpers
def scrub(value):
    """A copy of ``value`` with every password-like key masked: nothing secret reaches a record."""
    if isinstance(value, dict):
        return dict((key, MASK if _SECRET_KEY.search(str(key)) else scrub(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    return value


def lock_age(lock, now):
    """Seconds since the lock holder last showed life (``updated``, else ``started``)."""
    seen = lock.get("updated") or lock.get("started") or 0
    return max(0.0, now - float(seen))


def is_stale(lock, ttl, now):
    return lock_age(lock, now) > ttl


def describe_lock(lock, now):
    return ("run %s (operation %s, started %s, controller %s, last seen %ds ago)"
            % (lock.get("run_id"), lock.get("operation"), iso(lock.get("started")), lock.get("controller"),
               int(lock_age(lock, now))))


def schedule_entry(value, run_id, now):
    """One cached schedule: ``{schedule, job_delay, enabled, cached_at, run_id}``."""
    entry = dict((field, (value or {}).get(field)) for field in SCHEDULE_FIELDS)
    entry["cached_at"] = (value or {}).get("cached_at") or now
    entry["run_id"] = (value or {}).get("run_id") or run_id
    return entry


def merge_caches(*caches):
    """Per policy the entry cached first (smallest ``cached_at``) across the clusters' copies."""
    merged = {}
    for cache in caches:
        for name, entry in ((cache or {}).get("policies") or {}).items():
            known = merged.get(name)
            if known is None or (entry.get("cached_at") or 0) < (known.get("cached_at") or 0):
                merged[name] = entry
    return merged


def step_key(step):
    return (step.get("name"), step.get("started"), step.get("phase"))


def merge_steps(recorded, new):
    """``recorded`` plus the steps of ``new`` not yet in it (same name, phase and start time).

    The role may send only its new steps or everything it accumulated: both
    give the same record, and a resumed run keeps the steps of the first try.
    """
    steps = list(recorded or [])
    index = dict((step_key(step), pos) for pos, step in enumerate(steps))
    for step in new or []:
        key = step_key(step)
        if key in index:
            steps[index[key]] = step
        else:
            index[key] = len(steps)
            steps.append(step)
    return steps


def controller_name():
    return os.environ.get("ONEFS_DR_CONTROLLER") or socket.gethostname()


def user_name():
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return None


def write_local(record_dir, record):
    """Write the record as ``<record_dir>/<run_id>.json`` atomically; returns the path."""
    if not os.path.isdir(record_dir):
        os.makedirs(record_dir)
    path = os.path.join(record_dir, "%s.json" % record["run_id"])
    handle, tmp = tempfile.mkstemp(dir=record_dir, prefix=".%s." % record["run_id"])
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(record, stream, indent=2, sort_keys=True)
            stream.write("\n")
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


# --------------------------------------------------------------------------- the journal
class Journal:
    """The journal of one cluster pair on ``target`` and, when it answers, ``source``.

    ``source`` may be None (not given).  With ``source_required`` false a
    source that does not answer (UnavailableError) is skipped and named in
    ``skipped``; every other error is raised.  In ``check_mode`` nothing is
    written and ``writes`` lists what would have been.
    """

    def __init__(self, target, source, pair, source_required=True, check_mode=False, now=time.time):
        self.target = target
        self.source = source
        self.pair = pair
        self.source_required = source_required
        self.check_mode = check_mode
        self.now = now
        self.skipped = {}
        self.warnings = []
        self.writes = []

    # -- raw files ---------------------------------------------------------------
    def _sides(self):
        sides = [("target", self.target)]
        if self.source is not None and "source" not in self.skipped:
            sides.append(("source", self.source))
        return sides

    def _on_source(self, fn):
        """Run ``fn(source)``; a source that does not answer is skipped when allowed."""
        if self.source is None or "source" in self.skipped:
            return None
        try:
            return fn(self.source)
        except UnavailableError as err:
            if self.source_required:
                raise
            self.skipped["source"] = str(err)
            self.warnings.append("source cluster not reachable: journal kept on the target only (%s)" % err)
            return None

    @staticmethod
    def _read(client, path):
        data = client.get_raw(path)
        if data is None:
            return None
        try:
            return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
        except ValueError:
            raise JournalError("journal file %s is not JSON; move it away to go on" % path,
                               cluster=getattr(client, "name", None), path=path)

    def read(self, path, side="target"):
        if side == "target":
            return self._read(self.target, path)
        return self._on_source(lambda client: self._read(client, path))

    def _put(self, client, path, data, create=False):
        body = json.dumps(scrub(data), indent=1, sort_keys=True)
        client.put_raw(path, body, headers={"Content-Type": "application/json"},
                       query={"overwrite": "false"} if create else None)

    def write(self, path, data):
        """Write ``data`` as JSON to both clusters at once (the source is skipped when down).

        Both copies are written before the next file: a crash between two files leaves each
        cluster with the same files. Reads prefer the target's copy; only the lock is created
        on the target first (:meth:`take_lock`), since that creation decides who holds it.
        """
        self.writes.append(path)
        if self.check_mode:
            return
        call_together(lambda: self._put(self.target, path, data),
                      lambda: self._on_source(lambda client: self._put(client, path, data)))

    def remove(self, path):
        self.writes.append("delete " + path)
        if self.check_mode:
            return
        call_together(lambda: self.target.delete_raw(path),
                      lambda: self._on_source(lambda client: client.delete_raw(path)))

    # -- lock ----------------------------------------------------------------------
    def lock(self):
        return self.read(lock_path(self.pair))

    def take_lock(self, run_id, operation, controller, user, ttl, takeover=False, own=False):
        """Hold the pair's lock for ``run_id``; returns the lock.  LockHeldError when a live run holds it.

        ``own``: the caller named ``run_id`` itself (the same run calling start
        again), so a lock of that run is its own.  Otherwise a lock naming the
        run being resumed belongs to a controller that may still be alive.
        """
        now = self.now()
        # "claim" is new for every attempt: two controllers (or two runs of one) starting in the same
        # second compute the same run id, so only the claim tells whose write created the lock.
        wanted = {"run_id": run_id, "operation": operation, "pair": self.pair, "started": now, "updated": now,
                  "controller": controller, "user": user, "ttl": ttl, "claim": uuid.uuid4().hex}
        held = self.lock()
        if held is None:
            return self._create_lock(wanted, now)
        if held.get("run_id") == run_id and own:
            wanted["started"] = held.get("started") or now
        elif is_stale(held, ttl, now):
            self.warnings.append("took over the stale lock of %s (older than lock_ttl %ss)"
                                 % (describe_lock(held, now), ttl))
        elif takeover:
            self.warnings.append("took over the live lock of %s (takeover: true)" % describe_lock(held, now))
        else:
            raise self._held_error(held, now, ttl)
        self.write(lock_path(self.pair), wanted)
        return wanted

    def _create_lock(self, wanted, now):
        path = lock_path(self.pair)
        self.writes.append(path)
        if self.check_mode:
            return wanted
        try:
            self._put(self.target, path, wanted, create=True)
        except ConflictError:
            # Another controller created it between our read and our write, or our own
            # write's answer was lost and the client sent it again: the file tells which.
            held = self.lock() or {}
            if held.get("claim") != wanted["claim"]:
                raise self._held_error(held, now, wanted["ttl"])
        try:
            self._on_source(lambda client: self._put(client, path, wanted))
        except Exception:
            # The source is required and failed: do not leave a lock that blocks the retry.
            self.target.delete_raw(path)
            raise
        return wanted

    def _held_error(self, held, now, ttl):
        return LockHeldError(
            "pair %s is locked by %s; wait for it to finish. If that run is dead, run dr_run again with "
            "takeover: true, or action: unlock with force: true (the lock is stale after lock_ttl=%ss)"
            % (self.pair, describe_lock(held, now), ttl), cluster="target", path=lock_path(self.pair),
            code="LOCKED")

    def refresh_lock(self, run_id):
        """Heartbeat: ``updated`` = now on our lock.  JournalError when another run holds it now."""
        held = self.lock()
        now = self.now()
        if held is None:
            raise JournalError("run %s does not hold the lock of pair %s any more (it was released or cleared); "
                               "start the run again" % (run_id, self.pair), cluster="target")
        if held.get("run_id") != run_id:
            raise JournalError("the lock of pair %s is now held by %s; this run must stop"
                               % (self.pair, describe_lock(held, now)), cluster="target")
        held["updated"] = now
        self.write(lock_path(self.pair), held)
        return held

    def release_lock(self, run_id, force=False, ttl=DEFAULT_LOCK_TTL):
        """Delete the lock if ``run_id`` holds it (or with ``force``); returns the lock removed, or None."""
        held = self.lock()
        if held is None:
            return None
        now = self.now()
        if held.get("run_id") != run_id or run_id is None:
            if not force:
                raise JournalError("the lock of pair %s is held by %s, not by this run; set force: true to clear it"
                                   % (self.pair, describe_lock(held, now)), cluster="target", field="force")
            if not is_stale(held, ttl, now):
                self.warnings.append("cleared the live lock of %s (force: true)" % describe_lock(held, now))
        self.remove(lock_path(self.pair))
        return held

    # -- schedules ----------------------------------------------------------------
    def cached_schedules(self):
        path = schedules_path(self.pair)
        return merge_caches(*call_together(lambda: self.read(path), lambda: self.read(path, "source")))

    def cache_schedules(self, schedules, run_id):
        """Add the policies not cached yet (first cache wins); returns ``(cache, added names)``."""
        now = self.now()
        cache = self.cached_schedules()
        added = [name for name in sorted(schedules or {}) if name not in cache]
        for name in added:
            cache[name] = schedule_entry(schedules[name], run_id, now)
        if added:
            self.write(schedules_path(self.pair), {"pair": self.pair, "updated": now, "policies": cache})
        return cache, added

    def forget_schedules(self, names):
        cache = self.cached_schedules()
        gone = [name for name in names if name in cache]
        for name in gone:
            del cache[name]
        if gone:
            self.write(schedules_path(self.pair), {"pair": self.pair, "updated": self.now(), "policies": cache})
        return gone

    # -- runs ---------------------------------------------------------------------
    def run_index(self):
        """``open.json``: ``{runs: {operation: open run id}, last: {operation: {run_id, ended, policies}}}``
        (``last``: the last run of each operation that finished ``ok``)."""
        return self.read(open_path(self.pair)) or {}

    def set_open(self, operation, run_id, finished=None, index=None):
        """Mark the open run of ``operation`` (None: closed; ``finished`` = the record that ended ok).

        ``index``: ``open.json`` as this run read it while holding the lock (no second read).
        """
        data = index if index is not None else self.run_index()
        runs = dict(data.get("runs") or {})
        last = dict(data.get("last") or {})
        if runs.get(operation) == run_id and finished is None:
            return
        if run_id is None:
            runs.pop(operation, None)
        else:
            runs[operation] = run_id
        if finished is not None:
            last[operation] = {"run_id": finished["run_id"], "ended": finished.get("ended"),
                               "policies": list((finished.get("scope") or {}).get("policies") or [])}
        self.write(open_path(self.pair), {"pair": self.pair, "runs": runs, "last": last})

    def record(self, run_id):
        """The run record from the target, else from the source."""
        record = self.read(run_path(self.pair, run_id))
        if record is None:
            record = self.read(run_path(self.pair, run_id), "source")
        return record

    def save(self, record):
        self.write(run_path(self.pair, record["run_id"]), record)


def new_record(run_id, pair, operation, now, controller, user, scope, plan, schedules, test=False):
    """A run record as DESIGN.md §6.5 describes it."""
    return {
        "run_id": run_id, "pair": pair, "operation": operation, "test": bool(test), "status": "running",
        "started": now, "ended": None, "controller": controller, "user": user,
        "scope": {"policies": list((scope or {}).get("policies") or []), "zone": (scope or {}).get("zone")},
        "plan": plan or [], "schedules": schedules, "steps": [], "points_in_time": {}, "warnings": [],
        "manual_actions": [], "unfenced_policies": [], "resumes": [], "journal_skipped": {},
    }


def update_record(record, updates):
    """Fold what the role sends (``steps``, ``points_in_time``, lists...) into the record."""
    record["steps"] = merge_steps(record.get("steps"), updates.get("steps"))
    if updates.get("points_in_time"):
        record.setdefault("points_in_time", {}).update(updates["points_in_time"])
    for key in ("warnings", "manual_actions"):
        for item in updates.get(key) or []:
            if item not in record.setdefault(key, []):
                record[key].append(item)
    if updates.get("unfenced_policies") is not None:
        record["unfenced_policies"] = list(updates["unfenced_policies"])
    if updates.get("details"):
        record.setdefault("details", {}).update(updates["details"])
    return record


def start_run(journal, operation, scope, plan, schedules, controller, user, lock_ttl, takeover=False,
              run_id=None, test=False, index=None):
    """Take the lock, create or resume the run, cache the schedules; ``dr_run action=start``.

    Returns ``{run_id, resumed, schedules, cached, record, lock}``.  Nothing is
    written before the lock is held; the schedules are cached before the
    record is written, so that a crash right after ``start`` keeps them.
    ``index``: ``open.json`` when the caller read it already (see :meth:`Journal.run_index`).
    """
    now = journal.now()
    if index is None:
        index = journal.run_index()
    resume_id = run_id or (index.get("runs") or {}).get(operation)
    record = journal.record(resume_id) if resume_id else None
    if record is not None and (record.get("operation") != operation or record.get("status") == "ok"):
        if run_id:
            raise JournalError("run %s is a %s run with status %s: it cannot be resumed as %s"
                               % (run_id, record.get("operation"), record.get("status"), operation),
                               cluster="target", field="run_id")
        record = None
    if run_id and record is None:
        raise JournalError("run %s of pair %s was not found on the clusters" % (run_id, journal.pair),
                           cluster="target", field="run_id")
    the_id = record["run_id"] if record else unused_run_id(journal, operation, now)
    lock = journal.take_lock(the_id, operation, controller, user, lock_ttl, takeover=takeover, own=bool(run_id))
    cache, added = journal.cache_schedules(schedules, the_id)
    names = list((scope or {}).get("policies") or []) or sorted(cache)
    scoped = dict((name, cache[name]) for name in names if name in cache)
    if record is None:
        record = new_record(the_id, journal.pair, operation, now, controller, user, scope, plan, scoped, test)
    else:
        record["status"] = "running"
        record["ended"] = None
        record.setdefault("resumes", []).append({"at": now, "controller": controller, "user": user})
        if plan:
            record.setdefault("resume_plans", []).append(plan)
        record["schedules"] = dict(record.get("schedules") or {}, **scoped)
    record["journal_skipped"] = dict(journal.skipped)
    journal.save(record)
    # open.json as read above: only the lock holder writes it, and the lock is ours.
    journal.set_open(operation, the_id, index=index)
    return {"run_id": the_id, "resumed": bool(record.get("resumes")), "schedules": scoped, "cached": added,
            "record": record, "lock": lock}


def unused_run_id(journal, operation, now):
    """A new run id; a second run started within the same second gets a suffix."""
    base = new_run_id(operation, journal.pair, now)
    for count in range(1, 100):
        candidate = base if count == 1 else "%s-%d" % (base, count)
        if journal.read(run_path(journal.pair, candidate)) is None:
            return candidate
    raise JournalError("no free run id for %s" % base, cluster="target")


def _record_or_fail(journal, run_id):
    record = journal.record(run_id)
    if record is None:
        raise JournalError("run %s of pair %s was not found on the clusters" % (run_id, journal.pair),
                           cluster="target", field="run_id")
    return record


def flush_run(journal, run_id, updates):
    """Append steps (and the other updates) to the record; refreshes the lock as a heartbeat."""
    journal.refresh_lock(run_id)
    record = update_record(_record_or_fail(journal, run_id), updates)
    record["journal_skipped"] = dict(journal.skipped)
    journal.save(record)
    return record


def finish_run(journal, run_id, status, updates, record_dir=None, forget_schedules=False):
    """Final record on both clusters (and in ``record_dir``), lock released.

    A run that ends ``failed`` stays open: the next ``start`` of the same
    operation resumes it (with the schedules cached by the first try).
    """
    found, held, index = call_together(lambda: _record_or_fail(journal, run_id), journal.lock, journal.run_index)
    record = update_record(found, updates)
    if held is not None and held.get("run_id") != run_id:
        raise JournalError("the lock of pair %s is held by %s, not by run %s; not finishing it"
                           % (journal.pair, describe_lock(held, journal.now()), run_id), cluster="target")
    record["status"] = status
    record["ended"] = journal.now()
    forgotten = []
    if forget_schedules and status == "ok":
        forgotten = journal.forget_schedules(record.get("scope", {}).get("policies") or list(record.get("schedules") or {}))
    record["journal_skipped"] = dict(journal.skipped)
    journal.save(record)
    if status == "ok":
        journal.set_open(record["operation"], None, finished=record, index=index)
    if held is not None:
        journal.remove(lock_path(journal.pair))
    local = None
    if record_dir and not journal.check_mode:
        local = write_local(record_dir, scrub(record))
    return {"record": record, "record_file": local, "forgotten": forgotten, "released": held is not None}


def load_run(journal, operation=None, run_id=None):
    """What the journal holds, without writing: the run, the lock, the cached schedules."""
    index = journal.run_index()
    wanted = run_id or ((index.get("runs") or {}).get(operation) if operation else None)
    record, lock, schedules = call_together(lambda: journal.record(wanted) if wanted else None,
                                            journal.lock, journal.cached_schedules)
    return {"run_id": record["run_id"] if record else None, "record": record, "lock": lock,
            "schedules": schedules, "open_runs": index.get("runs") or {}, "last_runs": index.get("last") or {}}
