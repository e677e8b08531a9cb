"""The SRO registry over HTTP: ``POST {registry_url}/incoming``.

One request per delivery attempt, ``multipart/form-data``:

* part ``metadata``: the package metadata as UTF-8 JSON (``application/json``, Cyrillic
  kept as is, not ``\\u`` escapes);
* one part ``file`` per file, in the member's order, streamed from disk chunk by chunk
  (aiohttp reads the open file in its executor; the file is never held whole in memory).
  The ``filename`` parameter carries the member's name as raw UTF-8, the way browsers
  send it (WHATWG: ``"``, CR and LF become ``%22``, ``%0D``, ``%0A``). aiohttp's own
  default would percent-encode the whole name, which most servers — aiohttp's included —
  then show to the registry literally as ``%D0%9E…``.

The header ``Idempotency-Key: <submission id>`` lets the registry deduplicate: the outbox
delivers at least once, the registry registers once and answers a repeat with the first
receipt.

How answers and failures map to the outbox's error classes (:mod:`gateway.delivery.errors`):

===========================================  ==========================================
2xx with ``incoming_number``/``registered_at``  :class:`RegistryReceipt`
2xx without them, or not JSON                 ``PermanentDelivery`` (contract broken;
                                              detail shows the body, truncated)
5xx, 408, 425, 429                            ``RetryableDelivery``, ``retry_after`` from
                                              ``Retry-After`` (seconds or HTTP-date)
409                                           ``RetryableDelivery``: with an idempotency
                                              key it means "the first request with this
                                              key is still being processed"
                                              (draft-ietf-httpapi-idempotency-key-header)
other 4xx, 3xx                                ``PermanentDelivery`` with the registry's
                                              message (body truncated to 1000 chars)
timeout, connection refused/reset, DNS        ``RetryableDelivery``
TLS verification or handshake failure         ``RetryableDelivery`` (see below)
a stored file is missing                      ``PermanentDelivery``
===========================================  ==========================================

TLS failures are retried, with a detail that says so plainly: a certificate rotation on
the registry's side or a CA bundle that is being updated fixes itself, and a package must
not be dead-lettered for it; a CA that is simply wrong keeps failing with the same detail
in the outbox until staff fix the configuration (the outbox's attempt limit dead-letters
it eventually, nothing is lost either way). Redirects are not followed (a streamed body
cannot be replayed, and a registry that moved is a configuration matter).

The client does not own the :class:`aiohttp.ClientSession` it is given (the application
shares one). :meth:`HttpRegistry.open` builds and closes a session of its own for callers
that have none (the CLI, tests).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO

import aiohttp
from aiohttp import hdrs, payload

from gateway.delivery.errors import PermanentDelivery, RetryableDelivery
from gateway.delivery.registry.model import OutgoingPackage, RegistryReceipt

__all__ = ["HttpRegistry", "parse_retry_after"]

DETAIL_LIMIT = 1000
"""Characters of a registry answer kept in an error detail for staff."""
_ERROR_BODY_LIMIT = 64 * 1024
"""Bytes of an error answer read at most (the rest is not worth waiting for)."""
_RECEIPT_BODY_LIMIT = 1024 * 1024
"""Bytes of a 2xx answer read at most: a receipt is two short strings."""
_RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})


class HttpRegistry:
    """Delivers packages to the SRO registry at ``url`` (``POST {url}/incoming``).

    ``session`` is used, not owned: closing it is the caller's business. ``timeout`` (seconds)
    bounds a whole attempt: connecting, sending the files, and reading the answer.
    ``ca_bundle``: a PEM file of CA certificates to verify the registry's server certificate
    against (instead of the system's store); read once, here, so a missing or broken file is
    a configuration error at start-up rather than a failed delivery.
    """

    def __init__(
        self,
        url: str,
        session: aiohttp.ClientSession,
        *,
        timeout: float = 30.0,
        ca_bundle: Path | None = None,
    ) -> None:
        self.url = url.rstrip("/") + "/incoming"
        self.timeout = timeout
        self._session = session
        self._client_timeout = aiohttp.ClientTimeout(total=timeout)
        self._ssl: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(ca_bundle)) if ca_bundle is not None else True
        )

    @classmethod
    @asynccontextmanager
    async def open(
        cls, url: str, *, timeout: float = 30.0, ca_bundle: Path | None = None  # noqa: ASYNC109 - per-request timeout of the built client, not a timeout of open()
    ) -> AsyncIterator[HttpRegistry]:
        """An :class:`HttpRegistry` with a session of its own, closed on exit::

            async with HttpRegistry.open(url, ca_bundle=ca) as registry:
                receipt = await registry.deliver(package)
        """
        async with aiohttp.ClientSession() as session:
            yield cls(url, session, timeout=timeout, ca_bundle=ca_bundle)

    async def deliver(self, package: OutgoingPackage) -> RegistryReceipt:
        """Send ``package``; the registry's receipt, or a :class:`~gateway.delivery.errors.DeliveryError`."""
        with ExitStack() as files:
            opened = await asyncio.to_thread(_open_files, files, [path for _, path in package.files])
            body = _multipart(package, opened)
            try:
                async with self._session.post(
                    self.url,
                    data=body,
                    headers={"Idempotency-Key": package.submission_id, hdrs.ACCEPT: "application/json"},
                    timeout=self._client_timeout,
                    ssl=self._ssl,
                    allow_redirects=False,
                ) as response:
                    return await _receipt(response)
            except (RetryableDelivery, PermanentDelivery):
                raise
            except aiohttp.ClientConnectorCertificateError as exc:
                raise RetryableDelivery(
                    f"TLS: the registry's certificate was not accepted ({exc.certificate_error}); "
                    "if this persists, check the registry CA bundle ([registry] ca_bundle)"
                ) from exc
            except aiohttp.ClientSSLError as exc:
                raise RetryableDelivery(f"TLS handshake with the registry failed: {exc}") from exc
            except TimeoutError as exc:
                raise RetryableDelivery(f"the registry did not answer within {self.timeout:g} s") from exc
            except aiohttp.InvalidURL as exc:
                raise PermanentDelivery(f"invalid registry URL: {exc}") from exc
            except aiohttp.ClientConnectionError as exc:
                raise RetryableDelivery(f"cannot reach the registry at {self.url}: {exc}") from exc
            except aiohttp.ClientError as exc:
                raise RetryableDelivery(f"registry request failed: {type(exc).__name__}: {exc}") from exc


def _open_files(stack: ExitStack, paths: Sequence[Path]) -> list[IO[bytes]]:
    """Open every stored file (in a worker thread); a missing one cannot be delivered, ever."""
    opened: list[IO[bytes]] = []
    for path in paths:
        try:
            opened.append(stack.enter_context(open(path, "rb")))  # noqa: SIM115 - the caller's ExitStack closes it
        except FileNotFoundError as exc:
            raise PermanentDelivery(f"stored file of the package is missing: {path}") from exc
        except OSError as exc:
            raise RetryableDelivery(f"cannot open stored file {path}: {exc}") from exc
    return opened


def _multipart(package: OutgoingPackage, opened: Sequence[IO[bytes]]) -> aiohttp.MultipartWriter:
    """The request body: ``metadata`` then one ``file`` part per file, streamed from ``opened``."""
    writer = aiohttp.MultipartWriter("form-data")
    metadata = json.dumps(package.metadata, ensure_ascii=False).encode("utf-8")
    writer.append_payload(
        payload.BytesPayload(
            metadata,
            content_type="application/json; charset=utf-8",
            headers={hdrs.CONTENT_DISPOSITION: 'form-data; name="metadata"'},
        )
    )
    for (name, _), file in zip(package.files, opened, strict=True):
        writer.append_payload(
            payload.BufferedReaderPayload(
                file,
                disposition=None,  # type: ignore[arg-type]  # None: no default Content-Disposition (ours is in headers)
                content_type="application/octet-stream",
                headers={hdrs.CONTENT_DISPOSITION: f'form-data; name="file"; filename="{_quote_filename(name)}"'},
            )
        )
    return writer


def _quote_filename(name: str) -> str:
    """A file name for a form-data ``filename="…"`` parameter, as browsers write it (WHATWG)."""
    name = name.encode("utf-8", "replace").decode("utf-8")  # lone surrogates → '?'
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


async def _receipt(response: aiohttp.ClientResponse) -> RegistryReceipt:
    """Turn the registry's answer into a receipt or the matching delivery error."""
    status = response.status
    if 200 <= status < 300:
        body, truncated = await _read_capped(response, _RECEIPT_BODY_LIMIT)
        text = _decode(response, body)
        try:
            if truncated:
                raise ValueError("answer too long")
            answer = json.loads(text)
            number, registered_at = answer["incoming_number"], answer["registered_at"]
            if not (isinstance(number, str) and number.strip() and isinstance(registered_at, str)):
                raise ValueError("incoming_number/registered_at are not strings")
            datetime.fromisoformat(registered_at.replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentDelivery(
                f"the registry answered HTTP {status} without a valid receipt "
                f"(incoming_number, registered_at): {_truncate(_readable(text))}"
            ) from exc
        return RegistryReceipt(incoming_number=number, registered_at=registered_at)

    body, _ = await _read_capped(response, _ERROR_BODY_LIMIT)
    message = _truncate(_readable(_decode(response, body))) or "(empty answer)"
    detail = f"the registry answered HTTP {status} {response.reason or ''}".rstrip() + f": {message}"
    if status >= 500 or status in _RETRYABLE_STATUSES:
        raise RetryableDelivery(detail, retry_after=parse_retry_after(response.headers.get(hdrs.RETRY_AFTER)))
    if 300 <= status < 400:
        location = response.headers.get(hdrs.LOCATION, "")
        raise PermanentDelivery(f"the registry redirected to {location!r} (HTTP {status}); check registry_url")
    raise PermanentDelivery(detail)


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the answer, and whether there was more."""
    buffer = bytearray()
    while len(buffer) <= limit:
        chunk = await response.content.read(limit + 1 - len(buffer))
        if not chunk:
            break
        buffer += chunk
    return bytes(buffer[:limit]), len(buffer) > limit


def _decode(response: aiohttp.ClientResponse, body: bytes) -> str:
    try:
        return body.decode(response.charset or "utf-8", "replace")
    except LookupError:  # an unknown charset name from the other side
        return body.decode("utf-8", "replace")


def _readable(text: str) -> str:
    """A JSON answer re-serialised without ``\\u`` escapes, so staff can read Cyrillic messages."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


def _truncate(text: str, limit: int = DETAIL_LIMIT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from an HTTP ``Retry-After`` value (delay-seconds or HTTP-date).

    ``None`` when absent or unreadable; a date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())
