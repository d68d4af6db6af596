#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: spn
short_description: Manage the Kerberos SPNs of a OneFS cluster's Active Directory machine account
version_added: 0.1.0
description:
  - Adds, removes or sets exactly the service principal names (SPNs) registered on the machine account of one
    Active Directory (ADS) provider of a OneFS cluster.
  - Can derive the SPNs from SmartConnect names (O(from_smartconnect)) - C(HOST/<short name>) and C(HOST/<fqdn>)
    for each name, which is what SMB clients ask Kerberos for.
  - With O(check=true) it changes nothing and reports the SPNs missing from and extra to the provider's
    recommended list, like C(isi auth ads spn check).
  - Collision guard - given the O(peer) cluster, it refuses to add an SPN that the peer's machine account
    still holds, naming the SPN and the account, unless O(allow_collision=true). The same SPN on two machine
    accounts breaks Kerberos for every client of that name; in a failover remove the SPNs on the source
    first, then add them on the target.
  - Non-recommended SPNs that the module adds are also added to the provider's C(extra_expected_spns), and
    removed SPNs are dropped from it, so that a later check does not report them as extra.
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.PEER
  - onefs.dr.connection.ATTRIBUTES
options:
  provider:
    description:
      - Name of the ADS provider, which is the Active Directory domain, for example V(AD.EXAMPLE.COM).
    type: str
    required: true
  spns:
    description:
      - SPNs such as V(HOST/files) or V(HOST/files.example.com). Compared case-insensitively.
    type: list
    elements: str
  from_smartconnect:
    description:
      - SmartConnect zone names or aliases (FQDNs); each gives C(HOST/<short>) and C(HOST/<fqdn>).
      - Combined with O(spns) when both are given.
    type: list
    elements: str
  state:
    description:
      - V(present) registers the given SPNs and keeps the others.
      - V(absent) removes the given SPNs.
      - V(exact) makes the registered SPNs exactly the given ones.
    type: str
    choices: [present, absent, exact]
    default: present
  check:
    description:
      - Report C(missing) and C(extra) SPNs against the provider's recommended SPNs and change nothing.
      - Cannot be combined with O(spns) or O(from_smartconnect).
    type: bool
    default: false
  ad_user:
    description:
      - Active Directory user allowed to write the machine account's SPNs.
      - Required whenever SPNs change; the module fails before any write without it (in check mode too, so that
        a check run predicts the real one).
      - If not set, the environment variable E(ONEFS_AD_USER) is used.
    type: str
  ad_password:
    description:
      - Password of O(ad_user). Never logged nor returned.
      - If not set, the environment variable E(ONEFS_AD_PASSWORD) is used.
    type: str
  peer_provider:
    description:
      - Name of the ADS provider on the O(peer) cluster. Defaults to O(provider).
    type: str
  allow_collision:
    description:
      - Add SPNs even when the O(peer) cluster's machine account still holds them.
      - Only for repairs where the duplicate is removed right after; a duplicate SPN breaks Kerberos.
    type: bool
    default: false
notes:
  - Without O(peer) the collision guard cannot see the other cluster; the SPNs are added without that check.
  - The peer is read only when SPNs are to be added. When the peer is down (unplanned failover), leave O(peer)
    out or give it a small C(retry_budget), otherwise the module retries it for the whole budget.
seealso:
  - module: onefs.dr.smartconnect_zone
  - module: onefs.dr.dr_info
'''

EXAMPLES = r'''
- name: Move the HOST SPNs of a SmartConnect name from the source to the target cluster
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/onefs.dr.onefs:
      onefs_port: "{{ onefs_port | default(8080) }}"
      username: "{{ onefs_username }}"
      password: "{{ onefs_password }}"
      ca_path: "{{ onefs_ca_path | default(omit) }}"
  tasks:
    - name: Report missing and extra SPNs of the source cluster
      onefs.dr.spn:
        onefs_host: "{{ source_host }}"
        provider: AD.EXAMPLE.COM
        check: true
      register: spn_check

    - name: Remove the SPNs on the source first
      onefs.dr.spn:
        onefs_host: "{{ source_host }}"
        provider: AD.EXAMPLE.COM
        from_smartconnect: [files.example.com]
        state: absent
        ad_user: "{{ ad_user }}"
        ad_password: "{{ ad_password }}"

    - name: Then add them on the target, refusing if the source still holds one
      onefs.dr.spn:
        onefs_host: "{{ target_host }}"
        provider: AD.EXAMPLE.COM
        from_smartconnect: [files.example.com]
        state: present
        ad_user: "{{ ad_user }}"
        ad_password: "{{ ad_password }}"
        peer:
          onefs_host: "{{ source_host }}"
          onefs_port: "{{ onefs_port | default(8080) }}"
          username: "{{ onefs_username }}"
          password: "{{ onefs_password }}"
          ca_path: "{{ onefs_ca_path | default(omit) }}"
'''

RETURN = r'''
provider:
  description: Name of the ADS provider.
  returned: always
  type: str
  sample: AD.EXAMPLE.COM
actions:
  description: What was done, or would be done in check mode.
  returned: always
  type: list
  elements: str
  sample: ["add SPN HOST/files", "add SPN HOST/files.example.com"]
added:
  description: SPNs added (or that would be added).
  returned: unless O(check=true)
  type: list
  elements: str
removed:
  description: SPNs removed (or that would be removed).
  returned: unless O(check=true)
  type: list
  elements: str
collisions:
  description: SPNs to add that the peer's machine account holds, with that account.
  returned: unless O(check=true)
  type: list
  elements: dict
  sample: [{"spn": "HOST/files", "account": "PROD-PS$"}]
missing:
  description: Recommended SPNs not registered (after the change).
  returned: always
  type: list
  elements: str
extra:
  description: Registered SPNs neither recommended nor in C(extra_expected_spns) (after the change).
  returned: always
  type: list
  elements: str
before:
  description: Machine account, registered, recommended and extra expected SPNs before the change.
  returned: always
  type: dict
after:
  description: The same after the change (read back from the cluster when changed).
  returned: always
  type: dict
'''

from ansible.module_utils.basic import env_fallback

from ansible_collections.onefs.dr.plugins.module_utils.ads import (
    SPN_STATES, CredentialsRequired, SpnCollision, ensure_spns, get_provider, provider_view, spn_check,
    spns_from_smartconnect, valid_spn)
from ansible_collections.onefs.dr.plugins.module_utils.connection import peer_given
from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils.network import valid_dns_name

ARGUMENT_SPEC = dict(
    provider=dict(type="str", required=True),
    spns=dict(type="list", elements="str"),
    from_smartconnect=dict(type="list", elements="str"),
    state=dict(type="str", choices=list(SPN_STATES), default="present"),
    check=dict(type="bool", default=False),
    ad_user=dict(type="str", fallback=(env_fallback, ["ONEFS_AD_USER"])),
    ad_password=dict(type="str", no_log=True, fallback=(env_fallback, ["ONEFS_AD_PASSWORD"])),
    peer_provider=dict(type="str"),
    allow_collision=dict(type="bool", default=False),
)


def validate(params):
    """The first problem with the input, naming the option; None when all is well."""
    if params["check"]:
        if params["spns"] is not None or params["from_smartconnect"] is not None:
            return "check: cannot be combined with spns or from_smartconnect (check changes nothing)"
        return None
    if params["spns"] is None and params["from_smartconnect"] is None:
        return "one of spns, from_smartconnect or check=true is required"
    for spn in params["spns"] or []:
        if not valid_spn(spn):
            return "spns: %r is not an SPN (expected service/host, e.g. HOST/files.example.com)" % spn
    for name in params["from_smartconnect"] or []:
        if not valid_dns_name(name):
            return "from_smartconnect: %r is not a valid DNS name" % name
    return None


def wanted_spns(params):
    return list(params["spns"] or []) + spns_from_smartconnect(params["from_smartconnect"])


def run_check(onefs):
    name = onefs.params["provider"]
    provider = get_provider(onefs.client, name)
    if provider is None:
        onefs.fail_json(msg="provider: ADS provider %s does not exist on %s" % (name, onefs.client.name))
    view = provider_view(provider)
    onefs.exit_json(changed=False, provider=name, actions=[], before=view, after=view, **spn_check(provider))


def run_change(onefs):
    params = onefs.params
    try:
        result = ensure_spns(
            onefs.client, params["provider"], wanted_spns(params), params["state"],
            ad_user=params["ad_user"], ad_password=params["ad_password"],
            peer=onefs.peer_client if peer_given(params) else None,
            peer_provider_name=params["peer_provider"], allow_collision=params["allow_collision"],
            check_mode=onefs.check_mode)
    except SpnCollision as err:
        onefs.fail_json(msg=str(err), provider=params["provider"], collisions=err.collisions)
    except CredentialsRequired as err:
        onefs.fail_json(msg=str(err), provider=params["provider"])
    except LookupError as err:
        onefs.fail_json(msg="provider: %s" % err, provider=params["provider"])
    result["provider"] = result.pop("name")
    if result["changed"] and onefs.diff_mode:
        result["diff"] = {"before": {"spns": result["before"]["spns"],
                                     "extra_expected_spns": result["before"]["extra_expected_spns"]},
                          "after": {"spns": result["after"]["spns"],
                                    "extra_expected_spns": result["after"]["extra_expected_spns"]},
                          "before_header": "%s SPNs (before)" % result["provider"],
                          "after_header": "%s SPNs (after)" % result["provider"]}
    onefs.exit_json(**result)


def main():
    onefs = OnefsModule(argument_spec=ARGUMENT_SPEC, peer=True)
    problem = validate(onefs.params)
    if problem:
        onefs.fail_json(msg=problem)
    onefs.run(run_check if onefs.params["check"] else run_change)


if __name__ == "__main__":
    main()
