"""spn: the real module process against the mock (demo: PROD-PS$ on source, DR-PS$ on target)."""

import ast
import json
from pathlib import Path

import pytest

DOMAIN = "AD.EXAMPLE.COM"
FINANCE_SPNS = ["HOST/finance", "HOST/finance.prod.example.com"]
AD_SECRET = "Ad-Pa55-Never-Shown"
MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "spn.py"


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def spn_registry(onefs):
    return onefs._control("GET", "/_mock/spn")


def provider(onefs, cluster):
    return next(p for p in onefs.state(cluster)["ads"] if p["name"] == DOMAIN)


def api_requests(onefs, cluster="source"):
    return [r for r in onefs.requests(cluster) if not r["path"].startswith("/_mock")]


def peer_of(onefs, cluster):
    conn = onefs.conn(cluster)
    return dict(conn)


def creds():
    return {"ad_user": "svc-spn", "ad_password": AD_SECRET}


@pytest.mark.timeout(120)
def test_examples_run_against_the_mock(onefs):
    source, target = onefs.conn("source"), onefs.conn("target")
    extra = {"source_host": "%s:%d" % (source["onefs_host"], source["onefs_port"]),
             "target_host": "%s:%d" % (target["onefs_host"], target["onefs_port"]),
             "onefs_username": "admin", "onefs_password": "admin", "onefs_ca_path": onefs.ca_path,
             "ad_user": "svc-spn", "ad_password": AD_SECRET}
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    registry = spn_registry(onefs)
    assert registry["registry"]["HOST/files.example.com"] == ["DR-PS$"]
    assert registry["registry"]["HOST/files"] == ["DR-PS$"]
    assert registry["collisions"] == []
    assert AD_SECRET not in out + err


def test_check_reports_missing_and_extra_without_writing(onefs):
    onefs.run("smartconnect_zone", {"pool": "groupnet0.subnet0.finance", "state": "parked"})
    onefs.clear_log()
    result = onefs.run("spn", {"provider": DOMAIN, "check": True})
    assert result["changed"] is False
    assert result["missing"] == ["HOST/parked-finance", "HOST/parked-finance.prod.example.com",
                                 "HOST/parked-fin", "HOST/parked-fin.prod.example.com"]
    assert result["extra"] == ["HOST/finance", "HOST/finance.prod.example.com", "HOST/fin", "HOST/fin.prod.example.com"]
    assert onefs.writes() == []


def test_move_spns_source_first_then_target_then_idempotent(onefs):
    removed = onefs.run("spn", dict(creds(), provider=DOMAIN, from_smartconnect=["finance.prod.example.com"],
                                    state="absent"))
    assert removed["removed"] == FINANCE_SPNS and removed["changed"] is True
    args = dict(creds(), provider=DOMAIN, from_smartconnect=["finance.prod.example.com"], state="present",
                peer=peer_of(onefs, "source"))
    added = onefs.run("spn", args, cluster="target")
    assert added["added"] == FINANCE_SPNS and added["collisions"] == []
    assert provider(onefs, "target")["extra_expected_spns"] == FINANCE_SPNS
    assert spn_registry(onefs)["collisions"] == []

    onefs.clear_log()
    again = onefs.run("spn", args, cluster="target")
    assert again["changed"] is False
    assert onefs.writes() == []


def test_collision_is_refused_naming_spn_and_account(onefs):
    result = onefs.run("spn", dict(creds(), provider=DOMAIN, spns=["HOST/finance"], peer=peer_of(onefs, "source")),
                       cluster="target")
    assert result["failed"] is True
    assert "HOST/finance" in result["msg"] and "PROD-PS$" in result["msg"]
    assert result["collisions"] == [{"spn": "HOST/finance", "account": "PROD-PS$"}]
    assert onefs.writes() == []
    assert "HOST/finance" not in provider(onefs, "target")["spns"]


def test_allow_collision_adds_anyway(onefs):
    result = onefs.run("spn", dict(creds(), provider=DOMAIN, spns=["HOST/finance"], allow_collision=True,
                                   peer=peer_of(onefs, "source")), cluster="target")
    assert result["changed"] is True and result["collisions"] == [{"spn": "HOST/finance", "account": "PROD-PS$"}]
    assert spn_registry(onefs)["collisions"][0]["spn"] == "HOST/finance"


def test_check_mode_and_diff_write_nothing(onefs):
    result = onefs.run("spn", dict(creds(), provider=DOMAIN, spns=["HOST/prod-ps"], state="exact"),
                       check=True, diff=True)
    assert result["changed"] is True
    assert len(result["removed"]) == 12
    assert result["diff"]["after"]["spns"] == ["HOST/prod-ps"]
    assert onefs.writes() == []


def test_credentials_required_when_spns_change(onefs):
    result = onefs.run("spn", {"provider": DOMAIN, "spns": ["HOST/fin"], "state": "absent"})
    assert result["failed"] is True
    assert "ad_user" in result["msg"] and "ad_password" in result["msg"]
    assert onefs.writes() == []
    quiet = onefs.run("spn", {"provider": DOMAIN, "spns": ["HOST/fin"], "state": "present"})
    assert quiet["changed"] is False and not quiet.get("failed")


def test_credentials_from_the_environment_and_never_in_output(onefs, monkeypatch):
    monkeypatch.setenv("ONEFS_AD_USER", "svc-env")
    monkeypatch.setenv("ONEFS_AD_PASSWORD", AD_SECRET)
    result = onefs.run("spn", {"provider": DOMAIN, "spns": ["HOST/fin"], "state": "absent"})
    assert result["changed"] is True, result.get("msg")
    put = onefs.writes("source")[0]
    assert put["body"]["user"] == "svc-env"
    assert AD_SECRET not in json.dumps(result)


@pytest.mark.parametrize("args,option", [
    ({"spns": ["HOST"]}, "spns"),
    ({"spns": ["HOST/a"], "check": True}, "check"),
    ({"from_smartconnect": ["bad name"]}, "from_smartconnect"),
    ({}, "spns"),
    ({"spns": ["HOST/a"], "state": "fix"}, "state"),
])
def test_bad_values_fail_before_any_request(onefs, args, option):
    result = onefs.run("spn", dict(args, provider=DOMAIN))
    assert result.get("failed") is True
    assert option in result["msg"]
    assert api_requests(onefs) == []


def test_unknown_provider_is_named(onefs):
    result = onefs.run("spn", dict(creds(), provider="NOPE.EXAMPLE.COM", spns=["HOST/a"]))
    assert result["failed"] is True and "NOPE.EXAMPLE.COM" in result["msg"]
    assert onefs.writes() == []


def test_read_only_user_can_check_but_not_write(onefs):
    login = {"username": "auditor", "password": "auditor"}
    report = onefs.run("spn", dict(login, provider=DOMAIN, check=True))
    assert report["changed"] is False and report["missing"] == []
    refused = onefs.run("spn", dict(login, **dict(creds(), provider=DOMAIN, spns=["HOST/fin"], state="absent")))
    assert refused["failed"] is True and "ISI_PRIV_AUTH" in refused["msg"]
    assert "HOST/fin" in provider(onefs, "source")["spns"]
