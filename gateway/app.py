"""The HTTP API (aiohttp): the app factory, middlewares, ``/healthz`` and ``POST /api/v1/verify``.

Resources (database, blob store, member list, trust store, validation pipeline, thread
pools) live in one ``cleanup_ctx``. Every error becomes a JSON answer with a Russian
message, never a traceback. API keys per role (portal, staff, registry) are compared in
constant time; with no keys configured the API is open (embedded default on loopback).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import BodyPartReader, web

from gateway.api import SlowClient, error_response, multipart_precheck, read_chunk, safe_name, setup_routes
from gateway.effects import EMAIL_TARGET, REGISTRY_TARGET
from gateway.events import digest_scheduler, setup_event_routes
from gateway.http.staff import setup_staff
from gateway.http.submissions_list import setup_list_routes
from gateway.http.webhooks import setup_webhook_routes
from gateway.outbox import Outbox, OutboxWorker, RetryPolicy
from gateway.config import Config
from gateway.keys import (
    BACKGROUND_KEY,
    BLOBS_KEY,
    CONFIG_KEY,
    DATABASE_KEY,
    GOST_EXECUTOR_KEY,
    GOST_KEY,
    HTTP_SESSION_KEY,
    MEMBERS_KEY,
    METRICS_KEY,
    OUTBOX_KEY,
    OUTBOX_WORKER_KEY,
    PIPELINE_KEY,
    REPOSITORY_KEY,
    ROLE_KEY,
    STARTED_KEY,
    TRUST_KEY,
    UPLOAD_EXECUTOR_KEY,
    VERIFY_EXECUTOR_KEY,
)
from gateway.pipeline import Pipeline
from gateway.store.blobs import BlobStore
from gateway.store.db import Database
from gateway.store.submissions import SubmissionRepository
from validators.gost import gost_support
from validators.members import MemberList
from validators.signatures.locate import verify_document
from validators.signatures.model import RevocationMode, VerificationReport
from validators.signatures.verify import MAX_SIGNATURE_FILE_SIZE, VerificationPolicy
from validators.trust import load_trust_store

__all__ = ["create_app", "run", "safe_name"]

log = logging.getLogger("gateway")

_CHUNK = 1 << 16
_OPEN_PATHS = {"/healthz", "/metrics", "/api/v1/openapi.json"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _TooLarge(Exception):
    pass


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return error_response(exc.status, "http.error", "Запрос не может быть выполнен.", exc.reason)
        raise
    except asyncio.CancelledError:
        raise
    except Exception:  # the one place that turns a bug into a clean 500 (logged, no traceback to clients)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", "Внутренняя ошибка шлюза. Повторите попытку позже.", "internal error; see gateway log")


def _auth_middleware(keys: dict[str, str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    encoded = [(role, key.encode()) for role, key in keys.items()]

    @web.middleware
    async def check_key(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not encoded:
            request[ROLE_KEY] = "staff"
            return await handler(request)
        if request.path in _OPEN_PATHS or request.path == "/staff" or request.path.startswith("/staff/"):
            # The staff workspace signs people in with its own session (gateway.http.staff).
            return await handler(request)
        given = request.headers.get("X-API-Key", "").encode()
        role = None
        # Compared with every key, always, each in constant time.
        for candidate_role, key in encoded:
            if hmac.compare_digest(given, key) and role is None:
                role = candidate_role
        if role is None:
            return error_response(401, "auth.missing_key", "Нет доступа: не указан или неверен ключ API.", "X-API-Key missing or wrong")
        request[ROLE_KEY] = role
        return await handler(request)

    return check_key


async def _healthz(request: web.Request) -> web.Response:
    support = request.app[GOST_KEY]
    store = request.app[TRUST_KEY]
    members = request.app[MEMBERS_KEY]
    return web.json_response(
        {
            "status": "ok",
            "gost": {"available": support.available, "problem": support.problem},
            "trust_store": {
                "roots": len(store.roots),
                "ca": len(store.intermediates),
                "crl": len(store.crls),
                "tsl": store.tsl is not None,
                "problems": list(store.problems),
            },
            "members": {"count": len(members), "problem": members.problem},
            "queue": request.app[PIPELINE_KEY].queue.qsize(),
            "uptime_seconds": round(time.monotonic() - request.app[STARTED_KEY], 1),
        },
        dumps=_dumps,
    )


async def _save_part(part: BodyPartReader, target: Path, limit: int, used: int, timeout: float) -> int:
    """Stream one part to ``target``; returns the new running total of body bytes."""
    with open(target, "wb") as out:
        while chunk := await read_chunk(part, timeout, _CHUNK):
            used += len(chunk)
            if used > limit:
                raise _TooLarge()
            out.write(chunk)
    return used


async def _verify(request: web.Request) -> web.Response:
    if request.get(ROLE_KEY) not in ("portal", "staff"):
        return error_response(403, "auth.forbidden", "Нет доступа к этому ресурсу.", "role may not verify")
    config = request.app[CONFIG_KEY]
    limit = config.server.max_request_bytes
    refused = multipart_precheck(request, limit, "Ожидается форма multipart/form-data с файлами document и signature.")
    if refused:
        return refused
    revocation = request.query.get("revocation", config.verification.revocation.value)
    if revocation not in {m.value for m in RevocationMode}:
        return error_response(400, "request.revocation", "Неверное значение параметра revocation.", "revocation must be require, soft or off")
    workdir = Path(tempfile.mkdtemp(prefix="gateway-verify-"))
    try:
        document: Path | None = None
        signature: Path | None = None
        used = 0
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "document" and document is None:
                document = workdir / "document" / safe_name(part.filename, "document")
                document.parent.mkdir()
                used = await _save_part(part, document, limit, used, config.server.body_timeout)
            elif part.name == "signature" and signature is None:
                signature = workdir / "signature" / safe_name(part.filename, "signature.sig")
                signature.parent.mkdir()
                used = await _save_part(part, signature, min(limit, used + MAX_SIGNATURE_FILE_SIZE), used, config.server.body_timeout)
            else:
                await part.release()
        if document is None:
            return error_response(400, "request.no_document", "Не передан файл документа (поле document).", "multipart part 'document' is required")
        policy = VerificationPolicy(revocation=RevocationMode(revocation))
        loop = asyncio.get_running_loop()
        report: VerificationReport = await loop.run_in_executor(
            request.app[VERIFY_EXECUTOR_KEY], verify_document, document, request.app[TRUST_KEY], policy, signature
        )
        return web.json_response(report.to_json(), dumps=_dumps)
    except _TooLarge:
        return error_response(413, "request.too_large", "Файл слишком большой.", f"body over {limit} bytes")
    except SlowClient:
        return error_response(408, "request.timeout", "Передача файла прервалась. Отправьте документ ещё раз.", f"no data for {config.server.body_timeout} s")
    except ValueError as exc:  # malformed multipart
        return error_response(400, "request.malformed", "Запрос повреждён: не удалось прочитать форму.", str(exc)[:200])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


async def _resources(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG_KEY]
    app[GOST_KEY] = gost_support(config.verification.openssl_gost_conf)
    if not app[GOST_KEY].available:
        log.error("%s", app[GOST_KEY].problem)
    app[TRUST_KEY] = load_trust_store(config.verification.trust_dir)
    for problem in app[TRUST_KEY].problems:
        log.warning("trust store: %s", problem)
    app[MEMBERS_KEY] = MemberList(config.storage.members_csv)
    if app[MEMBERS_KEY].problem:
        log.warning("member list: %s", app[MEMBERS_KEY].problem)
    data = config.storage.data_dir
    app[DATABASE_KEY] = Database(data / "gateway.sqlite3", busy_timeout=config.server.db_busy_timeout)
    app[REPOSITORY_KEY] = SubmissionRepository(app[DATABASE_KEY])
    app[BLOBS_KEY] = BlobStore(data / "files")
    app[VERIFY_EXECUTOR_KEY] = ThreadPoolExecutor(max_workers=config.server.verify_workers, thread_name_prefix="verify")
    app[UPLOAD_EXECUTOR_KEY] = ThreadPoolExecutor(max_workers=4, thread_name_prefix="upload")
    app[GOST_EXECUTOR_KEY] = ThreadPoolExecutor(max_workers=4, thread_name_prefix="upload-gost")
    app[PIPELINE_KEY] = Pipeline(config, app[REPOSITORY_KEY], app[BLOBS_KEY], app[MEMBERS_KEY], app[TRUST_KEY])
    app[HTTP_SESSION_KEY] = aiohttp.ClientSession()
    worker = _outbox_worker(app)
    app[OUTBOX_WORKER_KEY] = worker
    app[PIPELINE_KEY].on_decided = worker.wake
    await worker.start()
    await app[PIPELINE_KEY].start()
    background = []
    if config.delivery.digest_hour_utc >= 0:
        background.append(asyncio.create_task(digest_scheduler(app, config.delivery.digest_hour_utc, config.mail.staff_address)))
    app[BACKGROUND_KEY] = background
    app[STARTED_KEY] = time.monotonic()
    yield
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    await app[PIPELINE_KEY].stop()
    await worker.stop()
    await app[HTTP_SESSION_KEY].close()
    app[VERIFY_EXECUTOR_KEY].shutdown(wait=True, cancel_futures=True)
    app[UPLOAD_EXECUTOR_KEY].shutdown(wait=True, cancel_futures=True)
    app[GOST_EXECUTOR_KEY].shutdown(wait=True, cancel_futures=True)
    app[DATABASE_KEY].close()


def _outbox_worker(app: web.Application) -> OutboxWorker:
    """The outbox worker with the registry (HTTP or local) and mail (SMTP or .eml) behind it."""
    from gateway.jobs import JobHandlers
    from gateway.mail.compose import MailSettings
    from gateway.mail.transport import EmlFolderTransport, SmtpSettings, SmtpTransport
    from gateway.registry.client import HttpRegistry
    from gateway.http.webhooks import WebhookSender
    from gateway.registry.local import LocalRegistry
    from gateway.store.webhooks import WEBHOOK_TARGET, WebhookStore

    config = app[CONFIG_KEY]
    delivery, mail, data = config.delivery, config.mail, config.storage.data_dir
    registry: Any
    if delivery.registry_url:
        registry = HttpRegistry(
            delivery.registry_url,
            app[HTTP_SESSION_KEY],
            timeout=delivery.registry_timeout,
            ca_bundle=Path(delivery.registry_ca_bundle) if delivery.registry_ca_bundle else None,
        )
    else:
        registry = LocalRegistry(data / "registry.sqlite3", data / "registry")
    transport: Any
    if mail.smtp_host:
        transport = SmtpTransport(
            SmtpSettings(
                host=mail.smtp_host,
                port=mail.smtp_port,
                security=mail.smtp_security,  # type: ignore[arg-type]
                username=mail.smtp_username or None,
                password=mail.smtp_password or None,
                timeout=mail.smtp_timeout,
                ca_bundle=Path(mail.smtp_ca_bundle) if mail.smtp_ca_bundle else None,
            )
        )
    else:
        transport = EmlFolderTransport(mail.eml_dir)
    settings = MailSettings(
        sender=mail.sender,
        reply_to=mail.reply_to or None,
        sro_contact=mail.sro_contact,
        staff_address=mail.staff_address,
        portal_url=mail.portal_url,
        staff_url=mail.staff_url,
    )
    handlers = JobHandlers(app[REPOSITORY_KEY], app[BLOBS_KEY], registry, transport, settings)
    outbox = Outbox(app[DATABASE_KEY])
    app[OUTBOX_KEY] = outbox
    webhooks = WebhookSender(WebhookStore(app[DATABASE_KEY]), app[HTTP_SESSION_KEY], timeout=delivery.registry_timeout)
    worker = OutboxWorker(
        outbox,
        {"registry": handlers.registry_job, "email": handlers.email_job, "webhook": webhooks.job},
        policy=RetryPolicy(
            max_attempts=delivery.max_attempts,
            base_delay=delivery.base_delay,
            max_delay=delivery.max_delay,
            lease_seconds=delivery.lease_seconds,
        ),
        poll_interval=delivery.poll_interval,
    )
    worker.add_target(REGISTRY_TARGET, delivery.registry_concurrency)
    worker.add_target(EMAIL_TARGET, delivery.email_concurrency, delivery.email_rate_per_second or None)
    worker.add_target(WEBHOOK_TARGET, delivery.registry_concurrency)
    return worker


def create_app(config: Config) -> web.Application:
    """The aiohttp application for ``config``."""
    app = web.Application(
        middlewares=[_errors, _auth_middleware(dict(config.auth.api_keys))],
        client_max_size=config.server.max_request_bytes,
    )
    app[CONFIG_KEY] = config
    app[METRICS_KEY] = {}
    app.cleanup_ctx.append(_resources)
    app.router.add_get("/healthz", _healthz)
    app.router.add_post("/api/v1/verify", _verify)
    setup_routes(app)
    setup_event_routes(app)
    setup_list_routes(app)
    setup_webhook_routes(app)
    setup_staff(app)
    return app


async def close_slow_connections(server: web.Server, header_timeout: float, interval: float = 1.0) -> None:
    """Close connections that have not completed a request head within ``header_timeout``.

    aiohttp has no header timeout of its own; without one, clients sending a byte now and
    then (slowloris) hold sockets forever. A connection counts as slow while aiohttp has
    parsed no request on it (``RequestHandler._request_count``; a test fails if an aiohttp
    upgrade changes that).
    """
    first_seen: dict[int, float] = {}
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(interval)
        now = loop.time()
        alive = set()
        for handler in list(server.connections):
            key = id(handler)
            alive.add(key)
            started = first_seen.setdefault(key, now)
            if getattr(handler, "_request_count", 1) == 0 and now - started > header_timeout:
                log.warning("closing a connection that sent no complete request in %.0f s", header_timeout)
                handler.force_close()
                transport = handler.transport
                if transport is not None:
                    transport.close()
        for key in set(first_seen) - alive:
            del first_seen[key]


async def serve(config: Config, host: str | None = None, port: int | None = None) -> None:
    """Serve until cancelled (SIGINT/SIGTERM), with the slow-client guards."""
    runner = web.AppRunner(create_app(config), keepalive_timeout=config.server.keepalive_timeout, handle_signals=True)
    await runner.setup()
    site = web.TCPSite(runner, host or config.server.host, port or config.server.port)
    await site.start()
    assert runner.server is not None
    guard = asyncio.create_task(close_slow_connections(runner.server, config.server.header_timeout))
    log.info("gateway listening on %s:%s", host or config.server.host, port or config.server.port)
    try:
        await asyncio.Event().wait()
    finally:
        guard.cancel()
        await runner.cleanup()


def run(config: Config, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(config, host, port))
    except (KeyboardInterrupt, web.GracefulExit):
        pass
