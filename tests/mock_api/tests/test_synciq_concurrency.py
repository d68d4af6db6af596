"""Concurrent writers against when-source-modified policies: no lost updates, no stuck jobs."""

import threading

import pytest
import requests

pytestmark = pytest.mark.timeout(120)


def test_concurrent_writes_converge_on_the_target(mock, api, control):
    for index in range(3):
        api.write("source", "/ifs/data/c%d/seed.txt" % index, b"seed")
        api.create_policy("source", "c%d" % index, "/ifs/data/c%d" % index, "/ifs/dr/c%d" % index,
                          schedule="when-source-modified", job_delay=1)
    errors = []

    def writer(worker):
        http = requests.Session()
        http.auth = ("admin", "admin")
        for step in range(40):
            url = mock.url("source") + "/namespace/ifs/data/c%d/w%d/f%d.txt" % (worker % 3, worker, step % 7)
            response = http.put(url, data=("%d-%d" % (worker, step)).encode(), timeout=10)
            if response.status_code != 200:
                errors.append(response.text)
        http.close()

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    control.wait_idle(30)
    files = {name: state["files"] for name, state in control.state_all()["clusters"].items()}
    for index in range(3):
        source = {p[len("/ifs/data/c%d" % index):]: v for p, v in files["source"].items()
                  if p.startswith("/ifs/data/c%d/" % index)}
        target = {p[len("/ifs/dr/c%d" % index):]: v for p, v in files["target"].items()
                  if p.startswith("/ifs/dr/c%d/" % index)}
        assert source and source == target
    policies = control.state("source")["policies"]
    assert {p["last_job_state"] for p in policies} == {"finished"}
    assert control.state("source")["jobs"] == []
