"""SmartQuotas of the simulator: ids, envelopes, validation, duplicates, filters, paging."""

import pytest
import requests

from onefs_mock.testing import start_mock

ADMIN = ("admin", "admin")
AUDITOR = ("auditor", "auditor")
QUOTAS = "/platform/15/quota/quotas"

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


def create(mock, cluster="source", **body):
    body.setdefault("type", "directory")
    body.setdefault("include_snapshots", False)
    return call(mock, "POST", QUOTAS, cluster, json=body)


def error(response):
    return response.json()["errors"][0]


def test_create_returns_a_32_character_id_and_get_is_a_one_element_list(mock):
    created = create(mock, "target", path="/ifs/data/finance/ap", thresholds={"hard": 10 * 2 ** 30})
    assert created.status_code == 201
    ident = created.json()["id"]
    assert len(ident) == 32 and ident.isalnum()
    body = call(mock, "GET", QUOTAS + "/" + ident, "target").json()
    assert list(body) == ["quotas"] and len(body["quotas"]) == 1
    quota = body["quotas"][0]
    assert quota["id"] == ident and quota["path"] == "/ifs/data/finance/ap"
    assert quota["thresholds"]["hard"] == 10 * 2 ** 30 and quota["thresholds"]["soft"] is None
    assert quota["ready"] is True and quota["enforced"] is True and quota["persona"] is None
    assert quota["description"] == "" and quota["notifications"] == "default"
    assert set(quota["usage"]) >= {"applogical", "fslogical", "physical", "inodes", "fslogical_ready"}


def test_usage_counts_the_files_under_the_quota_path(mock):
    quotas = call(mock, "GET", QUOTAS, params={"path": "/ifs/data/finance/ap"}).json()["quotas"]
    assert len(quotas) == 1
    seeded = len("id,amount\n1,100\n2,250\n") + len("id,amount\n3,75\n")
    assert quotas[0]["usage"]["fslogical"] == seeded
    assert quotas[0]["usage"]["inodes"] >= 2


def test_unknown_id_is_404_with_the_onefs_message(mock):
    response = call(mock, "GET", QUOTAS + "/AABpAQEAAAAAAAAAAAAAQA0AAAAAAAAZ")
    assert response.status_code == 404
    assert error(response) == {"code": "AEC_NOT_FOUND",
                               "message": "Failed to fetch quota domain record: No such file or directory"}
    assert call(mock, "DELETE", QUOTAS + "/nope").status_code == 404


def test_duplicate_is_409_but_another_type_or_snapshot_flag_is_not(mock):
    first = create(mock, "target", path="/ifs/data/eng/src", thresholds={"hard": 1000})
    assert first.status_code == 201
    again = create(mock, "target", path="/ifs/data/eng/src/", thresholds={"hard": 5})
    assert again.status_code == 409 and error(again)["code"] == "AEC_EXISTS"
    with_snaps = create(mock, "target", path="/ifs/data/eng/src", include_snapshots=True)
    assert with_snaps.status_code == 201
    user = create(mock, "target", path="/ifs/data/eng/src", type="user", persona={"id": "UID:2001"})
    assert user.status_code == 201
    other_user = create(mock, "target", path="/ifs/data/eng/src", type="user", persona={"id": "UID:2002"})
    assert other_user.status_code == 201
    same_user = create(mock, "target", path="/ifs/data/eng/src", type="user", persona={"id": "uid:2001"})
    assert same_user.status_code == 409


@pytest.mark.parametrize("body,field", [
    ({"type": "directory", "include_snapshots": False}, "path"),
    ({"path": "/ifs/x", "include_snapshots": False}, "type"),
    ({"path": "/ifs/x", "type": "directory"}, "include_snapshots"),
    ({"path": "/ifs/x", "type": "directory", "include_snapshots": False, "thresholds": {"soft": 10}},
     "soft_grace"),
    ({"path": "/ifs/x", "type": "user", "include_snapshots": False}, "persona"),
    ({"path": "/ifs/x", "type": "directory", "include_snapshots": False, "persona": {"id": "UID:1"}},
     "persona"),
    ({"path": "/ifs/x", "type": "tree", "include_snapshots": False}, "type"),
    ({"path": "/data/x", "type": "directory", "include_snapshots": False}, "path"),
    ({"path": "/ifs/x", "type": "directory", "include_snapshots": "no"}, "include_snapshots"),
    ({"path": "/ifs/x", "type": "directory", "include_snapshots": False, "color": "red"}, "color"),
    ({"path": "/ifs/x", "type": "directory", "include_snapshots": False,
      "thresholds": {"hard": 10, "advisory": 20}}, "advisory"),
])
def test_bad_create_bodies_are_400_naming_the_field(mock, body, field):
    response = call(mock, "POST", QUOTAS, json=body)
    assert response.status_code == 400
    assert field in (error(response).get("field"), ) or field in error(response)["message"]


def test_put_changes_modifiable_fields_only(mock):
    ident = create(mock, "target", path="/ifs/data/x", thresholds={"hard": 100}).json()["id"]
    changed = call(mock, "PUT", QUOTAS + "/" + ident, "target",
                   json={"thresholds": {"hard": 200, "soft": 150, "soft_grace": 3600}, "description": "d"})
    assert changed.status_code == 204
    quota = call(mock, "GET", QUOTAS + "/" + ident, "target").json()["quotas"][0]
    assert (quota["thresholds"]["hard"], quota["thresholds"]["soft"], quota["thresholds"]["soft_grace"]) == \
        (200, 150, 3600)
    assert quota["description"] == "d"
    cleared = call(mock, "PUT", QUOTAS + "/" + ident, "target", json={"thresholds": {"soft": None, "advisory": None}})
    assert cleared.status_code == 204
    assert call(mock, "GET", QUOTAS + "/" + ident, "target").json()["quotas"][0]["thresholds"]["soft"] is None
    for fixed in ({"path": "/ifs/y"}, {"type": "user"}):
        response = call(mock, "PUT", QUOTAS + "/" + ident, "target", json=fixed)
        assert response.status_code == 400
    assert call(mock, "PUT", QUOTAS + "/" + ident, "target", json={}).status_code == 400


def test_list_pages_with_resume_and_has_no_total(mock):
    for index in range(5):
        assert create(mock, "target", path="/ifs/data/p%d" % index).status_code == 201
    seen, pages, resume = [], 0, None
    while pages < 10:
        params = {"resume": resume} if resume else {"limit": 2}
        body = call(mock, "GET", QUOTAS, "target", params=params).json()
        assert "total" not in body and "resume" in body
        seen.extend(q["path"] for q in body["quotas"])
        pages += 1
        resume = body["resume"]
        if resume is None:
            break
    assert pages == 3
    assert seen == ["/ifs/data/p%d" % index for index in range(5)]
    bad = call(mock, "GET", QUOTAS, "target", params={"resume": "garbage!!"})
    assert bad.status_code == 400


def test_list_filters(mock):
    def paths(**params):
        response = call(mock, "GET", QUOTAS, params=params)
        assert response.status_code == 200
        return sorted(q["path"] for q in response.json()["quotas"])

    assert paths(path="/ifs/data/eng/src") == ["/ifs/data/eng/src"]
    assert paths(path="/ifs/data/eng", recurse_path_children="true") == ["/ifs/data/eng/builds", "/ifs/data/eng/src"]
    assert paths(path="/ifs/data/eng/src/app", recurse_path_parents="true") == ["/ifs/data/eng/src"]
    assert paths(type="user") == ["/ifs/data/eng/builds"]
    assert paths(type="user", persona="UID:2001") == ["/ifs/data/eng/builds"]
    assert paths(type="user", persona="UID:9") == []
    assert paths(enforced="false") == ["/ifs/data/finance/reports"]
    assert call(mock, "GET", QUOTAS, params={"persona": "UID:2001"}).status_code == 400


def test_bulk_delete_by_path(mock):
    create(mock, "target", path="/ifs/data/a", thresholds={"hard": 1})
    create(mock, "target", path="/ifs/data/a", type="group", persona={"id": "GID:10"})
    create(mock, "target", path="/ifs/data/b")
    assert call(mock, "DELETE", QUOTAS, "target", params={"path": "/ifs/data/a"}).status_code == 204
    state = mock.control.state("target")
    assert [q["path"] for q in state["quotas"]] == ["/ifs/data/b"]


def test_read_only_user_cannot_create_or_delete(mock):
    response = call(mock, "POST", QUOTAS, auth=AUDITOR,
                    json={"path": "/ifs/data/z", "type": "directory", "include_snapshots": False})
    assert response.status_code == 403 and error(response)["code"] == "AEC_FORBIDDEN"
    ident = mock.control.state("source")["quotas"][0]["id"]
    assert call(mock, "DELETE", QUOTAS + "/" + ident, auth=AUDITOR).status_code == 403
    assert len(mock.control.state("source")["quotas"]) == 6


def test_old_api_version_one_works(mock):
    body = call(mock, "GET", "/platform/1/quota/quotas").json()
    assert len(body["quotas"]) == 6
