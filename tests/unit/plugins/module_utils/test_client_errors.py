"""Parsing OneFS error answers and the text of the typed errors (no server needed)."""

import pytest

from ansible_collections.onefs.dr.plugins.module_utils.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    OnefsError,
    UnauthorizedError,
    UnavailableError,
    WaitTimeoutError,
    error_class,
    error_from_response,
    parse_error_body,
)


def test_papi_envelope_with_field():
    body = '{"errors": [{"code": "AEC_BAD_REQUEST", "message": "Field: foo is not valid", "field": "foo"}]}'
    assert parse_error_body(body) == ("AEC_BAD_REQUEST", "Field: foo is not valid", "foo")


def test_several_errors_are_joined_and_the_first_code_kept():
    body = '{"errors": [{"code": "AEC_CONFLICT", "message": "one"}, {"code": "AEC_X", "message": "two"}]}'
    assert parse_error_body(body) == ("AEC_CONFLICT", "one; two", None)


def test_codeless_401_of_the_session_layer():
    assert parse_error_body(b'{"errors":[{"message":"authorization required"}]}') == (
        None, "authorization required", None)


def test_numeric_code_becomes_a_string():
    assert parse_error_body('{"errors":[{"code": 404, "message":"x"}]}')[0] == "404"


def test_html_error_page_gives_its_title():
    page = "<html><head><title>503 Service Unavailable</title></head><body><h1>Oops</h1></body></html>"
    assert parse_error_body(page, "text/html; charset=utf-8") == (None, "503 Service Unavailable", None)


def test_html_without_title_gives_its_text():
    assert parse_error_body("<html><body><p>Bad   gateway</p></body></html>")[1] == "Bad gateway"


@pytest.mark.parametrize("body", ["", None, "   "])
def test_empty_body(body):
    assert parse_error_body(body) == (None, None, None)


def test_plain_text_body():
    assert parse_error_body("upstream went away\n") == (None, "upstream went away", None)


def test_empty_body_falls_back_to_the_reason_phrase():
    err = error_from_response(502, "", reason="Bad Gateway", cluster="target", method="GET", path="/platform/latest")
    assert isinstance(err, UnavailableError)
    assert str(err) == "target: GET /platform/latest failed (502): Bad Gateway"


@pytest.mark.parametrize("status,kind", [(400, BadRequestError), (401, UnauthorizedError), (403, ForbiddenError),
                                         (404, NotFoundError), (409, ConflictError), (503, UnavailableError),
                                         (500, OnefsError), (412, OnefsError)])
def test_error_class_by_status(status, kind):
    assert error_class(status) is kind


def test_str_names_cluster_call_code_object_and_message():
    err = ConflictError("policy p1 is busy", status=409, code="AEC_CONFLICT", cluster="source", method="PUT",
                        path="/platform/14/sync/policies/p1", obj="policy p1")
    assert str(err) == ("source: PUT /platform/14/sync/policies/p1 failed (409 AEC_CONFLICT) [object policy p1]: "
                        "policy p1 is busy")
    assert err.to_dict() == {"type": "ConflictError", "status": 409, "code": "AEC_CONFLICT",
                             "message": "policy p1 is busy", "cluster": "source", "method": "PUT",
                             "path": "/platform/14/sync/policies/p1", "object": "policy p1", "field": None}


def test_str_of_a_bare_error_is_its_message():
    assert str(OnefsError("nothing else known")) == "nothing else known"


def test_unavailable_carries_duration_and_nodes():
    err = UnavailableError("gave up", elapsed=12.5, nodes=["a:8080", "b:8080"], attempts=9, cluster="source")
    data = err.to_dict()
    assert (data["elapsed"], data["nodes"], data["attempts"]) == (12.5, ["a:8080", "b:8080"], 9)


def test_wait_timeout_to_dict_survives_unserialisable_state():
    err = WaitTimeoutError("timed out", describe="job", last=object(), timeout=5)
    assert isinstance(err.to_dict()["last"], str)
