"""Moscow time for people: ``дд.мм.гггг чч:мм`` and day bounds.

Moscow has kept UTC+3 all year since 2014, so a fixed offset is exact for every time the
gateway stores and needs no time-zone database on the machine.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

__all__ = ["MSK", "parse_stored", "msk", "msk_date", "msk_day_bounds", "msk_today"]

MSK = timezone(timedelta(hours=3), "MSK")


def parse_stored(value: Any) -> datetime | None:
    """A stored time (ISO 8601, ``Z`` or offset; naive means UTC) as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def msk(value: Any, empty: str = "—") -> str:
    """``дд.мм.гггг чч:мм`` in Moscow time; unparsable text is shown as it is."""
    parsed = parse_stored(value)
    if parsed is None:
        return empty if value in (None, "") else str(value)
    return parsed.astimezone(MSK).strftime("%d.%m.%Y %H:%M")


def msk_date(value: Any, empty: str = "—") -> str:
    """``дд.мм.гггг`` of the Moscow day."""
    parsed = parse_stored(value)
    if parsed is None:
        return empty if value in (None, "") else str(value)
    return parsed.astimezone(MSK).strftime("%d.%m.%Y")


def msk_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(MSK).date()


def msk_day_bounds(day: date) -> tuple[str, str]:
    """The Moscow day as a half-open range of stored UTC times ``[start, end)``."""
    start = datetime.combine(day, time(0), MSK).astimezone(UTC)
    end = start + timedelta(days=1)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return start.strftime(fmt), end.strftime(fmt)
