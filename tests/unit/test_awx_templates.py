"""The AWX / AAP objects in extensions/awx against AWX's rules and against the roles.

* the credential type follows AWX's rules for custom credential types (input fields,
  injector kinds, environment variable names, multi-file syntax) and its injectors render in
  AWX's sandbox with only the declared inputs;
* the injected variable names are exactly the ones the connection dicts read
  (extensions/awx/onefs_dr_env.yml), and every job template carries that same text;
* every survey is one AWX would accept (the survey_spec endpoint's checks);
* every survey and extra variable maps to the role its playbook runs: an option of
  roles/<role>/meta/argument_specs.yml (with choices, bool and int answers that fit), a shared
  onefs_dr_* variable the role's defaults read, or the playbook's confirmation guard;
* the workflow's nodes name existing templates and chain readiness -> failover -> report.

A template whose role (or, for roles, whose playbook) does not exist yet is skipped, saying so.
"""

import re
from pathlib import Path

import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible.module_utils.common.validation import check_type_bool

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "extensions" / "awx"

SIDES = ("SOURCE", "TARGET")
ENV_SUFFIXES = ("HOST", "PORT", "USERNAME", "PASSWORD", "CA_PATH")
EXPECTED_ENV = {"ONEFS_%s_%s" % (side, suffix) for side in SIDES for suffix in ENV_SUFFIXES}
CONNECTION_KEYS = {"HOST": "onefs_host", "PORT": "onefs_port", "USERNAME": "username",
                   "PASSWORD": "password", "CA_PATH": "ca_path"}

# AWX: awx/main/fields.py (CredentialTypeInputField / CredentialTypeInjectorField) and the
# survey_spec view's _validate_spec_data.
NAME_RE = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
FILE_KEY_RE = re.compile(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$")
FIELD_KEYS = {"id", "label", "type", "format", "choices", "help_text", "multiline", "secret",
              "ask_at_runtime", "default"}
# A few of the names AWX refuses in injectors (its ENV_BLOCKLIST), besides every ANSIBLE_*.
ENV_BLOCKED = {"PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID",
               "INVENTORY_UPDATE_ID", "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN",
               "MAX_EVENT_RES", "CALLBACK_QUEUE", "CALLBACK_CONNECTION", "CACHE",
               "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS", "AWX_HOST", "PROJECT_REVISION"}
SURVEY_TYPES = {"text": str, "textarea": str, "password": str, "integer": int, "float": (float, int),
                "multiplechoice": str, "multiselect": str}
JOB_TEMPLATE_NAMES = {"OneFS DR - readiness", "OneFS DR - failover", "OneFS DR - rehearsal",
                      "OneFS DR - failback", "OneFS DR - reprotect", "OneFS DR - report"}
CONNECTION_VARS = {"onefs_dr_source", "onefs_dr_target"}


class _Loader(yaml.SafeLoader):
    """PyYAML loader that reads Ansible's ``!unsafe`` tag as a plain string."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)  # nosec - SafeLoader subclass


def normalize(text):
    return " ".join(str(text).split())


CREDENTIAL_TYPE = load(AWX / "credential_type.yml")
ENV_VARS_FILE = load(AWX / "onefs_dr_env.yml")
JOB_TEMPLATES = load(AWX / "job_templates.yml")["onefs_dr_job_templates"]
WORKFLOWS = load(AWX / "workflow_job_template.yml")["onefs_dr_workflow_templates"]


# ---------------------------------------------------------------- credential type
def test_credential_type_inputs_follow_awx_rules():
    ctype = CREDENTIAL_TYPE
    assert set(ctype) <= {"name", "description", "kind", "inputs", "injectors"}
    assert ctype["kind"] in ("cloud", "net"), "custom credential types must be cloud or net"
    assert set(ctype["inputs"]) <= {"fields", "required"}, "AWX refuses 'dependencies' for custom types"
    ids = []
    for field in ctype["inputs"]["fields"]:
        assert set(field) <= FIELD_KEYS, field
        assert {"id", "label"} <= set(field), field
        assert NAME_RE.match(field["id"]) and field["id"] != "tower", field["id"]
        ftype = field.get("type", "string")
        assert ftype in ("string", "boolean")
        if ftype != "string":
            assert not set(field) & {"choices", "multiline", "format", "secret"}, field
        if "default" in field:
            assert isinstance(field["default"], {"string": str, "boolean": bool}[ftype]), field
        if "password" in field["id"]:
            assert field.get("secret") is True, "%s must be secret" % field["id"]
        ids.append(field["id"])
    assert len(ids) == len(set(ids)), "field ids must be unique"
    assert set(ctype["inputs"].get("required", [])) <= set(ids)


def _awx_namespace():
    """What AWX's validation renders injectors with: each input, and tower.filename.<file>."""
    namespace = {field["id"]: "EXAMPLE" for field in CREDENTIAL_TYPE["inputs"]["fields"]}
    files = [key.split(".", 1)[1] for key in CREDENTIAL_TYPE["injectors"].get("file", {}) if "." in key]

    class Filename:  # pylint: disable=too-few-public-methods
        pass

    class Tower:  # pylint: disable=too-few-public-methods
        filename = Filename()

    for name in files:
        setattr(Tower.filename, name, "/runner/env/" + name)
    namespace["tower"] = Tower()
    return namespace


def test_credential_type_injectors_follow_awx_rules():
    injectors = CREDENTIAL_TYPE["injectors"]
    assert set(injectors) <= {"file", "env", "extra_vars"}
    file_keys = list(injectors.get("file", {}))
    assert all(FILE_KEY_RE.match(key) for key in file_keys), file_keys
    assert not ("template" in file_keys and len(file_keys) > 1), "multi-file syntax must be used for several files"
    for name, value in injectors.get("env", {}).items():
        assert NAME_RE.match(name), name
        assert not name.startswith("ANSIBLE_") and name not in ENV_BLOCKED, name
        assert isinstance(value, str) and value.isascii(), name
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    namespace = _awx_namespace()
    for kind in ("file", "env", "extra_vars"):
        for key, template in injectors.get(kind, {}).items():
            env.from_string(template).render(namespace)  # raises on an undeclared input


def test_credential_type_injects_both_clusters():
    env = CREDENTIAL_TYPE["injectors"]["env"]
    assert set(env) == EXPECTED_ENV
    secret_ids = {f["id"] for f in CREDENTIAL_TYPE["inputs"]["fields"] if f.get("secret")}
    for side in SIDES:
        password_template = env["ONEFS_%s_PASSWORD" % side]
        assert any(sid in password_template for sid in secret_ids), "passwords come from secret inputs"
        ca_template = env["ONEFS_%s_CA_PATH" % side]
        assert "tower.filename." in ca_template, "the CA path is the file AWX writes"


def test_injected_names_are_the_ones_the_connection_dicts_read():
    injected = set(CREDENTIAL_TYPE["injectors"]["env"])
    assert set(ENV_VARS_FILE) == CONNECTION_VARS
    read = set()
    for var, side in (("onefs_dr_source", "SOURCE"), ("onefs_dr_target", "TARGET")):
        text = ENV_VARS_FILE[var]
        keys = re.search(r"dict\(\[(.*?)\]", text, re.S).group(1)
        keys = [k.strip().strip("'\"") for k in keys.split(",")]
        names = re.findall(r"'(ONEFS_[A-Z_]+)'", text)
        assert names == ["ONEFS_%s_%s" % (side, s) for s in ENV_SUFFIXES], names
        assert keys == [CONNECTION_KEYS[s] for s in ENV_SUFFIXES], keys
        read.update(names)
    assert read == injected


@pytest.mark.parametrize("template", JOB_TEMPLATES, ids=lambda t: t["name"])
def test_job_templates_carry_the_vars_file(template):
    for var in CONNECTION_VARS:
        assert normalize(template["extra_vars"][var]) == normalize(ENV_VARS_FILE[var]), \
            "%s: extra_vars.%s differs from extensions/awx/onefs_dr_env.yml" % (template["name"], var)


# ---------------------------------------------------------------- surveys
def check_survey(spec):
    """Raise AssertionError where AWX's survey_spec endpoint would answer 400."""
    assert isinstance(spec.get("name"), str) and isinstance(spec.get("description"), str)
    assert isinstance(spec.get("spec"), list) and spec["spec"], "spec must be a non-empty list"
    seen = set()
    for item in spec["spec"]:
        for key in ("type", "question_name", "variable"):
            assert isinstance(item.get(key), str), (key, item)
        assert isinstance(item.get("required"), bool), item
        assert NAME_RE.match(item["variable"]), item["variable"]
        assert item["variable"] not in seen, "variable %s twice" % item["variable"]
        seen.add(item["variable"])
        qtype = item["type"]
        assert qtype in SURVEY_TYPES, qtype
        if "default" in item:
            assert isinstance(item["default"], SURVEY_TYPES[qtype]), item
        for key in ("min", "max"):
            if item.get(key) is not None:
                assert isinstance(item[key], int), item
        if qtype in ("multiplechoice", "multiselect"):
            choices = item.get("choices")
            assert isinstance(choices, list) and choices, item
            assert all(isinstance(c, str) for c in choices), item
            if "default" in item:
                assert item["default"] in choices, item
        if qtype == "integer" and "default" in item:
            assert item.get("min", item["default"]) <= item["default"] <= item.get("max", item["default"]), item


ALL_TEMPLATES = JOB_TEMPLATES + WORKFLOWS


@pytest.mark.parametrize("template", [t for t in ALL_TEMPLATES if t.get("survey_enabled")], ids=lambda t: t["name"])
def test_surveys_are_valid_for_awx(template):
    check_survey(template["survey_spec"])


def test_the_expected_templates_exist():
    assert {t["name"] for t in JOB_TEMPLATES} == JOB_TEMPLATE_NAMES
    assert len(WORKFLOWS) == 1


# ---------------------------------------------------------------- templates vs. roles
class Target:
    """What a job template runs: its playbook, the role that playbook includes, and their variables."""

    def __init__(self, template):
        self.template = template
        self.playbook = ROOT / template["playbook"]
        self.role = self.playbook.stem
        self.role_dir = ROOT / "roles" / self.role

    def require(self):
        if not self.role_dir.is_dir():
            pytest.skip("role %s does not exist yet: template %r not checked" % (self.role, self.template["name"]))
        assert self.playbook.is_file(), "%s: playbook %s is missing" % (self.template["name"], self.playbook)
        text = self.playbook.read_text(encoding="utf-8")
        assert "onefs.dr.%s" % self.role in text, "%s does not run role onefs.dr.%s" % (self.playbook, self.role)

    @property
    def options(self):
        specs = yaml.safe_load((self.role_dir / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
        return specs["argument_specs"]["main"]["options"]

    @property
    def defaults_text(self):
        path = self.role_dir / "defaults" / "main.yml"
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    @property
    def playbook_text(self):
        return self.playbook.read_text(encoding="utf-8")

    def kind(self, variable):
        """'option', 'shared' (a onefs_dr_* variable the role's defaults read), 'guard', or None."""
        if variable in self.options:
            return "option"
        if variable.startswith("onefs_dr_") and re.search(r"\{\{\s*%s\b" % re.escape(variable), self.defaults_text):
            return "shared"
        if re.search(r"\b%s\s*\|\s*default\([^)]*\)\s*\|\s*bool" % re.escape(variable), self.playbook_text):
            return "guard"
        return None

    def shared_option(self, variable):
        """The role option whose default is the shared variable (onefs_dr_zone -> failover_zone)."""
        for line in self.defaults_text.splitlines():
            match = re.match(r"^(\w+):\s*\"\{\{\s*%s\b" % re.escape(variable), line)
            if match:
                return match.group(1)
        return None


def check_answer(target, item):
    """The survey question fits the variable it sets."""
    variable = item["variable"]
    kind = target.kind(variable)
    assert kind, "%s: survey variable %s is neither an option of role %s, a onefs_dr_* variable its defaults read, " \
                 "nor a guard of %s" % (target.template["name"], variable, target.role, target.playbook.name)
    answers = list(item.get("choices") or []) + ([item["default"]] if "default" in item else [])
    if kind == "guard":
        # not required by the survey (a check-mode launch needs none; the playbook's guard refuses a real
        # run without it), never defaulted, and only affirmative answers to choose
        assert item["type"] == "multiplechoice" and "default" not in item, \
            "%s: a confirmation has no default and only affirmative choices" % variable
        assert all(check_type_bool(choice) for choice in item["choices"]), item["choices"]
        return
    spec = target.options[variable] if kind == "option" else target.options[target.shared_option(variable)]
    stype = spec.get("type", "str")
    if spec.get("choices"):
        assert item["type"] == "multiplechoice", variable
        assert set(item["choices"]) <= {str(c) for c in spec["choices"]}, \
            "%s: survey choices %s not in the argument spec's %s" % (variable, item["choices"], spec["choices"])
    if stype == "bool":
        for answer in answers:
            check_type_bool(answer)  # raises TypeError on an answer Ansible cannot read as a bool
    elif stype == "int":
        assert item["type"] == "integer", variable
    elif stype == "list":
        # AWX answers text; Ansible's list type splits "p1,p2" on commas
        assert item["type"] in ("text", "textarea", "multiselect"), variable
    elif stype == "str":
        assert item["type"] in ("text", "textarea", "multiplechoice"), variable


@pytest.mark.parametrize("template", JOB_TEMPLATES, ids=lambda t: t["name"])
def test_survey_variables_map_to_the_role(template):
    target = Target(template)
    target.require()
    for item in template.get("survey_spec", {}).get("spec", []) if template.get("survey_enabled") else []:
        check_answer(target, item)


@pytest.mark.parametrize("template", JOB_TEMPLATES, ids=lambda t: t["name"])
def test_extra_vars_map_to_the_role(template):
    target = Target(template)
    target.require()
    for variable, value in template["extra_vars"].items():
        if variable in CONNECTION_VARS:
            assert target.kind(variable) == "shared", "role %s does not read %s" % (target.role, variable)
            continue
        assert target.kind(variable) == "option", variable
        choices = target.options[variable].get("choices")
        if choices:
            assert value in choices, (variable, value, choices)


def test_confirmation_is_asked_wherever_the_playbook_guards():
    for template in JOB_TEMPLATES:
        playbook = ROOT / template["playbook"]
        if not playbook.is_file():
            continue
        guards = set(re.findall(r"\b(\w+_confirm)\s*\|\s*default", playbook.read_text(encoding="utf-8")))
        asked = {q["variable"] for q in template.get("survey_spec", {}).get("spec", [])}
        assert guards <= asked, "%s does not ask %s" % (template["name"], guards - asked)


# ---------------------------------------------------------------- workflow
def test_workflow_nodes_and_edges():
    workflow = WORKFLOWS[0]
    names = {t["name"] for t in JOB_TEMPLATES}
    nodes = {node["identifier"]: node for node in workflow["schema"]}
    assert len(nodes) == len(workflow["schema"]), "identifiers must be unique"
    edges = {}
    for ident, node in nodes.items():
        ujt = node["unified_job_template"]
        assert ujt["type"] == "job_template" and ujt["name"] in names, ujt
        related = node["related"]
        for kind in ("success_nodes", "failure_nodes", "always_nodes", "credentials"):
            assert isinstance(related.get(kind), list), (ident, kind)  # the module wants all four
        for kind in ("success_nodes", "failure_nodes", "always_nodes"):
            for child in related[kind]:
                assert child["identifier"] in nodes, child
                edges.setdefault(ident, []).append((kind, child["identifier"]))
    # acyclic
    state = {}

    def visit(ident):
        assert state.get(ident) != "open", "cycle through %s" % ident
        if state.get(ident) == "done":
            return
        state[ident] = "open"
        for _kind, child in edges.get(ident, []):
            visit(child)
        state[ident] = "done"

    for ident in nodes:
        visit(ident)
    template_of = {ident: node["unified_job_template"]["name"] for ident, node in nodes.items()}
    chain = [(template_of[a], kind, template_of[b]) for a, out in edges.items() for kind, b in out]
    assert ("OneFS DR - readiness", "success_nodes", "OneFS DR - failover") in chain
    assert ("OneFS DR - failover", "always_nodes", "OneFS DR - report") in chain


def test_workflow_variables_reach_a_node_that_uses_them():
    workflow = WORKFLOWS[0]
    by_name = {t["name"]: t for t in JOB_TEMPLATES}
    targets = [Target(by_name[n["unified_job_template"]["name"]]) for n in workflow["schema"]]
    present = [t for t in targets if t.role_dir.is_dir()]
    if not present:
        pytest.skip("none of the workflow's roles exist yet")
    questions = {q["variable"]: q for q in workflow["survey_spec"]["spec"]}
    for variable in list(questions) + list(workflow["extra_vars"]):
        users = [t for t in present if t.kind(variable)]
        assert users, "workflow variable %s is used by none of %s" % (variable, [t.role for t in present])
        if variable in questions:
            for target in users:
                check_answer(target, questions[variable])
    failover = [t for t in present if t.role == "failover"]
    if failover:
        choices = failover[0].options["failover_type"]["choices"]
        assert workflow["extra_vars"]["failover_type"] in choices
