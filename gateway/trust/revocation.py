"""The online revocation source of the gateway, built from ``[verification]``.

One cache folder (``<data_dir>/revocation`` unless configured) serves the service,
``gateway verify`` and ``gateway check``; ``offline`` (config or ``--offline``) keeps the
cache but never fetches.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.config import Config
from validators.revocation_cache import OnlineRevocation, RevocationCache
from validators.signatures.fetch import Fetcher, FetchPolicy

__all__ = ["revocation_cache_dir", "online_revocation", "fetch_policy", "trust_data_health"]

if TYPE_CHECKING:
    import logging

    from validators.signatures.revocation import RevocationSource
    from validators.trust import TrustStore
    from validators.trust_health import TrustHealth


def _log() -> logging.Logger:
    """This module's logger; ``logging`` is imported only when there is something to log."""
    import logging

    return logging.getLogger("gateway.trust.revocation")


def revocation_cache_dir(config: Config) -> Path:
    configured = config.verification.revocation_cache_dir
    if not configured:
        return config.storage.data_dir / "revocation"
    path = Path(configured).expanduser()
    if not path.is_absolute() and config.source is not None:
        path = config.source.resolve().parent / path
    return path


def fetch_policy(config: Config) -> FetchPolicy:
    v = config.verification
    return FetchPolicy(
        connect_timeout=v.fetch_connect_timeout,
        read_timeout=v.fetch_read_timeout,
        total_timeout=v.fetch_total_timeout,
        max_bytes=v.fetch_max_bytes,
        per_host=v.fetch_per_host,
        allow_hosts=v.fetch_allow_hosts,
        deny_hosts=v.fetch_deny_hosts,
    )


def online_revocation(config: Config, offline: bool | None = None) -> OnlineRevocation | None:
    """The revocation source, or None when its cache folder cannot be used (logged)."""
    offline = config.verification.offline if offline is None else offline
    try:
        cache = RevocationCache(revocation_cache_dir(config), timedelta(days=config.verification.revocation_keep_days))
    except (OSError, sqlite3.Error) as exc:
        _log().warning("revocation cache unusable, no online revocation: %s", exc)
        return None
    return OnlineRevocation(
        cache,
        None if offline else Fetcher(fetch_policy(config)),
        refresh_ahead=timedelta(hours=config.verification.crl_refresh_ahead_hours),
        retry_after=config.verification.fetch_retry_after_seconds,
    )


def trust_data_health(config: Config, store: TrustStore, online: RevocationSource | None) -> TrustHealth:
    """Age and nextUpdate of every CRL (store and cache) and of the TSL (``gateway trust``, ``/healthz``)."""
    from datetime import datetime

    from gateway.trust.tsl_refresh import tsl_state
    from validators.trust_health import trust_health

    state = tsl_state(config.verification.trust_dir)
    return trust_health(
        store,
        datetime.now(UTC),
        cache=online.cache if isinstance(online, OnlineRevocation) else None,
        online=isinstance(online, OnlineRevocation) and online.fetcher is not None,
        refresh_ahead=timedelta(hours=config.verification.crl_refresh_ahead_hours),
        tsl_refresh=timedelta(hours=config.trust.tsl_refresh_hours) if config.trust.tsl_url else None,
        tsl_loaded_at=state.loaded_at,
        tsl_problem=state.last_error,
    )
