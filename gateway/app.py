"""The HTTP API (aiohttp): the app factory, middlewares, ``/healthz`` and ``POST /api/v1/verify``.

Resources (database, blob store, member list, trust store, validation pipeline, thread
pools) live in one ``cleanup_ctx``. Every error becomes a JSON answer with a Russian
message, never a traceback. API keys per role (portal, staff, registry) are compared in
constant time; with no keys configured the API is open (embedded default on loopback).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import BodyPartReader, web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

from gateway.http.submissions import FormReader, SlowClient, UploadRefused, error_response, multipart_precheck, safe_name, setup_routes
from gateway.config import Config
from gateway.delivery.jobs import EMAIL_TARGET, REGISTRY_TARGET
from gateway.http.registry_events import digest_scheduler, setup_event_routes
from gateway.http.staff import setup_staff
from gateway.http.submissions_list import setup_list_routes
from gateway.http.webhooks import setup_webhook_routes
from gateway.keys import (
    BACKGROUND_KEY,
    BLOBS_KEY,
    CONFIG_KEY,
    DATABASE_KEY,
    GOST_KEY,
    HTTP_SESSION_KEY,
    INTAKE_KEY,
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
from gateway.delivery.outbox import Outbox, OutboxWorker, RetryPolicy
from gateway.pipeline.worker import Pipeline
from gateway.store.blobs import BlobStore
from gateway.store.db import Database
from gateway.store.intake import GroupCommit
from gateway.store.submissions import SubmissionRepository
from validators.gost import gost_support
from validators.members import MemberList
from validators.signatures.locate import verify_document
from validators.signatures.model import RevocationMode, VerificationReport
from validators.signatures.verify import MAX_SIGNATURE_FILE_SIZE, VerificationPolicy
from validators.trust import load_trust_store

__all__ = ["create_app", "run", "safe_name"]

log = logging.getLogger("gateway")

_OPEN_PATHS = {"/healthz", "/metrics", "/api/v1/openapi.json"}

#: An absolute path (POSIX or Windows) up to its last part, which group 1 keeps.
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/'\"]*)*[\\/]([^\s\\/:'\"]*)")

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
    except HttpProcessingError as exc:  # a malformed request found while a handler read it
        return error_response(400, "request.malformed", "Запрос повреждён и не может быть прочитан.", exc.message[:200])
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
        if request.path == "/staff" or request.path.startswith("/staff/"):
            # The staff workspace signs people in with its own session (gateway.http.staff).
            return await handler(request)
        given = request.headers.get("X-API-Key", "").encode()
        role = None
        # Compared with every key, always, each in constant time.
        for candidate_role, key in encoded:
            if hmac.compare_digest(given, key) and role is None:
                role = candidate_role
        if role is not None:
            request[ROLE_KEY] = role
        elif request.path not in _OPEN_PATHS:
            return error_response(401, "auth.missing_key", "Нет доступа: не указан или неверен ключ API.", "X-API-Key missing or wrong")
        return await handler(request)

    return check_key


async def _healthz(request: web.Request) -> web.Response:
    """Liveness and the currency of the trust data. Problem texts name files and folders:
    in full only for a caller with a key; anyone else (and everyone on an open API) gets
    them with every path cut to its last part. The full texts are in the start-up log."""
    from gateway.trust.revocation import trust_data_health

    support = request.app[GOST_KEY]
    pipeline = request.app[PIPELINE_KEY]
    store = pipeline.trust  # current (a TSL refresh may replace it)
    members = request.app[MEMBERS_KEY]
    detailed = bool(request.app[CONFIG_KEY].auth.api_keys) and ROLE_KEY in request

    def shown(problem: str | None) -> str | None:
        return problem if detailed or problem is None else _PATH.sub(lambda m: m.group(1), problem)

    loop = asyncio.get_running_loop()
    health = await loop.run_in_executor(None, trust_data_health, request.app[CONFIG_KEY], store, pipeline.policy.online)
    trust_data = health.to_json()
    for item in trust_data["items"]:
        item["source"], item["note"] = shown(item["source"]), shown(item["note"])
    return web.json_response(
        {
            # CRLs or the TSL past their nextUpdate with no refresh possible: degraded.
            "status": "degraded" if health.level == "degraded" else "ok",
            "trust_data": trust_data,
            "awaiting_revocation": await loop.run_in_executor(None, pipeline.waits.count),
            "gost": {"available": support.available, "problem": shown(support.problem)},
            "trust_store": {
                "roots": len(store.roots),
                "ca": len(store.intermediates),
                "crl": len(store.crls),
                "tsl": store.tsl is not None,
                "problems": [shown(problem) for problem in store.problems],
            },
            "members": {"count": len(members), "problem": shown(members.problem)},
            "queue": request.app[PIPELINE_KEY].queue.qsize(),
            "uptime_seconds": round(time.monotonic() - request.app[STARTED_KEY], 1),
        },
        dumps=_dumps,
    )


async def _save_part(form: FormReader, part: BodyPartReader, target: Path, part_limit: int) -> None:
    """Stream one part to ``target`` (at most ``part_limit`` bytes of it, else 413)."""
    written = 0
    with open(target, "wb") as out:
        async for chunk in form.chunks(part):
            written += len(chunk)
            if written > part_limit:
                raise _TooLarge()
            out.write(chunk)


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
    form = FormReader(request, limit, config.server.max_parts, config.server.body_timeout)
    try:
        document: Path | None = None
        signature: Path | None = None
        while (part := await form.next_part()) is not None:
            if part.name == "document" and document is None:
                document = workdir / "document" / safe_name(part.filename, "document")
                document.parent.mkdir()
                await _save_part(form, part, document, limit)
            elif part.name == "signature" and signature is None:
                signature = workdir / "signature" / safe_name(part.filename, "signature.sig")
                signature.parent.mkdir()
                await _save_part(form, part, signature, MAX_SIGNATURE_FILE_SIZE)
            else:
                await form.skip(part)
        if document is None:
            return error_response(400, "request.no_document", "Не передан файл документа (поле document).", "multipart part 'document' is required")
        policy = VerificationPolicy(revocation=RevocationMode(revocation), online=request.app[PIPELINE_KEY].policy.online)
        loop = asyncio.get_running_loop()
        report: VerificationReport = await loop.run_in_executor(
            request.app[VERIFY_EXECUTOR_KEY], verify_document, document, request.app[PIPELINE_KEY].trust, policy, signature
        )
        return web.json_response(report.to_json(), dumps=_dumps)
    except UploadRefused as refusal:
        return refusal.response
    except _TooLarge:
        return error_response(413, "request.too_large", "Файл слишком большой.", f"body over {limit} bytes")
    except SlowClient:
        return error_response(408, "request.timeout", "Передача файла прервалась. Отправьте документ ещё раз.", f"no data for {config.server.body_timeout} s")
    finally:
        # Off the event loop: removing a large upload takes milliseconds of system time.
        await asyncio.get_running_loop().run_in_executor(None, functools.partial(shutil.rmtree, workdir, ignore_errors=True))


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
    app[INTAKE_KEY] = GroupCommit(app[BLOBS_KEY], app[REPOSITORY_KEY])
    app[VERIFY_EXECUTOR_KEY] = ThreadPoolExecutor(max_workers=config.server.verify_workers, thread_name_prefix="verify")
    app[UPLOAD_EXECUTOR_KEY] = ThreadPoolExecutor(max_workers=4, thread_name_prefix="upload")
    app[PIPELINE_KEY] = Pipeline(config, app[REPOSITORY_KEY], app[BLOBS_KEY], app[MEMBERS_KEY], app[TRUST_KEY])
    app[HTTP_SESSION_KEY] = aiohttp.ClientSession()
    worker = _outbox_worker(app)
    app[OUTBOX_WORKER_KEY] = worker
    app[PIPELINE_KEY].on_decided = worker.wake
    await worker.start()
    await app[PIPELINE_KEY].start()
    background = []
    from gateway.trust.tsl_refresh import crl_refresher, tsl_scheduler

    if config.trust.tsl_url:
        background.append(asyncio.create_task(tsl_scheduler(app)))
    if not config.verification.offline:
        background.append(asyncio.create_task(crl_refresher(app, config.verification.crl_refresh_interval_minutes * 60)))
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
    app[INTAKE_KEY].close()
    app[DATABASE_KEY].close()


def _outbox_worker(app: web.Application) -> OutboxWorker:
    """The outbox worker with the registry (HTTP or local) and mail (SMTP or .eml) behind it."""
    from gateway.delivery.handlers import JobHandlers
    from gateway.delivery.mail.compose import MailSettings
    from gateway.delivery.mail.transport import EmlFolderTransport, SmtpSettings, SmtpTransport
    from gateway.delivery.registry.client import HttpRegistry
    from gateway.http.webhooks import WebhookSender
    from gateway.delivery.registry.local import LocalRegistry
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


class AccessLogger(AbstractAccessLogger):
    """One line per request: client, method, path without the query string, status, size,
    seconds. No headers and no query: a client may put its API key in either."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %s %.3f', request.remote, request.method, request.path, response.status, response.body_length, time
        )


_SECRET_PATTERNS = re.compile(r"(?i)(x-api-key[\"']?\s*[:=]\s*[\"']?|[?&;]api[_-]?key=)[^\s\"'&;,)]+")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks out every configured secret and anything that looks
    like an API key header or parameter, wherever it ended up (messages, exception texts,
    tracebacks)."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[REDACTED]")
        return _SECRET_PATTERNS.sub(lambda m: m.group(1) + "[REDACTED]", text)


class ClientErrorFilter(logging.Filter):
    """aiohttp logs a request it cannot parse as an ERROR with a traceback; it is the
    client's error: one WARNING line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            reason = " ".join(str(error.message).split())[:200]
            record.msg, record.args = "%s: %s %s", (record.getMessage(), error.code, reason)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def configure_logging(config: Config) -> None:
    """Log lines to stderr with every secret of ``config`` redacted."""
    logging.basicConfig(level=logging.INFO)
    secrets = [*config.auth.api_keys.values(), config.mail.smtp_password]
    for handler in logging.getLogger().handlers:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
        handler.addFilter(ClientErrorFilter())


async def serve(config: Config, host: str | None = None, port: int | None = None) -> None:
    """Serve until cancelled (SIGINT/SIGTERM), with the slow-client guards."""
    runner = web.AppRunner(
        create_app(config), keepalive_timeout=config.server.keepalive_timeout, handle_signals=True, access_log_class=AccessLogger
    )
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
    configure_logging(config)
    try:
        asyncio.run(serve(config, host, port))
    except (KeyboardInterrupt, web.GracefulExit):
        pass
