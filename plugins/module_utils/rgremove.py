# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Removal of a replication group (module ``rg_remove``), after seed 000's deletion rules.

A group is removed only when its directories are empty on both clusters (unless forced):
then a last sync, the source policy deleted (OneFS also drops the target's record), the
target record checked and removed if it stayed, and a list of what is left on either
cluster for a person to clean up (files of a forced removal, quotas, shares, exports,
aliases on the paths). Nothing on the file system is ever deleted here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from . import protocols, quota, synciq
from .errors import NotFoundError
from .parallel import run_each

SOURCE = "source"
TARGET = "target"


def directory_entries(client, path):
    """Names in a directory under /ifs ([] when it does not exist), through the namespace API."""
    raw = client.get_raw(path)
    if raw is None:
        return []
    try:
        listing = json.loads(raw.decode("utf-8"))
    except ValueError:
        return [path]          # a file, not a directory: it is content, not emptiness
    return [child.get("name") for child in listing.get("children") or [] if child.get("name")]


class GroupMember:
    """What one policy of the group looks like on both clusters before anything changes."""

    def __init__(self, name, policy, record, source_entries, target_entries):
        self.name = name
        self.policy = policy
        self.record = record
        self.source_entries = source_entries
        self.target_entries = target_entries

    @property
    def source_root(self):
        return (self.policy or {}).get("source_root_path")

    @property
    def target_path(self):
        return (self.record or {}).get("target_path") or (self.policy or {}).get("target_path")

    def gone(self):
        return self.policy is None and self.record is None


def read_member(source, target, name):
    """Read one policy, its target record and both directories (no write)."""
    policy = synciq.get_policy(source, name)
    record = synciq.get_target_record(target, name)
    member = GroupMember(name, policy, record, [], [])
    if member.source_root:
        member.source_entries = directory_entries(source, member.source_root)
    if member.target_path:
        member.target_entries = directory_entries(target, member.target_path)
    return member


def refusal(member, force):
    """Why ``member`` may not be removed (checked for the whole group before any write), or None."""
    if member.policy is None and member.record is not None:
        return ("policy %s does not exist on the source but the target still holds its record: it is failed "
                "over or half removed; remove the record with onefs.dr.local_target state=absent" % member.name)
    if member.policy is not None and member.record is not None \
            and member.record.get("failover_failback_state") != synciq.WRITES_DISABLED:
        return ("policy %s is not in its protected state (target record %s): fail it back first"
                % (member.name, member.record.get("failover_failback_state")))
    if force:
        return None
    full = []
    if member.source_entries:
        full.append("%s on the source (%d entries)" % (member.source_root, len(member.source_entries)))
    if member.target_entries:
        full.append("%s on the target (%d entries)" % (member.target_path, len(member.target_entries)))
    if full:
        return ("policy %s: %s not empty; empty the directories first, or set force: true (the files stay on "
                "disk, only the replication is removed)" % (member.name, " and ".join(full)))
    return None


def plan_member(member, final_sync):
    """The actions removing ``member``: ``[]`` when it is already gone."""
    if member.gone():
        return []
    actions = []
    if member.policy is not None:
        if final_sync and member.policy.get("enabled"):
            actions.append("final sync")
        actions.append("delete policy (and its target record)")
    if member.record is not None:
        actions.append("check the target record is gone")
    return actions


def leftovers_of(member, source, target, zone_names):
    """What stays on the clusters after the removal, for a person to decide about."""
    found = []
    for side, client, root, entries in ((SOURCE, source, member.source_root, member.source_entries),
                                        (TARGET, target, member.target_path, member.target_entries)):
        if not root:
            continue
        if entries:
            found.append("%s: %d entries under %s (forced removal: the files stay)" % (side, len(entries), root))
        for q in quota.list_quotas_under(client, root):
            label = quota.quota_name(q.get("path"), q.get("type"), q.get("persona"), q.get("include_snapshots"))
            found.append("%s: quota %s" % (side, label))
        for zone in zone_names:
            for kind in protocols.KINDS.values():
                for record in protocols.scoped(kind, _safe_list(client, kind, zone), [root]):
                    found.append("%s: %s %s in zone %s" % (side, kind.label, protocols.display_name(kind, record),
                                                           zone))
    return found


def _safe_list(client, kind, zone):
    try:
        return protocols.list_objects(client, kind, zone)
    except NotFoundError:          # the zone does not exist on that cluster
        return []


def remove_group(source, target, names, final_sync=True, force=False, zones=("System",), check_mode=False,
                 timeout=3600, poll_interval=5.0, max_running_jobs=50, max_workers=10):
    """Remove the replication group ``names``: ``(results, refusals)``; nothing is written on a refusal."""
    reads = run_each(names, lambda name: read_member(source, target, name), max_workers=max_workers)
    failed_reads = [(outcome.name, str(outcome.error)) for outcome in reads if not outcome.ok]
    if failed_reads:
        return [], failed_reads
    members = [outcome.value for outcome in reads]
    refusals = [(m.name, reason) for m, reason in ((m, refusal(m, force)) for m in members) if reason]
    if refusals:
        return [], refusals
    plans = dict((m.name, plan_member(m, final_sync)) for m in members)
    results = dict((m.name, {"name": m.name, "changed": bool(plans[m.name]), "actions": list(plans[m.name]),
                             "failed": False, "msg": None}) for m in members)
    if check_mode:
        for m in members:
            results[m.name]["leftovers"] = leftovers_of(m, source, target, zones) if plans[m.name] else []
        return [results[m.name] for m in members], []
    syncing = [m.policy for m in members if "final sync" in plans[m.name]]
    if syncing:
        group = synciq.GroupSync(source, syncing, point_in_time_name="last sync before removal",
                                 max_running_jobs=max_running_jobs, timeout=timeout, poll_interval=poll_interval,
                                 max_workers=max_workers)
        for outcome in group.run():
            if outcome["failed"]:
                results[outcome["name"]].update(failed=True, msg="last sync failed: %s" % outcome["msg"])
            else:
                results[outcome["name"]]["point_in_time"] = dict(
                    (k, outcome.get(k)) for k in ("job_id", "report_id", "state", "end_time"))
    doomed = [m for m in members if plans[m.name] and not results[m.name]["failed"]]

    def remove(member):
        _remove_member(source, target, member)
        return leftovers_of(member, source, target, zones)

    for outcome in run_each(doomed, remove, max_workers=max_workers, name_of=lambda m: m.name):
        if outcome.ok:
            results[outcome.name]["leftovers"] = outcome.value
        else:
            results[outcome.name].update(failed=True, msg=str(outcome.error))
    return [results[m.name] for m in members], []


def _remove_member(source, target, member):
    """Delete the source policy; then make sure the target record went with it."""
    if member.policy is not None:
        try:
            synciq.delete_policy(source, member.policy.get("id") or member.name)
        except NotFoundError:
            pass            # deleted by an earlier attempt whose answer was lost
    record = synciq.get_target_record(target, member.name)
    if record is not None:
        # OneFS keeps the record when the target could not be told (down at the time).
        synciq.delete_target_record(target, record.get("id") or member.name)
