# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poll until a condition holds, on a monotonic clock, with back-off while nothing changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from .errors import WaitFailedError, WaitTimeoutError

BACKOFF_FACTOR = 1.5
_UNSEEN = object()


def _state_text(value, limit=300):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def wait_for(fetch, done, timeout, poll_interval, max_interval=None, describe="the wanted state",
             failed=None, clock=time.monotonic, sleep=time.sleep, state=None, cluster=None, expected_in=None):
    """Call ``fetch()`` until ``done(value)``; the last value.

    * The interval starts at ``poll_interval`` and grows ×1.5 up to
      ``max_interval`` (default 4 × ``poll_interval``) while the observed
      state (``state(value)``, default the value itself) stays the same; it
      drops back to ``poll_interval`` as soon as the state changes.
    * ``expected_in()``: seconds until the next change is expected (None: no
      idea). A wait that would run past that moment is cut short to it, never
      below ``poll_interval``: the back-off does not overshoot a job's end by
      up to ``max_interval`` when the job's duration is known.
    * ``failed(value)`` true (a message string, or True) stops at once with
      WaitFailedError: no point waiting for a job that already failed.
    * After ``timeout`` seconds: WaitTimeoutError naming what was waited for
      and the last state seen.
    """
    poll_interval = max(0.0, float(poll_interval))
    max_interval = 4 * poll_interval if max_interval is None else max(poll_interval, float(max_interval))
    state = state or (lambda value: value)
    start = clock()
    interval = poll_interval
    previous = _UNSEEN
    # Bound on polls: the clock ends the loop first unless the interval is 0.
    limit = int(timeout / poll_interval) + 2 if poll_interval > 0 else 100000
    for dummy in range(max(limit, 2)):
        value = fetch()
        verdict = failed(value) if failed else None
        if verdict:
            reason = verdict if isinstance(verdict, str) else "failure state"
            raise WaitFailedError("stopped waiting for %s: %s; last state: %s" % (describe, reason, _state_text(value)),
                                  describe=describe, last=value, timeout=timeout, cluster=cluster)
        if done(value):
            return value
        remaining = timeout - (clock() - start)
        if remaining <= 0:
            break
        current = state(value)
        if previous is not _UNSEEN and current == previous:
            interval = min(interval * BACKOFF_FACTOR, max_interval)
        else:
            interval = poll_interval
        previous = current
        sleep(min(_pause(interval, poll_interval, expected_in() if expected_in else None), remaining))
    raise WaitTimeoutError("timed out after %gs waiting for %s; last state: %s" % (timeout, describe, _state_text(value)),
                           describe=describe, last=value, timeout=timeout, cluster=cluster)


def _pause(interval, poll_interval, expected_in):
    """The back-off interval, cut short to an expected change (never under poll_interval)."""
    if expected_in is None:
        return interval
    return min(interval, max(poll_interval, expected_in))
