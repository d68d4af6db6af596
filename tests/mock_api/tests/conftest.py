"""Shared fixtures of the mock's own tests.

``mock`` is a two-cluster mock (``source``/``target``) on the built-in default
scenario (not the demo, whose content belongs to another area), plain HTTP,
time scale 200 (a 2 s job overhead takes 10 ms); it is reset before each test.
``api`` talks to it over HTTP with Basic auth, the way a client would.
"""

import time

import pytest
import requests

from onefs_mock.testing import start_mock

ADMIN = ("admin", "admin")


class Api:
    """A thin requests wrapper: ``api.get("source", "/platform/14/sync/policies")``."""

    def __init__(self, mock, auth=ADMIN):
        self.mock = mock
        self.http = requests.Session()
        self.http.auth = auth

    def url(self, cluster: str, path: str) -> str:
        return self.mock.url(cluster) + path

    def call(self, method: str, cluster: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.http.request(method, self.url(cluster, path), **kwargs)

    def get(self, cluster, path, **kw):
        return self.call("GET", cluster, path, **kw)

    def post(self, cluster, path, **kw):
        return self.call("POST", cluster, path, **kw)

    def put(self, cluster, path, **kw):
        return self.call("PUT", cluster, path, **kw)

    def delete(self, cluster, path, **kw):
        return self.call("DELETE", cluster, path, **kw)

    # SyncIQ shortcuts -------------------------------------------------------------
    def policy(self, cluster: str, name: str) -> dict:
        response = self.get(cluster, "/platform/14/sync/policies/" + name)
        assert response.status_code == 200, response.text
        return response.json()["policies"][0]

    def target(self, cluster: str, name: str):
        response = self.get(cluster, "/platform/1/sync/target/policies/" + name)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.json()["policies"][0]

    def create_policy(self, cluster: str, name: str, source_root: str, target_path: str, target_host: str = "target",
                      **fields) -> str:
        body = dict(name=name, action="sync", source_root_path=source_root, target_host=target_host,
                    target_path=target_path)
        body.update(fields)
        response = self.post(cluster, "/platform/14/sync/policies", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def job(self, cluster: str, policy: str, action=None) -> requests.Response:
        body = {"id": policy}
        if action:
            body["action"] = action
        return self.post(cluster, "/platform/15/sync/jobs", json=body)

    def write(self, cluster: str, path: str, data: bytes) -> requests.Response:
        return self.put(cluster, "/namespace" + path, data=data)

    def read(self, cluster: str, path: str) -> requests.Response:
        return self.get(cluster, "/namespace" + path)

    def close(self):
        self.http.close()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.01):
    """Poll ``predicate`` until it returns something truthy; bounded in time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("condition not met within %ss" % timeout)
        time.sleep(interval)


@pytest.fixture(scope="session")
def core_mock():
    mock = start_mock(clusters=("source", "target"), seed=None, time_scale=200)
    yield mock
    mock.stop()


@pytest.fixture
def mock(core_mock):
    core_mock.reset()
    yield core_mock
    core_mock.world.latency_ms = 0


@pytest.fixture
def api(mock):
    client = Api(mock)
    yield client
    client.close()


@pytest.fixture
def control(mock):
    return mock.control
