# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the OneFS Platform API client.

Every failure the client reports is an :class:`OnefsError` carrying the HTTP
status, the PAPI error ``code`` and ``message``, and where it happened
(cluster label, method, path, object).  Modules turn it into ``fail_json``
without having to know HTTP.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re


class OnefsError(Exception):
    """A failed call to a OneFS cluster."""

    def __init__(self, message, status=None, code=None, cluster=None, method=None, path=None,
                 obj=None, field=None):
        super(OnefsError, self).__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.cluster = cluster
        self.method = method
        self.path = path
        self.obj = obj
        self.field = field

    def _where(self):
        """``source: PUT /platform/14/sync/policies/p1`` (only the parts that are known)."""
        call = " ".join(part for part in (self.method, self.path) if part)
        if self.cluster and call:
            return "%s: %s" % (self.cluster, call)
        return self.cluster or call

    def _why(self):
        """``409 AEC_CONFLICT`` (only the parts that are known)."""
        return " ".join(str(part) for part in (self.status, self.code) if part)

    def __str__(self):
        text = self._where()
        if text:
            why = self._why()
            text += " failed (%s)" % why if why else " failed"
        if self.obj:
            text += " [object %s]" % self.obj if text else "[object %s]" % self.obj
        if self.field:
            text += " [field %s]" % self.field
        return "%s: %s" % (text, self.message) if text else str(self.message)

    def to_dict(self):
        """The error as JSON-safe data for ``fail_json(error=...)``."""
        return {
            "type": type(self).__name__,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "cluster": self.cluster,
            "method": self.method,
            "path": self.path,
            "object": self.obj,
            "field": self.field,
        }


class BadRequestError(OnefsError):
    """400: the cluster rejected the request body or query."""


class UnauthorizedError(OnefsError):
    """401: bad credentials, or a session that could not be renewed."""


class ForbiddenError(OnefsError):
    """403: the user lacks a privilege; the PAPI message names it."""


class NotFoundError(OnefsError):
    """404: the object does not exist."""


class ConflictError(OnefsError):
    """409: the object exists already or is busy."""


class UnavailableError(OnefsError):
    """The cluster could not be reached or stayed busy for the whole retry budget.

    ``elapsed`` is how long the client tried, ``nodes`` which node addresses.
    """

    def __init__(self, message, elapsed=None, nodes=None, attempts=None, **kwargs):
        super(UnavailableError, self).__init__(message, **kwargs)
        self.elapsed = elapsed
        self.nodes = list(nodes or [])
        self.attempts = attempts

    def to_dict(self):
        data = super(UnavailableError, self).to_dict()
        data.update(elapsed=self.elapsed, nodes=self.nodes, attempts=self.attempts)
        return data


class TlsError(OnefsError):
    """The cluster's certificate was refused; retrying cannot help."""


class WaitTimeoutError(OnefsError):
    """A wait ended without reaching the wanted state."""

    def __init__(self, message, describe=None, last=None, timeout=None, **kwargs):
        super(WaitTimeoutError, self).__init__(message, **kwargs)
        self.describe = describe
        self.last = last
        self.timeout = timeout

    def to_dict(self):
        data = super(WaitTimeoutError, self).to_dict()
        data.update(waited_for=self.describe, last=_jsonable(self.last), timeout=self.timeout)
        return data


class WaitFailedError(WaitTimeoutError):
    """A wait stopped early because the observed state is a failure (e.g. a failed job)."""


_BY_STATUS = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    429: UnavailableError,
    502: UnavailableError,
    503: UnavailableError,
    504: UnavailableError,
}


def error_class(status):
    """The :class:`OnefsError` subclass for an HTTP status."""
    return _BY_STATUS.get(status, OnefsError)


_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")
_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _html_text(text):
    """The readable text of an HTML error page: its title, or the stripped body."""
    found = _TITLE.search(text)
    raw = found.group(1) if found else _TAGS.sub(" ", text)
    return _SPACES.sub(" ", raw).strip()


def parse_error_body(text, content_type=None):
    """``(code, message, field)`` from an error answer.

    Handles the PAPI envelope ``{"errors": [{"code", "message", "field"?}]}``
    (several entries are joined), the code-less 401 of the session layer and
    HTML error pages of the web server.  Never raises.
    """
    text = text or ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    data = _json_or_none(text)
    if isinstance(data, dict):
        found = _from_envelope(data)
        if found:
            return found
    if "html" in (content_type or "").lower() or text.lstrip().startswith("<"):
        return None, _html_text(text)[:500] or None, None
    return None, text.strip()[:500] or None, None


def _json_or_none(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _from_envelope(data):
    entries = data.get("errors")
    if not isinstance(entries, list) or not entries:
        message = data.get("message")
        return (data.get("code"), str(message), None) if message else None
    entries = [entry for entry in entries if isinstance(entry, dict)]
    if not entries:
        return None
    first = entries[0]
    code = first.get("code")
    code = str(code) if code is not None else None
    message = "; ".join(str(entry.get("message", "")).strip() for entry in entries if entry.get("message"))
    return code, message or None, first.get("field")


def error_from_response(status, text, content_type=None, reason=None, **where):
    """The typed error for an HTTP error answer; ``where`` = cluster, method, path, obj."""
    code, message, field = parse_error_body(text, content_type)
    if not message:
        message = reason or "HTTP %s" % status
    return error_class(status)(message, status=status, code=code, field=field, **where)


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
