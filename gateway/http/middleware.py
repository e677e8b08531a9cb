"""Middlewares of every route: any error becomes a JSON answer in Russian (never a
traceback); API keys per role (portal, staff, registry) compared in constant time."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from gateway import messages_ru as text
from gateway.http.responses import error_response
from gateway.keys import ROLE_KEY

__all__ = ["errors_middleware", "auth_middleware", "nosniff", "OPEN_PATHS"]

log = logging.getLogger("gateway")

#: Answered without a key (liveness probes, metrics scrapers, the API description).
OPEN_PATHS = frozenset({"/healthz", "/metrics", "/api/v1/openapi.json"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return error_response(exc.status, "http.error", text.HTTP_ERROR, exc.reason)
        raise
    except asyncio.CancelledError:
        raise
    except HttpProcessingError as exc:  # a malformed request found while a handler read it
        return error_response(400, "request.malformed", text.REQUEST_MALFORMED, exc.message[:200])
    except Exception:  # the one place that turns a bug into a clean 500 (logged, no traceback to clients)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", text.INTERNAL, "internal error; see gateway log")


def auth_middleware(keys: dict[str, str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    encoded = [(role, key.encode()) for role, key in keys.items()]

    @web.middleware
    async def check_key(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not encoded:
            request[ROLE_KEY] = "staff"
            return await handler(request)
        if request.path == "/staff" or request.path.startswith("/staff/"):
            # The staff workspace signs people in with its own session (gateway.http.staff).
            return await handler(request)
        # Header values arrive decoded with surrogate escapes: bytes that are not UTF-8
        # make a wrong key, never an encoding error. A key given twice is ambiguous (a proxy
        # may pass on either): no key.
        values = request.headers.getall("X-API-Key", [])
        given = values[0].encode("utf-8", "surrogateescape") if len(values) == 1 else b""
        role = None
        # Compared with every key, always, each in constant time.
        for candidate_role, key in encoded:
            if given and hmac.compare_digest(given, key) and role is None:
                role = candidate_role
        if role is not None:
            request[ROLE_KEY] = role
        elif request.path not in OPEN_PATHS:
            return error_response(401, "auth.missing_key", text.AUTH_MISSING_KEY, "X-API-Key missing or wrong")
        return await handler(request)

    return check_key



async def nosniff(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer is what its Content-Type says (member strings in a JSON or text answer
    are never rendered as HTML by a browser that opens it)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
