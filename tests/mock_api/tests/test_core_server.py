"""HTTP layer of the mock: identity, versions, envelopes, errors, control API."""

import json

import pytest
import requests

from onefs_mock import framework

pytestmark = pytest.mark.timeout(60)


def test_latest_and_cluster_identity(api):
    assert api.get("source", "/platform/latest").json() == {"latest": "16"}
    config = api.get("source", "/platform/3/cluster/config").json()
    assert config["name"] == "source"
    assert config["onefs_version"]["release"] == "v9.5.0.0"
    assert len(config["guid"]) == 36 and config["local_lnn"] == 1 and config["devices"]
    other = api.get("target", "/platform/3/cluster/config").json()
    assert other["guid"] != config["guid"]
    identity = api.get("source", "/platform/5/cluster/identity").json()
    assert identity["name"] == "source" and "logon" in identity


def test_identity_rename_changes_config_name(api):
    assert api.put("source", "/platform/5/cluster/identity", json={"name": "prod-ps"}).status_code == 204
    assert api.get("source", "/platform/3/cluster/config").json()["name"] == "prod-ps"


@pytest.mark.parametrize("version,status", [(1, 200), (3, 200), (16, 200), (17, 404), (0, 404)])
def test_versions_from_first_to_latest(api, version, status):
    assert api.get("source", "/platform/%d/cluster/config" % version).status_code == status


def test_non_numeric_version_and_trailing_slash(api):
    assert api.get("source", "/platform/abc/cluster/config").status_code == 404
    assert api.get("source", "/platform/3/cluster/config/").status_code == 200


def test_newer_onefs_release_raises_latest(mock, control, api):
    control.seed({"clusters": {"source": {"onefs_version": "9.7.0.0"}}})
    assert api.get("source", "/platform/latest").json() == {"latest": "18"}
    assert api.get("source", "/platform/18/cluster/config").status_code == 200
    assert api.get("target", "/platform/18/cluster/config").status_code == 404


def test_unknown_path_and_wrong_method(api):
    missing = api.get("source", "/platform/3/no/such/thing")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "AEC_NOT_FOUND"
    wrong = api.call("PATCH", "source", "/platform/3/cluster/config")
    assert wrong.status_code == 405
    assert wrong.json()["errors"][0]["code"] == "AEC_METHOD_NOT_ALLOWED"


def test_malformed_json_is_a_400_naming_the_problem(api):
    response = api.post("source", "/platform/14/sync/policies", data=b"{not json",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "AEC_BAD_REQUEST" and "Malformed JSON" in error["message"]


def test_handler_exception_becomes_a_clean_500(api, control, monkeypatch):
    route = next(r for r in framework.routes() if r.template == "/platform/{v}/cluster/config" and r.method == "GET")

    def boom(req, cluster):
        raise KeyError("secret internals")

    monkeypatch.setattr(route, "handler", boom)
    response = api.get("source", "/platform/3/cluster/config")
    assert response.status_code == 500
    assert response.json() == {"errors": [{"message": "Internal error: KeyError", "code": "AEC_EXCEPTION"}]}
    assert "Traceback" not in response.text


def test_request_log_records_calls_and_paging(api, control):
    api.get("source", "/platform/3/cluster/config", params={"x": "1"})
    api.get("target", "/platform/latest")
    page = control.requests_page()
    entries = page["requests"]
    assert [(e["cluster"], e["method"], e["path"], e["status"]) for e in entries] == [
        ("source", "GET", "/platform/3/cluster/config", 200), ("target", "GET", "/platform/latest", 200)]
    assert entries[0]["query"] == {"x": "1"} and entries[0]["user"] == "admin"
    assert {"seq", "ts", "duration_ms", "body"} <= set(entries[0])
    api.get("source", "/platform/latest")
    later = control.requests_page(since=page["next"])
    assert [e["path"] for e in later["requests"]] == ["/platform/latest"]
    assert control.requests(cluster="target")[0]["cluster"] == "target"
    control.clear_requests()
    assert control.requests() == []


def test_control_calls_are_not_logged(api, control):
    control.state("source")
    control.faults("source")
    assert control.requests() == []


def test_state_dump_has_every_area(api, control):
    state = control.state("source")
    for key in ("cluster", "policies", "target_policies", "jobs", "reports", "zones", "files", "read_only_paths"):
        assert key in state, key
    everything = control.state_all()
    assert set(everything["clusters"]) == {"source", "target"}


def test_reset_restores_the_seed(api, control):
    assert api.write("source", "/ifs/data/x.txt", b"1").status_code == 200
    assert "/ifs/data/x.txt" in control.state("source")["files"]
    control.reset()
    assert "/ifs/data/x.txt" not in control.state("source")["files"]


def test_seed_endpoint_loads_a_scenario(api, control):
    control.seed({"clusters": {"source": {"cluster_name": "prod-ps", "files": {"/ifs/data/a.txt": "A"}}}})
    assert api.get("source", "/platform/3/cluster/config").json()["name"] == "prod-ps"
    assert api.read("source", "/ifs/data/a.txt").content == b"A"


def test_bad_seed_is_a_400(mock):
    response = mock.control.http.post(mock.control.control_url + "/_mock/seed", json={"clusters": []})
    assert response.status_code == 400


def test_time_scale_control(control):
    assert control.time_scale() == 200
    assert control.time_scale(50) == 50
    control.reset()
    assert control.time_scale() == 200


def test_unknown_control_cluster_is_404(mock):
    response = mock.control.http.get(mock.control.control_url + "/_mock/state", params={"cluster": "nope"})
    assert response.status_code == 404


def test_control_port_refuses_api_calls(mock):
    response = mock.control.http.get(mock.control.control_url + "/platform/latest")
    assert response.status_code == 404


def test_control_api_on_a_cluster_port_needs_no_auth(mock):
    response = requests.get(mock.url("target") + "/_mock/state", timeout=10)
    assert response.status_code == 200
    assert json.loads(response.text)["cluster"]["name"] == "target"
