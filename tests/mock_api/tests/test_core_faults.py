"""Fault injection: error rate, fail_next (before and after applying), resets, latency, down/up."""

import pytest
import requests

from conftest import wait_until

pytestmark = pytest.mark.timeout(60)

LATEST = "/platform/latest"
POLICIES = "/platform/14/sync/policies"


def test_error_rate_one_fails_every_api_call_but_not_control(api, control):
    control.faults("source", error_rate=1.0, error_status=503)
    response = api.get("source", LATEST)
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "AEC_SERVICE_UNAVAILABLE"
    assert api.get("target", LATEST).status_code == 200          # faults are per cluster
    assert control.state("source")["cluster"]["name"] == "source"  # control never faulted
    assert control.faults("source")["counters"]["errors"] == 1


def test_error_rate_with_seed_is_reproducible(api, control):
    def run():
        control.clear_faults("source")
        control.faults("source", error_rate=0.5, seed=7)
        return [api.get("source", LATEST).status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert 503 in first and 200 in first


def test_fail_next_matches_method_and_path_and_counts(api, control):
    control.fail_next("source", path="/sync/policies", method="POST", count=2, status=503)
    assert api.get("source", POLICIES).status_code == 200        # other method: not matched
    body = {"name": "p", "action": "sync", "source_root_path": "/ifs/a", "target_host": "target",
            "target_path": "/ifs/b"}
    assert api.post("source", POLICIES, json=body).status_code == 503
    assert api.post("source", POLICIES, json=body).status_code == 503
    assert control.state("source")["policies"] == []             # failed before applying
    assert api.post("source", POLICIES, json=body).status_code == 201
    assert control.faults("source")["fail_next"] == []


def test_fail_next_after_applies_the_write_then_fails(api, control):
    control.fail_next("source", path="^/platform/14/sync/policies$", method="POST", status=502, after=True,
                      code="AEC_SERVICE_UNAVAILABLE", message="gateway lost the answer")
    body = {"name": "p", "action": "sync", "source_root_path": "/ifs/a", "target_host": "target",
            "target_path": "/ifs/b"}
    response = api.post("source", POLICIES, json=body)
    assert response.status_code == 502
    assert response.json()["errors"][0]["message"] == "gateway lost the answer"
    assert [p["name"] for p in control.state("source")["policies"]] == ["p"]   # it took effect
    assert api.post("source", POLICIES, json=body).status_code == 409          # a blind re-send conflicts


def test_reset_fault_drops_the_connection(api, control):
    control.fail_next("source", path="latest", reset=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get("source", LATEST)
    assert api.get("source", LATEST).status_code == 200
    assert control.faults("source")["counters"]["fail_next"] == 1


def test_reset_rate(api, control):
    control.faults("source", reset_rate=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get("source", LATEST)
    control.clear_faults("source")
    assert api.get("source", LATEST).status_code == 200


def test_latency_fault_shows_in_the_request_log(api, control):
    control.faults("source", latency_ms=60)
    assert api.get("source", LATEST).status_code == 200
    assert control.requests()[0]["duration_ms"] >= 60
    assert control.faults("source")["latency_ms"] == 60


def test_invalid_fault_settings_are_rejected(mock):
    url = mock.control.control_url + "/_mock/faults"
    for body in ({"error_rate": 2}, {"bogus": 1}, {"fail_next": [{"count": 1}]}, {"fail_next": [{"path": "("}]},
                 {"fail_next_job": {"error": "x"}}):
        assert requests.post(url, json=body, params={"cluster": "source"}, timeout=10).status_code == 400, body


def test_reset_clears_faults(api, control):
    control.faults("source", error_rate=1.0)
    control.reset()
    assert api.get("source", LATEST).status_code == 200


def test_down_refuses_connections_until_up(api, control):
    assert api.get("source", LATEST).status_code == 200   # keep-alive connection now open
    control.down("source")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get("source", LATEST)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api.url("source", LATEST), auth=("admin", "admin"), timeout=5)
    assert api.get("target", LATEST).status_code == 200
    assert control.state_all()["clusters"]["source"]["cluster"]["name"] == "source"
    control.up("source")
    assert api.get("source", LATEST).status_code == 200


def test_down_for_some_seconds_comes_back_on_the_same_port(api, control, mock):
    port = mock.port("source")
    control.down("source", seconds=0.3)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api.url("source", LATEST), timeout=5)

    def back():
        try:
            return requests.get(api.url("source", LATEST), auth=("admin", "admin"), timeout=5).status_code == 200
        except requests.exceptions.ConnectionError:
            return False

    wait_until(back, timeout=10, interval=0.05)
    assert mock.port("source") == port


def test_down_through_the_cluster_port_itself(mock):
    url = mock.url("target")
    response = requests.post(url + "/_mock/down", json={}, timeout=10)
    assert response.status_code == 200 and response.json()["down"] is True
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url + LATEST, timeout=5)
    # up through another cluster's port
    assert requests.post(mock.url("source") + "/_mock/up", params={"cluster": "target"}, timeout=10).status_code == 200
    assert requests.get(url + LATEST, auth=("admin", "admin"), timeout=10).status_code == 200


def test_reset_brings_clusters_back_up(api, control):
    control.down("source")
    control.reset()
    assert api.get("source", LATEST).status_code == 200


def test_cli_latency_applies_to_every_call(api, control, mock):
    mock.world.latency_ms = 40
    api.get("target", LATEST)
    assert control.requests()[0]["duration_ms"] >= 40


def test_fail_next_body_and_skip_pick_one_call_among_many(api, control):
    """``body`` narrows a fault to calls with those JSON values, ``skip`` lets the first ones through;
    the log's ``applied`` tells a lost answer (after) from a refused call."""
    control.fail_next("source", path="/sync/policies/", method="PUT", body={"enabled": False}, skip=1)
    control.fail_next("source", path="/sync/policies/", method="PUT", body={"description": "lost"}, after=True)
    for name in ("a", "b"):
        api.create_policy("source", name, "/ifs/data/" + name, "/ifs/data/" + name)
    control.clear_requests()

    def put(name, body):
        return api.put("source", POLICIES + "/" + name, json=body).status_code

    assert put("a", {"description": "x"}) == 204          # body does not match
    assert put("a", {"enabled": False}) == 204            # matches, skipped
    assert put("b", {"enabled": False}) == 503            # matches: fails, not applied
    assert put("b", {"enabled": False}) == 204            # spent
    assert put("a", {"description": "lost"}) == 503       # applied, answer lost
    log = [e for e in control.requests() if e["method"] == "PUT"]
    assert [e["applied"] for e in log] == [True, True, False, True, True]
    assert control.faults("source")["fail_next"] == []
    policies = dict((p["name"], p) for p in control.state("source")["policies"])
    assert policies["a"]["description"] == "lost" and policies["b"]["enabled"] is False
