#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: config_sync
short_description: Copy the SMB shares, NFS exports and NFS aliases of a scope from one OneFS cluster to another
version_added: 0.1.0
description:
  - Makes the protocol configuration of a scope on the B(target) cluster (the top-level connection options)
    match the B(source) cluster (O(peer)). Only the target is written; the source is only read.
  - The scope is an access zone (O(zone)), optionally narrowed to objects whose paths are all under one of
    O(paths).
  - Creates what is missing on the target, updates what differs (only the differing fields are sent; the SMB
    C(permissions) list is replaced as a whole) and, with O(remove_extra=true) only, removes what the target
    has in the scope and the source does not.
  - Fields the cluster computes (C(id), C(zid), C(zone), C(health), C(conflicting_paths), C(unresolved_clients))
    are neither compared nor sent. Fields the source reports as null are treated as unset.
  - SMB shares and NFS aliases are matched by name, NFS exports by their set of paths (after O(path_map)).
  - OneFS serialises SMB share configuration writes and answers concurrent writes with HTTP 409
    C(AEC_CONFLICT). Writes run on a small bounded pool (O(max_workers)) and each conflicted write is retried
    with jittered exponential back-off up to O(conflict_retries) times.
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.PEER
  - onefs.dr.connection.ATTRIBUTES
options:
  zone:
    description:
      - Access zone on the source cluster whose objects are copied.
    type: str
    default: System
  target_zone:
    description:
      - Access zone on the target cluster that receives the copies.
      - Defaults to O(zone).
    type: str
  paths:
    description:
      - Path roots on the source cluster. Only objects all of whose paths are under one of these roots are in
        the scope, on the source and (after O(path_map)) on the target.
      - When empty, the whole access zone is the scope.
    type: list
    elements: str
    default: []
  kinds:
    description:
      - Which kinds of objects to copy.
    type: list
    elements: str
    choices: [smb_shares, nfs_exports, nfs_aliases]
    default: [smb_shares, nfs_exports, nfs_aliases]
  path_map:
    description:
      - Path prefixes to rewrite when the target's directories differ from the source's.
      - The longest matching O(path_map[].source) prefix wins; it matches whole path components only.
      - Paths no prefix matches are kept as they are.
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: Path prefix on the source cluster.
        type: str
        required: true
      target:
        description: Path prefix that replaces it on the target cluster.
        type: str
        required: true
  remove_extra:
    description:
      - Remove from the target the objects of the scope that do not exist on the source.
      - Off by default on purpose; a scope given too widely would otherwise delete shares.
    type: bool
    default: false
  max_workers:
    description:
      - How many objects are written at the same time (1 to 32).
      - Kept small because OneFS serialises share writes; more workers only produce more conflicts.
    type: int
    default: 4
  conflict_retries:
    description:
      - How many times one write answered with HTTP 409 C(AEC_CONFLICT) is retried (0 to 50) before the object
        is reported as failed.
    type: int
    default: 8
  locked_shares:
    description:
      - What to copy for a source SMB share that carries the data-integrity lock of M(onefs.dr.smb_lock)
        (only deny Everyone, no C(run_as_root)).
      - V(original) copies the C(permissions) and C(run_as_root) saved in the source's lock record under
        O(lock_dir), so that the target gets what clients had before the lock. A locked share without a saved
        original is copied as it is. Either way the result of the share says so in C(source_lock).
      - V(as_is) copies the lock itself.
      - The lock record is only read when a share in scope is locked.
    type: str
    choices: [original, as_is]
    default: original
  lock_dir:
    description:
      - Directory of the lock records on the source cluster, as given to M(onefs.dr.smb_lock).
    type: str
    default: /ifs/.onefs_dr/smb_lock
  name_prefix:
    description:
      - DFS mode. SMB shares are created and updated on the target under C(<name_prefix><source name>), and a
        source share is matched with the target share of that name. The standby copies then exist on the target
        with every setting but are not reachable under the share name of the DFS folder target, until
        M(onefs.dr.dfs_shares) renames them at failover.
      - Only SMB shares are affected; NFS exports and aliases are copied as without it.
      - Only target shares whose names start with the prefix (case-insensitive) count as the scope's copies;
        the target's other shares are neither updated nor, with O(remove_extra=true), removed.
      - A source share whose name already starts with the prefix is a standby left by M(onefs.dr.dfs_shares)
        (after a failover its real name is served by the target); it is not copied (that would double the
        prefix), and its namesake on the target is never removed. A source that has both C(N) and
        C(<name_prefix>N) fails that share.
      - Must not contain characters refused in SMB share names.
    type: str
notes:
  - The user on the target needs the RBAC privilege C(ISI_PRIV_SMB) and/or C(ISI_PRIV_NFS) with write access;
    the user on the source needs them read-only, plus read access to O(lock_dir) through the namespace API
    (C(ISI_PRIV_NS_IFS_ACCESS)) when source shares are locked.
  - Data is not copied; SyncIQ does that. Paths must exist on the target (a OneFS share or export of a
    missing directory is refused).
seealso:
  - module: onefs.dr.smb_lock
'''

EXAMPLES = r'''
- name: Copy protocol configuration to the DR cluster
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/onefs.dr.onefs:
      # the target (DR) cluster: the only one written
      onefs_host: "{{ onefs_host }}"
      onefs_port: "{{ onefs_port | default(8080) }}"
      username: "{{ onefs_username }}"
      password: "{{ onefs_password }}"
      ca_path: "{{ onefs_ca_path | default(omit) }}"
  tasks:
    - name: Every share, export and alias of access zone finance
      onefs.dr.config_sync:
        peer:
          # the source (production) cluster: only read
          onefs_host: "{{ source_host }}"
          onefs_port: "{{ source_port | default(8080) }}"
          username: "{{ source_username }}"
          password: "{{ source_password }}"
          ca_path: "{{ onefs_ca_path | default(omit) }}"
        zone: finance
      register: synced

    - name: Show what was done
      ansible.builtin.debug:
        msg: "{{ synced.counts }}"

    - name: Only the SMB shares under one root, stored elsewhere on the target, extras removed
      onefs.dr.config_sync:
        peer:
          onefs_host: "{{ source_host }}"
          onefs_port: "{{ source_port | default(8080) }}"
          username: "{{ source_username }}"
          password: "{{ source_password }}"
          ca_path: "{{ onefs_ca_path | default(omit) }}"
        zone: eng
        kinds: [smb_shares]
        paths: [/ifs/data/eng/builds]
        path_map:
          - source: /ifs/data/eng/builds
            target: /ifs/data/eng/dr-builds
        remove_extra: true
        max_workers: 2

    - name: DFS mode - standby copies of the finance shares on the target, not reachable under their DFS names
      onefs.dr.config_sync:
        peer:
          onefs_host: "{{ source_host }}"
          onefs_port: "{{ source_port | default(8080) }}"
          username: "{{ source_username }}"
          password: "{{ source_password }}"
          ca_path: "{{ onefs_ca_path | default(omit) }}"
        zone: finance
        kinds: [smb_shares]
        name_prefix: dfs-standby-
'''

RETURN = r'''
results:
  description: One entry per object of the scope, in source order, then the target's extras.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: V(smb_shares), V(nfs_exports) or V(nfs_aliases).
      type: str
      sample: smb_shares
    name:
      description:
        - Share or alias name; for an export its paths joined with commas.
        - With O(name_prefix), the share's name on the target (with the prefix).
      type: str
      sample: projects
    source_name:
      description: With O(name_prefix), the name of the SMB share on the source.
      type: str
      returned: for SMB shares copied with O(name_prefix)
      sample: projects
    note:
      description: Why a source SMB share was not copied (it already carries O(name_prefix)).
      type: str
      returned: for source SMB shares whose name starts with O(name_prefix)
    id:
      description: Id of the NFS export on the target (created or updated).
      type: int
      returned: for NFS exports that exist or were created
      sample: 12
    action:
      description: V(create), V(update), V(remove) or V(none).
      type: str
      sample: update
    actions:
      description: Short words for what was (or in check mode would be) done.
      type: list
      elements: str
      sample: ["set permissions"]
    fields:
      description: Fields sent in the update.
      type: list
      elements: str
      sample: ["permissions"]
    before:
      description: Values on the target before, of the fields that change.
      type: dict
    after:
      description: Values after, of the fields that change.
      type: dict
    changed:
      description: Whether this object changed.
      type: bool
    source_lock:
      description: For a source SMB share under the data-integrity lock, what was copied (see O(locked_shares)).
      type: str
      returned: for locked source shares when O(locked_shares=original)
      sample: "source share is locked: its saved original permissions are copied"
    failed:
      description: Present and true when this object could not be written; the task's C(msg) names it.
      type: bool
      returned: on failure of this object
    msg:
      description: Why this object failed.
      type: str
      returned: on failure of this object
counts:
  description: How many objects got each action, and how many failed.
  returned: always
  type: dict
  sample: {"create": 3, "update": 1, "remove": 0, "none": 12, "failed": 0}
conflicts_retried:
  description: How many writes were answered with 409 C(AEC_CONFLICT) and retried.
  returned: always
  type: int
  sample: 2
zone:
  description: Source access zone.
  returned: always
  type: str
  sample: System
target_zone:
  description: Target access zone.
  returned: always
  type: str
  sample: System
name_prefix:
  description: The O(name_prefix) SMB shares were copied under (null without one).
  returned: always
  type: str
  sample: dfs-standby-
'''

from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils import protocols

MAX_WORKERS = 32
MAX_CONFLICT_RETRIES = 50

ARGUMENT_SPEC = dict(
    zone=dict(type="str", default=protocols.SYSTEM_ZONE),
    target_zone=dict(type="str"),
    paths=dict(type="list", elements="str", default=[]),
    kinds=dict(type="list", elements="str", choices=list(protocols.KIND_NAMES), default=list(protocols.KIND_NAMES)),
    path_map=dict(type="list", elements="dict", default=[], options=dict(
        source=dict(type="str", required=True),
        target=dict(type="str", required=True),
    )),
    remove_extra=dict(type="bool", default=False),
    max_workers=dict(type="int", default=4),
    conflict_retries=dict(type="int", default=protocols.DEFAULT_CONFLICT_RETRIES),
    locked_shares=dict(type="str", choices=["original", "as_is"], default="original"),
    lock_dir=dict(type="str", default=protocols.DEFAULT_LOCK_DIR),
    name_prefix=dict(type="str"),
)


def input_error(params):
    """The first problem with the options, or None (checked before any request)."""
    if not 1 <= params["max_workers"] <= MAX_WORKERS:
        return "max_workers must be between 1 and %d, got %d" % (MAX_WORKERS, params["max_workers"])
    if not 0 <= params["conflict_retries"] <= MAX_CONFLICT_RETRIES:
        return "conflict_retries must be between 0 and %d, got %d" % (MAX_CONFLICT_RETRIES, params["conflict_retries"])
    if not params["kinds"]:
        return "kinds must name at least one of %s" % ", ".join(protocols.KIND_NAMES)
    if not (params["zone"] or "").strip():
        return "zone must not be empty"
    if params["target_zone"] is not None and not params["target_zone"].strip():
        return "target_zone must not be empty"
    lock_dir = protocols.norm_path(params["lock_dir"] or "")
    if not lock_dir.startswith("/ifs/") or ".." in lock_dir.split("/"):
        return "lock_dir must be a directory under /ifs, got %r" % params["lock_dir"]
    if params["name_prefix"] is not None:
        problem = protocols.share_name_error(params["name_prefix"], "name_prefix")
        if problem:
            return problem
    return protocols.validate_roots(params["paths"], "paths") or protocols.validate_path_map(params["path_map"])


def run(module):
    params = module.params
    zone = params["zone"]
    target_zone = params["target_zone"] or zone
    kinds = [kind for kind in protocols.KIND_NAMES if kind in params["kinds"]]
    counter = protocols.ConflictCounter()
    results = protocols.sync_config(
        module.peer_client, module.client, kinds, zone, target_zone,
        roots=params["paths"], path_map=params["path_map"], remove_extra=params["remove_extra"],
        check_mode=module.check_mode, max_workers=params["max_workers"],
        retries=params["conflict_retries"], counter=counter,
        lock_dir=params["lock_dir"] if params["locked_shares"] == "original" else None,
        name_prefix=params["name_prefix"])
    module.exit_results(results, counts=protocols.count_actions(results), conflicts_retried=counter.count,
                        zone=zone, target_zone=target_zone, name_prefix=params["name_prefix"])


def main():
    module = OnefsModule(argument_spec=ARGUMENT_SPEC, peer=True)
    problem = input_error(module.params)
    if problem:
        module.fail_json(msg=problem)
    module.run(run)


if __name__ == "__main__":
    main()
