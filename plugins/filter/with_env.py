# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``onefs.dr.with_env``: a cluster's connection dict completed from ``<prefix>HOST``, ``<prefix>PASSWORD``...

The roles' defaults use it with ``ONEFS_SOURCE_`` and ``ONEFS_TARGET_``, the variables the AWX/AAP
credential type of extensions/awx injects, so that an inventory can name the clusters while a
credential supplies the accounts. What the dict already holds wins over the environment.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.onefs.dr.plugins.module_utils.connection import connection_options, env_name


def with_env(connection, prefix):
    """``connection`` plus every connection option set in the environment under ``prefix`` and not in it."""
    result = dict(connection or {})
    for option in connection_options():
        value = os.environ.get(env_name(option, prefix), "")
        if value != "" and result.get(option) in (None, "", []):
            result[option] = value
    return result


class FilterModule(object):
    def filters(self):
        return {"with_env": with_env}
