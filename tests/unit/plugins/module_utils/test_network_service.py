"""network.py service functions against the in-process mock (demo scenario)."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import network as net
from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

FINANCE = "groupnet0.subnet0.finance"
WRITES = ("POST", "PUT", "DELETE")


@pytest.fixture
def ctl(demo):
    demo.control.reset()
    demo.control.clear_requests()
    return demo.control


@pytest.fixture
def source(demo, ctl):
    client = PapiClient(hosts=[demo.url("source")], username="admin", password="admin", name="source",
                        retry_budget=5, backoff_base=0.01, backoff_cap=0.05)
    yield client
    client.close()


def writes(ctl, cluster="source"):
    return [r for r in ctl.requests(cluster=cluster)
            if r["method"] in WRITES and not r["path"].startswith(("/session", "/_mock"))]


def pool_of(ctl, pool_id, cluster="source"):
    return next(p for p in ctl.state(cluster)["pools"] if p["id"] == pool_id)


def test_park_renames_zone_and_aliases_and_releases_dns(ctl, source):
    result = net.ensure_pool(source, {"pool": FINANCE, "state": "parked", "park_prefix": "parked-"})
    pool = pool_of(ctl, FINANCE)
    assert pool["sc_dns_zone"] == "parked-finance.prod.example.com"
    assert pool["sc_dns_zone_aliases"] == ["parked-fin.prod.example.com"]
    assert result["released"] == ["finance.prod.example.com", "fin.prod.example.com"]
    assert "source" not in ctl.dns("finance.prod.example.com")["claims"]
    assert len(writes(ctl)) == 1


def test_park_twice_writes_once_and_never_double_prefixes(ctl, source):
    net.ensure_pool(source, {"pool": FINANCE, "state": "parked"})
    second = net.ensure_pool(source, {"pool": FINANCE, "state": "parked"})
    assert second["changed"] is False and second["actions"] == []
    assert pool_of(ctl, FINANCE)["sc_dns_zone"] == "parked-finance.prod.example.com"
    assert len(writes(ctl)) == 1


def test_unpark_restores_the_names(ctl, source):
    net.ensure_pool(source, {"pool": FINANCE, "state": "parked", "park_prefix": "igls-"})
    result = net.ensure_pool(source, {"pool": FINANCE, "state": "unparked", "park_prefix": "igls-"})
    pool = pool_of(ctl, FINANCE)
    assert (pool["sc_dns_zone"], pool["sc_dns_zone_aliases"]) == ("finance.prod.example.com", ["fin.prod.example.com"])
    assert result["claimed"] == ["finance.prod.example.com", "fin.prod.example.com"]
    assert "source" in ctl.dns("finance.prod.example.com")["claims"]


def test_check_mode_plans_without_writing(ctl, source):
    result = net.ensure_pool(source, {"pool": "groupnet0.subnet0.eng", "aliases": ["build.prod.example.com"],
                                      "aliases_state": "absent"}, check_mode=True)
    assert result["changed"] is True
    assert result["actions"] == ["remove alias build.prod.example.com"]
    assert result["after"]["aliases"] == ["engineering.prod.example.com"]
    assert writes(ctl) == []
    assert pool_of(ctl, "groupnet0.subnet0.eng")["sc_dns_zone_aliases"] == [
        "engineering.prod.example.com", "build.prod.example.com"]


def test_aliases_absent_really_removes_them(ctl, source):
    net.ensure_pool(source, {"pool": "groupnet0.subnet0.eng", "aliases": ["BUILD.prod.example.com."],
                             "aliases_state": "absent"})
    assert pool_of(ctl, "groupnet0.subnet0.eng")["sc_dns_zone_aliases"] == ["engineering.prod.example.com"]
    put = writes(ctl)[0]
    assert put["method"] == "PUT" and put["body"] == {"sc_dns_zone_aliases": ["engineering.prod.example.com"]}


def test_exact_empty_list_removes_every_alias(ctl, source):
    result = net.ensure_pool(source, {"pool": "groupnet0.subnet0.eng", "aliases": [], "aliases_state": "exact"})
    assert pool_of(ctl, "groupnet0.subnet0.eng")["sc_dns_zone_aliases"] == []
    assert result["released"] == ["engineering.prod.example.com", "build.prod.example.com"]


def test_target_claims_the_source_names(demo, ctl):
    target = PapiClient(hosts=[demo.url("target")], username="admin", password="admin", name="target")
    try:
        result = net.ensure_pool(target, {"pool": FINANCE, "sc_dns_zone": "finance.prod.example.com",
                                          "aliases": ["fin.prod.example.com"], "aliases_state": "exact"})
    finally:
        target.close()
    assert result["claimed"] == ["finance.prod.example.com", "fin.prod.example.com"]
    assert "target" in ctl.dns("fin.prod.example.com")["claims"]


def test_missing_pool_is_a_clear_error(ctl, source):
    with pytest.raises(LookupError, match="groupnet0.subnet0.nope does not exist"):
        net.ensure_pool(source, {"pool": "groupnet0.subnet0.nope", "state": "parked"})
    assert writes(ctl) == []


def test_lost_put_answer_is_retried_and_converges(ctl, source):
    # The PUT takes effect but its answer is lost: the client sends it again (PUT is idempotent).
    ctl.fail_next("source", path=r"/network/groupnets/.*/pools/finance$", method="PUT", count=1, status=503,
                  after=True)
    result = net.ensure_pool(source, {"pool": FINANCE, "state": "parked"})
    assert result["after"]["sc_dns_zone"] == "parked-finance.prod.example.com"
    assert pool_of(ctl, FINANCE)["sc_dns_zone"] == "parked-finance.prod.example.com"


def test_list_pools_and_summary(source):
    pools = net.list_pools(source)
    ids = [p["id"] for p in pools]
    assert FINANCE in ids and "groupnet0.subnet0.pool0" in ids
    summary = net.pool_summary(next(p for p in pools if p["id"] == FINANCE))
    assert summary["names"] == ["finance.prod.example.com", "fin.prod.example.com"]
    assert [p["id"] for p in net.list_pools(source, access_zone="eng")] == ["groupnet0.subnet0.eng"]


def test_claiming_a_name_the_peer_answers_for_is_refused_before_any_write(demo, ctl, source):
    target = PapiClient(hosts=[demo.url("target")], username="admin", password="admin", name="target")
    wanted = {"pool": FINANCE, "sc_dns_zone": "finance.prod.example.com", "aliases": ["fin.prod.example.com"]}
    try:
        with pytest.raises(net.NameCollision, match="finance.prod.example.com \\(peer pool groupnet0.subnet0.finance\\)"):
            net.ensure_pool(target, wanted, peer_names=net.names_by_pool(net.list_pools(source)))
        assert writes(ctl, "target") == []
        # park on the source first: then the target may claim the names
        net.ensure_pool(source, {"pool": FINANCE, "state": "parked"})
        result = net.ensure_pool(target, wanted, peer_names=net.names_by_pool(net.list_pools(source)))
    finally:
        target.close()
    assert result["collisions"] == [] and result["claimed"] == ["finance.prod.example.com", "fin.prod.example.com"]
    assert ctl.dns("finance.prod.example.com")["claims"] == ["target"]
