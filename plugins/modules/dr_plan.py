#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dr_plan
short_description: Ordered action plan of a DR operation (failover, failback, reprotect, fence) from live state
version_added: 0.1.0
description:
  - Read-only. Reads both clusters of a pair (the same reads and the same per-policy classification as
    M(onefs.dr.dr_info)) and returns, in the documented order, every step of O(operation) with the objects it would
    change and the action - policies, target records, SmartConnect pools, SPNs, quotas.
  - Steps already done show as C(skip (already done)) with C(done=true), so the plan of a re-run after a crash
    shows where it starts. Destructive actions (C(allow_write_revert), policy deletion, quota removal) are marked.
  - Refuses (RV(refusals), and fails unless O(allow_partial=true)) the policies the operation cannot start from,
    saying why per policy - reprotect or failback of a policy that is not failed over, a planned failover when the
    source is not reachable (use V(failover_unplanned)), a policy that never synced.
  - Runs against the B(original target) with O(peer) = the original source, like M(onefs.dr.dr_run); the source may
    be unreachable (only V(failover_unplanned) plans without it).
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
  operation:
    description: The DR operation to plan.
    type: str
    required: true
    choices: [failover_planned, failover_unplanned, failover_test, failback_discard_target,
              failback_discard_source, reprotect, fence]
  policies:
    description: Names of the policies of the scope (original names C(P)). Mutually exclusive with O(zone).
    type: list
    elements: str
  zone:
    description:
      - Access zone; the scope is every policy under the zone's base path on either cluster.
      - Without O(policies) and O(zone), every policy of both clusters.
    type: str
  pools:
    description:
      - SmartConnect pools whose names move with the operation, each C(source) pool id (on the original source) and
        C(target) pool id (on the original target), for example V(groupnet0.subnet0.finance).
    type: list
    elements: dict
    suboptions:
      source:
        description: Pool id on the original source.
        type: str
        required: true
      target:
        description: Pool id on the original target.
        type: str
        required: true
      names:
        description:
          - The SmartConnect names (zone name first, then aliases) that move. Only used when the original source cannot
            be read - an unplanned failover never reads it - so that the target can still take the names.
        type: list
        elements: str
  zone_pools:
    description:
      - With O(zone) and no O(pools), the pools that move are every pool of that access zone on the original source
        that has SmartConnect names, each paired with the original target's pool of the same name in that zone (or
        its only pool there) - the access-zone failover of seed 003. A pool without a match is a refusal.
    type: bool
    default: false
  park_prefix:
    description: Prefix of parked SmartConnect names (as M(onefs.dr.smartconnect_zone) uses it).
    type: str
    default: parked-
  spn_provider:
    description: AD provider whose machine accounts' SPNs move with the SmartConnect names of O(pools).
    type: str
  quotas:
    description: Plan the quota move (create on the side taking over, then remove on the other).
    type: bool
    default: false
  config_sync:
    description: Plan the config sync of shares, exports and aliases (planned failover).
    type: bool
    default: false
  resync_prep:
    description: Plan the resync-prep of the policies at the end of a planned failover (mirrors, schedules restored on them).
    type: bool
    default: false
  pair:
    description:
      - Name of the pair (as given to M(onefs.dr.dr_run)). When set, the journal on the clusters is read (never
        written) for the cached original schedules (shown in the restore steps) and for the open and last runs, so
        that a failback that already finished, or an interrupted reprotect, plans as done instead of being refused.
    type: str
  unplanned_failovers:
    description:
      - Policies whose unplanned failover is on record (as M(onefs.dr.dr_info) takes them).
    type: list
    elements: str
  allow_partial:
    description: Return the plan of the accepted policies without failing when some are refused.
    type: bool
    default: false
  max_workers:
    description: How many reads run at the same time across both clusters (1 to 32).
    type: int
    default: 10
notes:
  - Needs C(ISI_PRIV_LOGIN_PAPI) and read access to C(ISI_PRIV_CLUSTER) and C(ISI_PRIV_SYNCIQ) on both clusters, plus
    C(ISI_PRIV_NETWORK) with O(pools), C(ISI_PRIV_AUTH) with O(spn_provider), C(ISI_PRIV_QUOTA) with O(quotas) and
    C(ISI_PRIV_NS_IFS_ACCESS) with O(pair); a read-only role is enough.
  - Never writes (no POST, PUT or DELETE besides the session login and logout).
  - It plans; it does not check that the later run follows the plan (the roles record the steps with M(onefs.dr.dr_run)).
seealso:
  - module: onefs.dr.dr_info
  - module: onefs.dr.dr_run
'''

EXAMPLES = r'''
- name: Plan a planned failover of zone finance
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
    - name: Compute the plan from both clusters
      onefs.dr.dr_plan:
        operation: failover_planned
        zone: finance
        pools:
          - {source: groupnet0.subnet0.finance, target: groupnet0.subnet0.finance}
        spn_provider: AD.EXAMPLE.COM
        quotas: true
        peer: "{{ source }}"
      register: plan

    - name: Print it
      ansible.builtin.debug:
        var: plan.lines

    - name: A reprotect is refused before any failover, saying why per policy
      onefs.dr.dr_plan:
        operation: reprotect
        policies: [fin-ap]
        allow_partial: true
        peer: "{{ source }}"
      register: too_early

    - name: Show the refusal
      ansible.builtin.debug:
        var: too_early.refusals
'''

RETURN = r'''
actions:
  description:
    - The plan, in the documented order, one entry per step and object.
    - C(step) name of the step, C(order) its number, C(cluster) V(source) or V(target) (original roles), C(kind)
      (V(policy), V(pool), V(spn), V(quota), V(config), V(journal)), C(object), C(action) (or
      V(skip (already done))), C(destructive), C(done).
  returned: always
  type: list
  elements: dict
  sample:
    - {step: allow writes on target, order: 12, cluster: target, kind: policy, object: fin-ap, action: allow_write,
       destructive: false, done: false}
lines:
  description: The plan as readable lines, one per step, then one per refusal.
  returned: always
  type: list
  elements: str
  sample: ["12. allow writes on target (target): fin-ap, fin-ar (fin-archive already done)"]
refusals:
  description: What the operation refuses to act on, C(object) and C(reason).
  returned: always
  type: list
  elements: dict
policies:
  description:
    - Each policy of the scope as M(onefs.dr.dr_info) describes it (same reads, oriented the same way) - C(name),
      the state word C(state) and its C(reasons), and the C(source), C(target) and C(mirror) sections - so that a
      role decides from one module run.
  returned: always
  type: list
  elements: dict
schedules:
  description:
    - With O(pair), the original schedules cached in the pair's journal by the failover (C(schedule), C(job_delay),
      C(enabled) per policy), what a failback or reprotect restores.
  returned: always
  type: dict
destructive:
  description: Whether any action still to do is destructive.
  returned: always
  type: bool
todo:
  description: How many actions are still to do (not done).
  returned: always
  type: int
source_visible:
  description: Whether the original source could be read (always false for V(failover_unplanned), which never contacts it).
  returned: always
  type: bool
open_runs:
  description:
    - With O(pair), the unfinished run id of each operation in the pair's journal, keyed by operation. A run left
      open by a controller that died after its last step has nothing left to plan but still needs finishing.
  returned: always
  type: dict
pools:
  description: The pool mappings planned with (O(pools), or those O(zone_pools) found).
  returned: always
  type: list
  elements: dict
moves:
  description:
    - What moves with a failover (source to target) or a failback (target to source), as arguments of the modules that
      move it, computed from the same reads as the plan. Empty lists for the other operations.
    - C(pools) one entry per mapped pool, C(source) and C(target) pool ids, C(park) the pool whose names are parked,
      C(names) the moving SmartConnect names, C(spns) their C(HOST/) SPNs, C(release) the M(onefs.dr.smartconnect_zone)
      entry parking only those names on the pool they leave, C(claim) the entry giving the receiving pool those names
      (each null when that cluster cannot be read).
    - C(spns) every moving SPN; C(quotas.create) M(onefs.dr.quota) entries for the receiving side (paths translated to
      its directories) and C(quotas.remove) entries (C(state=absent)) for the side left.
  returned: always
  type: dict
  sample:
    pools:
      - source: groupnet0.subnet0.finance
        target: groupnet0.subnet0.finance
        park: groupnet0.subnet0.finance
        names: [finance.prod.example.com, fin.prod.example.com]
        spns: [HOST/finance, HOST/finance.prod.example.com, HOST/fin, HOST/fin.prod.example.com]
        release: {pool: groupnet0.subnet0.finance, sc_dns_zone: parked-finance.prod.example.com,
                  aliases: [parked-fin.prod.example.com], aliases_state: exact}
        claim: {pool: groupnet0.subnet0.finance, sc_dns_zone: finance.prod.example.com,
                aliases: [fin.prod.example.com], aliases_state: exact}
    spns: [HOST/finance, HOST/finance.prod.example.com, HOST/fin, HOST/fin.prod.example.com]
    quotas:
      create: [{path: /ifs/data/finance/ap, type: directory, include_snapshots: false, hard: 10737418240}]
      remove: [{path: /ifs/data/finance/ap, type: directory, include_snapshots: false, state: absent}]
'''

from ansible_collections.onefs.dr.plugins.module_utils import drstate, journal, plan
from ansible_collections.onefs.dr.plugins.module_utils.connection import peer_given
from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils.parallel import call_together

MAX_WORKERS = 32

ARGUMENT_SPEC = dict(
    operation=dict(type="str", required=True, choices=list(journal.OPERATIONS)),
    policies=dict(type="list", elements="str"),
    zone=dict(type="str"),
    pools=dict(type="list", elements="dict", options=dict(source=dict(type="str", required=True),
                                                          target=dict(type="str", required=True),
                                                          names=dict(type="list", elements="str"))),
    park_prefix=dict(type="str", default="parked-"),
    spn_provider=dict(type="str"),
    zone_pools=dict(type="bool", default=False),
    quotas=dict(type="bool", default=False),
    config_sync=dict(type="bool", default=False),
    resync_prep=dict(type="bool", default=False),
    pair=dict(type="str"),
    unplanned_failovers=dict(type="list", elements="str"),
    allow_partial=dict(type="bool", default=False),
    max_workers=dict(type="int", default=10),
)
MUTUALLY_EXCLUSIVE = [("policies", "zone")]


def option_errors(params):
    errors = []
    if not 1 <= params["max_workers"] <= MAX_WORKERS:
        errors.append("max_workers must be between 1 and %d" % MAX_WORKERS)
    if params["policies"] is not None and (not params["policies"] or any(not (n or "").strip() for n in params["policies"])):
        errors.append("policies must name at least one policy, and no empty one")
    if params["zone"] is not None and (not params["zone"].strip() or "/" in params["zone"]):
        errors.append("zone must be an access zone name, got %r" % params["zone"])
    if params["pair"] is not None and journal.name_error("pair", params["pair"]):
        errors.append(journal.name_error("pair", params["pair"]))
    if params["spn_provider"] and not (params["pools"] or params["zone_pools"]):
        errors.append("spn_provider needs pools or zone_pools (the SPNs that move are those of the pools' names)")
    if params["zone_pools"] and not params["zone"]:
        errors.append("zone_pools needs zone (the pools of that access zone move)")
    if params["zone_pools"] and params["operation"] == "failover_unplanned" and not params["pools"]:
        errors.append("zone_pools cannot read the source's pools in an unplanned failover: give pools with their names")
    if params["resync_prep"] and params["operation"] != "failover_planned":
        errors.append("resync_prep is a step of failover_planned only")
    if not (params["park_prefix"] or "").strip():
        errors.append("park_prefix must not be empty")
    if not peer_given(params) and params["operation"] != "failover_unplanned":
        errors.append("peer: the original source is required (it may be unreachable, but it must be named)")
    return errors


def gather_for(params):
    gather = ["cluster", "policies"]
    if params["pools"] or params["zone_pools"]:
        gather.append("pools")
    if params["spn_provider"]:
        gather.append("spns")
    if params["quotas"]:
        gather.append("quotas")
    return gather


def read_journal(onefs, source_visible):
    """Cached schedules, open and last runs of the pair (reads only)."""
    params = onefs.params
    if not params["pair"]:
        return {}
    book = journal.Journal(onefs.client, onefs.peer_client if source_visible else None, params["pair"],
                           source_required=False)
    schedules, index = call_together(book.cached_schedules, book.run_index)
    return {"schedules": schedules, "open_runs": index.get("runs") or {}, "last_runs": index.get("last") or {}}


def run(onefs):
    params = onefs.params
    # An unplanned failover never contacts the original source: it may be down, and waiting
    # out its retry budget would only delay the failover.
    contact_source = params["operation"] != "failover_unplanned"
    clients = {drstate.LOCAL: onefs.client, drstate.PEER: onefs.peer_client if contact_source else None}
    clusters = drstate.read_clusters(clients, gather_for(params), zone=params["zone"],
                                     max_workers=params["max_workers"])
    if not contact_source:
        clusters[drstate.PEER] = {"label": drstate.PEER, "visible": False, "identity": None,
                                  "error": "not contacted (unplanned failover)"}
    errors = drstate.read_errors(clusters)
    if errors:
        onefs.fail_json(msg="%d read(s) failed: %s" % (len(errors), "; ".join(errors)), changed=False,
                        read_errors=errors)
    names = drstate.select_names(clusters, names=params["policies"], zone=params["zone"])
    views = [drstate.policy_result(name, clusters, original_source="peer",
                                   unplanned_failovers=params["unplanned_failovers"]) for name in names]
    source_visible = bool(clusters[drstate.PEER].get("visible"))
    pools, pool_problems = params["pools"] or [], []
    if params["zone_pools"] and not pools:
        pools, pool_problems = plan.zone_pool_mappings(clusters[drstate.PEER].get("pools"),
                                                       clusters[drstate.LOCAL].get("pools"), params["zone"])
    facts = plan.Facts(clusters, views, drstate.PEER, drstate.LOCAL, journal=read_journal(onefs, source_visible),
                       pools=pools, spn_provider=params["spn_provider"], park_prefix=params["park_prefix"])
    result = plan.build(params["operation"], facts, params)
    for problem in pool_problems:
        result.refuse("pools", problem)
    todo = [entry for entry in result.actions if not entry["done"]]
    refused = set(refusal["object"] for refusal in result.refusals)
    accepted = [view for view in views if view["name"] not in refused]
    outcome = dict(
        changed=False, actions=result.actions, lines=result.lines(), refusals=result.refusals,
        moves=plan.moves_for(params["operation"], facts, accepted), pools=pools,
        open_runs=facts.journal.get("open_runs") or {}, schedules=facts.journal.get("schedules") or {},
        policies=views,
        destructive=any(entry["destructive"] for entry in todo), todo=len(todo), source_visible=source_visible)
    if not source_visible and contact_source:
        onefs.warn("original source not reachable, planned from the target alone: %s"
                   % clusters[drstate.PEER].get("error"))
    if result.refusals and not params["allow_partial"]:
        onefs.fail_json(msg="%s refused for %d object(s): %s" % (
            params["operation"], len(result.refusals),
            "; ".join("%s: %s" % (r["object"], r["reason"]) for r in result.refusals)), **outcome)
    onefs.exit_json(**outcome)


def main():
    onefs = OnefsModule(argument_spec=ARGUMENT_SPEC, peer=True, mutually_exclusive=MUTUALLY_EXCLUSIVE)
    errors = option_errors(onefs.params)
    if errors:
        onefs.fail_json(msg="invalid options: " + "; ".join(errors))
    onefs.run(run)


if __name__ == "__main__":
    main()
