"""Shared helpers of the client tests (imported by conftest.py and the test_client* modules).

No tests here: the name only keeps it next to the tests that use it.
"""

import json
import socket

import requests
PASSWORD = "Adm1n-S3cret!"          # distinctive, so leaks are easy to find
AUDITOR_PASSWORD = "Aud1t-S3cret!"

SEED = {
    "clusters": {
        "source": {
            "users": [
                {"name": "admin", "password": PASSWORD, "role": "admin"},
                {"name": "auditor", "password": AUDITOR_PASSWORD, "role": "readonly"},
            ],
            "zones": [{"name": "System", "path": "/ifs"}],
            "files": {"/ifs/data/zone1/readme.txt": "hello"},
        },
        "target": {
            "users": [{"name": "admin", "password": PASSWORD, "role": "admin"}],
            "zones": [{"name": "System", "path": "/ifs"}],
        },
    },
}


class Control:
    """The mock's /_mock/ API for one cluster port."""

    def __init__(self, url, cluster=None, verify=False):
        self.url = url
        self.cluster = cluster          # the request log is shared by every cluster: filter on this one
        self.verify = verify

    def call(self, method, path, body=None, **query):
        response = requests.request(method, self.url + "/_mock/" + path, json=body, params=query or None,
                                    timeout=30, verify=self.verify)
        assert response.status_code < 400, "%s %s: %s %s" % (method, path, response.status_code, response.text)
        return response.json() if response.content else {}

    def state(self):
        return self.call("GET", "state")

    def log(self, since=0):
        entries = self.call("GET", "requests", since=since)["requests"]
        return [e for e in entries if self.cluster is None or e["cluster"] == self.cluster]

    def api_log(self, since=0):
        """The logged calls outside /_mock/ (every API call, session calls included)."""
        return [entry for entry in self.log(since) if not entry["path"].startswith("/_mock/")]

    def clear_log(self):
        self.call("DELETE", "requests")

    def faults(self, **body):
        return self.call("POST", "faults", body)

    def fail_next(self, **entry):
        return self.faults(fail_next=[entry])

    def expire_sessions(self):
        return self.call("POST", "sessions/expire")

    def down(self, seconds=None):
        return self.call("POST", "down", {"seconds": seconds} if seconds is not None else {})

    def up(self, cluster):
        return self.call("POST", "up", {}, cluster=cluster)

    def reset(self):
        return self.call("POST", "reset")

    def seed(self, scenario):
        return self.call("POST", "seed", scenario)


def logins(entries):
    return [e for e in entries if e["method"] == "POST" and e["path"].rstrip("/") == "/session/1/session"]


def free_closed_port():
    """A local port nothing listens on (bound then released)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def bring_all_up(mock):
    """Undo any /_mock/down of a previous test (through the control port, which never goes down)."""
    for name in ("source", "target"):
        mock.control.up(name)


def read_trace(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]
