"""The app factory: resources in one ``cleanup_ctx``, middlewares and routes; ``serve``/``run``.

Resources (database, blob store, member list, trust store, validation pipeline, thread
pools) live in one ``cleanup_ctx``. Every error becomes a JSON answer with a Russian
message, never a traceback. API keys per role (portal, staff, registry) are compared in
constant time; with no keys configured the API is open (embedded default on loopback).
"""


from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

import validators
from gateway.config import Config, SmtpSecurity
from gateway.delivery.digest import digest_scheduler
from gateway.delivery.jobs import EMAIL_TARGET, REGISTRY_TARGET
from gateway.delivery.outbox import OutboxWorker
from gateway.delivery.registry.local import LocalRegistry
from gateway.delivery.registry.model import Registry
from gateway.http.middleware import auth_middleware, errors_middleware, nosniff
from gateway.http.notices import setup_notice_routes
from gateway.http.ops import setup_ops_routes
from gateway.http.registry_events import setup_event_routes
from gateway.http.server import AccessLogger, close_slow_connections, configure_logging
from gateway.http.staff import setup_staff
from gateway.http.submissions import setup_routes
from gateway.http.submissions_list import setup_list_routes
from gateway.http.verify import setup_verify_routes
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
    STARTED_KEY,
    TRUST_KEY,
    UPLOAD_EXECUTOR_KEY,
    VERIFY_EXECUTOR_KEY,
    WEBHOOK_SESSION_KEY,
)
from gateway.pipeline.worker import Pipeline
from gateway.store.blobs import BlobStore
from gateway.store.db import Database
from gateway.store.intake import GroupCommit
from gateway.store.submissions import SubmissionRepository
from validators.gost import gost_support
from validators.members import MemberList
from validators.trust import load_trust_store

__all__ = ["create_app", "serve", "run"]

log = logging.getLogger("gateway")


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
    worker, registry = _outbox_worker(app)
    app[OUTBOX_WORKER_KEY] = worker
    app[PIPELINE_KEY].on_decided = worker.wake
    worker.yield_to = app[PIPELINE_KEY].busy
    await worker.start()
    await app[PIPELINE_KEY].start()
    background = []
    from gateway.trust.tsl_refresh import crl_refresher, tsl_scheduler

    if config.trust.tsl_url:
        background.append(asyncio.create_task(tsl_scheduler(config, app[PIPELINE_KEY])))
    if not config.verification.offline:
        background.append(asyncio.create_task(crl_refresher(app[PIPELINE_KEY], config.verification.crl_refresh_interval_minutes * 60)))
    if config.delivery.digest_hour_utc >= 0:
        background.append(asyncio.create_task(digest_scheduler(app[REPOSITORY_KEY], worker.wake, config.delivery.digest_hour_utc, config.mail.staff_address)))
    app[BACKGROUND_KEY] = background
    app[STARTED_KEY] = time.monotonic()
    yield
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    await app[PIPELINE_KEY].stop()
    await worker.stop()
    if isinstance(registry, LocalRegistry):
        await asyncio.to_thread(registry.close)  # waits for a delivery still in its thread
    await app[HTTP_SESSION_KEY].close()
    await app[WEBHOOK_SESSION_KEY].close()
    app[VERIFY_EXECUTOR_KEY].shutdown(wait=True, cancel_futures=True)
    app[UPLOAD_EXECUTOR_KEY].shutdown(wait=True, cancel_futures=True)
    app[INTAKE_KEY].close()
    app[DATABASE_KEY].close()


def _outbox_worker(app: web.Application) -> tuple[OutboxWorker, Registry]:
    """The outbox worker with the registry (HTTP or local) and mail (SMTP or .eml) behind it,
    and that registry."""
    from gateway.delivery.handlers import JobHandlers
    from gateway.delivery.mail.compose import MailSettings
    from gateway.delivery.mail.transport import EmlFolderTransport, SmtpSettings, SmtpTransport
    from gateway.delivery.outbox import Outbox, RetryPolicy
    from gateway.delivery.registry.client import HttpRegistry
    from gateway.http.webhooks import WebhookSender, guarded_session
    from gateway.store.webhooks import WEBHOOK_TARGET, WebhookStore
    from gateway.webhook_targets import WebhookTargets

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
                security=SmtpSecurity(mail.smtp_security).value,
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
    targets = WebhookTargets.from_config(config.webhooks.allow_hosts)
    app[WEBHOOK_SESSION_KEY] = guarded_session(targets)  # its own session: the guard is not the registry's
    webhooks = WebhookSender(WebhookStore(app[DATABASE_KEY]), app[WEBHOOK_SESSION_KEY], timeout=delivery.registry_timeout, targets=targets)
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
        max_deferral=delivery.defer_while_validating,
    )
    worker.add_target(REGISTRY_TARGET, delivery.registry_concurrency)
    worker.add_target(EMAIL_TARGET, delivery.email_concurrency, delivery.email_rate_per_second or None)
    worker.add_target(WEBHOOK_TARGET, delivery.registry_concurrency, yields=False)  # the portal's news of a decision is not deferred
    return worker, registry


def create_app(config: Config) -> web.Application:
    """The aiohttp application for ``config``."""
    validators.init()
    app = web.Application(
        middlewares=[errors_middleware, auth_middleware(dict(config.auth.api_keys))],
        client_max_size=config.server.max_request_bytes,
    )
    app.on_response_prepare.append(nosniff)
    app[CONFIG_KEY] = config
    app[METRICS_KEY] = {}
    app.cleanup_ctx.append(_resources)
    setup_ops_routes(app)
    setup_routes(app)
    setup_verify_routes(app)
    setup_event_routes(app)
    setup_notice_routes(app)
    setup_list_routes(app)
    setup_webhook_routes(app)
    setup_staff(app)
    return app


async def serve(config: Config, host: str | None = None, port: int | None = None) -> None:
    """Serve until cancelled (SIGINT/SIGTERM), with the slow-client guards."""
    runner = web.AppRunner(
        create_app(config), keepalive_timeout=config.server.keepalive_timeout, handle_signals=True, access_log_class=AccessLogger
    )
    await runner.setup()
    site = web.TCPSite(runner, host or config.server.host, port or config.server.port)
    await site.start()
    if runner.server is None:  # set by runner.setup() above; a None here is an aiohttp contract break
        raise RuntimeError("aiohttp AppRunner has no server after setup()")
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
    with contextlib.suppress(KeyboardInterrupt, web.GracefulExit):
        asyncio.run(serve(config, host, port))
