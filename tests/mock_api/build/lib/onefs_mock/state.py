"""The simulated world: every cluster, shared stores, one lock, one clock.

``World`` holds the clusters by their ``--cluster`` key, the scenario they
were built from, the request log, the timer scheduler and one ``RLock`` that
guards every state change (handlers run under it; timer callbacks take it).
Each resource module keeps its data in ``cluster.store[area]`` and registers
how to build it from the scenario (``framework.register_area``); ``reset``
rebuilds every area from the scenario, so a reset is always a clean slate.
"""

import copy
import hashlib
import heapq
import itertools
import logging
import threading
import time
import uuid
from collections import deque
from typing import Any, Callable, Dict, List, Optional

from . import framework
from .faults import Faults
from .seed import cluster_section, simulation_settings

LOG = logging.getLogger("onefs_mock")

# OneFS release -> highest PAPI version (reference 1.1).
PAPI_BY_RELEASE = {"9.5": 16, "9.6": 17, "9.7": 18, "9.8": 19, "9.9": 20, "9.10": 21, "9.11": 22, "9.12": 23}

REDACTED = "********"


def redact(value: Any) -> Any:
    """Replace the value of every key that contains 'password' (any depth)."""
    if isinstance(value, dict):
        return {k: (REDACTED if "password" in str(k).lower() else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class Timer:
    __slots__ = ("due", "seq", "func", "args", "cancelled")

    def __init__(self, due: float, seq: int, func: Callable, args: tuple):
        self.due = due
        self.seq = seq
        self.func = func
        self.args = args
        self.cancelled = False

    def __lt__(self, other: "Timer") -> bool:
        return (self.due, self.seq) < (other.due, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """One background thread running a heap of timers (real seconds).

    Simulated durations are divided by the time scale before they get here, so
    the scheduler itself only knows wall-clock delays.
    """

    def __init__(self):
        self._heap: List[Timer] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._stopped = False
        self._busy = 0
        self._thread = threading.Thread(target=self._run, name="onefs-mock-scheduler", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, func: Callable, *args) -> Timer:
        timer = Timer(time.monotonic() + max(0.0, delay), next(self._seq), func, args)
        with self._cond:
            heapq.heappush(self._heap, timer)
            self._cond.notify()
        return timer

    def clear(self) -> None:
        with self._cond:
            for timer in self._heap:
                timer.cancelled = True
            self._heap = []
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return sum(1 for t in self._heap if not t.cancelled) + self._busy

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _next_due(self) -> Optional[Timer]:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        if not self._heap:
            return None
        return self._heap[0]

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                timer = self._next_due()
                wait = None if timer is None else timer.due - time.monotonic()
                if timer is None or wait > 0:
                    self._cond.wait(timeout=wait if wait is not None else 1.0)
                    continue
                heapq.heappop(self._heap)
                self._busy += 1
            try:
                timer.func(*timer.args)
            except Exception:  # a timer must never kill the scheduler
                LOG.exception("timer %r failed", getattr(timer.func, "__name__", timer.func))
            finally:
                with self._cond:
                    self._busy -= 1


class RequestLog:
    """Bounded, thread-safe log of API calls (never of /_mock/ calls)."""

    def __init__(self, maxlen: int = 100000):
        self._entries: deque = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def add(self, entry: Dict[str, Any]) -> None:
        with self._lock:
            entry["seq"] = next(self._seq)
            self._entries.append(entry)

    def since(self, seq: int, cluster: Optional[str] = None) -> Dict[str, Any]:
        with self._lock:
            found = [e for e in self._entries if e["seq"] >= seq and (cluster is None or e["cluster"] == cluster)]
            last = self._entries[-1]["seq"] if self._entries else 0
        return {"requests": found, "next": max(seq, last + 1)}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Cluster:
    """One simulated cluster: its scenario section, its stores, its endpoint."""

    def __init__(self, world: "World", name: str, host: str = "127.0.0.1", port: int = 0):
        self.world = world
        self.name = name
        self.host = host
        self.port = port
        self.config: Dict[str, Any] = {}
        self.store: Dict[str, Any] = {}
        self.faults = Faults()
        self.down = False
        self.server = None          # set by server.py (ClusterEndpoint)
        self.scheme = "http"

    # identity -----------------------------------------------------------
    @property
    def cluster_name(self) -> str:
        return self.config.get("cluster_name") or self.name

    @property
    def guid(self) -> str:
        return self.config.get("guid") or derived_guid(self.cluster_name)

    @property
    def onefs_version(self) -> str:
        return str(self.config.get("onefs_version") or "9.5.0.0")

    @property
    def latest_papi(self) -> int:
        parts = self.onefs_version.lstrip("v").split(".")
        return PAPI_BY_RELEASE.get(".".join(parts[:2]), framework.LATEST_PAPI)

    @property
    def addresses(self) -> List[str]:
        return [str(a) for a in self.config.get("addresses") or []]

    def answers_to(self, host: str) -> bool:
        wanted = str(host or "").strip().lower()
        if not wanted:
            return False
        names = [self.name, self.cluster_name] + self.addresses
        return any(wanted == n.lower() for n in names)

    def url(self) -> str:
        return "%s://%s:%d" % (self.scheme, self.host, self.port)

    def is_reachable(self) -> bool:
        return not self.down


def derived_guid(name: str) -> str:
    """A stable 36-hex-character GUID (OneFS style) derived from a name."""
    return hashlib.sha1(("onefs-mock:" + name).encode()).hexdigest()[:36]


def new_id() -> str:
    return uuid.uuid4().hex


class World:
    def __init__(self, scenario: Optional[Dict[str, Any]] = None, time_scale: float = 1.0):
        self.lock = threading.RLock()
        self.clusters: Dict[str, Cluster] = {}
        self.store: Dict[str, Any] = {}
        self.config: Dict[str, Any] = scenario or {}
        self.initial_time_scale = float(time_scale)
        self.time_scale = float(time_scale)
        self.scheduler = Scheduler()
        self.log = RequestLog()
        self.generation = 0
        self.latency_ms = 0         # added to every API call (--latency-ms)
        self.server = None          # the MockServer serving this world, if any

    # clock --------------------------------------------------------------
    def now(self) -> float:
        return time.time()

    def sim_delay(self, seconds: float) -> float:
        """Real seconds for a simulated duration."""
        scale = self.time_scale if self.time_scale > 0 else 1.0
        return max(0.0, float(seconds)) / scale

    def call_later_sim(self, seconds: float, func: Callable, *args) -> Timer:
        """Run ``func`` after a simulated delay, under the world lock, unless a reset happened."""
        generation = self.generation

        def fire():
            with self.lock:
                if generation != self.generation:
                    return
                func(*args)

        fire.__name__ = getattr(func, "__name__", "timer")
        return self.scheduler.call_later(self.sim_delay(seconds), fire)

    @property
    def simulation(self) -> Dict[str, Any]:
        return simulation_settings(self.config)

    # clusters -----------------------------------------------------------
    def add_cluster(self, name: str, host: str = "127.0.0.1", port: int = 0) -> Cluster:
        cluster = Cluster(self, name, host, port)
        self.clusters[name] = cluster
        return cluster

    def find_cluster(self, host: str) -> Optional[Cluster]:
        for cluster in self.clusters.values():
            if cluster.answers_to(host):
                return cluster
        return None

    def first_cluster(self) -> Optional[Cluster]:
        return next(iter(self.clusters.values()), None)

    # scenario -----------------------------------------------------------
    def reset(self, scenario: Optional[Dict[str, Any]] = None) -> None:
        """Rebuild every area of every cluster from the scenario."""
        with self.lock:
            if scenario is not None:
                self.config = scenario
            self.generation += 1
            self.scheduler.clear()
            self.time_scale = self.initial_time_scale
            self.store = {}
            for cluster in self.clusters.values():
                cluster.config = copy.deepcopy(cluster_section(self.config, cluster.name))
                cluster.store = {}
                cluster.faults.clear()
            for area in framework.areas():
                if area.world_init:
                    area.world_init(self, self.config)
            for area in framework.areas():
                if not area.init:
                    continue
                for cluster in self.clusters.values():
                    area.init(cluster, cluster.config)

    # state dump ---------------------------------------------------------
    def dump_cluster(self, cluster: Cluster) -> Dict[str, Any]:
        with self.lock:
            result: Dict[str, Any] = {}
            for area in framework.areas():
                if area.dump:
                    result[area.name] = area.dump(cluster)
            return result

    def dump_all(self) -> Dict[str, Any]:
        with self.lock:
            result: Dict[str, Any] = {"clusters": {n: self.dump_cluster(c) for n, c in self.clusters.items()}}
            for area in framework.areas():
                if area.world_dump:
                    result[area.name] = area.world_dump(self)
            return result

    def idle(self) -> bool:
        """True when no job is active on any cluster (areas register an ``is_busy`` check)."""
        with self.lock:
            return not any(check(self) for check in BUSY_CHECKS)


# Areas with background activity (SyncIQ jobs) register a ``world -> bool``.
BUSY_CHECKS: List[Callable[[World], bool]] = []
