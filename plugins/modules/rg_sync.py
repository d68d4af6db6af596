#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: rg_sync
short_description: Synchronise a SyncIQ replication group and return the point in time reached
version_added: 0.1.0
description:
  - Works on a replication group, the SyncIQ policies given by O(policies), by a O(name_pattern), or by an access
    O(zone) (every policy whose directory lies under the zone's base path).
  - SyncIQ is push-only, so a sync can only be started on the source cluster.
  - O(mode=sync) (source cluster) joins each policy's running job or starts one, waits for all of them, and returns
    per policy the point in time reached (job, start and end time, report state, bytes and files moved).
  - O(mode=prepare_failover) (source cluster) first sets every schedule of the group to manual, returning the
    saved schedules, then runs the final sync; from then on no scheduled job can start before the failover.
  - O(mode=wait) (target cluster) starts nothing; it waits until every policy's target-side report shows a
    successful sync that started at or after O(since), then returns that point in time.
  - At most O(max_running_jobs) jobs of the group run at once. A policy whose start is refused because it is in
    an error state (conflicted) is resolved and retried up to O(error_retries) times.
  - A job that fails makes the module fail, naming the policy and the report's error, while every policy's
    result is still returned. Disabled policies are refused before anything is changed.
  - Active jobs of the whole group are read with one request per poll cycle, and the poll interval grows while
    nothing changes.
author:
  - onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.ATTRIBUTES
options:
  policies:
    description: Names of the policies of the group.
    type: list
    elements: str
  name_pattern:
    description: Shell-style pattern (V(zone1-*)) matching the names of the policies of the group.
    type: str
  zone:
    description:
      - Access zone whose policies form the group, those whose source directory (target directory with
        O(mode=wait)) lies under the zone's base path on the cluster the module talks to.
    type: str
  mode:
    description: See the description.
    type: str
    choices: [sync, wait, prepare_failover]
    default: sync
  point_in_time_name:
    description: A name recorded with each policy's result, to tell this point in time from scheduled ones.
    type: str
  since:
    description:
      - Epoch seconds or ISO 8601 time (UTC when no offset is given).
      - With O(mode=wait), the sync waited for must have started at or after it (default, the start of the module).
      - With O(mode=sync) or O(mode=prepare_failover), a policy whose newest report is a successful sync that
        started at or after it is not synced again; its point in time is returned with C(changed=false).
        This makes a re-run after a partial failure resume instead of repeating every job.
    type: raw
  max_running_jobs:
    description: Most jobs of the group running at the same time, 1 to 50 (OneFS runs at most 50).
    type: int
    default: 50
  error_retries:
    description: How many times a policy in an error state is resolved and its start retried.
    type: int
    default: 3
  timeout:
    description: Seconds to wait for the whole group.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between two poll cycles; it grows up to four times while nothing changes.
      - A wait never runs past the expected end of a running job (the duration of its policy's last successful sync,
        or of the group's jobs that already ended), and never gets shorter than O(poll_interval).
    type: float
    default: 5.0
  disable_after_sync:
    description:
      - With O(mode=prepare_failover), disable every policy of the group once the final sync of the whole group has
        succeeded (the planned failover's next documented step, in the same module run). The schedule stays manual.
      - When any policy's sync fails, no policy is disabled, so a failover given up at that point leaves replication
        running as it was (schedules manual).
      - Only with O(mode=prepare_failover).
    type: bool
    default: false
  max_workers:
    description: How many requests (job starts, schedule changes) are sent at the same time, 1 to 50.
    type: int
    default: 10
notes:
  - Needs the OneFS RBAC privilege C(ISI_PRIV_SYNCIQ) (read for O(mode=wait) and check mode; write to start jobs and
    change schedules). O(zone) also reads the access zone (read access to zones, under C(ISI_PRIV_AUTH) in the
    simulator; the exact zone privilege name depends on the OneFS release).
  - Check mode reads only; the results say which jobs would be joined or started and which schedules would change.
  - O(mode=wait) compares report times of the target cluster (whole seconds) with O(since) taken from the controller's clock;
    keep the clocks in sync (NTP) or pass O(since) explicitly.
seealso:
  - module: onefs.dr.synciq_policy
  - module: onefs.dr.local_target
'''

EXAMPLES = r'''
- name: Synchronise a replication group
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/onefs.dr.onefs:
      onefs_host: "{{ onefs_source_host }}"
      onefs_port: "{{ onefs_source_port | default(8080) }}"
      username: "{{ onefs_username }}"
      password: "{{ onefs_password }}"
      ca_path: "{{ onefs_ca_path | default(omit) }}"
  tasks:
    - name: Sync every policy of access zone eng and wait for the jobs
      onefs.dr.rg_sync:
        zone: eng
        point_in_time_name: before-upgrade
        timeout: 1800
      register: pit

    - name: Before a planned failover, stop the schedules and run the final sync
      onefs.dr.rg_sync:
        name_pattern: "fin-*"
        mode: prepare_failover
      register: prepared

    - name: Final sync of a planned failover, then disable the policies on the source
      onefs.dr.rg_sync:
        policies: [it-scripts]
        mode: prepare_failover
        disable_after_sync: true

    - name: On the DR cluster, wait for the point in time of a sync started elsewhere
      onefs.dr.rg_sync:
        onefs_host: "{{ onefs_target_host }}"
        onefs_port: "{{ onefs_target_port | default(8080) }}"
        policies: "{{ pit.results | map(attribute='name') | list }}"
        mode: wait
        since: "{{ pit.results | map(attribute='start_time') | min }}"
        timeout: 600
'''

RETURN = r'''
results:
  description: One entry per policy of the group, in the order given (by name for a pattern or zone).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Policy name.
      type: str
    changed:
      description: Whether a job was started (or a schedule or error state changed) for this policy.
      type: bool
    actions:
      description: What was done, for example V(set schedule manual (was ...)), V(start job), V(join job 12), V(resolve conflict).
      type: list
      elements: str
    joined:
      description: Whether the module waited for a job that was already running instead of starting one.
      type: bool
    job_id:
      description: Id of the job whose end is the point in time.
      type: raw
    report_id:
      description: Id of the job's report.
      type: str
    state:
      description: Final state of the job from its report (V(finished) on success).
      type: str
    start_time:
      description: Start of the job, epoch seconds.
      type: int
    end_time:
      description: End of the job, epoch seconds.
      type: int
    bytes_transferred:
      description: Bytes the job moved.
      type: int
    files_transferred:
      description: Files the job moved.
      type: int
    point_in_time_name:
      description: The O(point_in_time_name) given.
      type: str
    retries:
      description: How many times the policy's error state was resolved.
      type: int
    failed:
      description: Whether this policy failed; C(msg) says why.
      type: bool
    msg:
      description: Why the policy failed (null otherwise).
      type: str
saved_schedules:
  description: With O(mode=prepare_failover), each policy's C(schedule) (V(manual) for none), C(job_delay) and
    C(enabled) before this run, to restore after the failover.
  returned: when mode is prepare_failover
  type: dict
  sample: {"fin-ap": {"schedule": "when-source-modified", "job_delay": 0, "enabled": true}}
since:
  description: The O(since) used, as epoch seconds (null when none applied).
  returned: always
  type: float
waited_s:
  description: Seconds spent waiting for jobs or reports.
  returned: always
  type: float
api_requests:
  description: Requests the module sent to the cluster (including the login).
  returned: always
  type: int
changed:
  description: Whether any job was started, schedule changed or policy disabled.
  returned: always
  type: bool
'''

import calendar
import re
import time
from datetime import datetime, timedelta

from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils import options, synciq

ARGUMENT_SPEC = dict(
    policies=dict(type="list", elements="str"),
    name_pattern=dict(type="str"),
    zone=dict(type="str"),
    mode=dict(type="str", choices=["sync", "wait", "prepare_failover"], default="sync"),
    point_in_time_name=dict(type="str"),
    since=dict(type="raw"),
    max_running_jobs=dict(type="int", default=50),
    error_retries=dict(type="int", default=3),
    timeout=dict(type="int", default=3600),
    poll_interval=dict(type="float", default=5.0),
    disable_after_sync=dict(type="bool", default=False),
    max_workers=dict(type="int", default=10),
)
GROUP_OPTIONS = ("policies", "name_pattern", "zone")
ONEFS_MAX_JOBS = 50

_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})$")


def parse_since(value):
    """Epoch seconds from ``value`` (number or ISO 8601), or raise ValueError."""
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    offset = 0
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1]
    else:
        found = _OFFSET.search(text)
        if found and ("T" in text or " " in text):
            sign = -1 if found.group(1) == "-" else 1
            offset = sign * (int(found.group(2)) * 3600 + int(found.group(3)) * 60)
            text = text[:found.start()]
    for layout in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(text, layout)
        except ValueError:
            continue
        return calendar.timegm((moment - timedelta(seconds=offset)).timetuple()) + moment.microsecond / 1e6
    raise ValueError("not epoch seconds nor an ISO 8601 time")


def option_errors(params):
    errors = []
    if params["policies"] is not None and (not params["policies"] or len(set(params["policies"])) != len(params["policies"])):
        errors.append("policies: give distinct policy names")
    ranges = {"max_running_jobs": (1, ONEFS_MAX_JOBS), "error_retries": (0, 20), "max_workers": (1, 50)}
    errors += options.range_errors(params, ranges)
    errors += options.wait_errors(params)
    if params["disable_after_sync"] and params["mode"] != "prepare_failover":
        errors.append("disable_after_sync: only with mode=prepare_failover (got mode=%s)" % params["mode"])
    if params["since"] is not None:
        try:
            parse_since(params["since"])
        except ValueError as err:
            errors.append("since: %r is %s" % (params["since"], err))
    return errors


def select_group(client, params, target):
    """The group's records (policies, or target records with ``target``); fails on unknown names."""
    base_path = synciq.zone_base_path(client, params["zone"]) if params["zone"] else None
    records = synciq.list_target_records(client) if target else synciq.list_policies(client)
    selected, missing = synciq.select_policies(
        records, names=params["policies"], pattern=params["name_pattern"], base_path=base_path,
        path_field="target_path" if target else "source_root_path")
    return selected, missing, base_path


def group_problem(params, selected, missing, base_path, target):
    """Why the group cannot be synced (checked before any write), or None."""
    where = "target records" if target else "SyncIQ policies"
    if missing:
        return "policies: no %s named %s on this cluster" % (where, ", ".join(missing))
    if not selected:
        if params["zone"]:
            return "zone: no %s under %s (base path of zone %s)" % (where, base_path, params["zone"])
        return "name_pattern: no %s match %r" % (where, params["name_pattern"])
    if target:
        return None
    disabled = [policy["name"] for policy in selected if not policy.get("enabled")]
    if disabled:
        return ("policies: %s disabled; rg_sync does not start disabled policies (enable them with "
                "onefs.dr.synciq_policy)" % ", ".join(disabled))
    return None


def disable_after_sync(module, selected, results):
    """Disable the group's policies (all synced) and add that to each policy's result."""
    outcomes = synciq.disable_group(module.client, selected, check_mode=module.check_mode,
                                    max_workers=module.params["max_workers"])
    by_name = dict((outcome.name, outcome) for outcome in outcomes)
    for result in results:
        outcome = by_name[result["name"]]
        if not outcome.ok:
            result.update(failed=True, msg="policy %s: synced, but disabling it failed: %s" % (result["name"], outcome.error))
            continue
        if not outcome.value["changed"]:
            continue
        result["actions"] = result["actions"] + outcome.value["actions"]
        result["changed"] = True
        header = "policy %s" % result["name"]
        diff = result.setdefault("diff", {"before": {}, "after": {}, "before_header": header, "after_header": header})
        diff["before"]["enabled"] = True
        diff["after"]["enabled"] = False


def main():
    module = OnefsModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[GROUP_OPTIONS],
        required_one_of=[GROUP_OPTIONS],
    )
    started = time.time()
    params = module.params
    errors = option_errors(params)
    if errors:
        module.fail_json(msg="invalid options: " + "; ".join(errors))
    mode = params["mode"]
    since = parse_since(params["since"]) if params["since"] is not None else None

    def run(mod):
        client = mod.client
        target = mode == "wait"
        selected, missing, base_path = select_group(client, params, target)
        problem = group_problem(params, selected, missing, base_path, target)
        if problem:
            mod.fail_json(msg=problem, changed=False)
        extra = {}
        if mode == "wait":
            wait_since = since if since is not None else started
            waiter = synciq.GroupWait(client, selected, wait_since, params["point_in_time_name"],
                                      timeout=params["timeout"], poll_interval=params["poll_interval"])
            results = waiter.run()
            extra.update(since=wait_since, waited_s=waiter.waited_s)
        else:
            schedule_results, saved = {}, {}
            if mode == "prepare_failover":
                saved, outcomes = synciq.set_group_manual(client, selected, check_mode=mod.check_mode,
                                                          max_workers=params["max_workers"])
                failed = [outcome for outcome in outcomes if not outcome.ok]
                if failed:
                    mod.fail_json(msg="setting schedules to manual failed: %s" % "; ".join(
                        "%s: %s" % (outcome.name, outcome.error) for outcome in failed),
                        changed=any(o.ok and o.value["changed"] for o in outcomes), saved_schedules=saved)
                schedule_results = dict((o.name, o.value) for o in outcomes)
                extra["saved_schedules"] = saved
            group = synciq.GroupSync(
                client, selected, point_in_time_name=params["point_in_time_name"],
                max_running_jobs=params["max_running_jobs"], error_retries=params["error_retries"],
                timeout=params["timeout"], poll_interval=params["poll_interval"], since=since,
                check_mode=mod.check_mode, max_workers=params["max_workers"])
            results = group.run()
            for result in results:
                before = schedule_results.get(result["name"])
                if before and before["changed"]:
                    result["actions"] = before["actions"] + result["actions"]
                    result["changed"] = True
                    header = "policy %s" % result["name"]
                    result["diff"] = {"before": {"schedule": saved[result["name"]]["schedule"]},
                                      "after": {"schedule": synciq.MANUAL},
                                      "before_header": header, "after_header": header}
            if params["disable_after_sync"] and not any(result.get("failed") for result in results):
                disable_after_sync(mod, selected, results)
            extra.update(since=since, waited_s=group.waited_s)
        extra["api_requests"] = client.requests_made
        mod.exit_results(results, **extra)

    module.run(run)


if __name__ == "__main__":
    main()
