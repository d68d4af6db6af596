# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``onefs.dr.named_items``: ``["p1", "p2"]`` -> ``[{"name": "p1"}, {"name": "p2"}]`` (or another key)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def named_items(names, extra=None, key="name"):
    """One ``{key: n, **extra}`` per name: the item lists of modules such as synciq_policy."""
    items = []
    for name in names or []:
        item = dict(extra or {})
        item[key] = name
        items.append(item)
    return items


class FilterModule(object):
    def filters(self):
        return {"named_items": named_items}
