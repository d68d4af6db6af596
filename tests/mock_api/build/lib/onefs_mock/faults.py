"""Fault injection for one cluster (DESIGN 2.3).

``POST /_mock/faults`` merges settings into :class:`Faults`; the HTTP layer
asks :meth:`Faults.decide` once per API request (never for ``/_mock/``) and
the SyncIQ area asks :meth:`Faults.take_job_failure` when a job starts.
"""

import random
import re
import threading
from typing import Any, Dict, List, Optional

SETTINGS = ("error_rate", "error_status", "reset_rate", "latency_ms", "seed")
DEFAULT_CODES = {
    400: "AEC_BAD_REQUEST", 401: "AEC_UNAUTHORIZED", 403: "AEC_FORBIDDEN", 404: "AEC_NOT_FOUND",
    409: "AEC_CONFLICT", 429: "AEC_SERVICE_UNAVAILABLE", 500: "AEC_EXCEPTION", 502: "AEC_SERVICE_UNAVAILABLE",
    503: "AEC_SERVICE_UNAVAILABLE", 504: "AEC_SERVICE_UNAVAILABLE",
}


class Decision:
    """What to do with one request: nothing, an error (before or after applying it) or a reset."""

    __slots__ = ("kind", "status", "code", "message", "after")

    def __init__(self, kind: str, status: int = 0, code: Optional[str] = None, message: str = "", after: bool = False):
        self.kind = kind          # "error" | "reset"
        self.status = status
        self.code = code
        self.message = message
        self.after = after


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.settings: Dict[str, Any] = {"error_rate": 0.0, "error_status": 503, "reset_rate": 0.0,
                                             "latency_ms": 0, "seed": None}
            self.fail_next: List[Dict[str, Any]] = []
            self.fail_next_job: List[Dict[str, Any]] = []
            self.counters = {"errors": 0, "resets": 0, "fail_next": 0, "fail_next_job": 0}
            self._rng = random.Random()

    # configuration ------------------------------------------------------
    def merge(self, body: Dict[str, Any]) -> None:
        """Merge a faults body; raise ValueError on bad input (the control API answers 400)."""
        if not isinstance(body, dict):
            raise ValueError("faults body must be a JSON object")
        unknown = set(body) - set(SETTINGS) - {"fail_next", "fail_next_job"}
        if unknown:
            raise ValueError("unknown fault setting: %s" % sorted(unknown)[0])
        entries = [_fail_next_entry(e) for e in _as_list(body.get("fail_next"))]
        jobs = [_fail_job_entry(e) for e in _as_list(body.get("fail_next_job"))]
        with self._lock:
            for key in SETTINGS:
                if key in body:
                    self.settings[key] = body[key]
            _check_rate(self.settings, "error_rate")
            _check_rate(self.settings, "reset_rate")
            if "seed" in body and body["seed"] is not None:
                self._rng = random.Random(body["seed"])
            self.fail_next.extend(entries)
            self.fail_next_job.extend(jobs)

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            result = dict(self.settings)
            result["fail_next"] = [dict(e, path=e["path"].pattern) for e in self.fail_next]
            result["fail_next_job"] = [dict(e) for e in self.fail_next_job]
            result["counters"] = dict(self.counters)
            return result

    @property
    def latency_s(self) -> float:
        return float(self.settings.get("latency_ms") or 0) / 1000.0

    # decisions ----------------------------------------------------------
    def decide(self, method: str, path: str, body: Any = None) -> Optional[Decision]:
        with self._lock:
            decision = self._take_fail_next(method, path, body)
            if decision:
                return decision
            if self.settings["reset_rate"] and self._rng.random() < float(self.settings["reset_rate"]):
                self.counters["resets"] += 1
                return Decision("reset")
            if self.settings["error_rate"] and self._rng.random() < float(self.settings["error_rate"]):
                self.counters["errors"] += 1
                status = int(self.settings.get("error_status") or 503)
                return Decision("error", status, DEFAULT_CODES.get(status, "AEC_EXCEPTION"), "Injected fault")
        return None

    def _take_fail_next(self, method: str, path: str, body: Any) -> Optional[Decision]:
        for entry in self.fail_next:
            if entry["method"] and entry["method"] != method:
                continue
            if not entry["path"].search(path):
                continue
            if entry["body"] and not _contains(body, entry["body"]):
                continue
            if entry["skip"] > 0:      # let this matching request through, fail a later one
                entry["skip"] -= 1
                continue
            entry["count"] -= 1
            if entry["count"] <= 0:
                self.fail_next.remove(entry)
            self.counters["fail_next"] += 1
            if entry["reset"]:
                return Decision("reset", after=entry["after"])
            return Decision("error", entry["status"], entry["code"], entry["message"], entry["after"])
        return None

    def take_job_failure(self, policy_names) -> Optional[str]:
        """The injected error for the next job of one of these policy names (name or id), if any."""
        with self._lock:
            for entry in self.fail_next_job:
                if entry["policy"] in policy_names:
                    self.fail_next_job.remove(entry)
                    self.counters["fail_next_job"] += 1
                    return entry["error"]
        return None


def _as_list(value: Any) -> List[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _check_rate(settings: Dict[str, Any], key: str) -> None:
    value = settings.get(key)
    if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ValueError("%s must be a number between 0 and 1" % key)


def _fail_next_entry(entry: Any) -> Dict[str, Any]:
    if not isinstance(entry, dict) or not entry.get("path"):
        raise ValueError("each fail_next entry needs at least a 'path' regex")
    try:
        pattern = re.compile(str(entry["path"]))
    except re.error as exc:
        raise ValueError("fail_next path is not a valid regex: %s" % exc)
    status = int(entry.get("status", 503))
    return {
        "method": str(entry["method"]).upper() if entry.get("method") else None,
        "path": pattern,
        "count": int(entry.get("count", 1)),
        "status": status,
        "code": entry.get("code", DEFAULT_CODES.get(status, "AEC_EXCEPTION")),
        "message": str(entry.get("message", "Injected fault")),
        "reset": bool(entry.get("reset", False)),
        "after": bool(entry.get("after", False)),
        "skip": int(entry.get("skip", 0)),
        "body": _body_pattern(entry.get("body")),
    }


def _body_pattern(value: Any) -> Dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("fail_next body must be an object (keys the request body must have, with these values)")
    return dict(value)


def _contains(body: Any, wanted: Dict[str, Any]) -> bool:
    """True when the JSON request body has every key of ``wanted`` with that value."""
    if not isinstance(body, dict):
        return False
    return all(key in body and body[key] == value for key, value in wanted.items())


def _fail_job_entry(entry: Any) -> Dict[str, Any]:
    if not isinstance(entry, dict) or not entry.get("policy"):
        raise ValueError("fail_next_job needs a 'policy' (name or id)")
    return {"policy": str(entry["policy"]), "error": str(entry.get("error") or "Injected job failure")}
