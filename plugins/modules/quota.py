#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: quota
short_description: Manage OneFS SmartQuotas by path, type and persona without ever creating a duplicate
version_added: 0.1.0
description:
  - Creates, modifies in place and deletes SmartQuotas. A quota is identified by its path, type, persona and
    O(quotas[].include_snapshots); the module looks it up with a filtered GET before creating, so it never
    creates a second quota for the same key, and a second run changes nothing.
  - Thresholds are exact byte counts; human units are accepted. Binary units are powers of 1024
    (V(KiB), V(MiB), V(GiB), V(TiB), V(PiB)); decimal units are powers of 1000 (V(kB), V(MB), V(GB), V(TB),
    V(PB)); V(B) or no unit means bytes. Units are case-insensitive; one-letter units such as V(10G) are
    refused as ambiguous.
  - O(purge_under) deletes the quotas on or under a path that the list does not name. PowerScale best practice
    is to have no quotas on SyncIQ target directories; a failover creates them on the new source and then
    purges them from the old one.
  - Quotas are handled in parallel (at most O(max_workers) at once); one result per quota is returned, and a
    failing quota does not hide the results of the others.
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.ATTRIBUTES
options:
  quotas:
    description:
      - The quotas. Options left out of an entry (or null) are left as they are on an existing quota.
      - Each (path, type, persona, include_snapshots) may appear only once.
      - The quota entries returned by M(onefs.dr.dr_info) can be passed as they are.
      - An empty list without O(purge_under) is nothing to do (no request is sent).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path under C(/ifs).
        type: str
        required: true
      type:
        description: Quota type.
        type: str
        choices: [directory, user, group, default-directory, default-user, default-group]
        default: directory
      persona:
        description:
          - User or group of a V(user) or V(group) quota (required for those, refused for the others).
          - V(UID:1000), V(GID:0), V(SID:S-1-5-21-...), V(USER:alice) or V(GROUP:wheel).
        type: str
      include_snapshots:
        description: Whether snapshot data counts against the quota.
        type: bool
        default: false
      hard:
        description: Hard threshold (writes fail above it), in bytes or with a unit (V(10GiB), V(1TB)). V(none) unsets it.
        type: raw
      soft:
        description: Soft threshold, enforced after O(quotas[].soft_grace). Needs O(quotas[].soft_grace). V(none) unsets it.
        type: raw
      advisory:
        description: Advisory threshold (notification only). V(none) unsets it.
        type: raw
      soft_grace:
        description: Grace period of the soft threshold, in seconds or with a unit (V(7d), V(12h), V(1w)).
        type: raw
      enforced:
        description: V(false) makes the quota accounting-only. When not given, the cluster's default applies on create.
        type: bool
      container:
        description: Whether SMB clients see the hard threshold as the share size.
        type: bool
      thresholds_on:
        description: What the thresholds are compared with.
        type: str
        choices: [applogicalsize, fslogicalsize, physicalsize]
      description:
        description: Description of the quota.
        type: str
      state:
        description: V(present) creates or modifies the quota, V(absent) deletes it.
        type: str
        choices: [present, absent]
        default: present
      id:
        description:
          - Ignored. Accepted so that the quota list returned by M(onefs.dr.dr_info) (which carries the other
            cluster's quota ids) can be passed back as it is; quotas are always found by their key.
        type: str
  purge_under:
    description:
      - Delete every quota whose path is this path or below it and that O(quotas) does not list.
      - Runs after the listed quotas are in place, and is skipped when one of them failed.
    type: str
  max_workers:
    description: Number of quotas handled at the same time.
    type: int
    default: 10
notes:
  - A new quota domain on a SyncIQ source makes the next sync wait for QuotaScan; create quotas on the source
    of a replication before its sync, or expect M(onefs.dr.rg_sync) to retry.
seealso:
  - module: onefs.dr.dr_info
'''

EXAMPLES = r'''
- name: Quotas of an application share
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
    - name: Directory quota with hard and soft thresholds, and a user quota
      onefs.dr.quota:
        quotas:
          - path: /ifs/data/zone1/app1
            hard: 10GiB
            soft: 8GiB
            soft_grace: 7d
            advisory: 6GiB
            description: app1 data
          - path: /ifs/data/zone1/app1
            type: user
            persona: UID:1000
            hard: 1TB

    - name: Raise the hard threshold in place (the existing quota is modified, never duplicated)
      onefs.dr.quota:
        quotas:
          - path: /ifs/data/zone1/app1
            hard: 20GiB

    - name: Remove every quota under a SyncIQ target directory
      onefs.dr.quota:
        purge_under: /ifs/data/zone1/app1
'''

RETURN = r'''
results:
  description: One entry per listed quota in the order given, then one per quota deleted by O(purge_under).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Path, type and persona of the quota.
      type: str
      sample: /ifs/data/zone1/app1 (directory)
    id:
      description: OneFS id of the quota (null when it does not exist, or is only planned in check mode).
      type: str
    changed:
      description: Whether the quota was (or in check mode would be) created, modified or deleted.
      type: bool
    actions:
      description: What was done, or would be done in check mode.
      type: list
      elements: str
      sample: ["set hard 10737418240 -> 21474836480"]
    before:
      description: The quota before (null when it did not exist).
      type: dict
    after:
      description: The quota after (null when deleted).
      type: dict
    purged:
      description: Present and true for a quota deleted by O(purge_under).
      type: bool
    failed:
      description: Present and true when this quota failed; C(msg) says why.
      type: bool
purge_skipped:
  description: Why O(purge_under) was not applied (a listed quota failed).
  returned: when O(purge_under) was skipped
  type: str
'''

from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils.parallel import run_each
from ansible_collections.onefs.dr.plugins.module_utils.quota import (
    QUOTA_TYPES, THRESHOLDS_ON, QuotaInputError, check_duplicates, ensure_quota, list_quotas_under,
    normalize_path, normalize_spec, plan_purge, purge_quota)

QUOTA_OPTIONS = dict(
    path=dict(type="str", required=True),
    type=dict(type="str", choices=list(QUOTA_TYPES), default="directory"),
    persona=dict(type="str"),
    include_snapshots=dict(type="bool", default=False),
    hard=dict(type="raw"),
    soft=dict(type="raw"),
    advisory=dict(type="raw"),
    soft_grace=dict(type="raw"),
    enforced=dict(type="bool"),
    container=dict(type="bool"),
    thresholds_on=dict(type="str", choices=list(THRESHOLDS_ON)),
    description=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    id=dict(type="str"),
)

ARGUMENT_SPEC = dict(
    quotas=dict(type="list", elements="dict", options=QUOTA_OPTIONS, default=[]),
    purge_under=dict(type="str"),
    max_workers=dict(type="int", default=10),
)


def read_specs(params):
    """Normalized quota specs; raises QuotaInputError naming the option."""
    if params["max_workers"] < 1:
        raise QuotaInputError("max_workers", "must be at least 1")
    root = params["purge_under"]
    if root is not None and not normalize_path(root).startswith("/ifs/"):
        raise QuotaInputError("purge_under", "%r must be a path below /ifs (purging all of /ifs is refused)" % root)
    specs = [normalize_spec(entry, index) for index, entry in enumerate(params["quotas"])]
    check_duplicates(specs)
    return specs


def _with_diff(result):
    if result.get("changed"):
        result["diff"] = {"before": result["before"] or {}, "after": result["after"] or {},
                          "before_header": "%s (before)" % result["name"],
                          "after_header": "%s (after)" % result["name"]}
    return result


def apply_quotas(client, specs, params, check_mode):
    """The listed quotas, then (if every one succeeded) the purge: ``(outcomes, extra result keys)``."""
    workers = params["max_workers"]
    outcomes = run_each(specs, lambda spec: _with_diff(ensure_quota(client, spec, check_mode)),
                        max_workers=workers, name_of=lambda spec: spec["name"])
    root = params["purge_under"]
    if not root:
        return outcomes, {}
    if not all(outcome.ok for outcome in outcomes):
        # never remove quotas while the ones meant to replace them are not all in place
        return outcomes, {"purge_skipped": "purge_under skipped: a listed quota failed"}
    doomed = plan_purge(list_quotas_under(client, root), specs, root)
    outcomes += run_each(doomed, lambda q: _with_diff(dict(purge_quota(client, q, check_mode), purged=True)),
                         max_workers=workers, name_of=lambda q: q.get("id"))
    return outcomes, {}


def main():
    onefs = OnefsModule(argument_spec=ARGUMENT_SPEC)
    params = onefs.params
    try:
        specs = read_specs(params)
    except QuotaInputError as err:
        onefs.fail_json(msg=str(err))
    if not specs and not params["purge_under"]:
        # an empty list (e.g. no quotas found on the other cluster) is nothing to do, not an error
        onefs.exit_json(changed=False, results=[])

    def run(_onefs):
        # one login, shared by the worker threads
        outcomes, extra = apply_quotas(onefs.client, specs, params, onefs.check_mode)
        onefs.exit_results(outcomes, **extra)

    onefs.run(run)


if __name__ == "__main__":
    main()
