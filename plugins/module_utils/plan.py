# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ordered action plan of a DR operation, computed from live state (``dr_plan``).

Input: what :func:`drstate.read_clusters` read from both clusters, the per
policy view of :func:`drstate.policy_result` (the same classification
``dr_info`` returns), and optionally the pair's journal (cached schedules,
open and last runs).  Output: ``actions`` - one entry per step and object,
``{step, order, cluster, kind, object, action, destructive, done}`` - in
the documented order (DESIGN.md §6.2, seed 000, reference §12), the
printable ``lines``, and ``refusals``.

A step already done shows as ``skip (already done)`` with ``done: true``,
so a plan computed after a crash shows where the re-run starts.  Pure
functions: no I/O here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from . import drstate
from .ads import spns_from_smartconnect, spn_key
from .network import DEFAULT_PARK_PREFIX, normalize_name, park_name, pool_summary, unpark_name
from .quota import is_under, quota_view
from .synciq import schedule_equal, schedule_to_user

SOURCE = "source"
TARGET = "target"
SKIP = "skip (already done)"

WRITES_ENABLED = drstate.WRITES_ENABLED
WRITES_DISABLED = drstate.WRITES_DISABLED
RESYNC_CREATED = drstate.RESYNC_POLICY_CREATED

# Policy states each operation starts from (anything else is refused, with dr_info's reasons).
FAILOVER_FROM = (drstate.PROTECTED, drstate.SYNCING, drstate.SYNC_FAILED, drstate.DISABLED, drstate.CONFLICTED,
                 drstate.FAILING_OVER, drstate.FAILED_OVER)
FAILED_OVER_STATES = (drstate.FAILED_OVER, drstate.FAILED_OVER_UNPLANNED)
REFUSAL_HINTS = {
    drstate.UNSYNCED: "it never completed a sync: the target holds nothing to fail over to",
    drstate.SPLIT_BRAIN: "both sides take writes or replicate: sort this out by hand first",
    drstate.REPROTECTED: "it is reprotected: the original target is its source now",
    drstate.FAILED_OVER_UNPLANNED: "the target is writable while the source policy is still enabled: fence it "
                                   "(operation fence) first",
    drstate.UNKNOWN: "its state is unknown",
    drstate.FAILBACK_IN_PROGRESS: "a failback is under way: finish it (failback_discard_source)",
    drstate.RESYNC_PREPPED: "it was resync-prepped (a failback keeping the target data is under way)",
    drstate.FAILING_BACK: "allow_write_revert is running (a failback discarding the target data)",
}
NOT_FAILED_OVER = "it is not failed over (its target record is not writable)"
for _state in (drstate.PROTECTED, drstate.SYNCING, drstate.SYNC_FAILED, drstate.DISABLED):
    REFUSAL_HINTS[_state] = NOT_FAILED_OVER


class Plan:
    """Accumulates the actions, refusals and notes of one operation."""

    def __init__(self, operation):
        self.operation = operation
        self.actions = []
        self.refusals = []
        self.notes = []

    def add(self, order, step, cluster, kind, obj, action, destructive=False):
        """One action; ``action`` None means the step is already done for that object."""
        self.actions.append({"step": step, "order": order, "cluster": cluster, "kind": kind, "object": obj,
                             "action": action or SKIP, "destructive": bool(destructive and action),
                             "done": action is None})

    def refuse(self, obj, reason):
        self.refusals.append({"object": obj, "reason": reason})

    def lines(self):
        """``12. allow writes on target (target): p1, p2 (p3 already done)`` per step, in order."""
        steps = []
        for entry in self.actions:
            key = (entry["order"], entry["step"], entry["cluster"])
            if key not in steps:
                steps.append(key)
        out = []
        for order, step, cluster in steps:
            entries = [e for e in self.actions if (e["order"], e["step"], e["cluster"]) == (order, step, cluster)]
            todo = [e for e in entries if not e["done"]]
            done = [e["object"] for e in entries if e["done"]]
            text = "%d. %s (%s): " % (order, step, cluster)
            if todo:
                text += ", ".join(_todo_text(e) for e in todo)
                if done:
                    text += " (%s already done)" % ", ".join(done)
            else:
                text += "nothing to do (%s already done)" % ", ".join(done)
            if any(e["destructive"] for e in todo):
                text += "  [DESTRUCTIVE]"
            out.append(text)
        for refusal in self.refusals:
            out.append("REFUSED %s: %s" % (refusal["object"], refusal["reason"]))
        return out


def _todo_text(entry):
    generic = entry["action"] in (entry["step"],)
    return entry["object"] if generic else "%s: %s" % (entry["object"], entry["action"])


# --------------------------------------------------------------------------- inputs
class Facts:
    """What a plan looks at: policy views, pools, SPNs and quotas of both sides, the journal."""

    def __init__(self, clusters, policies, source_label, target_label, journal=None, pools=None,
                 spn_provider=None, park_prefix=DEFAULT_PARK_PREFIX):
        self.clusters = clusters
        self.policies = policies
        self.labels = {SOURCE: source_label, TARGET: target_label}
        self.journal = journal or {}
        self.pools = pools or []
        self.spn_provider = spn_provider
        self.park_prefix = park_prefix or DEFAULT_PARK_PREFIX

    def data(self, side):
        return self.clusters.get(self.labels[side]) or {}

    def visible(self, side):
        return bool(self.data(side).get("visible"))

    def cached(self, name):
        return (self.journal.get("schedules") or {}).get(name)

    def evidence(self, operation, name):
        """The journal shows ``operation`` under way (open run) or done (last ok run) for ``name``."""
        if operation in (self.journal.get("open_runs") or {}):
            return "open"
        last = (self.journal.get("last_runs") or {}).get(operation)
        if last and (not last.get("policies") or name in last["policies"]):
            return "done"
        return None


def record_state(p):
    return p["target"].get("record_state")


def mirror_record(p):
    return p["mirror"].get("record_state")


def source_enabled(p):
    return bool(p["source"].get("enabled"))


def source_manual(p):
    return schedule_to_user(p["source"].get("schedule")) == "manual"


def target_writable(p):
    return record_state(p) in (WRITES_ENABLED, RESYNC_CREATED)


def target_writes_enabled(p):
    return record_state(p) == WRITES_ENABLED


def target_reverted(p):
    return record_state(p) == WRITES_DISABLED


def reverse_policy(p):
    """The policy P the original target owns after a reprotect (None before)."""
    return p["target"].get("reverse_policy")


def refusal_reason(p, wanted):
    hint = REFUSAL_HINTS.get(p["state"], "it is %s" % p["state"])
    reasons = "; ".join(p.get("reasons") or [])
    text = "policy %s is %s, %s: %s" % (p["name"], p["state"], wanted, hint)
    return text + (" (%s)" % reasons if reasons else "")


# --------------------------------------------------------------------------- network and identity
def _pool(facts, side, pool_id):
    for pool in facts.data(side).get("pools") or []:
        if pool.get("id") == pool_id:
            return pool_summary(pool)
    return None


def _names(summary, prefix):
    return [unpark_name(name, prefix) for name in (summary or {}).get("names") or [] if name]


def moving_names(facts, mapping):
    """The SmartConnect names that move with a pool mapping.

    The source pool's names (parked or not) when the source can be read; else the names the
    mapping lists (what an unplanned failover needs, the source being down); else the target's.
    """
    prefix = facts.park_prefix
    names = _names(_pool(facts, SOURCE, mapping[SOURCE]), prefix) if facts.visible(SOURCE) else []
    if not names:
        names = [n for n in mapping.get("names") or [] if n]
    if not names and facts.visible(TARGET):
        names = _names(_pool(facts, TARGET, mapping[TARGET]), prefix)
    return names


def _answering(summary, names):
    """The ``names`` that the pool still answers for (unparked)."""
    held = set(normalize_name(n) for n in (summary or {}).get("names") or [])
    return [n for n in names if normalize_name(n) in held]


def zone_pool_mappings(source_pools, target_pools, zone):
    """``(mappings, problems)``: each pool of access zone ``zone`` on the source, paired with the target's pool
    of that zone with the same name (or its only pool in that zone) - the pools an access-zone failover moves."""
    mappings, problems = [], []
    candidates = [p for p in target_pools or [] if p.get("access_zone") == zone]
    for pool in source_pools or []:
        if pool.get("access_zone") != zone or not pool_summary(pool)["names"]:
            continue
        same = [p for p in candidates if p.get("name") == pool.get("name")]
        match = same or (candidates if len(candidates) == 1 else [])
        if match:
            mappings.append({"source": pool["id"], "target": match[0]["id"]})
        else:
            problems.append("pool %s of zone %s: no pool of the same name (nor a single pool) in that zone on the "
                            "target; map it in pools" % (pool["id"], zone))
    return mappings, problems


def park_step(plan, facts, order, side):
    """Park (prefix) the moving SmartConnect names of the mapped pools on ``side``."""
    for mapping in facts.pools:
        pool_id = mapping[side]
        summary = _pool(facts, side, pool_id)
        if not facts.visible(side):
            plan.add(order, "park SmartConnect names on the %s" % side, side, "pool", pool_id,
                     "park names (cluster not visible now)")
        elif summary is None:
            plan.refuse(pool_id, "pool %s not found on the %s cluster" % (pool_id, side))
        else:
            live = _answering(summary, moving_names(facts, mapping))
            action = "park %s" % ", ".join(live) if live else None
            plan.add(order, "park SmartConnect names on the %s" % side, side, "pool", pool_id, action)


def claim_step(plan, facts, order, side):
    """Give the mapped pools on ``side`` the moving names (unpark them, or add them)."""
    for mapping in facts.pools:
        pool_id = mapping[side]
        summary = _pool(facts, side, pool_id)
        names = moving_names(facts, mapping)
        step = "add SmartConnect names on the %s" % side
        if not facts.visible(side):
            plan.add(order, step, side, "pool", pool_id, "add names (cluster not visible now)")
            continue
        if summary is None:
            plan.refuse(pool_id, "pool %s not found on the %s cluster" % (pool_id, side))
            continue
        have = set(normalize_name(n) for n in summary["names"])
        missing = [n for n in names if normalize_name(n) not in have]
        plan.add(order, step, side, "pool", pool_id, "add %s" % ", ".join(missing) if missing else None)


def _provider(facts, side):
    wanted = (facts.spn_provider or "").upper()
    for provider in facts.data(side).get("ads") or []:
        if (provider.get("name") or provider.get("id") or "").upper() == wanted:
            return provider
    return None


def spn_step(plan, facts, order, side, present):
    """Remove (``present`` false) or add the SPNs of the moving names on ``side``'s machine account."""
    spns = spns_from_smartconnect([n for mapping in facts.pools for n in moving_names(facts, mapping)])
    verb = "add" if present else "remove"
    step = "%s SPNs on the %s" % (verb, side)
    if not facts.visible(side):
        plan.add(order, step, side, "spn", facts.spn_provider, "%s SPNs (cluster not visible now)" % verb)
        return
    provider = _provider(facts, side)
    if provider is None:
        plan.refuse(facts.spn_provider, "AD provider %s not found on the %s cluster" % (facts.spn_provider, side))
        return
    held = set(spn_key(s) for s in provider.get("spns") or [])
    todo = [s for s in spns if (spn_key(s) in held) != present]
    plan.add(order, step, side, "spn", facts.spn_provider, "%s %s" % (verb, ", ".join(todo)) if todo else None)


# --------------------------------------------------------------------------- quotas
def _quota_key(quota, path):
    persona = quota.get("persona") or {}
    label = persona.get("name") or persona.get("id") if isinstance(persona, dict) else persona
    return (path.rstrip("/") or "/", quota.get("type"), label, bool(quota.get("include_snapshots")))


def _translate(path, old_root, new_root):
    if not (path and old_root and new_root):
        return path
    if path == old_root or path.startswith(old_root.rstrip("/") + "/"):
        return new_root.rstrip("/") + path[len(old_root.rstrip("/")):]
    return path


def _roots(p):
    """``(source root, target root)`` of a policy, as its source and record show them."""
    return p["source"].get("source_root_path"), p["target"].get("target_path") or p["source"].get("target_path")


def quota_steps(plan, facts, order, from_side, to_side, policies):
    """Quotas under the policies' paths: create on ``to_side``, then remove from ``from_side``."""
    if not (facts.visible(from_side) and facts.visible(to_side)):
        plan.add(order, "quotas", to_side, "quota", "*", "move quotas (a cluster is not visible now)")
        return
    to_keys = set()
    for quota in facts.data(to_side).get("quotas") or []:
        to_keys.add(_quota_key(quota, quota.get("path") or ""))
    creates, removes = [], []
    for p in policies:
        src_root, tgt_root = _roots(p)
        roots = (src_root, tgt_root) if from_side == SOURCE else (tgt_root, src_root)
        for quota in facts.data(from_side).get("quotas") or []:
            path = quota.get("path") or ""
            if not roots[0] or not (path == roots[0] or path.startswith(roots[0].rstrip("/") + "/")):
                continue
            moved = _translate(path, roots[0], roots[1])
            label = "%s %s" % (quota.get("type"), moved)
            creates.append((label, _quota_key(quota, moved) in to_keys))
            removes.append("%s %s" % (quota.get("type"), path))
    for label, present in creates:
        plan.add(order, "create quotas on the %s" % to_side, to_side, "quota", label,
                 None if present else "create quota")
    for label in removes:
        plan.add(order + 1, "remove quotas from the %s" % from_side, from_side, "quota", label,
                 "remove quota", destructive=True)


# --------------------------------------------------------------------------- policy steps
def policy_step(plan, order, step, cluster, policies, decide, destructive=False, kind="policy"):
    for p in policies:
        plan.add(order, step, cluster, kind, p["name"], decide(p), destructive=destructive)


def journal_step(plan, order, step, cluster, text):
    plan.add(order, step, cluster, "journal", "run", text)


def restore_text(facts, p):
    """The action restoring the original schedule of ``p``, or None when it is in place."""
    cached = facts.cached(p["name"])
    current = p["source"].get("schedule")
    if not cached:
        return "restore the original schedule (none cached: set it by hand)" if source_manual(p) else None
    same = schedule_equal(current, cached.get("schedule"))
    delay = cached.get("job_delay")
    if same and (delay is None or p["source"].get("job_delay") == delay):
        return None
    return "restore schedule %s" % schedule_to_user(cached.get("schedule"))


# --------------------------------------------------------------------------- moves
# What the roles hand to smartconnect_zone, spn and quota: the same objects the plan names,
# as module arguments, so that no role recomputes names, SPNs or quota paths in Jinja.
def claim_for(facts, mapping, to_side):
    """smartconnect_zone arguments giving ``to_side``'s pool the moving names, or None when unknown.

    A pool with no zone name of its own (or only a parked copy of the moving one) takes the
    first name as its zone name; a pool with its own zone name keeps it and takes every
    moving name as an alias. Parked copies of the moving names are dropped from the aliases.
    """
    names = moving_names(facts, mapping)
    summary = _pool(facts, to_side, mapping[to_side]) if facts.visible(to_side) else None
    if not names or summary is None:
        return None
    moving = set(normalize_name(n) for n in names)
    prefix = facts.park_prefix
    own_zone = summary["sc_dns_zone"]
    keep_zone = bool(own_zone) and normalize_name(unpark_name(own_zone, prefix)) not in moving
    claim = {"pool": mapping[to_side]}
    if keep_zone:
        wanted_aliases = names
    else:
        claim["sc_dns_zone"] = names[0]
        wanted_aliases = names[1:]
    kept = [a for a in summary["aliases"] if normalize_name(unpark_name(a, prefix)) not in moving]
    claim["aliases"] = kept + list(wanted_aliases)
    claim["aliases_state"] = "exact"
    return claim


def release_for(facts, mapping, from_side, names=None):
    """smartconnect_zone arguments making ``from_side``'s pool stop answering for ``names`` (default: the moving names).

    Only those names are parked: a zone name or alias of the pool's own (a target pool that
    took the names as aliases) stays as it is. None when the pool cannot be read.
    """
    names = moving_names(facts, mapping) if names is None else names
    summary = _pool(facts, from_side, mapping[from_side]) if facts.visible(from_side) else None
    if not names or summary is None:
        return None
    moving = set(normalize_name(n) for n in names)
    prefix = facts.park_prefix

    def parked(name):
        return park_name(name, prefix) if normalize_name(name) in moving else name

    release = {"pool": mapping[from_side], "aliases": [parked(a) for a in summary["aliases"]],
               "aliases_state": "exact"}
    if summary["sc_dns_zone"]:
        release["sc_dns_zone"] = parked(summary["sc_dns_zone"])
    return release


def pool_moves(facts, from_side, to_side):
    """Per mapped pool: ``{source, target, park, names, spns, release, claim}`` for a move ``from_side`` -> ``to_side``."""
    moves = []
    for mapping in facts.pools:
        names = moving_names(facts, mapping)
        moves.append({"source": mapping[SOURCE], "target": mapping[TARGET], "park": mapping[from_side],
                      "names": names, "spns": spns_from_smartconnect(names),
                      "release": release_for(facts, mapping, from_side),
                      "claim": claim_for(facts, mapping, to_side)})
    return moves


def _quota_spec(quota, path):
    spec = dict((key, value) for key, value in quota_view(quota).items() if key != "id" and value is not None)
    spec["path"] = path
    return spec


def quota_moves(facts, from_side, to_side, policies):
    """``{"create": [...], "remove": [...]}``: quota module entries moving the quotas under the policies' paths.

    ``create`` goes to ``to_side`` (paths translated to that side's directories), ``remove``
    (``state: absent``) to ``from_side``; both are empty while a side cannot be read.
    """
    moves = {"create": [], "remove": []}
    if not (facts.visible(from_side) and facts.visible(to_side)):
        return moves
    for p in policies:
        src_root, tgt_root = _roots(p)
        old_root, new_root = (src_root, tgt_root) if from_side == SOURCE else (tgt_root, src_root)
        for quota in facts.data(from_side).get("quotas") or []:
            path = quota.get("path") or ""
            if not old_root or not is_under(path, old_root):
                continue
            moves["create"].append(_quota_spec(quota, _translate(path, old_root, new_root)))
            removal = dict((key, value) for key, value in _quota_spec(quota, path).items()
                           if key in ("path", "type", "persona", "include_snapshots"))
            removal["state"] = "absent"
            moves["remove"].append(removal)
    return moves


def fence_moves(facts):
    """Fence: the source releases only the names and SPNs the target took over; no claim, no quota."""
    pools = []
    for mapping in facts.pools:
        both = contested_names(facts, mapping)
        release = release_for(facts, mapping, SOURCE, names=both) if both else None
        pools.append({"source": mapping[SOURCE], "target": mapping[TARGET], "park": mapping[SOURCE], "names": both,
                      "spns": spns_from_smartconnect(both), "release": release, "claim": None})
    return {"pools": pools, "spns": contested_spns(facts) if facts.spn_provider else [],
            "quotas": {"create": [], "remove": []}, "from": SOURCE, "to": TARGET}


def moves_for(operation, facts, policies):
    """The pool, SPN and quota moves of ``operation`` (direction from its name)."""
    if operation.startswith("failover"):
        from_side, to_side = SOURCE, TARGET
    elif operation.startswith("failback"):
        from_side, to_side = TARGET, SOURCE
    elif operation == "fence":
        return fence_moves(facts)
    else:
        return {"pools": [], "spns": [], "quotas": {"create": [], "remove": []}}
    pools = pool_moves(facts, from_side, to_side)
    spns = []
    for move in pools:
        spns.extend(s for s in move["spns"] if s not in spns)
    return {"pools": pools, "spns": spns, "quotas": quota_moves(facts, from_side, to_side, policies),
            "from": from_side, "to": to_side}


# --------------------------------------------------------------------------- operations
def accept(plan, facts, operation, wanted, states, evidence_states=(), also=None):
    """The policies the operation may act on; the others are refused with dr_info's reasons.

    ``also(p)``: a policy the live state shows half way through this operation.
    """
    chosen = []
    for p in facts.policies:
        if p["state"] in states or (also is not None and also(p)):
            chosen.append(p)
        elif p["state"] in evidence_states and facts.evidence(operation, p["name"]):
            chosen.append(p)
        else:
            plan.refuse(p["name"], refusal_reason(p, wanted))
    return chosen


def failover_planned(plan, facts, options):
    if not facts.visible(SOURCE):
        plan.refuse("source", "the source cluster is not reachable (%s): a planned failover needs it; use "
                    "failover_unplanned" % (facts.data(SOURCE).get("error") or "not visible"))
        return
    states = FAILOVER_FROM + ((drstate.RESYNC_PREPPED,) if options.get("resync_prep") else ())
    chosen = accept(plan, facts, "failover_planned", "a planned failover needs it protected", states)
    if not chosen:
        return
    journal_step(plan, 3, "lock, journal and cached schedules", TARGET, "take the lock, cache the schedules")
    policy_step(plan, 5, "schedules to manual and final sync", SOURCE, chosen,
                lambda p: None if target_writable(p) else (
                    "final sync" if source_manual(p) else
                    "set schedule manual (was %s), final sync" % schedule_to_user(p["source"].get("schedule"))))
    policy_step(plan, 6, "disable source policies", SOURCE, chosen,
                lambda p: "disable policy" if source_enabled(p) and record_state(p) != RESYNC_CREATED else None)
    if options.get("config_sync"):
        plan.add(7, "config sync of shares, exports and aliases", TARGET, "config", "scope",
                 "copy shares, exports and aliases (config_sync decides per object)")
    if facts.pools:
        park_step(plan, facts, 8, SOURCE)
        if facts.spn_provider:
            spn_step(plan, facts, 9, SOURCE, present=False)
        claim_step(plan, facts, 10, TARGET)
        if facts.spn_provider:
            spn_step(plan, facts, 11, TARGET, present=True)
    policy_step(plan, 12, "allow writes on target", TARGET, chosen,
                lambda p: None if target_writable(p) else "allow_write")
    if options.get("quotas"):
        quota_steps(plan, facts, 14, SOURCE, TARGET, chosen)
    if options.get("resync_prep"):
        policy_step(plan, 15, "resync-prep (mirrors) and cached schedules on the mirrors", SOURCE, chosen,
                    lambda p: None if record_state(p) == RESYNC_CREATED else "resync_prep, then restore schedule %s "
                    "on %s" % (schedule_to_user((facts.cached(p["name"]) or p["source"]).get("schedule")),
                               drstate.mirror_name(p["name"])))
    journal_step(plan, 16, "journal finish and run record", TARGET, "finish the run, release the lock")


def failover_unplanned(plan, facts, options):
    states = FAILOVER_FROM + (drstate.FAILED_OVER_UNPLANNED,)
    chosen = accept(plan, facts, "failover_unplanned", "an unplanned failover needs its target record", states)
    chosen = [p for p in chosen if p["target"].get("exists") is not False]
    if not chosen:
        return
    journal_step(plan, 3, "lock, journal and cached schedules (target only)", TARGET, "take the lock")
    if facts.pools:
        claim_step(plan, facts, 10, TARGET)
        if facts.spn_provider:
            spn_step(plan, facts, 11, TARGET, present=True)
    policy_step(plan, 12, "allow writes on target", TARGET, chosen,
                lambda p: None if record_state(p) == WRITES_ENABLED else "allow_write")
    policy_step(plan, 13, "record the source policies to fence", SOURCE, chosen,
                lambda p: None if facts.visible(SOURCE) and not source_enabled(p) else
                "fence when the source returns (source not contacted)")
    journal_step(plan, 16, "journal finish and run record", TARGET, "finish the run, release the lock")


def failover_test(plan, facts, options):
    if not facts.visible(SOURCE):
        plan.refuse("source", "the source cluster is not reachable: a test failover needs both clusters")
        return
    states = (drstate.PROTECTED, drstate.SYNCING, drstate.SYNC_FAILED, drstate.CONFLICTED, drstate.FAILED_OVER)
    chosen = accept(plan, facts, "failover_test", "a test failover needs it protected", states)
    if not chosen:
        return
    journal_step(plan, 3, "lock, journal and cached schedules", TARGET, "take the lock, cache the schedules")
    policy_step(plan, 5, "schedules to manual and sync", SOURCE, chosen,
                lambda p: None if target_writes_enabled(p) else (
                    "sync" if source_manual(p) else
                    "set schedule manual (was %s), sync" % schedule_to_user(p["source"].get("schedule"))))
    policy_step(plan, 12, "allow writes on target (test)", TARGET, chosen,
                lambda p: None if target_writes_enabled(p) else "allow_write")
    policy_step(plan, 13, "revert the test writes on target", TARGET, chosen,
                lambda p: "allow_write_revert (discards what the test wrote on the target)", destructive=True)
    policy_step(plan, 14, "restore schedules", SOURCE, chosen, lambda p: restore_text(facts, p))
    journal_step(plan, 16, "journal finish and run record", TARGET, "finish the run, release the lock")


FAILBACK_FROM = FAILED_OVER_STATES
DONE_LIKE = (drstate.PROTECTED, drstate.DISABLED, drstate.SYNCING, drstate.SYNC_FAILED)


def failback_discard_target(plan, facts, options):
    if not facts.visible(SOURCE):
        plan.refuse("source", "the source cluster is not reachable: a failback needs it")
        return
    chosen = accept(plan, facts, "failback_discard_target", "a failback needs it failed over",
                    FAILBACK_FROM + (drstate.FAILING_BACK,), evidence_states=DONE_LIKE)
    if not chosen:
        return
    journal_step(plan, 1, "lock, journal", TARGET, "take the lock")
    policy_step(plan, 2, "fence: ensure source policies disabled", SOURCE, chosen,
                lambda p: "disable policy" if source_enabled(p) and not target_reverted(p) else None)
    policy_step(plan, 3, "schedules to manual", SOURCE, chosen,
                lambda p: None if source_manual(p) or target_reverted(p) else
                "set schedule manual (was %s)" % schedule_to_user(p["source"].get("schedule")))
    if facts.pools:
        park_step(plan, facts, 4, TARGET)
        if facts.spn_provider:
            spn_step(plan, facts, 5, TARGET, present=False)
    policy_step(plan, 6, "disallow writes on target", TARGET, chosen,
                lambda p: None if target_reverted(p) else
                "allow_write_revert (discards everything written on the target since the failover)",
                destructive=True)
    if facts.pools:
        claim_step(plan, facts, 7, SOURCE)
        if facts.spn_provider:
            spn_step(plan, facts, 8, SOURCE, present=True)
    if options.get("quotas"):
        quota_steps(plan, facts, 9, TARGET, SOURCE, chosen)
    policy_step(plan, 11, "restore schedules", SOURCE, chosen, lambda p: restore_text(facts, p))
    policy_step(plan, 12, "enable source policies", SOURCE, chosen,
                lambda p: None if source_enabled(p) else "enable policy")
    journal_step(plan, 13, "journal finish and run record", TARGET, "finish the run, release the lock")


def _phase(p):
    """How far a failback keeping the target data went (reference §12.3): 0 to 4."""
    mirror = p["mirror"]
    if record_state(p) in (WRITES_ENABLED, drstate.ENABLING_WRITES):
        return 0
    if mirror_record(p) == RESYNC_CREATED or (not mirror.get("exists") and record_state(p) == WRITES_DISABLED):
        return 4 if not mirror.get("exists") else 3
    if mirror_record(p) in (WRITES_ENABLED, drstate.ENABLING_WRITES):
        return 2
    return 1


def mirror_handed_back(p):
    """Roles handed back by the mirror's resync_prep, the mirror not deleted yet (reads as protected)."""
    return bool(p["mirror"].get("exists")) and mirror_record(p) == RESYNC_CREATED


def failback_discard_source(plan, facts, options):
    if not facts.visible(SOURCE):
        plan.refuse("source", "the source cluster is not reachable: a failback needs it")
        return
    chosen = accept(plan, facts, "failback_discard_source", "a failback needs it failed over",
                    FAILBACK_FROM + (drstate.RESYNC_PREPPED, drstate.FAILBACK_IN_PROGRESS),
                    evidence_states=DONE_LIKE, also=mirror_handed_back)
    if not chosen:
        return
    phase = dict((p["name"], _phase(p)) for p in chosen)

    def at(p, reached):
        return phase[p["name"]] >= reached

    mirror = drstate.mirror_name
    journal_step(plan, 1, "lock, journal", TARGET, "take the lock")
    policy_step(plan, 2, "schedules to manual", SOURCE, chosen,
                lambda p: None if source_manual(p) or at(p, 1) else
                "set schedule manual (was %s)" % schedule_to_user(p["source"].get("schedule")))
    policy_step(plan, 3, "enable source policies", SOURCE, chosen,
                lambda p: None if source_enabled(p) or at(p, 1) else "enable policy")
    policy_step(plan, 4, "resync-prep (creates the mirrors on the target)", SOURCE, chosen,
                lambda p: None if at(p, 1) else "resync_prep")
    policy_step(plan, 5, "sync the mirrors (target -> source)", TARGET, chosen,
                lambda p: None if at(p, 2) or (at(p, 1) and p["mirror"].get("last_success")) else
                "sync %s" % mirror(p["name"]))
    if facts.pools:
        park_step(plan, facts, 6, TARGET)
        if facts.spn_provider:
            spn_step(plan, facts, 7, TARGET, present=False)
    policy_step(plan, 8, "allow writes on the source (mirror records)", SOURCE, chosen,
                lambda p: None if at(p, 2) else "allow_write %s" % mirror(p["name"]))
    policy_step(plan, 9, "resync-prep the mirrors (roles back to the source)", TARGET, chosen,
                lambda p: None if at(p, 3) else "resync_prep %s" % mirror(p["name"]))
    policy_step(plan, 10, "delete the mirror policies", TARGET, chosen,
                lambda p: None if at(p, 4) else "delete policy %s" % mirror(p["name"]), destructive=True)
    if facts.pools:
        claim_step(plan, facts, 11, SOURCE)
        if facts.spn_provider:
            spn_step(plan, facts, 12, SOURCE, present=True)
    if options.get("quotas"):
        quota_steps(plan, facts, 13, TARGET, SOURCE, chosen)
    policy_step(plan, 15, "restore schedules", SOURCE, chosen, lambda p: restore_text(facts, p))
    journal_step(plan, 16, "journal finish and run record", TARGET, "finish the run, release the lock")


def reprotect(plan, facts, options):
    if not facts.visible(SOURCE):
        plan.refuse("source", "the original source is not reachable: it must be up to become the new target")
        return
    chosen = []
    for p in facts.policies:
        gone = not p["source"].get("exists") and not p["target"].get("exists")
        if p["state"] in FAILED_OVER_STATES + (drstate.REPROTECTED,):
            chosen.append(p)
        elif gone and p["state"] == drstate.UNKNOWN and facts.evidence("reprotect", p["name"]) == "open":
            chosen.append(p)   # deleted by the interrupted run, reverse policy not created yet
        else:
            plan.refuse(p["name"], refusal_reason(p, "a reprotect needs it failed over"))
    if not chosen:
        return
    journal_step(plan, 1, "lock, journal", TARGET, "take the lock")
    policy_step(plan, 2, "fence: disable source policies", SOURCE, chosen,
                lambda p: "disable policy" if p["source"].get("exists") and source_enabled(p) else None)
    policy_step(plan, 3, "delete the source policies", SOURCE, chosen,
                lambda p: "delete policy (and its target record)" if p["source"].get("exists") else None,
                destructive=True)
    policy_step(plan, 4, "create the reverse policies on the target", TARGET, chosen,
                lambda p: None if reverse_policy(p) else "create policy %s -> original source, schedule %s" % (
                    p["name"], schedule_to_user((facts.cached(p["name"]) or p["source"]).get("schedule"))))
    policy_step(plan, 5, "first sync of the reverse policies", TARGET, chosen,
                lambda p: None if (reverse_policy(p) or {}).get("last_success") else "sync")
    journal_step(plan, 6, "journal finish and run record", TARGET, "finish the run, release the lock")


def fence(plan, facts, options):
    if not facts.visible(SOURCE):
        plan.refuse("source", "the source cluster is not reachable: nothing can be fenced now")
        return
    writable = (WRITES_ENABLED, RESYNC_CREATED, drstate.ENABLING_WRITES)
    policy_step(plan, 1, "fence: disable source policies whose target is writable", SOURCE, facts.policies,
                lambda p: "disable policy" if source_enabled(p) and record_state(p) in writable else None)
    # An unplanned failover gave the names and SPNs to the target without the source's say: the
    # returned source still answers for them (two DNS claims, duplicate SPNs). It gives them up.
    for mapping in facts.pools:
        both = contested_names(facts, mapping)
        plan.add(2, "fence: park on the source the names the target took over", SOURCE, "pool", mapping[SOURCE],
                 "park %s" % ", ".join(both) if both else None)
    if facts.spn_provider and facts.pools:
        both = contested_spns(facts)
        plan.add(3, "fence: remove from the source the SPNs the target holds", SOURCE, "spn", facts.spn_provider,
                 "remove %s" % ", ".join(both) if both else None)


def contested_names(facts, mapping):
    """Moving names that both clusters answer for (the target took them while the source was away)."""
    if not (facts.visible(SOURCE) and facts.visible(TARGET)):
        return []
    names = moving_names(facts, mapping)
    on_target = _answering(_pool(facts, TARGET, mapping[TARGET]), names)
    return _answering(_pool(facts, SOURCE, mapping[SOURCE]), on_target)


def contested_spns(facts):
    """SPNs of the moving names that both machine accounts hold."""
    wanted = spns_from_smartconnect([n for mapping in facts.pools for n in moving_names(facts, mapping)])
    held = [set(spn_key(s) for s in (_provider(facts, side) or {}).get("spns") or []) for side in (SOURCE, TARGET)]
    return [s for s in wanted if spn_key(s) in held[0] and spn_key(s) in held[1]]


OPERATIONS = {
    "failover_planned": failover_planned, "failover_unplanned": failover_unplanned,
    "failover_test": failover_test, "failback_discard_target": failback_discard_target,
    "failback_discard_source": failback_discard_source, "reprotect": reprotect, "fence": fence,
}


def build(operation, facts, options):
    """The :class:`Plan` of ``operation``; actions sorted by order (stable within a step)."""
    plan = Plan(operation)
    OPERATIONS[operation](plan, facts, options)
    plan.actions.sort(key=lambda entry: entry["order"])
    return plan
