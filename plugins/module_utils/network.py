# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SmartConnect zones and aliases of network pools.

A pool is named by its id ``groupnet.subnet.pool``.  The SmartConnect names a
cluster answers DNS for are the pool's ``sc_dns_zone`` plus its
``sc_dns_zone_aliases``.  During a failover the source cluster must stop
claiming those names ("park" them under a prefix) and the target cluster must
start claiming them (add them as zone or aliases).

Pure helpers (no I/O): :func:`split_pool_id`, :func:`normalize_name`,
:func:`plan_aliases`, :func:`park_name`, :func:`unpark_name`,
:func:`pool_names`, :func:`plan_pool`, :func:`claims`, :func:`names_by_pool`,
:func:`name_collisions`.

Service functions (take a ``PapiClient``): :func:`get_pool`,
:func:`list_pools`, :func:`ensure_pool` (read, plan, apply for one pool,
with the guard against claiming names the peer cluster still answers for).
``dr_info`` reuses :func:`list_pools` and :func:`pool_summary`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# SDK 9.5 versions of the network tree; older clusters answer them too
# (PAPI versions are accepted from the one a resource appeared in up to latest).
POOLS_VERSION = 16

ALIASES_STATES = ("present", "absent", "exact")
ZONE_STATES = ("present", "parked", "unparked")
DEFAULT_PARK_PREFIX = "parked-"

_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


class PoolIdError(ValueError):
    """A pool id that is not ``groupnet.subnet.pool``."""


def split_pool_id(pool_id):
    """``"groupnet0.subnet0.pool0"`` -> ``("groupnet0", "subnet0", "pool0")``.

    Raises :class:`PoolIdError` when the id does not have exactly three
    non-empty parts (OneFS object names cannot contain dots).
    """
    parts = str(pool_id or "").split(".")
    if len(parts) != 3 or not all(parts):
        raise PoolIdError("pool id %r must be groupnet.subnet.pool, e.g. groupnet0.subnet0.pool0" % (pool_id,))
    return tuple(parts)


def pool_path(client, pool_id):
    """PAPI path of one pool (each segment quoted by the client)."""
    groupnet, subnet, pool = split_pool_id(pool_id)
    return "/platform/%d/network/groupnets/%s/subnets/%s/pools/%s" % (
        POOLS_VERSION, client.q(groupnet), client.q(subnet), client.q(pool))


def normalize_name(name):
    """DNS names compare case-insensitively and without the root dot."""
    return str(name or "").strip().rstrip(".").lower()


def valid_dns_name(name):
    """True for a syntactically valid DNS name (labels of letters, digits, ``-`` and ``_``)."""
    name = str(name or "").strip().rstrip(".")
    if not name or len(name) > 253:
        return False
    return all(_LABEL.match(label) for label in name.split("."))


def _unique(names):
    """Drop empty names and duplicates (case-insensitively), keep the first spelling and the order."""
    seen = set()
    result = []
    for name in names or []:
        key = normalize_name(name)
        if not key or key in seen:
            continue
        seen.add(key)
        result.append(str(name).strip().rstrip("."))
    return result


def plan_aliases(current, wanted, aliases_state):
    """The full alias list to PUT (OneFS replaces the list as a whole).

    * ``present``: current aliases, then the wanted ones not there yet;
    * ``absent``: current aliases minus the wanted ones;
    * ``exact``: exactly the wanted ones (in the order given).

    ``wanted`` of ``None`` means "no opinion": the current list is kept.
    """
    current = _unique(current)
    if wanted is None:
        return current
    wanted = _unique(wanted)
    wanted_keys = set(normalize_name(n) for n in wanted)
    if aliases_state == "exact":
        return wanted
    if aliases_state == "absent":
        return [n for n in current if normalize_name(n) not in wanted_keys]
    if aliases_state == "present":
        have = set(normalize_name(n) for n in current)
        return current + [n for n in wanted if normalize_name(n) not in have]
    raise ValueError("aliases_state must be one of %s, got %r" % (", ".join(ALIASES_STATES), aliases_state))


def park_name(name, prefix):
    """``cifs.example.com`` -> ``parked-cifs.example.com``; never prefixes twice; ``""`` stays ``""``."""
    if not name:
        return name
    if normalize_name(name).startswith(prefix.lower()):
        return name
    return prefix + name


def unpark_name(name, prefix):
    """Strip the park prefix if the name carries it; other names are returned unchanged."""
    if not name:
        return name
    if normalize_name(name).startswith(prefix.lower()):
        return name[len(prefix):]
    return name


def pool_names(sc_dns_zone, aliases):
    """Every DNS name a pool makes this cluster answer for, zone first."""
    return _unique([sc_dns_zone] + list(aliases or []))


def pool_summary(pool):
    """The SmartConnect view of a pool object: id, zone, aliases, access zone, names."""
    zone = pool.get("sc_dns_zone") or ""
    aliases = list(pool.get("sc_dns_zone_aliases") or [])
    return {
        "id": pool.get("id"),
        "access_zone": pool.get("access_zone"),
        "sc_dns_zone": zone,
        "aliases": aliases,
        "names": pool_names(zone, aliases),
    }


def plan_pool(current, desired):
    """Compute the target zone and aliases for one pool and the actions to get there.

    ``current`` is the pool object from the cluster; ``desired`` a dict with
    ``state``, ``sc_dns_zone`` (None = keep), ``aliases`` (None = keep),
    ``aliases_state`` and ``park_prefix``.  Returns ``(after, body, actions)``:
    the SmartConnect view after the change, the PUT body (empty when nothing
    changes) and short action strings.
    """
    zone = current.get("sc_dns_zone") or ""
    aliases = _unique(current.get("sc_dns_zone_aliases") or [])
    state = desired.get("state") or "present"
    prefix = desired.get("park_prefix") or DEFAULT_PARK_PREFIX
    if state == "parked":
        new_zone = park_name(zone, prefix)
        new_aliases = [park_name(a, prefix) for a in aliases]
    elif state == "unparked":
        new_zone = unpark_name(zone, prefix)
        new_aliases = [unpark_name(a, prefix) for a in aliases]
    else:
        wanted_zone = desired.get("sc_dns_zone")
        new_zone = zone if wanted_zone is None else wanted_zone.strip().rstrip(".")
        new_aliases = plan_aliases(aliases, desired.get("aliases"), desired.get("aliases_state") or "present")
    new_aliases = _unique(new_aliases)

    body = {}
    actions = []
    if normalize_name(new_zone) != normalize_name(zone):
        body["sc_dns_zone"] = new_zone
        actions.append(_zone_action(state, zone, new_zone))
    # DNS does not care about the order of aliases: only membership is a change.
    if _keys(new_aliases) != _keys(aliases):
        body["sc_dns_zone_aliases"] = new_aliases
        actions.extend(_alias_actions(state, aliases, new_aliases, prefix))
    after = {"sc_dns_zone": new_zone if "sc_dns_zone" in body else zone,
             "aliases": new_aliases if "sc_dns_zone_aliases" in body else aliases}
    return after, body, actions


def _keys(names):
    return set(normalize_name(n) for n in names)


def _zone_action(state, old, new):
    if state == "parked":
        return "park zone %s as %s" % (old, new)
    if state == "unparked":
        return "unpark zone %s as %s" % (old, new)
    if not new:
        return "clear zone %s" % old
    if not old:
        return "set zone %s" % new
    return "rename zone %s to %s" % (old, new)


def _alias_actions(state, before, after, prefix):
    before_keys = _keys(before)
    after_keys = _keys(after)
    if state in ("parked", "unparked"):
        verb, rename = ("park", park_name) if state == "parked" else ("unpark", unpark_name)
        return ["%s alias %s as %s" % (verb, a, rename(a, prefix)) for a in before
                if normalize_name(rename(a, prefix)) != normalize_name(a)]
    actions = ["add alias %s" % a for a in after if normalize_name(a) not in before_keys]
    actions += ["remove alias %s" % a for a in before if normalize_name(a) not in after_keys]
    return actions


def claims(before, after):
    """DNS names this cluster stopped claiming (``released``) and started claiming (``claimed``)."""
    old = pool_names(before["sc_dns_zone"], before["aliases"])
    new = pool_names(after["sc_dns_zone"], after["aliases"])
    old_keys = set(normalize_name(n) for n in old)
    new_keys = set(normalize_name(n) for n in new)
    return ([n for n in old if normalize_name(n) not in new_keys],
            [n for n in new if normalize_name(n) not in old_keys])


# --- service functions -------------------------------------------------------

def get_pool(client, pool_id):
    """The pool object, or ``None`` when the pool does not exist."""
    return client.get_item(pool_path(client, pool_id), "pools")


def list_pools(client, groupnet=None, subnet=None, access_zone=None):
    """Every pool of the cluster (cluster-wide list), optionally filtered."""
    query = {}
    if groupnet:
        query["groupnet"] = groupnet
    if subnet:
        query["subnet"] = subnet
    if access_zone:
        query["access_zone"] = access_zone
    return client.list("/platform/%d/network/pools" % POOLS_VERSION, "pools", query=query or None)


class NameCollision(ValueError):
    """A name this cluster would start answering for is still a SmartConnect name of the peer."""

    def __init__(self, message, collisions):
        super(NameCollision, self).__init__(message)
        self.collisions = collisions


def names_by_pool(pools):
    """``{normalized DNS name: pool id}`` over a cluster's pools (zone names and aliases)."""
    found = {}
    for pool in pools or []:
        for name in pool_names(pool.get("sc_dns_zone"), pool.get("sc_dns_zone_aliases")):
            found.setdefault(normalize_name(name), pool.get("id"))
    return found


def name_collisions(claimed, peer_names):
    """Names of ``claimed`` that the peer answers for: ``[{name, peer_pool}]``."""
    return [{"name": name, "peer_pool": peer_names[normalize_name(name)]}
            for name in claimed if normalize_name(name) in peer_names]


def ensure_pool(client, desired, check_mode=False, peer_names=None, allow_collision=False):
    """Read, plan and (unless ``check_mode``) apply the SmartConnect names of one pool.

    Returns ``{name, changed, actions, before, after, released, claimed,
    collisions}``; ``before``/``after`` are ``{sc_dns_zone, aliases}``.  A
    missing pool raises ``LookupError``.  ``peer_names`` (from
    :func:`names_by_pool` of the other cluster's pools) makes the pool refuse,
    before any write, to claim a name the peer still answers for
    (:class:`NameCollision`) unless ``allow_collision``: both clusters
    answering for one name sends clients to both sides (split brain).
    """
    pool_id = desired["pool"]
    current = get_pool(client, pool_id)
    if current is None:
        raise LookupError("pool %s does not exist on %s" % (pool_id, getattr(client, "name", "the cluster")))
    before = {"sc_dns_zone": current.get("sc_dns_zone") or "",
              "aliases": list(current.get("sc_dns_zone_aliases") or [])}
    after, body, actions = plan_pool(current, desired)
    released, claimed = claims(before, after)
    found = name_collisions(claimed, peer_names or {})
    if found and not allow_collision:
        raise NameCollision("pool %s: refusing to claim names the peer cluster still answers for: %s; park them "
                            "on the peer first, or set allow_collision=true" % (pool_id, ", ".join(
                                "%s (peer pool %s)" % (c["name"], c["peer_pool"]) for c in found)), found)
    result = {"name": pool_id, "changed": bool(body), "actions": actions, "before": before, "after": after,
              "access_zone": current.get("access_zone"), "released": released, "claimed": claimed,
              "collisions": found}
    if body and not check_mode:
        client.put(pool_path(client, pool_id), body)
        fresh = get_pool(client, pool_id) or {}
        result["after"] = {"sc_dns_zone": fresh.get("sc_dns_zone") or "",
                           "aliases": list(fresh.get("sc_dns_zone_aliases") or [])}
        result["released"], result["claimed"] = claims(before, result["after"])
    return result
