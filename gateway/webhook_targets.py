"""Where webhook deliveries may go (server-side request forgery guard); standard library
only, so the configuration can check ``[webhooks] allow_hosts`` at start.

The portal key registers callback URLs, and the gateway POSTs to them from inside the SRO's
network. By default only public addresses are reached: loopback, private, shared (CGNAT),
link-local (cloud metadata at 169.254.169.254), multicast, reserved and unspecified
addresses are refused, including IPv4 spelled in decimal, octal or hex (``2130706433``,
``0177.0.0.1``) and IPv4 wrapped in IPv6 (``::ffff:127.0.0.1``, 6to4, Teredo, NAT64).

Two places check: registration refuses a URL whose host is a literal non-public address
(:meth:`WebhookTargets.literal_refusal`), and every delivery goes through the resolver of
``gateway.http.webhooks`` (:class:`~gateway.http.webhooks.GuardedResolver`), which
resolves the name, drops the non-public addresses and hands aiohttp only the vetted ones to
connect to — the address checked is the address connected to, so a name that resolves to a
public address at registration and to 127.0.0.1 later (DNS rebinding) is still refused.

Operators with internal receivers list them in ``[webhooks] allow_hosts``: host names
(``hooks.corp.local``, any address they resolve to) and IP addresses or networks
(``127.0.0.1``, ``10.20.0.0/16``).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field

__all__ = [
    "WebhookTargets",
    "NonPublicAddress",
    "parse_allow_hosts",
    "literal_address",
    "is_public",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LEGACY_IPV4 = re.compile(r"^[0-9a-fA-FxX.]+$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$")


class NonPublicAddress(OSError):
    """Every address of a webhook host is non-public and not allowed by the operator."""


def _unwrapped(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address (checked on the IPv4 inside IPv6 too)."""
    for candidate in {address, _unwrapped(address)}:
        if (
            not candidate.is_global
            or candidate.is_multicast
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_private
            or candidate.is_reserved
            or candidate.is_unspecified
        ):
            return False
    return True


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form a resolver accepts (``127.0.0.1``, ``::1``,
    ``fe80::1%eth0``, ``2130706433``, ``0x7f.1``, ``0177.0.0.1``), or None for a name."""
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:  # the C library's inet_aton: the legacy spellings getaddrinfo also accepts
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def parse_allow_hosts(entries: tuple[str, ...]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """``[webhooks] allow_hosts`` as (host names, networks); ValueError names a bad entry."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in entries:
        value = entry.strip().lower().rstrip(".")
        if not value:
            raise ValueError("an empty entry")
        if any(c in value for c in ":/") or _LEGACY_IPV4.match(value):
            try:
                networks.append(ipaddress.ip_network(value))  # strict: 10.0.0.1/8 is refused
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or network: {exc}") from None
        elif _HOST_NAME.match(value):
            names.add(value)
        else:
            raise ValueError(f"{entry!r} is neither a host name nor an IP address or network")
    return frozenset(names), tuple(networks)


@dataclass(frozen=True)
class WebhookTargets:
    """The operator's allowance beyond public addresses (``[webhooks] allow_hosts``)."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def from_config(cls, allow_hosts: tuple[str, ...]) -> WebhookTargets:
        names, networks = parse_allow_hosts(allow_hosts)
        return cls(names, networks)

    def name_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names

    def address_allowed(self, address: IPAddress) -> bool:
        """A public address, or one inside a network the operator listed."""
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
            address = ipaddress.IPv6Address(address.compressed.split("%")[0])
        return is_public(address) or any(address in network for network in self.networks)

    def literal_refusal(self, host: str) -> str | None:
        """Why a registration naming ``host`` is refused (None: accepted). Only literal
        addresses are judged here; names are judged at every delivery."""
        address = literal_address(host)
        if address is None or self.address_allowed(address) or self.name_allowed(host):
            return None
        return f"{address} is not a public address"
