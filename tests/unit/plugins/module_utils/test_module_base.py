"""OnefsModule: env fallbacks, errors -> fail_json, logout on every exit, list-in/list-out results."""

import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient
from ansible_collections.onefs.dr.plugins.module_utils.connection import (
    CONNECTION_SPEC,
    PEER_SPEC,
    ConfigError,
    client_from_params,
)
from ansible_collections.onefs.dr.plugins.module_utils.module import OnefsModule
from ansible_collections.onefs.dr.plugins.module_utils.parallel import run_each

from test_client_helpers import PASSWORD, free_closed_port, logins, read_trace

pytestmark = pytest.mark.timeout(60)

SHARES = "/platform/12/protocols/smb/shares"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("ONEFS_"):
            monkeypatch.delenv(name)


def run_module(capsys, args, main, **kwargs):
    """Run OnefsModule(**kwargs).run(main) with module args; the JSON result and all output."""
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module = OnefsModule(**kwargs)
            module.run(main)
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.out + captured.err


def warning_texts(result, output):
    """Warnings of a run: in the result (module process), or on stderr when ansible-core
    believes it runs in the controller (another test imported controller code)."""
    texts = [w["event"]["msg"] if isinstance(w, dict) else str(w) for w in result.get("warnings", [])]
    texts += [line for line in output.splitlines() if "WARNING" in line]
    return texts


def conn(mock, **extra):
    args = dict(onefs_host=mock.url("source"), username="admin", password=PASSWORD, retry_budget=2)
    args.update(extra)
    return args


def test_env_fallbacks(monkeypatch, capsys, mock, ctl):
    monkeypatch.setenv("ONEFS_HOST", mock.url("source"))
    monkeypatch.setenv("ONEFS_USERNAME", "admin")
    monkeypatch.setenv("ONEFS_PASSWORD", PASSWORD)
    monkeypatch.setenv("ONEFS_RETRY_BUDGET", "3")
    monkeypatch.setenv("ONEFS_AUTH", "basic")
    seen = {}

    def main(module):
        seen.update(module.params)
        module.exit_json(changed=False, latest=module.client.get("/platform/latest")["latest"])

    result, out = run_module(capsys, {}, main)
    assert result["latest"]
    assert seen["onefs_host"] == [mock.url("source")]
    assert seen["retry_budget"] == 3 and seen["auth"] == "basic"
    assert seen["onefs_port"] == 8080 and seen["validate_certs"] is True
    assert PASSWORD not in out
    assert [e["user"] for e in ctl.api_log()] == ["admin"]


def test_comma_separated_hosts_from_env_fail_over(monkeypatch, capsys, mock, ctl):
    closed = "http://127.0.0.1:%d" % free_closed_port()
    monkeypatch.setenv("ONEFS_HOST", "%s,%s" % (closed, mock.url("source")))
    monkeypatch.setenv("ONEFS_USERNAME", "admin")
    monkeypatch.setenv("ONEFS_PASSWORD", PASSWORD)

    def main(module):
        module.exit_json(changed=False, hosts=module.params["onefs_host"], node=module.client.get(
            "/platform/latest") and module.client.node.origin)

    result, dummy = run_module(capsys, {"retry_budget": 5}, main)
    assert result["hosts"] == [closed, mock.url("source")]
    assert result["node"] == mock.url("source")


def test_missing_connection_options_fail_before_any_request(capsys, mock, ctl):
    def main(module):
        module.client.get("/platform/latest")

    result, dummy = run_module(capsys, {"username": "admin"}, main)
    assert result["failed"] is True
    assert "onefs_host (or environment variable ONEFS_HOST)" in result["msg"]
    assert "password (or environment variable ONEFS_PASSWORD)" in result["msg"]
    assert "username" not in result["msg"].split("option(s):")[1]
    assert ctl.api_log() == []


def test_onefs_error_becomes_fail_json_and_logs_out(capsys, mock, ctl):
    def main(module):
        module.client.get(SHARES + "/" + module.client.q("missing share"), obj="share missing share")

    result, out = run_module(capsys, conn(mock), main)
    assert result["failed"] is True
    host = mock.url("source")
    assert result["msg"].startswith("%s: GET %s/missing%%20share failed (404 AEC_NOT_FOUND)" % (host, SHARES))
    assert "[object share missing share]" in result["msg"]
    assert result["error"]["code"] == "AEC_NOT_FOUND"
    assert result["error"]["cluster"] == host
    assert PASSWORD not in out
    logouts = [e for e in ctl.api_log() if e["method"] == "DELETE" and e["path"] == "/session/1/session"]
    assert [e["status"] for e in logouts] == [204]
    assert ctl.state()["session"]["sessions"] == []


def test_successful_run_logs_out_once(capsys, mock, ctl):
    def main(module):
        module.client.get("/platform/latest")
        module.client.get("/platform/3/cluster/config")
        module.exit_json(changed=False)

    result, dummy = run_module(capsys, conn(mock), main)
    assert result["changed"] is False
    entries = ctl.api_log()
    assert len(logins(entries)) == 1
    assert [e["method"] for e in entries if e["path"] == "/session/1/session"] == ["POST", "DELETE"]


def test_worker_threads_share_one_login(capsys, mock, ctl):
    """Per-object work in parallel asks for the lazy client from every thread at once."""
    import threading
    start = threading.Barrier(10)

    def work(dummy):
        start.wait(timeout=10)          # every worker asks for the client at the same moment
        return module_box[0].client.get("/platform/latest")

    module_box = []

    def main(module):
        module_box.append(module)
        results = run_each(range(10), work, max_workers=10)
        assert all(r.ok for r in results), [str(r.error) for r in results]
        module.exit_json(changed=False)

    run_module(capsys, conn(mock), main)
    entries = ctl.api_log()
    assert [e["method"] for e in entries if e["path"] == "/session/1/session"] == ["POST", "DELETE"]


def test_api_trace_option_writes_the_trace(capsys, mock, tmp_path, monkeypatch):
    trace = tmp_path / "api.jsonl"
    monkeypatch.setenv("ONEFS_API_TRACE", str(trace))

    def main(module):
        module.client.get("/platform/latest")
        module.exit_json(changed=False)

    run_module(capsys, conn(mock), main)
    entries = read_trace(str(trace))
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/session/1/session", 201), ("GET", "/platform/latest", 200), ("DELETE", "/session/1/session", 204)]
    assert PASSWORD not in trace.read_text()


def test_unexpected_exception_still_logs_out(mock, ctl):
    def main(module):
        module.client.get("/platform/latest")
        raise RuntimeError("bug")

    with patch_module_args(conn(mock)):
        module = OnefsModule()
        with pytest.raises(RuntimeError):
            module.run(main)
    assert [e["method"] for e in ctl.api_log() if e["path"] == "/session/1/session"] == ["POST", "DELETE"]


def test_insecure_warning_once(capsys, mock):
    def main(module):
        module.client.get("/platform/latest")
        module.peer_client.get("/platform/latest")
        module.exit_json(changed=False)

    peer = dict(onefs_host=mock.url("target"), username="admin", password=PASSWORD, validate_certs=False)
    result, output = run_module(capsys, conn(mock, validate_certs=False, peer=peer), main, peer=True)
    warnings = [w for w in warning_texts(result, output) if "validate_certs is false" in w]
    assert len(warnings) == 1


def test_peer_from_env(monkeypatch, capsys, mock):
    monkeypatch.setenv("ONEFS_PEER_HOST", mock.url("target"))
    monkeypatch.setenv("ONEFS_PEER_USERNAME", "admin")
    monkeypatch.setenv("ONEFS_PEER_PASSWORD", PASSWORD)
    from test_client_helpers import Control

    target = Control(mock.url("target"), "target")
    target.clear_log()

    def main(module):
        module.peer_client.get("/platform/3/cluster/config")
        module.exit_json(changed=False, peer_port=module.params["peer"]["onefs_port"])

    result, dummy = run_module(capsys, conn(mock), main, peer=True)
    assert result["peer_port"] == 8080
    assert [e["method"] for e in target.api_log()] == ["POST", "GET", "DELETE"]


def test_missing_peer_names_peer_options(capsys, mock):
    def main(module):
        module.peer_client.get("/platform/latest")

    result, dummy = run_module(capsys, conn(mock), main, peer=True)
    assert "peer.onefs_host (or environment variable ONEFS_PEER_HOST)" in result["msg"]


def test_exit_results_keeps_every_object_and_names_failures(capsys, mock):
    def work(name):
        client = module_ref[0].client
        if name == "ghost":
            client.get(SHARES + "/ghost", obj="share ghost")
        return {"name": name, "changed": name == "new", "actions": ["create"] if name == "new" else [],
                "diff": {"before": {}, "after": {"name": name}, "before_header": name, "after_header": name}}

    module_ref = []

    def main(module):
        module_ref.append(module)
        module.exit_results(run_each(["new", "ghost", "same"], work, max_workers=3), summary="x")

    args = conn(mock)
    args["_ansible_diff"] = True
    result, dummy = run_module(capsys, args, main)
    assert result["failed"] is True
    assert result["changed"] is True
    assert result["msg"].startswith("1 of 3 object(s) failed: ghost: ")
    assert "404" in result["msg"]
    assert [r["name"] for r in result["results"]] == ["new", "ghost", "same"]
    assert result["results"][1]["error"]["status"] == 404
    assert result["results"][0]["actions"] == ["create"]
    assert len(result["diff"]) == 2
    assert result["summary"] == "x"


def test_exit_results_all_ok_without_diff(capsys, mock):
    def main(module):
        module.exit_results([{"name": "a", "changed": False, "diff": {"before": {}, "after": {}}}])

    result, dummy = run_module(capsys, conn(mock), main)
    assert result["changed"] is False
    assert "failed" not in result or result["failed"] is False
    assert "diff" not in result
    assert "diff" not in result["results"][0]


# ---- the spec and client_from_params without Ansible --------------------------------


def test_spec_options_and_env_names():
    names = {"onefs_host", "onefs_port", "username", "password", "validate_certs", "ca_path", "auth",
             "api_timeout", "retry_budget", "api_trace"}
    assert set(CONNECTION_SPEC) == names
    assert CONNECTION_SPEC["password"]["no_log"] is True
    assert CONNECTION_SPEC["retry_budget"]["default"] == 600
    assert CONNECTION_SPEC["onefs_host"]["fallback"][1] == ["ONEFS_HOST"]
    assert set(PEER_SPEC["peer"]["options"]) == names
    assert PEER_SPEC["peer"]["options"]["username"]["fallback"][1] == ["ONEFS_PEER_USERNAME"]


def test_client_from_params_plain_python(monkeypatch, mock):
    monkeypatch.setenv("ONEFS_PASSWORD", PASSWORD)
    client = client_from_params({"onefs_host": [mock.url("source")], "username": "admin"}, "source")
    try:
        assert isinstance(client, PapiClient)
        assert client.retry_budget == 600 and client.validate_certs is True
        assert client.get("/platform/latest")["latest"]
    finally:
        client.close()


def test_client_from_params_missing(monkeypatch):
    with pytest.raises(ConfigError) as caught:
        client_from_params({"onefs_host": ["h"]}, "source")
    assert "username (or environment variable ONEFS_USERNAME)" in str(caught.value)
