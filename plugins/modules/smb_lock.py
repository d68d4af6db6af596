#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: smb_lock
short_description: Deny everyone on the SMB shares of a scope before a failover, and restore them exactly
version_added: 0.1.0
description:
  - The data-integrity lock of a planned failover. With O(state=locked) every SMB share of the scope gets the single
    share permission C(full deny) for C(Everyone) (C(SID:S-1-1-0)) and an empty C(run_as_root) list, so that no
    SMB client can write on the cluster being left.
  - Before the first share is changed, the original C(permissions) and C(run_as_root) of every share about to be
    locked are saved in a JSON file on the cluster itself (one file per access zone under O(lock_dir)) and read
    back. Any controller can therefore unlock, even after the one that locked crashed.
  - With O(state=unlocked) the saved values are put back exactly, then the saved entries are removed (the file
    too when it is empty).
  - Both states are idempotent. A share that already carries the lock is left alone and its saved original is
    never overwritten with the lock itself. A locked share with no saved original is reported with
    C(saved=false).
  - The scope is an access zone (O(zone)), narrowed by O(paths) (share paths under these roots) and/or O(shares)
    (share names).
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.ATTRIBUTES
options:
  state:
    description:
      - V(locked) saves the originals and denies everyone; V(unlocked) restores the saved originals.
    type: str
    choices: [locked, unlocked]
    default: locked
  zone:
    description:
      - Access zone of the shares.
    type: str
    default: System
  paths:
    description:
      - Only shares whose path is under one of these roots.
      - When empty, every share of the zone (or of O(shares)).
    type: list
    elements: str
    default: []
  shares:
    description:
      - Only the shares with these names (case-insensitive).
      - With O(state=locked), a name that does not exist in the zone fails the task before any write.
    type: list
    elements: str
    default: []
  lock_dir:
    description:
      - Directory on the cluster (under C(/ifs)) where the original permissions are saved, one C(<zone>.json) per
        access zone. It is created when missing.
      - Keep it outside every SyncIQ policy's source path, so that a lock record is never replicated over another.
    type: str
    default: /ifs/.onefs_dr/smb_lock
  max_workers:
    description:
      - How many shares are written at the same time (1 to 32). OneFS serialises share writes.
    type: int
    default: 4
  conflict_retries:
    description:
      - How many times one share write answered with HTTP 409 C(AEC_CONFLICT) is retried (0 to 50).
    type: int
    default: 8
notes:
  - Needs the RBAC privileges C(ISI_PRIV_SMB) (write) and C(ISI_PRIV_NS_TRAVERSE) plus file access to O(lock_dir)
    through the namespace API (C(ISI_PRIV_IFS_BACKUP)/C(ISI_PRIV_IFS_RESTORE) or ownership of the directory).
  - Share permissions do not affect NFS; fence NFS exports separately.
  - Open SMB sessions keep their access until they reconnect; the lock only guarantees that new access is denied.
seealso:
  - module: onefs.dr.config_sync
'''

EXAMPLES = r'''
- name: Data-integrity lock around a planned failover
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/onefs.dr.onefs:
      onefs_host: "{{ onefs_host }}"
      onefs_port: "{{ onefs_port | default(8080) }}"
      username: "{{ onefs_username }}"
      password: "{{ onefs_password }}"
      ca_path: "{{ onefs_ca_path | default(omit) }}"
  tasks:
    - name: Deny everyone on the shares of zone finance under /ifs/data/finance (originals saved on the cluster)
      onefs.dr.smb_lock:
        state: locked
        zone: finance
        paths:
          - /ifs/data/finance
      register: lock

    - name: Show where the originals are saved
      ansible.builtin.debug:
        msg: "{{ lock.record }}"

    - name: Put the original permissions back
      onefs.dr.smb_lock:
        state: unlocked
        zone: finance
'''

RETURN = r'''
results:
  description: One entry per share of the scope.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Share name.
      type: str
      sample: projects
    path:
      description: Share path.
      type: str
      sample: /ifs/data/projects
    action:
      description:
        - V(lock) (originals saved, lock applied), V(restore) (originals put back), V(none) (already as wanted),
          V(missing) (a saved share that no longer exists; its entry is dropped).
      type: str
      sample: lock
    saved:
      description: With O(state=locked), whether the share's original is in the lock record.
      type: bool
      returned: when O(state=locked)
    changed:
      description: Whether this share changed.
      type: bool
record:
  description: Path of the zone's lock record on the cluster.
  returned: always
  type: str
  sample: /ifs/.onefs_dr/smb_lock/System.json
record_state:
  description:
    - V(written) (locked, originals saved), V(unchanged), V(removed) (every saved share restored),
      V(kept) (entries remain for shares outside the scope or that failed), V(absent) (nothing was saved).
  returned: always
  type: str
  sample: written
conflicts_retried:
  description: How many writes were answered with 409 C(AEC_CONFLICT) and retried.
  returned: always
  type: int
  sample: 0
'''

from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils import protocols

MAX_WORKERS = 32
MAX_CONFLICT_RETRIES = 50

ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["locked", "unlocked"], default="locked"),
    zone=dict(type="str", default=protocols.SYSTEM_ZONE),
    paths=dict(type="list", elements="str", default=[]),
    shares=dict(type="list", elements="str", default=[]),
    lock_dir=dict(type="str", default=protocols.DEFAULT_LOCK_DIR),
    max_workers=dict(type="int", default=4),
    conflict_retries=dict(type="int", default=protocols.DEFAULT_CONFLICT_RETRIES),
)


def input_error(params):
    """The first problem with the options, or None (checked before any request)."""
    if not 1 <= params["max_workers"] <= MAX_WORKERS:
        return "max_workers must be between 1 and %d, got %d" % (MAX_WORKERS, params["max_workers"])
    if not 0 <= params["conflict_retries"] <= MAX_CONFLICT_RETRIES:
        return "conflict_retries must be between 0 and %d, got %d" % (MAX_CONFLICT_RETRIES, params["conflict_retries"])
    if not (params["zone"] or "").strip() or "/" in params["zone"]:
        return "zone must be an access zone name, got %r" % params["zone"]
    lock_dir = protocols.norm_path(params["lock_dir"] or "")
    if not lock_dir.startswith("/ifs/") or ".." in lock_dir.split("/"):
        return "lock_dir must be a directory under /ifs, got %r" % params["lock_dir"]
    if any(not name.strip() for name in params["shares"]):
        return "shares must not hold empty names"
    return protocols.validate_roots(params["paths"], "paths")


def run_locked(module):
    params = module.params
    counter = protocols.ConflictCounter()
    client = module.client
    # A share named but absent must fail before the record or any share is written.
    if params["shares"]:
        present = {share["name"].lower() for share in protocols.list_objects(client, protocols.SMB, params["zone"])}
        unknown = [name for name in params["shares"] if name.lower() not in present]
        if unknown:
            module.fail_json(msg="shares: no SMB share named %s in zone %s" % (", ".join(unknown), params["zone"]))
    results, written, _missing, store = protocols.lock_shares(
        client, params["zone"], params["lock_dir"], roots=params["paths"], names=params["shares"],
        check_mode=module.check_mode, max_workers=params["max_workers"], retries=params["conflict_retries"],
        counter=counter)
    unsaved = [entry["name"] for entry in results if entry.get("action") == "none" and not entry.get("saved")]
    if unsaved:
        module.warn("share(s) %s already deny everyone but have no saved original in %s; unlock cannot "
                    "restore them" % (", ".join(unsaved), store.path))
    module.exit_results(results, record=store.path, record_state="written" if written else "unchanged",
                        conflicts_retried=counter.count)


def run_unlocked(module):
    params = module.params
    counter = protocols.ConflictCounter()
    results, record_state, store = protocols.unlock_shares(
        module.client, params["zone"], params["lock_dir"], roots=params["paths"], names=params["shares"],
        check_mode=module.check_mode, max_workers=params["max_workers"], retries=params["conflict_retries"],
        counter=counter)
    missing = [entry["name"] for entry in results if entry.get("action") == "missing"]
    if missing:
        module.warn("saved share(s) %s no longer exist in zone %s; their saved entries are dropped"
                    % (", ".join(missing), params["zone"]))
    module.exit_results(results, record=store.path, record_state=record_state, conflicts_retried=counter.count)


def run(module):
    if module.params["state"] == "locked":
        run_locked(module)
    else:
        run_unlocked(module)


def main():
    module = OnefsModule(argument_spec=ARGUMENT_SPEC)
    problem = input_error(module.params)
    if problem:
        module.fail_json(msg=problem)
    module.run(run)


if __name__ == "__main__":
    main()
