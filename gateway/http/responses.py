"""JSON answers shared by every HTTP route: errors in Russian with an English detail, roles."""

from __future__ import annotations

import json

from aiohttp import web

from gateway import messages_ru as text
from gateway.keys import ROLE_KEY

__all__ = ["error_response", "dumps", "role_of", "allowed"]


def error_response(status: int, code: str, message_ru: str, detail: str) -> web.Response:
    """``{"error": {code, message_ru, detail}}`` with ``status``."""
    return web.json_response({"error": {"code": code, "message_ru": message_ru, "detail": detail}}, status=status, dumps=dumps)


def dumps(value: object) -> str:
    """JSON with Cyrillic kept readable."""
    text: str = json.dumps(value, ensure_ascii=False)
    return text


def role_of(request: web.Request) -> str:
    """The caller's role (an open API treats everyone as staff)."""
    role: str = request.get(ROLE_KEY, "staff")
    return role


def allowed(request: web.Request, *roles: str) -> web.Response | None:
    """None when the caller's role is one of ``roles``, else the 403 answer."""
    if role_of(request) in roles:
        return None
    return error_response(403, "auth.forbidden", text.FORBIDDEN, f"role {role_of(request)} may not use {request.path}")
