"""One client shared by many threads: one login, one re-login after expiry, no lost results."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from test_client_helpers import logins

pytestmark = pytest.mark.timeout(120)

CONFIG = "/platform/3/cluster/config"


def hammer(client, threads=20, calls=5):
    start = threading.Barrier(threads, timeout=30)

    def work(dummy):
        start.wait()
        return [client.get(CONFIG) for dummy in range(calls)]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(work, range(threads)))


def test_twenty_threads_one_login(make_client, ctl):
    client = make_client(max_connections=20)
    results = hammer(client)
    assert len(results) == 20 and all(len(r) == 5 and all(r) for r in results)
    assert client.logins == 1
    assert len(logins(ctl.api_log())) == 1
    assert all(e["status"] == 200 for e in ctl.api_log() if e["path"] == CONFIG)


def test_twenty_threads_hitting_an_expired_session_cause_one_relogin(make_client, ctl):
    client = make_client(max_connections=20)
    client.get(CONFIG)
    ctl.expire_sessions()
    results = hammer(client, calls=3)
    assert all(len(r) == 3 for r in results)
    assert client.logins == 2
    assert len(logins(ctl.api_log())) == 2


def test_small_pool_blocks_instead_of_failing(make_client, ctl):
    client = make_client(max_connections=2)
    results = hammer(client, threads=10, calls=3)
    assert sum(len(r) for r in results) == 30
    assert client.logins == 1


def test_creates_under_random_errors_and_resets_never_duplicate(make_client, ctl):
    """20 threads create 40 shares while the cluster drops answers (before and after applying)."""
    client = make_client(max_connections=20, retry_budget=30)
    client.get("/platform/latest")
    shares = "/platform/12/protocols/smb/shares"
    ctl.faults(error_rate=0.2, error_status=503, reset_rate=0.1, seed=7)
    lost_after = [{"method": "POST", "path": "smb/shares$", "status": 503, "after": True, "count": 5}]
    ctl.faults(fail_next=lost_after)
    names = ["chaos%02d" % number for number in range(40)]

    def create(name):
        return client.post(shares, {"name": name, "path": "/ifs/data/zone1", "create_path": True},
                           verify=lambda: client.get_item(shares + "/" + client.q(name), "shares"))

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            outcomes = list(pool.map(create, names))
        counters = ctl.call("GET", "faults")["counters"]
    finally:
        ctl.call("DELETE", "faults")
    assert counters["fail_next"] == 5 and counters["errors"] > 0 and counters["resets"] > 0
    assert len(outcomes) == 40
    created = sorted(s["name"] for s in ctl.state()["smb_shares"] if s["name"].startswith("chaos"))
    assert created == names
    assert client.retries > 0
