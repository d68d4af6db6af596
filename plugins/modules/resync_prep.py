#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: resync_prep
short_description: Run SyncIQ resync-prep on policies and wait until the reverse policies exist, idempotently
version_added: 0.1.0
description:
  - Runs the C(resync_prep) job of SyncIQ policies on the cluster that owns them (O(onefs_host)) and waits, per
    policy, for the job to end, for the target record on the O(peer) to be C(resync_policy_created) and for the
    reverse policy on the peer to be enabled - the waits CSI does in its failback.
  - For a policy C(P) (failback, discard source; or the optional last step of a planned failover) the reverse
    policy is C(P_mirror), created by OneFS on the peer (the original target). For a mirror C(X_mirror) (run on the
    original target) it hands the roles back - the reverse policy is the original C(X), enabled again on the peer.
  - Idempotent. A policy whose end state is already there (record C(resync_policy_created) and reverse policy
    enabled; for C(X_mirror) also when the mirror was already deleted and C(X) is enabled) is left alone without
    any write, so running it again never fails.
  - Refused, before any write to any policy of the call, when a policy does not exist on this cluster, its target
    record on the peer is missing or still C(writes_disabled) (no failover happened - OneFS would fail the job), it
    is conflicted, another job of it is running, or it is disabled without O(enable_first).
  - A C(resync_prep) job already running is joined and waited for; a record C(enabling_writes) is waited for
    first.
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.PEER
  - onefs.dr.connection.ATTRIBUTES
attributes:
  check_mode:
    description: Reads both clusters and returns the actions that would be taken; writes nothing.
    support: full
  diff_mode:
    description: Shows the target record state before and after, per policy.
    support: full
options:
  policies:
    description:
      - Names of the policies to resync-prep, as named on this cluster (C(P), or C(P_mirror) on the original target).
    type: list
    elements: str
    required: true
  enable_first:
    description:
      - Enable a disabled policy before its resync_prep (failback discard source, seed step 2). OneFS refuses
        resync_prep of a disabled policy, so without it a disabled policy is refused.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for each policy (job, target record, reverse policy).
    type: int
    default: 1800
  poll_interval:
    description: Seconds between two reads while waiting; grows up to four times while nothing changes.
    type: float
    default: 2.0
  max_workers:
    description: How many policies are handled at the same time (threads, 1 to 50).
    type: int
    default: 10
  max_running_jobs:
    description: How many resync_prep jobs of this call may run at the same time (1 to 50, the OneFS limit).
    type: int
    default: 50
notes:
  - O(peer) is required - the target records and reverse policies are read there.
  - With several policies the module plans from four list calls (the policies of both clusters, the peer's target
    records, the active jobs) whatever their number, and watches the group with the same four calls per poll.
  - Needs C(ISI_PRIV_LOGIN_PAPI) and C(ISI_PRIV_SYNCIQ) write on this cluster (job start, enable) and
    C(ISI_PRIV_SYNCIQ) read on the peer.
  - Does not run the mirror's sync, allow writes, delete the mirror or restore schedules - those are the other steps
    of the failback (rg_sync, local_target, synciq_policy).
seealso:
  - module: onefs.dr.local_target
  - module: onefs.dr.rg_sync
  - module: onefs.dr.dr_plan
'''

EXAMPLES = r'''
- name: Failback keeping the data written on the target (discard source), resync-prep steps
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/onefs.dr.onefs:
      onefs_host: "{{ source_host }}"
      onefs_port: "{{ source_port | default(8080) }}"
      username: "{{ source_user }}"
      password: "{{ source_password }}"
      ca_path: "{{ ca_path | default(omit) }}"
  vars:
    target:
      onefs_host: "{{ target_host }}"
      onefs_port: "{{ target_port | default(8080) }}"
      username: "{{ target_user }}"
      password: "{{ target_password }}"
      ca_path: "{{ ca_path | default(omit) }}"
  tasks:
    - name: Resync-prep on the original source (creates the mirrors on the target), enabling the policies first
      onefs.dr.resync_prep:
        policies: [fin-ap, fin-ar]
        enable_first: true
        peer: "{{ target }}"
        timeout: 900
        poll_interval: 1
      register: prepped

    - name: Show the mirrors
      ansible.builtin.debug:
        msg: "{{ prepped.results | map(attribute='mirror') | list }}"
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
      description: Whether a policy was enabled or a resync_prep job started (or would be, in check mode).
      type: bool
    actions:
      description:
        - What was done, for example V(enable policy), V(resync_prep), V(join job 7), V(wait for writes_enabled);
          empty when the end state was already there.
      type: list
      elements: str
    mirror:
      description: The reverse policy on the peer (C(P_mirror), or C(X) for C(X_mirror)).
      type: str
    before_state:
      description: The target record state on the peer before the module ran.
      type: str
    record_state:
      description: The target record state on the peer at the end (V(resync_policy_created) on success).
      type: str
    job_id:
      description: Id of the resync_prep job started or joined.
      type: raw
    waited_s:
      description: Seconds spent waiting.
      type: float
changed:
  description: Whether any policy changed.
  returned: always
  type: bool
'''

from ansible_collections.onefs.dr.plugins.module_utils import options, resync
from ansible_collections.onefs.dr.plugins.module_utils.connection import peer_given
from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils.parallel import run_each

ARGUMENT_SPEC = dict(
    policies=dict(type="list", elements="str", required=True),
    enable_first=dict(type="bool", default=False),
    timeout=dict(type="int", default=1800),
    poll_interval=dict(type="float", default=2.0),
    max_workers=dict(type="int", default=10),
    max_running_jobs=dict(type="int", default=50),
)


def option_errors(params):
    errors = options.name_list_errors(params["policies"]) + options.wait_errors(params)
    errors += options.range_errors(params, {"max_workers": (1, 50), "max_running_jobs": (1, resync.MAX_RUNNING_JOBS)})
    if not peer_given(params):
        errors.append("peer: the other cluster is required (its target records and reverse policies are read there)")
    return errors


def refused_or_planned(outcome):
    if outcome.ok:
        plan = outcome.value
        return {"name": plan["name"], "changed": False, "actions": [], "planned": plan["actions"],
                "mirror": plan["mirror"], "record_state": plan["record_state"]}
    error = outcome.error
    return {"name": outcome.name, "changed": False, "failed": True, "msg": str(error),
            "error": error.to_dict() if hasattr(error, "to_dict") else None}


def run(onefs):
    params = onefs.params
    owner, peer = onefs.client, onefs.peer_client
    owner_guid = resync.cluster_guid(owner)
    workers = params["max_workers"]

    # A group is read in four list calls (policies on both clusters, target records, active jobs)
    # instead of four GETs per policy; one policy keeps its four direct reads.
    names = params["policies"]
    group = resync.read_group_state(owner, peer, names, owner_guid) if len(names) > 1 else {}

    def plan(name):
        return resync.plan_resync(owner, peer, name, owner_guid, enable_first=params["enable_first"],
                                  seen=group.get(name))

    plans = run_each(names, plan, max_workers=workers)
    if not all(outcome.ok for outcome in plans):
        # Nothing is started while any policy is refused: a half resync-prepped group is worse.
        refused = [outcome for outcome in plans if not outcome.ok]
        onefs.fail_json(msg="nothing was changed: %s" % "; ".join(
            "%s: %s" % (outcome.name, outcome.error) for outcome in refused),
            changed=False, results=[refused_or_planned(outcome) for outcome in plans])
    runner = resync.ResyncRunner(owner, peer, owner_guid, timeout=params["timeout"],
                                 poll_interval=params["poll_interval"],
                                 max_running_jobs=params["max_running_jobs"], check_mode=onefs.check_mode)
    group = resync.ResyncGroup(runner, [outcome.value for outcome in plans], max_workers=workers)
    onefs.exit_results(group.run())


def main():
    onefs = OnefsModule(argument_spec=ARGUMENT_SPEC, peer=True)
    errors = option_errors(onefs.params)
    if errors:
        onefs.fail_json(msg="invalid options: " + "; ".join(errors))
    onefs.run(run)


if __name__ == "__main__":
    main()
