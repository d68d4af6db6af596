"""dr_report run as Ansible runs it: files next to the record, check mode, idempotence, errors.

It makes no API call: the connection options the action group would give it are accepted and
ignored (the mock's request log stays empty).
"""

import json
import os


def record(**changes):
    data = {"run_id": "20261122T031500Z-fence-prod-dr", "pair": "prod-dr", "operation": "fence", "test": False,
            "status": "ok", "started": 1795000000.0, "ended": 1795000012.5, "user": "ops", "controller": "c1",
            "scope": {"policies": ["fin-ap"], "zone": None},
            "steps": [{"name": "Step 0 - Fence", "phase": "fence", "started": 1795000001.0, "ended": 1795000012.0,
                       "status": "ok", "objects": ["fin-ap"], "changed": True}],
            "points_in_time": {}, "warnings": [], "manual_actions": [], "unfenced_policies": []}
    data.update(changes)
    return data


def test_files_next_to_the_record_then_no_change(onefs, tmp_path):
    path = tmp_path / "records" / "20261122T031500Z-fence-prod-dr.json"
    path.parent.mkdir()
    path.write_text(json.dumps(record()))
    args = dict(onefs.conn("source"), record_path=str(path), peer=onefs.conn("target"))
    first = onefs.run("dr_report", args, with_conn=False)
    assert first["_rc"] == 0 and first["changed"] is True, first
    assert first["html_path"] == str(path.parent / "20261122T031500Z-fence-prod-dr.html")
    assert first["markdown_path"] == str(path.parent / "20261122T031500Z-fence-prod-dr.md")
    assert first["summary"]["rto_s"] == 12.5
    assert [(p["name"], p["duration_s"]) for p in first["summary"]["phases"]] == [("fence", 11.0)]
    assert "html" not in first
    assert (path.parent / "20261122T031500Z-fence-prod-dr.md").read_text() == first["markdown"]
    page = (path.parent / "20261122T031500Z-fence-prod-dr.html").read_text()
    assert page.count('class="bar step-bar') == 1
    again = onefs.run("dr_report", args, with_conn=False)
    assert again["_rc"] == 0 and again["changed"] is False
    assert onefs.requests("source") == [] and onefs.requests("target") == []


def test_check_mode_writes_nothing_and_returns_the_content(onefs, tmp_path):
    out = tmp_path / "out"
    result = onefs.run("dr_report", {"record": record(), "dest_dir": str(out)}, with_conn=False, check=True)
    assert result["_rc"] == 0 and result["changed"] is True, result
    assert not out.exists()
    assert result["html"].startswith("<!DOCTYPE html>") and "Step 0 - Fence" in result["html"]
    assert "| Duration (storage RTO) | 12.5 s |" in result["markdown"]


def test_explicit_paths_and_errors(onefs, tmp_path):
    html_path, md_path = tmp_path / "a" / "x.html", tmp_path / "b" / "x.md"
    done = onefs.run("dr_report", {"record": record(), "html_path": str(html_path), "markdown_path": str(md_path)},
                     with_conn=False)
    assert done["_rc"] == 0 and html_path.exists() and md_path.exists()
    no_dest = onefs.run("dr_report", {"record": record()}, with_conn=False)
    assert no_dest["_rc"] != 0 and "dest_dir is required" in no_dest["msg"]
    not_a_record = onefs.run("dr_report", {"record": {"steps": []}, "dest_dir": str(tmp_path)}, with_conn=False)
    assert not_a_record["_rc"] != 0 and "no run_id" in not_a_record["msg"]
    missing = onefs.run("dr_report", {"record_path": str(tmp_path / "nope.json")}, with_conn=False)
    assert missing["_rc"] != 0 and "cannot read the run record" in missing["msg"]
    both = onefs.run("dr_report", {"record": record(), "record_path": str(tmp_path / "x.json")}, with_conn=False)
    assert both["_rc"] != 0 and "mutually exclusive" in both["msg"]
    assert sorted(os.listdir(str(tmp_path / "a"))) == ["x.html"]
