# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness checks of a planned failover: pure functions over what ``dr_info`` returns.

Input is the dict :func:`drstate.describe` builds (``cluster``, ``policies``,
``pools``, ``spns``, ``quotas``, ``shares``, ``exports`` ...) read with the
original source as the ``local`` cluster and the original target as ``peer``.
Every check returns results ``{check, object, result, reason}`` with
``result`` one of ``ok``, ``warning``, ``error``; nothing here does I/O.

Outputs: :func:`counts`, :func:`summary_lines` (one line per non-ok result),
:func:`to_json` and :func:`to_junit` (one JUnit test case per result: a warning
is a ``<skipped>`` with its reason so CI shows it without failing the build
unless ``block_on_warning``, an error a ``<failure>``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time
from xml.sax.saxutils import escape, quoteattr

from . import ads, drstate

OK = "ok"
WARNING = "warning"
ERROR = "error"
RESULTS = (OK, WARNING, ERROR)

SOURCE = "source"
TARGET = "target"
# dr_readiness reads the original source as dr_info's "local" and the target as its "peer".
LABELS = {SOURCE: drstate.LOCAL, TARGET: drstate.PEER}

# Target-record states of a policy ready for a planned failover (onefs-papi.md 5.1).
READY_RECORD_STATES = (drstate.WRITES_DISABLED,)


def result(check, obj, outcome, reason):
    return {"check": check, "object": obj, "result": outcome, "reason": reason}


def _side(info, key, role):
    return ((info.get(key) or {}).get(LABELS[role])) or []


def _norm(name):
    return str(name or "").strip().rstrip(".").lower()


# --------------------------------------------------------------------------- clusters
def check_clusters(info, read_errors=None):
    """Both clusters reachable, every area readable (privileges), and their OneFS versions."""
    found = []
    clusters = info.get("cluster") or {}
    versions = {}
    for role in (SOURCE, TARGET):
        entry = clusters.get(LABELS[role])
        if not entry:
            found.append(result("cluster_reachable", role, ERROR, "no connection given for the %s cluster" % role))
            continue
        if not entry.get("reachable"):
            found.append(result("cluster_reachable", role, ERROR,
                                "%s cluster not reachable: %s" % (role, entry.get("error"))))
            continue
        versions[role] = entry.get("onefs_version")
        found.append(result("cluster_reachable", role, OK, "%s (OneFS %s) answered"
                            % (entry.get("name"), entry.get("onefs_version"))))
    for role in (SOURCE, TARGET):
        if role not in versions:
            continue
        failed = [line for line in read_errors or [] if line.startswith(LABELS[role] + " ")]
        if failed:
            found.append(result("cluster_privileges", role, ERROR,
                                "could not read (missing read privilege?): %s" % "; ".join(failed)))
        else:
            found.append(result("cluster_privileges", role, OK, "every area needed was readable"))
    found.extend(_version_check(versions))
    return found


def _release(version):
    parts = str(version or "").split(".")
    return tuple(parts[:2])


def _version_check(versions):
    if len(versions) < 2:
        return []
    src, tgt = versions[SOURCE], versions[TARGET]
    text = "source OneFS %s, target OneFS %s" % (src, tgt)
    if _release(src) != _release(tgt):
        return [result("onefs_version", "clusters", WARNING,
                       text + ": different releases; SyncIQ failback needs the target to run the same or a "
                              "newer release than the source")]
    return [result("onefs_version", "clusters", OK, text)]


# --------------------------------------------------------------------------- policies
def check_policies(info, rpo, now=None):
    """Per policy: exists, enabled, not conflicted, last job ok, within RPO, no blocking job,
    target record state, no stale mirror."""
    now = time.time() if now is None else now
    found = []
    for entry in info.get("policies") or []:
        found.extend(_policy_checks(entry, rpo, now))
    return found


def _policy_checks(entry, rpo, now):
    name = entry["name"]
    src = entry.get("source") or {}
    if not src.get("exists"):
        return [result("policy_exists", name, ERROR, "policy %s not found on the source cluster (state %s: %s)"
                       % (name, entry.get("state"), "; ".join(entry.get("reasons") or [])))]
    found = [
        _enabled(name, src),
        _conflicted(name, src),
        _last_job(name, src, entry.get("target") or {}),
        _rpo(name, src, rpo, now),
        _running_job(name, entry),
        _record_state(name, entry.get("target") or {}),
        _stale_mirror(name, entry.get("mirror") or {}),
    ]
    return found


def _enabled(name, src):
    if src.get("enabled"):
        return result("policy_enabled", name, OK, "enabled")
    return result("policy_enabled", name, ERROR, "policy %s is disabled: the final sync cannot run" % name)


def _conflicted(name, src):
    if src.get("conflicted"):
        return result("policy_not_conflicted", name, ERROR,
                      "policy %s is conflicted: resolve it (reset or resolve) before a failover" % name)
    return result("policy_not_conflicted", name, OK, "not conflicted")


def _last_job(name, src, tgt):
    for where, state in (("source", src.get("last_job_state")), ("target record", tgt.get("last_job_state"))):
        if state in drstate.FAILED_JOB_STATES:
            return result("last_job_succeeded", name, ERROR, "last job of %s on the %s: %s" % (name, where, state))
    return result("last_job_succeeded", name, OK, "last job: %s" % (src.get("last_job_state") or "none"))


def _rpo(name, src, rpo, now):
    last = src.get("last_success")
    if not last:
        return result("rpo", name, ERROR, "policy %s has never completed a sync" % name)
    age = max(0, int(now - float(last)))
    if age > rpo:
        return result("rpo", name, ERROR, "last successful sync %ds ago, older than the RPO of %ds" % (age, rpo))
    return result("rpo", name, OK, "last successful sync %ds ago (RPO %ds)" % (age, rpo))


def _running_job(name, entry):
    jobs = [(where, (entry.get(where) or {}).get("running_job")) for where in ("source", "target", "mirror")]
    jobs = [(where, job) for where, job in jobs if job]
    if not jobs:
        return result("no_blocking_job", name, OK, "no job running")
    where, job = jobs[0]
    text = "%s job %s of %s running on the %s (%s)" % (job.get("action"), job.get("id"), name, where, job.get("state"))
    if job.get("action") == "run" and where == "source":
        return result("no_blocking_job", name, WARNING, text + ": the final sync waits for it")
    return result("no_blocking_job", name, ERROR, text + ": a failover cannot start while it runs")


def _record_state(name, tgt):
    if not tgt.get("visible"):
        return result("target_record", name, ERROR, "target cluster not readable")
    if not tgt.get("exists"):
        return result("target_record", name, ERROR, "no target record %s on the target (association broken?)" % name)
    state = tgt.get("record_state")
    if state in READY_RECORD_STATES:
        return result("target_record", name, OK, "target record %s" % state)
    return result("target_record", name, ERROR,
                  "target record is %s, expected writes_disabled before a failover" % state)


def _stale_mirror(name, mirror):
    if mirror.get("exists"):
        return result("no_stale_mirror", name, WARNING,
                      "%s still exists on the target (left by an earlier failback): a resync_prep after this "
                      "failover would collide with it; remove it or keep it disabled" % drstate.mirror_name(name))
    return result("no_stale_mirror", name, OK, "no %s" % drstate.mirror_name(name))


# --------------------------------------------------------------------------- SmartConnect
def _pools_by_id(info, role):
    return dict((p.get("id"), p) for p in _side(info, "pools", role))


def scoped_names(info, pool_map):
    """Every SmartConnect name (zone and aliases) of the mapped source pools."""
    pools = _pools_by_id(info, SOURCE)
    names = []
    for pair in pool_map or []:
        names.extend((pools.get(pair.get("source")) or {}).get("names") or [])
    return [n for n in names if n]


def check_smartconnect(info, pool_map):
    """Mapped pools exist; each name of the scope is claimed by exactly one cluster."""
    found = []
    source_pools, target_pools = _pools_by_id(info, SOURCE), _pools_by_id(info, TARGET)
    claims = _claims(info)
    for pair in pool_map or []:
        src_id, tgt_id = pair.get("source"), pair.get("target")
        found.append(_pool_exists(src_id, source_pools, SOURCE))
        found.append(_pool_exists(tgt_id, target_pools, TARGET))
        for name in (source_pools.get(src_id) or {}).get("names") or []:
            found.append(_single_claim(name, claims.get(_norm(name), [])))
    if not pool_map:
        found.append(result("smartconnect_pools", "pools", WARNING,
                            "no pool mapping (onefs_dr_pools): SmartConnect names will not move"))
    return found


def _claims(info):
    claims = {}
    for role in (SOURCE, TARGET):
        for pool in _side(info, "pools", role):
            for name in pool.get("names") or []:
                claims.setdefault(_norm(name), []).append("%s %s" % (role, pool.get("id")))
    return claims


def _pool_exists(pool_id, pools, role):
    if pool_id in pools:
        return result("smartconnect_pool", "%s %s" % (role, pool_id), OK, "pool present on the %s" % role)
    why = " (cannot receive the names)" if role == TARGET else ""
    return result("smartconnect_pool", "%s %s" % (role, pool_id), ERROR,
                  "pool %s not found on the %s cluster%s" % (pool_id, role, why))


def _single_claim(name, owners):
    if len(owners) == 1:
        return result("smartconnect_name", name, OK, "claimed by %s only" % owners[0])
    return result("smartconnect_name", name, ERROR,
                  "claimed by %d pools (%s): a name must be answered by exactly one cluster"
                  % (len(owners), ", ".join(owners)))


# --------------------------------------------------------------------------- SPNs
def _provider(info, role, name=None):
    providers = (info.get("spns") or {}).get(LABELS[role]) or []
    if name:
        providers = [p for p in providers if _norm(p.get("name")) == _norm(name)]
    return providers[0] if providers else None


def check_spns(info, pool_map, provider_name=None):
    """SPNs of the scope's SmartConnect names on the source's machine account, none on the target's."""
    names = scoped_names(info, pool_map)
    if not names:
        return []
    wanted = ads.spns_from_smartconnect(names)
    source, target = _provider(info, SOURCE, provider_name), _provider(info, TARGET, provider_name)
    if not source:
        return [result("spn_source", provider_name or "ads", ERROR, "no AD provider%s on the source"
                       % (" " + provider_name if provider_name else ""))]
    found = []
    held_src = set(ads.spn_key(s) for s in source.get("spns") or [])
    held_tgt = set(ads.spn_key(s) for s in (target or {}).get("spns") or [])
    for spn in wanted:
        if ads.spn_key(spn) in held_src:
            found.append(result("spn_source", spn, OK, "on %s" % source.get("machine_account")))
        else:
            found.append(result("spn_source", spn, WARNING, "missing on the source machine account %s: Kerberos "
                                "clients of this name fall back to NTLM (or fail) today"
                                % source.get("machine_account")))
        if ads.spn_key(spn) in held_tgt:
            found.append(result("spn_collision", spn, ERROR, "also held by the target machine account %s: AD "
                                "refuses or misroutes a duplicate SPN" % (target or {}).get("machine_account")))
        else:
            found.append(result("spn_collision", spn, OK, "not on the target machine account"))
    return found


# --------------------------------------------------------------------------- path mapping
def path_pairs(info):
    """``[(source root, target path)]`` of the scope's policies, longest root first."""
    pairs = []
    for entry in info.get("policies") or []:
        src = entry.get("source") or {}
        root = src.get("source_root_path")
        target_path = src.get("target_path") or (entry.get("target") or {}).get("target_path")
        if root and target_path:
            pairs.append((root.rstrip("/"), target_path.rstrip("/")))
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def map_path(path, pairs):
    """The target path of a source path (None when no policy of the scope covers it)."""
    path = (path or "").rstrip("/")
    for root, target in pairs:
        if path == root or path.startswith(root + "/"):
            return target + path[len(root):]
    return None


# --------------------------------------------------------------------------- quotas
def _quota_key(view, path):
    return (path, view.get("type"), view.get("persona"), bool(view.get("include_snapshots")))


QUOTA_LIMITS = ("hard", "soft", "advisory", "soft_grace")


def check_quotas(info):
    """Quotas on the source paths against quotas on the mapped target paths."""
    pairs = path_pairs(info)
    target = dict((_quota_key(q, (q.get("path") or "").rstrip("/")), q) for q in _side(info, "quotas", TARGET))
    found = []
    for quota in _side(info, "quotas", SOURCE):
        mapped = map_path(quota.get("path"), pairs)
        if mapped is None:
            continue
        label = "%s quota %s%s" % (quota.get("type"), quota.get("path"),
                                   " (%s)" % quota["persona"] if quota.get("persona") else "")
        other = target.get(_quota_key(quota, mapped))
        if other is None:
            found.append(result("quota_conflict", label, OK, "no quota on %s: the failover creates it" % mapped))
            continue
        differs = [k for k in QUOTA_LIMITS if quota.get(k) != other.get(k)]
        if differs:
            found.append(result("quota_conflict", label, ERROR, "the target already has a %s quota on %s with "
                                "other limits (%s): resolve it before a failover"
                                % (other.get("type"), mapped, ", ".join(
                                    "%s %s != %s" % (k, quota.get(k), other.get(k)) for k in differs))))
        else:
            found.append(result("quota_conflict", label, OK, "the same quota already exists on %s" % mapped))
    return found


# --------------------------------------------------------------------------- shares and exports
def check_shares(info, config_sync=False):
    """SMB shares and NFS exports of the scope exist on the target (or config sync creates them)."""
    pairs = path_pairs(info)
    found = []
    target_shares = set((s.get("name") or "").lower() for s in _side(info, "shares", TARGET))
    for share in _side(info, "shares", SOURCE):
        found.append(_presence("smb_share", share.get("name"), map_path(share.get("path"), pairs),
                               (share.get("name") or "").lower() in target_shares, config_sync))
    target_exports = set(tuple(sorted(p.rstrip("/") for p in e.get("paths") or []))
                         for e in _side(info, "exports", TARGET))
    for export in _side(info, "exports", SOURCE):
        mapped = [map_path(p, pairs) or p for p in export.get("paths") or []]
        key = tuple(sorted(p.rstrip("/") for p in mapped))
        found.append(_presence("nfs_export", ",".join(export.get("paths") or []), ",".join(mapped),
                               key in target_exports, config_sync))
    return found


def _presence(check, name, target_path, present, config_sync):
    if present:
        return result(check, name, OK, "present on the target")
    if config_sync:
        return result(check, name, WARNING, "missing on the target (%s): will be created by config sync"
                      % target_path)
    return result(check, name, ERROR, "missing on the target (%s) and config sync is off: clients will not "
                  "find it after the failover" % target_path)


# --------------------------------------------------------------------------- all of it
def run_checks(info, rpo, pool_map=None, provider_name=None, config_sync=False, read_errors=None, now=None):
    """Every check, in the order a person reads them."""
    found = check_clusters(info, read_errors)
    found += check_policies(info, rpo, now)
    found += check_smartconnect(info, pool_map)
    found += check_spns(info, pool_map, provider_name)
    found += check_quotas(info)
    found += check_shares(info, config_sync)
    return found


def counts(results):
    found = dict((r, 0) for r in RESULTS)
    for entry in results:
        found[entry["result"]] += 1
    return found


def blocking(results, block_on_warning=False):
    """The results that stop a failover: errors, and warnings when ``block_on_warning``."""
    stop = (ERROR, WARNING) if block_on_warning else (ERROR,)
    return [r for r in results if r["result"] in stop]


def summary_lines(results, estimate=None):
    """One line per non-ok result, then the counts (and the estimate)."""
    lines = ["%-7s %s [%s]: %s" % (r["result"].upper(), r["check"], r["object"], r["reason"])
             for r in results if r["result"] != OK]
    c = counts(results)
    lines.append("readiness: %d ok, %d warning(s), %d error(s)" % (c[OK], c[WARNING], c[ERROR]))
    if estimate:
        lines.append("estimate: final sync %ss, whole failover %ss (%s)" % (
            estimate["final_sync_s"], estimate["failover_s"], estimate["basis"]))
    return lines


def to_json(results, estimate=None, **extra):
    doc = dict(extra)
    doc.update({"results": results, "counts": counts(results), "estimate": estimate})
    return json.dumps(doc, indent=2, sort_keys=True)


def to_junit(results, suite="onefs.dr.readiness", timestamp=None):
    """JUnit XML: one testcase per result; error -> <failure>, warning -> <skipped>."""
    c = counts(results)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp if timestamp is not None else time.time()))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<testsuites name=%s tests="%d" failures="%d" skipped="%d">'
             % (quoteattr(suite), len(results), c[ERROR], c[WARNING]),
             '  <testsuite name=%s tests="%d" failures="%d" errors="0" skipped="%d" timestamp="%s">'
             % (quoteattr(suite), len(results), c[ERROR], c[WARNING], stamp)]
    for entry in results:
        head = '    <testcase classname=%s name=%s' % (quoteattr("readiness." + entry["check"]),
                                                       quoteattr(str(entry["object"])))
        if entry["result"] == OK:
            lines.append(head + '/>')
            continue
        tag = "failure" if entry["result"] == ERROR else "skipped"
        lines.append(head + '>')
        lines.append('      <%s message=%s>%s</%s>' % (tag, quoteattr(entry["reason"]), escape(entry["reason"]), tag))
        lines.append('    </testcase>')
    lines.append('  </testsuite>')
    lines.append('</testsuites>')
    return "\n".join(lines) + "\n"
