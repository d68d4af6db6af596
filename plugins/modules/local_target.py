#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: local_target
short_description: Make SyncIQ target directories writable or read-only on the target cluster
version_added: 0.1.0
description:
  - Manages the "Local Target" records of SyncIQ policies on the cluster they replicate to (the target
    records under C(/sync/target/policies)).
  - O(state=writes_enabled) runs C(allow_write) (the failover step) only on records that are C(writes_disabled);
    a record that is already C(writes_enabled) is left alone, and one that is C(enabling_writes) is waited for.
  - O(state=writes_disabled) runs C(allow_write_revert) on C(writes_enabled) records.
    B(This discards everything written to the target directory since the failover) - the directory is reverted
    to the last snapshot SyncIQ took. It is only done with O(discard_target_changes=true); without it the module
    fails before any change, naming that option.
  - O(state=absent) deletes the record, which breaks the association between the source policy and this
    cluster; the target directory becomes writable, and the source policy cannot run again until it is reset
    (next run is a full sync). It is only done with O(break_association=true).
  - Every job is waited for until the record reaches the wanted state.
  - Before any change, every listed record is read and checked, so that a refused record (missing option,
    unknown policy, resync in progress) stops the run before any record is changed. With several policies
    the records are read in one (paged) list call, not one request per policy.
author:
  - onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.ATTRIBUTES
options:
  policies:
    description: Names of the SyncIQ policies whose target records are managed (same names as on the source).
    type: list
    elements: str
    required: true
  state:
    description: The wanted C(failover_failback_state) of each record, or V(absent) to delete the record.
    type: str
    choices: [writes_enabled, writes_disabled, absent]
    default: writes_enabled
  source_cluster:
    description:
      - GUID or host of the source cluster, to choose among several target records with the same name
        (policies of the same name from different source clusters).
      - Without it, several records with one name fail the policy and list the candidates.
    type: str
  discard_target_changes:
    description:
      - Allow O(state=writes_disabled) to run C(allow_write_revert) on C(writes_enabled) records, which discards
        all data written to the target directories since the failover.
    type: bool
    default: false
  break_association:
    description:
      - Allow O(state=absent) to delete target records. The source policy then needs a reset and a full sync.
    type: bool
    default: false
  workers_per_node:
    description: Workers per node of the C(allow_write) / C(allow_write_revert) jobs (OneFS default 3).
    type: int
  timeout:
    description: Seconds to wait for the whole group of records to reach the wanted state.
    type: int
    default: 1800
  poll_interval:
    description:
      - Seconds between two poll cycles while waiting; it grows up to four times while nothing changes.
      - One cycle reads every target record of the cluster in one (paged) list call, whatever the number of policies.
    type: float
    default: 2.0
  max_workers:
    description: How many reads and job starts are sent at the same time (1 to 50).
    type: int
    default: 10
  max_running_jobs:
    description: Most C(allow_write) / C(allow_write_revert) jobs of the group running at once (1 to 50, the OneFS limit).
    type: int
    default: 50
notes:
  - Runs on the target cluster of the policies. Needs the OneFS RBAC privilege C(ISI_PRIV_SYNCIQ)
    (read to check, write to start jobs or delete records).
  - Check mode reads only; the results say which jobs would run.
seealso:
  - module: onefs.dr.synciq_policy
  - module: onefs.dr.rg_sync
'''

EXAMPLES = r'''
- name: Fail over the target directories of a replication group
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/onefs.dr.onefs:
      onefs_host: "{{ onefs_target_host }}"
      onefs_port: "{{ onefs_target_port | default(8080) }}"
      username: "{{ onefs_username }}"
      password: "{{ onefs_password }}"
      ca_path: "{{ onefs_ca_path | default(omit) }}"
  tasks:
    - name: Make the target directories writable (allow_write where needed, then wait)
      onefs.dr.local_target:
        policies: [fin-ap, fin-ar]
        state: writes_enabled
        timeout: 900
      register: failover

    - name: Undo the failover, discarding what was written on the target since
      onefs.dr.local_target:
        policies: [fin-ap, fin-ar]
        state: writes_disabled
        discard_target_changes: true
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
      description: Whether a job ran (or would run in check mode) or the record was deleted.
      type: bool
    actions:
      description: What was done, for example V(allow_write), V(allow_write_revert), V(wait for writes_enabled), V(break association).
      type: list
      elements: str
    before_state:
      description: C(failover_failback_state) before the module ran (null when there was no record).
      type: str
    state:
      description: C(failover_failback_state) at the end (null once deleted).
      type: str
    job_id:
      description: Id of the job that was started, when one was.
      type: raw
    waited_s:
      description: Seconds spent waiting for the record.
      type: float
    record_id:
      description: Id of the target record.
      type: str
    source_cluster_guid:
      description: GUID of the source cluster of the record.
      type: str
changed:
  description: Whether any record changed.
  returned: always
  type: bool
'''

from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils.parallel import run_each
from ansible_collections.onefs.dr.plugins.module_utils import options, synciq

ARGUMENT_SPEC = dict(
    policies=dict(type="list", elements="str", required=True),
    state=dict(type="str", choices=["writes_enabled", "writes_disabled", "absent"], default="writes_enabled"),
    source_cluster=dict(type="str"),
    discard_target_changes=dict(type="bool", default=False),
    break_association=dict(type="bool", default=False),
    workers_per_node=dict(type="int"),
    timeout=dict(type="int", default=1800),
    poll_interval=dict(type="float", default=2.0),
    max_workers=dict(type="int", default=10),
    max_running_jobs=dict(type="int", default=50),
)


def option_errors(params):
    ranges = {"workers_per_node": (1, 20), "max_workers": (1, 50), "max_running_jobs": (1, 50)}
    return options.name_list_errors(params["policies"]) + options.range_errors(params, ranges) + options.wait_errors(params)


def main():
    module = OnefsModule(argument_spec=ARGUMENT_SPEC)
    params = module.params
    errors = option_errors(params)
    if errors:
        module.fail_json(msg="invalid options: " + "; ".join(errors))
    state = params["state"]

    def run(mod):
        workers = params["max_workers"]
        # A group is planned from one list of the target records, not one GET per policy.
        listed = synciq.list_target_records(mod.client) if len(params["policies"]) > 1 else None

        def plan(name):
            return synciq.plan_target(mod.client, name, state, source_cluster=params["source_cluster"],
                                      discard_target_changes=params["discard_target_changes"],
                                      break_association=params["break_association"], listed=listed)

        plans = run_each(params["policies"], plan, max_workers=workers)
        if not all(outcome.ok for outcome in plans):
            # Nothing is changed while any record is refused: a half-failed-over group is worse.
            refused = [outcome for outcome in plans if not outcome.ok]
            mod.fail_json(msg="nothing was changed: %s" % "; ".join(
                "%s: %s" % (outcome.name, outcome.error) for outcome in refused),
                changed=False, results=[_refused_or_planned(outcome) for outcome in plans])
        group = synciq.TargetGroup(mod.client, [outcome.value for outcome in plans], state,
                                   workers_per_node=params["workers_per_node"], timeout=params["timeout"],
                                   poll_interval=params["poll_interval"], max_running_jobs=params["max_running_jobs"],
                                   max_workers=workers, check_mode=mod.check_mode)
        mod.exit_results(group.run())

    module.run(run)


def _refused_or_planned(outcome):
    if outcome.ok:
        plan = outcome.value
        return {"name": plan["name"], "changed": False, "actions": [], "before_state": plan["before_state"],
                "state": plan["before_state"], "planned": plan["actions"]}
    error = outcome.error
    return {"name": outcome.name, "changed": False, "failed": True, "msg": str(error),
            "error": error.to_dict() if hasattr(error, "to_dict") else None}


if __name__ == "__main__":
    main()
