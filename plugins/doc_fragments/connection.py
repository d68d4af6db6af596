# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Connection options of every module (plugins/module_utils/connection.py CONNECTION_SPEC).
    DOCUMENTATION = r'''
options:
  onefs_host:
    description:
      - Address of the OneFS cluster, or a list of node addresses of the same cluster.
      - A comma-separated string is also accepted.
      - When a node does not answer, the next one is tried, then all of them in turn while O(retry_budget) lasts.
        Sessions are node-local in OneFS, so the module logs in again after moving to another node.
      - An entry may carry a port (V(host:8080)) or a scheme (V(https://host:8080)).
      - If not set, the environment variable E(ONEFS_HOST) is used. One of the two is required.
    type: list
    elements: str
  onefs_port:
    description:
      - Port of the OneFS Platform API.
      - If not set, the environment variable E(ONEFS_PORT) is used.
    type: int
    default: 8080
  username:
    description:
      - User to authenticate as. It needs the RBAC privileges of the calls the module makes.
      - If not set, the environment variable E(ONEFS_USERNAME) is used. One of the two is required.
    type: str
  password:
    description:
      - Password of O(username). It is never logged nor returned.
      - If not set, the environment variable E(ONEFS_PASSWORD) is used. One of the two is required.
    type: str
  validate_certs:
    description:
      - Whether to verify the cluster's TLS certificate.
      - OneFS clusters ship with a self-signed certificate; give its CA with O(ca_path) rather than
        setting this to V(false). A warning is issued when it is V(false).
      - If not set, the environment variable E(ONEFS_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA certificate(s) to verify the cluster's certificate with.
      - If not set, the environment variable E(ONEFS_CA_PATH) is used; otherwise the system CA store.
    type: path
  auth:
    description:
      - V(session) logs in once per module run (cookie, CSRF token and Referer on every call),
        logs in again transparently when the session expires, and logs out at the end.
      - V(basic) sends HTTP Basic credentials with every request.
      - If not set, the environment variable E(ONEFS_AUTH) is used.
    type: str
    choices: [session, basic]
    default: session
  api_timeout:
    description:
      - Seconds to wait for one answer of the API before the attempt counts as lost.
      - If not set, the environment variable E(ONEFS_API_TIMEOUT) is used.
    type: int
    default: 60
  retry_budget:
    description:
      - Seconds during which failed calls are retried with exponential back-off and jitter
        (connection errors, timeouts, HTTP 429, 502, 503 and 504).
      - The default rides out a move of the cluster's management address to another node, which can take minutes.
      - A POST whose answer was lost is never sent again blindly; the module first checks whether it took effect.
      - If not set, the environment variable E(ONEFS_RETRY_BUDGET) is used.
    type: int
    default: 600
  api_trace:
    description:
      - File to append one JSON line per HTTP request to (method, path, status, duration, node).
      - Bodies and headers are not written, so no password or session cookie ends up in it.
      - If not set, the environment variable E(ONEFS_API_TRACE) is used; by default nothing is traced.
    type: path
requirements:
  - requests
notes:
  - All connection options can come from C(ONEFS_*) environment variables, for example injected by an
    AWX/AAP credential type, or from C(module_defaults) with the action group C(group/onefs.dr.onefs).
'''

    # The other cluster, for modules that work on both sides (plugins/module_utils/connection.py PEER_SPEC).
    PEER = r'''
options:
  peer:
    description:
      - Connection to the other cluster of the replication pair.
      - Same suboptions as the top-level connection options; each falls back to an
        C(ONEFS_PEER_*) environment variable (E(ONEFS_PEER_HOST), E(ONEFS_PEER_USERNAME), E(ONEFS_PEER_PASSWORD), ...).
    type: dict
    suboptions:
      onefs_host:
        description:
          - Address of the peer cluster, or a list of its node addresses.
          - If not set, the environment variable E(ONEFS_PEER_HOST) is used.
        type: list
        elements: str
      onefs_port:
        description:
          - Port of the peer's Platform API.
          - If not set, the environment variable E(ONEFS_PEER_PORT) is used.
        type: int
        default: 8080
      username:
        description:
          - User on the peer cluster.
          - If not set, the environment variable E(ONEFS_PEER_USERNAME) is used.
        type: str
      password:
        description:
          - Password of the peer user.
          - If not set, the environment variable E(ONEFS_PEER_PASSWORD) is used.
        type: str
      validate_certs:
        description:
          - Whether to verify the peer's TLS certificate.
          - If not set, the environment variable E(ONEFS_PEER_VALIDATE_CERTS) is used.
        type: bool
        default: true
      ca_path:
        description:
          - CA certificate(s) to verify the peer's certificate with.
          - If not set, the environment variable E(ONEFS_PEER_CA_PATH) is used.
        type: path
      auth:
        description:
          - Authentication method on the peer.
          - If not set, the environment variable E(ONEFS_PEER_AUTH) is used.
        type: str
        choices: [session, basic]
        default: session
      api_timeout:
        description:
          - Seconds to wait for one answer of the peer's API.
          - If not set, the environment variable E(ONEFS_PEER_API_TIMEOUT) is used.
        type: int
        default: 60
      retry_budget:
        description:
          - Seconds during which failed calls to the peer are retried.
          - If not set, the environment variable E(ONEFS_PEER_RETRY_BUDGET) is used.
        type: int
        default: 600
      api_trace:
        description:
          - File to append the request trace of the peer to.
          - If not set, the environment variable E(ONEFS_PEER_API_TRACE) is used.
        type: path
'''

    # Attributes shared by the collection's modules; a module overrides what differs.
    ATTRIBUTES = r'''
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  action_group:
    description: Use C(group/onefs.dr.onefs) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - onefs.dr.onefs
  action:
    description:
      - Has an action plugin. On a local connection (where these API modules normally run) the module runs in a
        fork of Ansible's worker process instead of a new Python process, which saves the AnsiballZ build and the
        interpreter start-up of every task; results, C(no_log) and check mode are the same.
      - It runs as a normal module process with another connection, C(become), C(async), an
        C(ansible_python_interpreter) other than the controller's Python, or with the variable
        C(onefs_dr_fork_modules=false).
    support: full
'''
