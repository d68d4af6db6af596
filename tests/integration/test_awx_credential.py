"""The AWX objects of extensions/awx, used the way AWX uses them, against the simulator.

No controller is involved. ``launch`` does what AWX does when a job template is launched:
it renders the credential type's injectors (file templates written to private files, then
the environment variables, with Jinja's sandbox), builds the job's extra vars in AWX's order
(template extra_vars, then survey defaults, then the launch answers) and runs the template's
playbook with them against a one-pair inventory. configure.yml runs against a stub of the
awx.awx modules that records what the real ones would send to the controller.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "extensions" / "awx"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")


class _Loader(yaml.SafeLoader):
    """Reads Ansible's ``!unsafe`` tag as a plain string."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)  # nosec - SafeLoader subclass


CREDENTIAL_TYPE = load(AWX / "credential_type.yml")
TEMPLATES = {t["name"]: t for t in load(AWX / "job_templates.yml")["onefs_dr_job_templates"]}


def cluster_inputs(onefs, side, user):
    url = onefs.mock.url(side)
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return {"%s_host" % side: host, "%s_port" % side: port, "%s_username" % side: user,
            "%s_password" % side: user, "%s_ca_cert" % side: Path(onefs.ca_path).read_text(encoding="ascii")}


def inject(inputs, private_dir):
    """The environment a job gets from a credential of the type (AWX's inject_credential)."""
    sandbox = ImmutableSandboxedEnvironment()
    namespace = dict(inputs)

    class Filename:  # pylint: disable=too-few-public-methods
        pass

    class Tower:  # pylint: disable=too-few-public-methods
        filename = Filename()

    for key, template in CREDENTIAL_TYPE["injectors"].get("file", {}).items():
        path = private_dir / ("cred-" + key.split(".", 1)[1])
        path.write_text(sandbox.from_string(template).render(**namespace), encoding="ascii")
        path.chmod(0o600)
        setattr(Tower.filename, key.split(".", 1)[1], str(path))
    namespace["tower"] = Tower()
    return {name: sandbox.from_string(template).render(**namespace)
            for name, template in CREDENTIAL_TYPE["injectors"]["env"].items()}


def run_playbook(onefs, playbook, inventory, extra_vars, env_add, check=False):
    tmp = onefs.tmp_path
    (tmp / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": inventory}}))
    (tmp / "extra_vars.json").write_text(json.dumps(extra_vars))
    env = onefs.env()
    env.update(env_add)
    for name in list(env):
        if name.startswith("ONEFS_") and name not in env_add:
            del env[name]  # only what the credential injects
    cmd = [ANSIBLE_PLAYBOOK, "-i", str(tmp / "inventory.yml"), str(playbook), "-e", "@" + str(tmp / "extra_vars.json")]
    if check:
        cmd.append("--check")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def launch(onefs, name, answers, inputs, inventory, check=False):
    """Launch job template ``name`` as AWX would; return (rc, output)."""
    template = TEMPLATES[name]
    extra_vars = dict(template["extra_vars"])
    questions = template["survey_spec"]["spec"] if template.get("survey_enabled") else []
    for question in questions:
        if "default" in question:
            extra_vars[question["variable"]] = question["default"]
    for question in questions:  # AWX refuses a launch that misses a required answer
        assert not question["required"] or question["variable"] in answers or "default" in question, question
        if question["variable"] in answers and question["type"] == "multiplechoice":
            assert answers[question["variable"]] in question["choices"]
    assert set(answers) <= {q["variable"] for q in questions}, "not allowed on launch without ask_variables_on_launch"
    extra_vars.update(answers)
    env = inject(inputs, onefs.tmp_path)
    return run_playbook(onefs, ROOT / template["playbook"], inventory, extra_vars, env, check=check)


def users_seen(onefs):
    return {c: {e.get("user") for e in onefs.requests(c) if e.get("user")} for c in ("source", "target")}


PAIR = {"onefs_dr_pair": "awx-pair", "onefs_dr_pools": [{"source": "groupnet0.subnet0.finance",
                                                         "target": "groupnet0.subnet0.finance"}],
        "onefs_dr_config_sync": True, "readiness_config_sync": True, "failover_rpo": 86400,
        "ansible_connection": "local"}


def test_injected_environment_is_what_the_modules_need(onefs):
    inputs = dict(cluster_inputs(onefs, "source", "auditor"), **cluster_inputs(onefs, "target", "admin"))
    env = inject(inputs, onefs.tmp_path)
    assert env["ONEFS_SOURCE_USERNAME"] == "auditor" and env["ONEFS_TARGET_USERNAME"] == "admin"
    assert Path(env["ONEFS_SOURCE_CA_PATH"]).read_text(encoding="ascii") == Path(onefs.ca_path).read_text(encoding="ascii")
    # No CA given: the variable is empty and the connection dict leaves ca_path out.
    inputs["source_ca_cert"] = ""
    assert inject(inputs, onefs.tmp_path)["ONEFS_SOURCE_CA_PATH"] == ""


def test_readiness_template_runs_with_the_credential_only(onefs):
    inputs = dict(cluster_inputs(onefs, "source", "auditor"), **cluster_inputs(onefs, "target", "auditor"))
    rc, out = launch(onefs, "OneFS DR - readiness", {"onefs_dr_zone": "finance"}, inputs, {"pair1": PAIR})
    assert rc == 0, out
    assert "pair1" in out and "failed=0" in out
    assert onefs.writes() == []
    assert users_seen(onefs) == {"source": {"auditor"}, "target": {"auditor"}}


def test_readiness_template_fails_on_a_wrong_password(onefs):
    inputs = dict(cluster_inputs(onefs, "source", "auditor"), **cluster_inputs(onefs, "target", "auditor"))
    inputs["target_password"] = "wrong"
    rc, out = launch(onefs, "OneFS DR - readiness", {"onefs_dr_zone": "finance"}, inputs, {"pair1": PAIR})
    assert rc != 0, out
    assert "wrong" not in out.replace("wrong password", "")  # the secret is never printed


def test_failover_template_in_check_mode_plans_and_writes_nothing(onefs):
    # job_type "check" (ask_job_type_on_launch): the role prints its plan and stops; no confirmation needed.
    inputs = dict(cluster_inputs(onefs, "source", "admin"), **cluster_inputs(onefs, "target", "admin"))
    rc, out = launch(onefs, "OneFS DR - failover", {"onefs_dr_policies": "fin-ap,fin-ar"}, inputs,
                     {"pair1": PAIR}, check=True)
    assert rc == 0, out
    assert onefs.writes() == []
    assert users_seen(onefs) == {"source": {"admin"}, "target": {"admin"}}


def test_failover_template_refuses_without_confirmation(onefs):
    # The survey does not require the confirmation (check-mode launches need none); the playbook's guard does.
    inputs = dict(cluster_inputs(onefs, "source", "admin"), **cluster_inputs(onefs, "target", "admin"))
    rc, out = launch(onefs, "OneFS DR - failover", {"onefs_dr_zone": "finance"}, inputs, {"pair1": PAIR})
    assert rc != 0 and "failover_confirm=yes" in out, out
    assert onefs.writes() == []


def test_workflow_readiness_failover_report(onefs, tmp_path):
    """The workflow's nodes in order, each a fresh job: the workflow's extra vars and survey answers
    go to every node; the report job finds the failover's record in the journal on the clusters."""
    workflow = load(AWX / "workflow_job_template.yml")["onefs_dr_workflow_templates"][0]
    answers = {"onefs_dr_policies": "fin-ap", "failover_confirm": "yes"}
    inputs = dict(cluster_inputs(onefs, "source", "admin"), **cluster_inputs(onefs, "target", "admin"))
    nodes = {n["identifier"]: n for n in workflow["schema"]}
    order = ["readiness", "failover", "report"]
    assert nodes["readiness"]["related"]["success_nodes"] == [{"identifier": "failover"}]
    assert nodes["failover"]["related"]["always_nodes"] == [{"identifier": "report"}]
    for ident in order:
        template = TEMPLATES[nodes[ident]["unified_job_template"]["name"]]
        extra_vars = dict(template["extra_vars"])
        for question in template["survey_spec"]["spec"] if template.get("survey_enabled") else []:
            if "default" in question:
                extra_vars[question["variable"]] = question["default"]
        for question in workflow["survey_spec"]["spec"]:
            if "default" in question:
                extra_vars[question["variable"]] = question["default"]
        extra_vars.update(workflow["extra_vars"])
        extra_vars.update(answers)
        job_dir = tmp_path / ident  # every job runs in its own container: nothing shared but the clusters
        job_dir.mkdir()
        inventory = {"pair1": dict(PAIR, onefs_dr_record_dir=str(job_dir), failover_poll_interval=0.2)}
        rc, out = run_playbook(onefs, ROOT / template["playbook"], inventory, extra_vars, inject(inputs, job_dir))
        assert rc == 0, "%s node failed:\n%s" % (ident, out)
    reports = sorted(p.name for p in (tmp_path / "report").rglob("*.html"))
    assert len(reports) == 1 and "failover_planned" in reports[0], reports
    state = onefs.state("target")
    records = {r["name"]: r["failover_failback_state"] for r in state["target_policies"]}
    assert records["fin-ap"] == "writes_enabled", records
    assert records["fin-ar"] == "writes_disabled", records  # outside the scope answered in the survey


# ---------------------------------------------------------------- the roles' connection defaults
def role_connection_defaults():
    """failover_source and failover_target exactly as the failover role's defaults define them."""
    defaults = yaml.safe_load((AWX.parent.parent / "roles" / "failover" / "defaults" / "main.yml").read_text())
    return dict((key, defaults[key]) for key in ("failover_source", "failover_target"))


@pytest.mark.parametrize("mode", ["addresses_in_inventory", "all_from_credential"])
def test_role_defaults_build_working_connections_from_the_credential(onefs, mode):
    defaults = role_connection_defaults()
    assert "with_env('ONEFS_SOURCE_')" in defaults["failover_source"]
    inputs = dict(cluster_inputs(onefs, "source", "auditor"), **cluster_inputs(onefs, "target", "auditor"))
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    if mode == "addresses_in_inventory":
        for side in ("source", "target"):
            host["onefs_dr_" + side] = {"onefs_host": inputs.pop(side + "_host"),
                                        "onefs_port": int(inputs.pop(side + "_port")), "ca_path": onefs.ca_path}
            inputs[side + "_ca_cert"] = ""
    playbook = onefs.tmp_path / "role_defaults.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "The failover role's connection defaults", "hosts": "all", "gather_facts": False,
        "vars": defaults,
        "tasks": [
            {"name": "Both clusters through the connection dicts",
             "onefs.dr.dr_info": {"zone": "finance", "gather": ["cluster", "policies"], "peer": "{{ failover_target }}"},
             "module_defaults": {"group/onefs.dr.onefs": "{{ failover_source }}"}, "register": "info"},
            {"name": "Show the keys", "ansible.builtin.debug":
                {"msg": "keys {{ failover_source.keys() | sort | join(',') }}"}},
        ]}]))
    rc, out = run_playbook(onefs, playbook, {"pair1": host}, {}, inject(inputs, onefs.tmp_path))
    assert rc == 0, out
    assert "keys ca_path,onefs_host,onefs_port,password,username" in out
    assert users_seen(onefs) == {"source": {"auditor"}, "target": {"auditor"}}


# ---------------------------------------------------------------- configure.yml
STUB_MODULE = """#!/usr/bin/python
# WANT_JSON
import json, os, sys
with open(sys.argv[1]) as handle:
    args = json.load(handle)
args = dict((k, v) for k, v in args.items() if not k.startswith('_ansible'))
with open(os.environ['AWX_STUB_OUT'], 'a') as out:
    out.write(json.dumps({'module': os.path.basename(__file__), 'args': args}) + '\\n')
print(json.dumps({'changed': True}))
"""


def test_configure_playbook_sends_the_objects_untouched(tmp_path):
    stub = tmp_path / "stub" / "ansible_collections" / "awx" / "awx"
    (stub / "plugins" / "modules").mkdir(parents=True)
    (stub / "galaxy.yml").write_text("namespace: awx\nname: awx\nversion: 0.0.1\nreadme: README.md\nauthors: [stub]\n")
    for name in ("credential_type", "job_template", "workflow_job_template"):
        (stub / "plugins" / "modules" / (name + ".py")).write_text(STUB_MODULE.replace("__file__", repr(name)))
    out = tmp_path / "calls.jsonl"
    env = dict(os.environ, AWX_STUB_OUT=str(out), ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "stub"))
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", str(AWX / "configure.yml")],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    calls = [json.loads(line) for line in out.read_text().splitlines()]
    by_module = {}
    for call in calls:
        by_module.setdefault(call["module"], []).append(call["args"])
    (ctype,) = by_module["credential_type"]
    assert ctype["injectors"] == CREDENTIAL_TYPE["injectors"]  # Jinja left for the controller
    assert ctype["inputs"] == CREDENTIAL_TYPE["inputs"]
    sent = {a["name"]: a for a in by_module["job_template"]}
    assert set(sent) == set(TEMPLATES)
    for name, template in TEMPLATES.items():
        assert sent[name]["extra_vars"] == template["extra_vars"], name  # still the raw Jinja text
        assert sent[name]["playbook"] == template["playbook"]
        if template.get("survey_enabled"):
            assert sent[name]["survey_spec"] == template["survey_spec"]
    workflows = load(AWX / "workflow_job_template.yml")["onefs_dr_workflow_templates"]
    (workflow,) = by_module["workflow_job_template"]
    assert workflow["schema"] == workflows[0]["schema"]
    assert workflow["survey_spec"] == workflows[0]["survey_spec"]
