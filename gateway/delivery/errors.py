"""How a side effect (registry delivery, an email) can fail, as the outbox needs to know.

Transports raise :class:`RetryableDelivery` for what may work later (connection errors,
timeouts, HTTP 5xx/429, SMTP 4xx) and :class:`PermanentDelivery` for what never will
(HTTP 4xx other than 429, SMTP 5xx recipient refusals): the outbox backs off the first
and dead-letters the second, keeping the detail for staff.
"""

from __future__ import annotations

__all__ = ["DeliveryError", "RetryableDelivery", "PermanentDelivery"]


class DeliveryError(Exception):
    """A delivery attempt failed; ``detail`` is shown to staff (never secrets)."""

    def __init__(self, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        """Seconds the other side asked us to wait (HTTP Retry-After), if any."""


class RetryableDelivery(DeliveryError):
    """May succeed later: back off and try again."""


class PermanentDelivery(DeliveryError):
    """Will not succeed: dead-letter and show staff."""
