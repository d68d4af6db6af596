#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dfs_shares
short_description: Rename SMB shares on both OneFS clusters so that only one serves each DFS folder target
version_added: 0.1.0
description:
  - The share step of a DFS-mode failover or failback (seed 003 step 6). Each DFS folder has two folder targets,
    C(\\source\N) and C(\\target\N); both clusters hold the share, but only the B(active) one under its real
    name C(N), the other as C(<prefix>N), so that exactly one folder target is reachable and DFS clients are
    referred there.
  - Runs against the B(original source) cluster (the top-level connection options) with O(peer) = the
    B(original target). Both are read and written. Never swap them; say which one must serve the real names with
    O(active).
  - For each share name C(N) of the scope, on the cluster that must B(not) be active C(N) is renamed to
    C(<prefix>N) (when it has C(N)); then, on the active cluster, C(<prefix>N) is renamed to C(N) (when it has
    C(<prefix>N) and not C(N)).
  - B(Order.) Every deactivation (on any share) is done before the first activation, and a share whose
    deactivation failed is not activated. If both folder targets of a share were reachable at the same time,
    DFS clients could be referred to either cluster and write on both sides of the replication (split brain);
    this order leaves instead a short window where neither answers, which DFS clients ride out by retrying the
    referral.
  - B(Refusals.) Both clusters are read and every share planned before the first write. The run fails without
    any write, naming the shares, when the active cluster has neither C(N) nor C(<prefix>N) (run
    M(onefs.dr.config_sync) with O(onefs.dr.config_sync#module:name_prefix) first), or when a cluster has both
    C(N) and C(<prefix>N) (ambiguous).
  - Idempotent. A share already served by the active cluster only (C(N) there, C(<prefix>N) on the other) is left
    alone; a second run writes nothing.
  - A rename is a PUT of the share's C(name). OneFS serialises SMB share writes and answers concurrent ones with
    HTTP 409 C(AEC_CONFLICT); those are retried with jittered exponential back-off up to O(conflict_retries)
    times. A rename re-sent after a lost answer is checked on the cluster, never done twice.
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.PEER
  - onefs.dr.connection.ATTRIBUTES
options:
  active:
    description:
      - Which cluster must serve the real share names afterwards.
      - V(target) (the original target, O(peer)) in a failover; V(source) (the original source, the top-level
        connection) in a failback.
    type: str
    required: true
    choices: [source, target]
  zone:
    description:
      - Access zone of the shares on the original source cluster.
    type: str
    default: System
  target_zone:
    description:
      - Access zone of the shares on the original target cluster.
      - Defaults to O(zone).
    type: str
  shares:
    description:
      - Real names (without O(prefix)) of the shares to handle, case-insensitive. They may exist on either
        cluster.
      - When empty, every SMB share of O(zone) on the B(original source) under O(paths), a share named
        C(<prefix>N) there counting as C(N). Shares that exist only on the original target are then not
        handled; name them here.
    type: list
    elements: str
    default: []
  paths:
    description:
      - Path roots on the original source cluster. Only shares whose path is under one of them are handled.
      - When empty, the whole access zone (or O(shares)).
      - With O(shares) too, a named share the original source has outside these roots refuses the run.
    type: list
    elements: str
    default: []
  prefix:
    description:
      - Name prefix of the standby shares, as given to M(onefs.dr.config_sync) in
        O(onefs.dr.config_sync#module:name_prefix). Compared case-insensitively.
      - Must not contain characters refused in SMB share names.
    type: str
    default: dfs-standby-
  max_workers:
    description:
      - How many shares are renamed at the same time (1 to 32), in each of the two phases.
      - Kept small because OneFS serialises share writes; more workers only produce more conflicts.
    type: int
    default: 4
  conflict_retries:
    description:
      - How many times one rename answered with HTTP 409 C(AEC_CONFLICT) is retried (0 to 50) before the share is
        reported as failed.
    type: int
    default: 8
notes:
  - The users on both clusters need the RBAC privilege C(ISI_PRIV_SMB) with write access.
  - Open SMB sessions to a renamed share keep working until they reconnect; lock the shares being left first
    (M(onefs.dr.smb_lock)) when clients must not write there any more.
  - SmartConnect names and SPNs are not touched in DFS mode; DNS still resolves both clusters.
seealso:
  - module: onefs.dr.config_sync
  - module: onefs.dr.smb_lock
'''

EXAMPLES = r'''
- name: DFS-mode share renames
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/onefs.dr.onefs:
      # the ORIGINAL source cluster, in a failover and in a failback alike
      onefs_host: "{{ source_host }}"
      onefs_port: "{{ source_port | default(8080) }}"
      username: "{{ source_username }}"
      password: "{{ source_password }}"
      ca_path: "{{ onefs_ca_path | default(omit) }}"
  tasks:
    - name: Standby copies of the finance shares on the target (dfs-standby-<name>), not reachable by DFS clients
      onefs.dr.config_sync:
        # config_sync writes the cluster of its top-level options: here the original target
        onefs_host: "{{ target_host }}"
        onefs_port: "{{ target_port | default(8080) }}"
        username: "{{ target_username }}"
        password: "{{ target_password }}"
        peer:
          onefs_host: "{{ source_host }}"
          onefs_port: "{{ source_port | default(8080) }}"
          username: "{{ source_username }}"
          password: "{{ source_password }}"
          ca_path: "{{ onefs_ca_path | default(omit) }}"
        zone: finance
        kinds: [smb_shares]
        name_prefix: dfs-standby-

    - name: Failover - the target serves the real names, the source the standby names
      onefs.dr.dfs_shares:
        peer:
          # the ORIGINAL target cluster
          onefs_host: "{{ target_host }}"
          onefs_port: "{{ target_port | default(8080) }}"
          username: "{{ target_username }}"
          password: "{{ target_password }}"
          ca_path: "{{ onefs_ca_path | default(omit) }}"
        active: target
        zone: finance
      register: renamed

    - name: Show the renames
      ansible.builtin.debug:
        msg: "{{ renamed.results | map(attribute='actions') | flatten }}"

    - name: Failback of two named shares - the source serves their real names again
      onefs.dr.dfs_shares:
        peer:
          onefs_host: "{{ target_host }}"
          onefs_port: "{{ target_port | default(8080) }}"
          username: "{{ target_username }}"
          password: "{{ target_password }}"
          ca_path: "{{ onefs_ca_path | default(omit) }}"
        active: source
        zone: finance
        shares: [ap, ar]
'''

RETURN = r'''
results:
  description: One entry per share of the scope, in name order (or in the order of O(shares)). Empty when the run was refused.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Real name of the share (without O(prefix)).
      type: str
      sample: ap
    changed:
      description: Whether a share was renamed (or, in check mode, would be).
      type: bool
    actions:
      description:
        - "Renames done (in check mode, that would be done): C(<cluster>: rename <old> -> <new>), deactivations
          first."
      type: list
      elements: str
      sample: ["source: rename ap -> dfs-standby-ap", "target: rename dfs-standby-ap -> ap"]
    before:
      description: Name of the share on each cluster before (null where the cluster has none).
      type: dict
      sample: {"source": "ap", "target": "dfs-standby-ap"}
    after:
      description: Name of the share on each cluster after (what was reached when the share failed).
      type: dict
      sample: {"source": "dfs-standby-ap", "target": "ap"}
    failed:
      description: Present and true when a rename of this share failed; the task's C(msg) names it.
      type: bool
      returned: on failure of this share
    msg:
      description: Which rename failed and why.
      type: str
      returned: on failure of this share
refusals:
  description: Why the run was refused before any write, one entry per problem (empty when it was not).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Real name of the share.
      type: str
    reason:
      description: What is wrong.
      type: str
  sample: [{"name": "ap", "reason": "the target (active) has neither ap nor dfs-standby-ap in zone finance"}]
active:
  description: The cluster that serves the real names (O(active)).
  returned: always
  type: str
  sample: target
prefix:
  description: The standby prefix used.
  returned: always
  type: str
  sample: dfs-standby-
zone:
  description: Access zone on the original source.
  returned: always
  type: str
  sample: finance
target_zone:
  description: Access zone on the original target.
  returned: always
  type: str
  sample: finance
conflicts_retried:
  description: How many renames were answered with 409 C(AEC_CONFLICT) and retried.
  returned: always
  type: int
  sample: 0
'''

from ansible_collections.onefs.dr.plugins.module_utils.connection import peer_given
from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils import dfs, protocols

MAX_WORKERS = 32
MAX_CONFLICT_RETRIES = 50

ARGUMENT_SPEC = dict(
    active=dict(type="str", required=True, choices=[dfs.SOURCE, dfs.TARGET]),
    zone=dict(type="str", default=protocols.SYSTEM_ZONE),
    target_zone=dict(type="str"),
    shares=dict(type="list", elements="str", default=[]),
    paths=dict(type="list", elements="str", default=[]),
    prefix=dict(type="str", default=dfs.DEFAULT_PREFIX),
    max_workers=dict(type="int", default=4),
    conflict_retries=dict(type="int", default=protocols.DEFAULT_CONFLICT_RETRIES),
)


def input_error(params):
    """The first problem with the options, or None (checked before any request)."""
    if not 1 <= params["max_workers"] <= MAX_WORKERS:
        return "max_workers must be between 1 and %d, got %d" % (MAX_WORKERS, params["max_workers"])
    if not 0 <= params["conflict_retries"] <= MAX_CONFLICT_RETRIES:
        return "conflict_retries must be between 0 and %d, got %d" % (MAX_CONFLICT_RETRIES, params["conflict_retries"])
    for option in ("zone", "target_zone"):
        value = params[option]
        if value is None and option == "target_zone":
            continue
        if not (value or "").strip() or "/" in value:
            return "%s must be an access zone name, got %r" % (option, value)
    problem = protocols.share_name_error(params["prefix"], "prefix")
    if problem:
        return problem
    for name in params["shares"]:
        problem = protocols.share_name_error(name, "shares")
        if problem:
            return problem
        if protocols.has_prefix(name, params["prefix"]):
            return ("shares must hold the real share names, without the prefix %r: got %r"
                    % (params["prefix"], name))
    problem = protocols.validate_roots(params["paths"], "paths")
    if problem:
        return problem
    if not peer_given(params):
        return "peer: the original target cluster is required (shares are renamed on both clusters)"
    return None


def run(module):
    params = module.params
    zone = params["zone"]
    target_zone = params["target_zone"] or zone
    counter = protocols.ConflictCounter()
    extra = dict(active=params["active"], prefix=params["prefix"], zone=zone, target_zone=target_zone)
    results, refusals = dfs.rename_shares(
        module.client, module.peer_client, params["active"], zone, target_zone, prefix=params["prefix"],
        roots=params["paths"], names=params["shares"], check_mode=module.check_mode,
        max_workers=params["max_workers"], retries=params["conflict_retries"], counter=counter)
    if refusals:
        module.fail_json(msg="refused before any write: " + "; ".join(
            "share %s: %s" % (entry["name"], entry["reason"]) for entry in refusals),
            refusals=refusals, results=[], changed=False, conflicts_retried=0, **extra)
    if not results:
        module.warn("no SMB share in scope (zone %s%s)" % (
            zone, ", paths " + ", ".join(params["paths"]) if params["paths"] else ""))
    module.exit_results(results, refusals=[], conflicts_retried=counter.count, **extra)


def main():
    module = OnefsModule(argument_spec=ARGUMENT_SPEC, peer=True)
    problem = input_error(module.params)
    if problem:
        module.fail_json(msg=problem)
    module.run(run)


if __name__ == "__main__":
    main()
