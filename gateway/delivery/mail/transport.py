"""Where composed emails go: an SMTP server (:class:`SmtpTransport`) or, in the embedded
default set-up, a folder of ``.eml`` files (:class:`EmlFolderTransport`).

Both raise :class:`~gateway.delivery.errors.RetryableDelivery` for what may work later and
:class:`~gateway.delivery.errors.PermanentDelivery` for what never will; the outbox backs off the
first and dead-letters the second. SMTP classification:

* no connection, a timeout, a dropped connection (and any other ``OSError``, TLS
  handshake failures included), or a 4xx/other non-5xx reply at greeting → retryable;
* a 4xx reply to a command (``MAIL``, ``RCPT``, ``DATA``, ``AUTH``…) → retryable;
* a 5xx reply to a command (recipient refused, message refused, ``535`` wrong
  credentials) → permanent;
* something the server cannot do at all (no ``AUTH``, no ``STARTTLS`` while
  ``security="starttls"``, an address aiosmtplib refuses) → permanent.

The SMTP password never appears in details, logs or ``repr``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import aiosmtplib

from gateway.delivery.errors import PermanentDelivery, RetryableDelivery
from gateway.store.files import write_atomically

__all__ = ["Transport", "SmtpSettings", "SmtpTransport", "EmlFolderTransport"]

log = logging.getLogger(__name__)


@runtime_checkable
class Transport(Protocol):
    """Sends one composed email."""

    async def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to its ``To`` recipients.

        :raises RetryableDelivery: may work later.
        :raises PermanentDelivery: will not work; the detail is for staff.
        """
        ...


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach the SMTP relay."""

    host: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls``: plain connect, then STARTTLS is required (never falls back to
    plaintext); ``tls``: TLS from the first byte (port 465); ``none``: no TLS at all."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    """Never logged, never in ``repr``."""
    timeout: float = 30.0
    """Seconds for the connection and for each SMTP command."""
    ca_bundle: Path | None = None
    """Verify the server against this CA file only (instead of the system store)."""


def _recipients(message: EmailMessage) -> list[str]:
    return [
        address.addr_spec
        for name in ("To", "Cc", "Bcc")
        for header in message.get_all(name, [])
        for address in getattr(header, "addresses", ())
    ]


def _reply(code: int, text: str) -> str:
    return f"{code} {' '.join(str(text).split())}".strip()


class SmtpTransport:
    """Sends through an SMTP server with aiosmtplib: one connection per message.

    The envelope sender is the ``From`` address, the recipients are ``To``/``Cc``/``Bcc``
    (``Bcc`` is not transmitted). Messages go out as composed: 7-bit safe bodies, RFC
    2047 headers, so no ``SMTPUTF8`` is needed.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        """Build the TLS context up front, so a missing CA file fails at start-up."""
        if settings.security not in ("starttls", "tls", "none"):
            raise ValueError(f"SMTP security {settings.security!r}; expected starttls, tls or none")
        self.settings = settings
        self._tls_context: ssl.SSLContext | None = None
        if settings.security != "none" and settings.ca_bundle is not None:
            self._tls_context = ssl.create_default_context(cafile=str(settings.ca_bundle))
        if settings.security == "none" and settings.username:
            log.warning("SMTP credentials for %s:%s will be sent without TLS", settings.host, settings.port)

    async def send(self, message: EmailMessage) -> None:
        """Deliver ``message``; see the module docstring for how failures are classified."""
        s = self.settings
        recipients = _recipients(message)
        where = f"{s.host}:{s.port}"
        try:
            refused, reply = await aiosmtplib.send(
                message,
                recipients=recipients or None,
                hostname=s.host,
                port=s.port,
                timeout=s.timeout,
                use_tls=s.security == "tls",
                start_tls=s.security == "starttls",
                validate_certs=True,
                tls_context=self._tls_context,
                username=s.username,
                password=s.password,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # Every recipient refused: permanent only if every refusal is permanent.
            details = "; ".join(f"{r.recipient}: {_reply(r.code, r.message)}" for r in exc.recipients)
            if all(500 <= r.code < 600 for r in exc.recipients):
                raise PermanentDelivery(f"SMTP {where} refused the recipient(s): {details}") from exc
            raise RetryableDelivery(f"SMTP {where} temporarily refused the recipient(s): {details}") from exc
        except aiosmtplib.SMTPConnectResponseError as exc:
            # A refusing greeting is about the server, not this message: try again later.
            raise RetryableDelivery(f"SMTP {where} refused the connection: {_reply(exc.code, exc.message)}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            what = type(exc).__name__
            subject = f" ({exc.sender})" if isinstance(exc, aiosmtplib.SMTPSenderRefused) else ""
            if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
                subject = f" ({exc.recipient})"
            detail = f"SMTP {where} answered {_reply(exc.code, exc.message)}{subject} [{what}]; to {', '.join(recipients)}"
            if 500 <= exc.code < 600:
                raise PermanentDelivery(detail) from exc
            raise RetryableDelivery(detail) from exc
        except (aiosmtplib.SMTPTimeoutError, TimeoutError) as exc:
            raise RetryableDelivery(f"SMTP {where}: timed out after {s.timeout:g} s ({exc})") from exc
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError) as exc:
            # OSError covers ConnectionError and ssl.SSLError.
            raise RetryableDelivery(f"SMTP {where}: {type(exc).__name__}: {exc}") from exc
        except aiosmtplib.SMTPException as exc:
            # SMTPNotSupported (no STARTTLS/AUTH/SMTPUTF8), no usable AUTH mechanism: configuration.
            raise PermanentDelivery(f"SMTP {where}: {type(exc).__name__}: {exc}") from exc
        except ValueError as exc:
            # aiosmtplib refuses an address it cannot safely send (e.g. a line break in it).
            raise PermanentDelivery(f"SMTP {where}: message not sendable: {exc}") from exc
        if refused:  # only with several recipients: some accepted, these not
            log.warning(
                "SMTP %s accepted %s but refused %s",
                where,
                message.get("Message-ID"),
                "; ".join(f"{addr}: {_reply(r.code, r.message)}" for addr, r in refused.items()),
            )
        log.info("mail %s sent via %s to %s: %s", message.get("Message-ID"), where, ", ".join(recipients), reply)


_SAFE_NAME = re.compile(r"[A-Za-z0-9_+=-][A-Za-z0-9._+=-]*")


class EmlFolderTransport:
    """Writes each message to ``<folder>/<id>.eml`` where ``<id>`` is the ``Message-ID``
    without ``<>`` and ``@domain``: the embedded default, and handy in development.

    Writes are atomic (a temporary file in the same folder, fsync, ``os.replace``); the
    same Message-ID again replaces the same file, so a retried send leaves one file.
    """

    def __init__(self, folder: Path) -> None:
        """``folder`` is created on first send if missing."""
        self.folder = Path(folder)

    def path_for(self, message: EmailMessage) -> Path:
        """The file for ``message``.

        :raises PermanentDelivery: no ``Message-ID``, or one that is not a safe file name.
        """
        raw = str(message.get("Message-ID") or "").strip()
        left = raw.removeprefix("<").removesuffix(">").partition("@")[0]
        if not left or not _SAFE_NAME.fullmatch(left):
            raise PermanentDelivery(f"message has no usable Message-ID for a file name: {raw!r}")
        return self.folder / f"{left}.eml"

    async def send(self, message: EmailMessage) -> None:
        """Write ``message`` (CRLF line endings, as on the wire)."""
        path = self.path_for(message)
        data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        try:
            await asyncio.to_thread(self._write, path, data)
        except OSError as exc:
            raise RetryableDelivery(f"cannot write {path}: {exc}") from exc
        log.info("mail %s written to %s", message.get("Message-ID"), path)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        write_atomically(path, data)
