"""Serving the app: the slow-client guard, the access log and log redaction."""

from __future__ import annotations

import asyncio
import logging
import re

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

from gateway.config import Config

__all__ = ["close_slow_connections", "AccessLogger", "RedactingFormatter", "ClientErrorFilter", "configure_logging"]

log = logging.getLogger("gateway")


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
    # The format names no source line, thread or process: a record need not gather them
    # (the stack walk of findCaller is a fifth of a line's cost; logging docs, "Optimization").
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    secrets = [*config.auth.api_keys.values(), config.mail.smtp_password]
    for handler in logging.getLogger().handlers:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
        handler.addFilter(ClientErrorFilter())
