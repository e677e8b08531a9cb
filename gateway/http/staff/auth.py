"""Sign-in, sessions and CSRF for the staff workspace.

The session cookie is HttpOnly, SameSite=Strict, path ``/staff``, and Secure when the
request came over TLS (directly or, as a proxy says with ``X-Forwarded-Proto``; the flag
only ever narrows where the browser sends the cookie). Every POST carries the session's
CSRF token in a form field; the sign-in form, before any session, uses a double-submit
token bound to a short-lived cookie.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import re
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway import messages_ru as messages
from gateway.store.staff_users import Session, StaffUsers

__all__ = ["COOKIE", "STAFF_USERS_KEY", "SESSION_KEY", "staff_page", "set_session_cookie", "clear_session_cookie", "is_secure"]

COOKIE = "gw_staff"
LOGIN_CSRF_COOKIE = "gw_login"
STAFF_USERS_KEY = web.AppKey("staff_users", StaffUsers)
SESSION_KEY = web.RequestKey("staff_session", Session)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: What a session token looks like (``secrets.token_urlsafe``: URL-safe base64).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")


def is_secure(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def _cookie_options(request: web.Request) -> dict[str, object]:
    return {"httponly": True, "samesite": "Strict", "secure": is_secure(request), "path": "/staff"}


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    response.set_cookie(COOKIE, token, **_cookie_options(request))  # type: ignore[arg-type]


def clear_session_cookie(response: web.StreamResponse, request: web.Request) -> None:
    response.del_cookie(COOKIE, path="/staff")


def new_login_token() -> str:
    """A fresh token for the sign-in form (double submit: form field and cookie)."""
    return secrets.token_urlsafe(24)


def set_login_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=1800, **_cookie_options(request))  # type: ignore[arg-type]


def _wire(value: str) -> bytes:
    """A header or form value as its bytes: values that are not UTF-8 arrive with surrogate
    escapes, and are then simply wrong, never an encoding error."""
    return value.encode("utf-8", "surrogateescape")


def login_csrf_ok(request: web.Request, form_value: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(_wire(cookie), _wire(form_value))


def csrf_ok(session: Session, form_value: str) -> bool:
    return hmac.compare_digest(_wire(session.csrf), _wire(form_value or ""))


def staff_page(handler: Handler) -> Handler:
    """Pages for signed-in staff: others go to the sign-in page (GET) or get 403 (POST).

    POST requests must carry the session's CSRF token (form field ``csrf``).
    """
    return _signed_in(handler, check_form_csrf=True)


def staff_upload(handler: Handler) -> Handler:
    """:func:`staff_page` for a POST whose multipart form the handler streams itself
    (through :class:`~gateway.http.uploads.FormReader`): the handler must check the form's
    ``csrf`` field with :func:`csrf_ok` before it acts on anything it read."""
    return _signed_in(handler, check_form_csrf=False)


def _signed_in(handler: Handler, check_form_csrf: bool) -> Handler:
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        users = request.app[STAFF_USERS_KEY]
        token = request.cookies.get(COOKIE, "")
        # Only a token of the shape we issue is looked up (anything else is no session).
        well_formed = _TOKEN.fullmatch(token) is not None
        session = await asyncio.get_running_loop().run_in_executor(None, users.session, token) if well_formed else None
        if session is None:
            if request.method == "GET":
                target = request.path_qs if request.path.startswith("/staff/") else "/staff/"
                raise web.HTTPSeeOther("/staff/login?next=" + _quote(target))
            raise web.HTTPForbidden(text=messages.SESSION_ENDED, content_type="text/plain")
        if request.method == "POST" and check_form_csrf:
            form = await request.post()
            if not csrf_ok(session, str(form.get("csrf", ""))):
                raise csrf_refused()
        request[SESSION_KEY] = session
        return await handler(request)

    return wrapper


def csrf_refused() -> web.HTTPForbidden:
    """The answer to a form without the session's CSRF token."""
    return web.HTTPForbidden(text=messages.CSRF_REFUSED, content_type="text/plain")


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def safe_next(value: str | None) -> str:
    """Where to go after sign-in: only a path inside the workspace (no open redirect)."""
    if value and value.startswith("/staff/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/staff/"
