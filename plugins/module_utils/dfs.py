# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DFS failover mode: which cluster serves the real name of each SMB share.

In DFS mode a DFS folder has two folder targets, ``\\\\source\\N`` and
``\\\\target\\N``.  Both clusters hold a share for ``N``, but only the active
one under the real name ``N``; the other holds it as ``<prefix>N`` (copied
there by ``config_sync name_prefix``), so only one folder target is reachable
and DFS clients go there (seed 003 step 6).  Failing over (or back) renames
the share on both clusters.

Order: every **deactivation** (``N -> <prefix>N`` on the cluster that must not
serve ``N``) runs before any **activation** (``<prefix>N -> N`` on the active
cluster), and a share whose deactivation failed is not activated.  While both
UNCs were reachable, DFS clients could be referred to either cluster and write
on both sides of the replication (split brain); the other order would open
that window for every share.  This order leaves a short window where neither
folder target answers, which DFS clients ride out by retrying the referral.

Everything is read and planned before the first write, and the run is refused
as a whole (nothing written) when a share cannot be made active: the active
cluster has neither ``N`` nor ``<prefix>N``, or a cluster has both.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.onefs.dr.plugins.module_utils.errors import NotFoundError, OnefsError
from ansible_collections.onefs.dr.plugins.module_utils.parallel import run_each
from ansible_collections.onefs.dr.plugins.module_utils.protocols import (
    DEFAULT_CONFLICT_RETRIES, SMB, get_object, has_prefix, in_roots, list_objects, write_with_conflict_retry)

SOURCE = "source"
TARGET = "target"
CLUSTERS = (SOURCE, TARGET)
DEFAULT_PREFIX = "dfs-standby-"


def other(cluster):
    return TARGET if cluster == SOURCE else SOURCE


def base_name(name, prefix):
    """``dfs-standby-ap`` -> ``ap``; a name without the prefix is returned as it is."""
    return name[len(prefix):] if has_prefix(name, prefix) else name


def names_of(shares):
    """``{folded name: name as the cluster spells it}`` (SMB share names are case-insensitive)."""
    return {share["name"].lower(): share["name"] for share in shares}


def scope_names(source_shares, prefix, roots=None, names=None):
    """The real share names to handle, in order, and the refusals of the scope itself.

    Without ``names``: every share of the original source's zone under
    ``roots``, standby names (``<prefix>N``) counted as ``N``, in name order.  Shares that
    exist only on the original target are not in this scope (name them).
    With ``names``: exactly those (they may exist on either cluster); a named
    share the source has outside ``roots`` is refused.
    """
    refusals = []
    if names:
        chosen, seen = [], set()
        for name in names:
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            chosen.append(name)
        if roots:
            for share in source_shares:
                base = base_name(share["name"], prefix)
                if base.lower() in seen and not in_roots(SMB, share, roots):
                    refusals.append({"name": base, "reason": "the source's share %s (path %s) is outside paths"
                                     % (share["name"], share.get("path"))})
        return chosen, refusals
    chosen, seen = [], set()
    for share in source_shares:
        if roots and not in_roots(SMB, share, roots):
            continue
        base = base_name(share["name"], prefix)
        if base.lower() not in seen:
            seen.add(base.lower())
            chosen.append(base)
    # Name order: a listing's order changes with the renames, the results' should not.
    return sorted(chosen, key=lambda name: (name.lower(), name)), refusals


def plan_share(name, names, active, prefix, zones):
    """The renames of one share: ``{name, deactivate, activate, before, after, refusals}``.

    ``names`` is ``{cluster: names_of(...)}``, ``zones`` ``{cluster: zone}``.
    ``deactivate`` / ``activate`` are ``(cluster, old name, new name)`` or
    None; ``before`` / ``after`` give the share's name on each cluster (None:
    the cluster has no share for it).
    """
    standby = (prefix + name).lower()
    real = name.lower()
    refusals = []
    before = {}
    for cluster in CLUSTERS:
        found = names[cluster]
        if real in found and standby in found:
            refusals.append("the %s has both %s and %s in zone %s: ambiguous, remove or rename one"
                            % (cluster, found[real], found[standby], zones[cluster]))
        before[cluster] = found.get(real) or found.get(standby)
    on_active = names[active]
    if real not in on_active and standby not in on_active:
        refusals.append("the %s (active) has neither %s nor %s%s in zone %s: run config_sync with name_prefix "
                        "first" % (active, name, prefix, name, zones[active]))
    inactive = other(active)
    deactivate = activate = None
    if real in names[inactive]:
        old = names[inactive][real]
        deactivate = (inactive, old, prefix + old)
    if standby in on_active and real not in on_active:
        old = on_active[standby]
        activate = (active, old, base_name(old, prefix))
    after = dict(before)
    for step in (deactivate, activate):
        if step:
            after[step[0]] = step[2]
    return {"name": name, "deactivate": deactivate, "activate": activate, "before": before, "after": after,
            "refusals": refusals}


def plan(source_shares, target_shares, active, prefix, zones, roots=None, names=None):
    """Plans of every share in scope and every refusal (``[{name, reason}]``), from the two listings."""
    chosen, refusals = scope_names(source_shares, prefix, roots, names)
    listed = {SOURCE: names_of(source_shares), TARGET: names_of(target_shares)}
    plans = [plan_share(name, listed, active, prefix, zones) for name in chosen]
    for entry in plans:
        refusals.extend({"name": entry["name"], "reason": reason} for reason in entry["refusals"])
    return plans, refusals


def describe(step):
    """``source: rename ap -> dfs-standby-ap``."""
    cluster, old, new = step
    return "%s: rename %s -> %s" % (cluster, old, new)


def rename_share(client, zone, old, new, retries=DEFAULT_CONFLICT_RETRIES, counter=None):
    """Rename one SMB share (PUT ``{"name": new}``), 409 ``AEC_CONFLICT`` retried.

    A rename is not idempotent: re-sent after its answer was lost it meets a
    404 (the old name is gone).  So a 404, and every conflict before it is
    retried, is checked against the cluster: the new name there and the old
    one gone means the rename took effect.
    """
    def took_effect():
        if get_object(client, SMB, {"name": old}, zone) is None and \
                get_object(client, SMB, {"name": new}, zone) is not None:
            return True
        return None

    def call():
        try:
            client.put(SMB.item_path({"name": old}), {"name": new}, query={"zone": zone}, obj=old)
        except NotFoundError:
            if took_effect():
                return True
            raise
        return True

    return write_with_conflict_retry(call, retries, counter, before_retry=took_effect)


def _header(entry, zones):
    return "SMB share %s: names (source zone %s, target zone %s)" % (entry["name"], zones[SOURCE], zones[TARGET])


def _result(entry, zones, actions, after):
    """The result of one share: renames done (or planned), names before and after, diff when changed."""
    result = {"name": entry["name"], "changed": bool(actions), "actions": list(actions),
              "before": dict(entry["before"]), "after": dict(after)}
    if actions:
        header = _header(entry, zones)
        result["diff"] = {"before": dict(entry["before"]), "after": dict(after),
                          "before_header": header, "after_header": header}
    return result


def _planned(entry):
    return [step for step in (entry["deactivate"], entry["activate"]) if step]


def _reached(entry, steps):
    """Names on each cluster after ``steps`` (the renames that happened)."""
    after = dict(entry["before"])
    for cluster, _old, new in steps:
        after[cluster] = new
    return after


def _run_phase(plans, key, clients, zones, max_workers, retries, counter):
    """Run one kind of rename (``deactivate`` or ``activate``) for ``plans``; ``{name: ItemResult}``."""
    def rename(entry):
        cluster, old, new = entry[key]
        rename_share(clients[cluster], zones[cluster], old, new, retries, counter)
        return entry[key]

    outcomes = run_each(plans, rename, max_workers=max_workers, name_of=lambda entry: entry["name"])
    return dict((entry["name"], outcome) for entry, outcome in zip(plans, outcomes))


def apply(plans, clients, zones, check_mode=False, max_workers=4, retries=DEFAULT_CONFLICT_RETRIES,
          counter=None):
    """Carry out the plans: all deactivations first, then the activations; one result per share.

    ``clients`` and ``zones`` are keyed ``source`` / ``target``.  A share whose
    deactivation failed is not activated (it stays served by neither cluster
    rather than by both).  In check mode nothing is written and ``actions``
    says what would be done.
    """
    if check_mode:
        return [_result(entry, zones, [describe(step) for step in _planned(entry)], entry["after"])
                for entry in plans]
    done = dict((entry["name"], []) for entry in plans)
    failures = {}

    deactivations = [entry for entry in plans if entry["deactivate"]]
    for name, outcome in _run_phase(deactivations, "deactivate", clients, zones, max_workers, retries,
                                    counter).items():
        if outcome.ok:
            done[name].append(outcome.value)
        else:
            failures[name] = ("deactivate", outcome)

    activations = [entry for entry in plans if entry["activate"] and entry["name"] not in failures]
    for name, outcome in _run_phase(activations, "activate", clients, zones, max_workers, retries,
                                    counter).items():
        if outcome.ok:
            done[name].append(outcome.value)
        else:
            failures[name] = ("activate", outcome)

    results = []
    for entry in plans:
        steps = done[entry["name"]]
        result = _result(entry, zones, [describe(step) for step in steps], _reached(entry, steps))
        if entry["name"] in failures:
            key, outcome = failures[entry["name"]]
            msg = "%s failed: %s" % (describe(entry[key]), outcome.error)
            if key == "deactivate" and entry["activate"]:
                msg += "; %s not renamed on the %s, so that the share is never served by both clusters" % (
                    entry["activate"][1], entry["activate"][0])
            result.update(failed=True, msg=msg)
            if isinstance(outcome.error, OnefsError):
                result["error"] = outcome.error.to_dict()
            else:
                result["exception"] = outcome.trace
        results.append(result)
    return results


def rename_shares(source_client, target_client, active, zone, target_zone=None, prefix=DEFAULT_PREFIX,
                  roots=None, names=None, check_mode=False, max_workers=4, retries=DEFAULT_CONFLICT_RETRIES,
                  counter=None):
    """Read both clusters, plan, and (unless refused) rename; returns ``(results, refusals)``.

    With refusals nothing has been written and ``results`` is empty.
    """
    zones = {SOURCE: zone, TARGET: target_zone or zone}
    clients = {SOURCE: source_client, TARGET: target_client}
    source_shares = list_objects(source_client, SMB, zones[SOURCE])
    target_shares = list_objects(target_client, SMB, zones[TARGET])
    plans, refusals = plan(source_shares, target_shares, active, prefix, zones, roots, names)
    if refusals:
        return [], refusals
    return apply(plans, clients, zones, check_mode, max_workers, retries, counter), []
