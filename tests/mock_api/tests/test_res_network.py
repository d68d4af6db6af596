"""Network groupnets, subnets and SmartConnect pools of the simulator."""

import pytest
import requests

from onefs_mock.testing import start_mock

ADMIN = ("admin", "admin")
AUDITOR = ("auditor", "auditor")
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


def call(mock, method, path, cluster="source", auth=ADMIN, **kwargs):
    return requests.request(method, mock.url(cluster) + path, auth=auth, timeout=10, **kwargs)


def error_code(response):
    return response.json()["errors"][0]["code"]


def test_cluster_wide_pool_list_has_every_pool_with_the_sdk_fields(mock):
    response = call(mock, "GET", "/platform/16/network/pools")
    assert response.status_code == 200
    body = response.json()
    assert [p["id"] for p in body["pools"]] == ["groupnet0.subnet0.pool0", "groupnet0.subnet0.finance",
                                                "groupnet0.subnet0.eng"]
    assert body["total"] == 3 and body["resume"] is None
    finance = body["pools"][1]
    assert finance["sc_dns_zone"] == "finance.prod.example.com"
    assert finance["sc_dns_zone_aliases"] == ["fin.prod.example.com"]
    assert finance["access_zone"] == "finance"
    assert finance["ranges"] == [{"low": "10.10.0.31", "high": "10.10.0.39"}]
    for field in ("sc_connect_policy", "sc_failover_policy", "sc_subnet", "sc_ttl", "alloc_method",
                  "aggregation_mode", "rebalance_policy", "ifaces", "static_routes", "rules"):
        assert field in finance


def test_pool_list_filters_by_access_zone(mock):
    body = call(mock, "GET", "/platform/16/network/pools", params={"access_zone": "eng"}).json()
    assert [p["name"] for p in body["pools"]] == ["eng"]


def test_single_pool_is_a_one_element_list_and_unknown_pool_is_404(mock):
    body = call(mock, "GET", POOLS + "/finance").json()
    assert len(body["pools"]) == 1 and body["pools"][0]["id"] == "groupnet0.subnet0.finance"
    missing = call(mock, "GET", POOLS + "/nope")
    assert missing.status_code == 404 and error_code(missing) == "AEC_NOT_FOUND"


def test_aliases_are_replaced_as_a_whole_on_put(mock):
    response = call(mock, "PUT", POOLS + "/eng", json={"sc_dns_zone_aliases": ["build.prod.example.com"]})
    assert response.status_code == 204
    pool = call(mock, "GET", POOLS + "/eng").json()["pools"][0]
    assert pool["sc_dns_zone_aliases"] == ["build.prod.example.com"]
    assert pool["sc_dns_zone"] == "eng.prod.example.com"      # untouched by a partial PUT
    state = mock.control.state("source")
    assert [p["sc_dns_zone_aliases"] for p in state["pools"] if p["name"] == "eng"] == [["build.prod.example.com"]]


def test_renaming_a_pool_changes_its_id_and_url(mock):
    assert call(mock, "PUT", POOLS + "/finance", json={"name": "fin2"}).status_code == 204
    assert call(mock, "GET", POOLS + "/finance").status_code == 404
    pool = call(mock, "GET", POOLS + "/fin2").json()["pools"][0]
    assert pool["id"] == "groupnet0.subnet0.fin2" and pool["sc_dns_zone"] == "finance.prod.example.com"


def test_rename_onto_an_existing_pool_is_409(mock):
    response = call(mock, "PUT", POOLS + "/finance", json={"name": "eng"})
    assert response.status_code == 409 and error_code(response) == "AEC_EXISTS"


def test_create_pool_then_duplicate_is_409(mock):
    body = {"name": "extra", "access_zone": "finance", "sc_dns_zone": "extra.prod.example.com"}
    created = call(mock, "POST", POOLS, json=body)
    assert created.status_code == 201 and created.json() == {"id": "groupnet0.subnet0.extra"}
    again = call(mock, "POST", POOLS, json=body)
    assert again.status_code == 409 and error_code(again) == "AEC_EXISTS"


@pytest.mark.parametrize("body,field", [
    ({"access_zone": "System"}, "name"),
    ({"name": "p9", "bogus": 1}, "bogus"),
    ({"name": "p9", "sc_dns_zone_aliases": "not-a-list"}, "sc_dns_zone_aliases"),
    ({"name": "p9", "sc_connect_policy": "random"}, "sc_connect_policy"),
    ({"name": "p9", "access_zone": "nowhere"}, "access_zone"),
    ({"name": "bad.name"}, "name"),
])
def test_bad_pool_bodies_are_400_naming_the_field(mock, body, field):
    response = call(mock, "POST", POOLS, json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0].get("field") == field


def test_read_only_user_cannot_change_a_pool(mock):
    response = call(mock, "PUT", POOLS + "/finance", auth=AUDITOR, json={"sc_dns_zone": "x.example.com"})
    assert response.status_code == 403 and error_code(response) == "AEC_FORBIDDEN"
    assert call(mock, "GET", POOLS + "/finance", auth=AUDITOR).json()["pools"][0]["sc_dns_zone"] == \
        "finance.prod.example.com"


def test_older_versions_and_trailing_slash_are_accepted(mock):
    assert call(mock, "GET", "/platform/3/network/groupnets/groupnet0/subnets/subnet0/pools/").status_code == 200
    assert call(mock, "GET", "/platform/17/network/pools").status_code == 404   # 9.5 answers up to 16
    assert call(mock, "GET", "/platform/2/network/pools").status_code == 404    # the tree exists since 3
    assert call(mock, "GET", "/platform/16/network/pools/").status_code == 200


def test_subnets_and_groupnets(mock):
    subnets = call(mock, "GET", "/platform/16/network/subnets", params={"groupnet": "groupnet0"}).json()
    assert [s["id"] for s in subnets["subnets"]] == ["groupnet0.subnet0"]
    assert subnets["subnets"][0]["pools"] == ["pool0", "finance", "eng"]
    assert subnets["subnets"][0]["sc_service_addrs"] == [{"low": "10.10.0.9", "high": "10.10.0.9"}]
    groupnet = call(mock, "GET", "/platform/10/network/groupnets/groupnet0").json()["groupnets"][0]
    assert groupnet["subnets"] == ["subnet0"] and groupnet["dns_servers"] == ["10.10.0.2"]
    created = call(mock, "POST", "/platform/10/network/groupnets", json={"name": "groupnet1"})
    assert created.status_code == 201
    subnet = call(mock, "POST", "/platform/16/network/groupnets/groupnet1/subnets",
                  json={"name": "s1", "prefixlen": 24, "addr_family": "ipv4"})
    assert subnet.status_code == 201
    busy = call(mock, "DELETE", "/platform/10/network/groupnets/groupnet1")
    assert busy.status_code == 409
    assert call(mock, "DELETE", "/platform/16/network/groupnets/groupnet1/subnets/s1").status_code == 204
    assert call(mock, "DELETE", "/platform/10/network/groupnets/groupnet1").status_code == 204
    assert call(mock, "GET", "/platform/10/network/groupnets/groupnet1").status_code == 404


def test_rebalance_ips_answers_an_empty_object(mock):
    response = call(mock, "POST", "/platform/3/network/groupnets/groupnet0/subnets/subnet0/pools/finance/rebalance-ips",
                    json={})
    assert response.status_code == 200 and response.json() == {}
    missing = call(mock, "POST", "/platform/3/network/groupnets/groupnet0/subnets/subnet0/pools/x/rebalance-ips",
                   json={})
    assert missing.status_code == 404


def test_pool_list_pages_with_resume(mock):
    first = call(mock, "GET", "/platform/16/network/pools", params={"limit": 2}).json()
    assert len(first["pools"]) == 2 and first["resume"] and first["total"] == 3
    second = call(mock, "GET", "/platform/16/network/pools", params={"resume": first["resume"]}).json()
    assert [p["name"] for p in second["pools"]] == ["eng"] and second["resume"] is None
    mixed = call(mock, "GET", "/platform/16/network/pools", params={"resume": first["resume"], "limit": 1})
    assert mixed.status_code == 400
