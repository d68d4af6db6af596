#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: smartconnect_zone
short_description: Manage the SmartConnect zone name and aliases of OneFS network pools, park and unpark them
version_added: 0.1.0
description:
  - Sets the SmartConnect zone name (C(sc_dns_zone)) and the zone aliases (C(sc_dns_zone_aliases)) of one or
    more network pools, identified by their id C(groupnet.subnet.pool).
  - Aliases can be added, removed or set exactly. OneFS replaces the alias list as a whole, so the module
    always sends the full list it computed.
  - O(state=parked) renames the zone and every alias with O(park_prefix) so that this cluster stops answering
    DNS for those names (the source side of a failover). O(state=unparked) strips the prefix again.
    Both are idempotent; a name is never prefixed twice.
  - Collision guard - given the O(peer) cluster, a pool refuses to start answering for a name that one of the
    peer's pools still answers for (zone name or alias), naming the name and the peer pool, unless
    O(allow_collision=true). With DNS delegated to both clusters, a name claimed by both sends clients to both
    sides of the replication. In a failover park the names on the source first, then claim them on the target.
  - Pools are handled in parallel (at most O(max_workers) at once); one result per pool is returned, and a
    failing pool does not hide the results of the others.
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.PEER
  - onefs.dr.connection.ATTRIBUTES
options:
  pool:
    description:
      - Id of one pool, C(groupnet.subnet.pool), for example V(groupnet0.subnet0.pool0).
      - Mutually exclusive with O(pools); one of the two is required.
    type: str
  pools:
    description:
      - Several pools. Each entry may set its own values; the top-level options are the defaults.
      - Each pool may appear only once.
    type: list
    elements: dict
    suboptions:
      pool:
        description: Id of the pool, C(groupnet.subnet.pool).
        type: str
        required: true
      sc_dns_zone:
        description: SmartConnect zone name of this pool (defaults to the top-level O(sc_dns_zone)).
        type: str
      aliases:
        description: Zone aliases of this pool (defaults to the top-level O(aliases)).
        type: list
        elements: str
      aliases_state:
        description: How O(pools[].aliases) applies (defaults to the top-level O(aliases_state)).
        type: str
        choices: [present, absent, exact]
      state:
        description: Wanted state of this pool (defaults to the top-level O(state)).
        type: str
        choices: [present, parked, unparked]
      park_prefix:
        description: Park prefix of this pool (defaults to the top-level O(park_prefix)).
        type: str
  sc_dns_zone:
    description:
      - SmartConnect zone name (FQDN) the pool answers for. An empty string removes the zone name.
      - Not given means the zone name is left as it is.
      - Only with O(state=present).
    type: str
  aliases:
    description:
      - SmartConnect zone aliases (FQDNs). Not given means the aliases are left as they are.
      - Names compare case-insensitively and without a trailing dot.
      - Only with O(state=present).
    type: list
    elements: str
  aliases_state:
    description:
      - V(present) adds the O(aliases) that are missing and keeps the others.
      - V(absent) removes the O(aliases) from the pool.
      - V(exact) makes the alias list exactly O(aliases); V(exact) with an empty list removes every alias.
    type: str
    choices: [present, absent, exact]
    default: present
  state:
    description:
      - V(present) sets O(sc_dns_zone) and O(aliases).
      - V(parked) prefixes the zone name and every alias with O(park_prefix) (names already carrying the prefix
        are left alone), so clients stop resolving them on this cluster.
      - V(unparked) removes O(park_prefix) from the zone name and the aliases that carry it.
    type: str
    choices: [present, parked, unparked]
    default: present
  park_prefix:
    description:
      - Prefix added by O(state=parked) and removed by O(state=unparked). It becomes part of the first DNS label,
        so it may contain letters, digits, C(-) and C(_) only.
    type: str
    default: parked-
  allow_collision:
    description:
      - Claim names even when the O(peer) cluster still answers for them (repairs only).
      - Without O(peer) the guard cannot see the other cluster and names are claimed without that check.
        When the peer is down (unplanned failover), leave O(peer) out or give it a small C(retry_budget).
    type: bool
    default: false
  max_workers:
    description: Number of pools handled at the same time.
    type: int
    default: 10
notes:
  - Renaming a zone or alias changes the Kerberos SPNs the cluster needs; use M(onefs.dr.spn) afterwards.
  - DNS delegation of the names to the cluster's SmartConnect service address is outside this module.
seealso:
  - module: onefs.dr.spn
  - module: onefs.dr.dr_info
'''

EXAMPLES = r'''
- name: SmartConnect names of the DR cluster
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
    - name: Add the production name as an alias of the DR pool
      onefs.dr.smartconnect_zone:
        pool: groupnet0.subnet0.pool0
        aliases: [files.example.com]
        aliases_state: present

    - name: Remove an alias that moved to the other cluster
      onefs.dr.smartconnect_zone:
        pool: groupnet0.subnet0.pool0
        aliases: [files.example.com]
        aliases_state: absent

    - name: Park every name of two pools before the failover (clients stop resolving them here)
      onefs.dr.smartconnect_zone:
        pools:
          - pool: groupnet0.subnet0.finance
          - pool: groupnet0.subnet0.eng
            park_prefix: igls-
        state: parked
      register: parked

    - name: Show which names this cluster no longer answers for
      ansible.builtin.debug:
        msg: "{{ parked.released }}"

    - name: Restore the names after failback
      onefs.dr.smartconnect_zone:
        pools:
          - pool: groupnet0.subnet0.finance
          - pool: groupnet0.subnet0.eng
            park_prefix: igls-
        state: unparked
'''

RETURN = r'''
results:
  description: One entry per pool, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Pool id.
      type: str
      sample: groupnet0.subnet0.pool0
    changed:
      description: Whether the pool was (or in check mode would be) changed.
      type: bool
    actions:
      description: What was done, or would be done in check mode.
      type: list
      elements: str
      sample: ["park zone files.example.com as parked-files.example.com"]
    before:
      description: Zone name and aliases before the change.
      type: dict
      sample: {"sc_dns_zone": "files.example.com", "aliases": ["nfs.example.com"]}
    after:
      description: Zone name and aliases after the change (as read back from the cluster when changed).
      type: dict
      sample: {"sc_dns_zone": "parked-files.example.com", "aliases": ["parked-nfs.example.com"]}
    released:
      description: DNS names this cluster stopped answering for.
      type: list
      elements: str
    claimed:
      description: DNS names this cluster started answering for.
      type: list
      elements: str
    access_zone:
      description: Access zone the pool maps clients to.
      type: str
    collisions:
      description: Claimed names the O(peer) still answers for (only with O(allow_collision=true); otherwise the pool fails).
      type: list
      elements: dict
      sample: [{"name": "files.example.com", "peer_pool": "groupnet0.subnet0.pool0"}]
    failed:
      description: Present and true when this pool failed; C(msg) says why.
      type: bool
released:
  description: DNS names released by all pools together.
  returned: always
  type: list
  elements: str
  sample: ["files.example.com"]
claimed:
  description: DNS names claimed by all pools together.
  returned: always
  type: list
  elements: str
  sample: ["parked-files.example.com"]
'''

from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils.network import (
    ALIASES_STATES, ZONE_STATES, PoolIdError, ensure_pool, list_pools, names_by_pool, split_pool_id,
    valid_dns_name)
from ansible_collections.onefs.dr.plugins.module_utils.parallel import run_each

POOL_OPTIONS = dict(
    pool=dict(type="str", required=True),
    sc_dns_zone=dict(type="str"),
    aliases=dict(type="list", elements="str"),
    aliases_state=dict(type="str", choices=list(ALIASES_STATES)),
    state=dict(type="str", choices=list(ZONE_STATES)),
    park_prefix=dict(type="str"),
)

ARGUMENT_SPEC = dict(
    pool=dict(type="str"),
    pools=dict(type="list", elements="dict", options=POOL_OPTIONS),
    sc_dns_zone=dict(type="str"),
    aliases=dict(type="list", elements="str"),
    aliases_state=dict(type="str", choices=list(ALIASES_STATES), default="present"),
    state=dict(type="str", choices=list(ZONE_STATES), default="present"),
    park_prefix=dict(type="str", default="parked-"),
    allow_collision=dict(type="bool", default=False),
    max_workers=dict(type="int", default=10),
)

INHERITED = ("sc_dns_zone", "aliases", "aliases_state", "state", "park_prefix")


def desired_pools(params):
    """One desired dict per pool: the entry's own values over the top-level defaults."""
    if params["pool"]:
        entries = [{"pool": params["pool"]}]
        where = ["pool"]
    else:
        entries = params["pools"]
        where = ["pools[%d]" % index for index in range(len(entries))]
    desired = []
    for entry, option in zip(entries, where):
        item = {"pool": entry["pool"], "option": option}
        for name in INHERITED:
            value = entry.get(name)
            item[name] = params[name] if value is None else value
        desired.append(item)
    return desired


def validate(desired, max_workers):
    """The first problem with the input, as a message naming the option; None when all is well."""
    if max_workers < 1:
        return "max_workers must be at least 1"
    seen = {}
    for item in desired:
        problem = _validate_one(item)
        if problem:
            return problem
        key = item["pool"].lower()
        if key in seen:
            return "pools: pool %s is listed twice (%s and %s)" % (item["pool"], seen[key], item["option"])
        seen[key] = item["option"]
    return None


def _validate_one(item):
    option = item["option"]
    try:
        split_pool_id(item["pool"])
    except PoolIdError as err:
        return "%s: %s" % (option if option == "pool" else option + ".pool", err)
    if item["state"] != "present":
        for name in ("sc_dns_zone", "aliases"):
            if item[name] is not None:
                return "%s: %s cannot be combined with state=%s (parking renames the current names)" % (
                    option, name, item["state"])
        if not valid_dns_name(item["park_prefix"] + "x") or "." in item["park_prefix"]:
            return "park_prefix: %r is not usable as the start of a DNS label" % item["park_prefix"]
        return None
    if item["sc_dns_zone"] and not valid_dns_name(item["sc_dns_zone"]):
        return "sc_dns_zone: %r is not a valid DNS name (%s)" % (item["sc_dns_zone"], option)
    for alias in item["aliases"] or []:
        if not valid_dns_name(alias):
            return "aliases: %r is not a valid DNS name (%s)" % (alias, option)
    return None


def _diff(result):
    return {"before": result["before"], "after": result["after"],
            "before_header": "%s (before)" % result["name"], "after_header": "%s (after)" % result["name"]}


def peer_names_for(onefs, desired):
    """Every name the peer answers for, read once; None without a peer or when only parking."""
    if not (onefs.params.get("peer") or {}).get("onefs_host"):
        return None
    if all(item["state"] == "parked" for item in desired):
        return None                # parking claims only prefixed names
    return names_by_pool(list_pools(onefs.peer_client))


def apply_pools(client, desired, params, check_mode, peer_names):
    """``(outcomes, released, claimed)`` over every pool, at most ``max_workers`` at once."""
    def one_pool(item):
        result = ensure_pool(client, item, check_mode=check_mode, peer_names=peer_names,
                             allow_collision=params["allow_collision"])
        if result["changed"]:
            result["diff"] = _diff(result)
        return result

    outcomes = run_each(desired, one_pool, max_workers=params["max_workers"], name_of=lambda d: d["pool"])
    released, claimed = [], []
    for outcome in outcomes:
        if outcome.ok:
            released.extend(outcome.value["released"])
            claimed.extend(outcome.value["claimed"])
    return outcomes, released, claimed


def main():
    onefs = OnefsModule(
        argument_spec=ARGUMENT_SPEC,
        peer=True,
        mutually_exclusive=[("pool", "pools")],
        required_one_of=[("pool", "pools")],
    )
    params = onefs.params
    desired = desired_pools(params)
    problem = validate(desired, params["max_workers"])
    if problem:
        onefs.fail_json(msg=problem)

    def run(_onefs):
        # one login per cluster, shared by the worker threads
        outcomes, released, claimed = apply_pools(onefs.client, desired, params, onefs.check_mode,
                                                  peer_names_for(onefs, desired))
        onefs.exit_results(outcomes, released=released, claimed=claimed)

    onefs.run(run)


if __name__ == "__main__":
    main()
