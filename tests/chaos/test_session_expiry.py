"""Session expiry in the middle of a run → transparent re-login.

Every session of the source is expired while the final sync is being waited for (rg_sync polls
it), and every session of the target while the allow-write job is being waited for
(local_target polls it).  The request log must show, on each cluster, a call answered 401,
then a new session login, then the same call answered — and the failover must complete.
Simulated jobs run at time scale 0.5 here (a final sync lasts 4 s or more, an allow-write 2 s) so
that each wait lasts several polls even on a loaded machine.
"""

import pytest

from chaos_lib import assert_failed_over

SESSION = "/session/1/session"


def is_job_post(cluster, action):
    return lambda e: (e["cluster"] == cluster and e["method"] == "POST" and e["path"].endswith("/sync/jobs")
                      and (e.get("body") or {}).get("action", "sync") == action and e["applied"])


def relogin_after(log, cluster, since_seq):
    """(401 entry, login entry, repeated call) for the first 401 on ``cluster`` after ``since_seq``."""
    entries = [e for e in log if e["cluster"] == cluster and e["seq"] > since_seq]
    first_401 = next((e for e in entries if e["status"] == 401 and not e["path"].startswith(SESSION)), None)
    if first_401 is None:
        return None, None, None
    later = [e for e in entries if e["seq"] > first_401["seq"]]
    login = next((e for e in later if e["method"] == "POST" and e["path"] == SESSION and e["status"] == 201), None)
    repeat = None
    if login is not None:
        repeat = next((e for e in later if e["seq"] > login["seq"] and e["method"] == first_401["method"]
                       and e["path"] == first_401["path"] and e["status"] < 400), None)
    return first_401, login, repeat


@pytest.mark.timeout(600)
def test_expired_sessions_are_renewed_without_the_run_noticing(chaos, figures):
    chaos.time_scale(0.5)
    expired = {}
    source_trig = chaos.trigger(is_job_post("source", "sync"),
                                lambda e: expired.update(source=chaos.expire_sessions("source")), delay=0.3)
    target_trig = chaos.trigger(is_job_post("target", "allow_write"),
                                lambda e: expired.update(target=chaos.expire_sessions("target")), delay=0.2)
    run = chaos.role("failover", chaos.dr_vars(), **chaos.failover_vars())
    fired = {"source": source_trig.stop(), "target": target_trig.stop()}
    assert all(fired.values()), fired
    assert run.rc == 0, run.text[-6000:]
    assert expired.get("source", 0) >= 1 and expired.get("target", 0) >= 1, expired
    log = chaos.log()
    for cluster in ("source", "target"):
        unauthorized, login, repeat = relogin_after(log, cluster, fired[cluster]["seq"])
        assert unauthorized is not None, "no call of %s met the expired session" % cluster
        assert login is not None, "no new login on %s after the 401" % cluster
        assert repeat is not None, "the call refused with 401 on %s was not repeated after the login" % cluster
    assert "401" not in run.out and "authorization required" not in run.out
    assert_failed_over(chaos.state("source"), chaos.state("target"))
    figures.add("end_states_verified")
    chaos.assert_no_split_brain()
    assert chaos.repeated(chaos.destructive_calls()) == {}
