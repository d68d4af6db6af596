#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dr_readiness
short_description: Readiness checks of a planned SyncIQ failover over both clusters, with a failover time estimate
version_added: 0.1.0
description:
  - Reads the original source (O(onefs_host)) and the original target (O(peer)) once, the same way
    M(onefs.dr.dr_info) does (one login and one GET per area and cluster), plus the recent sync reports of the
    source and the recent target reports of the target, and returns named checks, each
    C({check, object, result, reason}) with C(result) one of V(ok), V(warning), V(error).
  - "Checks: C(cluster_reachable), C(cluster_privileges), C(onefs_version); per policy C(policy_exists),
    C(policy_enabled), C(policy_not_conflicted), C(last_job_succeeded), C(rpo), C(no_blocking_job),
    C(target_record) (must be C(writes_disabled)), C(no_stale_mirror); C(smartconnect_pool) and
    C(smartconnect_name) (each name of the mapped source pools claimed by exactly one pool of both clusters);
    C(spn_source) and C(spn_collision); C(quota_conflict); C(smb_share) and C(nfs_export)."
  - Without O(canary) the module never writes; a read-only account (OneFS role C(AuditAdmin) or any role with
    read privileges) is enough.
  - Also estimates the final-sync time of the group and of the whole failover (RV(estimate)).
  - Optionally writes the results as JSON and JUnit XML files into O(report_dir) on the host running the module
    (the controller in the collection's playbooks, which run on C(localhost)).
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.PEER
  - onefs.dr.connection.ATTRIBUTES
attributes:
  check_mode:
    description: Read-only without O(canary); the canary is skipped in check mode.
    support: full
  diff_mode:
    description: Nothing to show.
    support: none
options:
  policies:
    description: Names of the policies of the scope. Mutually exclusive with O(zone).
    type: list
    elements: str
  zone:
    description:
      - Access zone; the scope is every policy under the zone's base path. SMB shares and NFS exports are read in
        this zone (V(System) without it), pools are narrowed to it.
    type: str
  rpo:
    description: Seconds; a policy whose last successful sync started longer ago is an error.
    type: int
    default: 86400
  pools:
    description:
      - The SmartConnect pool mapping of the failover (C(onefs_dr_pools)), C([{source, target}]) pool ids
        C(groupnet.subnet.pool). Its names and their SPNs are checked.
    type: list
    elements: dict
    default: []
  spn_provider:
    description: AD provider whose machine accounts hold the SPNs (the first provider when not given).
    type: str
  config_sync:
    description: Whether the failover syncs shares and exports; a share missing on the target is then a warning.
    type: bool
    default: false
  block_on_warning:
    description: Whether warnings block (RV(blocked), and the task fails with O(fail_on_block)).
    type: bool
    default: false
  fail_on_block:
    description: Fail the task when RV(blocked) is true.
    type: bool
    default: false
  history:
    description: How many recent reports per policy the estimate reads (1 to 20).
    type: int
    default: 5
  max_running_jobs:
    description: SyncIQ's limit of concurrent jobs (the width of a wave in the estimate).
    type: int
    default: 50
  step_overhead_s:
    description: Seconds assumed for each failover step without history (and for allow_write without reports).
    type: float
    default: 10
  default_sync_s:
    description: Seconds assumed for the final sync of a policy without any sync report.
    type: float
    default: 300
  report_dir:
    description: Directory (created when missing) for C(readiness.json) and C(readiness-junit.xml).
    type: path
  canary:
    description:
      - Write a small file under each policy's source root path, sync the policies (the group sync of
        M(onefs.dr.rg_sync)), read the file on the target through the namespace API, then delete it on the source
        and sync again so the target holds no trace of it. Writes; needs write privileges. Off by default.
    type: bool
    default: false
  canary_timeout:
    description: Seconds to wait for each canary sync.
    type: int
    default: 600
  poll_interval:
    description: Seconds between polls of the canary sync.
    type: float
    default: 5
  max_workers:
    description: Reads at the same time (1 to 32).
    type: int
    default: 10
'''

EXAMPLES = r'''
- name: Readiness of zone finance, blocking on warnings
  onefs.dr.dr_readiness:
    zone: finance
    peer: "{{ onefs_dr_target }}"
    rpo: 3600
    pools: [{source: groupnet0.subnet0.finance, target: groupnet0.subnet0.finance}]
    block_on_warning: true
    fail_on_block: true
    report_dir: /tmp/readiness
  module_defaults:
    group/onefs.dr.onefs: "{{ onefs_dr_source }}"
'''

RETURN = r'''
results:
  description: One entry per check and object, C({check, object, result, reason}).
  returned: always
  type: list
  elements: dict
counts:
  description: C({ok, warning, error}).
  returned: always
  type: dict
blocked:
  description: True when an error, or a warning with O(block_on_warning), was found.
  returned: always
  type: bool
lines:
  description: A readable summary, one line per non-ok result, then the counts and the estimate.
  returned: always
  type: list
  elements: str
estimate:
  description:
    - C(final_sync_s) and C(final_sync_worst_s) (waves of O(max_running_jobs)), C(allow_write_s), C(other_steps_s),
      C(failover_s), C(failover_worst_s), C(waves), per-policy C(policies), C(basis), and what is C(included) and
      C(excluded).
  returned: always
  type: dict
policies:
  description: The scope's policy names.
  returned: always
  type: list
  elements: str
canary:
  description: Per policy C({name, path, arrived, removed, error}) when O(canary) ran.
  returned: when O(canary)
  type: list
  elements: dict
files:
  description: Paths of the JSON and JUnit files written.
  returned: when O(report_dir)
  type: dict
'''

import os
import time

from ansible_collections.onefs.dr.plugins.module_utils import drstate, estimate, readiness, synciq
from ansible_collections.onefs.dr.plugins.module_utils.errors import OnefsError
from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils.parallel import run_each

GATHER = ("cluster", "policies", "target_policies", "jobs", "pools", "spns", "quotas", "shares", "exports")
CANARY_NAME = ".onefs_dr_canary"

ARGUMENT_SPEC = dict(
    policies=dict(type="list", elements="str"),
    zone=dict(type="str"),
    rpo=dict(type="int", default=86400),
    pools=dict(type="list", elements="dict", default=[]),
    spn_provider=dict(type="str"),
    config_sync=dict(type="bool", default=False),
    block_on_warning=dict(type="bool", default=False),
    fail_on_block=dict(type="bool", default=False),
    history=dict(type="int", default=5),
    max_running_jobs=dict(type="int", default=50),
    step_overhead_s=dict(type="float", default=10.0),
    default_sync_s=dict(type="float", default=300.0),
    report_dir=dict(type="path"),
    canary=dict(type="bool", default=False),
    canary_timeout=dict(type="int", default=600),
    poll_interval=dict(type="float", default=5.0),
    max_workers=dict(type="int", default=10),
)


def input_error(params):
    if params["policies"] is not None and not [p for p in params["policies"] if (p or "").strip()]:
        return "policies must name at least one policy (or give zone)"
    if params["rpo"] <= 0:
        return "rpo must be a positive number of seconds"
    if not 1 <= params["history"] <= 20:
        return "history must be between 1 and 20"
    if not 1 <= params["max_workers"] <= 32:
        return "max_workers must be between 1 and 32"
    for pair in params["pools"]:
        if not pair.get("source") or not pair.get("target"):
            return "every entry of pools needs source and target pool ids, got %r" % (pair,)
    return None


def read_history(onefs, names, per_policy, max_workers):
    """``({policy: source reports}, {policy: target reports})``, one paged GET per cluster."""
    tasks = [("source", onefs.client, False), ("target", onefs.peer_client, True)]

    def read(task):
        return synciq.reports_by_policy(task[1], target=task[2], per_policy=per_policy, names=names)

    found = {}
    for task, outcome in zip(tasks, run_each(tasks, read, max_workers=max_workers, name_of=lambda t: t[0])):
        found[task[0]] = outcome.value if outcome.ok else {}
    return dict((n, found["source"].get(n) or []) for n in names), found["target"]


def run_canary(onefs, info, params):
    """Write, sync, confirm on the target, delete, sync again: ``[{name, path, arrived, removed, error}]``."""
    entries = [p for p in info.get("policies") or [] if (p.get("source") or {}).get("exists")]
    stamp = "%s.%d" % (CANARY_NAME, int(time.time()))
    outcome = []
    for entry in entries:
        src = entry["source"]
        outcome.append({"name": entry["name"], "path": src["source_root_path"].rstrip("/") + "/" + stamp,
                        "target_path": (src.get("target_path") or "").rstrip("/") + "/" + stamp,
                        "arrived": False, "removed": False, "error": None})
    for item in outcome:
        onefs.client.put_raw(item["path"], "onefs.dr readiness canary %s\n" % stamp)
    _sync(onefs, [e["name"] for e in entries], params)
    for item in outcome:
        item["arrived"] = onefs.peer_client.get_raw(item["target_path"]) is not None
        item["removed"] = onefs.client.delete_raw(item["path"])
    # A second sync removes the canary from the target too: the clusters end as they were.
    _sync(onefs, [e["name"] for e in entries], params)
    return outcome


def _sync(onefs, names, params):
    records = [synciq.get_policy(onefs.client, name) for name in names]
    group = synciq.GroupSync(onefs.client, [r for r in records if r], max_running_jobs=params["max_running_jobs"],
                             timeout=params["canary_timeout"], poll_interval=params["poll_interval"])
    for entry in group.run():
        if entry.get("failed"):
            raise OnefsError("canary sync of %s failed: %s" % (entry["name"], entry.get("msg")))


def canary_results(outcome):
    found = []
    for item in outcome:
        if item["arrived"]:
            found.append(readiness.result("canary", item["name"], readiness.OK,
                                          "canary file reached the target at %s" % item["target_path"]))
        else:
            found.append(readiness.result("canary", item["name"], readiness.ERROR,
                                          "canary file written on the source did not reach %s after a sync"
                                          % item["target_path"]))
    return found


def write_files(report_dir, results, estimate_doc, extra):
    if not os.path.isdir(report_dir):
        os.makedirs(report_dir)
    files = {"json": os.path.join(report_dir, "readiness.json"),
             "junit": os.path.join(report_dir, "readiness-junit.xml")}
    with open(files["json"], "w") as handle:
        handle.write(readiness.to_json(results, estimate_doc, **extra))
    with open(files["junit"], "w") as handle:
        handle.write(readiness.to_junit(results))
    return files


def run(onefs):
    params = onefs.params
    clients = {drstate.LOCAL: onefs.client, drstate.PEER: onefs.peer_client}
    clusters = drstate.read_clusters(clients, list(GATHER), zone=params["zone"], max_workers=params["max_workers"])
    names = drstate.select_names(clusters, names=params["policies"], zone=params["zone"])
    info = drstate.describe(clusters, names, list(GATHER), original_source="cluster")
    read_errors = drstate.read_errors(clusters)
    results = readiness.run_checks(info, params["rpo"], pool_map=params["pools"],
                                   provider_name=params["spn_provider"], config_sync=params["config_sync"],
                                   read_errors=read_errors)
    history, target_history = ({}, {})
    if (clusters.get(drstate.PEER) or {}).get("visible"):
        history, target_history = read_history(onefs, names, params["history"], params["max_workers"])
    estimate_doc = estimate.estimate(history or dict((n, []) for n in names), target_history,
                                     max_running_jobs=params["max_running_jobs"],
                                     step_overhead_s=params["step_overhead_s"],
                                     default_sync_s=params["default_sync_s"])
    extra = {}
    if params["canary"] and not onefs.check_mode and not readiness.blocking(results):
        extra["canary"] = run_canary(onefs, info, params)
        results += canary_results(extra["canary"])
    blocked = bool(readiness.blocking(results, params["block_on_warning"]))
    outcome = dict(results=results, counts=readiness.counts(results), blocked=blocked, policies=names,
                   estimate=estimate_doc, lines=readiness.summary_lines(results, estimate_doc),
                   changed=bool(extra.get("canary")), **extra)
    if params["report_dir"]:
        outcome["files"] = write_files(params["report_dir"], results, estimate_doc,
                                       {"policies": names, "blocked": blocked, "generated": time.time(),
                                        "block_on_warning": params["block_on_warning"]})
    if blocked and params["fail_on_block"]:
        onefs.fail_json(msg="not ready for a failover: " + " | ".join(outcome["lines"][:-2] or outcome["lines"]),
                        **outcome)
    onefs.exit_json(**outcome)


def main():
    onefs = OnefsModule(argument_spec=ARGUMENT_SPEC, peer=True, mutually_exclusive=[("policies", "zone")])
    error = input_error(onefs.params)
    if error:
        onefs.fail_json(msg=error)
    onefs.run(run)


if __name__ == "__main__":
    main()
