"""smartconnect_zone: the real module process against the mock (demo scenario)."""

import ast
from pathlib import Path

import pytest

FINANCE = "groupnet0.subnet0.finance"
ENG = "groupnet0.subnet0.eng"
MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "smartconnect_zone.py"


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def pool_of(onefs, pool_id, cluster="source"):
    return next(p for p in onefs.state(cluster)["pools"] if p["id"] == pool_id)


def dns(onefs, name):
    """Which clusters answer DNS for a name (the mock's simulated delegation)."""
    return onefs._control("GET", "/_mock/dns", params={"name": name})


def api_requests(onefs, cluster="source"):
    return [r for r in onefs.requests(cluster) if not r["path"].startswith("/_mock")]


@pytest.mark.timeout(120)
def test_examples_run_against_the_mock(onefs):
    conn = onefs.conn("source")
    extra = {"onefs_host": conn["onefs_host"], "onefs_port": conn["onefs_port"], "onefs_username": "admin",
             "onefs_password": "admin", "onefs_ca_path": onefs.ca_path}
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    assert '"build.prod.example.com"' in out      # the debug task printed the released names
    # the last example unparked again; the alias example added then removed files.example.com
    assert pool_of(onefs, FINANCE)["sc_dns_zone"] == "finance.prod.example.com"
    assert pool_of(onefs, ENG)["sc_dns_zone_aliases"] == ["engineering.prod.example.com", "build.prod.example.com"]
    assert pool_of(onefs, "groupnet0.subnet0.pool0")["sc_dns_zone_aliases"] == []
    assert len(onefs.writes("source")) == 6


def test_park_check_mode_then_real_then_idempotent(onefs):
    args = {"pools": [{"pool": FINANCE}, {"pool": ENG, "park_prefix": "igls-"}], "state": "parked"}
    planned = onefs.run("smartconnect_zone", args, check=True, diff=True)
    assert planned["changed"] is True and planned["_rc"] == 0
    assert onefs.writes() == []
    planned_zones = [d["after"]["sc_dns_zone"] for d in planned["diff"]]
    assert planned_zones == ["parked-finance.prod.example.com", "igls-eng.prod.example.com"]

    done = onefs.run("smartconnect_zone", args)
    assert done["changed"] is True
    assert [r["name"] for r in done["results"]] == [FINANCE, ENG]
    assert done["released"] == ["finance.prod.example.com", "fin.prod.example.com", "eng.prod.example.com",
                                "engineering.prod.example.com", "build.prod.example.com"]
    assert pool_of(onefs, ENG)["sc_dns_zone_aliases"] == ["igls-engineering.prod.example.com",
                                                          "igls-build.prod.example.com"]
    assert "source" not in dns(onefs, "eng.prod.example.com")["claims"]

    onefs.clear_log()
    again = onefs.run("smartconnect_zone", args)
    assert again["changed"] is False
    assert onefs.writes() == []


def test_unpark_restores_names(onefs):
    onefs.run("smartconnect_zone", {"pool": FINANCE, "state": "parked"})
    result = onefs.run("smartconnect_zone", {"pool": FINANCE, "state": "unparked"})
    assert result["changed"] is True
    assert result["claimed"] == ["finance.prod.example.com", "fin.prod.example.com"]
    assert pool_of(onefs, FINANCE)["sc_dns_zone_aliases"] == ["fin.prod.example.com"]


def test_aliases_absent_and_exact(onefs):
    removed = onefs.run("smartconnect_zone", {"pool": ENG, "aliases": ["build.prod.example.com"],
                                              "aliases_state": "absent"})
    assert removed["results"][0]["actions"] == ["remove alias build.prod.example.com"]
    assert pool_of(onefs, ENG)["sc_dns_zone_aliases"] == ["engineering.prod.example.com"]
    exact = onefs.run("smartconnect_zone", {"pool": ENG, "aliases": [], "aliases_state": "exact"})
    assert exact["released"] == ["engineering.prod.example.com"]
    assert pool_of(onefs, ENG)["sc_dns_zone_aliases"] == []


def test_target_takes_over_source_names(onefs):
    result = onefs.run("smartconnect_zone", {"pool": FINANCE, "sc_dns_zone": "finance.prod.example.com",
                                             "aliases": ["fin.prod.example.com"]}, cluster="target")
    assert result["claimed"] == ["finance.prod.example.com", "fin.prod.example.com"]
    claims = dns(onefs, "finance.prod.example.com")
    assert sorted(claims["claims"]) == ["source", "target"] and claims["split_brain"] is True


@pytest.mark.parametrize("args,option", [
    ({"pool": "pool0"}, "pool"),
    ({"pool": FINANCE, "aliases": ["bad name.example.com"]}, "aliases"),
    ({"pool": FINANCE, "sc_dns_zone": "-x.example.com"}, "sc_dns_zone"),
    ({"pool": FINANCE, "state": "parked", "aliases": ["a.example.com"]}, "aliases"),
    ({"pool": FINANCE, "state": "parked", "park_prefix": "a.b-"}, "park_prefix"),
    ({"pool": FINANCE, "aliases_state": "merge"}, "aliases_state"),
    ({"pools": [{"pool": FINANCE}, {"pool": FINANCE}]}, "pools"),
    ({"pool": FINANCE, "pools": [{"pool": ENG}]}, "pool"),
    ({"pool": FINANCE, "max_workers": 0}, "max_workers"),
])
def test_bad_values_fail_before_any_request(onefs, args, option):
    result = onefs.run("smartconnect_zone", args)
    assert result.get("failed") is True
    assert option in result["msg"]
    assert api_requests(onefs) == []


def test_one_missing_pool_does_not_hide_the_others(onefs):
    result = onefs.run("smartconnect_zone", {"pools": [{"pool": "groupnet0.subnet0.nope"}, {"pool": FINANCE}],
                                             "state": "parked"})
    assert result["failed"] is True
    assert "1 of 2" in result["msg"] and "groupnet0.subnet0.nope" in result["msg"]
    missing, finance = result["results"]
    assert missing["failed"] is True
    assert finance["changed"] is True
    assert pool_of(onefs, FINANCE)["sc_dns_zone"] == "parked-finance.prod.example.com"


def test_collision_guard_with_peer(onefs):
    claim = {"pool": FINANCE, "sc_dns_zone": "finance.prod.example.com", "aliases": ["fin.prod.example.com"],
             "peer": onefs.conn("source")}
    refused = onefs.run("smartconnect_zone", claim, cluster="target")
    assert refused["failed"] is True
    assert "finance.prod.example.com (peer pool groupnet0.subnet0.finance)" in refused["msg"]
    assert onefs.writes() == []

    onefs.run("smartconnect_zone", {"pool": FINANCE, "state": "parked"})
    claimed = onefs.run("smartconnect_zone", claim, cluster="target")
    assert claimed["changed"] is True and claimed["claimed"] == ["finance.prod.example.com", "fin.prod.example.com"]
    assert dns(onefs, "finance.prod.example.com")["split_brain"] is False


def test_allow_collision_claims_anyway_and_reports_it(onefs):
    claim = {"pool": ENG, "aliases": ["eng.prod.example.com"], "peer": onefs.conn("source"), "allow_collision": True}
    result = onefs.run("smartconnect_zone", claim, cluster="target")
    assert result["changed"] is True
    assert result["results"][0]["collisions"] == [{"name": "eng.prod.example.com", "peer_pool": ENG}]
    assert dns(onefs, "eng.prod.example.com")["split_brain"] is True


def test_read_only_user_can_plan_but_not_write(onefs):
    args = {"username": "auditor", "password": "auditor", "pool": FINANCE, "state": "parked"}
    planned = onefs.run("smartconnect_zone", args, check=True)
    assert planned["changed"] is True and not planned.get("failed")
    refused = onefs.run("smartconnect_zone", args)
    assert refused["failed"] is True and "ISI_PRIV_NETWORK" in refused["msg"]
    assert pool_of(onefs, FINANCE)["sc_dns_zone"] == "finance.prod.example.com"
