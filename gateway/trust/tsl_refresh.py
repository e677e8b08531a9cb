"""Import and scheduled refresh of the accredited-CA list (``gateway trust import-tsl``).

An import reads the list from a file or an http(s) URL (bounded fetch), parses it, and
only if it parses with at least one centre replaces ``<trust_dir>/tsl.xml`` (atomically)
and the CA certificates in ``<trust_dir>/tsl-ca/`` (path building only, never anchors).
A failing import keeps the last good list and records the error in
``<trust_dir>/.tsl-state.json`` (shown by ``gateway trust`` and ``/healthz``). After an
import the CRLs at the list's addresses can be prefetched into the revocation cache.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gateway.store.files import write_atomically
from validators.revocation_cache import OnlineRevocation
from validators.signatures.certificates import load_certificates
from validators.signatures.fetch import Fetcher, FetchError
from validators.trust import TSL_CA_FOLDER
from validators.tsl import MAX_TSL_BYTES, AccreditedCaList, TslError, parse_tsl

if TYPE_CHECKING:
    from gateway.config import Config
    from validators.signatures.verify import VerificationPolicy
    from validators.trust import TrustStore

__all__ = ["TslState", "tsl_state", "import_tsl", "prefetch_crls", "tsl_scheduler", "crl_refresher", "TrustHolder"]

log = logging.getLogger("gateway.tsl")
_STATE = ".tsl-state.json"


@dataclass(frozen=True, slots=True)
class TslState:
    loaded_at: datetime | None = None
    source: str | None = None
    last_error: str | None = None
    last_attempt: datetime | None = None


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def tsl_state(trust_dir: Path) -> TslState:
    """What the last import did (empty when the list was never imported)."""
    try:
        data = json.loads((trust_dir / _STATE).read_text("utf-8"))
    except (OSError, ValueError):
        tsl = trust_dir / "tsl.xml"
        if tsl.is_file():
            return TslState(loaded_at=datetime.fromtimestamp(tsl.stat().st_mtime, UTC), source=str(tsl.name))
        return TslState()
    return TslState(_time(data.get("loaded_at")), data.get("source"), data.get("last_error"), _time(data.get("last_attempt")))


def _write_state(trust_dir: Path, state: TslState) -> None:
    payload = {
        "loaded_at": state.loaded_at.isoformat() if state.loaded_at else None,
        "source": state.source,
        "last_error": state.last_error,
        "last_attempt": state.last_attempt.isoformat() if state.last_attempt else None,
    }
    write_atomically(trust_dir / _STATE, json.dumps(payload, ensure_ascii=False, indent=2).encode())


def _read_source(source: str, fetcher: Fetcher | None) -> bytes:
    if source.lower().startswith(("http://", "https://")):
        if fetcher is None:
            raise TslError(f"{source}: offline, the list cannot be fetched")
        try:
            return fetcher.get(source)
        except FetchError as exc:
            raise TslError(str(exc)) from None
    path = Path(source)
    try:
        if path.stat().st_size > MAX_TSL_BYTES:
            raise TslError(f"{source}: larger than {MAX_TSL_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise TslError(f"{source}: {exc.strerror}") from None


def import_tsl(source: str, trust_dir: Path, fetcher: Fetcher | None) -> AccreditedCaList:
    """Import the list into ``trust_dir``; on any failure the last good list stays and
    :class:`TslError` is raised (the error is recorded for ``gateway trust``/``/healthz``)."""
    now = datetime.now(UTC)
    previous = tsl_state(trust_dir)
    try:
        data = _read_source(source, fetcher)
        parsed = parse_tsl(data, source)
        if not parsed.centres:
            raise TslError(f"{source}: the list names no accredited centre")
    except TslError as exc:
        _write_state(trust_dir, TslState(previous.loaded_at, previous.source, str(exc)[:500], now))
        raise
    certificates = [c for centre in parsed.centres for der in centre.certificates_der for c in load_certificates(der)]
    staging = Path(tempfile.mkdtemp(prefix=".tsl-ca-", dir=trust_dir))
    for cert in certificates:
        (staging / f"{cert.sha1.hex().upper()}.cer").write_bytes(cert.dump())
    target = trust_dir / TSL_CA_FOLDER
    old = trust_dir / ".tsl-ca-old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
    write_atomically(trust_dir / "tsl.xml", data)
    _write_state(trust_dir, TslState(now, source, None, now))
    log.info("accredited-CA list imported from %s: %d centres, %d CA certificates", source, len(parsed.centres), len(certificates))
    return parsed


def prefetch_crls(tsl: AccreditedCaList, online: OnlineRevocation) -> list[str]:
    """Fetch the CRLs at the list's addresses into the cache; returns the problems.

    A CRL is indexed only when it verifies with one of the centre's CA certificates of
    the same name (the list itself is not a proof of anything else).
    """
    problems: list[str] = []
    for centre in tsl.centres:
        candidates = [c for der in centre.certificates_der for c in load_certificates(der)]
        for url in dict.fromkeys(centre.crl_urls):
            if not url.lower().startswith(("http://", "https://")):
                continue
            problem = online.refresh_crl(url, candidates=candidates)
            if problem:
                problems.append(problem)
    return problems


class TrustHolder(Protocol):
    """What holds the current trust store and revocation source (the validation pipeline):
    a refresh replaces the store and prefetches through the source."""

    trust: TrustStore
    policy: VerificationPolicy


async def tsl_scheduler(config: Config, holder: TrustHolder) -> None:
    """Background task of the service: import ``[trust] tsl_url`` every ``tsl_refresh_hours``,
    reload the trust store after a good import, then prefetch the CRLs."""
    from gateway.trust.revocation import fetch_policy
    from validators.trust import load_trust_store

    trust_dir = config.verification.trust_dir
    interval = max(60.0, config.trust.tsl_refresh_hours * 3600)
    loop = asyncio.get_running_loop()
    fetcher = None if config.verification.offline else Fetcher(fetch_policy(config))
    while True:
        state = tsl_state(trust_dir)
        age = (datetime.now(UTC) - state.last_attempt).total_seconds() if state.last_attempt else None
        if age is None or age >= interval:
            try:
                parsed = await loop.run_in_executor(None, import_tsl, config.trust.tsl_url, trust_dir, fetcher)
            except TslError as exc:
                log.warning("accredited-CA list refresh failed, the last good list stays: %s", exc)
            except Exception:
                log.exception("accredited-CA list refresh failed")
            else:
                store = await loop.run_in_executor(None, load_trust_store, trust_dir)
                # The pipeline holds the current store; request handlers read it from there.
                holder.trust = store
                online = holder.policy.online
                if config.trust.prefetch_crls and isinstance(online, OnlineRevocation) and online.fetcher is not None:
                    await loop.run_in_executor(None, prefetch_crls, parsed, online)
            age = 0.0
        await asyncio.sleep(max(1.0, interval - (age or 0.0)))


async def crl_refresher(holder: TrustHolder, interval: float = 900.0) -> None:
    """Background task of the service: every ``interval`` seconds, fetch again the cached
    CRLs that are within their refresh margin of nextUpdate (verified with the store's CA
    certificates of the same name)."""
    from validators.signatures.certificates import name_key

    loop = asyncio.get_running_loop()
    while True:
        online = holder.policy.online
        if isinstance(online, OnlineRevocation) and online.fetcher is not None:
            store = holder.trust
            by_name: dict[str, list[Any]] = {}
            for cert in (*store.roots, *store.intermediates):
                by_name.setdefault(name_key(cert.subject), []).append(cert)
            try:
                problems = await loop.run_in_executor(None, online.refresh_due, lambda key, names=by_name: names.get(key, []))
            except Exception:
                log.exception("scheduled CRL refresh failed")
            else:
                for problem in problems:
                    log.warning("scheduled CRL refresh: %s", problem)
        await asyncio.sleep(interval)
