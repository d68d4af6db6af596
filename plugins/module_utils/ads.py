# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Active Directory providers and the SPNs of the cluster's machine account.

PAPI has no SPN endpoint: the SPNs live on the ADS provider object
(``/platform/14/auth/providers/ads/<DOMAIN>``) as ``spns`` (registered on the
machine account), ``recommended_spns`` (what OneFS expects from its
SmartConnect names) and ``extra_expected_spns`` (expected beyond the
recommended ones).  A change is a PUT of the full ``spns`` list together with
AD credentials that may write the machine account.

Pure helpers (no I/O): :func:`spn_key`, :func:`valid_spn`,
:func:`spns_from_smartconnect`, :func:`plan_spns`, :func:`spn_check`,
:func:`plan_extra_expected`, :func:`collisions`.

Service functions (take a ``PapiClient``): :func:`get_provider`,
:func:`list_providers`, :func:`ensure_spns`.  ``dr_info`` reuses
:func:`get_provider`, :func:`list_providers` and :func:`spn_check`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

ADS_VERSION = 14
SPN_STATES = ("present", "absent", "exact")

# service class / host [:port] [/ service name]; no white space anywhere.
_SPN = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*/[^/\s:]+(:\d+)?(/\S+)?$")


class CredentialsRequired(ValueError):
    """SPNs must change but no AD credentials were given."""


class SpnCollision(ValueError):
    """An SPN to add is still registered on the peer cluster's machine account."""

    def __init__(self, message, collisions):
        super(SpnCollision, self).__init__(message)
        self.collisions = collisions


# --- pure helpers ------------------------------------------------------------

def spn_key(spn):
    """AD compares SPNs case-insensitively."""
    return str(spn or "").strip().lower()


def valid_spn(spn):
    """True for ``service/host``, ``service/host:port`` or ``service/host/name``."""
    return bool(_SPN.match(str(spn or "").strip()))


def unique_spns(spns):
    """Drop empty entries and case-insensitive duplicates; keep the first spelling and the order."""
    seen = set()
    result = []
    for spn in spns or []:
        key = spn_key(spn)
        if key and key not in seen:
            seen.add(key)
            result.append(str(spn).strip())
    return result


def spns_from_smartconnect(names):
    """``["cifs.example.com"]`` -> ``["HOST/cifs", "HOST/cifs.example.com"]``.

    Kerberos clients ask for the short and the fully qualified name, so both
    belong to the machine account of the cluster that answers for the name.
    """
    result = []
    for name in names or []:
        fqdn = str(name).strip().rstrip(".")
        if not fqdn:
            continue
        short = fqdn.split(".", 1)[0]
        result.extend(["HOST/%s" % short, "HOST/%s" % fqdn])
    return unique_spns(result)


def _minus(left, right):
    keys = set(spn_key(s) for s in right)
    return [s for s in left if spn_key(s) not in keys]


def plan_spns(current, wanted, state):
    """The full SPN list to PUT for ``state`` (present / absent / exact)."""
    current = unique_spns(current)
    wanted = unique_spns(wanted)
    if state == "present":
        return current + _minus(wanted, current)
    if state == "absent":
        return _minus(current, wanted)
    if state == "exact":
        return wanted
    raise ValueError("state must be one of %s, got %r" % (", ".join(SPN_STATES), state))


def spn_check(provider):
    """``isi auth ads spn check``: ``missing`` = recommended − registered;
    ``extra`` = registered − recommended − extra_expected."""
    spns = unique_spns(provider.get("spns"))
    recommended = unique_spns(provider.get("recommended_spns"))
    expected = recommended + _minus(unique_spns(provider.get("extra_expected_spns")), recommended)
    return {"missing": _minus(recommended, spns), "extra": _minus(spns, expected)}


def plan_extra_expected(current_extra, recommended, added, removed):
    """Keep ``extra_expected_spns`` in step: added non-recommended SPNs join it, removed ones leave it."""
    extra = unique_spns(current_extra)
    extra = _minus(extra, removed)
    return extra + _minus(_minus(added, recommended), extra)


def collisions(to_add, peer_provider):
    """SPNs of ``to_add`` that the peer's machine account still holds: ``[{spn, account}]``."""
    if not peer_provider:
        return []
    held = set(spn_key(s) for s in peer_provider.get("spns") or [])
    account = peer_provider.get("machine_account") or peer_provider.get("hostname") or "?"
    return [{"spn": s, "account": account} for s in to_add if spn_key(s) in held]


def same_spns(left, right):
    return set(spn_key(s) for s in left or []) == set(spn_key(s) for s in right or [])


# --- service functions -------------------------------------------------------

def provider_path(client, name):
    return "/platform/%d/auth/providers/ads/%s" % (ADS_VERSION, client.q(name))


def get_provider(client, name):
    """The ADS provider object named ``name`` (the domain), or ``None``."""
    return client.get_item(provider_path(client, name), "ads")


def list_providers(client):
    """Every ADS provider of the cluster."""
    return client.list("/platform/%d/auth/providers/ads" % ADS_VERSION, "ads")


def provider_view(provider):
    """What a result shows of a provider: account and SPN lists (never credentials)."""
    return {
        "name": provider.get("name") or provider.get("id"),
        "machine_account": provider.get("machine_account"),
        "spns": list(provider.get("spns") or []),
        "recommended_spns": list(provider.get("recommended_spns") or []),
        "extra_expected_spns": list(provider.get("extra_expected_spns") or []),
    }


def plan_provider(provider, wanted, state):
    """``(desired_spns, added, removed, extra_expected, actions)`` for one provider."""
    current = unique_spns(provider.get("spns"))
    desired = plan_spns(current, wanted, state)
    added = _minus(desired, current)
    removed = _minus(current, desired)
    recommended = unique_spns(provider.get("recommended_spns"))
    extra = plan_extra_expected(provider.get("extra_expected_spns"), recommended, added, removed)
    actions = ["add SPN %s" % s for s in added] + ["remove SPN %s" % s for s in removed]
    if not same_spns(extra, provider.get("extra_expected_spns")):
        actions.append("update extra_expected_spns")
    return desired, added, removed, extra, actions


def ensure_spns(client, provider_name, wanted, state, ad_user=None, ad_password=None, peer=None,
                peer_provider_name=None, allow_collision=False, check_mode=False):
    """Read, plan and (unless ``check_mode``) apply the SPNs of one ADS provider.

    ``peer`` is a client of the other cluster: SPNs its machine account still
    holds are refused (:class:`SpnCollision`) unless ``allow_collision``.
    Credentials are checked only when something must change
    (:class:`CredentialsRequired`), and always before any write.
    Returns ``{name, changed, actions, before, after, added, removed,
    collisions, missing, extra}``.
    """
    provider = get_provider(client, provider_name)
    if provider is None:
        raise LookupError("ADS provider %s does not exist on %s" % (provider_name, getattr(client, "name", "the cluster")))
    desired, added, removed, extra, actions = plan_provider(provider, wanted, state)
    result = {"name": provider_name, "changed": bool(actions), "actions": actions,
              "before": provider_view(provider), "added": added, "removed": removed, "collisions": []}
    if added and peer is not None:
        peer_provider = get_provider(peer, peer_provider_name or provider_name)
        found = collisions(added, peer_provider)
        result["collisions"] = found
        if found and not allow_collision:
            raise SpnCollision(_collision_message(found), found)
    if actions and not (ad_user and ad_password):
        raise CredentialsRequired(
            "ad_user and ad_password are required to change the SPNs of %s (%s)" % (provider_name, "; ".join(actions)))
    after = dict(provider, spns=desired, extra_expected_spns=extra)
    if actions and not check_mode:
        body = {"spns": desired, "extra_expected_spns": extra, "user": ad_user, "password": ad_password}
        client.put(provider_path(client, provider_name), body)
        after = get_provider(client, provider_name) or after
    result["after"] = provider_view(after)
    result.update(spn_check(after))
    return result


def _collision_message(found):
    parts = ["%s (held by machine account %s)" % (c["spn"], c["account"]) for c in found]
    return ("refusing to add SPNs that the peer cluster still holds: %s; a duplicate SPN breaks Kerberos "
            "for every client: remove them on the peer first, or set allow_collision=true" % ", ".join(parts))
