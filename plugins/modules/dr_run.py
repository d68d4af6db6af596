#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dr_run
short_description: Lock, journal and run record of a DR operation, kept on the clusters themselves
version_added: 0.1.0
description:
  - The journal of the failover, failback and reprotect roles, written as small JSON files under
    C(/ifs/.onefs_dr/<pair>/) on the clusters through the namespace API, so that a run whose controller died
    (an AWX job container that was killed) can be resumed from any controller.
  - Runs against the B(original target) cluster of the pair, with O(peer) = the original source. Every file is
    written to both clusters at once, each file on both before the next one; reads prefer the target's copy. The
    lock alone is created on the target first, then copied to the source. With O(peer_required=false) a source
    that does not answer (unplanned failover) is skipped and named in RV(journal_skipped).
  - O(action=start) takes the pair's lock (a file created with C(overwrite=false), which only one controller can
    create), creates a run or resumes the unfinished run of the same O(operation), caches the original schedules of
    the policies (B(first cache wins) - a policy already cached keeps its first entry, so a re-run after the
    schedules were set to manual still returns the original ones) and stores the O(plan).
  - O(action=flush) adds O(steps) (and the other record fields) to the record on the clusters and refreshes the
    lock. O(action=finish) writes the final record to both clusters and to O(record_dir), then releases the lock; a
    run that ends V(failed) stays open and is resumed by the next O(action=start) of the same operation.
  - O(action=unlock) releases the lock of O(run_id), or any lock with O(force=true). O(action=load) only reads
    (the open run, the lock and the cached schedules).
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.PEER
  - onefs.dr.connection.ATTRIBUTES
attributes:
  check_mode:
    description: Reads the journal and returns what would be written; writes nothing.
    support: full
  diff_mode:
    description: No diff is returned.
    support: none
options:
  pair:
    description:
      - Name of the cluster pair; the journal directory is C(/ifs/.onefs_dr/<pair>) and run ids end with it.
      - Letters, digits, C(.), C(_) and C(-).
    type: str
    required: true
  action:
    description: What to do with the journal.
    type: str
    choices: [start, flush, finish, unlock, load]
    default: start
  operation:
    description:
      - The DR operation of the run. Required with O(action=start).
    type: str
    choices: [failover_planned, failover_unplanned, failover_test, failback_discard_target,
              failback_discard_source, reprotect, fence]
  run_id:
    description:
      - The run to flush, finish, unlock or load (RV(run_id) of O(action=start)).
      - With O(action=start), resume exactly this run; the lock it holds is then taken as its own.
    type: str
  policies:
    description: The policies of the scope (recorded, and the schedules returned are theirs).
    type: list
    elements: str
  zone:
    description: The access zone of the scope, when the scope is a zone (recorded).
    type: str
  plan:
    description:
      - The plan of the run (the RV(onefs.dr.dr_plan#module:actions) of M(onefs.dr.dr_plan)), stored with the record. On a resumed run the new
        plan is appended to C(resume_plans) and the first one is kept.
    type: list
    elements: raw
  schedules:
    description:
      - The original schedules to cache, a dict of policy name to C(schedule), C(job_delay) and C(enabled).
      - Only policies without a cached entry are added (first cache wins).
      - When not given with O(action=start), the schedules of O(policies) are read from the source (O(peer)) when
        it answers and O(read_schedules) is true.
    type: dict
  read_schedules:
    description: With O(action=start) and no O(schedules), read the schedules of O(policies) from the source.
    type: bool
    default: true
  steps:
    description:
      - Steps to add to the record, each a dict with C(name), C(phase), C(started), C(ended), C(status), C(objects),
        C(changed) and C(details).
      - A step with the same C(name), C(phase) and C(started) as a recorded one replaces it, so the role may send
        everything it accumulated each time.
    type: list
    elements: dict
  points_in_time:
    description: Per policy, the point in time reached (from rg_sync), merged into the record.
    type: dict
  warnings:
    description: Warnings to add to the record.
    type: list
    elements: str
  manual_actions:
    description: What a person must still do (remount clients...), added to the record.
    type: list
    elements: str
  unfenced_policies:
    description: Source policies still enabled that must be fenced when the source returns (unplanned failover).
    type: list
    elements: str
  details:
    description: Free-form data merged into the record's C(details).
    type: dict
  status:
    description: Outcome written by O(action=finish). A V(failed) run stays open for a later resume.
    type: str
    choices: [ok, failed]
    default: ok
  record_dir:
    description:
      - With O(action=finish), also write the record as C(<record_dir>/<run_id>.json) on the host the module runs
        on (the controller with C(delegate_to=localhost)).
    type: path
  report:
    description:
      - With O(action=finish) and O(record_dir), also write the evidence report next to the record file, as
        M(onefs.dr.dr_report) does (HTML with the timeline, and Markdown), in the same module run.
      - The run is recorded before the report is written, so a report that cannot be written is a warning
        (RV(report_error)), not a failed run.
    type: bool
    default: false
  forget_schedules:
    description:
      - With O(action=finish) and O(status=ok), drop the cached schedules of the scope (after a failback or
        reprotect restored them), so that the next failover caches them afresh.
    type: bool
    default: false
  lock_ttl:
    description:
      - Seconds after the lock holder's last sign of life (start or flush) after which its lock is stale and
        O(action=start) takes it over with a warning.
    type: int
    default: 3600
  takeover:
    description:
      - With O(action=start), take over a lock that is not stale yet (its controller is known to be dead).
    type: bool
    default: false
  force:
    description: With O(action=unlock), clear the lock whoever holds it.
    type: bool
    default: false
  peer_required:
    description:
      - Whether the source (O(peer)) must be given (for O(action=start), O(action=flush) and O(action=finish)) and
        answer. V(false) for an unplanned failover - the journal is then kept on the target only. Lower the peer's
        C(retry_budget) to give up on it sooner.
    type: bool
    default: true
  test:
    description: Mark the run as a test (rehearsal) in the record.
    type: bool
    default: false
  controller:
    description:
      - Name of the controller recorded in the lock and the record.
      - Defaults to the environment variable E(ONEFS_DR_CONTROLLER), else the host name.
    type: str
notes:
  - Needs C(ISI_PRIV_LOGIN_PAPI) and C(ISI_PRIV_NS_IFS_ACCESS) (namespace read and write under C(/ifs/.onefs_dr)),
    and read of C(ISI_PRIV_SYNCIQ) on the source to read the schedules, on both clusters.
  - Every value under a key that looks like a password, secret or token is masked before anything is written.
  - O(action=start), O(action=flush) and O(action=finish) always write the journal, so they report C(changed).
seealso:
  - module: onefs.dr.dr_plan
  - module: onefs.dr.dr_info
'''

EXAMPLES = r'''
- name: Journal of a planned failover
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/onefs.dr.onefs:
      onefs_host: "{{ target_host }}"
      onefs_port: "{{ target_port | default(8080) }}"
      username: "{{ target_user }}"
      password: "{{ target_password }}"
      ca_path: "{{ ca_path | default(omit) }}"
  vars:
    source:
      onefs_host: "{{ source_host }}"
      onefs_port: "{{ source_port | default(8080) }}"
      username: "{{ source_user }}"
      password: "{{ source_password }}"
      ca_path: "{{ ca_path | default(omit) }}"
  tasks:
    - name: Lock the pair, open (or resume) the run, cache the original schedules
      onefs.dr.dr_run:
        pair: prod-dr
        operation: failover_planned
        policies: [fin-ap, fin-ar]
        peer: "{{ source }}"
      register: run

    - name: Record a step
      onefs.dr.dr_run:
        pair: prod-dr
        action: flush
        run_id: "{{ run.run_id }}"
        peer: "{{ source }}"
        steps:
          - {name: Final sync, phase: sync, started: 1795000000.0, ended: 1795000060.0, status: ok,
             objects: [fin-ap, fin-ar], changed: true}

    - name: Finish the run, keep the record on the controller too, release the lock
      onefs.dr.dr_run:
        pair: prod-dr
        action: finish
        run_id: "{{ run.run_id }}"
        peer: "{{ source }}"
        status: ok
        record_dir: "{{ playbook_dir }}/dr-records"
'''

RETURN = r'''
run_id:
  description: The run started, resumed, flushed, finished or loaded.
  returned: always
  type: str
  sample: 20261122T031500Z-failover_planned-prod-dr
resumed:
  description: Whether O(action=start) resumed an unfinished run instead of creating one.
  returned: when O(action=start)
  type: bool
schedules:
  description:
    - The cached original schedules, per policy C(schedule), C(job_delay), C(enabled), C(cached_at) and C(run_id), of O(policies)
      (of every cached policy without O(policies), and always every cached policy with O(action=load)).
    - These are the schedules to restore, even when the policies are manual by now.
  returned: when O(action=start) or O(action=load)
  type: dict
cached:
  description: The policies whose schedules this call added to the cache.
  returned: when O(action=start)
  type: list
  elements: str
record:
  description: The run record (DESIGN.md 6.5) as written (or as it would be written in check mode).
  returned: when a run is concerned
  type: dict
lock:
  description: The lock as held after the call (C(run_id), C(operation), C(started), C(updated), C(controller)).
  returned: when O(action=start) or O(action=load)
  type: dict
open_runs:
  description: The unfinished run id of each operation.
  returned: when O(action=load)
  type: dict
last_runs:
  description: Per operation the last run that finished V(ok) (C(run_id), C(ended), C(policies)).
  returned: when O(action=load)
  type: dict
record_file:
  description: The record written into O(record_dir).
  returned: when O(action=finish) and O(record_dir) is set
  type: str
report:
  description: The evidence report written with O(report=true) (C(html_path), C(markdown_path), C(summary), C(changed)).
  returned: when O(action=finish), O(report=true) and the record file was written
  type: dict
report_error:
  description: Why the evidence report could not be written (the run is recorded all the same).
  returned: when O(report=true) and writing the report failed
  type: str
journal_skipped:
  description: The cluster sides that were skipped (V(source) when it did not answer) with the error.
  returned: always
  type: dict
journal_warnings:
  description: The warnings of the journal (lock taken over or cleared, source skipped), in full.
  returned: always
  type: list
  elements: str
writes:
  description: The journal files written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
'''

import os

from ansible_collections.onefs.dr.plugins.module_utils import journal, report, synciq
from ansible_collections.onefs.dr.plugins.module_utils.connection import peer_given
from ansible_collections.onefs.dr.plugins.module_utils.errors import UnavailableError
from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils.parallel import call_together

ARGUMENT_SPEC = dict(
    pair=dict(type="str", required=True),
    action=dict(type="str", choices=["start", "flush", "finish", "unlock", "load"], default="start"),
    operation=dict(type="str", choices=list(journal.OPERATIONS)),
    run_id=dict(type="str"),
    policies=dict(type="list", elements="str"),
    zone=dict(type="str"),
    plan=dict(type="list", elements="raw"),
    schedules=dict(type="dict"),
    read_schedules=dict(type="bool", default=True),
    steps=dict(type="list", elements="dict"),
    points_in_time=dict(type="dict"),
    warnings=dict(type="list", elements="str"),
    manual_actions=dict(type="list", elements="str"),
    unfenced_policies=dict(type="list", elements="str"),
    details=dict(type="dict"),
    status=dict(type="str", choices=["ok", "failed"], default="ok"),
    record_dir=dict(type="path"),
    forget_schedules=dict(type="bool", default=False),
    report=dict(type="bool", default=False),
    lock_ttl=dict(type="int", default=journal.DEFAULT_LOCK_TTL),
    takeover=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    peer_required=dict(type="bool", default=True),
    test=dict(type="bool", default=False),
    controller=dict(type="str"),
)
REQUIRED_IF = [("action", "start", ("operation",)), ("action", "flush", ("run_id",)),
               ("action", "finish", ("run_id",))]
UPDATE_KEYS = ("steps", "points_in_time", "warnings", "manual_actions", "unfenced_policies", "details")


def option_errors(params):
    errors = []
    for option in ("pair", "run_id"):
        if params[option] is not None:
            problem = journal.name_error(option, params[option])
            if problem:
                errors.append(problem)
    if params["lock_ttl"] <= 0:
        errors.append("lock_ttl must be more than 0 seconds")
    for pos, step in enumerate(params["steps"] or []):
        if not step.get("name"):
            errors.append("steps[%d] has no name" % pos)
        elif step.get("status") is not None and step["status"] not in journal.STEP_STATUSES:
            errors.append("steps[%d] (%s): status must be one of %s" % (pos, step["name"], ", ".join(journal.STEP_STATUSES)))
    for name, entry in (params["schedules"] or {}).items():
        if not isinstance(entry, dict) or "schedule" not in entry:
            errors.append("schedules.%s must be a dict with at least schedule (and job_delay, enabled)" % name)
    if params["policies"] is not None and any(not (name or "").strip() for name in params["policies"]):
        errors.append("policies must not hold empty names")
    if params["action"] in ("start", "flush", "finish") and params["peer_required"] and not peer_given(params):
        errors.append("peer: the original source is required to keep the journal on both clusters "
                      "(set peer_required: false to keep it on the target only)")
    return errors


def source_schedules(onefs, names, source):
    """``{policy: {schedule, job_delay, enabled}}`` of ``names`` on the source (its policies, one list call)."""
    if source is None or not names:
        return {}
    try:
        found = dict((policy.get("name"), policy) for policy in synciq.list_policies(source))
    except UnavailableError as err:
        if onefs.params["peer_required"]:
            raise
        onefs.warn("source cluster not reachable, schedules not read from it: %s" % err)
        return {}
    return dict((name, synciq.schedule_state(found[name])) for name in names if name in found)


def write_report(onefs, record_file):
    """The evidence report next to ``record_file``; ``{report: ...}`` or ``{report_error: ...}``."""
    try:
        record = report.load_record(record_file)
        html_path, markdown_path = report.default_paths(record, os.path.dirname(os.path.abspath(record_file)))
        written = report.write_files(record, html_path, markdown_path, check_mode=onefs.check_mode)
    except (report.ReportError, IOError, OSError) as err:
        onefs.warn("the run is recorded, but its evidence report could not be written: %s" % err)
        return {"report_error": str(err)}
    return {"report": {"html_path": html_path, "markdown_path": markdown_path, "summary": written["summary"],
                       "changed": written["changed"]}}


def peer_or_none(onefs):
    return onefs.peer_client if peer_given(onefs.params) else None


def run(onefs):
    params = onefs.params
    source = peer_or_none(onefs)
    book = journal.Journal(onefs.client, source, params["pair"], source_required=params["peer_required"],
                           check_mode=onefs.check_mode)
    action = params["action"]
    updates = dict((key, params[key]) for key in UPDATE_KEYS)
    controller = params["controller"] or journal.controller_name()
    if action == "start":
        schedules = params["schedules"]
        if schedules is None and params["read_schedules"]:
            # The source's policies and the target's open.json at once (two clusters, one round trip).
            schedules, index = call_together(lambda: source_schedules(onefs, params["policies"], source),
                                             book.run_index)
        else:
            index = book.run_index()
        outcome = journal.start_run(
            book, params["operation"], {"policies": params["policies"] or [], "zone": params["zone"]},
            params["plan"], schedules or {}, controller, journal.user_name(), params["lock_ttl"],
            takeover=params["takeover"], run_id=params["run_id"], test=params["test"], index=index)
        if any(updates.values()):
            journal.update_record(outcome["record"], updates)
            book.save(outcome["record"])
    elif action == "flush":
        outcome = {"run_id": params["run_id"], "record": journal.flush_run(book, params["run_id"], updates)}
    elif action == "finish":
        outcome = journal.finish_run(book, params["run_id"], params["status"], updates,
                                     record_dir=params["record_dir"], forget_schedules=params["forget_schedules"])
        outcome["run_id"] = params["run_id"]
        if params["report"] and outcome.get("record_file"):
            outcome.update(write_report(onefs, outcome["record_file"]))
    elif action == "unlock":
        removed = book.release_lock(params["run_id"], force=params["force"], ttl=params["lock_ttl"])
        outcome = {"run_id": (removed or {}).get("run_id"), "released": removed}
    else:
        outcome = journal.load_run(book, operation=params["operation"], run_id=params["run_id"])
    for warning in book.warnings:
        onefs.warn(warning)
    onefs.exit_json(changed=bool(book.writes), journal_skipped=book.skipped, writes=book.writes,
                    journal_warnings=book.warnings, **outcome)


def main():
    onefs = OnefsModule(argument_spec=ARGUMENT_SPEC, peer=True, required_if=REQUIRED_IF)
    errors = option_errors(onefs.params)
    if errors:
        onefs.fail_json(msg="invalid options: " + "; ".join(errors))
    onefs.run(run)


if __name__ == "__main__":
    main()
