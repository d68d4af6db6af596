"""NFS exports and aliases of the simulator."""

import pytest
import requests

from onefs_mock.testing import start_mock

ADMIN = ("admin", "admin")
AUDITOR = ("auditor", "auditor")
EXPORTS = "/platform/4/protocols/nfs/exports"
ALIASES = "/platform/15/protocols/nfs/aliases"

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


def code(response):
    return response.json()["errors"][0]["code"]


def test_exports_are_listed_per_zone_with_integer_ids(mock):
    body = call(mock, "GET", EXPORTS, params={"zone": "eng"}).json()
    assert [e["paths"] for e in body["exports"]] == [["/ifs/data/eng/src"],
                                                     ["/ifs/data/eng/builds", "/ifs/data/eng/tools"]]
    assert all(isinstance(e["id"], int) for e in body["exports"])
    assert body["total"] == 2 and "digest" in body and body["resume"] is None
    assert [e["paths"] for e in call(mock, "GET", EXPORTS).json()["exports"]] == [["/ifs/data/it/scripts"]]
    filtered = call(mock, "GET", EXPORTS, params={"zone": "eng", "path": "/ifs/data/eng/tools"}).json()
    assert len(filtered["exports"]) == 1


def test_create_get_update_delete(mock):
    created = call(mock, "POST", EXPORTS, "target", params={"zone": "finance"},
                   json={"paths": ["/ifs/data/finance/reports"], "clients": ["10.10.7.0/24"],
                         "map_root": {"enabled": True, "user": {"id": "USER:nobody"}},
                         "security_flavors": ["krb5p"]})
    assert created.status_code == 201
    ident = created.json()["id"]
    assert isinstance(ident, int)
    export = call(mock, "GET", "%s/%d" % (EXPORTS, ident), "target", params={"zone": "finance"}).json()["exports"]
    assert len(export) == 1 and export[0]["zone"] == "finance"
    assert export[0]["map_root"]["user"]["id"] == "USER:nobody" and export[0]["security_flavors"] == ["krb5p"]
    assert call(mock, "GET", "%s/%d" % (EXPORTS, ident), "target").status_code == 404     # other zone
    changed = call(mock, "PUT", "%s/%d" % (EXPORTS, ident), "target", params={"zone": "finance"},
                   json={"read_only": True, "clients": []})
    assert changed.status_code == 204
    export = call(mock, "GET", "%s/%d" % (EXPORTS, ident), "target", params={"zone": "finance"}).json()["exports"][0]
    assert export["read_only"] is True and export["clients"] == []
    assert call(mock, "DELETE", "%s/%d" % (EXPORTS, ident), "target", params={"zone": "finance"}).status_code == 204
    assert call(mock, "GET", "%s/%d" % (EXPORTS, ident), "target", params={"zone": "finance"}).status_code == 404


def test_duplicate_path_in_one_zone_is_409_unless_forced(mock):
    body = {"paths": ["/ifs/data/eng/src"], "clients": ["10.9.9.9"]}
    duplicate = call(mock, "POST", EXPORTS, params={"zone": "eng"}, json=body)
    assert duplicate.status_code == 409 and code(duplicate) == "AEC_CONFLICT"
    other_zone = call(mock, "POST", EXPORTS, params={"zone": "System"}, json=body)
    assert other_zone.status_code == 201
    forced = call(mock, "POST", EXPORTS, params={"zone": "eng", "force": "true"}, json=body)
    assert forced.status_code == 201
    assert len(call(mock, "GET", EXPORTS, params={"zone": "eng"}).json()["exports"]) == 3


@pytest.mark.parametrize("body,field", [
    ({}, "paths"),
    ({"paths": []}, "paths"),
    ({"paths": ["/ifs/data/finance/x"]}, "paths"),                    # outside zone eng
    ({"paths": ["/ifs/data/eng/x"], "security_flavors": ["kerberos"]}, "security_flavors"),
    ({"paths": ["/ifs/data/eng/x"], "read_only": "yes"}, "read_only"),
    ({"paths": ["/ifs/data/eng/x"], "unknown": 1}, "unknown"),
])
def test_bad_export_bodies_are_400(mock, body, field):
    response = call(mock, "POST", EXPORTS, params={"zone": "eng"}, json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0].get("field") == field


def test_unknown_or_non_integer_export_ids_are_404(mock):
    assert call(mock, "GET", EXPORTS + "/999").status_code == 404
    assert code(call(mock, "GET", EXPORTS + "/abc")) == "AEC_NOT_FOUND"


def test_aliases_use_percent_encoded_ids(mock):
    body = call(mock, "GET", ALIASES + "/%2Fsrc", params={"zone": "eng"}).json()
    assert body["aliases"] == [{"name": "/src", "id": "/src", "path": "/ifs/data/eng/src", "zone": "eng",
                                "health": "ok"}]
    created = call(mock, "POST", ALIASES, "target", params={"zone": "eng"},
                   json={"name": "/builds", "path": "/ifs/data/eng/builds"})
    assert created.status_code == 201 and created.json()["id"] == "/builds"
    again = call(mock, "POST", ALIASES, "target", params={"zone": "eng"},
                 json={"name": "/builds", "path": "/ifs/data/eng/builds"})
    assert again.status_code == 409 and code(again) == "AEC_EXISTS"
    moved = call(mock, "PUT", ALIASES + "/%2Fbuilds", "target", params={"zone": "eng"},
                 json={"path": "/ifs/data/eng/tools"})
    assert moved.status_code == 204
    names = {a["name"]: a["path"] for a in mock.control.state("target")["nfs_aliases"]}
    assert names == {"/src": "/ifs/data/eng/src", "/builds": "/ifs/data/eng/tools"}
    assert call(mock, "DELETE", ALIASES + "/%2Fbuilds", "target", params={"zone": "eng"}).status_code == 204
    assert call(mock, "GET", ALIASES + "/%2Fbuilds", "target", params={"zone": "eng"}).status_code == 404


def test_alias_validation(mock):
    no_slash = call(mock, "POST", ALIASES, params={"zone": "eng"}, json={"name": "src2", "path": "/ifs/data/eng"})
    assert no_slash.status_code == 400
    outside = call(mock, "POST", ALIASES, params={"zone": "eng"}, json={"name": "/x", "path": "/ifs/data/finance"})
    assert outside.status_code == 400
    listed = call(mock, "GET", ALIASES, params={"zone": "finance"}).json()
    assert [a["name"] for a in listed["aliases"]] == ["/fin-reports"] and listed["total"] == 1


def test_read_only_user_cannot_create_exports(mock):
    response = call(mock, "POST", EXPORTS, auth=AUDITOR, json={"paths": ["/ifs/data/zzz"]})
    assert response.status_code == 403 and code(response) == "AEC_FORBIDDEN"
    assert len(mock.control.state("source")["nfs_exports"]) == 4


def test_older_export_version_two_as_goisilon_uses(mock):
    assert call(mock, "GET", "/platform/2/protocols/nfs/exports/", params={"zone": "eng"}).status_code == 200


def test_export_paths_must_exist_unless_ignored_or_created(mock):
    body = {"paths": ["/ifs/data/eng/missing"]}
    missing = call(mock, "POST", EXPORTS, params={"zone": "eng"}, json=body)
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "paths"
    ignored = call(mock, "POST", EXPORTS, params={"zone": "eng", "ignore_bad_paths": "true"}, json=body)
    assert ignored.status_code == 201
    assert "/ifs/data/eng/missing" not in mock.control.state("source")["files"]
    created = call(mock, "POST", EXPORTS, params={"zone": "eng"},
                   json={"paths": ["/ifs/data/eng/made"], "create_path": True})
    assert created.status_code == 201
    assert "/ifs/data/eng/made" in mock.control.state("source")["files"]


def test_alias_health_follows_its_path(mock):
    created = call(mock, "POST", ALIASES, params={"zone": "eng"},
                   json={"name": "/later", "path": "/ifs/data/eng/later"})
    assert created.status_code == 201 and created.json()["health"] == "path not found"
    file_alias = call(mock, "POST", ALIASES, params={"zone": "eng"},
                      json={"name": "/file", "path": "/ifs/data/eng/src/app/main.py"})
    assert file_alias.json()["health"] == "path not directory"
    made = requests.put(mock.url("source") + "/namespace/ifs/data/eng/later", auth=ADMIN, timeout=10,
                        headers={"x-isi-ifs-target-type": "container"})
    assert made.status_code in (200, 201, 204), made.text
    alias = call(mock, "GET", ALIASES + "/%2Flater", params={"zone": "eng"}).json()["aliases"][0]
    assert alias["health"] == "ok"
