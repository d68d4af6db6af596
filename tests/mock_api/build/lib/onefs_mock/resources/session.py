"""Users, session (cookie) auth, HTTP Basic auth and RBAC write checks.

Sessions are node-local on OneFS; here they are cluster-local: a cookie from
one cluster is unknown to another.  Cookie sessions need ``X-CSRF-Token``
(the ``isicsrf`` value) and a ``Referer`` or ``Origin`` header; Basic auth
needs neither.  Timeouts come from the scenario's ``session`` section and run
on the wall clock.
"""

import base64
import binascii
import hmac
import math
import time
import uuid
from typing import Any, Dict, Optional

from ..framework import ApiError, Response, bad_request, check_fields, register_area, route

AUTH_REQUIRED = "authorization required"
ALL_SERVICES = ["platform", "namespace"]

# What a read-only role can never do: every write.  Admin roles hold every privilege.
ROLE_WRITES = {"admin": True, "systemadmin": True, "securityadmin": True, "readonly": False, "auditadmin": False}


def _init(cluster, section: Dict[str, Any]) -> None:
    users = {}
    for user in section.get("users") or []:
        users[str(user["name"])] = {
            "name": str(user["name"]),
            "password": str(user.get("password", "")),
            "role": str(user.get("role", "admin")),
            "privileges": list(user.get("privileges") or []),
        }
    timeouts = section.get("session") or {}
    cluster.store["session"] = {
        "users": users,
        "sessions": {},
        "timeout_inactive": int(timeouts.get("timeout_inactive", 900)),
        "timeout_absolute": int(timeouts.get("timeout_absolute", 14400)),
        "basic_auth": bool(section.get("basic_auth", True)),   # sites may disable HTTP Basic on 8080
    }


def _dump(cluster) -> Dict[str, Any]:
    data = cluster.store["session"]
    return {
        "users": [{"name": u["name"], "role": u["role"]} for u in data["users"].values()],
        "sessions": [{"username": s["user"]["name"], "age_s": round(time.monotonic() - s["created"], 3)}
                     for s in data["sessions"].values()],
    }


register_area("session", init=_init, dump=_dump)


# authentication -----------------------------------------------------------

def _unauthorized() -> ApiError:
    return ApiError(401, None, AUTH_REQUIRED)


def _check_password(cluster, username: str, password: str) -> Optional[Dict[str, Any]]:
    user = cluster.store["session"]["users"].get(username)
    if user is None or not hmac.compare_digest(user["password"].encode(), password.encode()):
        return None
    return user


def _cookies(headers) -> Dict[str, str]:
    found = {}
    for part in (headers.get("cookie") or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            found[name] = value
    return found


def _live_session(cluster, session_id: Optional[str]) -> Optional[Dict[str, Any]]:
    data = cluster.store["session"]
    session = data["sessions"].get(session_id or "")
    if session is None:
        return None
    now = time.monotonic()
    if now - session["last_used"] > session["timeout_inactive"] or now - session["created"] > session["timeout_absolute"]:
        data["sessions"].pop(session_id, None)
        return None
    return session


def authenticate(cluster, headers) -> Dict[str, Any]:
    """The user of a request, or 401 'authorization required'."""
    authorization = headers.get("authorization") or ""
    if authorization[:6].lower() == "basic ":
        if not cluster.store["session"]["basic_auth"]:
            raise _unauthorized()
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise _unauthorized()
        username, _, password = decoded.partition(":")
        user = _check_password(cluster, username, password)
        if user is None:
            raise _unauthorized()
        return user
    session = _live_session(cluster, _cookies(headers).get("isisessid"))
    if session is None:
        raise _unauthorized()
    csrf = headers.get("x-csrf-token") or ""
    if not hmac.compare_digest(csrf.encode(), session["csrf"].encode()):
        raise _unauthorized()
    if not (headers.get("referer") or headers.get("origin")):
        raise _unauthorized()
    session["last_used"] = time.monotonic()
    return session["user"]


def can_write(user: Dict[str, Any], privilege: Optional[str]) -> bool:
    if ROLE_WRITES.get(user.get("role"), False):
        return True
    return privilege is not None and privilege in user.get("privileges", [])


def check_privilege(user: Dict[str, Any], api_route) -> None:
    if not api_route.write or can_write(user, api_route.privilege):
        return
    needed = api_route.privilege or "ISI_PRIV_LOGIN_PAPI"
    raise ApiError(403, "AEC_FORBIDDEN",
                   "Privilege check failed. The following write privilege is required: %s" % needed)


def expire_all(cluster) -> int:
    sessions = cluster.store["session"]["sessions"]
    count = len(sessions)
    sessions.clear()
    return count


# /session/1/session ---------------------------------------------------------

def _session_body(session: Dict[str, Any]) -> Dict[str, Any]:
    elapsed = time.monotonic() - session["created"]
    return {
        "services": session["services"],
        "timeout_absolute": max(0, int(math.ceil(session["timeout_absolute"] - elapsed))),
        "timeout_inactive": session["timeout_inactive"],
        "username": session["user"]["name"],
    }


def _cookie_flags(cluster) -> str:
    # Secure cookies are never sent back over plain HTTP, so --no-tls drops the flag.
    return "; Secure" if cluster.scheme == "https" else ""


@route("POST", "/session/1/session", write=False)
def login(req, cluster):
    body = check_fields(req.body, {"username", "password", "services"}, "session")
    for key in ("username", "password"):
        if not isinstance(body.get(key), str):
            raise ApiError(400, "AEC_ARG_REQUIRED", "Field: %s is required" % key, key)
    services = body.get("services") or ["platform"]
    if not isinstance(services, list) or any(s not in ALL_SERVICES for s in services):
        raise bad_request("Field: services must be a list of %s" % ", ".join(ALL_SERVICES), "services")
    user = _check_password(cluster, body["username"], body["password"])
    if user is None:
        raise _unauthorized()
    data = cluster.store["session"]
    session_id = str(uuid.uuid4())
    csrf = str(uuid.uuid4())
    now = time.monotonic()
    session = {"user": user, "csrf": csrf, "services": services, "created": now, "last_used": now,
               "timeout_inactive": data["timeout_inactive"], "timeout_absolute": data["timeout_absolute"]}
    data["sessions"][session_id] = session
    flags = _cookie_flags(cluster)
    cookies = [
        "isisessid=%s; path=/; HttpOnly%s; SameSite=strict" % (session_id, flags),
        "isicsrf=%s; path=/%s" % (csrf, flags),
    ]
    return Response(201, _session_body(session), {"Set-Cookie": cookies, "X-CSRF-Token": csrf})


@route("GET", "/session/1/session")
def session_info(req, cluster):
    session = _live_session(cluster, _cookies(req.headers).get("isisessid"))
    if session is None:
        raise _unauthorized()
    return _session_body(session)


@route("DELETE", "/session/1/session", write=False)
def logout(req, cluster):
    session_id = _cookies(req.headers).get("isisessid")
    if _live_session(cluster, session_id) is None:
        raise _unauthorized()
    cluster.store["session"]["sessions"].pop(session_id, None)
    return Response(204, None, {"Set-Cookie": "isisessid=deleted; path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"})
