# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SMB shares, NFS exports and NFS aliases: service functions.

Two jobs live here:

* **Configuration sync** (module ``config_sync``): read the shares, exports
  and aliases of a scope (an access zone, optionally narrowed to path roots)
  on the source and the target cluster, compare them ignoring the fields the
  server computes, and create / update (only the differing fields) / remove
  on the target.  Paths are rewritten with a prefix map when the target's
  directory layout differs.
* **SMB data-integrity lock** (module ``smb_lock``): deny Everyone on the SMB
  shares of a scope, after saving their original ``permissions`` and
  ``run_as_root`` in a JSON file on the cluster itself, so that any
  controller (even after a crash of the one that locked) can unlock exactly.

OneFS serialises SMB share configuration writes; under concurrency they fail
with 409 ``AEC_CONFLICT``.  Every share/export/alias write therefore goes
through :func:`write_with_conflict_retry`: a bounded number of retries with
jittered exponential back-off, counted so that callers can report them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import random
import threading
import time

try:  # Python 3
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported, keeps sanity's compile test quiet
    from urllib import quote  # type: ignore

from ansible_collections.onefs.dr.plugins.module_utils.errors import ConflictError, NotFoundError, OnefsError
from ansible_collections.onefs.dr.plugins.module_utils.parallel import run_each

SMB_SHARES = "/platform/12/protocols/smb/shares"
NFS_EXPORTS = "/platform/4/protocols/nfs/exports"
NFS_ALIASES = "/platform/15/protocols/nfs/aliases"

SYSTEM_ZONE = "System"

# The SID of the well-known "Everyone" group.
EVERYONE_SID = "SID:S-1-1-0"
DENY_EVERYONE = {
    "permission": "full",
    "permission_type": "deny",
    "trustee": {"id": EVERYONE_SID, "name": "Everyone", "type": "wellknown"},
}
DEFAULT_LOCK_DIR = "/ifs/.onefs_dr/smb_lock"
LOCK_RECORD_VERSION = 1

# Conflict retries: a OneFS share write is serialised cluster-wide, so a short
# back-off is usually enough; the cap keeps one object from stalling a run.
CONFLICT_BASE_S = 0.2
CONFLICT_CAP_S = 5.0
DEFAULT_CONFLICT_RETRIES = 8


class Kind:
    """What differs between shares, exports and aliases, in one place.

    ``server_fields`` are computed by the cluster (ids, health, conflicts) and
    never compared nor sent; ``path_fields`` hold /ifs paths that the path map
    rewrites (a string or a list of strings).
    """

    def __init__(self, name, base, key, path_field, server_fields, label):
        self.name = name
        self.base = base
        self.key = key
        self.path_field = path_field
        self.server_fields = frozenset(server_fields)
        self.label = label

    def paths(self, record):
        value = record.get(self.path_field)
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
        return [value] if isinstance(value, str) else []

    def item_path(self, record):
        """The PAPI path of one object of this kind."""
        if self.name == "nfs_exports":
            return "%s/%s" % (self.base, record["id"])
        # NFS alias names start with "/": they must be fully encoded (%2F).
        return "%s/%s" % (self.base, quote(str(record.get("id") or record["name"]), safe=""))


SMB = Kind("smb_shares", SMB_SHARES, "shares", "path",
           ("id", "zid", "zone"), "SMB share")
NFS_EXPORT = Kind("nfs_exports", NFS_EXPORTS, "exports", "paths",
                  ("id", "zone", "conflicting_paths", "unresolved_clients"), "NFS export")
NFS_ALIAS = Kind("nfs_aliases", NFS_ALIASES, "aliases", "path",
                 ("id", "zone", "health"), "NFS alias")
KINDS = {kind.name: kind for kind in (SMB, NFS_EXPORT, NFS_ALIAS)}
KIND_NAMES = tuple(KINDS)


# --- paths ----------------------------------------------------------------------

def norm_path(path):
    """``/ifs/data//x/`` -> ``/ifs/data/x`` (OneFS stores paths without a trailing slash)."""
    return "/" + "/".join(part for part in str(path).split("/") if part)


def is_under(path, root):
    """Whether ``path`` is ``root`` or inside it (component-wise, not string prefix)."""
    path, root = norm_path(path), norm_path(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def normalise_path_map(path_map):
    """``[{source, target}]`` -> list of normalised pairs, longest source first."""
    pairs = []
    for entry in path_map or []:
        pairs.append((norm_path(entry["source"]), norm_path(entry["target"])))
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def map_path(path, pairs):
    """Rewrite ``path`` with the longest matching source prefix of ``pairs``.

    ``pairs`` comes from :func:`normalise_path_map`; a path no prefix matches is
    returned normalised but otherwise unchanged (same layout on both clusters).
    """
    path = norm_path(path)
    for source, target in pairs:
        if is_under(path, source):
            rest = path[len(source):].lstrip("/")
            return norm_path(target + "/" + rest) if rest else target
    return path


def validate_path_map(path_map):
    """Error message for a bad ``path_map``, or None."""
    for index, entry in enumerate(path_map or []):
        for side in ("source", "target"):
            value = entry.get(side)
            if not isinstance(value, str) or not norm_path(value).startswith("/ifs"):
                return "path_map[%d].%s must be an absolute path under /ifs, got %r" % (index, side, value)
    sources = [norm_path(entry["source"]) for entry in path_map or []]
    if len(set(sources)) != len(sources):
        return "path_map has the same source prefix twice"
    return None


# Characters Windows (and OneFS) refuse in an SMB share name.
SHARE_NAME_FORBIDDEN = '"\\/[]:|<>+=;,*?'


def share_name_error(value, option):
    """Error message for a bad SMB share name (or name part) given in ``option``, or None."""
    if not isinstance(value, str) or not value.strip():
        return "%s must not be empty" % option
    bad = sorted(set(ch for ch in value if ch in SHARE_NAME_FORBIDDEN))
    if bad:
        return "%s must not contain %s (not allowed in an SMB share name), got %r" % (option, " ".join(bad), value)
    return None


def validate_roots(roots, option="paths"):
    for root in roots or []:
        if not isinstance(root, str) or not norm_path(root).startswith("/ifs"):
            return "%s must hold absolute paths under /ifs, got %r" % (option, root)
    return None


def in_roots(kind, record, roots):
    """Whether every path of ``record`` is under one of ``roots`` (no roots: everything).

    Every path, not any: copying an export half of whose paths are outside
    the scope would drag configuration the caller did not ask for.
    """
    if not roots:
        return True
    paths = kind.paths(record)
    return bool(paths) and all(any(is_under(p, root) for root in roots) for p in paths)


# --- comparison -----------------------------------------------------------------

def settings(kind, record):
    """The configurable part of a record: server-computed and unset (null) parts dropped."""
    return strip_nulls({k: copy.deepcopy(v) for k, v in record.items() if k not in kind.server_fields})


def desired_on_target(kind, source_record, pairs):
    """What the target's copy of a source record should look like (paths mapped)."""
    wanted = settings(kind, source_record)
    value = wanted.get(kind.path_field)
    if isinstance(value, list):
        wanted[kind.path_field] = [map_path(p, pairs) for p in value]
    elif isinstance(value, str):
        wanted[kind.path_field] = map_path(value, pairs)
    return wanted


PERSONA_KEYS = frozenset(("id", "name", "type"))


def strip_nulls(value):
    """``value`` without null members, recursively; objects left empty are dropped too.

    OneFS reports unset persona parts as null (``primary_group: {id: null, ...}``)
    but refuses nulls where it expects a string, so a copy must not send them.
    """
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            item = strip_nulls(item)
            if item is None or item == {}:
                continue
            cleaned[key] = item
        return cleaned
    if isinstance(value, list):
        return [strip_nulls(item) for item in value]
    return value


def canonical(value):
    """A value as OneFS means it, for comparison only.

    Personas (``{id, name, type}``: trustees, run-as-root, map users/groups)
    are compared by ``id`` when there is one: the cluster fills in ``name`` and
    ``type`` itself, so a copy sent with the id alone reads back richer.
    """
    if isinstance(value, dict):
        if value and set(value) <= PERSONA_KEYS and value.get("id"):
            return {"id": value["id"]}
        members = ((key, canonical(item)) for key, item in value.items())
        return {key: item for key, item in members if item is not None and item != {}}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def _norm_value(kind, field, value):
    """Values compared the way OneFS means them: paths normalised, share names case-folded.

    A share whose name differs only in case is the same share to SMB clients:
    renaming it would only disturb the target.
    """
    if kind.name == "smb_shares" and field == "name" and isinstance(value, str):
        return value.lower()
    if field == kind.path_field:
        if isinstance(value, list):
            return [norm_path(v) for v in value]
        if isinstance(value, str):
            return norm_path(value)
    return canonical(value)


def differing_fields(kind, wanted, current):
    """Fields of ``wanted`` whose value on ``current`` differs (sorted names).

    Fields the target does not report at all count as differing only when the
    wanted value is not empty/false (an older PAPI may not know a field the
    source reports with its default).
    """
    fields = []
    for field, value in wanted.items():
        if field in kind.server_fields:
            continue
        if field not in current:
            if value in ([], {}, False, "", None):
                continue
            fields.append(field)
            continue
        if _norm_value(kind, field, value) != _norm_value(kind, field, current.get(field)):
            fields.append(field)
    return sorted(fields)


def identity(kind, record):
    """How an object is matched between clusters.

    Shares and aliases by name (share names are case-insensitive); exports have
    cluster-local integer ids, so by their sorted set of paths.
    """
    if kind.name == "nfs_exports":
        return "|".join(sorted(norm_path(p) for p in kind.paths(record)))
    if kind.name == "smb_shares":
        return str(record.get("name", "")).lower()
    return str(record.get("name", ""))


def display_name(kind, record):
    if kind.name == "nfs_exports":
        return ",".join(kind.paths(record))
    return record.get("name")


def index_by_identity(kind, records):
    """``{identity: record}``; a repeated identity gets ``#2``, ``#3`` in list order.

    OneFS allows two exports of the same path (with different clients); they
    are paired with the other cluster's in the order the API lists them.
    """
    indexed = {}
    for record in records:
        key = identity(kind, record)
        candidate, n = key, 1
        while candidate in indexed and n < 10000:
            n += 1
            candidate = "%s#%d" % (key, n)
        indexed[candidate] = record
    return indexed


# --- reading --------------------------------------------------------------------

def list_objects(client, kind, zone):
    """Every object of ``kind`` in access zone ``zone`` (all pages)."""
    return client.list(kind.base, kind.key, query={"zone": zone})


def get_object(client, kind, record, zone):
    """The current record of one object, or None when it does not exist."""
    try:
        body = client.get(kind.item_path(record), query={"zone": zone})
    except NotFoundError:
        return None
    items = body.get(kind.key) or []
    return items[0] if items else None


def scoped(kind, records, roots):
    return [record for record in records if in_roots(kind, record, roots)]


# --- writing with conflict retries -------------------------------------------------

class ConflictCounter:
    """Thread-safe count of 409 AEC_CONFLICT answers that were retried."""

    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0

    def add(self):
        with self._lock:
            self.count += 1


def write_with_conflict_retry(call, retries, counter=None, sleep=time.sleep, before_retry=None):
    """Run ``call()``; on 409 ``AEC_CONFLICT`` retry up to ``retries`` times.

    Delays grow exponentially (full jitter) from ``CONFLICT_BASE_S`` up to
    ``CONFLICT_CAP_S``: OneFS serialises share writes, so waiting a little lets
    the other writer finish.  ``before_retry()`` may return a value to finish
    early (e.g. a create that turned out to have taken effect).  Any other
    error, or the last conflict, is raised.
    """
    attempt = 0
    while True:
        try:
            return call()
        except ConflictError as err:
            if err.code != "AEC_CONFLICT" or attempt >= retries:
                raise
        attempt += 1
        if counter is not None:
            counter.add()
        ceiling = min(CONFLICT_CAP_S, CONFLICT_BASE_S * (2 ** (attempt - 1)))
        sleep(random.uniform(ceiling / 4.0, ceiling))
        if before_retry is not None:
            done = before_retry()
            if done is not None:
                return done


def create_object(client, kind, wanted, zone, retries, counter=None):
    """POST one object; a conflicted create is re-checked before it is re-sent."""
    body = dict(wanted)
    if kind.name == "nfs_aliases":
        body["zone"] = zone

    def already_there():
        # A create answered with an error may still have happened; never
        # create twice.  Only an object with exactly the wanted settings counts:
        # one that differs was made by someone else and the create has failed.
        if kind.name == "nfs_exports":
            candidates = [r for r in list_objects(client, kind, zone) if identity(kind, r) == identity(kind, wanted)]
        else:
            found = get_object(client, kind, wanted, zone)
            candidates = [found] if found else []
        for record in candidates:
            if not differing_fields(kind, wanted, record):
                return {"id": record.get("id")}
        return None

    return write_with_conflict_retry(
        lambda: client.post(kind.base, body, query={"zone": zone}, verify=already_there,
                            obj=display_name(kind, wanted)),
        retries, counter, before_retry=already_there)


def update_object(client, kind, current, changes, zone, retries, counter=None):
    """PUT only the changed fields (a PUT of the same values is harmless to repeat)."""
    return write_with_conflict_retry(
        lambda: client.put(kind.item_path(current), changes, query={"zone": zone}),
        retries, counter)


def delete_object(client, kind, current, zone, retries, counter=None):
    def delete():
        try:
            client.delete(kind.item_path(current), query={"zone": zone})
        except NotFoundError:
            return None   # gone already: what we wanted
        return None
    return write_with_conflict_retry(delete, retries, counter)


# --- configuration sync -----------------------------------------------------------

def plan_sync(kind, source_records, target_records, pairs, remove_extra):
    """Pair source and target objects and decide one action per object.

    Returns a list of plan entries ``{kind, name, action, wanted, current,
    changes}`` in a stable order: source order first, then the extras.
    """
    target_index = index_by_identity(kind, target_records)
    plans = []
    seen = set()
    desired = [desired_on_target(kind, record, pairs) for record in source_records]
    for key, wanted in index_by_identity(kind, desired).items():
        current = target_index.get(key)
        seen.add(key)
        entry = {"kind": kind.name, "name": display_name(kind, wanted), "wanted": wanted, "current": current}
        if current is None:
            entry.update(action="create", changes=dict(wanted))
        else:
            fields = differing_fields(kind, wanted, current)
            entry.update(action="update" if fields else "none",
                         changes={field: wanted[field] for field in fields})
            if kind.name == "nfs_exports":
                entry["id"] = current.get("id")
        plans.append(entry)
    if remove_extra:
        for key, current in target_index.items():
            if key in seen:
                continue
            plans.append({"kind": kind.name, "name": display_name(kind, current), "wanted": None,
                          "current": current, "action": "remove", "changes": {}})
    return plans


def plan_diff(kind, plan):
    """``{before, after}`` of one object, only the fields that change."""
    current = settings(kind, plan["current"]) if plan["current"] else {}
    if plan["action"] == "create":
        return {"before": {}, "after": plan["changes"]}
    if plan["action"] == "remove":
        return {"before": current, "after": {}}
    return {"before": {field: current.get(field) for field in plan["changes"]},
            "after": dict(plan["changes"])}


def plan_actions(kind, plan):
    """Short words for what will be done to one object."""
    if plan["action"] == "create":
        return ["create %s" % kind.label]
    if plan["action"] == "remove":
        return ["remove %s" % kind.label]
    return ["set %s" % field for field in sorted(plan["changes"])]


def apply_plan(client, plan, zone, check_mode, retries, counter):
    """Carry out one plan entry; return the per-object result."""
    kind = KINDS[plan["kind"]]
    change = plan_diff(kind, plan)
    header = "%s %s (zone %s)" % (kind.label, plan["name"], zone)
    result = {
        "kind": kind.name,
        "name": plan["name"],
        "action": plan["action"],
        "actions": plan_actions(kind, plan),
        "changed": plan["action"] != "none",
        "fields": sorted(plan["changes"]) if plan["action"] == "update" else [],
        "before": change["before"],
        "after": change["after"],
    }
    if result["changed"]:
        result["diff"] = dict(change, before_header="target: " + header, after_header="target: " + header)
    if plan.get("id") is not None:
        result["id"] = plan["id"]
    if plan.get("source_lock"):
        result["source_lock"] = plan["source_lock"]
    if plan.get("source_name") is not None:
        result["source_name"] = plan["source_name"]
    if plan.get("note"):
        result["note"] = plan["note"]
    if plan.get("refusal"):
        raise OnefsError(plan["refusal"], obj=plan["name"])
    if check_mode or plan["action"] == "none":
        return result
    if plan["action"] == "create":
        created = create_object(client, kind, plan["changes"], zone, retries, counter) or {}
        if created.get("id") is not None:
            result["id"] = created["id"]
    elif plan["action"] == "update":
        update_object(client, kind, plan["current"], plan["changes"], zone, retries, counter)
    elif plan["action"] == "remove":
        delete_object(client, kind, plan["current"], zone, retries, counter)
    return result


def read_scope(client, kinds, zone, roots):
    """``{kind name: [records in scope]}`` for one cluster."""
    found = {}
    for name in kinds:
        kind = KINDS[name]
        found[name] = scoped(kind, list_objects(client, kind, zone), roots)
    return found


def unlocked_view(source_client, shares, zone, lock_dir):
    """The source's shares as they are when not under the smb_lock data-integrity lock.

    During a planned failover the source's shares are locked (deny Everyone)
    before the configuration is copied; the target must get the permissions
    clients had, not the lock.  For a share carrying the lock, the original
    saved in the zone's lock record replaces ``permissions``/``run_as_root``.
    The record is only read when a share in scope is locked.  Returns
    ``(shares, notes)`` with a note per locked share, keyed by identity.
    """
    if not any(is_locked(share) for share in shares):
        return shares, {}
    record = LockStore(source_client, lock_dir, zone).load() or {"shares": {}}
    saved = {name.lower(): entry for name, entry in record["shares"].items()}
    view, notes = [], {}
    for share in shares:
        if not is_locked(share):
            view.append(share)
            continue
        entry = saved.get(share["name"].lower())
        if entry is None:
            notes[identity(SMB, share)] = "source share is locked and has no saved original: copied as it is"
            view.append(share)
            continue
        notes[identity(SMB, share)] = "source share is locked: its saved original permissions are copied"
        view.append(dict(share, permissions=copy.deepcopy(entry.get("permissions") or []),
                         run_as_root=copy.deepcopy(entry.get("run_as_root") or [])))
    return view, notes


def has_prefix(name, prefix):
    """Whether share ``name`` starts with ``prefix`` (case-insensitive, like SMB share names)."""
    return bool(prefix) and str(name or "").lower().startswith(prefix.lower())


STANDBY_NOTE = ("source share already carries name_prefix (a standby name given by onefs.dr.dfs_shares): "
                "not copied; a target share of the same name is kept")


def prefixed_shares(source_shares, target_shares, prefix):
    """The SMB side of a sync with ``name_prefix`` (DFS mode).

    Each source share ``N`` is copied to the target as ``<prefix>N``, and only
    the target's prefixed shares are the scope's copies (the target's other
    shares are neither matched nor removed).  A source share whose name
    already starts with the prefix is a standby left by a DFS rename: copying
    it would give ``<prefix><prefix>N``, so it is not copied, and its
    namesake on the target is kept out of ``remove_extra``.  A source that
    has both ``N`` and ``<prefix>N`` is ambiguous for ``N``.

    Returns ``(copies, targets, standby_plans, origin, ambiguous)``: the
    source shares renamed, the target shares in scope, a ``none`` plan per
    standby source share, ``{identity of a copy: source name}`` and the
    identities of the ambiguous copies.
    """
    standby = [share for share in source_shares if has_prefix(share.get("name"), prefix)]
    standby_keys = {identity(SMB, share) for share in standby}
    copies, origin, ambiguous = [], {}, set()
    for share in source_shares:
        if has_prefix(share.get("name"), prefix):
            continue
        renamed = dict(share, name=prefix + share["name"])
        key = identity(SMB, renamed)
        origin[key] = share["name"]
        if key in standby_keys:
            ambiguous.add(key)
        copies.append(renamed)
    held = {identity(SMB, share): share for share in target_shares if identity(SMB, share) in standby_keys}
    targets = [share for share in target_shares
               if has_prefix(share.get("name"), prefix) and identity(SMB, share) not in standby_keys]
    standby_plans = []
    for share in standby:
        key = identity(SMB, share)
        if key in ambiguous:
            continue
        standby_plans.append({"kind": SMB.name, "name": share["name"], "wanted": None, "current": held.get(key),
                              "action": "none", "changes": {}, "note": STANDBY_NOTE})
    return copies, targets, standby_plans, origin, ambiguous


def sync_plans(source_client, target_client, kinds, zone, target_zone, roots, pairs, remove_extra,
               lock_dir=None, name_prefix=None):
    """Read both clusters and plan every object of the scope (no write).

    With ``lock_dir``, locked source shares are copied with their saved
    originals (:func:`unlocked_view`).  With ``name_prefix``, SMB shares are
    copied under ``<name_prefix><source name>`` (:func:`prefixed_shares`).
    """
    target_roots = [map_path(root, pairs) for root in roots or []]
    source = read_scope(source_client, kinds, zone, roots)
    target = read_scope(target_client, kinds, target_zone, target_roots)
    notes = {}
    if lock_dir and "smb_shares" in source:
        source["smb_shares"], notes = unlocked_view(source_client, source["smb_shares"], zone, lock_dir)
    origin, ambiguous, standby_plans = {}, set(), []
    if name_prefix and "smb_shares" in source:
        source["smb_shares"], target["smb_shares"], standby_plans, origin, ambiguous = prefixed_shares(
            source["smb_shares"], target["smb_shares"], name_prefix)
    plans = []
    for name in kinds:
        plans.extend(plan_sync(KINDS[name], source[name], target[name], pairs, remove_extra))
        if name == "smb_shares":
            plans.extend(standby_plans)
    for plan in plans:
        if plan["kind"] == "smb_shares" and plan["wanted"] is not None:
            key = identity(SMB, plan["wanted"])
            source_name = origin.get(key)
            if source_name is not None:
                plan["source_name"] = source_name
            if key in ambiguous:
                plan["refusal"] = ("the source has both %s and %s: which one the target's %s copies is ambiguous; "
                                   "remove or rename one of them" % (source_name, plan["name"], plan["name"]))
            note = notes.get(identity(SMB, {"name": source_name}) if source_name is not None else key)
            if note:
                plan["source_lock"] = note
    return plans


def run_plans(plans, fn, max_workers):
    """Run ``fn`` per plan on a bounded pool; one result dict per plan, in order.

    A failed object becomes ``{kind, name, action, changed: false, failed:
    true, msg}`` so that it is reported next to the others, never instead.
    """
    results = []
    for plan, item in zip(plans, run_each(plans, fn, max_workers=max_workers, name_of=lambda p: p["name"])):
        if item.ok:
            results.append(item.value)
            continue
        failed = {"name": plan["name"], "action": plan["action"], "changed": False, "failed": True,
                  "msg": str(item.error)}
        if isinstance(item.error, OnefsError):
            failed["error"] = item.error.to_dict()
        else:
            failed["exception"] = item.trace
        if "kind" in plan:
            failed["kind"] = plan["kind"]
        results.append(failed)
    return results


def sync_config(source_client, target_client, kinds, zone, target_zone, roots=None, path_map=None,
                remove_extra=False, check_mode=False, max_workers=4, retries=DEFAULT_CONFLICT_RETRIES,
                counter=None, lock_dir=None, name_prefix=None):
    """Make the target's shares/exports/aliases of a scope match the source's.

    Reads both clusters once, plans every object, then applies the plans on a
    bounded pool (OneFS serialises share writes: more workers only produce
    more 409s).  Returns one result per object.  ``name_prefix``: SMB shares
    go to the target under ``<name_prefix><source name>`` (DFS mode).
    """
    pairs = normalise_path_map(path_map)
    plans = sync_plans(source_client, target_client, kinds, zone, target_zone, roots, pairs, remove_extra,
                       lock_dir, name_prefix)
    return run_plans(plans, lambda plan: apply_plan(target_client, plan, target_zone, check_mode, retries,
                                                    counter), max_workers)


def count_actions(results):
    counts = {"create": 0, "update": 0, "remove": 0, "none": 0, "failed": 0}
    for result in results:
        if result.get("failed"):
            counts["failed"] += 1
        else:
            counts[result.get("action", "none")] += 1
    return counts


# --- SMB data-integrity lock ---------------------------------------------------------

def is_locked(share):
    """A share carries our lock: exactly deny-Everyone and no run-as-root accounts."""
    permissions = share.get("permissions") or []
    if len(permissions) != 1:
        return False
    entry = permissions[0]
    trustee = entry.get("trustee") or {}
    return (entry.get("permission") == "full" and entry.get("permission_type") == "deny"
            and trustee.get("id") == EVERYONE_SID and not share.get("run_as_root"))


def original_of(share):
    """What the lock changes and unlock must put back, exactly."""
    return {"permissions": copy.deepcopy(share.get("permissions") or []),
            "run_as_root": copy.deepcopy(share.get("run_as_root") or [])}


def lock_record_path(lock_dir, zone):
    """The record file of one zone (zone names are safe file names on OneFS)."""
    return "%s/%s.json" % (norm_path(lock_dir), quote(zone, safe=""))


def select_shares(shares, roots=None, names=None):
    """Shares of the scope: under one of ``roots`` and/or named in ``names`` (case-insensitive)."""
    wanted_names = {name.lower() for name in names or []}
    chosen = []
    for share in shares:
        if wanted_names and share.get("name", "").lower() not in wanted_names:
            continue
        if roots and not in_roots(SMB, share, roots):
            continue
        chosen.append(share)
    return chosen


def new_lock_record(zone, lock_dir):
    return {"version": LOCK_RECORD_VERSION, "zone": zone, "lock_dir": norm_path(lock_dir),
            "created": _now(), "shares": {}}


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def plan_lock(shares, record):
    """Per share: ``lock`` (save original, then deny), ``none`` (already locked).

    A share already locked keeps the original saved earlier; a locked share
    with no saved original is reported (``saved: false``) and its lock is
    never saved as an "original".
    """
    saved = record["shares"]
    plans = []
    for share in shares:
        name = share["name"]
        entry = {"name": name, "path": share.get("path"), "saved": name in saved}
        if is_locked(share):
            entry["action"] = "none"
        else:
            entry.update(action="lock", original=original_of(share), saved=True)
        plans.append(entry)
    return plans


def plan_unlock(shares_by_name, record, names=None, roots=None):
    """Per saved share of the scope: ``restore``, ``none`` (already as saved) or ``missing``."""
    plans = []
    wanted = {name.lower() for name in names or []}
    for name, original in sorted(record["shares"].items()):
        if wanted and name.lower() not in wanted:
            continue
        share = shares_by_name.get(name.lower())
        if roots and share is not None and not in_roots(SMB, share, roots):
            continue
        if roots and share is None and not in_roots(SMB, {"path": original.get("path")}, roots):
            continue
        entry = {"name": name, "original": original}
        if share is None:
            entry["action"] = "missing"
        elif original_of(share) == {"permissions": original["permissions"],
                                    "run_as_root": original["run_as_root"]}:
            entry["action"] = "none"
        else:
            entry.update(action="restore", current=original_of(share))
        plans.append(entry)
    return plans


class LockStore:
    """The lock record of one zone, kept as a JSON file on the cluster.

    The record lives on the cluster, not on the controller, so that an unlock
    works from any controller and survives a crash of the one that locked.
    """

    def __init__(self, client, lock_dir, zone):
        self.client = client
        self.lock_dir = norm_path(lock_dir)
        self.zone = zone
        self.path = lock_record_path(lock_dir, zone)

    def load(self):
        """The saved record, or None when the zone has none."""
        raw = self.client.get_raw(self.path)
        if raw is None:
            return None
        try:
            record = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
        except ValueError:
            raise OnefsError("lock record %s is not valid JSON; fix or remove it by hand" % self.path)
        if not isinstance(record, dict) or not isinstance(record.get("shares"), dict):
            raise OnefsError("lock record %s has no 'shares' object; fix or remove it by hand" % self.path)
        return record

    def save(self, record):
        """Write the whole record; create the directory when OneFS says the parent is missing."""
        record["updated"] = _now()
        data = json.dumps(record, indent=1, sort_keys=True).encode("utf-8")
        try:
            self.client.put_raw(self.path, data)
        except NotFoundError:
            self.client.put_raw(self.lock_dir, b"", headers={"x-isi-ifs-target-type": "container"},
                                query={"recursive": True})
            self.client.put_raw(self.path, data)

    def remove(self):
        return self.client.delete_raw(self.path)


def _lock_share(client, plan, zone, check_mode, retries, counter):
    result = {"name": plan["name"], "path": plan.get("path"), "action": plan["action"],
              "changed": plan["action"] == "lock", "saved": plan["saved"]}
    if plan["action"] == "lock":
        header = "SMB share %s (zone %s)" % (plan["name"], zone)
        result["diff"] = {"before": plan["original"], "before_header": header, "after_header": header,
                          "after": {"permissions": [copy.deepcopy(DENY_EVERYONE)], "run_as_root": []}}
    if check_mode or plan["action"] != "lock":
        return result
    body = {"permissions": [copy.deepcopy(DENY_EVERYONE)], "run_as_root": []}
    update_object(client, SMB, {"name": plan["name"]}, body, zone, retries, counter)
    return result


def _restore_share(client, plan, zone, check_mode, retries, counter):
    original = plan["original"]
    result = {"name": plan["name"], "path": original.get("path"), "action": plan["action"],
              "changed": plan["action"] in ("restore", "missing")}
    wanted = {"permissions": original["permissions"], "run_as_root": original["run_as_root"]}
    if plan["action"] == "restore":
        header = "SMB share %s (zone %s)" % (plan["name"], zone)
        result["diff"] = {"before": plan["current"], "after": wanted, "before_header": header,
                          "after_header": header}
    if check_mode or plan["action"] != "restore":
        return result
    update_object(client, SMB, {"name": plan["name"]}, copy.deepcopy(wanted), zone, retries, counter)
    return result


def lock_shares(client, zone, lock_dir, roots=None, names=None, check_mode=False,
                max_workers=4, retries=DEFAULT_CONFLICT_RETRIES, counter=None):
    """Deny Everyone on the SMB shares of a scope, originals saved first.

    Order matters: the record with every original about to be replaced is
    written (and read back) *before* the first share is touched, so that a
    controller crashing mid-way leaves a record from which unlock can restore.
    Returns ``(results, record_written, missing_names, store)``.
    """
    store = LockStore(client, lock_dir, zone)
    shares = select_shares(list_objects(client, SMB, zone), roots, names)
    missing = _missing_names(shares, names)
    record = store.load() or new_lock_record(zone, lock_dir)
    plans = plan_lock(shares, record)
    to_save = [plan for plan in plans if plan["action"] == "lock"]
    record_written = False
    if to_save and not check_mode:
        for plan in to_save:
            saved = dict(plan["original"], path=plan.get("path"))
            record["shares"][plan["name"]] = saved
        store.save(record)
        _check_saved(store, to_save)
        record_written = True
    results = run_plans(plans, lambda plan: _lock_share(client, plan, zone, check_mode, retries, counter),
                        max_workers)
    return results, record_written, missing, store


def unlock_shares(client, zone, lock_dir, roots=None, names=None, check_mode=False,
                  max_workers=4, retries=DEFAULT_CONFLICT_RETRIES, counter=None):
    """Put back exactly what :func:`lock_shares` saved, then drop the record.

    Entries are removed from the record only for shares restored (or found
    already as saved, or deleted since); the file goes when it is empty.
    Returns ``(results, record_state, store)`` where ``record_state`` is
    ``absent`` (there was none), ``removed``, ``kept`` (entries remain: out of
    scope or failed) or ``unchanged``.
    """
    store = LockStore(client, lock_dir, zone)
    record = store.load()
    if record is None:
        return [], "absent", store
    shares_by_name = {share["name"].lower(): share for share in list_objects(client, SMB, zone)}
    plans = plan_unlock(shares_by_name, record, names, roots)
    results = run_plans(plans, lambda plan: _restore_share(client, plan, zone, check_mode, retries, counter),
                        max_workers)
    if check_mode or not plans:
        return results, "unchanged", store
    for plan, result in zip(plans, results):
        if not _failed(result):
            record["shares"].pop(plan["name"], None)
    if record["shares"]:
        store.save(record)
        return results, "kept", store
    store.remove()
    return results, "removed", store


def _failed(result):
    return isinstance(result, dict) and bool(result.get("failed"))


def _missing_names(shares, names):
    found = {share.get("name", "").lower() for share in shares}
    return [name for name in names or [] if name.lower() not in found]


def _check_saved(store, plans):
    """Read the record back: never touch a share whose original is not on the cluster."""
    record = store.load()
    saved = (record or {}).get("shares", {})
    lost = [plan["name"] for plan in plans if plan["name"] not in saved]
    if lost:
        raise OnefsError("lock record %s was written but does not hold %s; no share was locked"
                         % (store.path, ", ".join(sorted(lost))))
