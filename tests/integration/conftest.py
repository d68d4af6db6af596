"""Integration harness: run the collection's real modules and playbooks against the mock.

* ``mock`` (session scope): the in-process mock with two clusters, ``source``
  and ``target``, on the demo scenario, TLS on.  Reset before every test by
  the ``onefs`` fixture.
* ``onefs`` (function scope): a :class:`Harness` with
  ``run(module, args, cluster="source", check=False, diff=False)`` that runs a
  module file as Ansible does (a separate Python process fed a JSON args
  file), ``playbook(text, extra_vars)`` that runs ``ansible-playbook``, and
  helpers over the mock's control API (``state``, ``requests``, ``writes``,
  ``faults``).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "build" / "collections"
MODULES = ROOT / "plugins" / "modules"
WRITE_METHODS = ("POST", "PUT", "DELETE", "PATCH")


def _ensure_collection_tree():
    link = COLLECTIONS / "ansible_collections" / "onefs" / "dr"
    if link.exists():
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(ROOT)


def _last_json(stdout):
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError("module printed no JSON result:\n" + stdout)


class Harness:
    def __init__(self, mock, tmp_path):
        self.mock = mock
        self.tmp_path = tmp_path
        self.ca_path = str(mock.ca_path) if getattr(mock, "ca_path", None) else None

    # --- connection ---------------------------------------------------------
    def conn(self, cluster="source", username="admin", password="admin"):
        """Connection options for a module talking to one simulated cluster."""
        url = self.mock.url(cluster)
        host, port = url.split("://", 1)[1].rsplit(":", 1)
        args = {"onefs_host": host, "onefs_port": int(port), "username": username, "password": password}
        if self.ca_path:
            args["ca_path"] = self.ca_path
        else:
            args["validate_certs"] = False
        return args

    def env(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(COLLECTIONS)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        env["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
        env.setdefault("ANSIBLE_LOCAL_TEMP", str(self.tmp_path / "ansible-tmp"))
        return env

    # --- running modules and playbooks --------------------------------------
    def run(self, module, args, cluster="source", check=False, diff=False, with_conn=True, timeout=300):
        """Run ``plugins/modules/<module>.py`` in its own process; return its result dict."""
        _ensure_collection_tree()
        full = dict(self.conn(cluster)) if with_conn else {}
        full.update(args)
        full["_ansible_check_mode"] = check
        full["_ansible_diff"] = diff
        args_file = self.tmp_path / ("args-%s-%d.json" % (module, len(list(self.tmp_path.iterdir()))))
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": full}))
        proc = subprocess.run(
            [sys.executable, str(MODULES / (module + ".py")), str(args_file)],
            capture_output=True, text=True, env=self.env(), timeout=timeout, check=False,
        )
        result = _last_json(proc.stdout)
        result["_rc"] = proc.returncode
        result["_stderr"] = proc.stderr
        return result

    def playbook(self, text, extra_vars=None, check=False, diff=False, timeout=600, args=()):
        """Run a playbook (YAML text) with the collection on the path; return (rc, stdout, stderr)."""
        _ensure_collection_tree()
        path = self.tmp_path / "playbook.yml"
        path.write_text(text)
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        cmd += list(args)
        env = self.env()
        env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    # --- the mock's control API ---------------------------------------------
    def _control(self, method, path, cluster="source", **kwargs):
        verify = self.ca_path or False
        resp = requests.request(method, self.mock.url(cluster) + path, verify=verify, timeout=30, **kwargs)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def state(self, cluster="source"):
        return self._control("GET", "/_mock/state", cluster)

    def requests(self, cluster="source"):
        """The mock's request log: one log for every cluster, in arrival order (``cluster`` only picks the port)."""
        return self._control("GET", "/_mock/requests", cluster)["requests"]

    def writes(self, cluster=None):
        """Every write request that reached a cluster's API (both clusters when ``cluster`` is None)."""
        names = [cluster] if cluster else ["source", "target"]
        found = []
        for name in names:
            for entry in self.requests(name):
                if entry.get("cluster", name) != name:
                    continue
                if entry["method"] in WRITE_METHODS and not entry["path"].startswith("/session/"):
                    found.append(entry)
        return found

    def clear_log(self):
        for name in ("source", "target"):
            self._control("DELETE", "/_mock/requests", name)

    def faults(self, body, cluster="source"):
        return self._control("POST", "/_mock/faults", cluster, json=body)


@pytest.fixture(scope="session")
def mock(tmp_path_factory):
    from onefs_mock.testing import start_mock  # the simulator package from tests/mock_api

    server = start_mock(clusters=("source", "target"), seed="demo", tls=True,
                        cert_dir=str(tmp_path_factory.mktemp("certs")), time_scale=50)
    yield server
    server.stop()


@pytest.fixture
def onefs(mock, tmp_path):
    harness = Harness(mock, tmp_path)
    harness._control("POST", "/_mock/reset")
    harness.clear_log()
    return harness


SLOW_TESTS = Path(__file__).with_name("slow_tests.txt")


def _known_durations():
    durations = {}
    for line in SLOW_TESTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            seconds, test_id = line.split(" ", 1)
            durations[test_id] = float(seconds)
    return durations


def pytest_collection_modifyitems(config, items):
    """Longest tests first (slow_tests.txt): the run ends when its last test ends."""
    durations = _known_durations()

    def expected(item):
        return durations.get(item.nodeid.split("tests/integration/", 1)[-1], 0.0)

    items.sort(key=expected, reverse=True)   # stable: the others keep their order
