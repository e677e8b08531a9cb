"""Status callbacks to the portal: ``/api/v1/webhooks`` to register URLs, and the outbox
handler that delivers each status change.

Every delivery is ``POST url`` with the JSON event and these headers:

- ``X-Gateway-Event-Id``: the event's id; the same event is always the same id (the portal
  deduplicates by it: delivery is at least once);
- ``X-Gateway-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Gateway-Signature``: ``sha256=`` + hex HMAC-SHA256 with the webhook's secret over
  ``timestamp + "." + body`` (the timestamp in the MAC lets the portal refuse replays).

2xx is done; 408, 425, 429, 5xx and network errors are retried by the outbox with backoff;
any other answer goes to the dead letter.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from gateway import messages_ru as text
from gateway.delivery.errors import PermanentDelivery, RetryableDelivery
from gateway.delivery.outbox import Job
from gateway.http.responses import error_response
from gateway.keys import DATABASE_KEY, ROLE_KEY
from gateway.store.webhooks import WebhookStore

__all__ = ["setup_webhook_routes", "WebhookSender", "signature"]

_RETRY_STATUSES = {408, 425, 429}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Gateway-Signature`` value."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass
class WebhookSender:
    """Outbox handler for 'webhook' jobs."""

    store: WebhookStore
    session: Any
    timeout: float = 15.0

    async def job(self, job: Job) -> None:
        hook = await asyncio.to_thread(self.store.secret, job.payload["webhook_id"])
        if hook is None:
            return None  # removed since: nothing to deliver
        url, secret = hook
        event = job.payload["event"]
        body = json.dumps(event, ensure_ascii=False, sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Gateway-Event-Id": str(event["event_id"]),
            "X-Gateway-Timestamp": timestamp,
            "X-Gateway-Signature": signature(secret, timestamp, body),
        }
        try:
            async with self.session.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=self.timeout), allow_redirects=False) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After", "")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise RetryableDelivery(f"webhook {url}: {type(exc).__name__}: {exc}"[:500]) from None
        if 200 <= status < 300:
            return None
        detail = f"webhook {url}: HTTP {status}"
        if status in _RETRY_STATUSES or status >= 500:
            raise RetryableDelivery(detail, retry_after=float(retry_after) if retry_after.isdigit() else None)
        raise PermanentDelivery(detail)


def _store(request: web.Request) -> WebhookStore:
    return WebhookStore(request.app[DATABASE_KEY])


def _denied(request: web.Request) -> web.Response | None:
    if request.get(ROLE_KEY, "staff") in ("portal", "staff"):
        return None
    return error_response(403, "auth.forbidden", text.FORBIDDEN, "portal or staff key required")


async def add_webhook(request: web.Request) -> web.Response:
    denied = _denied(request)
    if denied:
        return denied
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return error_response(400, "request.malformed", text.WEBHOOK_BODY_EXPECTED, "body is not a JSON object")
    url = str(body.get("url") or "")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or len(url) > 2000:
        return error_response(400, "webhook.url", text.WEBHOOK_URL, f"url {url[:200]!r}")
    secret = body.get("secret")
    if secret is not None and (not isinstance(secret, str) or not 16 <= len(secret) <= 256):
        return error_response(400, "webhook.secret", text.WEBHOOK_SECRET, "secret length")
    hook, secret = await asyncio.to_thread(_store(request).add, url, secret)
    return web.json_response({**hook.to_json(), "secret": secret}, status=201)


async def list_webhooks(request: web.Request) -> web.Response:
    denied = _denied(request)
    if denied:
        return denied
    return web.json_response({"items": [h.to_json() for h in await asyncio.to_thread(_store(request).active)]})


async def remove_webhook(request: web.Request) -> web.Response:
    denied = _denied(request)
    if denied:
        return denied
    if not await asyncio.to_thread(_store(request).remove, request.match_info["id"]):
        return error_response(404, "webhook.not_found", text.WEBHOOK_NOT_FOUND, "no such active webhook")
    return web.json_response({"id": request.match_info["id"], "removed": True})


def setup_webhook_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/webhooks", add_webhook)
    app.router.add_get("/api/v1/webhooks", list_webhooks)
    app.router.add_delete("/api/v1/webhooks/{id}", remove_webhook)
