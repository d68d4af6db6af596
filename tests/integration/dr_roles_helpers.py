"""Shared helpers of the failback / reprotect / remove_group role tests (not a test module).

A failover is set up the way the roles expect it: the journal's schedules cached by a
``dr_run`` start of the failover (first cache wins), then the documented calls with the
collection's own modules.  Files are written and read through the mock's namespace API.
"""

import json

import requests as http

PAIR = "prod-dr"
DESTRUCTIVE = (
    ("POST", "/sync/jobs", "allow_write_revert"),
    ("POST", "/sync/jobs", "resync_prep"),
    ("POST", "/sync/jobs", "allow_write"),
)


def inventory_vars(onefs, policies, **extra):
    """The shared onefs_dr_* inventory model (DESIGN 6.1) for the two simulated clusters."""
    data = {"onefs_dr_pair": PAIR, "onefs_dr_source": onefs.conn("source"),
            "onefs_dr_target": onefs.conn("target"), "onefs_dr_policies": list(policies)}
    data.update(extra)
    return data


def write_file(onefs, cluster, path, text):
    resp = http.put(onefs.mock.url(cluster) + "/namespace" + path, data=text.encode(), auth=("admin", "admin"),
                    verify=onefs.ca_path or False, timeout=30)
    resp.raise_for_status()


def read_file(onefs, cluster, path):
    resp = http.get(onefs.mock.url(cluster) + "/namespace" + path, auth=("admin", "admin"),
                    verify=onefs.ca_path or False, timeout=30)
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return resp.content.decode()


def failover_playbook(policies, planned=True):
    """A failover done with the modules (the failover role's documented order), journal included."""
    operation = "failover_planned" if planned else "failover_unplanned"
    names = json.dumps(list(policies))
    items = json.dumps([{"name": name} for name in policies])
    sync = """
    - name: Final sync, schedules set to manual
      onefs.dr.rg_sync: {policies: %s, mode: prepare_failover, poll_interval: 0.2, timeout: 120}
    - name: Disable the source policies
      onefs.dr.synciq_policy: {policies: %s, enabled: false}
""" % (names, items) if planned else ""
    return """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/onefs.dr.onefs: "{{ onefs_dr_source }}"
  tasks:
    - name: Journal start (caches the original schedules)
      onefs.dr.dr_run: {pair: "{{ onefs_dr_pair }}", operation: %s, policies: %s, peer: "{{ onefs_dr_source }}"}
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_target }}"}
      register: run
%s
    - name: Allow writes on the target
      onefs.dr.local_target: {policies: %s, state: writes_enabled, poll_interval: 0.2, timeout: 120}
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_target }}"}
    - name: Journal finish
      onefs.dr.dr_run: {pair: "{{ onefs_dr_pair }}", action: finish, run_id: "{{ run.run_id }}",
                        peer: "{{ onefs_dr_source }}", unfenced_policies: %s}
      module_defaults: {group/onefs.dr.onefs: "{{ onefs_dr_target }}"}
""" % (operation, names, sync, names, "[]" if planned else names)


def failover(onefs, policies, planned=True):
    rc, out, err = onefs.playbook(failover_playbook(policies, planned), inventory_vars(onefs, policies))
    assert rc == 0, out + err


def role_playbook(role, **role_vars):
    lines = "".join("        %s: %s\n" % (key, json.dumps(value)) for key, value in role_vars.items())
    return """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: onefs.dr.%s
      vars:
%s""" % (role, lines or "        {}\n")


def policy(state, name):
    return next((p for p in state["policies"] if p["name"] == name), None)


def record(state, name):
    return next((r for r in state["target_policies"] if r["name"] == name), None)


def api_writes(onefs, cluster=None):
    """Writes to the PAPI (journal files under /namespace/ifs/.onefs_dr excluded)."""
    return [w for w in onefs.writes(cluster) if w["path"].startswith("/platform")]


def job_posts(onefs, action, cluster=None):
    """POST /sync/jobs of one action that took effect on the mock (``applied``: also those whose
    answer a fault replaced with an error)."""
    found = []
    for w in api_writes(onefs, cluster):
        body = w.get("body") or {}
        if w["method"] == "POST" and w["path"].endswith("/sync/jobs") and body.get("action", "sync") == action \
                and w["applied"]:
            found.append(w)
    return found


def policy_deletes(onefs, name=None, cluster=None):
    """DELETE of SyncIQ policies that took effect (the path may name the policy or its id)."""
    return [w for w in api_writes(onefs, cluster) if w["method"] == "DELETE" and "/sync/policies/" in w["path"]
            and (name is None or w["path"].endswith("/" + name)) and w["applied"]]


def run_through_interruptions(onefs, steps, run):
    """Crash a role at each of ``steps`` in turn, then let it finish.

    ``steps``: ``(label, cluster, fault)`` in the order the role reaches them; every fault is
    registered up front (each matches one request only) and each run must stop at exactly the
    next one: it fails asking to be re-run, and that fault, and no later one, has been used.
    ``run()`` runs the role and returns ``(rc, out, err)``; the run after the last interruption
    must succeed, and its output is returned.  One chain replaces a fresh setup plus a crashed
    run plus a re-run per step, and proves more: the re-run resumes from every earlier crash too.
    """
    for label, cluster, fault in steps:
        onefs.faults({"fail_next": [dict(fault, status=fault.get("status", 403), count=1)]}, cluster=cluster)
    for index, (label, _cluster, _fault) in enumerate(steps):
        rc, out, err = run()
        remaining = {cl: onefs._control("GET", "/_mock/faults", cl)["fail_next"] for cl in {step[1] for step in steps}}
        left = [(lbl, cl) for lbl, cl, flt in steps if _pending(remaining[cl], flt)]
        expected_left = [(lbl, cl) for lbl, cl, flt in steps[index + 1:]]
        assert rc != 0, "the run did not stop at %r: %s" % (label, out[-3000:])
        assert left == expected_left, "run %d should stop at %r; faults not yet used: %s" % (index + 1, label, left)
        assert "Re-run the same command" in out, (label, out[-3000:])
    rc, out, err = run()
    assert rc == 0, "the run after %r did not finish: %s" % (steps[-1][0], (out + err)[-6000:])
    return out


def _pending(remaining, fault):
    """True while ``fault`` is among the ``remaining`` (not yet used) faults of its cluster."""
    return any(entry["method"] == fault.get("method") and entry["path"] == fault["path"]
               and (entry.get("body") or None) == (fault.get("body") or None) for entry in remaining)
