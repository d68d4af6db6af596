"""plan.py from what drstate reads off the in-process mock (demo scenario), step by step."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils import drstate, plan, resync, synciq
from ansible_collections.onefs.dr.plugins.module_utils.client import PapiClient


DEMO_TIME_SCALE = 50   # the conftest's demo mock runs simulated jobs 50 times faster


@pytest.fixture
def clients(demo):
    demo.control.reset()
    made = {name: PapiClient(hosts=[demo.url(name)], username="admin", password="admin", name=name,
                             retry_budget=5, backoff_base=0.05, backoff_cap=0.2)
            for name in ("source", "target")}
    yield made
    for client in made.values():
        client.close()


def build(clients, operation, names, journal=None, **options):
    clusters = drstate.read_clusters({"local": clients["target"], "peer": clients["source"]}, ["cluster", "policies"])
    views = [drstate.policy_result(n, clusters, original_source="peer") for n in names]
    facts = plan.Facts(clusters, views, "peer", "local", journal=journal)
    return plan.build(operation, facts, options)


def todo(result, kind="policy"):
    return [(a["order"], a["object"], a["action"]) for a in result.actions if not a["done"] and a["kind"] == kind]


def orders(entries):
    return [entry[0] for entry in entries]


def allow_write(clients, name):
    target_plan = synciq.plan_target(clients["target"], name, synciq.WRITES_ENABLED)
    synciq.apply_target(clients["target"], target_plan, synciq.WRITES_ENABLED, timeout=60, poll_interval=0.05)


def test_fence_disables_only_policies_whose_target_is_writable(clients):
    allow_write(clients, "fin-ap")        # unplanned: the source policy stays enabled
    result = build(clients, "fence", ["fin-ap", "fin-ar"])
    assert todo(result) == [(1, "fin-ap", "disable policy")]
    assert result.refusals == []


def test_a_never_synced_policy_is_refused_with_the_reason(clients):
    spec = {"source_root_path": "/ifs/data/eng/new", "target_host": "target", "target_path": "/ifs/data/eng/new",
            "action": "sync", "schedule": "manual"}
    synciq.create_policy(clients["source"], "new-one", spec)
    result = build(clients, "failover_planned", ["fin-ap", "new-one"])
    assert [r["object"] for r in result.refusals] == ["new-one"]
    assert "never completed a sync" in result.refusals[0]["reason"]
    assert {a["object"] for a in result.actions if a["kind"] == "policy"} == {"fin-ap"}


@pytest.mark.timeout(120)
def test_failback_discard_source_plan_shrinks_step_by_step(clients):
    source, target = clients["source"], clients["target"]
    policy = synciq.get_policy(source, "fin-ap")
    synciq.update_policy(source, policy, {"enabled": False, "schedule": ""})     # as a planned failover leaves it
    allow_write(clients, "fin-ap")
    first = todo(build(clients, "failback_discard_source", ["fin-ap"]))
    assert orders(first) == [3, 4, 5, 8, 9, 10, 15]
    assert first[-1][2] == "restore the original schedule (none cached: set it by hand)"

    guid = resync.cluster_guid(source)
    runner = resync.ResyncRunner(source, target, guid, timeout=60, poll_interval=0.05)
    runner.apply(resync.plan_resync(source, target, "fin-ap", guid, enable_first=True))
    after_prep = todo(build(clients, "failback_discard_source", ["fin-ap"]))
    assert orders(after_prep) == [5, 8, 9, 10, 15]

    synciq.apply_target(source, synciq.plan_target(source, "fin-ap_mirror", synciq.WRITES_ENABLED),
                        synciq.WRITES_ENABLED, timeout=60, poll_interval=0.05)
    guid_t = resync.cluster_guid(target)
    back = resync.ResyncRunner(target, source, guid_t, timeout=60, poll_interval=0.05)
    back.apply(resync.plan_resync(target, source, "fin-ap_mirror", guid_t))
    result_back = build(clients, "failback_discard_source", ["fin-ap"])
    after_back = todo(result_back)
    assert result_back.refusals == []
    assert orders(after_back) == [10, 15]

    synciq.delete_policy(target, "fin-ap_mirror")
    # protected again: only the journal's open run tells a finished-but-unrecorded failback from no failover
    refused = build(clients, "failback_discard_source", ["fin-ap"])
    assert [r["object"] for r in refused.refusals] == ["fin-ap"]
    journal = {"open_runs": {"failback_discard_source": "r1"},
               "schedules": {"fin-ap": {"schedule": "when-source-modified", "job_delay": 300}}}
    final = build(clients, "failback_discard_source", ["fin-ap"], journal=journal)
    assert final.refusals == [] and todo(final) == [(15, "fin-ap", "restore schedule when-source-modified")]


# --- moves: the module arguments the roles hand over -----------------------------------------
POOL = "groupnet0.subnet0.finance"


def facts_with_network(clients, names, unplanned_names=None):
    gather = ["cluster", "policies", "pools", "spns", "quotas"]
    clusters = drstate.read_clusters({"local": clients["target"], "peer": clients["source"]}, gather)
    views = [drstate.policy_result(n, clusters, original_source="peer") for n in names]
    mapping = {"source": POOL, "target": POOL}
    if unplanned_names:
        mapping["names"] = unplanned_names
        clusters["peer"] = {"label": "peer", "visible": False, "identity": None, "error": "not contacted"}
    return plan.Facts(clusters, views, "peer", "local", pools=[mapping], spn_provider="AD.EXAMPLE.COM")


def test_failover_moves_claim_the_source_names_on_the_empty_target_pool(clients):
    moves = plan.moves_for("failover_planned", facts_with_network(clients, ["fin-ap", "fin-ar"]), [])
    move = moves["pools"][0]
    assert move["names"] == ["finance.prod.example.com", "fin.prod.example.com"]
    assert move["claim"] == {"pool": POOL, "sc_dns_zone": "finance.prod.example.com",
                             "aliases": ["fin.prod.example.com"], "aliases_state": "exact"}
    assert move["release"]["sc_dns_zone"] == "parked-finance.prod.example.com"
    assert moves["spns"] == ["HOST/finance", "HOST/finance.prod.example.com", "HOST/fin", "HOST/fin.prod.example.com"]


def test_a_target_pool_with_its_own_zone_name_keeps_it_and_takes_the_names_as_aliases(clients):
    pool = [p for p in clients["target"].get("/platform/16/network/pools")["pools"] if p["id"] == POOL][0]
    clients["target"].put("/platform/16/network/groupnets/groupnet0/subnets/subnet0/pools/finance",
                          {"sc_dns_zone": "finance.dr.example.com", "sc_dns_zone_aliases": ["parked-fin.prod.example.com"]})
    facts = facts_with_network(clients, ["fin-ap"])
    claim = plan.claim_for(facts, {"source": POOL, "target": POOL}, "target")
    assert claim == {"pool": POOL, "aliases": ["finance.prod.example.com", "fin.prod.example.com"],
                     "aliases_state": "exact"}                  # parked copy dropped, own zone name kept
    assert pool["sc_dns_zone"] == ""
    # and a later failback parks only the moved names there, not the pool's own
    clients["target"].put("/platform/16/network/groupnets/groupnet0/subnets/subnet0/pools/finance",
                          {"sc_dns_zone_aliases": claim["aliases"]})
    release = plan.release_for(facts_with_network(clients, ["fin-ap"]), {"source": POOL, "target": POOL}, "target")
    assert release == {"pool": POOL, "sc_dns_zone": "finance.dr.example.com", "aliases_state": "exact",
                       "aliases": ["parked-finance.prod.example.com", "parked-fin.prod.example.com"]}


def test_unplanned_moves_take_the_names_from_the_mapping(clients):
    names = ["finance.prod.example.com", "fin.prod.example.com"]
    moves = plan.moves_for("failover_unplanned", facts_with_network(clients, ["fin-ap"], unplanned_names=names), [])
    assert moves["pools"][0]["names"] == names
    assert moves["pools"][0]["claim"]["sc_dns_zone"] == "finance.prod.example.com"
    assert moves["quotas"] == {"create": [], "remove": []}      # the source cannot be read


def test_quota_moves_translate_paths_and_name_what_to_remove(clients):
    facts = facts_with_network(clients, ["fin-ap", "fin-archive"])
    moves = plan.moves_for("failover_planned", facts, facts.policies)
    created = dict((q["path"], q) for q in moves["quotas"]["create"])
    assert created["/ifs/data/finance/ap"]["hard"] == 10737418240 and created["/ifs/data/finance/ap"]["container"]
    assert "id" not in created["/ifs/data/finance/ap"]
    assert moves["quotas"]["remove"] == [{"path": "/ifs/data/finance/ap", "type": "directory",
                                          "include_snapshots": False, "state": "absent"}]
    assert plan.moves_for("reprotect", facts, facts.policies)["pools"] == []


def test_zone_pools_pair_each_named_pool_of_the_zone_with_the_target_pool_of_that_zone():
    source = [{"id": "g.s.fin", "name": "fin", "access_zone": "finance", "sc_dns_zone": "fin.example.com"},
              {"id": "g.s.fin2", "name": "fin2", "access_zone": "finance", "sc_dns_zone": "",
               "sc_dns_zone_aliases": ["x.example.com"]},
              {"id": "g.s.quiet", "name": "quiet", "access_zone": "finance", "sc_dns_zone": ""},     # no names
              {"id": "g.s.eng", "name": "eng", "access_zone": "eng", "sc_dns_zone": "eng.example.com"}]
    target = [{"id": "g.s.fin", "name": "fin", "access_zone": "finance"},
              {"id": "g.s.other", "name": "other", "access_zone": "finance"}]
    mappings, problems = plan.zone_pool_mappings(source, target, "finance")
    assert mappings == [{"source": "g.s.fin", "target": "g.s.fin"}]
    assert len(problems) == 1 and "g.s.fin2" in problems[0] and "map it in pools" in problems[0]
    one, none = plan.zone_pool_mappings(source[1:2], target[1:], "finance")
    assert one == [{"source": "g.s.fin2", "target": "g.s.other"}] and none == []     # the zone's only pool
