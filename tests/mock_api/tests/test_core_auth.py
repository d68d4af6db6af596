"""Authentication and authorisation: sessions, CSRF, Basic, RBAC, expiry, secrets."""

import json
import time

import pytest
import requests

from onefs_mock.testing import start_mock

from conftest import wait_until

pytestmark = pytest.mark.timeout(60)

CONFIG = "/platform/3/cluster/config"


def login(mock, cluster="source", username="admin", password="admin"):
    http = requests.Session()
    response = http.post(mock.url(cluster) + "/session/1/session",
                         json={"username": username, "password": password, "services": ["platform", "namespace"]},
                         timeout=10)
    return http, response


def session_headers(http, mock, cluster="source"):
    return {"X-CSRF-Token": http.cookies.get("isicsrf"), "Referer": mock.url(cluster)}


def test_login_sets_cookies_and_body(mock):
    http, response = login(mock)
    assert response.status_code == 201
    assert response.json() == {"services": ["platform", "namespace"], "timeout_absolute": 14400,
                                "timeout_inactive": 900, "username": "admin"}
    assert http.cookies.get("isisessid") and http.cookies.get("isicsrf")
    assert response.headers["X-CSRF-Token"] == http.cookies.get("isicsrf")


def test_session_needs_csrf_token_and_referer(mock):
    http, _ = login(mock)
    url = mock.url("source") + CONFIG
    headers = session_headers(http, mock)
    assert http.get(url, headers=headers, timeout=10).status_code == 200
    no_csrf = http.get(url, headers={"Referer": headers["Referer"]}, timeout=10)
    assert no_csrf.status_code == 401
    assert no_csrf.json() == {"errors": [{"message": "authorization required"}]}
    wrong_csrf = http.get(url, headers={"X-CSRF-Token": "nope", "Referer": headers["Referer"]}, timeout=10)
    assert wrong_csrf.status_code == 401
    assert http.get(url, headers={"X-CSRF-Token": headers["X-CSRF-Token"]}, timeout=10).status_code == 401
    origin = {"X-CSRF-Token": headers["X-CSRF-Token"], "Origin": headers["Referer"]}
    assert http.get(url, headers=origin, timeout=10).status_code == 200


def test_sessions_are_cluster_local(mock):
    http, _ = login(mock, "source")
    response = http.get(mock.url("target") + CONFIG, headers=session_headers(http, mock, "target"), timeout=10)
    assert response.status_code == 401


def test_session_info_and_logout(mock):
    http, _ = login(mock)
    info = http.get(mock.url("source") + "/session/1/session", timeout=10)
    assert info.status_code == 200 and info.json()["username"] == "admin"
    headers = session_headers(http, mock)
    assert http.delete(mock.url("source") + "/session/1/session", timeout=10).status_code == 204
    assert http.get(mock.url("source") + CONFIG, headers=headers, timeout=10).status_code == 401
    assert http.delete(mock.url("source") + "/session/1/session", timeout=10).status_code == 401


def test_bad_credentials(mock):
    _, response = login(mock, password="wrong")
    assert response.status_code == 401
    assert requests.get(mock.url("source") + CONFIG, auth=("admin", "wrong"), timeout=10).status_code == 401
    assert requests.get(mock.url("source") + CONFIG, timeout=10).status_code == 401
    garbage = requests.get(mock.url("source") + CONFIG, headers={"Authorization": "Basic !!!"}, timeout=10)
    assert garbage.status_code == 401


def test_login_body_validation(mock):
    response = requests.post(mock.url("source") + "/session/1/session", json={"username": "admin"}, timeout=10)
    assert response.status_code == 400
    response = requests.post(mock.url("source") + "/session/1/session",
                             json={"username": "admin", "password": "admin", "services": ["bogus"]}, timeout=10)
    assert response.status_code == 400


def test_read_only_user_reads_but_cannot_write(mock, control):
    auditor = ("auditor", "auditor")
    assert requests.get(mock.url("source") + "/platform/14/sync/policies", auth=auditor, timeout=10).status_code == 200
    response = requests.post(mock.url("source") + "/platform/14/sync/policies", auth=auditor, timeout=10,
                             json={"name": "p", "action": "sync", "source_root_path": "/ifs/a",
                                   "target_host": "target", "target_path": "/ifs/b"})
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "AEC_FORBIDDEN" and "ISI_PRIV_SYNCIQ" in error["message"]
    assert control.state("source")["policies"] == []
    write = requests.put(mock.url("source") + "/namespace/ifs/data/x", data=b"x", auth=auditor, timeout=10)
    assert write.status_code == 403 and "ISI_PRIV_NS_IFS_ACCESS" in write.text


def test_user_with_one_write_privilege(mock, control):
    control.seed({"clusters": {"source": {"users": [
        {"name": "ops", "password": "ops", "role": "readonly", "privileges": ["ISI_PRIV_NS_IFS_ACCESS"]}]}}})
    ops = ("ops", "ops")
    assert requests.put(mock.url("source") + "/namespace/ifs/data/x", data=b"x", auth=ops, timeout=10).status_code == 200
    zone = requests.post(mock.url("source") + "/platform/3/zones", json={"name": "z", "path": "/ifs/data"}, auth=ops,
                         timeout=10)
    assert zone.status_code == 403 and "ISI_PRIV_AUTH" in zone.text


def test_expire_endpoint_invalidates_sessions(mock, control):
    http, _ = login(mock)
    headers = session_headers(http, mock)
    assert control.expire_sessions("source") == 1
    assert http.get(mock.url("source") + CONFIG, headers=headers, timeout=10).status_code == 401
    # Basic auth is not a session: unaffected.
    assert requests.get(mock.url("source") + CONFIG, auth=("admin", "admin"), timeout=10).status_code == 200


def test_idle_timeout_from_the_scenario(mock, control):
    control.seed({"clusters": {"source": {"session": {"timeout_inactive": 1}}}})
    http, response = login(mock)
    assert response.json()["timeout_inactive"] == 1
    headers = session_headers(http, mock)
    assert http.get(mock.url("source") + CONFIG, headers=headers, timeout=10).status_code == 200
    time.sleep(1.2)
    assert http.get(mock.url("source") + CONFIG, headers=headers, timeout=10).status_code == 401


def test_absolute_timeout_despite_activity(mock, control):
    control.seed({"clusters": {"source": {"session": {"timeout_absolute": 1}}}})
    http, _ = login(mock)
    headers = session_headers(http, mock)
    url = mock.url("source") + CONFIG
    assert http.get(url, headers=headers, timeout=10).status_code == 200
    wait_until(lambda: http.get(url, headers=headers, timeout=10).status_code == 401, timeout=5, interval=0.1)


def test_passwords_never_reach_the_log_or_output(mock, control, capfd):
    login(mock, password="S3cret-Passw0rd")
    requests.get(mock.url("source") + CONFIG, auth=("admin", "S3cret-Passw0rd"), timeout=10)
    requests.post(mock.url("source") + "/platform/14/sync/policies", auth=("admin", "admin"), timeout=10,
                  json={"name": "p", "action": "sync", "source_root_path": "/ifs/a", "target_host": "target",
                        "target_path": "/ifs/b", "password": "S3cret-Passw0rd"})
    log = control.requests()
    dumped = json.dumps(log) + json.dumps(control.state_all())
    assert "S3cret-Passw0rd" not in dumped
    assert log[0]["body"]["password"] == "********"
    assert log[2]["body"]["password"] == "********" and log[2]["body"]["name"] == "p"
    out, err = capfd.readouterr()
    assert "S3cret-Passw0rd" not in out + err


def test_https_with_the_generated_ca(tmp_path):
    mock = start_mock(clusters=("source",), tls=True, cert_dir=str(tmp_path))
    try:
        url = mock.url("source")
        assert url.startswith("https://")
        ok = requests.get(url + "/platform/latest", auth=("admin", "admin"), verify=mock.ca_path, timeout=10)
        assert ok.json() == {"latest": "16"}
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url + "/platform/latest", auth=("admin", "admin"), timeout=10)
        response = requests.post(url + "/session/1/session", json={"username": "admin", "password": "admin"},
                                 verify=mock.ca_path, timeout=10)
        assert response.status_code == 201
        assert "Secure" in response.headers["Set-Cookie"]
    finally:
        mock.stop()


def test_basic_auth_can_be_disabled_by_the_scenario(mock, control):
    control.seed({"clusters": {"source": {"basic_auth": False}}})
    assert requests.get(mock.url("source") + CONFIG, auth=("admin", "admin"), timeout=10).status_code == 401
    http, response = login(mock)
    assert response.status_code == 201
    assert http.get(mock.url("source") + CONFIG, headers=session_headers(http, mock), timeout=10).status_code == 200
    assert requests.get(mock.url("target") + CONFIG, auth=("admin", "admin"), timeout=10).status_code == 200
