#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: synciq_policy
short_description: Manage SyncIQ policies on their source cluster
version_added: 0.1.0
description:
  - Creates, changes and deletes SyncIQ replication policies on the cluster that owns them (the source).
  - Changes only the fields that are given; every change resends the policy's current C(schedule) and
    C(enabled), because OneFS may clear them when a change omits them.
  - Works on one policy (O(name)) or many at once (O(policies)), in parallel; each result carries the policy's
    previous C(schedule) and C(enabled) so that a role can cache a schedule and restore it later.
author:
  - onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.ATTRIBUTES
options:
  name:
    description:
      - Name of one policy. Mutually exclusive with O(policies); one of the two is required.
    type: str
  policies:
    description:
      - Several policies, each a dictionary with the same per-policy options as the top level.
      - A top-level option acts as the default for every item that does not set it.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the policy.
        type: str
        required: true
      state:
        description: See the top-level O(state).
        type: str
        choices: [present, absent]
      source_root_path:
        description: See the top-level O(source_root_path).
        type: str
      target_host:
        description: See the top-level O(target_host).
        type: str
      target_path:
        description: See the top-level O(target_path).
        type: str
      action:
        description: See the top-level O(action).
        type: str
        choices: [sync, copy]
      schedule:
        description: See the top-level O(schedule).
        type: str
      job_delay:
        description: See the top-level O(job_delay).
        type: int
      enabled:
        description: See the top-level O(enabled).
        type: bool
      description:
        description: See the top-level O(description).
        type: str
      rpo_alert:
        description: See the top-level O(rpo_alert).
        type: int
      source_include_directories:
        description: See the top-level O(source_include_directories).
        type: list
        elements: str
      source_exclude_directories:
        description: See the top-level O(source_exclude_directories).
        type: list
        elements: str
      workers_per_node:
        description: See the top-level O(workers_per_node).
        type: int
      priority:
        description: See the top-level O(priority).
        type: int
      target_snapshot_archive:
        description: See the top-level O(target_snapshot_archive).
        type: bool
      target_snapshot_expiration:
        description: See the top-level O(target_snapshot_expiration).
        type: int
      skip_when_source_unmodified:
        description: See the top-level O(skip_when_source_unmodified).
        type: bool
      target_certificate_id:
        description: See the top-level O(target_certificate_id).
        type: str
      conflicted:
        description: See the top-level O(conflicted).
        type: bool
      force:
        description: See the top-level O(force).
        type: bool
      local_only:
        description: See the top-level O(local_only).
        type: bool
  state:
    description:
      - V(present) creates the policy or changes the given fields; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  source_root_path:
    description: Directory on this cluster that is replicated. Required to create a policy.
    type: str
  target_host:
    description:
      - SmartConnect name or address of the target cluster. Required to create a policy.
      - Changing it on an existing policy can leave the policy unable to run until it is reset.
    type: str
  target_path:
    description: Directory on the target cluster. Required to create a policy.
    type: str
  action:
    description:
      - V(sync) mirrors deletions to the target, V(copy) does not. Required to create a policy.
      - Failback works for V(sync) policies only.
    type: str
    choices: [sync, copy]
  schedule:
    description:
      - V(manual) (stored by OneFS as an empty string), V(when-source-modified), V(when-snapshot-taken), or a
        OneFS recurrence such as V(every 1 days at 12:00 AM) or V(every day every 15 minutes).
      - A value that is none of these fails before any request, naming this option.
    type: str
  job_delay:
    description: Seconds OneFS waits after a change before it starts a V(when-source-modified) job.
    type: int
  enabled:
    description: Whether the policy runs on its schedule and can be started.
    type: bool
  description:
    description: Free text of the policy.
    type: str
  rpo_alert:
    description: Seconds after which OneFS raises an RPO alert when no job finished; V(0) disables the alert.
    type: int
  source_include_directories:
    description: Directories under O(source_root_path) to include. Changing them forces a full sync.
    type: list
    elements: str
  source_exclude_directories:
    description: Directories under O(source_root_path) to exclude. Changing them forces a full sync.
    type: list
    elements: str
  workers_per_node:
    description: Workers per node of the policy's jobs, 1 to 20.
    type: int
  priority:
    description: Job priority, V(0) (normal) or V(1) (high).
    type: int
  target_snapshot_archive:
    description: Whether to keep a snapshot of the target directory after each job.
    type: bool
  target_snapshot_expiration:
    description: Seconds after which archived target snapshots expire; V(0) keeps them.
    type: int
  skip_when_source_unmodified:
    description: Whether a scheduled job is skipped when nothing changed on the source.
    type: bool
  target_certificate_id:
    description: Id of the target cluster's certificate, needed when SyncIQ encryption is required.
    type: str
  conflicted:
    description:
      - Only V(false) is accepted; it resolves a policy that OneFS marked as conflicted (in an error state),
        which stops its scheduled runs.
      - When the policy was not conflicted, nothing changes.
    type: bool
  force:
    description:
      - With O(state=absent), delete the policy even while a job of it runs (the job is cancelled).
      - Without it (and without O(wait_timeout)), deleting a policy with an active job fails and names the job.
    type: bool
    default: false
  wait_timeout:
    description:
      - With O(state=absent), seconds to wait for the active jobs of the policies to delete to end before they are
        deleted; V(0) does not wait. Policies with O(force=true) are not waited for.
      - One wait serves every policy of the task, and nothing is deleted until none of them has an active job. When
        the time runs out, the task fails naming this option and the policies whose job still runs, and deletes nothing.
      - In check mode nothing is waited for; the results say which deletes would wait for which job.
      - A job that starts after the wait and before the delete (a schedule firing) still makes that policy's delete
        fail, as OneFS refuses to delete a policy with an active job.
      - 0 to 86400.
    type: int
    default: 0
  poll_interval:
    description:
      - Seconds between two reads of the active jobs during O(wait_timeout); it grows up to four times while nothing
        changes. Each read is one (paged) list of the cluster's active jobs, whatever the number of policies.
      - Must be more than 0.
    type: float
    default: 2.0
  local_only:
    description:
      - With O(state=absent), keep the target cluster's record of the policy. By default OneFS also removes it.
    type: bool
    default: false
  max_workers:
    description: How many policies are handled at the same time, 1 to 50.
    type: int
    default: 10
notes:
  - Needs the OneFS RBAC privilege C(ISI_PRIV_SYNCIQ) (read to check, write to change).
  - Check mode reads only; the results say what would change.
  - With several policies, all policies of the cluster are read in one (paged) list call, and the active jobs in one
    more when some policy is to be deleted; a change then costs one C(PUT) per changed policy.
seealso:
  - module: onefs.dr.rg_sync
  - module: onefs.dr.local_target
'''

EXAMPLES = r'''
- name: Manage SyncIQ policies on the source cluster
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
    - name: Create or update one policy
      onefs.dr.synciq_policy:
        name: eng-wiki
        source_root_path: /ifs/data/eng/wiki
        target_host: dr-ps.example.com
        target_path: /ifs/data/eng/wiki
        action: sync
        schedule: every 1 days at 12:00 AM
        description: wiki to the DR site

    - name: Set every policy of a group to manual before a failover (previous schedules are returned)
      onefs.dr.synciq_policy:
        policies:
          - name: fin-ap
          - name: fin-ar
        schedule: manual
      register: manual

    - name: Restore the schedules saved above
      onefs.dr.synciq_policy:
        name: "{{ item.name }}"
        schedule: "{{ item.previous.schedule }}"
        enabled: "{{ item.previous.enabled }}"
      loop: "{{ manual.results }}"
      loop_control:
        label: "{{ item.name }}"

    - name: Delete a policy but keep the target record on the DR cluster
      onefs.dr.synciq_policy:
        name: eng-wiki
        state: absent
        local_only: true

    - name: Delete policies once their running jobs have ended (up to 10 minutes), without cancelling them
      onefs.dr.synciq_policy:
        policies:
          - name: eng-builds
          - name: eng-tools
        state: absent
        wait_timeout: 600
'''

RETURN = r'''
results:
  description: One entry per policy, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Policy name.
      type: str
    changed:
      description: Whether the policy was (or in check mode would be) changed.
      type: bool
    actions:
      description: What was done, for example V(create policy), V(set schedule), V(resolve conflict), V(delete policy ...).
      type: list
      elements: str
    policy:
      description:
        - The policy as read before the change, with the changes applied (C(conflicted) false once resolved); C(schedule)
          in OneFS's form (an empty string for manual). It is not read again after the change, so fields OneFS computes
          (for example C(next_run)) are those from before the change, and OneFS may store a recurrence in another case.
        - A created policy as OneFS returns it after the create. In check mode, the expected policy. Null once deleted.
      type: dict
    previous:
      description: C(schedule) (V(manual) for OneFS's empty string) and C(enabled) before the change; null when the policy did not exist.
      type: dict
      sample: {"schedule": "every 1 days at 12:00 AM", "enabled": true}
    failed:
      description: Present and true when this policy failed; C(msg) says why.
      type: bool
changed:
  description: Whether any policy changed.
  returned: always
  type: bool
'''

from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils.parallel import run_each
from ansible_collections.onefs.dr.plugins.module_utils import options, synciq

FIELD_SPEC = dict(
    source_root_path=dict(type="str"),
    target_host=dict(type="str"),
    target_path=dict(type="str"),
    action=dict(type="str", choices=["sync", "copy"]),
    schedule=dict(type="str"),
    job_delay=dict(type="int"),
    enabled=dict(type="bool"),
    description=dict(type="str"),
    rpo_alert=dict(type="int"),
    source_include_directories=dict(type="list", elements="str"),
    source_exclude_directories=dict(type="list", elements="str"),
    workers_per_node=dict(type="int"),
    priority=dict(type="int"),
    target_snapshot_archive=dict(type="bool"),
    target_snapshot_expiration=dict(type="int"),
    skip_when_source_unmodified=dict(type="bool"),
    target_certificate_id=dict(type="str"),
    conflicted=dict(type="bool"),
)

ITEM_SPEC = dict(
    FIELD_SPEC,
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"]),
    force=dict(type="bool"),
    local_only=dict(type="bool"),
)

ARGUMENT_SPEC = dict(
    FIELD_SPEC,
    name=dict(type="str"),
    policies=dict(type="list", elements="dict", options=ITEM_SPEC),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    force=dict(type="bool", default=False),
    local_only=dict(type="bool", default=False),
    max_workers=dict(type="int", default=10),
    wait_timeout=dict(type="int", default=0),
    poll_interval=dict(type="float", default=2.0),
)

# (option, lowest, highest) as OneFS accepts them.
RANGES = (("workers_per_node", 1, 20), ("priority", 0, 1), ("job_delay", 0, None),
          ("rpo_alert", 0, None), ("target_snapshot_expiration", 0, None))
MERGED = tuple(FIELD_SPEC) + ("state", "force", "local_only")
MAX_WAIT_TIMEOUT = 86400


def items_of(params):
    """One dict per policy: its own options, top-level options as defaults."""
    raw = params["policies"] or [{"name": params["name"]}]
    items = []
    for entry in raw:
        item = {"name": entry.get("name")}
        for option in MERGED:
            value = entry.get(option)
            item[option] = params.get(option) if value is None else value
        items.append(item)
    return items


def item_errors(items, listed):
    """Every invalid value, each message naming its option (checked before any request)."""
    errors = []
    seen = set()
    for index, item in enumerate(items):
        where = "policies[%d]." % index if listed else ""
        if item["name"] in seen:
            errors.append("%sname: policy %s is listed twice" % (where, item["name"]))
        seen.add(item["name"])
        problem = synciq.schedule_error(item["schedule"]) if item["schedule"] is not None else None
        if problem:
            errors.append("%sschedule: %s" % (where, problem))
        if item["conflicted"] is True:
            errors.append("%sconflicted: only false (resolve the conflict) can be set" % where)
        for option, low, high in RANGES:
            value = item[option]
            if value is None:
                continue
            if value < low or (high is not None and value > high):
                bound = "%d to %d" % (low, high) if high is not None else "at least %d" % low
                errors.append("%s%s: %s is out of range (%s)" % (where, option, value, bound))
    return errors


def plan_reads(module, items):
    """Per item: its policy, its active job and the job waited for, read for the whole group at once.

    One list of the policies (not a GET per item) and, when something is to be
    deleted, one list of the active jobs; with ``wait_timeout``, one wait for every
    delete that has to wait, before anything is written.
    """
    client = module.client
    params = module.params
    index = synciq.policy_index(synciq.list_policies(client))
    work = [{"item": item, "current": index.get(item["name"]), "job": None, "waited_for": None} for item in items]
    doomed = [entry for entry in work if entry["item"]["state"] == "absent" and entry["current"] is not None]
    if not doomed:
        return work
    jobs = synciq.active_jobs(client)
    busy = [entry for entry in doomed if not entry["item"]["force"] and synciq.job_of(jobs, entry["current"])]
    if busy and params["wait_timeout"] > 0 and not module.check_mode:
        for entry in busy:
            entry["waited_for"] = synciq.job_of(jobs, entry["current"])
        jobs = synciq.wait_jobs_ended(client, [entry["current"] for entry in busy], params["wait_timeout"],
                                      params["poll_interval"], jobs=jobs)
    for entry in doomed:
        entry["job"] = synciq.job_of(jobs, entry["current"])
    return work


def main():
    module = OnefsModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("name", "policies")],
        required_one_of=[("name", "policies")],
    )
    params = module.params
    items = items_of(params)
    errors = options.range_errors(params, {"max_workers": (1, 50), "wait_timeout": (0, MAX_WAIT_TIMEOUT)})
    errors += options.wait_errors(params) + item_errors(items, bool(params["policies"]))
    if errors:
        module.fail_json(msg="invalid options: " + "; ".join(errors))

    def handle(entry):
        item = entry["item"]
        wanted = dict((field, item[field]) for field in synciq.POLICY_FIELDS)
        return synciq.ensure_policy(
            module.client, item["name"], wanted, state=item["state"], force=item["force"],
            local_only=item["local_only"], resolve=item["conflicted"] is False, check_mode=module.check_mode,
            current=entry["current"], job=entry["job"], wait_timeout=params["wait_timeout"],
            poll_interval=params["poll_interval"], waited_for=entry["waited_for"])

    def run(mod):
        work = plan_reads(mod, items) if len(items) > 1 else [
            {"item": items[0], "current": synciq.NOT_READ, "job": synciq.NOT_READ, "waited_for": None}]
        results = run_each(work, handle, max_workers=params["max_workers"], name_of=lambda entry: entry["item"]["name"])
        mod.exit_results(results)

    module.run(run)


if __name__ == "__main__":
    main()
