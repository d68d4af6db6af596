"""The child side of a forked module run: what it writes and how it exits.

A real fork runs a stand-in module's ``main()``; its stdout and stderr go to
files, as ForkedModuleAction collects them. The whole path through
ansible-playbook (no_log, timeouts, the environment, the fallback to a module
process) is tested in tests/integration/test_forked_module.py.
"""

import json
import os
import signal
import sys
import tempfile
import time
import types

import pytest

from ansible.module_utils import basic
from ansible_collections.onefs.dr.plugins.plugin_utils import forked_module

pytestmark = pytest.mark.timeout(60)


def run_in_child(main, args=None, environment=None):
    """Fork, run ``main`` as a module's main() on ``args``; (exit code, stdout, stderr)."""
    payload = json.dumps({"ANSIBLE_MODULE_ARGS": dict(args or {})}).encode()
    module = types.SimpleNamespace(main=main)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            forked_module._run_child(module, payload, environment or {}, out.fileno(), err.fileno())
        code = forked_module._wait_for_child(pid)
        out.seek(0)
        err.seek(0)
        return code, out.read().decode(), err.read().decode()


def echo_module():
    spec = {"name": {"type": "str", "required": True}, "secret": {"type": "str", "no_log": True},
            "from_env": {"type": "str", "fallback": (basic.env_fallback, ["ONEFS_DR_TEST_VALUE"])}}
    module = basic.AnsibleModule(argument_spec=spec, supports_check_mode=True)
    module.warn("a warning of the module")
    module.exit_json(changed=False, name=module.params["name"], seen_env=module.params["from_env"],
                     echoed_secret=module.params["secret"])


def test_the_child_runs_main_on_the_arguments_and_masks_no_log_values():
    code, out, err = run_in_child(echo_module, {"name": "fin-ap", "secret": "S3cret-4711"},
                                  environment={"ONEFS_DR_TEST_VALUE": "from-the-task"})
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["name"] == "fin-ap"
    assert result["seen_env"] == "from-the-task"       # the task's environment reaches the fallback
    assert "S3cret-4711" not in out                     # AnsibleModule masked it, in the result and invocation
    assert result["invocation"]["module_args"]["secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    # In the result, as from a module process (in this pytest process, which imported the
    # controller's plugins, module_utils would otherwise send it to the controller's display).
    assert [w["event"]["msg"] for w in result["warnings"]] == ["a warning of the module"]


def test_a_bad_argument_exits_1_naming_the_option():
    code, out, dummy = run_in_child(echo_module, {"name": "fin-ap", "nmae": "fin-ap"})
    result = json.loads(out.strip().splitlines()[-1])
    assert code == 1 and result["failed"] is True
    assert "Unsupported parameters" in result["msg"] and "nmae" in result["msg"]


def test_an_exception_in_the_module_is_reported_on_stderr_with_exit_code_1():
    def crashing():
        raise RuntimeError("the module broke")

    code, out, err = run_in_child(crashing)
    assert code == 1 and out == ""
    assert "RuntimeError: the module broke" in err


def test_a_main_that_returns_without_a_result_exits_0_with_no_output():
    # Ansible then reports "Module result deserialization failed", as for a module process.
    code, out, dummy = run_in_child(lambda: None)
    assert code == 0 and out == ""


def test_nothing_of_the_child_leaks_into_the_parent():
    before = dict(os.environ)
    controller = forked_module.module_utils_context.is_controller
    run_in_child(echo_module, {"name": "x"}, environment={"ONEFS_DR_TEST_VALUE": "child-only"})
    assert dict(os.environ) == before
    assert basic._ANSIBLE_ARGS is None
    assert forked_module.module_utils_context.is_controller is controller


def test_only_the_controllers_own_python_counts_as_the_same(tmp_path, monkeypatch):
    # Two virtualenvs whose python links to one base interpreter: the same file, other packages.
    base = tmp_path / "base" / "python3.11"
    base.parent.mkdir()
    base.write_text("")
    venvs = []
    for name in ("venv-a", "venv-b"):
        (tmp_path / name / "bin").mkdir(parents=True)
        for exe in ("python", "python3"):
            (tmp_path / name / "bin" / exe).symlink_to(base)
        venvs.append(tmp_path / name / "bin")
    monkeypatch.setattr(sys, "executable", str(venvs[0] / "python"))
    assert forked_module._same_python(str(venvs[0] / "python")) is True
    assert forked_module._same_python(str(venvs[0] / "python3")) is True     # another name, same venv
    assert forked_module._same_python(str(venvs[1] / "python")) is False     # another venv
    assert forked_module._same_python(str(base)) is False                    # the base, without the venv
    assert forked_module._same_python("/nonexistent/python") is False
    assert forked_module._same_python("auto") is False                       # discovery: not known to be ours


def _gone(pid):
    """Dead: no such process, or a zombie nobody reaped yet."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux only")
def test_the_child_dies_with_its_worker():
    # A stand-in worker forks a module child the way ForkedModuleAction does; the child reports
    # its pid and would then run for 30 s. Killing the worker (a cancelled job) must end it.
    read_end, write_end = os.pipe()
    worker = os.fork()
    if worker == 0:
        try:
            os.close(read_end)
            parent = os.getpid()
            child = os.fork()
            if child == 0:
                forked_module._die_with(parent)

                def long_module():
                    os.write(write_end, b"%d\n" % os.getpid())
                    time.sleep(30)

                forked_module._run_child(types.SimpleNamespace(main=long_module), b"{}", {},
                                         os.open(os.devnull, os.O_WRONLY), os.open(os.devnull, os.O_WRONLY))
            os.waitpid(child, 0)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        child_pid = int(pipe.readline())
    assert not _gone(child_pid)
    os.kill(worker, signal.SIGKILL)
    os.waitpid(worker, 0)
    deadline = time.time() + 5
    while not _gone(child_pid) and time.time() < deadline:
        time.sleep(0.05)
    assert _gone(child_pid)
