# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one function per object on a bounded thread pool, one result per object."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback
from collections import namedtuple

# name: the object's name; ok: fn returned; value: what it returned;
# error: the exception it raised (None when ok); trace: its traceback text.
ItemResult = namedtuple("ItemResult", ["name", "ok", "value", "error", "trace"])
ItemResult.__new__.__defaults__ = (None,)


def _run_one(fn, item, name):
    try:
        return ItemResult(name, True, fn(item), None)
    except Exception as err:  # one object's failure must not lose the others' results
        return ItemResult(name, False, None, err, traceback.format_exc())


def run_each(items, fn, max_workers=10, name_of=str):
    """``[ItemResult]`` in input order; every item runs even when some fail.

    With one item (or ``max_workers`` <= 1) no pool is created: the work runs
    in the calling thread, which keeps tracebacks and debugging simple.
    """
    items = list(items)
    names = [name_of(item) for item in items]
    workers = min(max(1, int(max_workers or 1)), len(items))
    if workers <= 1:
        return [_run_one(fn, item, name) for item, name in zip(items, names)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_run_one, fn, item, name) for item, name in zip(items, names)]
        return [future.result() for future in futures]


def call_together(*calls):
    """Run independent calls that take no argument at once; their values, in order.

    For reads that do not depend on each other (the lists of two clusters, a policy list and
    the active jobs): one round trip instead of one per read. Every call ends before the
    first failure (in call order) is raised.
    """
    outcomes = run_each(list(enumerate(calls)), lambda pair: pair[1](), max_workers=len(calls),
                        name_of=lambda pair: str(pair[0]))
    for outcome in outcomes:
        if not outcome.ok:
            raise outcome.error
    return [outcome.value for outcome in outcomes]
