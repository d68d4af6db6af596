"""SMB shares: zones, permissions, validation, paging and injected 409 conflicts."""

import pytest
import requests

from onefs_mock.testing import start_mock

ADMIN = ("admin", "admin")
AUDITOR = ("auditor", "auditor")
SHARES = "/platform/12/protocols/smb/shares"
DENY_EVERYONE = [{"permission": "full", "permission_type": "deny",
                  "trustee": {"id": "SID:S-1-1-0", "name": "Everyone", "type": "wellknown"}}]

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def mock():
    server = start_mock(clusters=("source", "target"), seed="demo", tls=False)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def clean(mock):
    mock.control.reset()


def call(mock, method, path, cluster="source", auth=ADMIN, **kwargs):
    return requests.request(method, mock.url(cluster) + path, auth=auth, timeout=10, **kwargs)


def smb_control(mock, method, cluster="source", **kwargs):
    response = requests.request(method, mock.url(cluster) + "/_mock/smb", timeout=10, **kwargs)
    assert response.status_code in (200, 204), response.text
    return response.json() if response.content else None


def test_list_is_per_zone_with_digest_and_total(mock):
    body = call(mock, "GET", SHARES, params={"zone": "finance"}).json()
    assert [s["name"] for s in body["shares"]] == ["ap", "ar", "reports"]
    assert body["total"] == 3 and body["resume"] is None and len(body["digest"]) == 40
    system = call(mock, "GET", SHARES).json()
    assert [s["name"] for s in system["shares"]] == ["home"]
    assert system["shares"][0]["zid"] == 1
    assert call(mock, "GET", SHARES, params={"zone": "nowhere"}).status_code == 404


def test_digest_changes_when_a_share_changes(mock):
    before = call(mock, "GET", SHARES, params={"zone": "eng"}).json()["digest"]
    assert call(mock, "PUT", SHARES + "/docs", params={"zone": "eng"}, json={"description": "x"}).status_code == 204
    assert call(mock, "GET", SHARES, params={"zone": "eng"}).json()["digest"] != before


def test_get_one_share_resolves_trustees(mock):
    body = call(mock, "GET", SHARES + "/ap", params={"zone": "finance"}).json()
    assert len(body["shares"]) == 1
    share = body["shares"][0]
    assert share["path"] == "/ifs/data/finance/ap" and share["zone"] == "finance"
    trustee = share["permissions"][0]["trustee"]
    assert trustee["name"] == "AD\\finance-ap" and trustee["id"].startswith("SID:S-1-5-21-")
    assert share["run_as_root"][0]["name"] == "AD\\fin-admin"
    assert call(mock, "GET", SHARES + "/ap").status_code == 404        # not in System


def test_create_in_zone_and_path_must_be_inside_the_zone(mock):
    created = call(mock, "POST", SHARES, "target", params={"zone": "finance"},
                   json={"name": "ar", "path": "/ifs/data/finance/ar"})
    assert created.status_code == 201 and created.json() == {"id": "ar"}
    share = call(mock, "GET", SHARES + "/AR", "target", params={"zone": "finance"}).json()["shares"][0]
    assert share["permissions"][0]["permission"] == "read"               # OneFS default: Everyone read
    outside = call(mock, "POST", SHARES, "target", params={"zone": "finance"},
                   json={"name": "x", "path": "/ifs/data/eng/src"})
    assert outside.status_code == 400 and outside.json()["errors"][0]["field"] == "path"


def test_duplicate_name_is_409_case_insensitively(mock):
    response = call(mock, "POST", SHARES, params={"zone": "finance"}, json={"name": "AP", "path": "/ifs/data/finance"})
    assert response.status_code == 409 and response.json()["errors"][0]["code"] == "AEC_EXISTS"


@pytest.mark.parametrize("body,field", [
    ({"path": "/ifs/data/finance/x"}, "name"),
    ({"name": "x"}, "path"),
    ({"name": "x", "path": "/ifs/data/finance/x", "permissions": [{"permission": "all", "permission_type": "allow",
                                                                   "trustee": {"name": "Everyone"}}]}, "permission"),
    ({"name": "x", "path": "/ifs/data/finance/x", "browsable": "yes"}, "browsable"),
    ({"name": "x", "path": "/ifs/data/finance/x", "colour": 1}, "colour"),
    ({"name": "bad/name", "path": "/ifs/data/finance/x"}, "name"),
])
def test_bad_bodies_are_400(mock, body, field):
    response = call(mock, "POST", SHARES, params={"zone": "finance"}, json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0].get("field") == field


def test_deny_everyone_lock_and_restore_replace_the_permission_list(mock):
    saved = call(mock, "GET", SHARES + "/reports", params={"zone": "finance"}).json()["shares"][0]["permissions"]
    assert len(saved) == 2
    assert call(mock, "PUT", SHARES + "/reports", params={"zone": "finance"},
                json={"permissions": DENY_EVERYONE, "run_as_root": []}).status_code == 204
    locked = call(mock, "GET", SHARES + "/reports", params={"zone": "finance"}).json()["shares"][0]
    assert locked["permissions"] == DENY_EVERYONE and locked["run_as_root"] == []
    assert call(mock, "PUT", SHARES + "/reports", params={"zone": "finance"},
                json={"permissions": saved}).status_code == 204
    restored = call(mock, "GET", SHARES + "/reports", params={"zone": "finance"}).json()["shares"][0]
    assert restored["permissions"] == saved


def test_rename_and_delete(mock):
    renamed = call(mock, "PUT", SHARES + "/docs", params={"zone": "eng"}, json={"name": "documentation"})
    assert renamed.status_code == 204
    assert call(mock, "GET", SHARES + "/docs", params={"zone": "eng"}).status_code == 404
    assert call(mock, "DELETE", SHARES + "/documentation", params={"zone": "eng"}).status_code == 204
    names = [s["name"] for s in mock.control.state("source")["smb_shares"] if s["zone"] == "eng"]
    assert names == ["src", "builds"]


def test_paging_with_limit_and_resume(mock):
    first = call(mock, "GET", SHARES, params={"zone": "finance", "limit": 2}).json()
    assert [s["name"] for s in first["shares"]] == ["ap", "ar"] and first["resume"]
    second = call(mock, "GET", SHARES, params={"resume": first["resume"]}).json()
    assert [s["name"] for s in second["shares"]] == ["reports"] and second["resume"] is None


def test_read_only_user_gets_403_on_writes(mock):
    response = call(mock, "DELETE", SHARES + "/ap", auth=AUDITOR, params={"zone": "finance"})
    assert response.status_code == 403 and response.json()["errors"][0]["code"] == "AEC_FORBIDDEN"
    assert call(mock, "GET", SHARES + "/ap", auth=AUDITOR, params={"zone": "finance"}).status_code == 200


def test_injected_conflicts_fail_every_share_write_but_no_read(mock):
    smb_control(mock, "POST", json={"conflict_rate": 1.0})
    response = call(mock, "PUT", SHARES + "/ap", params={"zone": "finance"}, json={"permissions": DENY_EVERYONE})
    assert response.status_code == 409 and response.json()["errors"][0]["code"] == "AEC_CONFLICT"
    assert call(mock, "GET", SHARES + "/ap", params={"zone": "finance"}).status_code == 200
    share = call(mock, "GET", SHARES + "/ap", params={"zone": "finance"}).json()["shares"][0]
    assert share["permissions"] != DENY_EVERYONE                         # the refused write did nothing
    assert smb_control(mock, "GET")["conflicts_injected"] == 1
    assert smb_control(mock, "GET", cluster="target")["conflicts_injected"] == 0   # per cluster


def test_a_conflict_rate_fails_that_share_of_writes_reproducibly(mock):
    def run():
        smb_control(mock, "POST", json={"conflict_rate": 0.5, "seed": 7})
        statuses = [call(mock, "PUT", SHARES + "/docs", params={"zone": "eng"},
                         json={"description": "try %d" % index}).status_code for index in range(40)]
        return statuses

    statuses = run()
    assert set(statuses) == {204, 409}
    assert smb_control(mock, "GET")["conflicts_injected"] == statuses.count(409)
    assert run() == statuses                                             # same seed, same answers
    smb_control(mock, "DELETE")
    assert call(mock, "PUT", SHARES + "/docs", params={"zone": "eng"}, json={"description": "ok"}).status_code == 204


def test_serialised_share_writes_refuse_a_write_during_the_commit_window(mock):
    smb_control(mock, "POST", json={"serialize_ms": 60000})
    first = call(mock, "PUT", SHARES + "/docs", params={"zone": "eng"}, json={"description": "one"})
    second = call(mock, "PUT", SHARES + "/src", params={"zone": "eng"}, json={"description": "two"})
    assert first.status_code == 204
    assert second.status_code == 409 and second.json()["errors"][0]["code"] == "AEC_CONFLICT"
    assert smb_control(mock, "GET")["conflicts_busy"] == 1
    mock.control.reset()                                                 # reset clears the knob
    assert call(mock, "PUT", SHARES + "/src", params={"zone": "eng"}, json={"description": "two"}).status_code == 204


def test_bad_control_values_are_400(mock):
    response = requests.post(mock.url("source") + "/_mock/smb", json={"conflict_rate": 2}, timeout=10)
    assert response.status_code == 400


def test_share_path_must_exist_unless_create_path(mock):
    missing = call(mock, "POST", SHARES, params={"zone": "eng"}, json={"name": "new", "path": "/ifs/data/eng/new"})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "path"
    assert "/ifs/data/eng/new" not in mock.control.state("source")["files"]
    created = call(mock, "POST", SHARES, params={"zone": "eng"},
                   json={"name": "new", "path": "/ifs/data/eng/new", "create_path": True})
    assert created.status_code == 201
    assert "/ifs/data/eng/new" in mock.control.state("source")["files"]
    moved = call(mock, "PUT", SHARES + "/new", params={"zone": "eng"}, json={"path": "/ifs/data/eng/gone"})
    assert moved.status_code == 400


def test_create_path_on_a_read_only_target_directory_is_refused(mock):
    # /ifs/data/eng/src on the target is a SyncIQ target: writes are refused there.
    response = call(mock, "POST", SHARES, "target", params={"zone": "eng"},
                    json={"name": "sub", "path": "/ifs/data/eng/src/sub", "create_path": True})
    assert response.status_code == 403
    assert "/ifs/data/eng/src/sub" not in mock.control.state("target")["files"]
