"""How current the trust data is: every CRL (trust store and revocation cache) and the TSL.

Levels: ``ok``; ``warning`` — stale (a CRL within its refresh margin before nextUpdate,
or past it while a refresh is still possible online; a TSL older than twice its refresh
interval); ``degraded`` — past nextUpdate with no refresh possible (offline, no address,
or the last fetch of its address failed). Only the newest CRL of each issuer counts:
an old file superseded by a newer CRL of the same CA is listed as such, not as a problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from validators.signatures.certificates import format_name, name_key
from validators.trust import TrustStore

__all__ = ["DataFreshness", "TrustHealth", "trust_health"]

_LEVELS = {"ok": 0, "warning": 1, "degraded": 2}


@dataclass(frozen=True, slots=True)
class DataFreshness:
    """One CRL or the TSL."""

    kind: str
    """``crl`` or ``tsl``."""
    source: str
    name: str
    issued: datetime | None
    next_update: datetime | None
    age_hours: float | None
    level: str
    note: str
    superseded: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "name": self.name,
            "issued": self.issued.isoformat() if self.issued else None,
            "next_update": self.next_update.isoformat() if self.next_update else None,
            "age_hours": round(self.age_hours, 1) if self.age_hours is not None else None,
            "level": self.level,
            "note": self.note,
            "superseded": self.superseded,
        }


@dataclass(frozen=True, slots=True)
class TrustHealth:
    items: tuple[DataFreshness, ...]

    @property
    def level(self) -> str:
        current = [i.level for i in self.items if not i.superseded]
        return max(current, key=_LEVELS.__getitem__, default="ok")

    def to_json(self) -> dict[str, Any]:
        return {"status": self.level, "items": [i.to_json() for i in self.items]}


def _crl_level(
    this_update: datetime, next_update: datetime | None, now: datetime, refresh_possible: bool, refresh_ahead: timedelta
) -> tuple[str, str]:
    if next_update is None:
        return "warning", "no nextUpdate: currency unknown"
    if now > next_update:
        if refresh_possible:
            return "warning", "past nextUpdate; will be fetched again when needed"
        return "degraded", "past nextUpdate and no refresh possible"
    margin = min(refresh_ahead, (next_update - this_update) / 10)
    if now >= next_update - margin:
        return "warning", "stale: due for refresh"
    return "ok", "current"


def trust_health(
    store: TrustStore,
    now: datetime,
    *,
    cache: Any = None,
    online: bool = False,
    refresh_ahead: timedelta = timedelta(hours=1),
    tsl_refresh: timedelta | None = None,
    tsl_loaded_at: datetime | None = None,
    tsl_problem: str | None = None,
) -> TrustHealth:
    """The freshness of every CRL and of the TSL.

    ``cache``: a :class:`~validators.revocation_cache.RevocationCache` (or None);
    ``online``: whether fetching is on; ``tsl_loaded_at``: when the current list was
    imported (for its age); ``tsl_problem``: the last failed refresh, if any.
    """
    rows: list[tuple[str, str, str | None, datetime, datetime | None, int | None]] = []
    for item in store.crls:
        tbs = item["tbs_cert_list"]
        rows.append((name_key(item.issuer), format_name(item.issuer), None, tbs["this_update"].native, tbs["next_update"].native, None))
    if cache is not None:
        for info in cache.crl_infos():
            rows.append((info.issuer_key, info.issuer, info.url, info.this_update, info.next_update, info.id))
    newest: dict[str, datetime] = {}
    for key, _, _, this_update, _, _ in rows:
        newest[key] = max(newest.get(key, this_update), this_update)
    items: list[DataFreshness] = []
    for key, issuer, url, this_update, next_update, cache_id in rows:
        superseded = this_update < newest[key]
        failed = cache.failure(url) if (cache is not None and url) else None
        refresh_possible = online and (url is None or failed is None)
        level, note = _crl_level(this_update, next_update, now, refresh_possible, refresh_ahead)
        if failed is not None:
            note += f"; last fetch failed: {failed[1][:120]}"
        items.append(
            DataFreshness(
                "crl",
                f"cache {url or ''}".strip() if cache_id is not None else "trust store crl/",
                issuer[:120],
                this_update,
                next_update,
                (now - this_update).total_seconds() / 3600,
                "ok" if superseded else level,
                "superseded by a newer CRL of the same CA" if superseded else note,
                superseded,
            )
        )
    if store.tsl is not None or tsl_problem:
        age = (now - tsl_loaded_at).total_seconds() / 3600 if tsl_loaded_at else None
        level, note = "ok", f"{len(store.tsl.centres) if store.tsl else 0} accredited centres"
        if store.tsl is None:
            level, note = "degraded", "no accredited-CA list could be loaded"
        elif tsl_refresh is not None and tsl_loaded_at is not None and now - tsl_loaded_at > 2 * tsl_refresh:
            level, note = "warning", note + f"; stale (older than twice the refresh interval of {tsl_refresh})"
        if tsl_problem:
            note += f"; last refresh failed: {tsl_problem[:160]}"
            level = max(level, "warning", key=_LEVELS.__getitem__)
        issued = None
        if store.tsl is not None and store.tsl.date:
            try:
                issued = datetime.fromisoformat(store.tsl.date.replace("Z", "+00:00"))
            except ValueError:
                issued = None
        items.append(DataFreshness("tsl", "tsl.xml", f"version {store.tsl.version if store.tsl else '?'}", issued, None, age, level, note))
    return TrustHealth(tuple(items))
