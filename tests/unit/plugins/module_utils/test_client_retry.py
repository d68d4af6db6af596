"""Retries within the budget, lost answers of POSTs, idempotent PUT/DELETE, node failover."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils.errors import ConflictError, UnavailableError

from test_client_helpers import PASSWORD, free_closed_port, logins

pytestmark = pytest.mark.timeout(60)

SHARES = "/platform/12/protocols/smb/shares"
CONFIG = "/platform/3/cluster/config"


def shares_named(ctl, name):
    return [s for s in ctl.state()["smb_shares"] if s["name"] == name]


def share_body(name):
    return {"name": name, "path": "/ifs/data/zone1", "create_path": True}


def verify_share(client, name):
    return lambda: client.get_item(SHARES + "/" + client.q(name), "shares")


# ---- retry within the budget, then give up ------------------------------------------


def test_503_three_times_then_success(client, ctl):
    client.get("/platform/latest")
    ctl.fail_next(method="GET", path="^%s$" % CONFIG, status=503, count=3)
    assert client.get(CONFIG)
    statuses = [e["status"] for e in ctl.api_log() if e["path"] == CONFIG]
    assert statuses == [503, 503, 503, 200]
    assert client.retries == 3
    assert len(logins(ctl.api_log())) == 1


@pytest.mark.parametrize("status", [429, 502, 504])
def test_other_retryable_statuses(client, ctl, status):
    ctl.fail_next(method="GET", path="^%s$" % CONFIG, status=status, count=2)
    assert client.get(CONFIG)
    assert [e["status"] for e in ctl.api_log() if e["path"] == CONFIG] == [status, status, 200]


def test_gives_up_after_the_budget(make_client, ctl):
    client = make_client(retry_budget=1)
    ctl.fail_next(method="GET", path="^%s$" % CONFIG, status=503, count=100000,
                  code="AEC_SERVICE_UNAVAILABLE", message="busy node")
    with pytest.raises(UnavailableError) as caught:
        client.get(CONFIG)
    err = caught.value
    assert err.status == 503 and err.code == "AEC_SERVICE_UNAVAILABLE"
    assert "busy node" in str(err) and "gave up after" in str(err)
    assert 1.0 <= err.elapsed < 30
    attempts = [e for e in ctl.api_log() if e["path"] == CONFIG]
    assert len(attempts) == err.attempts
    assert len(attempts) >= 2


def test_zero_budget_does_not_retry(make_client, ctl):
    client = make_client(retry_budget=0)
    ctl.fail_next(method="GET", path="^%s$" % CONFIG, status=503, count=5)
    with pytest.raises(UnavailableError):
        client.get(CONFIG)
    assert len([e for e in ctl.api_log() if e["path"] == CONFIG]) == 1


def test_connection_reset_on_get_is_retried(client, ctl):
    client.get("/platform/latest")
    ctl.fail_next(method="GET", path="^%s$" % CONFIG, reset=True, count=2)
    assert client.get(CONFIG)
    assert [e["status"] for e in ctl.api_log() if e["path"] == CONFIG][-1] == 200


def test_conflict_retried_only_on_request(client, ctl):
    make_share(client, "busy")
    ctl.fail_next(method="PUT", path="smb/shares/busy", status=409, code="AEC_CONFLICT", count=1)
    with pytest.raises(ConflictError):
        client.put(SHARES + "/busy", {"description": "x"})
    ctl.fail_next(method="PUT", path="smb/shares/busy", status=409, code="AEC_CONFLICT", count=2)
    client.put(SHARES + "/busy", {"description": "y"}, retry_conflict=True)
    assert shares_named(ctl, "busy")[0]["description"] == "y"


def test_exists_conflict_is_never_retried(client, ctl):
    make_share(client, "dup")
    with pytest.raises(ConflictError):
        client.post(SHARES, share_body("dup"), retry_conflict=True)
    assert len([e for e in ctl.api_log() if e["method"] == "POST" and e["path"] == SHARES]) == 2


def make_share(client, name):
    return client.post(SHARES, share_body(name))


# ---- POST with a lost answer --------------------------------------------------------


def test_post_applied_but_answer_lost_is_verified_not_resent(client, ctl):
    ctl.fail_next(method="POST", path="smb/shares$", status=503, after=True)
    outcome = client.post(SHARES, share_body("app1"), verify=verify_share(client, "app1"))
    assert outcome["name"] == "app1"
    assert len(shares_named(ctl, "app1")) == 1
    posts = [e for e in ctl.api_log() if e["method"] == "POST" and e["path"] == SHARES]
    assert [e["status"] for e in posts] == [503]


def test_post_reset_after_apply_is_verified(client, ctl):
    client.get("/platform/latest")
    ctl.fail_next(method="POST", path="smb/shares$", reset=True, after=True)
    outcome = client.post(SHARES, share_body("app2"), verify=verify_share(client, "app2"))
    assert outcome["name"] == "app2"
    assert len(shares_named(ctl, "app2")) == 1


def test_post_refused_before_apply_is_resent_after_verify(client, ctl):
    ctl.fail_next(method="POST", path="smb/shares$", status=503, after=False)
    checks = []

    def verify():
        found = verify_share(client, "app3")()
        checks.append(found)
        return found

    assert client.post(SHARES, share_body("app3"), verify=verify) == {"id": "app3"}
    assert checks == [None]
    assert len(shares_named(ctl, "app3")) == 1
    posts = [e for e in ctl.api_log() if e["method"] == "POST" and e["path"] == SHARES]
    assert [e["status"] for e in posts] == [503, 201]


def test_post_lost_without_verify_is_not_resent(client, ctl):
    ctl.fail_next(method="POST", path="smb/shares$", status=503, after=True)
    with pytest.raises(UnavailableError) as caught:
        client.post(SHARES, share_body("app4"))
    assert "may or may not have been applied" in str(caught.value)
    assert len(shares_named(ctl, "app4")) == 1
    posts = [e for e in ctl.api_log() if e["method"] == "POST" and e["path"] == SHARES]
    assert len(posts) == 1


def test_idempotent_post_is_resent(client, ctl):
    ctl.fail_next(method="POST", path="smb/shares$", status=503, after=False)
    client.post(SHARES, share_body("app5"), idempotent=True)
    assert len(shares_named(ctl, "app5")) == 1


def test_post_429_is_resent_without_verify(client, ctl):
    ctl.fail_next(method="POST", path="smb/shares$", status=429, code="AEC_THROTTLED")
    client.post(SHARES, share_body("app6"))
    assert len(shares_named(ctl, "app6")) == 1


def test_post_after_expiry_is_sent_once(client, ctl):
    client.get("/platform/latest")
    ctl.expire_sessions()
    client.post(SHARES, share_body("app7"))
    assert len(shares_named(ctl, "app7")) == 1
    posts = [e for e in ctl.api_log() if e["method"] == "POST" and e["path"] == SHARES]
    assert [e["status"] for e in posts] == [401, 201]


def test_put_lost_answer_is_resent(client, ctl):
    make_share(client, "p")
    ctl.fail_next(method="PUT", path="smb/shares/p$", status=503, after=True)
    client.put(SHARES + "/p", {"description": "twice is fine"})
    assert shares_named(ctl, "p")[0]["description"] == "twice is fine"


def test_delete_lost_answer_then_404_counts_as_done(client, ctl):
    make_share(client, "d")
    ctl.fail_next(method="DELETE", path="smb/shares/d$", status=503, after=True)
    client.delete(SHARES + "/d")
    assert shares_named(ctl, "d") == []
    deletes = [e["status"] for e in ctl.api_log() if e["method"] == "DELETE" and e["path"] == SHARES + "/d"]
    assert deletes == [503, 404]


# ---- node failover and outages ------------------------------------------------------


def test_next_node_when_the_first_refuses(make_client, ctl, mock):
    closed = "http://127.0.0.1:%d" % free_closed_port()
    client = make_client(hosts=[closed, mock.url("source")], retry_budget=5)
    assert client.get(CONFIG)
    assert client.node.origin == mock.url("source")
    entries = ctl.api_log()
    assert len(logins(entries)) == 1
    assert client.retries >= 1
    client.get(CONFIG)
    assert len(logins(ctl.api_log())) == 1   # stays on the working node


def test_all_nodes_down_gives_up_naming_them(make_client):
    ports = [free_closed_port(), free_closed_port()]
    client = make_client(hosts=["http://127.0.0.1:%d" % p for p in ports], retry_budget=0.5)
    with pytest.raises(UnavailableError) as caught:
        client.get(CONFIG)
    for port in ports:
        assert "127.0.0.1:%d" % port in str(caught.value)


def test_moving_to_another_node_logs_in_there(make_client, mock):
    """Sessions are node-local: when a node goes away, the client logs in on the next one.

    The two mock clusters stand for two nodes here (a session of one is unknown to the other).
    """
    target = mock.url("target")
    client = make_client(hosts=[mock.url("source"), target], retry_budget=5)
    client.get("/platform/latest")
    from test_client_helpers import Control

    source_ctl, target_ctl = Control(mock.url("source"), "source"), Control(target, "target")
    source_ctl.down()
    try:
        client.get("/platform/latest")
    finally:
        target_ctl.up("source")
    assert client.node.origin == target
    assert len(logins(target_ctl.api_log())) == 1
    assert client.logins == 2


@pytest.mark.timeout(60)
def test_rides_out_an_outage_within_the_budget(make_client, ctl, mock):
    client = make_client(retry_budget=20, backoff_cap=0.5)
    client.get("/platform/latest")
    ctl.down(seconds=1.5)
    assert client.get(CONFIG)
    assert client.retries >= 1
    # the restarted endpoint lost nothing: the session is still valid
    assert [e["status"] for e in ctl.api_log() if e["path"] == CONFIG][-1] == 200


def test_password_never_in_unavailable_errors(make_client):
    client = make_client(hosts=["http://127.0.0.1:%d" % free_closed_port()], retry_budget=0.2)
    with pytest.raises(UnavailableError) as caught:
        client.post(SHARES, share_body("x"))
    for text in (str(caught.value), repr(caught.value), str(caught.value.to_dict())):
        assert PASSWORD not in text


# ---- timeouts -----------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_read_timeout_is_retried_then_reported(make_client, ctl):
    client = make_client(api_timeout=1, retry_budget=2)
    client.get("/platform/latest")
    ctl.faults(latency_ms=1500)
    try:
        with pytest.raises(UnavailableError) as caught:
            client.get(CONFIG)
    finally:
        ctl.faults(latency_ms=0)
    assert "timed out" in str(caught.value).lower()
    assert caught.value.attempts >= 2


@pytest.mark.timeout(60)
def test_post_timing_out_without_verify_is_not_resent(make_client, ctl):
    """The slow cluster still applies the POST after the client gave up: why verify exists."""
    client = make_client(api_timeout=1, retry_budget=5)
    client.get("/platform/latest")
    ctl.faults(latency_ms=1500)
    try:
        with pytest.raises(UnavailableError) as caught:
            client.post(SHARES, share_body("slow"))
    finally:
        ctl.faults(latency_ms=0)
    assert "may or may not have been applied" in str(caught.value)
    posts = [e for e in ctl.api_log() if e["method"] == "POST" and e["path"] == SHARES]
    assert len(posts) <= 1       # sent once; the mock logs it when it answers
