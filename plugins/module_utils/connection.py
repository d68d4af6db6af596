# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every module, and the client they describe.

Every option has an environment-variable fallback (``ONEFS_*``, and
``ONEFS_PEER_*`` for the ``peer`` cluster) so that an AWX/AAP credential type
can inject them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

from .errors import OnefsError
from .retry import DEFAULT_RETRY_BUDGET

try:
    from ansible.module_utils.basic import env_fallback
except ImportError:  # plain Python use (benchmarks, unit tests without Ansible)
    class _FallbackNotFound(Exception):
        pass

    def env_fallback(*names):
        for name in names:
            if name in os.environ:
                return os.environ[name]
        raise _FallbackNotFound


ENV_PREFIX = "ONEFS_"
PEER_ENV_PREFIX = "ONEFS_PEER_"

# (option, environment suffix, argument spec without the fallback)
_OPTIONS = (
    ("onefs_host", "HOST", dict(type="list", elements="str")),
    ("onefs_port", "PORT", dict(type="int", default=8080)),
    ("username", "USERNAME", dict(type="str")),
    ("password", "PASSWORD", dict(type="str", no_log=True)),
    ("validate_certs", "VALIDATE_CERTS", dict(type="bool", default=True)),
    ("ca_path", "CA_PATH", dict(type="path")),
    ("auth", "AUTH", dict(type="str", choices=["session", "basic"], default="session")),
    ("api_timeout", "API_TIMEOUT", dict(type="int", default=60)),
    ("retry_budget", "RETRY_BUDGET", dict(type="int", default=DEFAULT_RETRY_BUDGET)),
    ("api_trace", "API_TRACE", dict(type="path")),
)

# Options without which no request can be made.
REQUIRED = ("onefs_host", "username", "password")


class ConfigError(OnefsError):
    """A connection option is missing or invalid (raised before any request)."""


def connection_options():
    """The names of the connection options, in documentation order."""
    return [name for name, dummy, dummy2 in _OPTIONS]


def env_name(option, env_prefix=ENV_PREFIX):
    """The environment variable of an option: ``onefs_host`` -> ``ONEFS_HOST``."""
    for name, suffix, dummy in _OPTIONS:
        if name == option:
            return env_prefix + suffix
    raise KeyError(option)


def _spec(env_prefix):
    spec = {}
    for name, suffix, option in _OPTIONS:
        option = copy.deepcopy(option)
        option["fallback"] = (env_fallback, [env_prefix + suffix])
        spec[name] = option
    return spec


CONNECTION_SPEC = _spec(ENV_PREFIX)

PEER_SPEC = {
    "peer": dict(type="dict", options=_spec(PEER_ENV_PREFIX), apply_defaults=True),
}


def connection_spec(peer=False):
    """A fresh copy of the connection argument spec (plus ``peer`` when asked)."""
    spec = copy.deepcopy(CONNECTION_SPEC)
    if peer:
        spec.update(copy.deepcopy(PEER_SPEC))
    return spec


def _from_env(option, env_prefix):
    """An option from the environment, converted like Ansible would (plain-Python use)."""
    raw = os.environ.get(env_name(option, env_prefix))
    if raw is None or raw == "":
        return None
    if option in ("onefs_port", "api_timeout", "retry_budget"):
        return int(raw)
    if option == "validate_certs":
        return raw.strip().lower() not in ("0", "false", "no", "off", "n", "f")
    return raw


def _value(params, option, env_prefix):
    value = params.get(option)
    if value is None or value == [] or value == "":
        value = _from_env(option, env_prefix)
    return value


def peer_given(params):
    """Whether the module's ``peer`` names a cluster (in its options or the ONEFS_PEER_* environment)."""
    return bool((params.get("peer") or {}).get("onefs_host") or os.environ.get(env_name("onefs_host", PEER_ENV_PREFIX)))


# (option, lowest, highest) of the numeric connection options.
RANGES = (("onefs_port", 1, 65535), ("api_timeout", 1, 3600), ("retry_budget", 0, 86400))


def check_params(params, option_prefix="", env_prefix=ENV_PREFIX):
    """Raise ConfigError naming every missing required option and every numeric option out of range."""
    params = params or {}
    missing = [name for name in REQUIRED if not _value(params, name, env_prefix)]
    if missing:
        named = ", ".join("%s%s (or environment variable %s)" % (option_prefix, name, env_name(name, env_prefix))
                          for name in missing)
        raise ConfigError("missing required connection option(s): %s" % named)
    wrong = []
    for name, low, high in RANGES:
        value = _value(params, name, env_prefix)
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            wrong.append("%s%s must be %s to %s, got %r" % (option_prefix, name, low, high, value))
    if wrong:
        raise ConfigError("invalid connection option(s): %s" % "; ".join(wrong))


def client_from_params(params, name, option_prefix="", env_prefix=ENV_PREFIX, **overrides):
    """A PapiClient from module params (``module.params`` or the ``peer`` dict).

    Missing values are also looked up in the environment, so plain Python
    callers (benchmarks) get the same behaviour as modules.  ``overrides`` are
    passed to PapiClient (e.g. ``max_connections``).
    """
    from .client import PapiClient

    params = params or {}
    check_params(params, option_prefix, env_prefix)

    def get(option, default=None):
        value = _value(params, option, env_prefix)
        return default if value is None else value

    kwargs = dict(
        hosts=get("onefs_host"),
        port=get("onefs_port", 8080),
        username=get("username"),
        password=get("password"),
        auth=get("auth", "session"),
        validate_certs=get("validate_certs", True),
        ca_path=get("ca_path"),
        api_timeout=get("api_timeout", 60),
        retry_budget=get("retry_budget", DEFAULT_RETRY_BUDGET),
        trace=get("api_trace"),
        name=name,
    )
    kwargs.update(overrides)
    try:
        return PapiClient(**kwargs)
    except ValueError as err:
        raise ConfigError("invalid connection option for %s: %s" % (name, err))
