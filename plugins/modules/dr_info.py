#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dr_info
short_description: Replication state of SyncIQ policies as one word, with what failover needs to know, from both clusters
version_added: 0.1.0
description:
  - Read-only. Gathers, from one OneFS cluster and optionally its replication O(peer), the SyncIQ policies, target
    records ("Local Target" policies), active jobs, latest reports, SmartConnect pools, AD SPNs and quotas of a scope,
    and gives every policy of the scope its replication state as one word (RV(policies[].state)), computed from both
    clusters when both are given.
  - The failover, failback and reprotect roles decide from this word and from RV(policies[].reasons); the same output
    serves as a pre-flight report.
  - Every cluster is read with one login and one GET per area (not per policy); the two clusters are read at the
    same time on at most O(max_workers) threads.
  - A O(peer) that cannot be reached (for example the failed source during an unplanned failover) does not fail the
    task; it is reported as not reachable and the states are computed from the visible cluster, saying what is
    unknown. Lower the peer's C(retry_budget) to give up on it sooner.
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.PEER
  - onefs.dr.connection.ATTRIBUTES
attributes:
  check_mode:
    description: Read-only; runs the same in check mode.
    support: full
  diff_mode:
    description: Read-only; there is never a difference to show.
    support: none
options:
  policies:
    description:
      - Names of the policies of the scope (the original name C(P), not C(P_mirror)).
      - A name that exists on neither cluster is reported with state V(unknown).
      - Mutually exclusive with O(name_pattern) and O(zone).
    type: list
    elements: str
  name_pattern:
    description:
      - Shell-style pattern (V(app*)) on policy names; the scope is every matching policy of either cluster.
    type: str
  zone:
    description:
      - Access zone; the scope is every policy whose path on a cluster (source root path of a policy it owns, target
        path of a target record it holds) lies under that cluster's base path of the zone.
      - Also narrows RV(pools) to the pools of the zone, and RV(shares) and RV(exports) are read in this zone.
      - When none of O(policies), O(name_pattern) and O(zone) is given, the scope is every policy of both clusters.
    type: str
  gather:
    description:
      - What to read and return. V(policies) (the per-policy states and RV(summary)) reads the policies, target
        records and active jobs of both clusters.
      - RV(shares) and RV(exports) are read in O(zone) (V(System) without it).
    type: list
    elements: str
    choices: [cluster, policies, target_policies, jobs, reports, pools, spns, quotas, shares, exports]
    default: [cluster, policies, target_policies, jobs, reports, pools, spns, quotas]
  original_source:
    description:
      - Which cluster was the source of the policies when replication was set up.
      - V(auto) takes the cluster holding the target record (or C(P_mirror)) as the original target. A reprotected
        policy then reads as V(protected) in its new direction, because nothing on the clusters records the history.
      - V(cluster) (the cluster of O(onefs_host)) or V(peer) states it, so that a reprotect shows as V(reprotected).
    type: str
    choices: [auto, cluster, peer]
    default: auto
  unplanned_failovers:
    description:
      - Policies whose unplanned failover is on record (for example in the failover role's run record).
      - When given (even as an empty list), a policy whose target is writable while its source policy is still
        enabled is V(failed_over_unplanned) if it is listed and V(split_brain) if it is not.
      - When not given, that case is V(failed_over_unplanned) with a reason saying it could be split brain.
    type: list
    elements: str
  max_workers:
    description:
      - How many reads run at the same time across both clusters (1 to 32).
    type: int
    default: 10
notes:
  - "Decision table of RV(policies[].state), first matching row wins. S is the original source (owns policy C(P)),
    T the original target (holds the target record C(P))."
  - "1 neither cluster readable: V(unknown). 2 policy C(P) enabled on both S and T: V(split_brain).
    3 T's record C(P) and S's record C(P_mirror) both C(writes_enabled): V(split_brain)."
  - "4 T owns a policy C(P) (reverse direction) and S owns none: V(reprotected). 5 T owns C(P) and S still owns a
    disabled C(P): V(unknown) (reprotect not finished)."
  - "6 resync_prep of C(P) running, or T's record C(creating_resync_policy): V(failback_in_progress).
    7 S's record C(P_mirror) C(enabling_writes)/C(writes_enabled): V(failback_in_progress).
    8 resync_prep of C(P_mirror) running: V(failback_in_progress).
    9 S's record C(P_mirror) C(resync_policy_created) while C(P) is not yet enabled with T's record
    C(writes_disabled): V(failback_in_progress)."
  - "10 T's record C(resync_policy_created) or C(P_mirror) enabled on T: V(conflicted) if the mirror is conflicted,
    V(failback_in_progress) while the mirror syncs, else V(resync_prepped)."
  - "11 allow_write running on T or record C(enabling_writes): V(failing_over). 12 allow_write_revert running or
    record C(disabling_writes): V(failing_back)."
  - "13 T's record C(writes_enabled): V(failed_over) when S is not visible, has no C(P) or C(P) is disabled;
    with C(P) still enabled on S V(failed_over_unplanned) (must be fenced), or V(split_brain) when
    O(unplanned_failovers) is given and does not list the policy."
  - "14 S not visible: V(protected) from T's C(writes_disabled) record alone (V(sync_failed) if its last job
    failed), else V(unknown). 15 S has no policy C(P): V(unknown). 16 C(P) conflicted: V(conflicted).
    17 a sync job of C(P) runs: V(syncing). 18 C(P) disabled: V(disabled). 19 C(P) never synced: V(unsynced).
    20 T visible without record C(P): V(unknown) (association broken?). 21 last job failed on S or T:
    V(sync_failed). 22 otherwise: V(protected)."
  - Needs C(ISI_PRIV_LOGIN_PAPI) and read access to C(ISI_PRIV_CLUSTER), C(ISI_PRIV_SYNCIQ), C(ISI_PRIV_NETWORK),
    C(ISI_PRIV_AUTH), C(ISI_PRIV_QUOTA), C(ISI_PRIV_SMB) and C(ISI_PRIV_NFS) on both clusters (only for what
    O(gather) asks); a read-only role is enough.
  - Never writes (no POST, PUT or DELETE besides the session login and logout).
seealso:
  - module: onefs.dr.synciq_policy
  - module: onefs.dr.local_target
  - module: onefs.dr.rg_sync
'''

EXAMPLES = r'''
- name: Replication state of the policies of access zone finance, seen from both clusters
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/onefs.dr.onefs:
      onefs_host: "{{ source_host }}"
      onefs_port: "{{ source_port | default(8080) }}"
      username: "{{ source_user }}"
      password: "{{ source_password }}"
      ca_path: "{{ ca_path | default(omit) }}"
  tasks:
    - name: Gather the DR view of zone finance
      onefs.dr.dr_info:
        zone: finance
        peer:
          onefs_host: "{{ target_host }}"
          onefs_port: "{{ target_port | default(8080) }}"
          username: "{{ target_user }}"
          password: "{{ target_password }}"
          ca_path: "{{ ca_path | default(omit) }}"
      register: dr

    - name: Refuse a planned failover unless every policy is protected
      ansible.builtin.assert:
        that:
          - dr.policies | rejectattr('state', 'equalto', 'protected') | list | length == 0
        fail_msg: "{{ dr.policies | rejectattr('state', 'equalto', 'protected') | map(attribute='name') | list }}"

    - name: Only the SyncIQ states of two policies, from the source alone
      onefs.dr.dr_info:
        policies: [fin-ap, fin-ar]
        gather: [policies]
      register: two

    - name: Show them
      ansible.builtin.debug:
        msg: "{{ two.policies | items2dict(key_name='name', value_name='state') }}"
'''

RETURN = r'''
cluster:
  description: Identity of each cluster read, under C(local) (O(onefs_host)) and C(peer).
  returned: when O(gather) has V(cluster)
  type: dict
  sample:
    local: {name: prod-ps, guid: 000e1e8f0a7c4b3e9f5ad7e5b1c2a9f3d4e6, onefs_version: 9.5.0.0, reachable: true, error: null}
    peer: {name: dr-ps, guid: 000e9a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d, onefs_version: 9.5.0.0, reachable: true, error: null}
policies:
  description: One entry per policy of the scope, sorted by name (O(policies) keeps its order).
  returned: when O(gather) has V(policies)
  type: list
  elements: dict
  contains:
    name:
      description: Policy name C(P).
      type: str
    state:
      description:
        - The replication state, one of V(protected), V(syncing), V(unsynced), V(sync_failed), V(disabled),
          V(conflicted), V(failing_over), V(failed_over), V(failed_over_unplanned), V(failing_back),
          V(resync_prepped), V(failback_in_progress), V(reprotected), V(split_brain), V(unknown). See the notes.
      type: str
      sample: protected
    reasons:
      description: Why the state is what it is, and what could not be known.
      type: list
      elements: str
    original_source:
      description: V(local) or V(peer), the side taken as the original source.
      type: str
    source:
      description:
        - Policy C(P) on the original source - C(cluster), C(visible), C(exists), C(enabled), C(schedule)
          (V(manual) for manual), C(job_delay), C(last_job_state), C(last_started), C(last_success), C(conflicted),
          C(running_job), C(target_host), C(target_path), C(source_root_path), C(last_report).
      type: dict
    target:
      description:
        - Target record C(P) on the original target - C(cluster), C(visible), C(exists), C(id), C(record_state)
          (its C(failover_failback_state)), C(last_job_state), C(source_host), C(source_cluster_guid),
          C(target_path), C(last_update_from_source), C(running_job), and C(reverse_policy) (a policy C(P) owned by
          the original target, after a reprotect).
      type: dict
    mirror:
      description:
        - C(P_mirror) on the original target (C(exists), C(enabled), C(schedule), C(last_job_state),
          C(last_success), C(conflicted), C(running_job), C(last_report)) and C(record_state) of its target record on
          the original source.
      type: dict
summary:
  description: How many policies are in each state (every state word is a key).
  returned: when O(gather) has V(policies)
  type: dict
  sample: {protected: 9, failed_over: 1, split_brain: 0}
target_policies:
  description: Target records of the scope's policies (and their mirrors) as OneFS returns them, per cluster.
  returned: when O(gather) has V(target_policies)
  type: dict
jobs:
  description: Active jobs of the scope's policies per cluster (C(policy), C(id), C(job_id), C(action), C(state), C(start_time)).
  returned: when O(gather) has V(jobs)
  type: dict
reports:
  description: Latest report of each policy of the scope per cluster (C(id), C(state), C(start_time), C(end_time), C(errors)).
  returned: when O(gather) has V(reports)
  type: dict
pools:
  description: SmartConnect pools per cluster (C(id), C(access_zone), C(sc_dns_zone), C(aliases), C(names)).
  returned: when O(gather) has V(pools)
  type: dict
spns:
  description:
    - Per cluster, one entry per ADS provider - C(name), C(machine_account), C(spns), C(recommended), C(missing)
      (recommended but not registered), C(extra) (registered, neither recommended nor expected) and C(collisions)
      (SPNs that the other cluster's machine account in the same domain holds too, C([{spn, account}])).
  returned: when O(gather) has V(spns)
  type: dict
quotas:
  description: Quotas on or under the scope's paths (and the zone's base path), per cluster.
  returned: when O(gather) has V(quotas)
  type: dict
shares:
  description: SMB shares under the scope's paths, per cluster.
  returned: when O(gather) has V(shares)
  type: dict
exports:
  description: NFS exports under the scope's paths, per cluster.
  returned: when O(gather) has V(exports)
  type: dict
read_errors:
  description:
    - The reads that failed, each as C(<local|peer> <area>) followed by the error; the task then fails but returns
      everything else it read.
    - A cluster whose policies, target records or jobs could not be read counts as not visible for the states.
  returned: on failure of a read
  type: list
  elements: str
'''

from ansible_collections.onefs.dr.plugins.module_utils import drstate
from ansible_collections.onefs.dr.plugins.module_utils.connection import peer_given
from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule

MAX_WORKERS = 32

ARGUMENT_SPEC = dict(
    policies=dict(type="list", elements="str"),
    name_pattern=dict(type="str"),
    zone=dict(type="str"),
    gather=dict(type="list", elements="str", choices=list(drstate.GATHER_CHOICES),
                default=list(drstate.DEFAULT_GATHER)),
    original_source=dict(type="str", choices=["auto", "cluster", "peer"], default="auto"),
    unplanned_failovers=dict(type="list", elements="str"),
    max_workers=dict(type="int", default=10),
)
MUTUALLY_EXCLUSIVE = [("policies", "name_pattern", "zone")]


def input_error(params):
    """The first problem with the options, or None (checked before any request)."""
    if not 1 <= params["max_workers"] <= MAX_WORKERS:
        return "max_workers must be between 1 and %d, got %d" % (MAX_WORKERS, params["max_workers"])
    if params["policies"] is not None and not params["policies"]:
        return "policies must name at least one policy (leave it out for every policy)"
    if any(not (name or "").strip() for name in params["policies"] or []):
        return "policies must not hold empty names"
    if params["name_pattern"] is not None and not params["name_pattern"].strip():
        return "name_pattern must not be empty"
    if params["zone"] is not None and (not params["zone"].strip() or "/" in params["zone"]):
        return "zone must be an access zone name, got %r" % params["zone"]
    if not params["gather"]:
        return "gather must name at least one of %s" % ", ".join(drstate.GATHER_CHOICES)
    if params["original_source"] == "peer" and not peer_given(params):
        return "original_source=peer needs the peer option"
    return None


def run(onefs):
    params = onefs.params
    gather = list(dict.fromkeys(params["gather"]))
    clients = {drstate.LOCAL: onefs.client, drstate.PEER: onefs.peer_client if peer_given(params) else None}
    clusters = drstate.read_clusters(clients, gather, zone=params["zone"], max_workers=params["max_workers"])
    names = drstate.select_names(clusters, names=params["policies"], pattern=params["name_pattern"],
                                 zone=params["zone"])
    result = drstate.describe(clusters, names, gather, original_source=params["original_source"],
                              unplanned_failovers=params["unplanned_failovers"])
    peer = clusters.get(drstate.PEER)
    if peer is not None and not peer.get("visible"):
        onefs.warn("peer cluster not reachable, states computed from %s alone: %s"
                   % (onefs.client.name, peer.get("error")))
    errors = drstate.read_errors(clusters)
    if errors:
        # Everything that could be read is returned with the failure.
        onefs.fail_json(msg="%d read(s) failed: %s" % (len(errors), "; ".join(errors)), changed=False,
                        read_errors=errors, **result)
    onefs.exit_json(changed=False, **result)


def main():
    onefs = OnefsModule(argument_spec=ARGUMENT_SPEC, peer=True, mutually_exclusive=MUTUALLY_EXCLUSIVE)
    error = input_error(onefs.params)
    if error:
        onefs.fail_json(msg=error)
    onefs.run(run)


if __name__ == "__main__":
    main()
