#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: rg_remove
short_description: Remove a SyncIQ replication group when its directories are empty, and report what is left
version_added: 0.1.0
description:
  - Removes the replication of a group of SyncIQ policies the way Dell documents it for its replication groups
    (seed 000) - only when the replicated directories are empty on B(both) clusters, unless O(force=true); then a
    last sync, the policy deleted on the source (O(onefs_host)) - OneFS also removes the target's record - and the
    target record on the O(peer) removed if it stayed (a target unreachable at delete time keeps it).
  - Nothing on the file system is deleted. With O(force=true) the files stay where they are on both clusters and
    are listed in C(leftovers), with the quotas, SMB shares, NFS exports and aliases still on the group's paths, for
    a person to decide about.
  - Every policy of the group is read and checked before anything is written; any refusal (a directory not empty,
    a policy failed over or half removed) leaves the whole group untouched.
  - Idempotent - a group already removed reports no change.
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.PEER
  - onefs.dr.connection.ATTRIBUTES
attributes:
  check_mode:
    description: Reads both clusters and returns the actions and leftovers; writes nothing.
    support: full
  diff_mode:
    description: No diff is returned; C(actions) say what changes.
    support: none
options:
  policies:
    description: Names of the policies of the group (as on the source cluster).
    type: list
    elements: str
    required: true
  force:
    description: Remove the replication even when the directories hold files (the files stay on disk and are reported).
    type: bool
    default: false
  final_sync:
    description: Run a last sync of every enabled policy before it is deleted (seed 000 does).
    type: bool
    default: true
  zones:
    description: Access zones searched for SMB shares, NFS exports and aliases left on the group's paths.
    type: list
    elements: str
    default: [System]
  timeout:
    description: Seconds the last sync of the group may take.
    type: int
    default: 3600
  poll_interval:
    description: Seconds between two reads of the running jobs.
    type: float
    default: 5
  max_running_jobs:
    description: Most jobs running at once, 1 to 50.
    type: int
    default: 50
  max_workers:
    description: How many policies are read and removed at the same time, 1 to 50.
    type: int
    default: 10
notes:
  - Needs C(ISI_PRIV_SYNCIQ) (write) on the source, C(ISI_PRIV_SYNCIQ) on the target to remove a record left there,
    C(ISI_PRIV_NS_IFS_ACCESS) to list the directories, and read access to quotas, SMB and NFS for the leftovers.
seealso:
  - module: onefs.dr.synciq_policy
  - module: onefs.dr.local_target
'''

EXAMPLES = r'''
- name: Remove the replication of two retired applications
  onefs.dr.rg_remove:
    onefs_host: "{{ source_host }}"
    username: "{{ onefs_user }}"
    password: "{{ onefs_password }}"
    policies: [app-old, app-old-logs]
    zones: [System, apps]
    peer:
      onefs_host: "{{ target_host }}"
      username: "{{ onefs_user }}"
      password: "{{ onefs_password }}"
  register: removed

- name: Show what a person still has to clean up
  ansible.builtin.debug:
    msg: "{{ removed.results | map(attribute='leftovers') | flatten }}"
'''

RETURN = r'''
results:
  description: One entry per policy.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The policy.
      type: str
    changed:
      description: Whether it was (or, in check mode, would be) removed.
      type: bool
    actions:
      description: C(final sync), C(delete policy (and its target record)), C(check the target record is gone).
      type: list
      elements: str
    point_in_time:
      description: The last sync (C(job_id), C(report_id), C(state), C(end_time)).
      type: dict
    leftovers:
      description: What stays on either cluster (files of a forced removal, quotas, shares, exports, aliases).
      type: list
      elements: str
refusals:
  description: Per refused policy C(name) and C(reason); nothing was written when there is any.
  returned: always
  type: list
  elements: dict
leftovers:
  description: Every entry of the results' C(leftovers), in one list.
  returned: always
  type: list
  elements: str
'''

from ansible_collections.onefs.dr.plugins.module_utils import options, rgremove
from ansible_collections.onefs.dr.plugins.module_utils.connection import peer_given
from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule

ARGUMENT_SPEC = dict(
    policies=dict(type="list", elements="str", required=True),
    force=dict(type="bool", default=False),
    final_sync=dict(type="bool", default=True),
    zones=dict(type="list", elements="str", default=["System"]),
    timeout=dict(type="int", default=3600),
    poll_interval=dict(type="float", default=5.0),
    max_running_jobs=dict(type="int", default=50),
    max_workers=dict(type="int", default=10),
)


def option_errors(params):
    errors = options.name_list_errors(params["policies"]) + options.wait_errors(params)
    errors += options.range_errors(params, {"max_workers": (1, 50), "max_running_jobs": (1, 50)})
    if not peer_given(params):
        errors.append("peer: the target cluster is required (its directories and target records are checked)")
    return errors


def run(onefs):
    params = onefs.params
    results, refusals = rgremove.remove_group(
        onefs.client, onefs.peer_client, params["policies"], final_sync=params["final_sync"], force=params["force"],
        zones=params["zones"], check_mode=onefs.check_mode, timeout=params["timeout"],
        poll_interval=params["poll_interval"], max_running_jobs=params["max_running_jobs"],
        max_workers=params["max_workers"])
    refused = [{"name": name, "reason": reason} for name, reason in refusals]
    if refused:
        onefs.fail_json(msg="nothing was removed: %s" % "; ".join("%s" % r["reason"] for r in refused),
                        changed=False, results=[], refusals=refused, leftovers=[])
    leftovers = [entry for result in results for entry in result.get("leftovers") or []]
    onefs.exit_results(results, refusals=[], leftovers=leftovers)


def main():
    onefs = OnefsModule(argument_spec=ARGUMENT_SPEC, peer=True)
    errors = option_errors(onefs.params)
    if errors:
        onefs.fail_json(msg="invalid options: " + "; ".join(errors))
    onefs.run(run)


if __name__ == "__main__":
    main()
