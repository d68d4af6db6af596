# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of module options shared by the modules: each message starts with the option's name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def name_list_errors(names, option="policies"):
    """A list of names: at least one, none empty, none twice."""
    if not names or any(not (name or "").strip() for name in names):
        return ["%s: give at least one name, and no empty one" % option]
    if len(set(names)) != len(names):
        return ["%s: a name is listed twice" % option]
    return []


def wait_errors(params):
    """``timeout`` and ``poll_interval`` of a module that waits."""
    errors = []
    for option in ("timeout", "poll_interval"):
        if params.get(option) is not None and params[option] <= 0:
            errors.append("%s: must be more than 0" % option)
    return errors


def range_errors(params, ranges):
    """``ranges``: ``{option: (low, high)}``; an option left unset (None) is not checked."""
    errors = []
    for option in sorted(ranges):
        low, high = ranges[option]
        value = params.get(option)
        if value is not None and not low <= value <= high:
            errors.append("%s: must be %s to %s" % (option, low, high))
    return errors
