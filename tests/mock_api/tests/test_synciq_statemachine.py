"""Random sequences of DR operations: the SyncIQ state machine never breaks its invariants.

Each example resets the mock, protects one directory, then applies a random sequence of
the calls a DR tool makes (runs, allow_write, revert, resync_prep on either side, enable,
disable, writes on both sides, break association, reset, delete).  After every step and
once the mock is idle: no 5xx, no job stuck, no transient failover state left behind, the
read-only paths are exactly the writes_disabled target records, a read-only path
really refuses writes, and a finished run leaves the target equal to the source.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.timeout(300)

POLICIES = "/platform/14/sync/policies"
STATES = {"writes_disabled", "enabling_writes", "writes_enabled", "disabling_writes", "creating_resync_policy",
          "resync_policy_created"}
TRANSIENT = {"enabling_writes", "disabling_writes", "creating_resync_policy"}
SRC, DST = "/ifs/data/app", "/ifs/dr/app"

STEPS = [
    ("job", "source", "p1", None), ("job", "source", "p1", "resync_prep"),
    ("job", "target", "p1", "allow_write"), ("job", "target", "p1", "allow_write_revert"),
    ("job", "target", "p1_mirror", None), ("job", "source", "p1_mirror", "allow_write"),
    ("job", "target", "p1_mirror", "resync_prep"), ("job", "source", "p1_mirror", "allow_write_revert"),
    ("enable", "source", "p1", True), ("enable", "source", "p1", False),
    ("enable", "target", "p1_mirror", True),
    ("write", "source", SRC, None), ("write", "target", DST, None),
    ("break", "target", "p1", None), ("reset", "source", "p1", None),
    ("delete", "target", "p1_mirror", None),
]


def apply(api, step, counter):
    kind, cluster, name, extra = step
    if kind == "job":
        return api.job(cluster, name, extra)
    if kind == "enable":
        return api.put(cluster, POLICIES + "/" + name, json={"enabled": extra, "schedule": ""})
    if kind == "write":
        return api.write(cluster, "%s/f%d.txt" % (name, counter), b"step %d" % counter)
    if kind == "break":
        return api.delete(cluster, "/platform/1/sync/target/policies/" + name)
    if kind == "reset":
        return api.post(cluster, "/platform/1/sync/policies/%s/reset" % name, json={})
    return api.delete(cluster, POLICIES + "/" + name)


def subtree(files, root):
    return {path[len(root):]: value for path, value in files.items() if path.startswith(root + "/")}


def check_copied(api, control, step, response):
    """After a successful run, the target directory holds exactly the source directory."""
    kind, cluster, name, action = step
    if kind != "job" or action is not None or response.status_code != 201:
        return
    policy = api.policy(cluster, name)
    if policy["last_job_state"] != "finished":
        return
    clusters = control.state_all()["clusters"]
    peer = "target" if cluster == "source" else "source"
    source = subtree(clusters[cluster]["files"], policy["source_root_path"])
    target = subtree(clusters[peer]["files"], policy["target_path"])
    assert source == target, step


def check_invariants(api, control):
    control.wait_idle(20)
    everything = control.state_all()["clusters"]
    for name, state in everything.items():
        assert state["jobs"] == []
        disabled = set()
        for record in state["target_policies"]:
            assert record["failover_failback_state"] in STATES
            assert record["failover_failback_state"] not in TRANSIENT, record
            if record["failover_failback_state"] == "writes_disabled":
                disabled.add(record["target_path"])
        assert set(state["read_only_paths"]) == disabled
        for path in disabled:
            assert api.write(name, path + "/probe.txt", b"x").status_code == 403


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(STEPS), min_size=1, max_size=12))
def test_random_dr_sequences_keep_the_invariants(mock, api, control, steps):
    control.reset()
    api.write("source", SRC + "/orig.txt", b"v1")
    api.create_policy("source", "p1", SRC, DST)
    assert api.job("source", "p1").status_code == 201
    for counter, step in enumerate(steps):
        response = apply(api, step, counter)
        assert response.status_code < 500, (step, response.text)
        assert response.status_code in (200, 201, 204, 400, 403, 404, 409), (step, response.text)
        check_invariants(api, control)
        check_copied(api, control, step, response)
