"""Fixtures for the client tests: one in-process mock per session, reset before each test.

The mock is driven through its HTTP control API (DESIGN.md §2.2) by the small
``Control`` helper of test_client_helpers, so the tests only depend on that documented contract.
"""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient
from test_client_helpers import PASSWORD, SEED, Control, bring_all_up


def _start(tls):
    from onefs_mock.testing import start_mock

    return start_mock(clusters=("source", "target"), seed=SEED, tls=tls, latency_ms=0)


@pytest.fixture(scope="session")
def mock_server():
    mock = _start(tls=False)
    yield mock
    mock.stop()


@pytest.fixture
def mock(mock_server):
    """The running mock, reset to SEED with an empty request log."""
    bring_all_up(mock_server)
    ctl = Control(mock_server.url("source"), "source")
    ctl.reset()
    ctl.clear_log()
    return mock_server


@pytest.fixture
def ctl(mock):
    return Control(mock.url("source"), "source")


@pytest.fixture
def make_client(mock):
    """make_client(**overrides) -> a PapiClient of the source cluster; closed after the test."""
    made = []

    def make(**overrides):
        kwargs = dict(hosts=[mock.url("source")], username="admin", password=PASSWORD, retry_budget=2,
                      api_timeout=10, name="source", backoff_base=0.05, backoff_cap=0.2)
        kwargs.update(overrides)
        client = PapiClient(**kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture(scope="module")
def demo(request):
    """The demo scenario on an in-process mock (plain HTTP), one per test module.

    A module sets ``DEMO_TIME_SCALE`` to run simulated jobs faster than real time.
    """
    from onefs_mock.testing import start_mock

    mock = start_mock(clusters=("source", "target"), seed="demo", tls=False, latency_ms=0,
                      time_scale=getattr(request.module, "DEMO_TIME_SCALE", 1))
    yield mock
    mock.stop()
