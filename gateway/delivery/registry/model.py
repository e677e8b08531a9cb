"""What the gateway hands the SRO registry, and what the registry answers.

A :class:`Registry` receives an accepted package and assigns its incoming number and
date (входящий номер и дата). Two implementations exist: :class:`~gateway.delivery.registry.client.HttpRegistry`
(``POST {registry_url}/incoming``) and :class:`~gateway.delivery.registry.local.LocalRegistry` (the
embedded default, numbering and filing packages locally).

Both are called by the outbox, at least once per package: ``deliver`` must be idempotent
by ``submission_id`` and must fail with :class:`~gateway.delivery.errors.RetryableDelivery` or
:class:`~gateway.delivery.errors.PermanentDelivery` so the outbox knows whether to back off or to
dead-letter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = ["OutgoingPackage", "RegistryReceipt", "Registry"]


@dataclass(frozen=True, slots=True)
class OutgoingPackage:
    """An accepted submission on its way to the registry."""

    submission_id: str
    """The gateway's id of the submission; also the delivery's idempotency key."""
    metadata: Mapping[str, Any]
    """JSON-serialisable: submission id, member, document type and kinds, files with sizes
    and SHA-256/Streebog digests, validation summary with signer data."""
    files: Sequence[tuple[str, Path]]
    """(file name as the member sent it, path of the stored file), in the member's order."""


@dataclass(frozen=True, slots=True)
class RegistryReceipt:
    """The registry's answer: the package is registered."""

    incoming_number: str
    """Входящий номер, e.g. ``ВХ-2026-000001``."""
    registered_at: str
    """ISO 8601 as given by the registry (UTC, ``Z``)."""


class Registry(Protocol):
    """Something that registers packages (idempotent by ``submission_id``)."""

    async def deliver(self, package: OutgoingPackage) -> RegistryReceipt:
        """Register ``package`` (or return the receipt of its earlier registration).

        Raises :class:`~gateway.delivery.errors.RetryableDelivery` for what may work later and
        :class:`~gateway.delivery.errors.PermanentDelivery` for what never will.
        """
        ...
