"""Status callbacks to the portal: ``/api/v1/webhooks`` to register URLs, and the outbox
handler that delivers each status change.

Every delivery is ``POST url`` with the JSON event and these headers:

- ``X-Gateway-Event-Id``: the event's id; the same event is always the same id (the portal
  deduplicates by it: delivery is at least once);
- ``X-Gateway-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Gateway-Signature``: ``sha256=`` + hex HMAC-SHA256 with the webhook's secret over
  ``timestamp + "." + body`` (the timestamp in the MAC lets the portal refuse replays).

2xx is done; 408, 425, 429, 5xx and network errors are retried by the outbox with backoff;
any other answer (redirects are not followed) goes to the dead letter.

Deliveries reach public addresses only, unless ``[webhooks] allow_hosts`` lists the
receiver (``gateway.webhook_targets``): literal non-public addresses are refused at
registration, and each delivery connects through :class:`GuardedResolver` to an address it
has vetted (a non-public one goes to the dead letter).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from gateway import messages_ru as text
from gateway.delivery.errors import PermanentDelivery, RetryableDelivery
from gateway.delivery.outbox import Job
from gateway.http.responses import error_response
from gateway.keys import CONFIG_KEY, DATABASE_KEY, ROLE_KEY
from gateway.store.webhooks import WebhookStore
from gateway.webhook_targets import NonPublicAddress, WebhookTargets

__all__ = ["setup_webhook_routes", "WebhookSender", "signature", "GuardedResolver", "guarded_session"]

_RETRY_STATUSES = {408, 425, 429}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Gateway-Signature`` value."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class GuardedResolver(AbstractResolver):
    """aiohttp resolver returning only the addresses :class:`WebhookTargets` allows; the
    connector connects to exactly what it returns (no second lookup to rebind)."""

    def __init__(self, targets: WebhookTargets, resolver: AbstractResolver | None = None) -> None:
        self.targets = targets
        self._resolver = resolver or aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        if self.targets.name_allowed(host):
            return results
        allowed = [r for r in results if self.targets.address_allowed(ipaddress.ip_address(r["host"]))]
        if not allowed:
            refused = ", ".join(sorted({r["host"] for r in results}))
            raise NonPublicAddress(f"{host.rstrip('.')} resolves only to non-public addresses ({refused}) not in [webhooks] allow_hosts")
        return allowed

    async def close(self) -> None:
        await self._resolver.close()


def guarded_session(targets: WebhookTargets) -> aiohttp.ClientSession:
    """The client session of webhook deliveries: guarded resolver, no DNS cache, no proxy
    from the environment, no cookies carried between deliveries."""
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(targets), use_dns_cache=False)
    return aiohttp.ClientSession(connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar())


def _non_public(exc: BaseException) -> NonPublicAddress | None:
    """The guard's refusal inside an aiohttp connection error, if that is what it is."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        if isinstance(seen, NonPublicAddress):
            return seen
        seen = getattr(seen, "os_error", None) or seen.__cause__
    return None


@dataclass
class WebhookSender:
    """Outbox handler for 'webhook' jobs (``session`` should be a :func:`guarded_session`)."""

    store: WebhookStore
    session: Any
    timeout: float = 15.0
    targets: WebhookTargets = field(default_factory=WebhookTargets)

    async def job(self, job: Job) -> None:
        hook = await asyncio.to_thread(self.store.secret, job.payload["webhook_id"])
        if hook is None:
            return None  # removed since: nothing to deliver
        url, secret = hook
        # aiohttp connects to a literal address without asking the resolver: judged here
        # (registered before this guard existed, or the allowance was narrowed since).
        refusal = self.targets.literal_refusal(urllib.parse.urlsplit(url).hostname or "")
        if refusal:
            raise PermanentDelivery(f"webhook {url}: {refusal} not in [webhooks] allow_hosts"[:500])
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
            refused = _non_public(exc)
            if refused is not None:
                raise PermanentDelivery(f"webhook {url}: {refused}"[:500]) from None
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
    try:
        port_ok = parsed.port is None or parsed.port > 0
    except ValueError:
        port_ok = False
    if parsed.scheme not in ("http", "https") or not parsed.hostname or len(url) > 2000 or not port_ok:
        return error_response(400, "webhook.url", text.WEBHOOK_URL, f"url {url[:200]!r}")
    refusal = WebhookTargets.from_config(request.app[CONFIG_KEY].webhooks.allow_hosts).literal_refusal(parsed.hostname)
    if refusal:
        return error_response(400, "webhook.url_not_public", text.WEBHOOK_URL_NOT_PUBLIC, refusal)
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
