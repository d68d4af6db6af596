"""Simulated DNS: which cluster claims a SmartConnect name, split brain and its history."""

import pytest
import requests

from onefs_mock.testing import start_mock

ADMIN = ("admin", "admin")
POOLS = "/platform/16/network/groupnets/groupnet0/subnets/subnet0/pools"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def mock():
    server = start_mock(clusters=("source", "target"), seed="demo", tls=False)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def clean(mock):
    mock.control.reset()


def put_pool(mock, cluster, pool, body):
    response = requests.put(mock.url(cluster) + POOLS + "/" + pool, json=body, auth=ADMIN, timeout=10)
    assert response.status_code == 204, response.text


def dns(mock, **params):
    response = requests.get(mock.url("source") + "/_mock/dns", params=params, timeout=10)
    assert response.status_code == 200
    return response.json()


def history(mock, **params):
    response = requests.get(mock.url("target") + "/_mock/dns/history", params=params, timeout=10)
    assert response.status_code == 200
    return response.json()


def test_seeded_names_are_claimed_by_the_source_only(mock):
    assert dns(mock, name="finance.prod.example.com") == {
        "name": "finance.prod.example.com", "claims": ["source"], "split_brain": False}
    assert dns(mock, name="fin.prod.example.com")["claims"] == ["source"]
    assert dns(mock, name="dr-ps.example.com")["claims"] == ["target"]
    assert dns(mock, name="unknown.example.com")["claims"] == []


def test_names_match_case_insensitively_and_without_trailing_dot(mock):
    answer = dns(mock, name="FIN.Prod.Example.COM.")
    assert answer["name"] == "fin.prod.example.com" and answer["claims"] == ["source"]


def test_without_a_name_every_claimed_name_is_listed(mock):
    body = dns(mock)
    names = {item["name"]: item["claims"] for item in body["names"]}
    assert names["eng.prod.example.com"] == ["source"]
    assert names["build.prod.example.com"] == ["source"]
    assert names["prod-ps.example.com"] == ["source"]
    assert body["split_brain"] == []


def test_adding_the_name_on_the_target_first_is_a_split_brain_kept_in_history(mock):
    # Wrong order: the target takes the zone name while the source still has it.
    put_pool(mock, "target", "finance", {"sc_dns_zone": "finance.prod.example.com",
                                         "sc_dns_zone_aliases": ["fin.prod.example.com"]})
    now = dns(mock, name="finance.prod.example.com")
    assert now["claims"] == ["source", "target"] and now["split_brain"] is True
    assert "fin.prod.example.com" in dns(mock)["split_brain"]
    put_pool(mock, "source", "finance", {"sc_dns_zone": "", "sc_dns_zone_aliases": []})
    assert dns(mock, name="finance.prod.example.com")["claims"] == ["target"]
    assert dns(mock)["split_brain"] == []
    past = history(mock)
    assert past["ever_split_brain"] is True
    assert past["split_brain_names"] == ["fin.prod.example.com", "finance.prod.example.com"]
    entries = history(mock, name="finance.prod.example.com")["history"]
    assert [entry["claims"] for entry in entries] == [["source"], ["source", "target"], ["target"]]
    assert all(isinstance(entry["at"], float) for entry in entries)
    assert entries[0]["at"] <= entries[1]["at"] <= entries[2]["at"]


def test_moving_names_in_the_right_order_never_splits(mock):
    put_pool(mock, "source", "finance", {"sc_dns_zone": "", "sc_dns_zone_aliases": []})
    put_pool(mock, "target", "finance", {"sc_dns_zone": "finance.prod.example.com",
                                         "sc_dns_zone_aliases": ["fin.prod.example.com"]})
    assert dns(mock, name="fin.prod.example.com")["claims"] == ["target"]
    assert history(mock)["ever_split_brain"] is False


def test_an_alias_on_one_cluster_and_zone_name_on_the_other_also_collide(mock):
    put_pool(mock, "target", "eng", {"sc_dns_zone": "eng-dr.example.com",
                                     "sc_dns_zone_aliases": ["eng.prod.example.com"]})
    assert dns(mock, name="eng.prod.example.com")["split_brain"] is True


def test_deleting_a_pool_releases_its_names_and_reset_clears_history(mock):
    put_pool(mock, "target", "eng", {"sc_dns_zone": "eng.prod.example.com"})
    response = requests.delete(mock.url("source") + POOLS + "/eng", auth=ADMIN, timeout=10)
    assert response.status_code == 204
    assert dns(mock, name="eng.prod.example.com")["claims"] == ["target"]
    assert dns(mock, name="build.prod.example.com")["claims"] == []
    assert history(mock)["ever_split_brain"] is True
    mock.control.reset()
    assert history(mock)["ever_split_brain"] is False
    assert dns(mock, name="eng.prod.example.com")["claims"] == ["source"]


def test_state_dump_of_every_cluster_carries_the_dns_claims(mock):
    dump = mock.control.state_all()
    assert dump["dns"]["claims"]["finance.prod.example.com"] == ["source"]
