"""quota.py service functions against the in-process mock (demo scenario quotas on the source)."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import quota as qu
from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient

WRITES = ("POST", "PUT", "DELETE")
GIB = 1024 ** 3


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


def quotas_at(ctl, path, cluster="source"):
    return [q for q in ctl.state(cluster)["quotas"] if q["path"] == path]


def spec(index=0, **entry):
    return qu.normalize_spec(entry, index)


def test_create_then_second_run_never_duplicates(ctl, source):
    wanted = spec(path="/ifs/data/finance/new", hard="1TB", soft="800GB", soft_grace="7d")
    first = qu.ensure_quota(source, wanted)
    second = qu.ensure_quota(source, wanted)
    assert first["changed"] is True and first["actions"] == ["create quota"]
    assert second["changed"] is False and second["id"] == first["id"]
    found = quotas_at(ctl, "/ifs/data/finance/new")
    assert len(found) == 1
    assert (found[0]["thresholds"]["hard"], found[0]["thresholds"]["soft"]) == (10 ** 12, 800 * 10 ** 9)
    assert found[0]["thresholds"]["soft_grace"] == 604800
    assert [w["method"] for w in writes(ctl)] == ["POST"]


def test_modify_in_place_keeps_the_id(ctl, source):
    before = quotas_at(ctl, "/ifs/data/finance/ap")[0]
    result = qu.ensure_quota(source, spec(path="/ifs/data/finance/ap/", hard="20GiB"))
    after = quotas_at(ctl, "/ifs/data/finance/ap")
    assert len(after) == 1 and after[0]["id"] == before["id"]
    assert after[0]["thresholds"]["hard"] == 20 * GIB
    assert after[0]["container"] is True          # not given: left alone
    assert result["actions"] == ["set hard %d -> %d" % (10 * GIB, 20 * GIB)]
    assert [w["method"] for w in writes(ctl)] == ["PUT"]


def test_clearing_a_threshold_with_none(ctl, source):
    qu.ensure_quota(source, spec(path="/ifs/data/finance/ar", advisory="none"))
    assert quotas_at(ctl, "/ifs/data/finance/ar")[0]["thresholds"]["advisory"] is None


def test_user_quota_found_by_name_or_uid(ctl, source):
    by_name = qu.ensure_quota(source, spec(path="/ifs/data/eng/builds", type="user", persona="USER:builder",
                                           hard="100GiB"))
    by_uid = qu.ensure_quota(source, spec(path="/ifs/data/eng/builds", type="user", persona="UID:2001",
                                          hard="100GiB"))
    assert by_name["changed"] is False and by_uid["changed"] is False
    other = qu.ensure_quota(source, spec(path="/ifs/data/eng/builds", type="user", persona="UID:2002",
                                         hard="1GiB"))
    assert other["changed"] is True
    assert len(quotas_at(ctl, "/ifs/data/eng/builds")) == 2


def test_include_snapshots_is_part_of_the_key(ctl, source):
    qu.ensure_quota(source, spec(path="/ifs/data/finance/ap", include_snapshots=True, hard="10GiB"))
    assert sorted(q["include_snapshots"] for q in quotas_at(ctl, "/ifs/data/finance/ap")) == [False, True]


def test_check_mode_writes_nothing(ctl, source):
    created = qu.ensure_quota(source, spec(path="/ifs/data/x", hard="1GiB"), check_mode=True)
    modified = qu.ensure_quota(source, spec(path="/ifs/data/finance/ap", hard="1GiB"), check_mode=True)
    deleted = qu.ensure_quota(source, spec(path="/ifs/data/eng/src", state="absent"), check_mode=True)
    assert [created["changed"], modified["changed"], deleted["changed"]] == [True, True, True]
    assert modified["after"]["hard"] == GIB
    assert writes(ctl) == []


def test_absent_deletes_and_second_run_is_quiet(ctl, source):
    first = qu.ensure_quota(source, spec(path="/ifs/data/eng/src", state="absent"))
    second = qu.ensure_quota(source, spec(path="/ifs/data/eng/src", state="absent"))
    assert first["changed"] is True and second["changed"] is False
    assert quotas_at(ctl, "/ifs/data/eng/src") == []


@pytest.mark.timeout(60)
def test_lost_create_answer_is_verified_not_duplicated(ctl, source):
    # The POST takes effect but its answer is lost: verify() finds the quota instead of creating a second one.
    ctl.fail_next("source", path=r"/quota/quotas$", method="POST", count=1, status=503, after=True)
    result = qu.ensure_quota(source, spec(path="/ifs/data/lost", hard="5GiB"))
    found = quotas_at(ctl, "/ifs/data/lost")
    assert len(found) == 1 and result["id"] == found[0]["id"]
    assert [w["method"] for w in writes(ctl)] == ["POST"]


def test_purge_under_removes_only_unlisted_quotas_below_the_path(ctl, source):
    keep = [spec(path="/ifs/data/finance/ap", hard="10GiB")]
    doomed = qu.plan_purge(qu.list_quotas_under(source, "/ifs/data/finance"), keep, "/ifs/data/finance")
    assert sorted(q["path"] for q in doomed) == ["/ifs/data/finance/ar", "/ifs/data/finance/reports"]
    for quota in doomed:
        qu.purge_quota(source, quota)
    paths = sorted(q["path"] for q in ctl.state("source")["quotas"])
    assert paths == ["/ifs/data/eng/builds", "/ifs/data/eng/src", "/ifs/data/finance/ap", "/ifs/home"]
