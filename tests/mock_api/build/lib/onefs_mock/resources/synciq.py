"""SyncIQ: policies, jobs, target records (failover/failback state), reports.

Per cluster, ``store["synciq"]`` holds:

* ``policies``  id -> policy (public fields; private keys start with ``_``)
* ``targets``   id -> target record (same id as the source policy)
* ``jobs``      job id (= policy or target record name) -> :class:`Job` while active
* ``reports`` / ``target_reports``  finished job reports, oldest first
* ``job_seq``   policy name -> last job number (report ids ``<job_id>-<name>``)
* ``wsm``       policy id -> pending when-source-modified timer

Jobs run on the world's scheduler in simulated time.  A sync job snapshots
the source tree when it starts and writes it to the target when it ends, so
what arrives is what was there at the start, as with SyncIQ snapshots.
Every behaviour the reference marks UNVERIFIED is listed in the README.
"""

import logging
import re
import time
from typing import Any, Dict, List, Optional

from ..framework import ApiError, Response, bad_request, conflict, exists, not_found, register_area, route, single
from ..state import BUSY_CHECKS, new_id
from . import _shared, namespace

PRIVILEGE = "ISI_PRIV_SYNCIQ"
LOG = logging.getLogger("onefs_mock")

# --- policy fields ---------------------------------------------------------------------------

LOG_LEVELS = ("fatal", "error", "notice", "info", "copy", "debug", "trace")
POLICY_SPEC: Dict[str, Any] = {
    "name": "str", "action": ("sync", "copy"), "source_root_path": "str", "target_host": "str", "target_path": "str",
    "enabled": "bool", "schedule": "str", "job_delay": "int", "description": "str",
    "source_include_directories": "list[str]", "source_exclude_directories": "list[str]",
    "file_matching_pattern": "obj?", "target_compare_initial_sync": "bool", "target_detect_modifications": "bool",
    "target_certificate_id": "str", "target_snapshot_archive": "bool", "target_snapshot_pattern": "str",
    "target_snapshot_alias": "str", "target_snapshot_expiration": "int", "source_snapshot_archive": "bool",
    "source_snapshot_pattern": "str", "source_snapshot_expiration": "int", "snapshot_sync_pattern": "str",
    "snapshot_sync_existing": "bool", "skip_when_source_unmodified": "bool", "rpo_alert": "int?", "priority": "int",
    "workers_per_node": "int", "log_level": LOG_LEVELS, "report_max_age": "int", "report_max_count": "int",
    "check_integrity": "bool", "delete_quotas": "bool", "log_removed_files": "bool",
    "cloud_deep_copy": ("deny", "allow", "force"), "accelerated_failback": "bool", "allow_copy_fb": "bool",
    "changelist": "bool", "disable_fofb": "bool", "disable_stf": "bool", "disable_file_split": "bool",
    "disable_quota_tmp_dir": "bool", "enable_hash_tmpdir": "bool", "expected_dataloss": "bool",
    "force_interface": "bool", "ignore_recursive_quota": "bool", "restrict_target_network": "bool",
    "skip_lookup": "bool", "service_policy": "bool", "source_network": "obj?", "password": "str",
    "bandwidth_reservation": "int?", "linked_service_policies": "list[str]", "encryption_cipher_list": "str",
    "ocsp_address": "str", "ocsp_issuer_certificate_id": "str", "sync_existing_snapshot_expiration": "bool",
    "sync_existing_target_snapshot_pattern": "str",
}
UPDATE_SPEC = dict(POLICY_SPEC, conflicted="bool")
REQUIRED = ("name", "action", "source_root_path", "target_host", "target_path")

POLICY_DEFAULTS: Dict[str, Any] = {
    "accelerated_failback": False, "action": "sync", "allow_copy_fb": False, "bandwidth_reservation": None,
    "changelist": False, "check_integrity": True, "cloud_deep_copy": "deny", "conflicted": False,
    "database_mirrored": False, "delete_quotas": True, "description": "", "disable_file_split": False,
    "disable_fofb": False, "disable_quota_tmp_dir": False, "disable_stf": False, "enable_hash_tmpdir": False,
    "enabled": True, "encrypted": False, "encryption_cipher_list": "", "expected_dataloss": False,
    "file_matching_pattern": {}, "force_interface": False, "has_sync_state": False, "ignore_recursive_quota": False,
    "job_delay": 0, "last_job_state": None, "last_started": None, "last_success": None,
    "linked_service_policies": [], "log_level": "notice", "log_removed_files": False, "next_run": None,
    "ocsp_address": "", "ocsp_issuer_certificate_id": "", "password_set": False, "priority": 0,
    "report_max_age": 31536000, "report_max_count": 2000, "restrict_target_network": False, "rpo_alert": None,
    "schedule": "", "service_policy": False, "skip_lookup": False, "skip_when_source_unmodified": False,
    "snapshot_sync_existing": False, "snapshot_sync_pattern": "*", "source_certificate_id": "",
    "source_domain_marked": False, "source_exclude_directories": [], "source_include_directories": [],
    "source_network": None, "source_snapshot_archive": False, "source_snapshot_expiration": 0,
    "source_snapshot_pattern": "", "sync_existing_snapshot_expiration": False,
    "sync_existing_target_snapshot_pattern": "%{SnapName}-%{SnapCreateTime}", "target_certificate_id": "",
    "target_compare_initial_sync": False, "target_detect_modifications": True,
    "target_snapshot_alias": "SIQ-%{SrcCluster}-%{PolicyName}-latest", "target_snapshot_archive": False,
    "target_snapshot_expiration": 0, "target_snapshot_pattern": "SIQ-%{SrcCluster}-%{PolicyName}-%Y-%m-%d_%H-%M-%S",
    "workers_per_node": 3,
}

WSM = "when-source-modified"
SNAPSHOT_TAKEN = "when-snapshot-taken"
RECURRENCE = re.compile(r"^\s*(every|the|yearly)\b", re.IGNORECASE)
MIRROR_SUFFIX = "_mirror"

# --- job and target-record vocabulary ----------------------------------------------------------

ACTIONS = ("resync_prep", "allow_write", "allow_write_revert", "test")
JOB_FIELDS = {"id", "action", "source_snapshot", "workers_per_node", "log_level", "skip_copy", "skip_failover",
              "skip_map", "service_policy", "tgt_path", "timestamp"}
ACTIVE_STATES = ("scheduled", "pending", "running", "paused")
READ_ONLY_STATES = ("writes_disabled", "enabling_writes", "disabling_writes")
COUNTERS = (
    "ads_streams_replicated", "block_specs_replicated", "bytes_recoverable", "bytes_transferred",
    "char_specs_replicated", "committed_files", "corrected_lins", "directories_replicated", "dirs_changed",
    "dirs_deleted", "dirs_moved", "dirs_new", "error_checksum_files_skipped", "error_io_files_skipped",
    "error_net_files_skipped", "failed_chunks", "fifos_replicated", "file_data_bytes", "files_changed",
    "files_linked", "files_new", "files_selected", "files_transferred", "files_unlinked",
    "files_with_ads_replicated", "flipped_lins", "hard_links_replicated", "hash_exceptions_fixed",
    "hash_exceptions_found", "lins_total", "network_bytes_to_source", "network_bytes_to_target",
    "new_files_replicated", "num_retransmitted_files", "quotas_deleted", "regular_files_replicated",
    "resynced_lins", "running_chunks", "sockets_replicated", "source_bytes_recovered",
    "source_directories_created", "source_directories_deleted", "source_directories_linked",
    "source_directories_unlinked", "source_directories_visited", "source_files_deleted", "source_files_linked",
    "source_files_unlinked", "sparse_data_bytes", "succeeded_chunks", "symlinks_replicated",
    "target_bytes_recovered", "target_directories_created", "target_directories_deleted",
    "target_directories_linked", "target_directories_unlinked", "target_files_deleted", "target_files_linked",
    "target_files_unlinked", "total_chunks", "total_data_bytes", "total_exported_services", "total_files",
    "total_network_bytes", "unchanged_data_bytes", "up_to_date_files_skipped", "updated_files_replicated",
    "user_conflict_files_skipped", "worm_committed_file_conflicts",
)


SETTINGS_DEFAULTS: Dict[str, Any] = {
    "bandwidth_reservation_reserve_absolute": None, "bandwidth_reservation_reserve_percentage": 1,
    "cluster_certificate_id": "", "encryption_cipher_list": "", "encryption_required": False,
    "force_interface": False, "max_concurrent_jobs": 50, "ocsp_address": "", "ocsp_issuer_certificate_id": "",
    "password_set": False, "preferred_rpo_alert": 0, "renegotiation_period": 28800, "report_email": [],
    "report_max_age": 31536000, "report_max_count": 2000, "restrict_target_network": False, "rpo_alerts": True,
    "service": "on", "service_history_max_age": 31536000, "service_history_max_count": 2000, "source_network": None,
    "tw_chkpt_interval": 0, "use_workers_per_node": False,
}
SETTINGS_SPEC: Dict[str, Any] = {
    "bandwidth_reservation_reserve_absolute": "int?", "bandwidth_reservation_reserve_percentage": "int",
    "cluster_certificate_id": "str", "encryption_cipher_list": "str", "encryption_required": "bool",
    "force_interface": "bool", "max_concurrent_jobs": "int", "ocsp_address": "str",
    "ocsp_issuer_certificate_id": "str", "password": "str", "preferred_rpo_alert": "int",
    "renegotiation_period": "int", "report_email": "list[str]", "report_max_age": "int", "report_max_count": "int",
    "restrict_target_network": "bool", "rpo_alerts": "bool", "service": ("on", "off", "paused"),
    "service_history_max_age": "int", "service_history_max_count": "int", "source_network": "obj?",
    "tw_chkpt_interval": "int", "use_workers_per_node": "bool",
}


# --- store ------------------------------------------------------------------------------------

def _store(cluster) -> Dict[str, Any]:
    # setdefault: seeding one cluster's policies writes target records into its peer's store,
    # which may not have been initialised yet.
    return cluster.store.setdefault("synciq", {
        "policies": {}, "targets": {}, "jobs": {}, "reports": [], "target_reports": [], "job_seq": {}, "wsm": {},
        "settings": dict(SETTINGS_DEFAULTS),
    })


def _public(record: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _now() -> int:
    return int(time.time())


def find_policy(cluster, key: str) -> Optional[Dict[str, Any]]:
    policies = _store(cluster)["policies"]
    if key in policies:
        return policies[key]
    return next((p for p in policies.values() if p["name"] == key), None)


def policy_or_404(cluster, key: str) -> Dict[str, Any]:
    policy = find_policy(cluster, key)
    if policy is None:
        raise not_found("Unable to find policy %s" % key)
    return policy


def find_target(cluster, key: str) -> Optional[Dict[str, Any]]:
    targets = _store(cluster)["targets"]
    if key in targets:
        return targets[key]
    return next((t for t in targets.values() if t["name"] == key), None)


def target_or_404(cluster, key: str) -> Dict[str, Any]:
    record = find_target(cluster, key)
    if record is None:
        raise not_found("Unable to find target policy %s" % key)
    return record


def target_cluster(cluster, policy: Dict[str, Any]):
    return cluster.world.find_cluster(policy["target_host"])


def _active_job(cluster, name: str) -> Optional["Job"]:
    return _store(cluster)["jobs"].get(name)


# --- validation ---------------------------------------------------------------------------------

def _check_schedule(schedule: str) -> None:
    if schedule in ("", WSM, SNAPSHOT_TAKEN) or RECURRENCE.match(schedule):
        return
    raise bad_request("Invalid schedule %r: expected '', 'when-source-modified', 'when-snapshot-taken' "
                      "or a recurrence such as 'every 1 days at 12:00 AM'" % schedule, "schedule")


def _check_values(body: Dict[str, Any]) -> None:
    for key in ("source_root_path", "target_path"):
        if key in body:
            body[key] = _shared.check_ifs_path(body[key], key)
    for key, low, high in (("name", 1, 255), ("target_host", 1, 255), ("description", 0, 255)):
        if key in body and not low <= len(body[key]) <= high:
            raise bad_request("Field: %s must be %d to %d characters long" % (key, low, high), key)
    if "name" in body and "/" in body["name"]:
        raise ApiError(400, "AEC_NAMEILLEGAL", "Field: name must not contain '/'", "name")
    if "schedule" in body:
        _check_schedule(body["schedule"])
    for key, low, high in (("job_delay", 0, 2 ** 31), ("priority", 0, 1), ("workers_per_node", 1, 20),
                           ("report_max_count", 1, 2000), ("report_max_age", 0, 2 ** 31)):
        if key in body and not low <= body[key] <= high:
            raise bad_request("Field: %s must be between %d and %d" % (key, low, high), key)
    network = body.get("source_network")
    if network is not None and not (isinstance(network.get("subnet"), str) and isinstance(network.get("pool"), str)):
        raise bad_request("Field: source_network needs subnet and pool", "source_network")


def _check_unique_name(cluster, name: str, own_id: Optional[str] = None) -> None:
    other = find_policy(cluster, name)
    if other is not None and other["id"] != own_id:
        raise exists("A policy named %s already exists" % name)


# --- policies -----------------------------------------------------------------------------------

def create_policy(cluster, body: Dict[str, Any], policy_id: Optional[str] = None) -> Dict[str, Any]:
    """Validate and store a new policy; used by POST, by seeds and by resync_prep."""
    _shared.validate(body, POLICY_SPEC, "policy", REQUIRED)
    _check_values(body)
    _check_unique_name(cluster, body["name"])
    policy = dict(POLICY_DEFAULTS)
    policy.update({k: v for k, v in body.items() if k != "password"})
    policy["id"] = policy_id or new_id()
    policy["password_set"] = bool(body.get("password"))
    policy["_synced_tree"] = None     # source tree at the start of the last successful sync
    policy["_dirty"] = False          # a write under the root since that snapshot
    _store(cluster)["policies"][policy["id"]] = policy
    return policy


def _policy_body(policy: Dict[str, Any]) -> Dict[str, Any]:
    body = _public(policy)
    body["file_matching_pattern"] = dict(body["file_matching_pattern"] or {})
    return body


@route("GET", "/platform/{v}/sync/policies", min_version=1)
def list_policies(req, cluster):
    query = _shared.list_query(req.query)
    items = [_policy_body(p) for p in _store(cluster)["policies"].values()]
    return _shared.page(items, query, "policies")


@route("GET", "/platform/{v}/sync/policies/{id}", min_version=1)
def get_policy(req, cluster):
    return single("policies", _policy_body(policy_or_404(cluster, req.params["id"])))


@route("POST", "/platform/{v}/sync/policies", min_version=1, privilege=PRIVILEGE)
def post_policy(req, cluster):
    policy = create_policy(cluster, req.body)
    _maybe_trigger(cluster, policy, delay=0.0)
    return Response(201, {"id": policy["id"]})


@route("PUT", "/platform/{v}/sync/policies/{id}", min_version=1, privilege=PRIVILEGE)
def put_policy(req, cluster):
    policy = policy_or_404(cluster, req.params["id"])
    body = _shared.validate(req.body, UPDATE_SPEC, "policy")
    _shared.require_change(body, "policy")
    _check_values(body)
    if "name" in body:
        _check_unique_name(cluster, body["name"], policy["id"])
    if body.get("conflicted") is False and not policy["conflicted"] and set(body) <= {"conflicted"}:
        raise bad_request("The policy was not conflicted, so no change was made", "conflicted")
    if "password" in body:
        policy["password_set"] = bool(body.pop("password"))
    policy.update(body)
    _maybe_trigger(cluster, policy, delay=0.0)
    return Response(204)


@route("DELETE", "/platform/{v}/sync/policies/{id}", min_version=1, privilege=PRIVILEGE)
def delete_policy(req, cluster):
    policy = policy_or_404(cluster, req.params["id"])
    _delete_policy(cluster, policy, req.flag("force"), req.flag("local_only"))
    return Response(204)


@route("DELETE", "/platform/{v}/sync/policies", min_version=1, privilege=PRIVILEGE)
def delete_all_policies(req, cluster):
    policies = list(_store(cluster)["policies"].values())
    busy = [p["name"] for p in policies if _active_job(cluster, p["name"])]
    if busy and not req.flag("force"):
        raise conflict("The policy %s has an active job and cannot be deleted." % busy[0])
    for policy in policies:
        _delete_policy(cluster, policy, True, req.flag("local_only"))
    return Response(204)


def _delete_policy(cluster, policy: Dict[str, Any], force: bool, local_only: bool) -> None:
    job = _active_job(cluster, policy["name"])
    if job is not None:
        if not force:
            raise conflict("The policy %s has an active job and cannot be deleted." % policy["name"])
        job.finish("canceled", "Canceled: the policy was deleted")
    _cancel_trigger(cluster, policy["id"])
    del _store(cluster)["policies"][policy["id"]]
    if local_only:
        return
    peer = target_cluster(cluster, policy)
    if peer is not None and peer.is_reachable():
        _store(peer)["targets"].pop(policy["id"], None)


@route("POST", "/platform/{v}/sync/policies/{id}/reset", min_version=1, privilege=PRIVILEGE)
def reset_policy(req, cluster):
    policy = policy_or_404(cluster, req.params["id"])
    if req.body not in (None, {}):
        _shared.validate(req.body, {}, "policy reset")
    if _active_job(cluster, policy["name"]):
        raise conflict("The policy %s has an active job and cannot be reset." % policy["name"])
    policy.update(has_sync_state=False, conflicted=False, _synced_tree=None)
    return Response(201, {"id": policy["id"]})


# --- when-source-modified -------------------------------------------------------------------------

def _wsm_ready(policy: Dict[str, Any]) -> bool:
    return policy["schedule"] == WSM and policy["enabled"] and not policy["conflicted"]


def _maybe_trigger(cluster, policy: Dict[str, Any], delay: Optional[float] = None) -> None:
    """Start a when-source-modified run after ``delay`` (default job_delay) if the source changed."""
    if not _wsm_ready(policy):
        _cancel_trigger(cluster, policy["id"])
        return
    if not policy["_dirty"] and policy["has_sync_state"]:
        tree = namespace.snapshot(cluster, policy["source_root_path"]) if namespace.exists(
            cluster, policy["source_root_path"]) else {}
        if not namespace.tree_differs(policy["_synced_tree"], tree):
            return
    policy["_dirty"] = True
    wsm = _store(cluster)["wsm"]
    if policy["id"] in wsm or _active_job(cluster, policy["name"]):
        return
    wait = policy["job_delay"] if delay is None else delay
    wsm[policy["id"]] = cluster.world.call_later_sim(wait, _fire_trigger, cluster, policy["id"])


def _cancel_trigger(cluster, policy_id: str) -> None:
    timer = _store(cluster)["wsm"].pop(policy_id, None)
    if timer is not None:
        timer.cancel()


def _fire_trigger(cluster, policy_id: str) -> None:
    _store(cluster)["wsm"].pop(policy_id, None)
    policy = _store(cluster)["policies"].get(policy_id)
    if policy is None or not _wsm_ready(policy) or not policy["_dirty"] or _active_job(cluster, policy["name"]):
        return
    if _store(cluster)["settings"]["service"] == "off":
        return
    start_job(cluster, policy, "run")


def _on_write(cluster, path: str) -> None:
    for policy in list(_store(cluster)["policies"].values()):
        if policy["schedule"] == WSM and namespace.is_under(path, policy["source_root_path"]):
            policy["_dirty"] = True
            _maybe_trigger(cluster, policy)


def _read_only_guard(cluster, path: str) -> Optional[str]:
    for record in _store(cluster)["targets"].values():
        if record["failover_failback_state"] in READ_ONLY_STATES and namespace.is_under(path, record["target_path"]):
            return "%s is inside the SyncIQ target directory %s of policy %s (%s)" % (
                path, record["target_path"], record["name"], record["failover_failback_state"])
    return None


namespace.WRITE_LISTENERS.append(_on_write)
namespace.WRITE_GUARDS.append(_read_only_guard)


# --- jobs -------------------------------------------------------------------------------------------

class Job:
    """One SyncIQ job running on ``cluster`` (for a run: the source; for allow_write: the target)."""

    def __init__(self, cluster, name: str, action: str, policy: Optional[Dict[str, Any]],
                 record: Optional[Dict[str, Any]], job_id: int):
        self.cluster = cluster
        self.world = cluster.world
        self.name = name
        self.action = action
        self.policy = policy          # source policy (run, test, resync_prep)
        self.record = record          # target record on this cluster (allow_write, allow_write_revert)
        self.job_id = job_id
        self.state = "scheduled"
        self.created = time.time()
        self.start_time: Optional[int] = None
        self.end_time: Optional[int] = None
        self.errors: List[str] = []
        self.timer = None
        self.remaining = 0.0          # simulated seconds left when paused
        self.due = 0.0                # monotonic time the running job ends
        self.tree: Dict[str, Any] = {}
        self.bytes = 0
        self.peer = None              # the other cluster of this job
        self.record_peer: Optional[Dict[str, Any]] = None   # resync_prep: the peer's target record
        self.sync_type = "incremental"
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.snapshots: List[str] = []

    # presentation ------------------------------------------------------------------------------------
    def policy_info(self) -> Dict[str, Any]:
        source = self.policy or {}
        record = self.record or {}
        return {
            "name": self.name,
            "action": source.get("action", self.action if self.action != "run" else "sync"),
            "source_root_path": source.get("source_root_path", ""),
            "target_host": source.get("target_host", record.get("source_host", "")),
            "target_path": source.get("target_path", record.get("target_path", "")),
            "source_include_directories": list(source.get("source_include_directories", [])),
            "source_exclude_directories": list(source.get("source_exclude_directories", [])),
            "file_matching_pattern": dict(source.get("file_matching_pattern") or {}),
        }

    def body(self) -> Dict[str, Any]:
        now = time.time()
        duration = int((self.end_time or now) - (self.start_time or now)) if self.start_time else 0
        body: Dict[str, Any] = dict(self.counters)
        body.update({
            "id": self.name,
            "job_id": self.job_id,
            "action": self.action,
            "state": self.state,
            "sync_type": self.sync_type,
            "policy_action": (self.policy or {}).get("action", "sync"),
            "policy": self.policy_info(),
            "policy_id": (self.policy or self.record or {}).get("id", ""),
            "policy_name": self.name,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "duration": duration,
            "error": self.errors[-1] if self.errors else "",
            "errors": list(self.errors),
            "warnings": [],
            "phases": [],
            "workers": [],
            "service_report": [],
            "retransmitted_files": [],
            "target_snapshots": list(self.snapshots),
            "total_phases": 0,
            "retry": 0,
            "dead_node": False,
            "encrypted": False,
            "throughput": "%d B/s" % (self.bytes // max(1, duration)),
        })
        return body

    # lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        self.state = "running"
        self.start_time = _now()
        if self.policy is not None and self.action in ("run", "test"):
            self.policy["last_started"] = self.start_time
            self.policy["last_job_state"] = "running"
        error = self._guarded(self._prepare)
        if error:
            self.finish("failed", error)
            return
        self._schedule(self._duration())

    def _duration(self) -> float:
        sim = self.world.simulation
        if self.action in ("run", "test"):
            bandwidth = max(float(sim["bandwidth_mb_s"]), 1e-6) * 1e6
            return float(sim["job_overhead_s"]) + self.bytes / bandwidth
        return float(sim["fofb_job_s"])

    def _schedule(self, seconds: float) -> None:
        self.due = time.monotonic() + self.world.sim_delay(seconds)
        self.timer = self.world.call_later_sim(seconds, self._complete)

    def pause(self) -> None:
        if self.state == "running" and self.timer is not None:
            self.timer.cancel()
            self.remaining = max(0.0, self.due - time.monotonic()) * self.world.time_scale
        self.state = "paused"

    def resume(self) -> None:
        if self.state != "paused":
            return
        if self.start_time is None:
            self.state = "scheduled"
            _promote(self.cluster)
            return
        self.state = "running"
        self._schedule(self.remaining)

    def cancel(self) -> None:
        self.finish("canceled", None)

    def _prepare(self) -> Optional[str]:
        """Checks made when the job starts; an error makes the job fail (as SyncIQ reports it)."""
        injected = self.cluster.faults.take_job_failure({self.name, (self.policy or self.record or {}).get("id")})
        if injected:
            return injected
        return ACTION_PREPARE[self.action](self)

    def _complete(self) -> None:
        if self.state != "running":
            return
        error = self._guarded(lambda: ACTION_COMPLETE[self.action](self))
        self.finish("failed" if error else "finished", error)

    def _guarded(self, step) -> Optional[str]:
        """Run a job step; an unexpected error fails the job instead of leaving it running forever."""
        try:
            return step()
        except ApiError as err:
            return err.message
        except Exception as exc:  # logged: it is a bug of the simulator, not a SyncIQ outcome
            LOG.exception("SyncIQ job %s (%s) failed unexpectedly", self.name, self.action)
            return "Internal error in the simulated job: %s" % type(exc).__name__

    def finish(self, state: str, error: Optional[str]) -> None:
        """End the job: leave the active list, write reports, update policy and target record."""
        if self.state in ("finished", "failed", "canceled"):
            return
        if self.timer is not None:
            self.timer.cancel()
        if error:
            self.errors.append(error)
        if self.start_time is None:
            self.start_time = _now()
        self.state = state
        self.end_time = _now()
        store = _store(self.cluster)
        if store["jobs"].get(self.name) is self:
            del store["jobs"][self.name]
        if state != "finished":
            ACTION_ABORT[self.action](self)
        self._record_outcome()
        self._write_reports()
        _promote(self.cluster)
        if self.policy is not None and self.policy["id"] in store["policies"] and self.policy["_dirty"]:
            _maybe_trigger(self.cluster, self.policy)

    def _record_outcome(self) -> None:
        if self.policy is not None and self.action in ("run", "test"):
            self.policy["last_job_state"] = self.state
            if self.state == "finished" and self.action == "run":
                self.policy["last_success"] = self.start_time
        if self.record is not None:
            self.record["last_job_state"] = self.state
        if self.action == "run" and self.peer is not None:
            peer_record = _store(self.peer)["targets"].get(self.policy["id"])
            if peer_record is not None:
                peer_record["last_job_state"] = self.state

    def _write_reports(self) -> None:
        report = self.body()
        report["id"] = "%d-%s" % (self.job_id, self.name)
        report["subreport_count"] = 0
        report.pop("workers", None)
        _store(self.cluster)["reports"].append(report)
        if self.action in ("run", "test") and self.peer is not None and self.peer.is_reachable():
            target_report = {k: v for k, v in report.items() if k not in ("policy", "policy_action")}
            target_report["source_host"] = self.cluster.cluster_name
            target_report["target_path"] = self.policy["target_path"]
            _store(self.peer)["target_reports"].append(target_report)


def _promote(cluster) -> None:
    """Start waiting jobs while fewer than max_running_jobs run."""
    jobs = _store(cluster)["jobs"]
    limit = min(int(cluster.world.simulation["max_running_jobs"]),
                int(_store(cluster)["settings"]["max_concurrent_jobs"]))
    if _store(cluster)["settings"]["service"] != "on":
        return                       # service off or paused: nothing starts
    running = sum(1 for j in jobs.values() if j.state == "running")
    for job in sorted(jobs.values(), key=lambda j: j.created):
        if running >= limit:
            return
        if job.state == "scheduled":
            job.start()
            running += 1 if job.state == "running" else 0


def _next_job_id(cluster, name: str) -> int:
    seq = _store(cluster)["job_seq"]
    seq[name] = seq.get(name, 0) + 1
    return seq[name]


def start_job(cluster, policy: Optional[Dict[str, Any]], action: str, record: Optional[Dict[str, Any]] = None) -> Job:
    name = (policy or record)["name"]
    job = Job(cluster, name, action, policy, record, _next_job_id(cluster, name))
    _store(cluster)["jobs"][name] = job
    if policy is not None:
        policy["_dirty"] = False if action == "run" else policy["_dirty"]
        _cancel_trigger(cluster, policy["id"])
    # Start from the scheduler, so the job is visible as 'scheduled' to a GET right after the POST.
    cluster.world.call_later_sim(0.0, _promote, cluster)
    return job


# --- action: run / test --------------------------------------------------------------------------------

def _prepare_run(job: Job) -> Optional[str]:
    policy = job.policy
    peer = target_cluster(job.cluster, policy)
    if peer is None:
        return "Unable to connect to target host %s: no such cluster" % policy["target_host"]
    if not peer.is_reachable():
        return "Unable to connect to target host %s: connection refused" % policy["target_host"]
    job.peer = peer
    record = _store(peer)["targets"].get(policy["id"])
    if record is None and policy["has_sync_state"]:
        return ("The target association of policy %s was broken on %s; reset the policy to run a full sync"
                % (policy["name"], peer.cluster_name))
    if record is not None and record["failover_failback_state"] != "writes_disabled":
        return ("Failed to start the sync job: the target directory %s on %s is in state %s (failed over); "
                "run allow_write_revert on the target or resync_prep first"
                % (policy["target_path"], peer.cluster_name, record["failover_failback_state"]))
    owner = _path_owner(peer, policy["target_path"], policy["id"])
    if owner is not None:
        return "The target path %s on %s is already the target of policy %s" % (
            policy["target_path"], peer.cluster_name, owner["name"])
    root = policy["source_root_path"]
    job.tree = namespace.snapshot(job.cluster, root) if namespace.exists(job.cluster, root) else {}
    if not job.tree:
        return "Source root path %s does not exist" % root
    job.sync_type = "incremental" if policy["has_sync_state"] else "initial"
    job.bytes = namespace.changed_bytes(policy["_synced_tree"], job.tree)
    files = [n for n in job.tree.values() if n.kind == "object"]
    job.counters.update(total_files=len(files), files_selected=len(files), bytes_transferred=job.bytes,
                        file_data_bytes=job.bytes, total_data_bytes=job.bytes, total_network_bytes=job.bytes,
                        network_bytes_to_target=job.bytes, lins_total=len(job.tree),
                        directories_replicated=sum(1 for n in job.tree.values() if n.kind == "container"))
    if job.action == "run" and record is None:
        _store(peer)["targets"][policy["id"]] = _new_target_record(job.cluster, policy)
    return None


def _path_owner(peer, path: str, policy_id: str) -> Optional[Dict[str, Any]]:
    for record in _store(peer)["targets"].values():
        if record["id"] != policy_id and (namespace.is_under(path, record["target_path"])
                                          or namespace.is_under(record["target_path"], path)):
            return record
    return None


def _new_target_record(source, policy: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "id": policy["id"],
        "name": policy["name"],
        "source_host": source.cluster_name,
        "source_cluster_guid": source.guid,
        "target_path": policy["target_path"],
        "last_job_state": "running",
        "last_source_coordinator_ip": (source.addresses or [source.host])[0],
        "last_update_from_source": None,
        "legacy_policy": False,
        "failover_failback_state": "writes_disabled",
        "_snapshot": None,     # target tree after the last successful sync (what a revert restores)
    }


def _complete_run(job: Job) -> Optional[str]:
    policy, peer = job.policy, job.peer
    if job.action == "test":
        return None
    if not peer.is_reachable():
        return "Lost the connection to target host %s" % policy["target_host"]
    record = _store(peer)["targets"].get(policy["id"])
    if record is None or record["failover_failback_state"] != "writes_disabled":
        return "The target record of policy %s on %s changed during the job" % (policy["name"], peer.cluster_name)
    namespace.restore(peer, policy["target_path"], job.tree, delete_extra=policy["action"] == "sync")
    record["_snapshot"] = namespace.snapshot(peer, policy["target_path"])
    record["last_update_from_source"] = _now()
    policy["has_sync_state"] = True
    policy["_synced_tree"] = job.tree
    job.snapshots = ["SIQ-%s-%s-latest" % (job.cluster.cluster_name, policy["name"])]
    return None


def _abort_nothing(job: Job) -> None:
    return None


# --- actions: allow_write / allow_write_revert ---------------------------------------------------------

def _prepare_allow_write(job: Job) -> Optional[str]:
    state = job.record["failover_failback_state"]
    if state == "writes_enabled":
        return None                      # already failed over: nothing to do
    job.record["failover_failback_state"] = "enabling_writes"
    return None


def _complete_allow_write(job: Job) -> Optional[str]:
    if job.record["failover_failback_state"] == "enabling_writes":
        job.record["failover_failback_state"] = "writes_enabled"
        job.snapshots = ["SIQ-Failover-%s-%s" % (job.name, time.strftime("%Y-%m-%d_%H-%M-%S", time.gmtime()))]
    return None


def _abort_allow_write(job: Job) -> None:
    if job.record["failover_failback_state"] == "enabling_writes":
        job.record["failover_failback_state"] = "writes_disabled"


def _prepare_revert(job: Job) -> Optional[str]:
    if job.record["failover_failback_state"] == "writes_disabled":
        return None
    job.record["failover_failback_state"] = "disabling_writes"
    return None


def _complete_revert(job: Job) -> Optional[str]:
    record = job.record
    if record["failover_failback_state"] != "disabling_writes":
        return None
    if record["_snapshot"] is not None:
        # Everything written on the target since the last sync is lost, as on OneFS.
        namespace.restore(job.cluster, record["target_path"], record["_snapshot"])
    record["failover_failback_state"] = "writes_disabled"
    return None


def _abort_revert(job: Job) -> None:
    if job.record["failover_failback_state"] == "disabling_writes":
        job.record["failover_failback_state"] = "writes_enabled"


# --- action: resync_prep --------------------------------------------------------------------------------

def _prepare_resync(job: Job) -> Optional[str]:
    policy = job.policy
    peer = target_cluster(job.cluster, policy)
    if peer is None or not peer.is_reachable():
        return "Unable to connect to target host %s" % policy["target_host"]
    job.peer = peer
    record = _store(peer)["targets"].get(policy["id"])
    if record is None or record["failover_failback_state"] not in ("writes_enabled", "resync_policy_created"):
        state = record["failover_failback_state"] if record else "no target record"
        return ("resync_prep needs the target of policy %s to be failed over (writes_enabled); it is %s"
                % (policy["name"], state))
    record["failover_failback_state"] = "creating_resync_policy"
    job.record_peer = record
    return None


def _complete_resync(job: Job) -> Optional[str]:
    """Disable the policy, create (or re-enable) the reverse policy on the peer, lock the local root."""
    policy, peer, record = job.policy, job.peer, job.record_peer
    if not peer.is_reachable():
        return "Lost the connection to target host %s" % policy["target_host"]
    policy["enabled"] = False
    _cancel_trigger(job.cluster, policy["id"])
    reverse = _reverse_policy(job.cluster, peer, policy)
    reverse["enabled"] = True
    reverse["has_sync_state"] = True
    reverse["_synced_tree"] = record["_snapshot"]
    reverse["_dirty"] = False
    record["failover_failback_state"] = "resync_policy_created"
    # The old source becomes the target of the reverse policy: read-only until allow_write.
    local = _store(job.cluster)["targets"].get(reverse["id"])
    if local is None:
        local = _new_target_record(peer, reverse)
        _store(job.cluster)["targets"][reverse["id"]] = local
    local.update(failover_failback_state="writes_disabled", last_job_state="finished",
                 target_path=reverse["target_path"], name=reverse["name"],
                 _snapshot=namespace.snapshot(job.cluster, policy["source_root_path"]))
    policy["source_domain_marked"] = True
    return None


def _reverse_policy(cluster, peer, policy: Dict[str, Any]) -> Dict[str, Any]:
    """The policy on ``peer`` that copies back: the original one when ``policy`` is a mirror."""
    if policy["name"].endswith(MIRROR_SUFFIX):
        original = find_policy(peer, policy["name"][: -len(MIRROR_SUFFIX)])
        if (original is not None and original["source_root_path"] == policy["target_path"]
                and original["target_path"] == policy["source_root_path"]):
            return original
    name = policy["name"] + MIRROR_SUFFIX
    mirror = find_policy(peer, name)
    if mirror is None:
        return create_policy(peer, {
            "name": name, "action": policy["action"], "source_root_path": policy["target_path"],
            "target_path": policy["source_root_path"], "target_host": cluster.cluster_name,
            "schedule": "", "enabled": True, "description": "Mirror of %s created by resync_prep" % policy["name"],
        })
    mirror.update(source_root_path=policy["target_path"], target_path=policy["source_root_path"],
                  target_host=cluster.cluster_name)
    return mirror


def _abort_resync(job: Job) -> None:
    record = job.record_peer
    if record is not None and record["failover_failback_state"] == "creating_resync_policy":
        record["failover_failback_state"] = "writes_enabled"


ACTION_PREPARE = {"run": _prepare_run, "test": _prepare_run, "allow_write": _prepare_allow_write,
                  "allow_write_revert": _prepare_revert, "resync_prep": _prepare_resync}
ACTION_COMPLETE = {"run": _complete_run, "test": _complete_run, "allow_write": _complete_allow_write,
                   "allow_write_revert": _complete_revert, "resync_prep": _complete_resync}
ACTION_ABORT = {"run": _abort_nothing, "test": _abort_nothing, "allow_write": _abort_allow_write,
                "allow_write_revert": _abort_revert, "resync_prep": _abort_resync}


# --- job routes --------------------------------------------------------------------------------------------

def _check_startable(cluster, name: str, policy: Optional[Dict[str, Any]]) -> None:
    if _store(cluster)["settings"]["service"] == "off":
        raise conflict("The SyncIQ service is off; turn it on (sync/settings service) before starting a job")
    if _active_job(cluster, name):
        raise conflict("Policy %s already has an active job" % name)
    if policy is None:
        return
    if policy["conflicted"]:
        raise conflict("Policy %s is in an error state. Please resolve it and retry" % policy["name"])
    if not policy["enabled"]:
        raise conflict("Policy %s is disabled; enable it before starting a job" % policy["name"])


@route("POST", "/platform/{v}/sync/jobs", min_version=1, privilege=PRIVILEGE)
def post_job(req, cluster):
    body = _shared.validate(req.body, {k: "any" for k in JOB_FIELDS}, "job", ("id",))
    key = body["id"]
    if not isinstance(key, str) or not key:
        raise bad_request("Field: id must be a policy name or id", "id")
    action = body.get("action")
    if action is not None and action not in ACTIONS:
        raise bad_request("Field: action must be one of %s (omit it for a normal run)" % ", ".join(ACTIONS), "action")
    if action in ("allow_write", "allow_write_revert"):
        record = target_or_404(cluster, key)
        _check_startable(cluster, record["name"], None)
        allowed = ("writes_disabled", "writes_enabled")
        if record["failover_failback_state"] not in allowed:
            raise conflict("Cannot run %s on target policy %s in state %s"
                           % (action, record["name"], record["failover_failback_state"]))
        job = start_job(cluster, None, action, record)
    else:
        policy = policy_or_404(cluster, key)
        _check_startable(cluster, policy["name"], policy)
        job = start_job(cluster, policy, action or "run")
    return Response(201, {"id": job.name})


def _job_or_404(cluster, key: str) -> Job:
    jobs = _store(cluster)["jobs"]
    job = jobs.get(key)
    if job is None:
        policy = find_policy(cluster, key) or find_target(cluster, key)
        job = jobs.get(policy["name"]) if policy else None
    if job is None:
        raise not_found("No active job for %s" % key)
    return job


@route("GET", "/platform/{v}/sync/jobs", min_version=1)
def list_jobs(req, cluster):
    query = _shared.list_query(req.query)
    items = [j.body() for j in _store(cluster)["jobs"].values()]
    if query.get("state"):
        items = [j for j in items if j["state"] == query["state"]]
    return _shared.page(items, query, "jobs")


@route("GET", "/platform/{v}/sync/jobs/{id}", min_version=1)
def get_job(req, cluster):
    return single("jobs", _job_or_404(cluster, req.params["id"]).body())


@route("PUT", "/platform/{v}/sync/jobs/{id}", min_version=1, privilege=PRIVILEGE)
def put_job(req, cluster):
    job = _job_or_404(cluster, req.params["id"])
    body = _shared.validate(req.body, {"state": ("paused", "running", "canceled"), "workers_per_node": "int"},
                            "job", ("state",))
    wanted = body["state"]
    if wanted == "paused":
        job.pause()
    elif wanted == "running":
        job.resume()
    else:
        job.cancel()
    return Response(204)


@route("DELETE", "/platform/{v}/sync/jobs", min_version=1, privilege=PRIVILEGE)
def cancel_all_jobs(req, cluster):
    for job in list(_store(cluster)["jobs"].values()):
        job.cancel()
    return Response(204)


# --- target records ------------------------------------------------------------------------------------------

@route("GET", "/platform/{v}/sync/target/policies", min_version=1)
def list_targets(req, cluster):
    query = _shared.list_query(req.query)
    items = [_public(t) for t in _store(cluster)["targets"].values()]
    if query.get("target_path"):
        items = [t for t in items if t["target_path"] == query["target_path"]]
    return _shared.page(items, query, "policies")


@route("GET", "/platform/{v}/sync/target/policies/{id}", min_version=1)
def get_target(req, cluster):
    key = req.params["id"]
    records = [t for t in _store(cluster)["targets"].values() if key in (t["id"], t["name"])]
    if not records:
        raise not_found("Unable to find target policy %s" % key)
    return {"policies": [_public(t) for t in records]}


@route("DELETE", "/platform/{v}/sync/target/policies/{id}", min_version=1, privilege=PRIVILEGE)
def break_association(req, cluster):
    record = target_or_404(cluster, req.params["id"])
    job = _active_job(cluster, record["name"])
    if job is not None:
        if not req.flag("force"):
            raise conflict("The target policy %s has an active job and cannot be deleted." % record["name"])
        job.cancel()
    del _store(cluster)["targets"][record["id"]]
    return Response(204)


@route("POST", "/platform/{v}/sync/target/policies/{id}/cancel", min_version=1, privilege=PRIVILEGE)
def cancel_from_target(req, cluster):
    record = target_or_404(cluster, req.params["id"])
    source = cluster.world.find_cluster(record["source_host"])
    job = None
    if source is not None and source.is_reachable():
        job = _store(source)["jobs"].get(record["name"])
    local = _active_job(cluster, record["name"])
    for candidate in (job, local):
        if candidate is not None:
            candidate.cancel()
    return Response(201, {"id": record["id"]})


# --- settings ---------------------------------------------------------------------------------------------

@route("GET", "/platform/{v}/sync/settings", min_version=1)
def get_settings(req, cluster):
    return {"settings": dict(_store(cluster)["settings"])}


@route("PUT", "/platform/{v}/sync/settings", min_version=1, privilege=PRIVILEGE)
def put_settings(req, cluster):
    body = _shared.validate(req.body, SETTINGS_SPEC, "sync settings")
    _shared.require_change(body, "sync settings")
    if "max_concurrent_jobs" in body and not 1 <= body["max_concurrent_jobs"] <= 200:
        raise bad_request("Field: max_concurrent_jobs must be between 1 and 200", "max_concurrent_jobs")
    settings = _store(cluster)["settings"]
    if "password" in body:
        settings["password_set"] = bool(body.pop("password"))
    settings.update(body)
    _promote(cluster)                 # service back on, or a higher limit: waiting jobs may start
    return Response(204)


# --- reports ----------------------------------------------------------------------------------------------

def _report_query(reports: List[Dict[str, Any]], req) -> Dict[str, Any]:
    query = _shared.list_query(req.query)
    items = list(reports)
    if query.get("policy_name"):
        items = [r for r in items if r["policy_name"] == query["policy_name"]]
    if query.get("state"):
        items = [r for r in items if r["state"] == query["state"]]
    if query.get("newer_than"):
        days = _int_query(query, "newer_than")
        cutoff = time.time() - days * 86400
        items = [r for r in items if (r["end_time"] or 0) >= cutoff]
    per_policy = _int_query(query, "reports_per_policy") if "reports_per_policy" in query else None
    if per_policy is None and not req.query:
        per_policy = 1            # OneFS: one report per policy when no option is given
    items.sort(key=lambda r: (r["end_time"] or 0, r["job_id"]), reverse=True)
    if per_policy is not None:
        kept: Dict[str, int] = {}
        limited = []
        for report in items:
            kept[report["policy_name"]] = kept.get(report["policy_name"], 0) + 1
            if kept[report["policy_name"]] <= per_policy:
                limited.append(report)
        items = limited
    return _shared.page(items, query, "reports")


def _int_query(query: Dict[str, str], name: str) -> int:
    try:
        value = int(query[name])
    except ValueError:
        raise bad_request("Invalid value for %s: %r is not an integer" % (name, query[name]), name)
    if value < 0:
        raise bad_request("Invalid value for %s: must not be negative" % name, name)
    return value


def _report_or_404(reports: List[Dict[str, Any]], key: str) -> Dict[str, Any]:
    for report in reports:
        if report["id"] == key:
            return report
    raise not_found("Unable to find report %s" % key)


@route("GET", "/platform/{v}/sync/reports", min_version=1)
def list_reports(req, cluster):
    return _report_query(_store(cluster)["reports"], req)


@route("GET", "/platform/{v}/sync/reports/{rid}", min_version=1)
def get_report(req, cluster):
    return single("reports", _report_or_404(_store(cluster)["reports"], req.params["rid"]))


@route("GET", "/platform/{v}/sync/reports/{rid}/subreports", min_version=1)
def list_subreports(req, cluster):
    _report_or_404(_store(cluster)["reports"], req.params["rid"])
    return {"subreports": [], "resume": None, "total": 0}


@route("GET", "/platform/{v}/sync/target/reports", min_version=1)
def list_target_reports(req, cluster):
    return _report_query(_store(cluster)["target_reports"], req)


@route("GET", "/platform/{v}/sync/target/reports/{rid}", min_version=1)
def get_target_report(req, cluster):
    return single("reports", _report_or_404(_store(cluster)["target_reports"], req.params["rid"]))


@route("GET", "/platform/{v}/sync/target/reports/{rid}/subreports", min_version=1)
def list_target_subreports(req, cluster):
    _report_or_404(_store(cluster)["target_reports"], req.params["rid"])
    return {"subreports": [], "resume": None, "total": 0}


@route("GET", "/platform/{v}/sync/reports-rotate", min_version=1)
def get_rotate(req, cluster):
    return {"running": False, "message": "Report rotation is not running"}


@route("POST", "/platform/{v}/sync/reports-rotate", min_version=1, privilege=PRIVILEGE)
def post_rotate(req, cluster):
    return Response(201, {})


# --- seeding and state dump ----------------------------------------------------------------------------------

SEED_ONLY = {"synced", "id"}


def _init(cluster, section: Dict[str, Any]) -> None:
    _store(cluster)
    for spec in section.get("policies") or []:
        body = {k: v for k, v in spec.items() if k not in SEED_ONLY}
        body.setdefault("action", "sync")
        try:
            policy = create_policy(cluster, body, spec.get("id"))
        except ApiError as err:
            raise ValueError("cluster %s, policy %s: %s" % (cluster.name, spec.get("name"), err.message))
        if spec.get("synced"):
            _seed_sync(cluster, policy)


def _seed_sync(cluster, policy: Dict[str, Any]) -> None:
    """An initial sync that already happened: files copied, record writes_disabled, one report."""
    peer = target_cluster(cluster, policy)
    if peer is None:
        raise ValueError("policy %s: target_host %s is not a simulated cluster" % (policy["name"], policy["target_host"]))
    namespace.mkdirs(cluster, policy["source_root_path"], check=False)
    job = Job(cluster, policy["name"], "run", policy, None, _next_job_id(cluster, policy["name"]))
    job.peer = peer
    job.state = "running"
    job.start_time = _now()
    job.tree = namespace.snapshot(cluster, policy["source_root_path"])
    job.bytes = namespace.tree_bytes(job.tree)
    job.sync_type = "initial"
    _store(peer)["targets"][policy["id"]] = _new_target_record(cluster, policy)
    _complete_run(job)
    job.finish("finished", None)


def _dump_policies(cluster):
    return [_policy_body(p) for p in _store(cluster)["policies"].values()]


def _dump_targets(cluster):
    return [_public(t) for t in _store(cluster)["targets"].values()]


def _dump_jobs(cluster):
    return [j.body() for j in _store(cluster)["jobs"].values()]


def _dump_read_only(cluster):
    return sorted(t["target_path"] for t in _store(cluster)["targets"].values()
                  if t["failover_failback_state"] in READ_ONLY_STATES)


register_area("policies", init=_init, dump=_dump_policies)
register_area("target_policies", dump=_dump_targets)
register_area("jobs", dump=_dump_jobs)
register_area("reports", dump=lambda c: list(_store(c)["reports"]))
register_area("target_reports", dump=lambda c: list(_store(c)["target_reports"]))
register_area("read_only_paths", dump=_dump_read_only)


def _busy(world) -> bool:
    return any(_store(c)["jobs"] or _store(c)["wsm"] for c in world.clusters.values())


BUSY_CHECKS.append(_busy)
