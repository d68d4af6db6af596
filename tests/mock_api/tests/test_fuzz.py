"""Property-based fuzzing of every registered route of the simulator.

Random methods, versions, ids, query options and bodies (malformed JSON,
wrong types, unknown fields, unknown ids) go to every route of
``framework.routes()``.  Whatever arrives, the mock must never answer 5xx,
and every 4xx must carry a well-formed ``{"errors": [{"code", "message"}]}``.

Control routes that change the process on purpose (faults, down, seed,
reset, time, wait_idle, session expiry) are left out: they would make later
answers 503 or refuse connections by design.
"""

import json
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onefs_mock import framework
from onefs_mock.testing import start_mock

ADMIN = ("admin", "admin")
METHODS = ("GET", "POST", "PUT", "DELETE")
SAFE_CONTROL = ("/_mock/dns", "/_mock/dns/history", "/_mock/spn", "/_mock/smb", "/_mock/state",
                "/_mock/requests", "/_mock/clusters")
KNOWN_IDS = ("groupnet0", "subnet0", "pool0", "finance", "eng", "AD.EXAMPLE.COM", "ad.example.com", "fin-ap",
             "eng-src", "home", "ap", "1", "2", "%2Fsrc", "/src", "System", "ifs/data/eng/src/app/main.py",
             "ifs/data/finance", "AABpAQEAAAAAAAAAAAAAAAAAAAAAAAAB")
FIELDS = ("name", "path", "paths", "type", "zone", "spns", "user", "password", "thresholds", "persona",
          "permissions", "run_as_root", "sc_dns_zone", "sc_dns_zone_aliases", "access_zone", "enabled",
          "schedule", "source_root_path", "target_path", "target_host", "id", "action", "job_delay",
          "include_snapshots", "hard", "clients", "map_root", "state", "conflicted", "description",
          "extra_expected_spns", "machine_account", "ranges", "prefixlen", "addr_family", "conflict_rate",
          "serialize_ms", "seed", "username", "services", "force", "limit")
QUERY_KEYS = ("zone", "limit", "resume", "force", "check_duplicates", "path", "type", "persona",
              "recurse_path_children", "sort", "dir", "offset", "local_only", "name", "groupnet", "access_zone")

pytestmark = pytest.mark.timeout(600)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 40, 2 ** 40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4),
    max_leaves=12,
)
id_text = st.one_of(st.sampled_from(KNOWN_IDS), st.text(min_size=1, max_size=12))
bodies = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6).map(lambda b: ("json", b)),
    json_values.map(lambda b: ("json", b)),
    st.sampled_from([b"{", b"{\"name\": }", b"[1, 2", b"\xff\xfe", b"null", b"\"text\"", b"{}{}",
                     b"{\"name\": \"x\"} trailing"]).map(lambda b: ("raw", b)),
)
queries = st.dictionaries(st.sampled_from(QUERY_KEYS),
                          st.one_of(st.sampled_from(["true", "false", "1", "System", "eng", "-1", "abc", ""]),
                                    st.text(max_size=8)),
                          max_size=3)


@pytest.fixture(scope="module")
def mock():
    server = start_mock(clusters=("source", "target"), seed="demo", tls=False, time_scale=1000)
    yield server
    server.stop()


def fuzzable_routes():
    chosen = []
    for route in framework.routes():
        if route.template.startswith("/_mock") and route.template not in SAFE_CONTROL:
            continue
        chosen.append(route)
    return chosen


def fill(template, draw_id, version):
    parts = []
    for piece in template.split("/"):
        if piece.startswith("{") and piece.endswith("}"):
            name = piece[1:-1].split(":")[0]
            parts.append(str(version) if name == "v" else quote(draw_id(name), safe="/%" if ":path" in piece else "%"))
        else:
            parts.append(piece)
    return "/".join(parts)


@st.composite
def requests_to_send(draw):
    routes = fuzzable_routes()
    route = draw(st.sampled_from(routes))
    method = draw(st.one_of(st.just(route.method), st.sampled_from(METHODS)))
    version = draw(st.one_of(st.just(route.min_version), st.just(16), st.integers(0, 30),
                             st.sampled_from(["latest", "abc", "-1"])))
    path = fill(route.template, lambda name: draw(id_text), version)
    if draw(st.booleans()):
        path += "/"
    return method, path, draw(queries), draw(bodies)


def check_answer(method, path, response):
    where = "%s %s -> %d %s" % (method, path, response.status_code, response.text[:300])
    assert response.status_code < 500, where
    if response.status_code < 400 or method == "HEAD":         # HEAD answers carry no body
        return
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"], where
    for entry in body["errors"]:
        assert isinstance(entry.get("message"), str) and entry["message"], where
        if not (response.status_code == 401 and path.startswith("/session/")):
            # Only the session layer's 401 may come without a code (reference 1.3).
            assert isinstance(entry.get("code"), str) and entry["code"].startswith("AEC_"), where


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(request=requests_to_send(), cluster=st.sampled_from(["source", "target"]))
def test_no_route_answers_5xx_or_a_malformed_error(mock, request, cluster):
    method, path, query, body = request
    kwargs = {"params": query, "auth": ADMIN, "timeout": 10}
    if body is not None:
        kind, payload = body
        kwargs["data"] = json.dumps(payload).encode() if kind == "json" else payload
        kwargs["headers"] = {"Content-Type": "application/json"}
    response = requests.request(method, mock.url(cluster) + path, **kwargs)
    check_answer(method, path, response)


def test_every_route_is_reachable_by_the_fuzzer(mock):
    # The generator draws from this list; an empty or control-only list would test nothing.
    routes = fuzzable_routes()
    templates = {route.template for route in routes}
    assert "/platform/{v}/quota/quotas" in templates and "/platform/{v}/network/pools" in templates
    assert len(routes) > 50
