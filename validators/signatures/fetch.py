"""Bounded HTTP fetching of revocation data (CRLs from CDP, OCSP from AIA).

Only ``http`` and ``https``. Every request has a connect timeout, a read timeout (per
socket operation) and an overall deadline, a response size cap (checked against
Content-Length before reading and while reading), a per-host concurrency limit shared
by all threads, and the configured host allow/deny list — checked again on every
redirect (at most :data:`MAX_REDIRECTS`), so a redirect cannot lead elsewhere.
Failures raise :class:`FetchError` with a one-line reason for staff; nothing else leaks.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import SplitResult, urljoin, urlsplit

if TYPE_CHECKING:
    import ssl

__all__ = ["FetchPolicy", "FetchError", "Fetcher", "MAX_REDIRECTS", "host_allowed"]

MAX_REDIRECTS = 3
_CHUNK = 1 << 16
#: When set (comma-separated host patterns), the process fetches from these hosts only,
#: whatever the configuration says: a confinement for test runs and sandboxes, so that
#: addresses taken from real certificates are never contacted (not even resolved).
CONFINE_ENV = "GATEWAY_FETCH_ONLY_HOSTS"


class FetchError(Exception):
    """A revocation address could not be fetched (the message is for staff, in English)."""


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits of online revocation fetching (``[verification]`` in config.toml)."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 120.0
    """Deadline of one download, however slowly the bytes trickle in."""
    max_bytes: int = 128 << 20
    """Largest CRL or OCSP response accepted (real CAs publish CRLs of tens of MB)."""
    per_host: int = 2
    """Concurrent requests to one host, across all validation threads."""
    allow_hosts: tuple[str, ...] = ()
    """When not empty, only these hosts (``ca.example.ru`` or ``.example.ru`` for a domain)."""
    deny_hosts: tuple[str, ...] = ()
    """Never these hosts (same syntax); deny wins over allow."""
    user_agent: str = "sro-intake-gateway/1 revocation"


def _matches(host: str, patterns: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.lower().strip().rstrip(".")
        if pattern.startswith("*."):
            pattern = pattern[1:]
        if pattern.startswith("."):
            if host.endswith(pattern) or host == pattern[1:]:
                return True
        elif host == pattern:
            return True
    return False


def host_allowed(host: str, policy: FetchPolicy) -> bool:
    """The allow/deny decision for one host name or address."""
    if _matches(host, policy.deny_hosts):
        return False
    return not policy.allow_hosts or _matches(host, policy.allow_hosts)


class Fetcher:
    """Synchronous fetcher used from validation threads (one per process, shared)."""

    def __init__(self, policy: FetchPolicy = FetchPolicy()) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        # A slot per host while fetches hold it (the table does not grow with every host).
        self._per_host: weakref.WeakValueDictionary[str, threading.BoundedSemaphore] = weakref.WeakValueDictionary()
        confined = os.environ.get(CONFINE_ENV)
        self._confined = tuple(h for h in confined.split(",") if h.strip()) if confined is not None else None
        # The TLS context (system CA bundle: tens of ms to load) and http.client are
        # made on the first https fetch, not here: most verifications never fetch, and
        # `gateway verify` builds a Fetcher on every start.
        self._tls_context: ssl.SSLContext | None = None

    def _tls(self) -> ssl.SSLContext:
        with self._lock:
            if self._tls_context is None:
                import ssl

                self._tls_context = ssl.create_default_context()
            return self._tls_context

    def _slot(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._per_host.get(host)
            if slot is None:
                slot = self._per_host[host] = threading.BoundedSemaphore(max(1, self.policy.per_host))
            return slot

    def get_to_file(self, url: str, target: BinaryIO) -> str:
        """Download ``url`` into ``target``; returns the final URL (after redirects)."""
        return self._request("GET", url, None, None, target)

    def get(self, url: str) -> bytes:
        import io

        buffer = io.BytesIO()
        self._request("GET", url, None, None, buffer)
        return buffer.getvalue()

    def post(self, url: str, body: bytes, content_type: str) -> bytes:
        import io

        buffer = io.BytesIO()
        self._request("POST", url, body, content_type, buffer)
        return buffer.getvalue()

    def _request(self, method: str, url: str, body: bytes | None, content_type: str | None, target: BinaryIO) -> str:
        deadline = time.monotonic() + self.policy.total_timeout
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise FetchError(f"{url}: only http and https addresses are fetched")
            host = parts.hostname
            if not host_allowed(host, self.policy):
                raise FetchError(f"{url}: host {host} is not allowed by the configured host list")
            if self._confined is not None and not _matches(host, self._confined):
                raise FetchError(f"{url}: host {host} is outside {CONFINE_ENV}")
            with self._slot(host):
                location = self._once(method, parts, url, body, content_type, target, deadline)
            if location is None:
                return url
            url = urljoin(url, location)
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _once(
        self,
        method: str,
        parts: SplitResult,
        url: str,
        body: bytes | None,
        content_type: str | None,
        target: BinaryIO,
        deadline: float,
    ) -> str | None:
        import http.client

        policy = self.policy
        host = parts.hostname
        if host is None:  # _request refuses such addresses before this point
            raise FetchError(f"{url}: no host")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=policy.connect_timeout, context=self._tls())
        else:
            connection = http.client.HTTPConnection(host, port, timeout=policy.connect_timeout)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            connection.connect()
            assert connection.sock is not None  # noqa: S101 - invariant; narrows the type
            connection.sock.settimeout(policy.read_timeout)
            headers = {"User-Agent": policy.user_agent, "Accept": "*/*", "Connection": "close"}
            if content_type:
                headers["Content-Type"] = content_type
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise FetchError(f"{url}: redirect without a Location")
                return location
            if response.status != 200:
                raise FetchError(f"{url}: HTTP {response.status} {response.reason}")
            declared = response.getheader("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > policy.max_bytes:
                raise FetchError(f"{url}: response of {declared} bytes is over the limit of {policy.max_bytes}")
            total = 0
            while True:
                if time.monotonic() > deadline:
                    raise FetchError(f"{url}: download took longer than {policy.total_timeout:g} s")
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > policy.max_bytes:
                    raise FetchError(f"{url}: response is over the limit of {policy.max_bytes} bytes")
                target.write(chunk)
            return None
        except FetchError:
            raise
        except TimeoutError:  # socket.timeout
            raise FetchError(f"{url}: timed out") from None
        except (OSError, http.client.HTTPException) as exc:  # ssl.SSLError is an OSError
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}"[:300]) from None
        finally:
            connection.close()
