# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SmartQuotas: find, create, modify and delete quotas without ever creating a duplicate.

A quota is identified by ``(path, type, persona, include_snapshots)``
(:func:`quota_key`); OneFS holds at most one quota per key.  Before creating,
the module looks the quota up with a filtered GET (``?path=&type=``) and
compares the key client-side, so a second run (or a run after a lost answer)
modifies the existing quota in place instead of adding another one (the bug
the Dell collection had, #175).

Sizes (:func:`parse_size`): plain bytes (``1048576`` or ``"1048576"``), or a
number with a unit.  Binary units are powers of 1024 (``KiB MiB GiB TiB PiB``),
decimal units powers of 1000 (``kB``/``KB MB GB TB PB``), ``B`` is bytes.
Units are case-insensitive.  One-letter units (``10G``) are refused as
ambiguous.  Durations (:func:`parse_duration`): seconds, or a number with
``s m h d w`` (``7d``).

Service functions: :func:`find_quotas`, :func:`list_quotas_under`,
:func:`ensure_quota`, :func:`delete_quota`.  ``dr_info`` reuses
:func:`list_quotas_under` and :func:`quota_view`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from decimal import Decimal, InvalidOperation

QUOTA_VERSION = 15
QUOTA_TYPES = ("directory", "user", "group", "default-directory", "default-user", "default-group")
PERSONA_TYPES = ("user", "group")
THRESHOLDS_ON = ("applogicalsize", "fslogicalsize", "physicalsize")
THRESHOLD_NAMES = ("hard", "soft", "advisory")
CLEAR = "none"   # the value that unsets a threshold (YAML null means "not given")

_UNITS = {
    "b": 1,
    "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "tb": 1000 ** 4, "pb": 1000 ** 5,
    "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3, "tib": 1024 ** 4, "pib": 1024 ** 5,
}
_DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NUMBER_UNIT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")
_PERSONA_ID = re.compile(r"^(UID|GID|SID|USER|GROUP):(.+)$", re.IGNORECASE)


class QuotaInputError(ValueError):
    """A quota option value that cannot be used; ``option`` names it."""

    def __init__(self, option, message):
        super(QuotaInputError, self).__init__("%s: %s" % (option, message))
        self.option = option


# --- sizes and durations -------------------------------------------------------

def parse_size(value, option="size"):
    """Bytes as an int from ``1024``, ``"1024"``, ``"10GiB"``, ``"1TB"``, ``"1.5 GiB"``.

    ``None`` -> ``None`` (not given); ``"none"`` -> :data:`CLEAR` (unset).
    Raises :class:`QuotaInputError` naming ``option``.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise QuotaInputError(option, "expected a size, got a boolean")
    if isinstance(value, int):
        return _positive(value, option)
    text = str(value).strip()
    if text.lower() == CLEAR:
        return CLEAR
    match = _NUMBER_UNIT.match(text)
    if not match:
        raise QuotaInputError(option, "%r is not a size (examples: 1048576, 512MB, 10GiB, 1TB)" % (value,))
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower() or "b")
    if factor is None:
        raise QuotaInputError(option, "unknown unit %r in %r (use B, kB, MB, GB, TB, PB (powers of 1000) or "
                                      "KiB, MiB, GiB, TiB, PiB (powers of 1024))" % (unit, value))
    size = Decimal(number) * factor
    if size != size.to_integral_value():
        raise QuotaInputError(option, "%r is not a whole number of bytes" % (value,))
    return _positive(int(size), option)


def _positive(size, option):
    if size < 1:
        raise QuotaInputError(option, "must be at least 1 byte (use 'none' to unset a threshold)")
    return size


def parse_duration(value, option="soft_grace"):
    """Seconds as an int from ``604800``, ``"7d"``, ``"12h"``, ``"1w"``; ``None`` -> ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise QuotaInputError(option, "expected a duration, got a boolean")
    if isinstance(value, int):
        if value < 1:
            raise QuotaInputError(option, "must be at least 1 second")
        return value
    match = _NUMBER_UNIT.match(str(value))
    factor = _DURATIONS.get((match.group(2) if match else "x").lower() or "s")
    if not match or factor is None:
        raise QuotaInputError(option, "%r is not a duration (examples: 604800, 7d, 12h, 1w)" % (value,))
    try:
        seconds = Decimal(match.group(1)) * factor
    except InvalidOperation:
        raise QuotaInputError(option, "%r is not a duration" % (value,))
    if seconds != seconds.to_integral_value() or seconds < 1:
        raise QuotaInputError(option, "%r is not a whole number of seconds >= 1" % (value,))
    return int(seconds)


# --- identity ------------------------------------------------------------------

def normalize_path(path):
    """``/ifs/data/x/`` -> ``/ifs/data/x`` (OneFS paths are absolute and case-sensitive)."""
    text = str(path or "").strip()
    while len(text) > 1 and text.endswith("/"):
        text = text[:-1]
    return text


def parse_persona(value, option="persona"):
    """A persona as OneFS takes it in a create body.

    ``"UID:1000"``/``"GID:0"``/``"SID:S-1-..."`` -> ``{"id": ...}``;
    ``"USER:alice"``/``"GROUP:wheel"`` -> ``{"type": "user", "name": "alice"}``;
    a dict with ``id`` or ``type`` + ``name`` is accepted as is.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        if value.get("id"):
            return {"id": str(value["id"])}
        if value.get("type") in PERSONA_TYPES and value.get("name"):
            return {"type": value["type"], "name": str(value["name"])}
        raise QuotaInputError(option, "a persona dict needs id, or type (user|group) and name")
    match = _PERSONA_ID.match(str(value).strip())
    if not match:
        raise QuotaInputError(option, "%r is not a persona (examples: UID:1000, GID:0, SID:S-1-5-21-..., "
                                      "USER:alice, GROUP:wheel)" % (value,))
    kind, rest = match.group(1).upper(), match.group(2)
    if kind in ("USER", "GROUP"):
        return {"type": kind.lower(), "name": rest}
    return {"id": "%s:%s" % (kind, rest)}


def persona_label(persona):
    """A one-word persona for keys and messages: ``UID:1000`` or ``USER:alice``; ``""`` for none."""
    if not persona:
        return ""
    if persona.get("id"):
        return str(persona["id"])
    return "%s:%s" % (str(persona.get("type") or "").upper(), persona.get("name") or "")


def persona_matches(wanted, have):
    """True when the quota persona ``have`` (as GET returns it) is the persona ``wanted``."""
    if not wanted:
        return not have
    if not have:
        return False
    if wanted.get("id"):
        return str(have.get("id") or "").lower() == wanted["id"].lower()
    return (str(have.get("name") or "").lower() == wanted["name"].lower()
            and (not have.get("type") or have.get("type") == wanted["type"]))


def quota_key(path, quota_type, persona, include_snapshots):
    """The identity of a quota: OneFS keeps at most one quota per key."""
    return (normalize_path(path), quota_type, persona_label(persona).lower(), bool(include_snapshots))


def quota_name(path, quota_type, persona=None, include_snapshots=False):
    """A readable name for results: ``/ifs/data/a (directory)``, ``/ifs/x (user UID:1000, snapshots)``."""
    details = [quota_type]
    if persona:
        details[0] += " " + persona_label(persona)
    if include_snapshots:
        details.append("snapshots")
    return "%s (%s)" % (normalize_path(path), ", ".join(details))


def same_quota(spec, quota):
    """True when the existing ``quota`` object is the one ``spec`` describes (full key)."""
    return (normalize_path(quota.get("path")) == spec["path"]
            and quota.get("type") == spec["type"]
            and bool(quota.get("include_snapshots")) == spec["include_snapshots"]
            and persona_matches(spec["persona"], quota.get("persona")))


def is_under(path, root):
    """True for ``root`` itself and anything below it."""
    path, root = normalize_path(path), normalize_path(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


# --- input -----------------------------------------------------------------------

def normalize_spec(entry, index=None):
    """Validate one entry of ``quotas`` and convert sizes/durations; raise QuotaInputError naming the option."""
    prefix = "quotas[%d]." % index if index is not None else ""
    path = normalize_path(entry.get("path"))
    if not path.startswith("/ifs"):
        raise QuotaInputError(prefix + "path", "%r must be an absolute path under /ifs" % (entry.get("path"),))
    quota_type = entry.get("type") or "directory"
    if quota_type not in QUOTA_TYPES:
        raise QuotaInputError(prefix + "type", "must be one of %s" % ", ".join(QUOTA_TYPES))
    persona = parse_persona(entry.get("persona"), prefix + "persona")
    if quota_type in ("user", "group") and not persona:
        raise QuotaInputError(prefix + "persona", "is required for a %s quota" % quota_type)
    if quota_type not in ("user", "group") and persona:
        raise QuotaInputError(prefix + "persona", "is only allowed for user and group quotas, not %s" % quota_type)
    spec = {
        "path": path,
        "type": quota_type,
        "persona": persona,
        "include_snapshots": bool(entry.get("include_snapshots")),
        "state": entry.get("state") or "present",
        "enforced": entry.get("enforced"),
        "container": entry.get("container"),
        "thresholds_on": entry.get("thresholds_on"),
        "description": entry.get("description"),
        "soft_grace": parse_duration(entry.get("soft_grace"), prefix + "soft_grace"),
    }
    for name in THRESHOLD_NAMES:
        spec[name] = parse_size(entry.get(name), prefix + name)
    if spec["state"] not in ("present", "absent"):
        raise QuotaInputError(prefix + "state", "must be present or absent")
    if spec["thresholds_on"] is not None and spec["thresholds_on"] not in THRESHOLDS_ON:
        raise QuotaInputError(prefix + "thresholds_on", "must be one of %s" % ", ".join(THRESHOLDS_ON))
    if spec["soft"] not in (None, CLEAR) and spec["soft_grace"] is None:
        raise QuotaInputError(prefix + "soft_grace", "is required with a soft threshold (seconds, or e.g. 7d)")
    _check_order(spec, prefix)
    spec["name"] = quota_name(path, quota_type, persona, spec["include_snapshots"])
    return spec


def _check_order(spec, prefix):
    """OneFS refuses soft or advisory thresholds above the hard one."""
    hard = spec["hard"]
    if not isinstance(hard, int):
        return
    for name in ("soft", "advisory"):
        if isinstance(spec[name], int) and spec[name] > hard:
            raise QuotaInputError(prefix + name, "(%d bytes) must not exceed hard (%d bytes)" % (spec[name], hard))


def check_duplicates(specs):
    """Two entries with the same key would fight each other: name both."""
    seen = {}
    for index, spec in enumerate(specs):
        key = quota_key(spec["path"], spec["type"], spec["persona"], spec["include_snapshots"])
        if key in seen:
            raise QuotaInputError("quotas", "entries %d and %d both describe %s" % (seen[key], index, spec["name"]))
        seen[key] = index


# --- plan --------------------------------------------------------------------------

def quota_view(quota):
    """The settable part of a quota object, for results and diffs."""
    thresholds = quota.get("thresholds") or {}
    return {
        "id": quota.get("id"),
        "path": quota.get("path"),
        "type": quota.get("type"),
        "persona": persona_label(quota.get("persona")) or None,
        "include_snapshots": bool(quota.get("include_snapshots")),
        "enforced": quota.get("enforced"),
        "container": quota.get("container"),
        "thresholds_on": quota.get("thresholds_on"),
        "description": quota.get("description"),
        "hard": thresholds.get("hard"),
        "soft": thresholds.get("soft"),
        "advisory": thresholds.get("advisory"),
        "soft_grace": thresholds.get("soft_grace"),
    }


def _wanted_thresholds(spec):
    """Thresholds the user set: bytes, or None for 'none' (unset)."""
    wanted = {}
    for name in THRESHOLD_NAMES + ("soft_grace",):
        value = spec.get(name)
        if value is not None:
            wanted[name] = None if value == CLEAR else value
    return wanted


def plan_modify(spec, quota):
    """``(body, actions)`` of the PUT that brings ``quota`` to ``spec``; empty when in step."""
    thresholds = dict((k, v) for k, v in (quota.get("thresholds") or {}).items()
                      if k in THRESHOLD_NAMES + ("soft_grace",))
    body = {}
    actions = []
    wanted = _wanted_thresholds(spec)
    changed = dict((k, v) for k, v in wanted.items() if thresholds.get(k) != v)
    if changed:
        merged = dict(thresholds)
        merged.update(changed)
        body["thresholds"] = merged
        actions.extend("set %s %s -> %s" % (k, thresholds.get(k), v) for k, v in sorted(changed.items()))
    for field in ("enforced", "container", "thresholds_on", "description"):
        value = spec.get(field)
        if value is not None and quota.get(field) != value:
            body[field] = value
            actions.append("set %s %s -> %s" % (field, quota.get(field), value))
    return body, actions


def create_body(spec):
    """POST body of a new quota from a normalized spec."""
    body = {"path": spec["path"], "type": spec["type"], "include_snapshots": spec["include_snapshots"]}
    if spec["persona"]:
        body["persona"] = spec["persona"]
    thresholds = dict((k, v) for k, v in _wanted_thresholds(spec).items() if v is not None)
    if thresholds:
        body["thresholds"] = thresholds
    # Fields not given are left to the cluster's defaults (enforced follows the thresholds).
    for field in ("enforced", "container", "thresholds_on", "description"):
        if spec.get(field) is not None:
            body[field] = spec[field]
    return body


# --- service functions ----------------------------------------------------------------

def quotas_path(quota_id=None, client=None):
    base = "/platform/%d/quota/quotas" % QUOTA_VERSION
    if quota_id is None:
        return base
    return "%s/%s" % (base, client.q(quota_id) if client is not None else quota_id)


def find_quotas(client, spec):
    """Existing quotas with the key of ``spec`` (filtered GET by path and type, full key client-side)."""
    query = {"path": spec["path"], "type": spec["type"]}
    found = client.list(quotas_path(), "quotas", query=query)
    return [q for q in found if same_quota(spec, q)]


def list_quotas_under(client, path):
    """Every quota on ``path`` or below it (recursive GET, filtered client-side as well)."""
    query = {"path": normalize_path(path), "recurse_path_children": "true"}
    found = client.list(quotas_path(), "quotas", query=query)
    return [q for q in found if is_under(q.get("path"), path)]


def delete_quota(client, quota_id):
    client.delete(quotas_path(quota_id, client))


def ensure_quota(client, spec, check_mode=False):
    """Read, plan and (unless ``check_mode``) apply one quota spec.

    Returns ``{name, changed, actions, before, after, id}``.  A quota is
    created only when the filtered GET finds none with the same key; a POST
    whose answer was lost is verified by looking the key up again.
    """
    existing = find_quotas(client, spec)
    quota = existing[0] if existing else None
    result = {"name": spec["name"], "path": spec["path"], "type": spec["type"],
              "persona": persona_label(spec["persona"]) or None, "before": quota_view(quota) if quota else None,
              "id": quota.get("id") if quota else None}
    if spec["state"] == "absent":
        return _absent(client, existing, result, check_mode)
    if quota is None:
        return _create(client, spec, result, check_mode)
    body, actions = plan_modify(spec, quota)
    result.update(changed=bool(body), actions=actions, after=result["before"])
    if body:
        merged = dict(quota, **body)
        result["after"] = quota_view(merged)
        if not check_mode:
            client.put(quotas_path(quota["id"], client), body)
            fresh = client.get_item(quotas_path(quota["id"], client), "quotas")
            result["after"] = quota_view(fresh or merged)
    return result


def _absent(client, existing, result, check_mode):
    result.update(changed=bool(existing), after=None,
                  actions=["delete quota %s" % q.get("id") for q in existing])
    if not check_mode:
        for quota in existing:
            delete_quota(client, quota["id"])
    return result


def _create(client, spec, result, check_mode):
    body = create_body(spec)
    result.update(changed=True, actions=["create quota"], after=quota_view(body))
    if check_mode:
        return result

    def verify():
        # The answer to the POST was lost: did the quota get created anyway?
        found = find_quotas(client, spec)
        return {"id": found[0].get("id")} if found else None

    created = client.post(quotas_path(), body, verify=verify) or {}
    result["id"] = created.get("id")
    fresh = client.get_item(quotas_path(result["id"], client), "quotas") if result["id"] else None
    result["after"] = quota_view(fresh or dict(body, id=result["id"]))
    return result


def plan_purge(existing_under, specs, root):
    """Quotas under ``root`` that no spec lists: these are removed.

    Listed quotas with ``state: absent`` are left to their own entry, so no
    quota is deleted twice.
    """
    return [q for q in existing_under
            if is_under(q.get("path"), root) and not any(same_quota(s, q) for s in specs)]


def purge_quota(client, quota, check_mode=False):
    """Delete one unlisted quota found by ``purge_under``; returns its result."""
    view = quota_view(quota)
    name = quota_name(quota.get("path"), quota.get("type"), quota.get("persona"), quota.get("include_snapshots"))
    result = {"name": name, "id": quota.get("id"), "changed": True, "before": view, "after": None,
              "actions": ["delete quota %s (not listed, under purge_under)" % quota.get("id")]}
    if not check_mode:
        delete_quota(client, quota["id"])
    return result
