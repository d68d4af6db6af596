"""The namespace (RAN) subset: files, directories, listing, delete, locks, read-only domains."""

import pytest
import requests

pytestmark = pytest.mark.timeout(60)

CONTAINER = {"x-isi-ifs-target-type": "container"}


def test_put_creates_parents_and_get_returns_bytes(api, control):
    assert api.write("source", "/ifs/data/a/b/c.bin", b"\x00\x01payload").status_code == 200
    assert api.read("source", "/ifs/data/a/b/c.bin").content == b"\x00\x01payload"
    files = control.state("source")["files"]
    assert files["/ifs/data/a/b"] == {"type": "container"}
    assert files["/ifs/data/a/b/c.bin"]["size"] == 9


def test_directory_listing(api):
    api.write("source", "/ifs/data/d/one.txt", b"1")
    api.write("source", "/ifs/data/d/two.txt", b"22")
    assert api.put("source", "/namespace/ifs/data/d/sub", headers=CONTAINER).status_code == 200
    listing = api.read("source", "/ifs/data/d").json()["children"]
    assert [(c["name"], c["type"], c["size"]) for c in listing] == [
        ("one.txt", "object", 1), ("sub", "container", 0), ("two.txt", "object", 2)]
    root = api.get("source", "/namespace/ifs").json()["children"]
    assert "data" in [c["name"] for c in root]


def test_missing_paths_are_404(api):
    assert api.read("source", "/ifs/nope").status_code == 404
    assert api.delete("source", "/namespace/ifs/nope").status_code == 404
    assert api.call("HEAD", "source", "/namespace/ifs/nope").status_code == 404


def test_head_reports_type_and_size(api):
    api.write("source", "/ifs/data/h.txt", b"abc")
    response = api.call("HEAD", "source", "/namespace/ifs/data/h.txt")
    assert response.status_code == 200
    assert response.headers["x-isi-ifs-target-type"] == "object" and response.content == b""


def test_overwrite_false_is_a_lock(api):
    first = api.put("source", "/namespace/ifs/locks/dr.lock", data=b"owner-1", params={"overwrite": "false"})
    assert first.status_code == 200
    second = api.put("source", "/namespace/ifs/locks/dr.lock", data=b"owner-2", params={"overwrite": "false"})
    assert second.status_code == 409
    assert api.read("source", "/ifs/locks/dr.lock").content == b"owner-1"
    assert api.put("source", "/namespace/ifs/locks/dr.lock", data=b"owner-2").status_code == 200
    assert api.read("source", "/ifs/locks/dr.lock").content == b"owner-2"


def test_delete_file_and_directories(api, control):
    api.write("source", "/ifs/data/del/x.txt", b"x")
    assert api.delete("source", "/namespace/ifs/data/del").status_code == 409      # not empty
    assert api.delete("source", "/namespace/ifs/data/del", params={"recursive": "true"}).status_code == 204
    assert not any(p.startswith("/ifs/data/del") for p in control.state("source")["files"])
    assert api.delete("source", "/namespace/ifs").status_code in (403, 405)


def test_file_and_directory_clashes(api):
    api.write("source", "/ifs/data/f", b"file")
    assert api.write("source", "/ifs/data/f/child", b"x").status_code == 409
    api.put("source", "/namespace/ifs/data/dir", headers=CONTAINER)
    assert api.write("source", "/ifs/data/dir", b"x").status_code == 409


def test_percent_encoded_names_stay_in_one_segment(api):
    assert api.put("source", "/namespace/ifs/data/with%20space.txt", data=b"s").status_code == 200
    names = [c["name"] for c in api.read("source", "/ifs/data").json()["children"]]
    assert "with space.txt" in names


def test_dot_dot_is_refused(api):
    response = requests.Request("GET", api.url("source", "/namespace/ifs/data/%2E%2E/%2E%2E/etc"))
    prepared = api.http.prepare_request(response)
    assert api.http.send(prepared, timeout=10).status_code == 400


def test_auditor_can_read_but_not_write(mock, api):
    api.write("source", "/ifs/data/r.txt", b"r")
    auditor = ("auditor", "auditor")
    assert requests.get(mock.url("source") + "/namespace/ifs/data/r.txt", auth=auditor, timeout=10).content == b"r"
    assert requests.delete(mock.url("source") + "/namespace/ifs/data/r.txt", auth=auditor, timeout=10).status_code == 403


def test_seeded_files(api, control):
    control.seed({"clusters": {"source": {"files": {"/ifs/data/app/readme.txt": "hello", "/ifs/data/empty/": None}}}})
    assert api.read("source", "/ifs/data/app/readme.txt").text == "hello"
    assert api.read("source", "/ifs/data/empty").json() == {"children": []}
