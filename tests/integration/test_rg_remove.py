"""rg_remove and playbooks/remove_group.yml against the mock (demo scenario)."""

from pathlib import Path

import pytest
import requests as http

from dr_roles_helpers import inventory_vars, policy, record

ROOT = Path(__file__).resolve().parents[2]


def mkdir(onefs, cluster, path):
    resp = http.put(onefs.mock.url(cluster) + "/namespace" + path, auth=("admin", "admin"), verify=onefs.ca_path,
                    headers={"x-isi-ifs-target-type": "container"}, timeout=30)
    resp.raise_for_status()


def empty_group(onefs, name="scratch"):
    """A synced policy whose directories are empty on both clusters."""
    path = "/ifs/data/eng/" + name
    mkdir(onefs, "source", path)
    result = onefs.run("synciq_policy", {"name": name, "source_root_path": path, "target_host": "target",
                                         "target_path": path, "action": "sync", "schedule": "manual"})
    assert not result.get("failed"), result
    result = onefs.run("rg_sync", {"policies": [name], "poll_interval": 0.2, "timeout": 60})
    assert not result.get("failed"), result


def remove(onefs, policies, check=False, **extra):
    args = dict(policies=policies, peer=onefs.conn("target"), poll_interval=0.2, timeout=60)
    args.update(extra)
    return onefs.run("rg_remove", args, check=check)


@pytest.mark.timeout(120)
def test_a_group_with_data_is_refused_naming_the_directories_and_nothing_is_written(onefs):
    empty_group(onefs)
    onefs.clear_log()
    result = remove(onefs, ["scratch", "fin-ap"])
    assert result["failed"]
    assert "/ifs/data/finance/ap on the source" in result["msg"] and "force: true" in result["msg"]
    assert [r["name"] for r in result["refusals"]] == ["fin-ap"]
    assert onefs.writes() == []                                    # scratch is untouched too


@pytest.mark.timeout(120)
def test_an_empty_group_is_synced_then_removed_on_both_sides_and_a_rerun_changes_nothing(onefs):
    empty_group(onefs)
    check = remove(onefs, ["scratch"], check=True)
    assert check["changed"] and check["results"][0]["actions"] == ["final sync", "delete policy (and its target record)",
                                                                   "check the target record is gone"]
    onefs.clear_log()
    result = remove(onefs, ["scratch"])
    assert not result.get("failed"), result
    assert result["results"][0]["point_in_time"]["state"] == "finished"
    assert result["leftovers"] == []
    assert policy(onefs.state("source"), "scratch") is None
    assert record(onefs.state("target"), "scratch") is None
    writes = [w for w in onefs.writes() if w["path"].startswith("/platform")]
    assert [w["method"] for w in writes] == ["POST", "DELETE"]       # the last sync, then the delete
    onefs.clear_log()
    again = remove(onefs, ["scratch"])
    assert not again["changed"] and onefs.writes() == []


@pytest.mark.timeout(120)
def test_a_forced_removal_keeps_every_file_and_lists_what_is_left(onefs):
    source_files = [p for p in onefs.state("source")["files"] if p.startswith("/ifs/data/finance/reports/")]
    result = remove(onefs, ["fin-reports"], force=True, zones=["finance"])
    assert not result.get("failed"), result
    assert policy(onefs.state("source"), "fin-reports") is None
    assert record(onefs.state("target"), "fin-reports") is None
    assert [p for p in onefs.state("source")["files"] if p.startswith("/ifs/data/finance/reports/")] == source_files
    left = "\n".join(result["leftovers"])
    assert "source: 2 entries under /ifs/data/finance/reports" in left
    assert "target: 2 entries under /ifs/data/finance/reports" in left
    assert "source: quota /ifs/data/finance/reports (directory)" in left
    assert "source: SMB share reports in zone finance" in left
    assert "source: NFS export /ifs/data/finance/reports in zone finance" in left
    assert "source: NFS alias /fin-reports in zone finance" in left


@pytest.mark.timeout(120)
def test_the_playbook_asks_for_confirmation_then_reports_the_leftovers(onefs):
    empty_group(onefs)
    text = (ROOT / "playbooks" / "remove_group.yml").read_text()
    onefs.clear_log()
    rc, out, err = onefs.playbook(text, inventory_vars(onefs, ["scratch"]))
    assert rc != 0 and "remove_group_confirm=yes" in out
    assert onefs.writes() == []
    rc, out, err = onefs.playbook(text, inventory_vars(onefs, ["scratch"], remove_group_confirm=True))
    assert rc == 0, out + err
    assert "nothing left" in out
    assert policy(onefs.state("source"), "scratch") is None
