"""In-process mock for tests: ``start_mock(...)`` and the pytest fixtures.

``onefs_mock_server`` (session scope) starts two clusters, ``source`` and
``target``, plain HTTP, seeded with the demo scenario when it exists, time
scale 100 (a 2 s job overhead takes 20 ms).  ``onefs_mock`` (function scope)
resets the world and clears the request log before each test.  Both are
registered as a pytest plugin (entry point ``pytest11``), so any test in the
venv can ask for them.
"""

import os
import tempfile
from typing import Any, Dict, Iterable, Optional, Union

from .client import MockControl
from .seed import SCENARIO_DIR
from .server import MockServer, build


class RunningMock:
    def __init__(self, server: MockServer, cert_dir: Optional[str]):
        self.server = server
        self.world = server.world
        self.cert_dir = cert_dir
        self.ca_path = os.path.join(cert_dir, "ca.pem") if cert_dir else None
        control_url = server.control.url() if server.control else None
        self.control = MockControl(server.urls(), control_url, verify=self.ca_path or True)
        self.initial_scenario = server.world.config

    def url(self, cluster: str) -> str:
        return self.server.endpoints[cluster].url()

    @property
    def urls(self) -> Dict[str, str]:
        return self.server.urls()

    def port(self, cluster: str) -> int:
        return self.server.endpoints[cluster].port

    def reset(self) -> None:
        """Back to the scenario the mock started with (even after a test loaded another seed)."""
        if self.world.config is not self.initial_scenario:
            self.world.reset(self.initial_scenario)
        self.control.reset()
        self.control.clear_requests()

    def stop(self) -> None:
        self.control.close()
        self.server.stop()

    def __enter__(self) -> "RunningMock":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_mock(clusters: Iterable[str] = ("source", "target"), seed: Union[None, str, Dict[str, Any]] = None,
               tls: bool = False, latency_ms: int = 0, time_scale: float = 1.0, cert_dir: Optional[str] = None,
               host: str = "127.0.0.1", control: bool = True) -> RunningMock:
    """Start every cluster on a free port of ``host`` (and a control port); return a RunningMock."""
    if tls and cert_dir is None:
        cert_dir = tempfile.mkdtemp(prefix="onefs-mock-certs-")
    server = build({name: (host, 0) for name in clusters}, seed, cert_dir=cert_dir, tls=tls, latency_ms=latency_ms,
                   time_scale=time_scale, control=(host, 0) if control else None)
    return RunningMock(server, cert_dir if tls else None)


def default_seed() -> Optional[str]:
    return "demo" if (SCENARIO_DIR / "demo.yml").exists() else None


try:
    import pytest
except ImportError:  # pragma: no cover - the fixtures need pytest, start_mock does not
    pytest = None

if pytest is not None:

    @pytest.fixture(scope="session")
    def onefs_mock_server():
        mock = start_mock(seed=default_seed(), time_scale=100)
        try:
            yield mock
        finally:
            mock.stop()

    @pytest.fixture
    def onefs_mock(onefs_mock_server):
        onefs_mock_server.reset()
        return onefs_mock_server
