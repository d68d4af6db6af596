# -*- coding: utf-8 -*-
"""Ansible callback of the failover benchmark (not a benchmark: ``make bench`` skips ``_*.py``).

failover_bench.py copies it to ``<tmp>/callback_plugins/bench_timing.py`` and enables it with
``ANSIBLE_CALLBACKS_ENABLED=bench_timing``; at the end of the play it writes one JSON row per task
run to ``$BENCH_TIMING_FILE``: name, action, start and end (epoch seconds), status, loop items,
``until`` retries, and what an onefs.dr module reported about itself (``api_requests``, ``waited_s``).
The normal stdout callback is untouched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r'''
name: bench_timing
type: aggregate
short_description: per-task timings for benchmarks/failover_bench.py
description: Writes one JSON row per task to the file named by BENCH_TIMING_FILE.
requirements: [enable in configuration]
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.rows = []
        self.by_uuid = {}
        self.play_start = time.time()

    def _start(self, task):
        row = {"name": task.get_name(), "action": task.action, "start": time.time(), "end": None,
               "status": "started", "items": 0, "item_ends": [], "retries": 0, "loop": bool(task.loop)}
        self.rows.append(row)
        self.by_uuid[task._uuid] = row

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def _row(self, result):
        return self.by_uuid.get(result._task._uuid)

    def _finish(self, result, status):
        row = self._row(result)
        if row is None:
            return
        row["end"] = time.time()
        row["status"] = status
        data = result._result or {}
        for key in ("api_requests", "waited_s"):
            if isinstance(data.get(key), (int, float)):
                row[key] = data[key]
        if isinstance(data.get("results"), list) and not row["loop"]:
            row["objects"] = len(data["results"])
        if row["loop"] and isinstance(data.get("results"), list):
            reqs = [r.get("api_requests") for r in data["results"] if isinstance(r, dict)]
            row["api_requests"] = sum(r for r in reqs if isinstance(r, (int, float)))

    def v2_runner_on_ok(self, result):
        self._finish(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._finish(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._finish(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._finish(result, "unreachable")

    def _item(self, result, skipped=False):
        row = self._row(result)
        if row is not None and not skipped:
            row["items"] += 1
            row["item_ends"].append(time.time())

    def v2_runner_item_on_ok(self, result):
        self._item(result)

    def v2_runner_item_on_failed(self, result):
        self._item(result)

    def v2_runner_item_on_skipped(self, result):
        self._item(result, skipped=True)

    def v2_runner_retry(self, result):
        row = self._row(result)
        if row is not None:
            row["retries"] += 1

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_TIMING_FILE")
        if path:
            with open(path, "w") as handle:
                json.dump({"play_start": self.play_start, "end": time.time(), "tasks": self.rows}, handle)
