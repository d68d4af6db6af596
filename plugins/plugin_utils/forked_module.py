# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module of this collection in a fork of Ansible's worker process.

Every module of the collection talks to the OneFS API over HTTPS; it never needs the managed
host, so it normally runs on the controller (``connection: local``). Ansible still starts a
new Python for each module run: it builds the AnsiballZ zip, then the new process compiles
``ansible.module_utils.basic`` and our module_utils from that zip and imports ``requests``.
On a 2-core controller that is about 0.35 s of CPU per module run, more than most module runs
spend on the API. A ``fork()`` of the worker, which already imported all of it, starts in
milliseconds.

The child runs the module's own ``main()`` with the same arguments the module process would
get (``_update_module_args``), so AnsibleModule validates them, masks ``no_log`` values and
writes its JSON result exactly as in a module process; the result goes through the same
parser (``_parse_returned_data``). The child has its own globals, environment and threads, so
a loop item or a crash cannot leak into the next run; a task timeout or Ctrl-C kills it, and
on Linux so does the death of its worker (a cancelled job).

The idea of running a module inside the worker comes from ansible.netcommon's
``import_modules`` option for network modules; this is our own, smaller version of it, with
a fork for isolation.

A task runs as a normal module process instead when any of these holds: the connection is not
local, ``become`` or ``async`` is used, ``ansible_python_interpreter`` (or the configured
interpreter) names another Python than the controller's, ``requests`` does not import on the
controller, the ansible-core is older than 2.19 (other result serialisation), or
``onefs_dr_fork_modules: false``.
"""

from __future__ import annotations

import ctypes
import inspect
import json
import os
import signal
import sys
import tempfile
import traceback

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils import basic
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

from ansible_collections.onefs.dr.plugins.module_utils.client import HAS_REQUESTS

# The strategy loads the action plugin class in the main ansible-playbook process, so what is
# imported here (and by each plugins/action/<module>.py: its module) is imported once per
# playbook run: every worker forked afterwards, and every module run forked from it, has it in
# memory. requests alone takes about 60 ms to import (the client imports it lazily).
if HAS_REQUESTS:
    import requests  # noqa: F401 pylint: disable=unused-import

try:  # ansible-core >= 2.19: results and arguments carry a serialisation profile
    from ansible.module_utils import _internal as module_utils_context
    from ansible.module_utils.common.json import Direction, get_module_encoder
except ImportError:  # pragma: no cover - older ansible-core: run module processes
    get_module_encoder = None

# What the fork relies on from ActionBase: the result parser that takes that profile. Checked
# once, so that a release that changes it falls back to module processes instead of failing.
CORE_SUPPORTS_FORK = (get_module_encoder is not None
                      and "profile" in inspect.signature(ActionBase._parse_returned_data).parameters)

display = Display()

FORK_VAR = "onefs_dr_fork_modules"
# The profile Ansible gives a Python module that does not ask for another one.
PROFILE = "legacy"
LOCAL_TRANSPORTS = ("local", "ansible.builtin.local", "ansible.legacy.local")
PR_SET_PDEATHSIG = 1   # linux/prctl.h


class ForkedModuleAction(ActionBase):
    """The action plugin of every module of the collection; a subclass names its ``module``."""

    module = None  # the module's Python module (plugins/modules/<name>.py), imported

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        reason = self.module_process_reason(task_vars)
        if reason:
            display.vvv("onefs.dr: %s runs as a module process (%s)" % (self._task.resolved_action, reason))
            return merge_hash(result, self._run_module_process(task_vars))
        display.vvv("onefs.dr: %s runs in a fork of the worker" % self._task.resolved_action)
        return merge_hash(result, self._run_forked(task_vars))

    # ---- where the module runs --------------------------------------------------------

    def module_process_reason(self, task_vars):
        """Why this task needs a normal module process; '' when a fork of the worker will do."""
        host_vars = self._host_vars(task_vars)
        if not CORE_SUPPORTS_FORK:
            return "this ansible-core's module result handling is not the one of 2.19"
        if not self._fork_wanted(host_vars):
            return "%s is false" % FORK_VAR
        if self._task.async_val:
            return "async"
        if self._connection.transport not in LOCAL_TRANSPORTS:
            return "connection %s is not local" % self._connection.transport
        if self._play_context.become:
            return "become"
        interpreter = self._interpreter(host_vars)
        if not interpreter.startswith("auto") and not _same_python(interpreter):
            return "ansible_python_interpreter is %s, not the controller's %s" % (interpreter, sys.executable)
        if not HAS_REQUESTS:
            return "requests does not import in the controller's Python"
        return ""

    def _fork_wanted(self, host_vars):
        value = self._templar.template(host_vars.get(FORK_VAR, True))
        try:
            return boolean(value, strict=True)
        except TypeError:
            raise AnsibleActionFail("%s: must be true or false, got %r" % (FORK_VAR, value)) from None

    def _interpreter(self, host_vars):
        """The configured Python (the host variable, else ansible.cfg / ANSIBLE_PYTHON_INTERPRETER).

        ``auto*`` (interpreter discovery, the default) leaves the choice to Ansible: on the
        controller the fork takes the controller's Python, which is the one known to have
        ``requests`` when this module imported.
        """
        configured = C.config.get_config_value("INTERPRETER_PYTHON", variables=host_vars)
        return str(self._templar.template(configured) or "auto")

    def _host_vars(self, task_vars):
        """The variables of the host the module runs for: the delegated one's under delegate_to."""
        delegated = task_vars.get("ansible_delegated_vars") or {}
        if self._task.delegate_to and self._task.delegate_to in delegated:
            return delegated[self._task.delegate_to]
        return task_vars

    # ---- a normal module process (what the 'normal' action plugin does) --------------

    def _run_module_process(self, task_vars):
        wrap_async = self._task.async_val and not self._connection.has_native_async
        outcome = self._execute_module(task_vars=task_vars, wrap_async=wrap_async)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return outcome

    # ---- a fork of the worker --------------------------------------------------------

    def _run_forked(self, task_vars):
        module_name = self._task.resolved_action
        module_args = dict(self._task.args)
        self._update_module_args(module_name, module_args, task_vars)
        environment = {}
        self._compute_environment_string(raw_environment_out=environment)
        encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder).encode()

        with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
            worker = os.getpid()
            pid = os.fork()
            if pid == 0:
                _die_with(worker)
                _run_child(self.module, payload, environment, stdout.fileno(), stderr.fileno())
            rc = _wait_for_child(pid)
            stdout.seek(0)
            stderr.seek(0)
            res = {"rc": rc, "stdout": stdout.read().decode("utf-8", "replace"),
                   "stderr": stderr.read().decode("utf-8", "replace")}

        data = self._parse_returned_data(res, PROFILE)
        remove_internal_keys(data)
        return data


def _same_python(interpreter):
    """Whether ``interpreter`` is the controller's own Python: the same file in the same directory.

    A virtualenv's ``python`` is a symlink to the base interpreter, so the file alone would take
    two virtualenvs (two sets of packages) for one; their ``bin`` directories tell them apart.
    """
    try:
        return (os.path.samefile(os.path.dirname(interpreter) or os.curdir, os.path.dirname(sys.executable))
                and os.path.samefile(interpreter, sys.executable))
    except OSError:
        return False


def _wait_for_child(pid):
    """The child's exit code; a task timeout or Ctrl-C while waiting kills the child first."""
    try:
        status = os.waitpid(pid, 0)[1]
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    return os.waitstatus_to_exitcode(status)


def _die_with(worker):
    """Linux: the child is killed when the worker that forked it dies.

    A cancelled job (AWX stops ansible-playbook, which terminates its workers) must not leave a
    module behind that goes on writing to the clusters; a module process would outlive its
    worker. Elsewhere, or when prctl is not reachable, the child runs as a module process would.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != worker:   # the worker died before the request took effect
        os._exit(1)


def _run_child(module, payload, environment, stdout_fd, stderr_fd):
    """In the forked child: run the module's main() on the arguments, then exit. Never returns."""
    code = 1
    try:
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.environ.update({key: str(value) for key, value in environment.items()})
        # module_utils behave as in a module process: a warning goes into the result, where the
        # controller displays it, not to the worker's display queue, which the child cannot feed.
        module_utils_context.is_controller = False
        # What AnsibleModule reads its arguments from (the module process sets them from stdin).
        basic._ANSIBLE_ARGS = payload
        basic._ANSIBLE_PROFILE = PROFILE
        module.main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # pylint: disable=broad-except
        traceback.print_exc()  # the module's stderr, as from a module process
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # pylint: disable=broad-except
                pass  # nothing is left to report it to
        os._exit(code)
