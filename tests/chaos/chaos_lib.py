"""Helpers of the chaos suite (not a test module).

* :class:`Chaos` wraps the integration :class:`Harness`: playbook runs that can be killed
  (SIGKILL of ansible-playbook's whole process group), triggers that act on the mock when its
  request log shows a given call (outage, session expiry, kill), state and log reads through
  the mock's control port (it never goes down), counts of destructive calls, end-state
  snapshots, and a split-brain guard sampled while a run is going on.
* Everything is bounded: loops have a count and a deadline, processes a timeout.
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests as http

from dr_roles_helpers import PAIR, inventory_vars, read_file, role_playbook

ROOT = Path(__file__).resolve().parents[2]
SCOPE = ["fin-ap", "fin-ar"]
POOL = "groupnet0.subnet0.finance"
FIN_NAMES = ["finance.prod.example.com", "fin.prod.example.com"]
FIN_SPNS = ["HOST/finance", "HOST/finance.prod.example.com", "HOST/fin", "HOST/fin.prod.example.com"]
AD = {"ad_user": "svc-spn", "ad_password": "Spn-Secret-42"}
JOURNAL_DIR = "/ifs/.onefs_dr"
DESTRUCTIVE_ACTIONS = ("allow_write", "allow_write_revert", "resync_prep")
ACTIVE_RECORD_STATES = ("writes_enabled", "enabling_writes")


def mode():
    return os.environ.get("CHAOS_MODE", "quick").strip().lower() or "quick"


def is_full():
    return mode() == "full"


# --------------------------------------------------------------------------- playbook runs
class Run:
    """One ansible-playbook process (own process group), its output in files."""

    def __init__(self, proc, out_path, err_path, started):
        self.proc = proc
        self.out_path = out_path
        self.err_path = err_path
        self.started = started
        self.killed = False
        self.tree = set()
        self.rc = None

    @property
    def pid(self):
        return self.proc.pid

    def kill(self):
        """The controller dies: SIGKILL ansible-playbook's process group and every process it
        started.  ansible-core's workers call setsid(), so the group alone would leave the task
        being run (worker and module process) alive to finish its calls; the whole tree is
        frozen (SIGSTOP, until no new process appears) and then killed."""
        if self.proc.poll() is not None:
            return False
        tree = set()
        for dummy in range(50):
            found = {self.proc.pid} | descendants(self.proc.pid)
            for pid in found - tree:
                _signal(pid, signal.SIGSTOP)
            if found <= tree:
                break
            tree |= found
        _signal_group(self.proc.pid, signal.SIGKILL)
        for pid in tree:
            _signal(pid, signal.SIGKILL)
        self.tree = tree
        self.killed = True
        return True

    def wait(self, timeout):
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.rc = self.proc.wait(timeout=30)
            raise AssertionError("ansible-playbook did not end within %s s:\n%s" % (timeout, self.out[-4000:]))
        if self.killed:
            # Bounded wait until no process of the killed tree is left (module processes included).
            for dummy in range(200):
                alive = [pid for pid in self.tree if _alive(pid)]
                if not alive:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("processes of the killed controller are still alive: %s" % alive)
        return self.rc

    @property
    def out(self):
        return Path(self.out_path).read_text(errors="replace") if Path(self.out_path).exists() else ""

    @property
    def err(self):
        return Path(self.err_path).read_text(errors="replace") if Path(self.err_path).exists() else ""

    @property
    def text(self):
        return self.out + self.err


def _ppids():
    """{pid: parent pid} of every process (Linux /proc)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                stat = handle.read()
        except OSError:
            continue
        found[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def descendants(root):
    parents = _ppids()
    children = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _alive(pid):
    """True unless the process is gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Trigger:
    """Polls the mock's request log (control port) and calls ``action(entry)`` once, at the first
    entry for which ``when(entry)`` is true, optionally ``delay`` seconds later; samples the
    split-brain guard after writes until stopped."""

    def __init__(self, chaos, when, action, delay=0.0, poll=0.05, limit_s=900):
        self.chaos = chaos
        self.when = when
        self.action = action
        self.delay = delay
        self.poll = poll
        self.limit_s = limit_s
        self.fired = None           # the entry that fired it
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._since = chaos.next_seq()

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        deadline = time.monotonic() + self.limit_s
        session = http.Session()
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                page = session.get(self.chaos.control_url + "/_mock/requests", params={"since": self._since},
                                   timeout=30).json()
                for entry in page["requests"]:
                    self.chaos.sample_split_brain_if_write(entry, session)
                    if self.fired is None and self.when(entry):
                        self.fired = entry
                        if self.delay:
                            self._stop.wait(self.delay)
                        self.action(entry)      # then keep sampling the split-brain guard until stop()
                self._since = page.get("next", self._since)
                self._stop.wait(self.poll)
        except Exception as exc:  # reported by stop()
            self.error = exc
        finally:
            session.close()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=60)
        if self.error is not None:
            raise AssertionError("chaos trigger failed: %r" % (self.error,))
        return self.fired


class Chaos:
    """The integration harness plus what the chaos cases need."""

    def __init__(self, onefs, figures):
        self.onefs = onefs
        self.mock = onefs.mock
        self.figures = figures
        self.control_url = self.mock.control.control_url
        self.tmp = Path(onefs.tmp_path)
        self.record_dir = self.tmp / "records"
        self.runs = []
        self.triggers = []
        self.split_brain_samples = 0
        self.split_brain_seen = []
        self._sample_lock = threading.Lock()
        self._last_sample = 0.0
        self.allow_unplanned_split = False
        self._http = http.Session()
        self._count = 0
        self._ids = {}                 # policy / record id -> name, from every state read

    # -- control API (through the control port: works while a cluster is down) -------------
    def control(self, method, path, cluster=None, body=None, timeout=60):
        params = {"cluster": cluster} if cluster else None
        resp = self._http.request(method, self.control_url + "/_mock/" + path, params=params, json=body,
                                  timeout=timeout)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def state(self, cluster):
        return self.remember_ids(self.control("GET", "state", cluster))

    def state_all(self):
        dump = self.control("GET", "state", "*")
        for state in dump["clusters"].values():
            self.remember_ids(state)
        return dump

    def remember_ids(self, state):
        for item in state.get("policies", []) + state.get("target_policies", []):
            self._ids[item["id"]] = item["name"]
        return state

    def log(self):
        return self.control("GET", "requests")["requests"]

    def clear_log(self):
        self.control("DELETE", "requests")

    def next_seq(self):
        page = self.control("GET", "requests", body=None)
        return page.get("next", 0)

    def faults(self, cluster, **settings):
        return self.control("POST", "faults", cluster, settings)

    def fault_counters(self):
        total = 0
        for cluster in ("source", "target"):
            counters = self.control("GET", "faults", cluster).get("counters") or {}
            total += sum(int(v) for v in counters.values())
        return total

    def down(self, cluster, seconds=None):
        self.control("POST", "down", cluster, {"seconds": seconds} if seconds else {})
        self.figures.add("faults_injected")

    def up(self, cluster):
        self.control("POST", "up", cluster, {})

    def expire_sessions(self, cluster):
        self.figures.add("faults_injected")
        return self.control("POST", "sessions/expire", cluster, {})["expired"]

    def time_scale(self, scale):
        return self.control("POST", "time", None, {"scale": scale})

    def wait_idle(self, timeout=60):
        return self.control("POST", "wait_idle", None, {"timeout": timeout}, timeout=timeout + 30)

    def is_up(self, cluster):
        clusters = self.control("GET", "clusters")["clusters"]
        return not clusters[cluster]["down"]

    # -- inventory -------------------------------------------------------------------------
    def conn(self, cluster, **extra):
        data = dict(self.onefs.conn(cluster))
        data.update(extra)
        return data

    def dr_vars(self, policies=tuple(SCOPE), source=None, target=None, **extra):
        data = inventory_vars(self.onefs, policies, onefs_dr_pools=[{"source": POOL, "target": POOL, "names": FIN_NAMES}],
                              onefs_dr_spn_provider="AD.EXAMPLE.COM", onefs_dr_ad=AD)
        if source is not None:
            data["onefs_dr_source"] = source
        if target is not None:
            data["onefs_dr_target"] = target
        data.update(extra)
        return data

    # -- playbooks -------------------------------------------------------------------------
    def start(self, text, extra_vars=None, args=(), env=None, name="play"):
        """Start ansible-playbook in its own process group; returns a :class:`Run`."""
        self._count += 1
        stem = "%s-%02d" % (name, self._count)
        path = self.tmp / (stem + ".yml")
        path.write_text(text)
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        cmd += list(args)
        full_env = self.onefs.env()
        full_env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
        full_env.update(env or {})
        out_path, err_path = self.tmp / (stem + ".out"), self.tmp / (stem + ".err")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=full_env, start_new_session=True,
                                    stdin=subprocess.DEVNULL)
        run = Run(proc, out_path, err_path, time.time())
        self.runs.append(run)
        return run

    def play(self, text, extra_vars=None, args=(), env=None, timeout=900, name="play"):
        run = self.start(text, extra_vars, args, env, name)
        run.wait(timeout)
        return run

    def role(self, role, extra_vars, args=(), env=None, timeout=900, start=False, **role_vars):
        text = role_playbook(role, **role_vars)
        if start:
            return self.start(text, extra_vars, args, env, name=role)
        return self.play(text, extra_vars, args, env, timeout, name=role)

    def failover_vars(self, failover_type="planned", **extra):
        settings = dict(failover_type=failover_type, failover_poll_interval=0.2, failover_timeout=300,
                        failover_readiness=False, failover_record_dir=str(self.record_dir))
        settings.update(extra)
        return settings

    def trigger(self, when, action, delay=0.0):
        trig = Trigger(self, when, action, delay).start()
        self.triggers.append(trig)
        return trig

    # -- split-brain guard (sampled) -------------------------------------------------------
    def sample_split_brain_if_write(self, entry, session):
        """Called by triggers for each new log entry: after a write, sample both clusters (at most
        every 0.2 s) and keep any policy whose both sides are active."""
        if entry.get("method") not in ("POST", "PUT", "DELETE") or not entry.get("path", "").startswith("/platform"):
            return
        with self._sample_lock:
            if time.monotonic() - self._last_sample < 0.2:
                return
            self._last_sample = time.monotonic()
        dump = session.get(self.control_url + "/_mock/state", params={"cluster": "*"}, timeout=30).json()
        clusters = dump["clusters"]
        with self._sample_lock:
            for state in clusters.values():
                self.remember_ids(state)
        found = split_brain(clusters["source"], clusters["target"])
        with self._sample_lock:
            self.split_brain_samples += 1
            if found:
                self.split_brain_seen.append({"at_seq": entry.get("seq"), "policies": found})

    def assert_no_split_brain(self, unplanned=False):
        """End state and every sample: no policy active on both sides, unless the failover was
        unplanned (then only rule (c) is allowed, and the run record must say so: see the case)."""
        found = split_brain(self.state("source"), self.state("target"), unplanned=unplanned)
        assert found == [], "both sides active at the end: %s" % found
        bad = [s for s in self.split_brain_seen
               if split_brain_kinds(s["policies"], unplanned=unplanned)]
        assert bad == [], "both sides active during the run: %s" % bad

    # -- request log ------------------------------------------------------------------------
    def id_names(self):
        """{policy or record id: policy name} from every state read so far and the current one.
        An id never seen in a state stays as it is (repeats are still counted per id)."""
        self.state_all()
        return dict(self._ids)

    def destructive_calls(self, log=None):
        """[(cluster, action, policy)] of every destructive call that took effect: POST /sync/jobs
        with allow_write, allow_write_revert or resync_prep, and DELETE of a SyncIQ policy."""
        log = self.log() if log is None else log
        names = self.id_names()
        found = []
        for entry in log:
            if not entry.get("applied") or not entry["path"].startswith("/platform"):
                continue
            body = entry.get("body") or {}
            if entry["method"] == "POST" and entry["path"].rstrip("/").endswith("/sync/jobs"):
                action = body.get("action", "sync")
                if action in DESTRUCTIVE_ACTIONS:
                    ident = str(body.get("id"))
                    found.append((entry["cluster"], action, names.get(ident, ident)))
            elif entry["method"] == "DELETE" and "/sync/policies/" in entry["path"]:
                ident = entry["path"].rstrip("/").rsplit("/", 1)[1]
                found.append((entry["cluster"], "delete_policy", names.get(ident, ident)))
        return found

    def repeated(self, calls):
        """{call: count} of the calls made more than once."""
        counts = {}
        for call in calls:
            counts[call] = counts.get(call, 0) + 1
        return dict((call, n) for call, n in counts.items() if n > 1)

    # -- journal ----------------------------------------------------------------------------
    def lock(self):
        text = read_file(self.onefs, "target", "%s/%s/lock" % (JOURNAL_DIR, PAIR))
        return json.loads(text) if text else None

    # -- teardown ---------------------------------------------------------------------------
    def close(self):
        for trig in self.triggers:
            trig._stop.set()
        for run in self.runs:
            if run.proc.poll() is None:
                run.kill()
                run.proc.wait(timeout=30)
        for cluster in ("source", "target"):
            try:
                self.up(cluster)
            except Exception:  # the next test's reset brings every cluster up anyway
                pass
        self._http.close()


# --------------------------------------------------------------------------- states
def policy(state, name):
    return next((p for p in state["policies"] if p["name"] == name), None)


def record(state, name):
    return next((r for r in state["target_policies"] if r["name"] == name), None)


def split_brain(source, target, unplanned=False):
    """Policies active on both sides, as ``[(policy, rule)]``:

    (a) the target owns an enabled policy P while the source's P is enabled (two directions);
    (b) the target's record of P is writable and the source's record of P_mirror is writable too;
    (c) the target's record of P is writable (or becoming so) while the source's P is enabled with
        a schedule that runs by itself (the run would fail on OneFS: data-loss risk) — allowed only
        after an explicit unplanned failover (``unplanned=True``).
    A source policy enabled with a manual schedule while the target is writable is the documented
    transient of a failback keeping the target's data (enable, then resync-prep): not counted.
    """
    found = []
    for src in source["policies"]:
        name = src["name"]
        if name.endswith("_mirror"):
            continue
        tpol = policy(target, name)
        if tpol is not None and tpol["enabled"] and src["enabled"]:
            found.append((name, "a"))
        rec = record(target, name)
        mirror_rec = record(source, name + "_mirror")
        if rec and rec["failover_failback_state"] == "writes_enabled" and mirror_rec \
                and mirror_rec["failover_failback_state"] == "writes_enabled":
            found.append((name, "b"))
        if rec and rec["failover_failback_state"] in ACTIVE_RECORD_STATES and src["enabled"] \
                and (src.get("schedule") or "") != "" and not unplanned:
            found.append((name, "c"))
    return found


def split_brain_kinds(found, unplanned=False):
    return [f for f in found if not (unplanned and f[1] == "c")]


def snapshot(source, target):
    """What must be the same after any successful run of an operation (ids, times, reports and
    the journal files left out)."""

    def one(state):
        files = dict((path, info) for path, info in state["files"].items()
                     if not path.startswith(JOURNAL_DIR))
        return {
            "policies": sorted((p["name"], p["enabled"], p["schedule"], p.get("job_delay"), p["source_root_path"],
                                p["target_path"]) for p in state["policies"]),
            "records": sorted((r["name"], r["failover_failback_state"]) for r in state["target_policies"]),
            "pools": sorted((p["id"], p["sc_dns_zone"], tuple(p["sc_dns_zone_aliases"])) for p in state["pools"]),
            "spns": sorted(s.lower() for a in state["ads"] for s in a["spns"]),
            "quotas": sorted((q["path"], q["type"], json.dumps(q["thresholds"], sort_keys=True))
                             for q in state["quotas"]),
            "active_jobs": sorted((j.get("policy_name"), j.get("action")) for j in state["jobs"]),
            "files": files,
        }

    return {"source": one(source), "target": one(target)}


def diff_snapshots(expected, got):
    lines = []
    for cluster in expected:
        for key in expected[cluster]:
            if expected[cluster][key] != got[cluster][key]:
                exp, act = expected[cluster][key], got[cluster][key]
                if isinstance(exp, dict):
                    keys = sorted(set(exp) ^ set(act) | set(k for k in exp if k in act and exp[k] != act[k]))
                    lines.append("%s %s differ at %s" % (cluster, key, keys[:10]))
                else:
                    lines.append("%s %s: expected %s, got %s" % (cluster, key, exp, act))
    return lines


def seeded(seed):
    return random.Random(seed)


# --------------------------------------------------------------------------- expected end states
def pool(state, pool_id=POOL):
    return next(p for p in state["pools"] if p["id"] == pool_id)


def spns(state):
    return [s.lower() for a in state["ads"] for s in a["spns"]]


def quota_paths(state):
    return sorted(q["path"] for q in state["quotas"])


def assert_failed_over(source, target, planned=True, scope=tuple(SCOPE)):
    """The documented end state of a failover of ``scope`` with the finance pool and its SPNs."""
    for name in scope:
        assert record(target, name)["failover_failback_state"] == "writes_enabled", name
        if planned:
            assert not policy(source, name)["enabled"], name
            assert policy(source, name)["schedule"] == "", name
    assert pool(target)["sc_dns_zone"] == "finance.prod.example.com"
    assert pool(target)["sc_dns_zone_aliases"] == ["fin.prod.example.com"]
    for spn in FIN_SPNS:
        assert spn.lower() in spns(target), spn
    if planned:
        assert pool(source)["sc_dns_zone"] == "parked-finance.prod.example.com"
        assert pool(source)["sc_dns_zone_aliases"] == ["parked-fin.prod.example.com"]
        for spn in FIN_SPNS:
            assert spn.lower() not in spns(source), spn
        for path in ("/ifs/data/finance/ap", "/ifs/data/finance/ar"):
            assert path in quota_paths(target) and path not in quota_paths(source), path


def assert_replication_as_before(before, source, target):
    """Policies and target records exactly as in the ``before`` snapshot (the original direction)."""
    now = snapshot(source, target)
    for cluster in ("source", "target"):
        for key in ("policies", "records"):
            assert now[cluster][key] == before[cluster][key], (cluster, key, diff_snapshots(before, now))
