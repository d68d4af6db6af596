# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OnefsModule: the AnsibleModule wrapper every module of the collection builds on.

It merges the connection options into the module's argument spec, opens the
client(s) lazily (one login per cluster per run), turns OnefsError into a
``fail_json`` that names the cluster, the call and the object, always logs
out, and implements the list-in/list-out result convention (DESIGN.md §4).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from .client import HAS_REQUESTS, REQUESTS_IMPORT_ERROR
from .connection import PEER_ENV_PREFIX, PEER_SPEC, client_from_params, connection_spec
from .errors import OnefsError
from .parallel import run_each


class OnefsModule:
    """``OnefsModule(argument_spec, peer=False, **AnsibleModule kwargs)``."""

    def __init__(self, argument_spec=None, peer=False, supports_check_mode=True, **kwargs):
        spec = connection_spec(peer=peer)
        spec.update(argument_spec or {})
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.started = time.time()
        self._clients = {}
        self._clients_lock = threading.Lock()   # worker threads ask for the client at once: one login each
        self._warned_insecure = False
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)

    # ---- pass-through ----------------------------------------------------------------

    @property
    def params(self):
        return self.module.params

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff_mode(self):
        return bool(getattr(self.module, "_diff", False))

    def warn(self, message):
        self.module.warn(message)

    # ---- clients ---------------------------------------------------------------------

    @property
    def client(self):
        """The client of the cluster named by the top-level connection options."""
        return self._client("main", self.params, "", "ONEFS_")

    @property
    def peer_client(self):
        """The client of the ``peer`` cluster (option ``peer``)."""
        if "peer" not in self.params:
            raise OnefsError("this module has no peer option")
        return self._client("peer", self.params.get("peer") or {}, "peer.", PEER_ENV_PREFIX)

    def _client(self, role, params, option_prefix, env_prefix):
        with self._clients_lock:
            if role not in self._clients:
                label = self._label(role, params)
                client = client_from_params(params, label, option_prefix=option_prefix, env_prefix=env_prefix)
                self._clients[role] = client
                self._warn_insecure(client)
            return self._clients[role]

    @staticmethod
    def _label(role, params):
        """How errors name the cluster: its first host address (the role when unknown)."""
        hosts = params.get("onefs_host") or []
        first = hosts[0] if isinstance(hosts, list) and hosts else hosts
        return str(first) if first else role

    def _warn_insecure(self, client):
        if client.validate_certs or self._warned_insecure:
            return
        self._warned_insecure = True
        self.warn("validate_certs is false: the TLS certificate of the OneFS cluster is not checked; "
                  "give the cluster's CA with ca_path instead")

    def close(self):
        """Log out of every cluster this run logged in to (idempotent)."""
        with self._clients_lock:
            clients, self._clients = list(self._clients.values()), {}
        # Both clusters at once: the module's result waits for the slower logout only.
        run_each(clients, _close_quietly, max_workers=len(clients))

    # ---- exits -----------------------------------------------------------------------

    def exit_json(self, **result):
        self.close()
        self.module.exit_json(**self._timed(result))

    def fail_json(self, msg, **result):
        self.close()
        self.module.fail_json(msg=msg, **self._timed(result))

    def _timed(self, result):
        """Every result says when the module ran: the roles' run records and timelines read it."""
        ended = time.time()
        result.setdefault("timing", {"started": round(self.started, 3), "ended": round(ended, 3),
                                     "seconds": round(ended - self.started, 3)})
        return result

    def fail_error(self, err, **result):
        """fail_json from an OnefsError: the message names cluster, call and object."""
        result.setdefault("error", err.to_dict())
        self.fail_json(msg=str(err), **result)

    def run(self, main_fn):
        """Run ``main_fn(self)``; OnefsError -> fail_json; always log out."""
        try:
            main_fn(self)
        except OnefsError as err:
            self.fail_error(err, exception=traceback.format_exc())
        finally:
            self.close()

    # ---- list in, list out -----------------------------------------------------------

    def exit_results(self, results, **extra):
        """Exit with ``results`` (dicts or ItemResults from run_each), one per object.

        ``changed`` = any object changed; failed objects are named in ``msg``
        and the run fails, but every object's result is returned.  Each
        result's ``diff`` (a dict or a list of dicts) goes to the top-level
        ``diff`` list in diff mode and is dropped otherwise.
        """
        results = [to_result(entry) for entry in results]
        diffs = []
        for entry in results:
            diff = entry.pop("diff", None)
            if diff:
                diffs.extend(diff if isinstance(diff, list) else [diff])
        changed = any(entry.get("changed") for entry in results)
        outcome = dict(extra, changed=changed, results=results)
        if self.diff_mode:
            outcome["diff"] = diffs
        failed = [entry for entry in results if entry.get("failed")]
        if failed:
            self.fail_json(msg=failed_message(failed, len(results)), **outcome)
        self.exit_json(**outcome)


def to_result(entry):
    """A result dict from a dict or an ItemResult (a failure keeps its error details)."""
    if isinstance(entry, dict):
        return dict(entry)
    if entry.ok:
        value = dict(entry.value) if isinstance(entry.value, dict) else {"value": entry.value}
        value.setdefault("name", entry.name)
        value.setdefault("changed", False)
        return value
    error = entry.error
    result = {"name": entry.name, "changed": False, "failed": True, "msg": str(error)}
    if isinstance(error, OnefsError):
        result["error"] = error.to_dict()
    else:
        result["exception"] = entry.trace
    return result


def failed_message(failed, total):
    details = "; ".join("%s: %s" % (entry.get("name"), entry.get("msg", "failed")) for entry in failed)
    return "%d of %d object(s) failed: %s" % (len(failed), total, details)


def _close_quietly(client):
    try:
        client.close()
    except Exception:  # logout is best effort; the run's result matters more
        pass


__all__ = ["OnefsModule", "PEER_SPEC", "to_result", "failed_message"]
