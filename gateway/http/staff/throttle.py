"""A per-client limit on staff sign-in attempts, in front of the password hash.

Every sign-in attempt costs an argon2id hash (tens of milliseconds of CPU and 64 MiB of
memory, by design), for unknown logins too (a dummy hash hides which exist). Without a
limit anyone who reaches the port can keep the CPU busy. Each client address gets a token
bucket (``[server] login_burst`` attempts at once, refilled at ``login_per_minute``); an
empty bucket answers 429 with ``Retry-After`` before any hash is computed.

Memory is bounded: at most :data:`MAX_CLIENTS` buckets, least recently used dropped first
(a dropped bucket only comes back full, never lets more through than a fresh address
would). IPv6 clients are counted per /64, which one subscriber usually holds whole.
``X-Forwarded-For`` is believed only when the connection comes from an address listed in
``[server] trusted_proxies``; then the client is the right-most address in it that is not
one of those proxies.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

__all__ = ["SignInThrottle", "client_key", "MAX_CLIENTS", "SIGN_IN_THROTTLE_KEY"]

MAX_CLIENTS = 10_000

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class _Bucket:
    tokens: float
    updated: float


class SignInThrottle:
    """Token buckets per client key, in a bounded LRU."""

    def __init__(self, burst: int, per_minute: float, max_clients: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = float(burst)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one attempt of ``key``: 0 when allowed, else the seconds until one is."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets[key] = bucket  # most recently used last
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate if self.rate > 0 else math.inf

    def __len__(self) -> int:
        return len(self._buckets)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def client_key(peer: str | None, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """Whom an attempt is counted against: the peer address, or (behind a trusted proxy)
    the right-most untrusted address of ``X-Forwarded-For``; IPv6 by its /64."""
    address = _address(peer or "")
    if address is not None and any(address in network for network in trusted):
        hops = [hop for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops):
            candidate = _address(hop)
            if candidate is None:
                break  # a hop we cannot read: trust nothing before it
            address = candidate
            if not any(candidate in network for network in trusted):
                break
    if address is None:
        return peer or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


SIGN_IN_THROTTLE_KEY = web.AppKey("sign_in_throttle", SignInThrottle)
