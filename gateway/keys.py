"""Typed application state keys (aiohttp AppKey), shared by the app factory and handlers."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from aiohttp import ClientSession, web

from gateway.config import Config
from gateway.delivery.outbox import Outbox, OutboxWorker
from gateway.pipeline.worker import Pipeline
from gateway.store.blobs import BlobStore
from gateway.store.db import Database
from gateway.store.intake import GroupCommit
from gateway.store.submissions import SubmissionRepository
from validators.gost import GostSupport
from validators.members import MemberList
from validators.trust import TrustStore

CONFIG_KEY = web.AppKey("config", Config)
TRUST_KEY = web.AppKey("trust", TrustStore)
GOST_KEY = web.AppKey("gost", GostSupport)
VERIFY_EXECUTOR_KEY = web.AppKey("verify_executor", ThreadPoolExecutor)
UPLOAD_EXECUTOR_KEY = web.AppKey("upload_executor", ThreadPoolExecutor)
STARTED_KEY = web.AppKey("started", float)
DATABASE_KEY = web.AppKey("database", Database)
REPOSITORY_KEY = web.AppKey("repository", SubmissionRepository)
BLOBS_KEY = web.AppKey("blobs", BlobStore)
INTAKE_KEY = web.AppKey("intake", GroupCommit)
MEMBERS_KEY = web.AppKey("members", MemberList)
PIPELINE_KEY = web.AppKey("pipeline", Pipeline)
METRICS_KEY = web.AppKey("metrics", dict)
ROLE_KEY = web.RequestKey("role", str)
OUTBOX_KEY = web.AppKey("outbox", Outbox)
OUTBOX_WORKER_KEY = web.AppKey("outbox_worker", OutboxWorker)
HTTP_SESSION_KEY = web.AppKey("http_session", ClientSession)
WEBHOOK_SESSION_KEY = web.AppKey("webhook_session", ClientSession)
BACKGROUND_KEY = web.AppKey("background", list[asyncio.Task[None]])
