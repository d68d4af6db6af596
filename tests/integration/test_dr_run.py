"""dr_run: the real module process against the mock (demo scenario), journal read back from the clusters."""

import ast
import json
import time
from pathlib import Path

import pytest
import requests as http

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "dr_run.py"
PAIR = "prod-dr"
ROOT = "/ifs/.onefs_dr/" + PAIR


def examples():
    tree = ast.parse(MODULE.read_text())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES")


def peer(onefs):
    return onefs.conn("source")


def dr_run(onefs, check=False, **args):
    args.setdefault("pair", PAIR)
    args.setdefault("peer", peer(onefs))
    if args["peer"] is None:
        del args["peer"]
    return onefs.run("dr_run", args, cluster="target", check=check)


def read_file(onefs, cluster, path):
    """A journal file as the cluster serves it (namespace API, admin session-less basic auth)."""
    resp = http.get(onefs.mock.url(cluster) + "/namespace" + path, auth=("admin", "admin"),
                    verify=onefs.ca_path or False, timeout=30)
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return json.loads(resp.content)


def journal_writes(onefs, cluster=None):
    return [w for w in onefs.writes(cluster) if w["path"].startswith("/namespace/ifs/.onefs_dr")]


def set_manual(onefs, name):
    resp = http.put(onefs.mock.url("source") + "/platform/14/sync/policies/" + name, auth=("admin", "admin"),
                    json={"schedule": "", "enabled": True}, verify=onefs.ca_path or False, timeout=30)
    resp.raise_for_status()


@pytest.mark.timeout(120)
def test_start_caches_schedules_on_both_clusters_then_finish_writes_the_record(onefs, tmp_path):
    started = dr_run(onefs, operation="failover_planned", policies=["fin-ap", "fin-ar"],
                     plan=[{"step": "allow writes on target", "object": "fin-ap"}])
    assert started["_rc"] == 0, started
    run_id = started["run_id"]
    assert run_id.endswith("-failover_planned-" + PAIR) and started["resumed"] is False
    assert started["schedules"]["fin-ap"]["schedule"] == "when-source-modified"
    assert started["schedules"]["fin-ap"]["job_delay"] == 300
    assert started["schedules"]["fin-ar"]["schedule"] == "every 1 days at 12:00 AM"
    assert sorted(started["cached"]) == ["fin-ap", "fin-ar"]
    for cluster in ("target", "source"):
        assert read_file(onefs, cluster, ROOT + "/lock")["run_id"] == run_id
        cache = read_file(onefs, cluster, ROOT + "/schedules.json")["policies"]
        assert cache["fin-ap"]["schedule"] == "when-source-modified"
        assert read_file(onefs, cluster, ROOT + "/runs/%s.json" % run_id)["status"] == "running"
    # the lock is created on the target first (overwrite=false), then copied to the source
    order = [(w["cluster"], w["path"]) for w in journal_writes(onefs)]
    writes = sorted(journal_writes(onefs), key=lambda w: w["seq"]) if all("seq" in w for w in journal_writes(onefs)) else None
    assert order and writes is not None
    lock_writes = [w["cluster"] for w in writes if w["path"].endswith("/lock")]
    assert lock_writes == ["target", "source"]
    assert [w for w in writes if w["path"].endswith("/lock")][0]["query"].get("overwrite") in ("false", ["false"])

    step = {"name": "Final sync", "phase": "sync", "started": 1.0, "ended": 2.0, "status": "ok",
            "objects": ["fin-ap", "fin-ar"], "changed": True, "details": {"ad_password": "s3cret"}}
    flushed = dr_run(onefs, action="flush", run_id=run_id, steps=[step])
    assert flushed["_rc"] == 0, flushed
    second = dict(step, name="Disable source policies", started=3.0, ended=4.0)
    again = dr_run(onefs, action="flush", run_id=run_id, steps=[step, second])
    assert [s["name"] for s in again["record"]["steps"]] == ["Final sync", "Disable source policies"]

    record_dir = tmp_path / "records"
    done = dr_run(onefs, action="finish", run_id=run_id, status="ok", record_dir=str(record_dir),
                  manual_actions=["Remount NFS clients"], points_in_time={"fin-ap": {"job_id": 3}})
    assert done["_rc"] == 0, done
    local = json.loads((record_dir / ("%s.json" % run_id)).read_text())
    for record in (local, read_file(onefs, "target", ROOT + "/runs/%s.json" % run_id),
                   read_file(onefs, "source", ROOT + "/runs/%s.json" % run_id)):
        assert record["status"] == "ok" and record["ended"] >= record["started"]
        assert record["operation"] == "failover_planned" and record["pair"] == PAIR
        assert record["scope"] == {"policies": ["fin-ap", "fin-ar"], "zone": None}
        assert record["plan"] == [{"step": "allow writes on target", "object": "fin-ap"}]
        assert record["schedules"]["fin-ar"]["schedule"] == "every 1 days at 12:00 AM"
        assert record["points_in_time"] == {"fin-ap": {"job_id": 3}}
        assert record["manual_actions"] == ["Remount NFS clients"]
        assert record["steps"][0]["details"]["ad_password"] == "********"
    assert read_file(onefs, "target", ROOT + "/lock") is None
    assert read_file(onefs, "source", ROOT + "/lock") is None


@pytest.mark.timeout(120)
def test_second_start_is_refused_naming_the_holder(onefs):
    first = dr_run(onefs, operation="failover_planned", policies=["fin-ap"], controller="awx-job-1")
    assert first["_rc"] == 0
    onefs.clear_log()
    second = dr_run(onefs, operation="failover_planned", policies=["fin-ap"], controller="awx-job-2")
    assert second["_rc"] != 0 and second["failed"]
    assert first["run_id"] in second["msg"] and "awx-job-1" in second["msg"]
    assert "failover_planned" in second["msg"] and "started 20" in second["msg"]
    assert journal_writes(onefs) == []
    other = dr_run(onefs, operation="reprotect", policies=["fin-ap"])
    assert other["_rc"] != 0 and first["run_id"] in other["msg"]


@pytest.mark.timeout(120)
def test_stale_lock_is_taken_over_with_a_warning(onefs):
    first = dr_run(onefs, operation="failover_planned", policies=["fin-ap"], controller="dead-controller")
    assert first["_rc"] == 0
    time.sleep(1.5)
    taken = dr_run(onefs, operation="failover_planned", policies=["fin-ap"], lock_ttl=1, controller="new")
    assert taken["_rc"] == 0, taken
    assert taken["resumed"] is True and taken["run_id"] == first["run_id"]
    assert any("stale lock" in w and "dead-controller" in w for w in taken["journal_warnings"]), taken["journal_warnings"]
    assert read_file(onefs, "target", ROOT + "/lock")["controller"] == "new"


@pytest.mark.timeout(120)
def test_resumed_run_returns_the_first_cached_schedules(onefs):
    first = dr_run(onefs, operation="failover_planned", policies=["fin-ap", "eng-src"])
    assert first["_rc"] == 0
    set_manual(onefs, "fin-ap")          # the crashed run had already set the schedules to manual
    set_manual(onefs, "eng-src")
    crashed = dr_run(onefs, action="finish", run_id=first["run_id"], status="failed")
    assert crashed["_rc"] == 0
    again = dr_run(onefs, operation="failover_planned", policies=["fin-ap", "eng-src", "fin-ar"])
    assert again["_rc"] == 0, again
    assert again["resumed"] is True and again["run_id"] == first["run_id"]
    assert again["schedules"]["fin-ap"]["schedule"] == "when-source-modified"
    assert again["schedules"]["eng-src"]["schedule"] == "when-source-modified"
    assert again["schedules"]["eng-src"]["job_delay"] == 60
    assert again["cached"] == ["fin-ar"]          # only the policy new to the scope is cached now
    record = read_file(onefs, "target", ROOT + "/runs/%s.json" % first["run_id"])
    assert record["status"] == "running" and len(record["resumes"]) == 1
    # after a crash without finish, the live lock needs takeover
    set_manual(onefs, "fin-ar")
    refused = dr_run(onefs, operation="failover_planned", policies=["fin-ar"])
    assert refused["_rc"] != 0 and "takeover" in refused["msg"]
    taken = dr_run(onefs, operation="failover_planned", policies=["fin-ar"], takeover=True)
    assert taken["_rc"] == 0 and taken["schedules"]["fin-ar"]["schedule"] == "every 1 days at 12:00 AM"
    assert any("takeover" in w for w in taken["journal_warnings"])


@pytest.mark.timeout(120)
def test_unplanned_with_the_source_down_keeps_the_journal_on_the_target(onefs):
    onefs._control("POST", "/_mock/down", "source")
    try:
        source = dict(peer(onefs), retry_budget=1, api_timeout=2)
        cached = {"fin-ap": {"schedule": "when-source-modified", "job_delay": 300, "enabled": True}}
        started = dr_run(onefs, operation="failover_unplanned", policies=["fin-ap"], peer=source,
                         peer_required=False, schedules=cached)
        assert started["_rc"] == 0, started
        assert "source" in started["journal_skipped"]
        assert started["record"]["journal_skipped"]["source"]
        assert read_file(onefs, "target", ROOT + "/runs/%s.json" % started["run_id"])["operation"] == "failover_unplanned"
        done = dr_run(onefs, action="finish", run_id=started["run_id"], peer=source, peer_required=False,
                      unfenced_policies=["fin-ap"])
        assert done["_rc"] == 0 and done["record"]["unfenced_policies"] == ["fin-ap"]
        strict = dr_run(onefs, operation="failover_planned", policies=["fin-ap"], peer=source)
        assert strict["_rc"] != 0
    finally:
        onefs._control("POST", "/_mock/up?cluster=source", "target")
    assert read_file(onefs, "source", ROOT + "/lock") is None


@pytest.mark.timeout(120)
def test_check_mode_writes_nothing_and_load_reads(onefs):
    planned = dr_run(onefs, check=True, operation="failover_planned", policies=["fin-ap"])
    assert planned["_rc"] == 0 and planned["changed"] is True
    assert planned["schedules"]["fin-ap"]["schedule"] == "when-source-modified"
    assert journal_writes(onefs) == [] and onefs.writes() == []
    loaded = dr_run(onefs, action="load", operation="failover_planned")
    assert loaded["_rc"] == 0 and loaded["changed"] is False and loaded["record"] is None and loaded["lock"] is None
    assert onefs.writes() == []


@pytest.mark.timeout(120)
def test_unlock_own_and_forced(onefs):
    first = dr_run(onefs, operation="fence", policies=["fin-ap"], controller="c1")
    refused = dr_run(onefs, action="unlock")
    assert refused["_rc"] != 0 and "force" in refused["msg"] and first["run_id"] in refused["msg"]
    forced = dr_run(onefs, action="unlock", force=True)
    assert forced["_rc"] == 0 and forced["released"]["run_id"] == first["run_id"]
    assert any("live lock" in w for w in forced["journal_warnings"])
    assert read_file(onefs, "target", ROOT + "/lock") is None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args, option", [
    ({"pair": "../etc", "operation": "fence"}, "pair"),
    ({"operation": "failover"}, "operation"),
    ({"action": "flush"}, "run_id"),
    ({"action": "start"}, "operation"),
    ({"operation": "fence", "lock_ttl": 0}, "lock_ttl"),
    ({"operation": "fence", "schedules": {"p1": "manual"}}, "schedules"),
    ({"operation": "fence", "peer": None}, "peer_required"),
])
def test_bad_options_fail_before_any_request(onefs, args, option):
    result = dr_run(onefs, **args)
    assert result["_rc"] != 0 and option in result["msg"]
    assert onefs.requests("target") == [] and onefs.requests("source") == []


@pytest.mark.timeout(180)
def test_examples_run_against_the_mock(onefs, tmp_path):
    source, target = onefs.conn("source"), onefs.conn("target")
    extra = {"target_host": target["onefs_host"], "target_port": target["onefs_port"], "target_user": "admin",
             "target_password": "admin", "source_host": source["onefs_host"], "source_port": source["onefs_port"],
             "source_user": "admin", "source_password": "admin", "ca_path": onefs.ca_path}
    rc, out, err = onefs.playbook(examples(), extra_vars=extra)
    assert rc == 0, out + err
    records = list((tmp_path / "dr-records").glob("*.json"))
    assert len(records) == 1
    text = records[0].read_text()
    assert "admin" not in json.loads(text).get("schedules", {}) and '"password"' not in text
    assert json.loads(text)["steps"][0]["name"] == "Final sync"


@pytest.mark.timeout(120)
def test_no_password_in_any_journal_file(onefs, tmp_path):
    started = dr_run(onefs, operation="failover_planned", policies=["fin-ap"],
                     details={"password": "hunter2", "nested": [{"ad_password": "hunter2"}]})
    dr_run(onefs, action="finish", run_id=started["run_id"], record_dir=str(tmp_path / "rec"),
           steps=[{"name": "x", "details": {"token": "hunter2"}}])
    for cluster in ("target", "source"):
        files = onefs.state(cluster)["files"]
        names = [path for path in files if path.startswith("/ifs/.onefs_dr/") and files[path].get("type") != "container"]
        assert names
        for path in names:
            body = json.dumps(read_file(onefs, cluster, path))
            assert "hunter2" not in body and "admin" not in body.replace('"user"', "")
    for path in (tmp_path / "rec").iterdir():
        assert "hunter2" not in path.read_text()


@pytest.mark.timeout(120)
def test_finish_with_report_writes_the_evidence_next_to_the_record(onefs, tmp_path):
    started = dr_run(onefs, operation="failover_planned", policies=["fin-ap"])
    record_dir = tmp_path / "records"
    done = dr_run(onefs, action="finish", run_id=started["run_id"], record_dir=str(record_dir), report=True)
    assert done["_rc"] == 0, done
    html = record_dir / ("%s.html" % started["run_id"])
    markdown = record_dir / ("%s.md" % started["run_id"])
    assert done["report"]["html_path"] == str(html) and done["report"]["markdown_path"] == str(markdown)
    assert "fin-ap" in html.read_text() and started["run_id"] in markdown.read_text()
    assert done["report"]["summary"]["status"] == "ok" and done["report"]["changed"] is True


@pytest.mark.timeout(120)
def test_a_report_that_cannot_be_written_leaves_the_run_recorded(onefs, tmp_path):
    started = dr_run(onefs, operation="failover_planned", policies=["fin-ap"])
    record_dir = tmp_path / "records"
    # a directory where the HTML file must go: the record is written, the report is not
    (record_dir / ("%s.html" % started["run_id"])).mkdir(parents=True)
    done = dr_run(onefs, action="finish", run_id=started["run_id"], record_dir=str(record_dir), report=True)
    assert done["_rc"] == 0, done
    assert "report" not in done and done["report_error"]
    assert "evidence report could not be written" in json.dumps(done.get("warnings")), done.get("warnings")
    assert json.loads((record_dir / ("%s.json" % started["run_id"])).read_text())["status"] == "ok"
    assert read_file(onefs, "target", ROOT + "/runs/%s.json" % started["run_id"])["status"] == "ok"
    assert read_file(onefs, "target", ROOT + "/lock") is None
