"""PapiClient against the in-process mock: auth, sessions, paging, typed errors, trace, secrets."""

import pytest
import requests

from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient, parse_node, split_hosts
from ansible_collections.onefs.dr.plugins.module_utils.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    OnefsError,
    UnauthorizedError,
    UnavailableError,
)

from test_client_helpers import AUDITOR_PASSWORD, PASSWORD, logins, read_trace

pytestmark = pytest.mark.timeout(60)

SHARES = "/platform/12/protocols/smb/shares"


def make_share(client, name, path="/ifs/data/zone1"):
    return client.post(SHARES, {"name": name, "path": path, "create_path": True})


# ---- sessions -----------------------------------------------------------------------


def test_one_login_for_many_calls(client, ctl):
    for dummy in range(5):
        assert client.get("/platform/latest")["latest"]
    client.get("/platform/3/cluster/config")
    entries = ctl.api_log()
    assert len(logins(entries)) == 1
    assert client.logins == 1
    assert client.requests_made == 7
    calls = [e for e in entries if e["path"] != "/session/1/session"]
    assert len(calls) == 6
    assert all(e["status"] == 200 and e["user"] == "admin" for e in calls)


def test_login_body_asks_for_platform_and_namespace_and_is_redacted_in_the_log(client, ctl):
    client.get("/platform/latest")
    login = logins(ctl.api_log())[0]
    assert login["status"] == 201
    assert login["body"]["username"] == "admin"
    assert login["body"]["services"] == ["platform", "namespace"]
    assert PASSWORD not in str(login)


def test_csrf_and_referer_are_sent(client, ctl, mock):
    """The mock refuses a cookie without X-CSRF-Token/Referer; the client's calls pass."""
    client.get("/platform/3/cluster/config")
    session = client._session
    cookie_only = requests.get(mock.url("source") + "/platform/3/cluster/config",
                               headers={"Cookie": "isisessid=%s" % session.sessid}, timeout=10)
    assert cookie_only.status_code == 401
    no_referer = requests.get(mock.url("source") + "/platform/3/cluster/config",
                              headers={"Cookie": "isisessid=%s" % session.sessid, "X-CSRF-Token": session.csrf},
                              timeout=10)
    assert no_referer.status_code == 401
    client.get("/platform/3/cluster/config")
    statuses = [e["status"] for e in ctl.api_log() if e["path"] == "/platform/3/cluster/config"]
    assert statuses == [200, 401, 401, 200]


def test_expired_session_is_renewed_transparently(client, ctl):
    client.get("/platform/latest")
    ctl.expire_sessions()
    assert client.get("/platform/3/cluster/config")
    entries = ctl.api_log()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/session/1/session", 201),
        ("GET", "/platform/latest", 200),
        ("GET", "/platform/3/cluster/config", 401),
        ("POST", "/session/1/session", 201),
        ("GET", "/platform/3/cluster/config", 200),
    ]
    assert client.logins == 2


def test_put_after_expiry_is_applied_once(client, ctl):
    make_share(client, "s1")
    ctl.expire_sessions()
    client.put(SHARES + "/s1", {"description": "after expiry"})
    share = client.get_item(SHARES + "/s1", "shares")
    assert share["description"] == "after expiry"
    puts = [e for e in ctl.api_log() if e["method"] == "PUT"]
    assert [e["status"] for e in puts] == [401, 204]


def test_close_logs_out(make_client, ctl):
    client = make_client()
    client.get("/platform/latest")
    assert len(ctl.state()["session"]["sessions"]) == 1
    client.close()
    deletes = [e for e in ctl.api_log() if e["method"] == "DELETE" and e["path"] == "/session/1/session"]
    assert [e["status"] for e in deletes] == [204]
    assert ctl.state()["session"]["sessions"] == []


def test_context_manager_logs_out(mock, ctl):
    with PapiClient([mock.url("source")], username="admin", password=PASSWORD, name="source") as client:
        client.get("/platform/latest")
    assert ctl.state()["session"]["sessions"] == []


def test_close_without_calls_sends_nothing(make_client, ctl):
    make_client().close()
    assert ctl.api_log() == []


def test_wrong_password_is_unauthorized_and_never_shown(make_client, ctl):
    secret = "Wr0ng-Pa55word!"
    client = make_client(password=secret)
    with pytest.raises(UnauthorizedError) as caught:
        client.get("/platform/latest")
    err = caught.value
    assert err.status == 401
    assert "admin" in str(err)
    for text in (str(err), repr(err), str(err.to_dict()), repr(client)):
        assert secret not in text
        assert PASSWORD not in text
    assert len(logins(ctl.api_log())) == 1     # no retry of a refused login


# ---- basic auth ---------------------------------------------------------------------


def test_basic_auth_sends_credentials_on_every_call_without_login(make_client, ctl):
    client = make_client(auth="basic")
    client.get("/platform/latest")
    client.get("/platform/3/cluster/config")
    entries = ctl.api_log()
    assert logins(entries) == []
    assert [e["user"] for e in entries] == ["admin", "admin"]
    assert client.logins == 0
    client.close()
    assert [e for e in ctl.api_log() if e["method"] == "DELETE"] == []


def test_basic_auth_wrong_password(make_client):
    client = make_client(auth="basic", password="nope-nope")
    with pytest.raises(UnauthorizedError) as caught:
        client.get("/platform/3/cluster/config")
    assert "nope-nope" not in str(caught.value)


def test_invalid_auth_option():
    with pytest.raises(ValueError):
        PapiClient(["h"], auth="kerberos")


# ---- paging -------------------------------------------------------------------------


def test_list_follows_resume_and_sends_only_resume(client, ctl):
    names = ["share%02d" % number for number in range(7)]
    for name in names:
        make_share(client, name)
    ctl.clear_log()
    shares = client.list(SHARES, "shares", query={"limit": 3})
    assert sorted(s["name"] for s in shares if s["name"].startswith("share")) == names
    gets = [e for e in ctl.api_log() if e["method"] == "GET"]
    assert len(gets) >= 3
    assert gets[0]["query"] == {"limit": "3"}
    assert all(set(e["query"]) == {"resume"} for e in gets[1:])
    assert all(e["status"] == 200 for e in gets)


def test_list_single_page(client):
    make_share(client, "only")
    assert [s["name"] for s in client.list(SHARES, "shares")].count("only") == 1


def test_boolean_query_values_are_lowercase(client, ctl):
    client.get("/platform/3/cluster/config", query={"flag": True, "other": False, "dropped": None})
    entry = [e for e in ctl.api_log() if e["path"] == "/platform/3/cluster/config"][0]
    assert entry["query"] == {"flag": "true", "other": "false"}


# ---- errors from real answers -------------------------------------------------------


def test_not_found(client):
    with pytest.raises(NotFoundError) as caught:
        client.get(SHARES + "/missing")
    err = caught.value
    assert (err.status, err.code, err.cluster, err.method) == (404, "AEC_NOT_FOUND", "source", "GET")
    assert str(err).startswith("source: GET %s/missing failed (404 AEC_NOT_FOUND): " % SHARES)
    assert client.get_item(SHARES + "/missing", "shares") is None


def test_get_item_returns_the_single_element(client):
    make_share(client, "one")
    assert client.get_item(SHARES + "/one", "shares")["name"] == "one"


def test_bad_request_names_the_field(client):
    with pytest.raises(BadRequestError) as caught:
        client.post(SHARES, {"name": "x", "path": "/ifs/data", "no_such_field": 1})
    err = caught.value
    assert err.status == 400
    assert err.field == "no_such_field"
    assert "no_such_field" in str(err)


def test_forbidden_keeps_the_privilege_text(make_client):
    auditor = make_client(username="auditor", password=AUDITOR_PASSWORD)
    with pytest.raises(ForbiddenError) as caught:
        make_share(auditor, "denied")
    err = caught.value
    assert err.status == 403 and err.code == "AEC_FORBIDDEN"
    assert "ISI_PRIV_SMB" in str(err)
    assert AUDITOR_PASSWORD not in str(err)


def test_conflict_on_duplicate(client):
    make_share(client, "dup")
    with pytest.raises(ConflictError) as caught:
        make_share(client, "dup")
    assert caught.value.status == 409


def test_injected_errors_map_to_types(client, ctl):
    for status, code, kind in ((400, "AEC_BAD_REQUEST", BadRequestError), (403, "AEC_FORBIDDEN", ForbiddenError),
                               (404, "AEC_NOT_FOUND", NotFoundError), (409, "AEC_CONFLICT", ConflictError),
                               (500, "AEC_EXCEPTION", OnefsError)):
        ctl.fail_next(method="GET", path="^/platform/3/cluster/config$", status=status, code=code,
                      message="injected %d" % status)
        with pytest.raises(kind) as caught:
            client.get("/platform/3/cluster/config")
        assert (caught.value.status, caught.value.code) == (status, code)
        assert "injected %d" % status in str(caught.value)
    # none of them was retried
    gets = [e for e in ctl.api_log() if e["path"] == "/platform/3/cluster/config"]
    assert len(gets) == 5


def test_object_is_named_in_the_error(client):
    with pytest.raises(NotFoundError) as caught:
        client.get(SHARES + "/ghost", obj="share ghost")
    assert "[object share ghost]" in str(caught.value)
    assert caught.value.to_dict()["object"] == "share ghost"


def test_quoted_segment_with_slash(client, ctl):
    alias = "/my alias"
    with pytest.raises(NotFoundError):
        client.get("/platform/15/protocols/nfs/aliases/" + client.q(alias))
    entry = ctl.api_log()[-1]
    assert entry["path"] == "/platform/15/protocols/nfs/aliases/%2Fmy%20alias"


def test_latest_version(client):
    assert client.latest_version() >= 14


# ---- namespace ----------------------------------------------------------------------


def test_namespace_put_get_delete(client, ctl):
    assert client.get_raw("/ifs/data/zone1/readme.txt") == b"hello"
    client.put_raw("/ifs/data/zone1/new file.json", b'{"a": 1}')
    assert client.get_raw("/namespace/ifs/data/zone1/new file.json") == b'{"a": 1}'
    assert client.get_raw("/ifs/data/zone1/absent") is None
    assert client.delete_raw("/ifs/data/zone1/new file.json") is True
    assert client.delete_raw("/ifs/data/zone1/new file.json") is False
    paths = [e["path"] for e in ctl.api_log() if e["method"] == "PUT"]
    assert paths == ["/namespace/ifs/data/zone1/new%20file.json"]


def test_namespace_path_rejects_other_paths():
    with pytest.raises(ValueError):
        PapiClient.namespace_path("/platform/1/x")


# ---- trace --------------------------------------------------------------------------


def test_trace_to_callable(make_client):
    seen = []
    client = make_client(trace=seen.append)
    client.get("/platform/latest")
    with pytest.raises(NotFoundError):
        client.get(SHARES + "/nope")
    assert [(e["method"], e["path"], e["status"]) for e in seen] == [
        ("POST", "/session/1/session", 201),
        ("GET", "/platform/latest", 200),
        ("GET", SHARES + "/nope", 404),
    ]
    assert all(set(e) >= {"method", "path", "status", "duration_ms", "node"} for e in seen)
    assert all(e["duration_ms"] >= 0 for e in seen)


def test_trace_to_file_has_no_secrets(make_client, tmp_path, ctl):
    trace = tmp_path / "trace.jsonl"
    client = make_client(trace=str(trace))
    client.get("/platform/latest")
    ctl.expire_sessions()
    client.get("/platform/latest")
    client.close()
    entries = read_trace(str(trace))
    assert [e["status"] for e in entries] == [201, 200, 401, 201, 200, 204]
    text = trace.read_text()
    assert PASSWORD not in text
    assert "isisessid" not in text and "Cookie" not in text


# ---- hosts --------------------------------------------------------------------------


def test_host_forms():
    assert parse_node("a.example.com", 8080).origin == "https://a.example.com:8080"
    assert parse_node("a:9443", 8080).origin == "https://a:9443"
    assert parse_node("http://127.0.0.1:5000").origin == "http://127.0.0.1:5000"
    assert parse_node("[fe80::1]:8080").origin == "https://[fe80::1]:8080"
    assert split_hosts("a, b,c") == ["a", "b", "c"]
    assert split_hosts(["a,b", "c"]) == ["a", "b", "c"]
    with pytest.raises(ValueError):
        PapiClient([])


def test_unreachable_error_names_nodes_and_duration(make_client):
    from test_client_helpers import free_closed_port

    port = free_closed_port()
    client = make_client(hosts=["http://127.0.0.1:%d" % port], retry_budget=0.5)
    with pytest.raises(UnavailableError) as caught:
        client.get("/platform/latest")
    err = caught.value
    assert "127.0.0.1:%d" % port in str(err)
    assert "gave up after" in str(err)
    assert err.nodes == ["127.0.0.1:%d" % port]
    assert PASSWORD not in str(err)
