"""Modules run in a fork of Ansible's worker on a local connection (plugin_utils/forked_module.py).

Through ansible-playbook against the mock: the fork and a normal module process
(``onefs_dr_fork_modules: false``) give the same results and send the same
requests; a password stays out of the output; a bad option fails before any
request; the task's ``environment`` reaches the module; a task timeout stops
the module (no request after it); and the module's warnings reach the output.
"""

import json
import sys
import time

import pytest
import yaml

pytestmark = pytest.mark.timeout(300)


def play(onefs, tasks, cluster="source", play_vars=None):
    return yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "vars": dict(play_vars or {}),
                            "module_defaults": {"group/onefs.dr.onefs": onefs.conn(cluster)},
                            "tasks": tasks}], sort_keys=False)


def results_of(stdout, name):
    """The registered result printed by ``debug: var=<name>`` (the last one in the output)."""
    marker = '"%s": ' % name
    start = stdout.rindex(marker) + len(marker)
    value, dummy = json.JSONDecoder().raw_decode(stdout[start:])
    return value


def decisions(result):
    """What the module decided and reported per policy (not when it ran or the mock's ids)."""
    return result["changed"], [(r["name"], r["changed"], r.get("actions"), r.get("diff")) for r in result["results"]]


def write_log(onefs):
    """The write requests, with each policy id in a path replaced by the policy's name."""
    names = {p["id"]: p["name"] for p in onefs.state("source")["policies"]}
    found = []
    for write in onefs.writes():
        path = "/".join(names.get(part, part) for part in write["path"].split("/"))
        found.append((write["cluster"], write["method"], path, json.dumps(write.get("body"), sort_keys=True)))
    return sorted(found)    # the policies are written in parallel: their order of arrival varies


DISABLE_TWO = [
    {"name": "disable two policies", "onefs.dr.synciq_policy": {
        "policies": [{"name": "fin-ap", "enabled": False}, {"name": "fin-ar", "enabled": False}]},
     "register": "disabled"},
    {"name": "the same again", "onefs.dr.synciq_policy": {
        "policies": [{"name": "fin-ap", "enabled": False}, {"name": "fin-ar", "enabled": False}]},
     "register": "again"},
    {"ansible.builtin.debug": {"var": "disabled"}},
    {"ansible.builtin.debug": {"var": "again"}},
]


def test_fork_and_module_process_give_the_same_results_and_requests(onefs):
    outcomes = {}
    for fork in (True, False):
        onefs._control("POST", "/_mock/reset")
        onefs.clear_log()
        rc, out, err = onefs.playbook(play(onefs, DISABLE_TWO, play_vars={"onefs_dr_fork_modules": fork}),
                                      args=["-vvv"])
        assert rc == 0, out + err
        where = "runs in a fork of the worker" if fork else "runs as a module process (onefs_dr_fork_modules is false)"
        assert out.count("onefs.dr.synciq_policy " + where) == 2, out
        outcomes[fork] = (decisions(results_of(out, "disabled")), decisions(results_of(out, "again")),
                          write_log(onefs))
        policies = {p["name"]: p for p in onefs.state("source")["policies"]}
        assert policies["fin-ap"]["enabled"] is False and policies["fin-ar"]["enabled"] is False
    forked, process = outcomes[True], outcomes[False]
    assert forked[0][0] is True and forked[1][0] is False    # the second run changes nothing
    assert forked[0] == process[0] and forked[1] == process[1]
    assert forked[2] == process[2] and len(forked[2]) == 2                   # the same two PUTs, nothing else


def test_a_password_never_reaches_the_output_even_when_the_login_fails(onefs):
    secret = "Wr0ng-S3cret-4711"
    tasks = [{"name": "read with a wrong password", "onefs.dr.dr_info": {"gather": ["cluster"], "password": secret},
              "register": "info", "ignore_errors": True},
             {"ansible.builtin.debug": {"var": "info"}}]
    rc, out, err = onefs.playbook(play(onefs, tasks), args=["-vvv"])
    assert rc == 0, out + err
    assert "runs in a fork of the worker" in out
    info = results_of(out, "info")
    assert info["failed"] is True and "(401)" in info["msg"]
    assert '"password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in out      # the -vvv invocation, masked
    assert secret not in out and secret not in err


def test_a_bad_option_fails_naming_it_before_any_request(onefs):
    tasks = [{"name": "no workers", "onefs.dr.rg_sync": {"policies": ["fin-ap"], "max_workers": 0}}]
    rc, out, err = onefs.playbook(play(onefs, tasks))
    assert rc != 0
    assert "max_workers" in out
    assert [r for r in onefs.requests("source") if not r["path"].startswith("/_mock")] == []


def test_a_bad_fork_setting_fails_naming_it_before_any_request(onefs):
    tasks = [{"name": "read", "onefs.dr.dr_info": {"gather": ["cluster"]}}]
    rc, out, err = onefs.playbook(play(onefs, tasks, play_vars={"onefs_dr_fork_modules": "sometimes"}))
    assert rc != 0
    assert "onefs_dr_fork_modules: must be true or false, got 'sometimes'" in out
    assert [r for r in onefs.requests("source") if not r["path"].startswith("/_mock")] == []


def test_the_task_environment_reaches_the_module(onefs):
    conn = onefs.conn("source")
    password = conn.pop("password")
    tasks = [{"name": "password from the environment", "onefs.dr.dr_info": dict(conn, gather=["cluster"]),
              "environment": {"ONEFS_PASSWORD": password}, "register": "info"},
             {"ansible.builtin.debug": {"var": "info"}}]
    text = yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False)
    rc, out, err = onefs.playbook(text)
    assert rc == 0, out + err
    assert results_of(out, "info")["cluster"]["local"]["reachable"] is True
    assert [r["status"] for r in onefs.requests("source") if r["path"] == "/session/1/session"][0] == 201


@pytest.mark.timeout(120)
def test_a_task_timeout_stops_the_module(onefs):
    # mode wait on the target polls every 0.2 s for a sync that never comes, for up to 60 s;
    # the task's own timeout (2 s) must end it, and with it every request.
    tasks = [{"name": "wait far too long", "onefs.dr.rg_sync": {
        "policies": ["fin-ap"], "mode": "wait", "since": str(int(time.time()) + 3600), "timeout": 60,
        "poll_interval": 0.2}, "timeout": 2}]
    started = time.time()
    rc, out, err = onefs.playbook(play(onefs, tasks, cluster="target"))
    ended = time.time()
    assert rc != 0 and "timed out" in out.lower(), out + err
    assert ended - started < 30
    polls_before = len(onefs.requests("target"))
    assert polls_before > 2                                  # it did poll while the task ran
    time.sleep(1.5)
    late = [r for r in onefs.requests("target") if r["ts"] > ended + 0.5 and not r["path"].startswith("/_mock")]
    assert late == []


def test_a_warning_of_the_module_reaches_the_output(onefs):
    # A forked child cannot feed the worker's display queue: its warnings must travel in the
    # result, as from a module process (they were lost before module_utils were told so).
    conn = onefs.conn("source")
    conn.pop("ca_path", None)
    tasks = [{"name": "no certificate check", "onefs.dr.dr_info": dict(conn, gather=["cluster"], validate_certs=False),
              "register": "info"},
             {"ansible.builtin.debug": {"var": "info"}}]
    text = yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False)
    rc, out, err = onefs.playbook(text, args=["-vvv"])
    assert rc == 0, out + err
    assert "runs in a fork of the worker" in out
    assert "[WARNING]: validate_certs is false" in err
    assert any("validate_certs is false" in w for w in results_of(out, "info")["warnings"])


def test_another_python_runs_a_module_process(onefs, tmp_path):
    # A virtualenv-like directory whose python links to the controller's: the same file, but
    # another bin directory, so possibly other packages - the fork cannot stand in for it.
    other = tmp_path / "other-venv" / "bin"
    other.mkdir(parents=True)
    (other / "python").symlink_to(sys.executable)
    tasks = [{"name": "read", "onefs.dr.dr_info": {"gather": ["cluster"]}, "register": "info"}]
    rc, out, err = onefs.playbook(play(onefs, tasks, play_vars={"ansible_python_interpreter": str(other / "python")}),
                                  args=["-vvv"])
    assert rc == 0, out + err
    assert "onefs.dr.dr_info runs as a module process (ansible_python_interpreter is %s" % (other / "python") in out
