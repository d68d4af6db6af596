# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``onefs.dr.run_steps``: the run record's steps from the registered results of a role's step tasks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _status(result):
    if result.get("skipped"):
        return "skipped"
    if result.get("failed"):
        return "failed"
    return "ok"


def _objects(result):
    """The names of the objects a step touched: one per entry of a list module's ``results``."""
    names = []
    for entry in result.get("results") or []:
        name = entry.get("name") if isinstance(entry, dict) else None
        if name and name not in names:
            names.append(name)
    return names


def run_steps(table):
    """``[{name, phase, result}]`` -> ``[{name, phase, started, ended, status, changed, objects}]``.

    Entries whose ``result`` is not a mapping (the step task never ran in this play, so its
    variable is undefined or empty) are left out. ``started``/``ended`` come from the
    ``timing`` every onefs.dr module returns; a skipped step has neither.
    """
    steps = []
    for entry in table or []:
        result = entry.get("result")
        if not isinstance(result, dict):
            continue
        timing = result.get("timing") or {}
        steps.append({
            "name": entry.get("name"),
            "phase": entry.get("phase") or "",
            "started": timing.get("started"),
            "ended": timing.get("ended"),
            "status": _status(result),
            "changed": bool(result.get("changed")),
            "objects": _objects(result),
        })
    return steps


class FilterModule(object):
    def filters(self):
        return {"run_steps": run_steps}
