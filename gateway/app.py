"""The HTTP API (aiohttp): ``/healthz`` and ``POST /api/v1/verify`` for now.

Uploads stream to a temporary folder (never held whole in memory), the CPU-heavy
verification runs in a thread pool off the event loop, and every error becomes a JSON
answer with a Russian message, never a traceback.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import shutil
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

from aiohttp import BodyPartReader, web

from gateway.config import Config
from validators.gost import GostSupport, gost_support
from validators.signatures.locate import verify_document
from validators.signatures.model import VerificationReport
from validators.signatures.verify import MAX_SIGNATURE_FILE_SIZE, VerificationPolicy
from validators.signatures.revocation import RevocationMode
from validators.trust import TrustStore, load_trust_store

__all__ = ["create_app", "run", "CONFIG_KEY", "TRUST_KEY", "GOST_KEY"]

log = logging.getLogger("gateway")

CONFIG_KEY = web.AppKey("config", Config)
TRUST_KEY = web.AppKey("trust", TrustStore)
GOST_KEY = web.AppKey("gost", GostSupport)
EXECUTOR_KEY = web.AppKey("executor", ThreadPoolExecutor)
STARTED_KEY = web.AppKey("started", float)

_CHUNK = 1 << 16


def _safe_name(filename: str | None, fallback: str) -> str:
    """The uploaded file's own name for reports, reduced to a harmless single path part."""
    name = filename or ""
    if re.search(r"%[0-9A-Fa-f]{2}", name):
        # aiohttp's own client percent-encodes non-ASCII names in filename="…".
        try:
            name = urllib.parse.unquote(name, errors="strict")
        except UnicodeDecodeError:
            pass
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if name in ("", ".", "..") or len(name.encode()) > 255:
        return fallback
    return name


def _error(status: int, code: str, message_ru: str, detail: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message_ru": message_ru, "detail": detail}}, status=status
    )


class _TooLarge(Exception):
    pass


@web.middleware
async def _errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return _error(exc.status, "http.error", "Запрос не может быть выполнен.", exc.reason)
        raise
    except asyncio.CancelledError:
        raise
    except Exception:  # the one place that turns a bug into a clean 500 (logged, no traceback to clients)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, "internal", "Внутренняя ошибка шлюза. Повторите попытку позже.", "internal error; see gateway log")


def _auth_middleware(keys: dict[str, str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    encoded = [k.encode() for k in keys.values()]

    @web.middleware
    async def check_key(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if not encoded or request.path in ("/healthz",):
            return await handler(request)
        given = request.headers.get("X-API-Key", "").encode()
        # Compare with every key, always, in constant time per key.
        matched = False
        for key in encoded:
            matched |= hmac.compare_digest(given, key)
        if not matched:
            return _error(401, "auth.missing_key", "Нет доступа: не указан или неверен ключ API.", "X-API-Key missing or wrong")
        return await handler(request)

    return check_key


async def _healthz(request: web.Request) -> web.Response:
    support = request.app[GOST_KEY]
    store = request.app[TRUST_KEY]
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
            "uptime_seconds": round(time.monotonic() - request.app[STARTED_KEY], 1),
        }
    )


async def _save_part(part: BodyPartReader, target: Path, limit: int, used: int) -> int:
    """Stream one part to ``target``; returns the new running total of body bytes."""
    with open(target, "wb") as out:
        while chunk := await part.read_chunk(_CHUNK):
            used += len(chunk)
            if used > limit:
                raise _TooLarge()
            out.write(chunk)
    return used


async def _verify(request: web.Request) -> web.Response:
    config = request.app[CONFIG_KEY]
    limit = config.server.max_request_bytes
    if request.content_length is not None and request.content_length > limit:
        return _error(413, "request.too_large", "Файл слишком большой.", f"body over {limit} bytes")
    if not request.content_type.startswith("multipart/"):
        return _error(400, "request.not_multipart", "Ожидается форма multipart/form-data с файлами document и signature.", f"content type {request.content_type}")
    revocation = request.query.get("revocation", config.verification.revocation.value)
    if revocation not in {m.value for m in RevocationMode}:
        return _error(400, "request.revocation", "Неверное значение параметра revocation.", "revocation must be require, soft or off")
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
                document = workdir / "document" / _safe_name(part.filename, "document")
                document.parent.mkdir()
                used = await _save_part(part, document, limit, used)
            elif part.name == "signature" and signature is None:
                signature = workdir / "signature" / _safe_name(part.filename, "signature.sig")
                signature.parent.mkdir()
                used = await _save_part(part, signature, min(limit, used + MAX_SIGNATURE_FILE_SIZE), used)
            else:
                await part.release()
        if document is None:
            return _error(400, "request.no_document", "Не передан файл документа (поле document).", "multipart part 'document' is required")
        policy = VerificationPolicy(revocation=RevocationMode(revocation))
        loop = asyncio.get_running_loop()
        report: VerificationReport = await loop.run_in_executor(
            request.app[EXECUTOR_KEY], verify_document, document, request.app[TRUST_KEY], policy, signature
        )
        return web.json_response(report.to_json(), dumps=_dumps)
    except _TooLarge:
        return _error(413, "request.too_large", "Файл слишком большой.", f"body over {limit} bytes")
    except ValueError as exc:  # malformed multipart
        return _error(400, "request.malformed", "Запрос повреждён: не удалось прочитать форму.", str(exc)[:200])
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
    app[EXECUTOR_KEY] = ThreadPoolExecutor(max_workers=config.server.verify_workers, thread_name_prefix="verify")
    app[STARTED_KEY] = time.monotonic()
    yield
    app[EXECUTOR_KEY].shutdown(wait=True, cancel_futures=True)


def create_app(config: Config) -> web.Application:
    """The aiohttp application for ``config``."""
    app = web.Application(
        middlewares=[_errors, _auth_middleware(dict(config.auth.api_keys))],
        client_max_size=config.server.max_request_bytes,
    )
    app[CONFIG_KEY] = config
    app.cleanup_ctx.append(_resources)
    app.router.add_get("/healthz", _healthz)
    app.router.add_post("/api/v1/verify", _verify)
    return app


def run(config: Config, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(create_app(config), host=host or config.server.host, port=port or config.server.port, print=None)
