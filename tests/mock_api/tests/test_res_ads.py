"""ADS providers, SPNs, recommended SPNs and the domain-wide SPN registry."""

import json

import pytest
import requests

from onefs_mock.seed import load_scenario
from onefs_mock.testing import start_mock

ADMIN = ("admin", "admin")
AUDITOR = ("auditor", "auditor")
ADS = "/platform/14/auth/providers/ads"
PROVIDER = ADS + "/AD.EXAMPLE.COM"
POOLS = "/platform/16/network/groupnets/groupnet0/subnets/subnet0/pools"
CREDS = {"user": "svc-join", "password": "S3cret-Pa55"}
FIN = ["HOST/fin", "HOST/fin.prod.example.com"]

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def mock():
    server = start_mock(clusters=("source", "target"), seed="demo", tls=False)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def clean(mock):
    mock.control.reset()
    mock.control.clear_requests()


def call(mock, method, path, cluster="source", auth=ADMIN, **kwargs):
    return requests.request(method, mock.url(cluster) + path, auth=auth, timeout=10, **kwargs)


def provider(mock, cluster, check_duplicates=False):
    params = {"check_duplicates": "true"} if check_duplicates else None
    response = call(mock, "GET", PROVIDER, cluster, params=params)
    assert response.status_code == 200
    body = response.json()
    assert len(body["ads"]) == 1
    return body["ads"][0]


def set_spns(mock, cluster, spns, **extra):
    body = dict(CREDS, spns=spns, **extra)
    response = call(mock, "PUT", PROVIDER, cluster, json=body)
    assert response.status_code == 204, response.text


def spn_control(mock):
    response = requests.get(mock.url("source") + "/_mock/spn", timeout=10)
    assert response.status_code == 200
    return response.json()


def test_provider_shows_machine_account_hostname_status_and_spns(mock):
    ads = provider(mock, "source")
    assert ads["id"] == "AD.EXAMPLE.COM" and ads["name"] == "AD.EXAMPLE.COM"
    assert ads["machine_account"] == "PROD-PS$"
    assert ads["hostname"] == "prod-ps.ad.example.com"
    assert ads["status"] == "online"
    assert "HOST/fin.prod.example.com" in ads["spns"]
    assert ads["dup_spns"] == []


def test_recommended_spns_follow_smartconnect_names_and_the_machine_account(mock):
    recommended = provider(mock, "source")["recommended_spns"]
    for spn in ("HOST/prod-ps", "HOST/prod-ps.ad.example.com", "HOST/finance", "HOST/finance.prod.example.com",
                "HOST/fin", "HOST/fin.prod.example.com", "HOST/build", "HOST/build.prod.example.com"):
        assert spn in recommended
    target = provider(mock, "target")["recommended_spns"]
    assert "HOST/fin.prod.example.com" not in target
    # The target's pool takes the alias: its recommendation follows at once.
    assert call(mock, "PUT", POOLS + "/finance", "target",
                json={"sc_dns_zone_aliases": ["fin.prod.example.com"]}).status_code == 204
    target = provider(mock, "target")["recommended_spns"]
    assert "HOST/fin" in target and "HOST/fin.prod.example.com" in target
    missing = set(target) - set(provider(mock, "target")["spns"])
    assert missing == {"HOST/fin", "HOST/fin.prod.example.com"}


def test_changing_spns_needs_ad_credentials_naming_them(mock):
    response = call(mock, "PUT", PROVIDER, json={"spns": ["HOST/prod-ps"]})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert "user" in error["message"] and "password" in error["message"]
    only_user = call(mock, "PUT", PROVIDER, json={"spns": ["HOST/prod-ps"], "user": "svc-join"})
    assert only_user.status_code == 400 and "password" in only_user.json()["errors"][0]["message"]
    assert len(provider(mock, "source")["spns"]) == 13          # nothing changed


def test_same_spns_in_another_order_need_no_credentials(mock):
    spns = list(reversed(provider(mock, "source")["spns"]))
    response = call(mock, "PUT", PROVIDER, json={"spns": spns})
    assert response.status_code == 204


def test_spn_put_replaces_the_list_and_the_password_is_never_kept(mock):
    set_spns(mock, "source", ["HOST/prod-ps", "HOST/prod-ps.ad.example.com"], extra_expected_spns=["nfs/x"])
    ads = provider(mock, "source")
    assert ads["spns"] == ["HOST/prod-ps", "HOST/prod-ps.ad.example.com"]
    assert ads["extra_expected_spns"] == ["nfs/x"]
    assert "password" not in ads and "user" not in ads
    dump = json.dumps(mock.control.state_all())
    assert CREDS["password"] not in dump
    log = mock.control.requests(cluster="source")
    puts = [entry for entry in log if entry["method"] == "PUT" and entry["path"] == PROVIDER]
    assert len(puts) == 1 and puts[0]["body"]["password"] == "********"
    assert CREDS["password"] not in json.dumps(log)


def test_spn_added_on_target_before_removed_from_source_is_a_recorded_collision(mock):
    set_spns(mock, "target", provider(mock, "target")["spns"] + FIN)          # wrong order
    state = spn_control(mock)
    assert state["registry"]["HOST/fin.prod.example.com"] == ["DR-PS$", "PROD-PS$"]
    assert {c["spn"] for c in state["collisions"]} == set(FIN)
    assert provider(mock, "source", check_duplicates=True)["dup_spns"] == FIN
    assert provider(mock, "target", check_duplicates=True)["dup_spns"] == FIN
    assert provider(mock, "target")["dup_spns"] == []                         # only when asked
    source_spns = [s for s in provider(mock, "source")["spns"] if s not in FIN]
    set_spns(mock, "source", source_spns)
    state = spn_control(mock)
    assert state["collisions"] == []
    assert state["registry"]["HOST/fin.prod.example.com"] == ["DR-PS$"]
    assert {(h["spn"], tuple(h["accounts"])) for h in state["history"]} == \
        {(spn, ("DR-PS$", "PROD-PS$")) for spn in FIN}
    assert all(isinstance(h["at"], float) for h in state["history"])


def test_spns_moved_in_the_right_order_leave_no_collision_history(mock):
    source_spns = [s for s in provider(mock, "source")["spns"] if s not in FIN]
    set_spns(mock, "source", source_spns)
    set_spns(mock, "target", provider(mock, "target")["spns"] + FIN)
    state = spn_control(mock)
    assert state["collisions"] == [] and state["history"] == []
    assert state["registry"]["HOST/fin"] == ["DR-PS$"]


def test_spns_compare_case_insensitively_in_the_registry(mock):
    set_spns(mock, "target", provider(mock, "target")["spns"] + ["host/FIN.prod.example.com"])
    assert [c["accounts"] for c in spn_control(mock)["collisions"]] == [["DR-PS$", "PROD-PS$"]]


def test_machine_account_cannot_change_and_bad_spns_are_refused(mock):
    response = call(mock, "PUT", PROVIDER, json={"machine_account": "OTHER"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "machine_account"
    bad = call(mock, "PUT", PROVIDER, json=dict(CREDS, spns=["no-slash"]))
    assert bad.status_code == 400
    unknown = call(mock, "PUT", PROVIDER, json={"no_such_field": True})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "no_such_field"


def test_read_only_user_cannot_change_spns(mock):
    response = call(mock, "PUT", PROVIDER, auth=AUDITOR, json=dict(CREDS, spns=["HOST/x"]))
    assert response.status_code == 403 and response.json()["errors"][0]["code"] == "AEC_FORBIDDEN"
    assert call(mock, "GET", PROVIDER, auth=AUDITOR).status_code == 200


def test_join_leave_and_duplicate_join(mock):
    assert call(mock, "DELETE", PROVIDER, "target").status_code == 204
    assert call(mock, "GET", PROVIDER, "target").status_code == 404
    assert "HOST/dr-ps" not in spn_control(mock)["registry"]
    missing = call(mock, "POST", ADS, "target", json={"name": "ad.example.com", "user": "svc-join"})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "password"
    joined = call(mock, "POST", ADS, "target", json=dict(CREDS, name="ad.example.com", machine_account="dr-ps"))
    assert joined.status_code == 201 and joined.json() == {"id": "AD.EXAMPLE.COM"}
    ads = provider(mock, "target")
    assert ads["machine_account"] == "DR-PS$"
    assert ads["spns"] == ["HOST/dr-ps", "HOST/dr-ps.ad.example.com"]
    again = call(mock, "POST", ADS, "target", json=dict(CREDS, name="AD.EXAMPLE.COM"))
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "AEC_EXISTS"
    listed = call(mock, "GET", ADS, "target").json()
    assert list(listed) == ["ads"] and [a["id"] for a in listed["ads"]] == ["AD.EXAMPLE.COM"]


def test_unknown_provider_is_404(mock):
    response = call(mock, "GET", ADS + "/OTHER.EXAMPLE.COM")
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "AEC_NOT_FOUND"


def test_a_domain_with_unique_spns_refuses_a_duplicate_and_records_the_attempt(mock):
    scenario = {"domains": [{"name": "AD.EXAMPLE.COM", "unique_spns": True}],
                "clusters": {"source": {"ads": [{"name": "AD.EXAMPLE.COM", "machine_account": "PROD-PS",
                                                 "spns": ["HOST/prod-ps", "HOST/fin.prod.example.com"]}]},
                             "target": {"ads": [{"name": "AD.EXAMPLE.COM", "machine_account": "DR-PS"}]}}}
    try:
        mock.control.seed(scenario)
        spns = provider(mock, "target")["spns"] + ["HOST/fin.prod.example.com"]
        refused = call(mock, "PUT", PROVIDER, "target", json=dict(CREDS, spns=spns))
        assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "AEC_CONFLICT"
        assert "HOST/fin.prod.example.com" not in provider(mock, "target")["spns"]
        state = spn_control(mock)
        assert state["collisions"] == [] and state["history"] == []
        assert [(r["spn"], r["account"], r["holders"]) for r in state["refused"]] == [
            ("HOST/fin.prod.example.com", "DR-PS$", ["PROD-PS$"])]
        set_spns(mock, "source", ["HOST/prod-ps"])                  # the right order works
        set_spns(mock, "target", spns)
        assert spn_control(mock)["registry"]["HOST/fin.prod.example.com"] == ["DR-PS$"]
    finally:
        mock.control.seed(load_scenario("demo"))
