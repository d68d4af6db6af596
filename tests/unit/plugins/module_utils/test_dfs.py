"""plugins/module_utils/dfs.py: DFS-mode share renames.

The planning functions are pure (listings in, plans and refusals out); the
renames run against the in-process mock (demo scenario) and are asserted from
its state dump and request log.
"""

import pytest
import requests

from ansible_collections.onefs.dr.plugins.module_utils import dfs
from ansible_collections.onefs.dr.plugins.module_utils import protocols as p
from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient
from ansible_collections.onefs.dr.plugins.module_utils.errors import ConflictError

PREFIX = "dfs-standby-"
ZONES = {"source": "finance", "target": "finance"}

pytestmark = pytest.mark.timeout(120)


def shares(*names):
    """A zone's share listing: each share's directory is named after its real name."""
    return [{"name": name, "path": "/ifs/data/finance/" + dfs.base_name(name, PREFIX).lower()} for name in names]


def plan(source, target, active, **kwargs):
    return dfs.plan(shares(*source), shares(*target), active, PREFIX, ZONES, **kwargs)


# --- planning (pure) --------------------------------------------------------------------

def test_failover_deactivates_on_the_source_and_activates_on_the_target():
    plans, refusals = plan(["ap"], ["dfs-standby-ap"], "target")
    assert refusals == []
    (entry,) = plans
    assert entry["deactivate"] == ("source", "ap", "dfs-standby-ap")
    assert entry["activate"] == ("target", "dfs-standby-ap", "ap")
    assert entry["before"] == {"source": "ap", "target": "dfs-standby-ap"}
    assert entry["after"] == {"source": "dfs-standby-ap", "target": "ap"}


def test_failback_is_the_mirror_image():
    plans, refusals = plan(["dfs-standby-ap"], ["ap"], "source")
    assert refusals == []
    assert plans[0]["deactivate"] == ("target", "ap", "dfs-standby-ap")
    assert plans[0]["activate"] == ("source", "dfs-standby-ap", "ap")


@pytest.mark.parametrize("source, target, active", [
    (["dfs-standby-ap"], ["ap"], "target"),     # failed over already
    (["ap"], ["dfs-standby-ap"], "source"),     # normal operation / failed back already
    (["ap"], [], "source"),                     # the target has no copy: nothing to hide there
])
def test_nothing_to_do_when_already_in_place(source, target, active):
    plans, refusals = plan(source, target, active)
    assert refusals == []
    assert plans[0]["deactivate"] is None and plans[0]["activate"] is None
    assert plans[0]["before"] == plans[0]["after"]


def test_half_done_run_is_finished():
    # deactivated on the source, the activation on the target did not happen (crash, failure)
    plans, refusals = plan(["dfs-standby-ap"], ["dfs-standby-ap"], "target")
    assert refusals == []
    assert plans[0]["deactivate"] is None
    assert plans[0]["activate"] == ("target", "dfs-standby-ap", "ap")


def test_active_side_without_the_share_is_refused_and_names_the_fix():
    _plans, refusals = plan(["ap", "ar"], ["dfs-standby-ap"], "target")
    reason = "the target (active) has neither ar nor dfs-standby-ar in zone finance: run config_sync with name_prefix first"
    assert refusals == [{"name": "ar", "reason": reason}]


def test_both_names_on_one_cluster_is_ambiguous():
    _plans, refusals = plan(["ap"], ["ap", "dfs-standby-ap"], "target")
    assert [r["name"] for r in refusals] == ["ap"]
    assert "the target has both ap and dfs-standby-ap" in refusals[0]["reason"]
    _plans, refusals = plan(["ap", "DFS-Standby-AP"], ["dfs-standby-ap"], "target")
    assert "the source has both ap and DFS-Standby-AP" in refusals[0]["reason"]


def test_names_are_case_insensitive_and_keep_the_clusters_spelling():
    plans, refusals = plan(["AP"], ["DFS-STANDBY-Ap"], "target")
    assert refusals == []
    assert plans[0]["deactivate"] == ("source", "AP", "dfs-standby-AP")
    assert plans[0]["activate"] == ("target", "DFS-STANDBY-Ap", "Ap")


def test_scope_is_read_on_the_original_source_with_standby_names_folded():
    names, refusals = dfs.scope_names(shares("dfs-standby-ar", "ap", "AP"), PREFIX)
    assert names == ["ap", "ar"] and refusals == []
    in_roots, _refusals = dfs.scope_names(shares("ap", "dfs-standby-ar"), PREFIX, roots=["/ifs/data/finance/ar"])
    assert in_roots == ["ar"]


def test_named_shares_may_exist_on_either_cluster_but_not_outside_paths():
    plans, refusals = plan([], ["dfs-standby-new"], "target", names=["new", "NEW"])
    assert [e["name"] for e in plans] == ["new"] and refusals == []
    assert plans[0]["activate"] == ("target", "dfs-standby-new", "new")
    _plans, refusals = plan(["ap"], ["dfs-standby-ap"], "target", names=["ap"], roots=["/ifs/data/finance/ar"])
    assert refusals == [{"name": "ap", "reason": "the source's share ap (path /ifs/data/finance/ap) is outside paths"}]


def test_check_mode_results_say_what_would_be_done_and_carry_the_diff():
    plans, _refusals = plan(["ap", "dfs-standby-ar"], ["dfs-standby-ap", "ar"], "target")
    results = dfs.apply(plans, clients=None, zones=ZONES, check_mode=True)
    assert [(r["name"], r["changed"], r["actions"]) for r in results] == [
        ("ap", True, ["source: rename ap -> dfs-standby-ap", "target: rename dfs-standby-ap -> ap"]),
        ("ar", False, [])]
    assert results[0]["diff"] == {
        "before": {"source": "ap", "target": "dfs-standby-ap"}, "after": {"source": "dfs-standby-ap", "target": "ap"},
        "before_header": "SMB share ap: names (source zone finance, target zone finance)",
        "after_header": "SMB share ap: names (source zone finance, target zone finance)"}
    assert "diff" not in results[1]


# --- renames against the mock -----------------------------------------------------------------


class Ctl:
    def __init__(self, url):
        self.url = url

    def call(self, method, path, body=None, **query):
        response = requests.request(method, self.url + "/_mock/" + path, json=body, params=query or None, timeout=30)
        assert response.status_code < 400, response.text
        return response.json() if response.content else None

    def names(self, cluster, zone="finance"):
        return sorted(s["name"] for s in self.call("GET", "state", cluster=cluster)["smb_shares"] if s["zone"] == zone)

    def share_puts(self):
        return [e for e in self.call("GET", "requests")["requests"]
                if e["method"] == "PUT" and "/protocols/smb/shares/" in e["path"]]


@pytest.fixture
def ctl(demo):
    control = Ctl(demo.url("source"))
    control.call("POST", "reset")
    control.call("DELETE", "requests")
    return control


@pytest.fixture
def clients(demo, ctl):
    made = {name: PapiClient(hosts=[demo.url(name)], username="admin", password="admin", name=name, retry_budget=5,
                             backoff_base=0.01, backoff_cap=0.05) for name in ("source", "target")}
    yield made
    for client in made.values():
        client.close()


def standby_copies(ctl, clients):
    """What config_sync name_prefix leaves: dfs-standby-* copies on the target, its own 'ap' gone."""
    p.sync_config(clients["source"], clients["target"], ["smb_shares"], "finance", "finance", name_prefix=PREFIX)
    clients["target"].delete(p.SMB_SHARES + "/ap", query={"zone": "finance"})
    ctl.call("DELETE", "requests")


def test_every_deactivation_is_sent_before_the_first_activation(ctl, clients):
    standby_copies(ctl, clients)
    results, refusals = dfs.rename_shares(clients["source"], clients["target"], "target", "finance", max_workers=3)
    assert refusals == [] and all(r["changed"] and not r.get("failed") for r in results)
    puts = ctl.share_puts()
    assert [e["cluster"] for e in puts] == ["source"] * 3 + ["target"] * 3
    assert ctl.names("source") == ["dfs-standby-ap", "dfs-standby-ar", "dfs-standby-reports"]
    assert ctl.names("target") == ["ap", "ar", "reports"]

    ctl.call("DELETE", "requests")
    again, _refusals = dfs.rename_shares(clients["source"], clients["target"], "target", "finance")
    assert not any(r["changed"] for r in again) and ctl.share_puts() == []


def test_refusal_happens_before_any_write(ctl, clients):
    # no standby copies on the target: the target cannot serve ar and reports
    results, refusals = dfs.rename_shares(clients["source"], clients["target"], "target", "finance")
    assert results == [] and {r["name"] for r in refusals} == {"ar", "reports"}
    assert ctl.share_puts() == []


def test_a_failed_deactivation_keeps_that_share_from_being_activated(ctl, clients):
    standby_copies(ctl, clients)
    ctl.call("POST", "faults", {"fail_next": [{"method": "PUT", "path": "/protocols/smb/shares/ar$", "status": 400,
                                               "code": "AEC_BAD_REQUEST", "message": "refused"}]}, cluster="source")
    results, _refusals = dfs.rename_shares(clients["source"], clients["target"], "target", "finance")
    by_name = {r["name"]: r for r in results}
    assert by_name["ar"]["failed"] is True and by_name["ar"]["changed"] is False
    assert by_name["ar"]["msg"].startswith("source: rename ar -> dfs-standby-ar failed: ")
    assert "dfs-standby-ar not renamed on the target" in by_name["ar"]["msg"]
    assert by_name["ar"]["after"] == {"source": "ar", "target": "dfs-standby-ar"}
    assert not by_name["ap"].get("failed") and not by_name["reports"].get("failed")
    assert ctl.names("source") == ["ar", "dfs-standby-ap", "dfs-standby-reports"]
    assert ctl.names("target") == ["ap", "dfs-standby-ar", "reports"]


def test_rename_whose_answer_was_lost_is_not_done_twice(ctl, clients):
    # applied, then answered 503: the client re-sends the PUT, which meets a 404 (ap is gone)
    ctl.call("POST", "faults", {"fail_next": [{"method": "PUT", "path": "/protocols/smb/shares/ap$", "status": 503,
                                               "after": True}]}, cluster="source")
    dfs.rename_share(clients["source"], "finance", "ap", "dfs-standby-ap")
    assert ctl.names("source") == ["ar", "dfs-standby-ap", "reports"]
    statuses = [e["status"] for e in ctl.share_puts()]
    assert statuses == [503, 404]


def test_conflicts_are_retried_and_counted(ctl, clients):
    ctl.call("POST", "faults", {"fail_next": [{"method": "PUT", "path": "/protocols/smb/shares/", "status": 409,
                                               "code": "AEC_CONFLICT", "count": 2}]}, cluster="source")
    counter = p.ConflictCounter()
    dfs.rename_share(clients["source"], "finance", "ap", "dfs-standby-ap", retries=3, counter=counter)
    assert counter.count == 2
    assert [e["status"] for e in ctl.share_puts()] == [409, 409, 204]
    assert "dfs-standby-ap" in ctl.names("source")


def test_a_conflicted_rename_that_took_effect_is_finished_by_the_check(ctl, clients):
    ctl.call("POST", "faults", {"fail_next": [{"method": "PUT", "path": "/protocols/smb/shares/ap$", "status": 409,
                                               "code": "AEC_CONFLICT", "after": True}]}, cluster="source")
    counter = p.ConflictCounter()
    dfs.rename_share(clients["source"], "finance", "ap", "dfs-standby-ap", counter=counter)
    assert counter.count == 1 and len(ctl.share_puts()) == 1


def test_exhausted_conflicts_raise(ctl, clients):
    ctl.call("POST", "faults", {"fail_next": [{"method": "PUT", "path": "/protocols/smb/shares/", "status": 409,
                                               "code": "AEC_CONFLICT", "count": 5}]}, cluster="source")
    with pytest.raises(ConflictError):
        dfs.rename_share(clients["source"], "finance", "ap", "dfs-standby-ap", retries=1)
    assert ctl.names("source") == ["ap", "ar", "reports"]


# --- the module's option checks (before any request) --------------------------------------------

@pytest.mark.parametrize("args, fragment", [
    ({"prefix": "dfs/"}, "prefix must not contain /"),
    ({"prefix": ""}, "prefix must not be empty"),
    ({"shares": ["dfs-standby-ap"]}, "shares must hold the real share names, without the prefix"),
    ({"shares": ["DFS-STANDBY-ap"]}, "without the prefix"),
    ({"shares": ["a:b"]}, "shares must not contain :"),
    ({"shares": [" "]}, "shares must not be empty"),
    ({"paths": ["data/finance"]}, "paths must hold absolute paths under /ifs"),
    ({"max_workers": 0}, "max_workers must be between 1 and 32"),
    ({"conflict_retries": 51}, "conflict_retries must be between 0 and 50"),
    ({"zone": ""}, "zone must be an access zone name"),
    ({"target_zone": "a/b"}, "target_zone must be an access zone name"),
    ({"peer": None}, "peer: the original target cluster is required"),
])
def test_bad_options_are_named(monkeypatch, args, fragment):
    from ansible_collections.onefs.dr.plugins.modules import dfs_shares

    monkeypatch.delenv("ONEFS_PEER_HOST", raising=False)
    params = {"active": "target", "zone": "System", "target_zone": None, "shares": [], "paths": [],
              "prefix": PREFIX, "max_workers": 4, "conflict_retries": 8, "peer": {"onefs_host": ["t"]}}
    assert dfs_shares.input_error(params) is None
    params.update(args)
    assert fragment in dfs_shares.input_error(params)
