"""onefs_mock: a stateful simulator of the Dell PowerScale OneFS Platform API (PAPI).

Entry points: ``onefs-mock`` (cli.py), ``onefs_mock.testing.start_mock`` and the
pytest fixtures ``onefs_mock_server`` / ``onefs_mock`` (testing.py).
"""

__version__ = "0.1.0"
