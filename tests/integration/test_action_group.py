"""``module_defaults: group/onefs.dr.onefs`` feeds the connection options to every module.

One playbook, two plays (the source and the target cluster, each with its
connection options only in ``module_defaults``), one task per module of the
collection, run in check mode.  A module that did not get its connection
options from the group fails with "missing required connection option", so
each task succeeding proves the group works for it; the request log proves
that every module really reached the mock and that check mode wrote nothing.
"""

import json
import os

import pytest
import yaml

pytestmark = pytest.mark.timeout(600)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# module -> (cluster whose play runs it, task arguments besides the connection, wants a peer)
# The arguments are harmless: they describe what the demo scenario already has, or run in check mode.
TASKS = {
    "dr_info": ("source", {"policies": ["fin-ap"], "gather": ["cluster", "policies"]}, True),
    "synciq_policy": ("source", {"name": "fin-ap", "enabled": True}, False),
    "smartconnect_zone": ("source", {"pool": "groupnet0.subnet0.finance",
                                     "sc_dns_zone": "finance.prod.example.com"}, False),
    "spn": ("source", {"provider": "AD.EXAMPLE.COM", "check": True}, False),
    "quota": ("source", {"quotas": [{"path": "/ifs/data/finance/ap", "type": "directory",
                                     "hard": "10GiB", "container": True}]}, False),
    "smb_lock": ("source", {"zone": "finance", "shares": ["ap"], "state": "locked"}, False),
    "rg_sync": ("source", {"policies": ["fin-ap"], "mode": "sync"}, False),
    "dr_readiness": ("source", {"policies": ["fin-ap"]}, True),
    # No API call: it must accept (and ignore) the group's connection options; check mode writes no file.
    "dr_report": ("source", {"record": {"run_id": "group-test", "steps": []}, "dest_dir": "/nonexistent/onefs-dr"},
                  False),
    "local_target": ("target", {"policies": ["fin-ap"], "state": "writes_disabled"}, False),
    "config_sync": ("target", {"zone": "finance", "kinds": ["smb_shares"]}, True),
    # Check mode: would hide the target's own 'src' (eng) behind the standby prefix, writes nothing.
    "dfs_shares": ("source", {"zone": "eng", "active": "source"}, True),
    "dr_plan": ("target", {"operation": "failover_planned", "policies": ["fin-ap"]}, True),
    "dr_run": ("target", {"pair": "group-test", "action": "load"}, True),
    # The demo's directories hold files: rg_remove must read both clusters and refuse before any write.
    "rg_remove": ("source", {"policies": ["fin-ap"]}, True,
                  {"failed_when": "result_rg_remove.msg is not search('not empty')"}),
    # Nothing in the demo is failed over: resync_prep must read both clusters and refuse, naming the record state.
    "resync_prep": ("source", {"policies": ["fin-ap"]}, True,
                    {"failed_when": "result_resync_prep.msg is not search('writes_disabled')"}),
}


def existing_modules():
    names = os.listdir(os.path.join(ROOT, "plugins", "modules"))
    return sorted(n[:-3] for n in names if n.endswith(".py") and not n.startswith("_"))


def group_defaults(onefs, cluster):
    return {"group/onefs.dr.onefs": onefs.conn(cluster)}


def playbook(onefs, modules):
    plays = []
    for cluster, other in (("source", "target"), ("target", "source")):
        tasks = []
        for name in modules:
            where, args, wants_peer = TASKS[name][:3]
            if where != cluster:
                continue
            args = dict(args)
            if wants_peer:
                args["peer"] = onefs.conn(other)     # peer is per task: not every module has it
            task = {"name": "group defaults reach %s" % name, "onefs.dr.%s" % name: args,
                    "register": "result_%s" % name}
            task.update(TASKS[name][3] if len(TASKS[name]) > 3 else {})   # e.g. an expected refusal
            tasks.append(task)
            tasks.append({"name": "record %s" % name, "ansible.builtin.set_fact": {
                "seen_%s" % name: "{{ result_%s is succeeded }}" % name}})
        if tasks:
            plays.append({"name": "modules on the %s cluster" % cluster, "hosts": "localhost",
                          "gather_facts": False, "module_defaults": group_defaults(onefs, cluster), "tasks": tasks})
    return yaml.safe_dump(plays, sort_keys=False)


def test_every_module_has_a_task():
    missing = [name for name in existing_modules() if name not in TASKS]
    assert not missing, "add a harmless task for %s to TASKS in %s" % (missing, __file__)


def test_group_defaults_feed_every_module(onefs):
    modules = [name for name in existing_modules() if name in TASKS]
    assert "dr_info" in modules
    rc, out, err = onefs.playbook(playbook(onefs, modules), check=True, args=("-v",))
    assert rc == 0, out[-4000:] + err[-2000:]
    assert "missing required connection option" not in out
    for name in modules:
        assert "group defaults reach %s" % name in out
    recap = out[out.rindex("PLAY RECAP"):]
    assert "failed=0" in recap, recap
    # Every play logged in to its cluster, and nothing was written in check mode.
    for cluster in ("source", "target"):
        if any(TASKS[name][0] == cluster for name in modules):
            entries = onefs.requests(cluster)
            assert any(e["path"].startswith("/platform/") for e in entries), cluster
    writes = onefs.writes()
    assert writes == [], json.dumps(writes, indent=1)[:2000]
