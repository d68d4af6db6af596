# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exponential back-off with full jitter, bounded by a budget in seconds.

A budget (not a count) because what matters during a DR run is wall time: a
OneFS management IP can take minutes to move to another node, and the client
must ride that out, but never wait longer than the operator allowed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

# Default of the ``retry_budget`` option: long enough to ride out a
# management-IP move between nodes (several minutes), short enough to fail a
# run that cannot reach the cluster at all.
DEFAULT_RETRY_BUDGET = 600

# HTTP answers that mean "try again later" and never that the request was wrong.
RETRY_STATUSES = frozenset((429, 502, 503, 504))

# OneFS busy/transient codes, retried only when the caller says the write may be repeated.
CONFLICT_CODES = frozenset(("AEC_CONFLICT",))

# Full jitter can draw 0: keep a small floor so a refused connection does not spin.
MIN_DELAY = 0.05


class Backoff:
    """Delays between attempts until ``budget_s`` seconds have passed.

    Delay ``n`` is drawn uniformly from ``[MIN_DELAY, min(cap, base * factor**n)]``
    ("full jitter": many clients retrying together spread out) and is never
    longer than what is left of the budget.
    """

    def __init__(self, budget_s, base=0.5, factor=2.0, cap=20.0, jitter=True,
                 sleep=time.sleep, clock=time.monotonic, rand=random.uniform):
        self.budget_s = max(0.0, float(budget_s))
        self.base = base
        self.factor = factor
        self.cap = cap
        self.jitter = jitter
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self.start = clock()
        self.attempts = 0

    @property
    def elapsed(self):
        return self._clock() - self.start

    @property
    def remaining(self):
        return max(0.0, self.budget_s - self.elapsed)

    def next_delay(self, at_least=None):
        """The next delay in seconds, or ``None`` when the budget is spent.

        ``at_least`` honours a server's ``Retry-After`` (still capped by the budget).
        """
        remaining = self.remaining
        if remaining <= 0:
            return None
        ceiling = min(self.cap, self.base * (self.factor ** self.attempts))
        self.attempts += 1
        delay = self._rand(min(MIN_DELAY, ceiling), ceiling) if self.jitter else ceiling
        if at_least:
            delay = max(delay, float(at_least))
        return min(delay, remaining)

    def wait(self, at_least=None):
        """Sleep the next delay; False (without sleeping) when the budget is spent."""
        delay = self.next_delay(at_least)
        if delay is None:
            return False
        self._sleep(delay)
        return True

    def __iter__(self):
        """Delays until the budget is spent (the caller sleeps)."""
        for dummy in range(100000):   # bound: the budget ends it long before
            delay = self.next_delay()
            if delay is None:
                return
            yield delay


def is_retryable(status=None, code=None, retry_conflict=False):
    """Whether an HTTP answer may be retried (the caller decides for lost answers)."""
    if status in RETRY_STATUSES:
        return True
    return bool(retry_conflict and status == 409 and code in CONFLICT_CODES)


def retry_after_seconds(value, cap=60.0):
    """Seconds from a ``Retry-After`` header (numeric form only), or None."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if seconds < 0:
        return None
    return min(seconds, cap)
