"""TLS: verification on by default; the mock's own CA via ca_path; validate_certs=False."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient
from ansible_collections.onefs.dr.plugins.module_utils.errors import TlsError

from test_client_helpers import PASSWORD, SEED

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def tls_mock():
    from onefs_mock.testing import start_mock

    mock = start_mock(clusters=("source",), seed=SEED, tls=True, latency_ms=0)
    yield mock
    mock.stop()


def tls_client(mock, **kwargs):
    options = dict(username="admin", password=PASSWORD, name="source", retry_budget=1, api_timeout=10)
    options.update(kwargs)
    return PapiClient([mock.url("source")], **options)


def test_mock_serves_https(tls_mock):
    assert tls_mock.url("source").startswith("https://")


def test_self_signed_certificate_refused_without_ca_path(tls_mock):
    client = tls_client(tls_mock)
    with pytest.raises(TlsError) as caught:
        client.get("/platform/latest")
    text = str(caught.value)
    assert "certificate" in text and "ca_path" in text
    assert client.requests_made == 1          # not retried: waiting cannot fix a certificate
    assert PASSWORD not in text


def test_ca_path_verifies(tls_mock):
    with tls_client(tls_mock, ca_path=tls_mock.ca_path) as client:
        assert client.get("/platform/latest")["latest"]
        assert client.logins == 1


def test_validate_certs_false_works(tls_mock, recwarn):
    with tls_client(tls_mock, validate_certs=False) as client:
        assert client.get("/platform/latest")["latest"]
        assert client.get("/platform/3/cluster/config")
    assert not [w for w in recwarn if "InsecureRequestWarning" in type(w.message).__name__]
