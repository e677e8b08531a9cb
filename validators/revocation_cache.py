"""Online revocation with an on-disk cache (SQLite + CRL files) shared by every process.

* CRLs come from the certificate's CRL Distribution Points (http/https), OCSP responses
  from its Authority Information Access; both are fetched through a bounded
  :class:`~validators.signatures.fetch.Fetcher`, and only when
  :func:`~validators.signatures.revocation.check_path_revocation` asks — i.e. for a
  certificate whose path to a trust anchor has verified.
* A CRL is used until its nextUpdate and fetched again ``refresh_ahead`` before it.
  Superseded CRLs are kept (file and index), so a past moment can still be judged.
  An address that failed is not tried again for ``retry_after`` seconds.
* CRLs are indexed once: every entry ``(CRL, serial) -> (revocation time, reason)`` in a
  WITHOUT ROWID table, so a lookup is one B-tree search (O(log n)); parsing streams the
  DER (:mod:`validators.crl_index`), so memory stays flat whatever the CRL size.
* Nothing cached is believed blindly: the revocation check verifies each CRL's and OCSP
  response's signature against the certificate's issuer exactly as for embedded data.
  A CRL's (large) signature check is remembered per issuer certificate fingerprint
  after it has been done once.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import core, crl, ocsp, x509

from validators.crl_index import REASONS, CrlFormatError, open_crl, serial_key
from validators.signatures.certificates import fingerprint, name_key
from validators.signatures.crypto import digest_by_oid, is_gost_key, new_hash, public_key_bits
from validators.signatures.fetch import Fetcher, FetchError
from validators.signatures.revocation import CrlView, FetchedEvidence, RevokedEntry

__all__ = ["RevocationCache", "OnlineRevocation", "CachedCrl", "CrlInfo", "ocsp_request_for"]

if TYPE_CHECKING:
    import logging


def _log() -> logging.Logger:
    """This module's logger; ``logging`` is imported only when there is something to log
    (a failed fetch), not at every ``gateway verify`` start."""
    import logging

    return logging.getLogger("validators.revocation_cache")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS crls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL UNIQUE,
    url TEXT,
    issuer_key TEXT NOT NULL,
    issuer_text TEXT NOT NULL,
    this_update TEXT NOT NULL,
    next_update TEXT,
    entries INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    header BLOB NOT NULL,
    tbs_start INTEGER NOT NULL,
    tbs_end INTEGER NOT NULL,
    file TEXT NOT NULL,
    verified_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS crls_issuer ON crls(issuer_key, this_update);
CREATE INDEX IF NOT EXISTS crls_url ON crls(url, this_update);
CREATE TABLE IF NOT EXISTS crl_entries (
    crl_id INTEGER NOT NULL,
    serial BLOB NOT NULL,
    revoked TEXT NOT NULL,
    reason INTEGER,
    PRIMARY KEY (crl_id, serial)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ocsp_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_fp TEXT NOT NULL,
    serial TEXT NOT NULL,
    url TEXT NOT NULL,
    der BLOB NOT NULL,
    produced_at TEXT NOT NULL,
    next_update TEXT,
    fetched_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ocsp_cert ON ocsp_responses(issuer_fp, serial, fetched_at);
CREATE TABLE IF NOT EXISTS fetch_failures (
    url TEXT PRIMARY KEY,
    failed_at REAL NOT NULL,
    error TEXT NOT NULL
);
"""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CrlInfo:
    """One cached CRL, for ``gateway trust`` and ``/healthz``."""

    id: int
    url: str | None
    issuer_key: str
    issuer: str
    this_update: datetime
    next_update: datetime | None
    entries: int
    fetched_at: datetime
    superseded: bool


class CachedCrl(CrlView):
    """A CRL of the cache: header in memory, entries looked up in SQLite."""

    def __init__(self, cache: RevocationCache, row: sqlite3.Row) -> None:
        super().__init__(crl.CertificateList.load(row["header"]), f"cached from {row['url'] or 'a local file'}")
        self._cache = cache
        self._id: int = row["id"]
        self._file = Path(row["file"])
        self._tbs = (row["tbs_start"], row["tbs_end"])
        self._verified_by = set(filter(None, row["verified_by"].split(",")))

    def _signature_verifies(self, issuer: x509.Certificate) -> bool:
        fp = fingerprint(issuer)
        if fp in self._verified_by:
            return True
        try:
            with open_crl(self._cache.folder / self._file) as item:
                valid = item.signature_verifies(issuer.public_key)
        except (OSError, CrlFormatError):
            return False
        if valid:
            self._verified_by.add(fp)
            self._cache._mark_verified(self._id, fp)
        return valid

    def entry(self, serial: int) -> RevokedEntry | None:
        row = self._cache._connection().execute(
            "SELECT revoked, reason FROM crl_entries WHERE crl_id = ? AND serial = ?", (self._id, serial_key(serial))
        ).fetchone()
        if row is None:
            return None
        revoked = datetime.strptime(row[0], "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)
        return RevokedEntry(revoked, REASONS.get(row[1]) if row[1] is not None else None)


class RevocationCache:
    """The SQLite index and CRL files under ``folder`` (created if missing)."""

    def __init__(self, folder: Path, keep_superseded: timedelta = timedelta(days=400)) -> None:
        self.folder = folder
        self.keep_superseded = keep_superseded
        """Superseded CRLs are kept until this long after their nextUpdate (past moments)."""
        (folder / "crl").mkdir(parents=True, exist_ok=True)
        self.path = folder / "revocation.sqlite3"
        self._local = threading.local()
        self._connection().executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    # -- CRLs --------------------------------------------------------------------------

    def add_crl_file(self, path: Path, url: str | None, verified_by: x509.Certificate | None = None) -> int:
        """Index a DER CRL file (moved into the cache); returns its id (existing if known).

        ``verified_by``: the issuer certificate whose key the signature was checked with
        (the caller checks it first; nothing unverified is marked verified).
        """
        data_hash = hashlib.sha256()
        with open(path, "rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                data_hash.update(chunk)
        sha256 = data_hash.hexdigest()
        known = self._connection().execute("SELECT id FROM crls WHERE sha256 = ?", (sha256,)).fetchone()
        now = _iso(datetime.now(UTC))
        if known is not None:
            with self._transaction() as connection:
                connection.execute("UPDATE crls SET fetched_at = ?, url = COALESCE(url, ?) WHERE id = ?", (now, url, known[0]))
            path.unlink(missing_ok=True)
            if verified_by is not None:
                self._mark_verified(known[0], fingerprint(verified_by))
            return int(known[0])
        relative = Path("crl") / f"{sha256}.crl"
        target = self.folder / relative
        os.replace(path, target)
        with open_crl(target) as item:
            tbs = item.header["tbs_cert_list"]
            next_update = tbs["next_update"].native
            with self._transaction() as connection:
                crl_id = connection.execute(
                    "INSERT INTO crls (sha256, url, issuer_key, issuer_text, this_update, next_update, entries, fetched_at,"
                    " header, tbs_start, tbs_end, file, verified_by) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
                    (
                        sha256,
                        url,
                        name_key(tbs["issuer"]),
                        tbs["issuer"].human_friendly[:300],
                        _iso(tbs["this_update"].native),
                        _iso(next_update) if next_update else None,
                        now,
                        item.header.dump(),
                        *item.tbs_range,
                        str(relative),
                        fingerprint(verified_by) if verified_by is not None else "",
                    ),
                ).lastrowid
                count = 0

                def rows() -> Iterator[tuple[int, bytes, str, int | None]]:
                    nonlocal count
                    for serial, revoked, reason in item.entries():
                        count += 1
                        yield crl_id, serial, revoked, reason  # type: ignore[misc]

                connection.executemany("INSERT OR IGNORE INTO crl_entries VALUES (?, ?, ?, ?)", rows())
                connection.execute("UPDATE crls SET entries = ? WHERE id = ?", (count, crl_id))
        self.prune()
        return int(crl_id)  # type: ignore[arg-type]

    def prune(self) -> int:
        """Drop superseded CRLs whose nextUpdate is older than ``keep_superseded``; never the
        newest CRL of an issuer. Returns how many were dropped."""
        cutoff = _iso(datetime.now(UTC) - self.keep_superseded)
        rows = self._connection().execute(
            "SELECT id, file FROM crls c WHERE next_update IS NOT NULL AND next_update < ?"
            " AND this_update < (SELECT MAX(this_update) FROM crls n WHERE n.issuer_key = c.issuer_key)",
            (cutoff,),
        ).fetchall()
        for row in rows:
            with self._transaction() as connection:
                connection.execute("DELETE FROM crl_entries WHERE crl_id = ?", (row["id"],))
                connection.execute("DELETE FROM crls WHERE id = ?", (row["id"],))
            (self.folder / row["file"]).unlink(missing_ok=True)
        return len(rows)

    def _mark_verified(self, crl_id: int, issuer_fp: str) -> None:
        with self._transaction() as connection:
            row = connection.execute("SELECT verified_by FROM crls WHERE id = ?", (crl_id,)).fetchone()
            if row is not None and issuer_fp not in row[0].split(","):
                connection.execute("UPDATE crls SET verified_by = ? WHERE id = ?", (",".join(filter(None, [row[0], issuer_fp])), crl_id))

    def crls_of(self, issuer: x509.Name, at: datetime) -> list[CachedCrl]:
        """Cached CRLs of ``issuer`` that can speak about ``at``: those current at ``at``
        (nextUpdate not before it) and the newest few (a later listing wins)."""
        rows = self._connection().execute(
            "SELECT * FROM crls WHERE issuer_key = ? AND (next_update IS NULL OR next_update >= ?)"
            " UNION SELECT * FROM (SELECT * FROM crls WHERE issuer_key = ? ORDER BY this_update DESC LIMIT 3)"
            " ORDER BY this_update",
            (name_key(issuer), _iso(at), name_key(issuer)),
        ).fetchall()
        return [CachedCrl(self, row) for row in rows]

    def newest_from(self, url: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._connection().execute(
            "SELECT * FROM crls WHERE url = ? ORDER BY this_update DESC LIMIT 1", (url,)
        ).fetchone()
        return row

    def crl_infos(self) -> list[CrlInfo]:
        rows = self._connection().execute(
            "SELECT id, url, issuer_key, issuer_text, this_update, next_update, entries, fetched_at FROM crls ORDER BY issuer_key, this_update"
        ).fetchall()
        newest: dict[str, int] = {}
        for row in rows:
            newest[row["issuer_key"]] = row["id"]
        return [
            CrlInfo(
                row["id"],
                row["url"],
                row["issuer_key"],
                row["issuer_text"],
                _from_iso(row["this_update"]),  # type: ignore[arg-type]
                _from_iso(row["next_update"]),
                row["entries"],
                _from_iso(row["fetched_at"]),  # type: ignore[arg-type]
                newest[row["issuer_key"]] != row["id"],
            )
            for row in rows
        ]

    # -- OCSP --------------------------------------------------------------------------

    def add_ocsp(self, issuer_fp: str, serial: int, url: str, basic: ocsp.BasicOCSPResponse, der: bytes) -> None:
        data = basic["tbs_response_data"]
        next_updates = [s["next_update"].native for s in data["responses"] if s["next_update"].native]
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO ocsp_responses (issuer_fp, serial, url, der, produced_at, next_update, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (issuer_fp, f"{serial:X}", url, der, _iso(data["produced_at"].native),
                 _iso(min(next_updates)) if next_updates else None, _iso(datetime.now(UTC))),
            )

    def ocsp_of(self, issuer_fp: str, serial: int, limit: int = 5) -> list[tuple[ocsp.BasicOCSPResponse, datetime, datetime | None]]:
        """The newest cached responses about one certificate: (basic response, fetched at, next update)."""
        rows = self._connection().execute(
            "SELECT der, fetched_at, next_update FROM ocsp_responses WHERE issuer_fp = ? AND serial = ? ORDER BY fetched_at DESC, id DESC LIMIT ?",
            (issuer_fp, f"{serial:X}", limit),
        ).fetchall()
        found = []
        for row in rows:
            try:
                basic = ocsp.OCSPResponse.load(row["der"])["response_bytes"]["response"].parsed
                basic["tbs_response_data"]["produced_at"].native
            except (ValueError, TypeError, KeyError):
                continue
            fetched_at = _from_iso(row["fetched_at"])
            if fetched_at is None:  # the column is NOT NULL; an unreadable row is skipped
                continue
            found.append((basic, fetched_at, _from_iso(row["next_update"])))
        return found

    # -- failures ----------------------------------------------------------------------

    def failure(self, url: str) -> tuple[float, str] | None:
        row = self._connection().execute("SELECT failed_at, error FROM fetch_failures WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else None

    def record_failure(self, url: str, error: str) -> None:
        with self._transaction() as connection:
            connection.execute("INSERT OR REPLACE INTO fetch_failures VALUES (?, ?, ?)", (url, time.time(), error[:300]))

    def clear_failure(self, url: str) -> None:
        with self._transaction() as connection:
            connection.execute("DELETE FROM fetch_failures WHERE url = ?", (url,))


def _urls(values: list[str]) -> list[str]:
    return [u for u in dict.fromkeys(values) if u.lower().startswith(("http://", "https://"))]


def crl_urls(cert: x509.Certificate) -> list[str]:
    """http(s) CRL Distribution Points of a certificate."""
    try:
        return _urls([dp.url for dp in cert.crl_distribution_points if dp.url])
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


def ocsp_urls(cert: x509.Certificate) -> list[str]:
    try:
        return _urls(list(cert.ocsp_urls))
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


_STREEBOG_256 = "1.2.643.7.1.1.2.2"
_SHA1 = "1.3.14.3.2.26"


def ocsp_request_for(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """A DER OCSPRequest; the CertID hashes are Streebog-256 for GOST issuers (as GOST
    responders expect), SHA-1 otherwise (what every responder understands)."""
    oid = _STREEBOG_256 if is_gost_key(issuer.public_key) else _SHA1
    algorithm = digest_by_oid(oid)
    name_hash = new_hash(algorithm)
    name_hash.update(issuer.subject.dump())
    key_hash = new_hash(algorithm)
    key_hash.update(public_key_bits(issuer.public_key))
    cert_id = ocsp.CertId(
        {
            "hash_algorithm": {"algorithm": oid, "parameters": core.Null() if oid == _SHA1 else None},
            "issuer_name_hash": name_hash.digest(),
            "issuer_key_hash": key_hash.digest(),
            "serial_number": cert.serial_number,
        }
    )
    request: bytes = ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}]}}).dump()
    return request


class OnlineRevocation:
    """The :class:`~validators.signatures.revocation.RevocationSource` of the gateway.

    ``fetcher=None`` is offline: only what the cache already holds is used.
    """

    def __init__(
        self,
        cache: RevocationCache,
        fetcher: Fetcher | None,
        *,
        refresh_ahead: timedelta = timedelta(hours=1),
        retry_after: float = 60.0,
        ocsp_max_age: timedelta = timedelta(minutes=30),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.cache = cache
        self.fetcher = fetcher
        self.refresh_ahead = refresh_ahead
        self.retry_after = retry_after
        self.ocsp_max_age = ocsp_max_age
        self.clock = clock
        # One lock per URL while someone holds it: the entry goes with the last holder, so
        # the table does not grow with every address ever fetched.
        self._locks: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
        self._locks_guard = threading.Lock()

    def _lock(self, url: str) -> threading.Lock:
        with self._locks_guard:
            lock = self._locks.get(url)
            if lock is None:
                lock = self._locks[url] = threading.Lock()
            return lock

    def _needs_fetch(self, url: str, now: datetime) -> bool:
        newest = self.cache.newest_from(url)
        if newest is None:
            return True
        next_update = _from_iso(newest["next_update"])
        if next_update is None:
            fetched = _from_iso(newest["fetched_at"])
            return fetched is None or now - fetched > self.refresh_ahead
        this_update = _from_iso(newest["this_update"]) or now
        ahead = min(self.refresh_ahead, (next_update - this_update) / 10)
        return now >= next_update - ahead

    def _recently_failed(self, url: str) -> str | None:
        failure = self.cache.failure(url)
        if failure is not None and time.time() - failure[0] < self.retry_after:
            return failure[1]
        return None

    def refresh_crl(
        self, url: str, issuer: x509.Certificate | None = None, candidates: Sequence[x509.Certificate] = ()
    ) -> str | None:
        """Fetch and index the CRL at ``url`` when due; returns a problem text or None.

        The CRL must name and verify with ``issuer`` (a CDP address) or with one of
        ``candidates`` (the CA certificates of an accredited-CA list entry) before it is
        indexed; nothing unverified enters the cache.
        """
        issuers = [issuer] if issuer is not None else list(candidates)
        if self.fetcher is None:
            return None
        now = self.clock()
        with self._lock(url):
            if not self._needs_fetch(url, now):
                return None
            failed = self._recently_failed(url)
            if failed is not None:
                return failed
            import tempfile  # only when a CRL is fetched: not on every `gateway verify` start

            handle, temp_name = tempfile.mkstemp(prefix="fetch-", suffix=".crl", dir=self.cache.folder)
            temp = Path(temp_name)
            try:
                with os.fdopen(handle, "wb") as target:
                    self.fetcher.get_to_file(url, target)
                _to_der(temp)
                with open_crl(temp) as item:
                    named = [c for c in issuers if name_key(item.header["tbs_cert_list"]["issuer"]) == name_key(c.subject)]
                    if not named:
                        raise FetchError(f"{url}: the CRL there is not issued by the expected CA")
                    signer = next((c for c in named if item.signature_verifies(c.public_key)), None)
                    if signer is None:
                        raise FetchError(f"{url}: the CRL signature does not verify with the issuer's key")
                self.cache.add_crl_file(temp, url, signer)
            except (FetchError, CrlFormatError, OSError) as exc:
                temp.unlink(missing_ok=True)
                message = str(exc) if isinstance(exc, FetchError) else f"{url}: {exc}"
                self.cache.record_failure(url, message)
                _log().warning("revocation fetch failed: %s", message)
                return message
            self.cache.clear_failure(url)
            return None

    def refresh_due(self, issuers_named: Callable[[str], Sequence[x509.Certificate]]) -> list[str]:
        """Fetch again, ahead of nextUpdate, every cached CRL address that is due (the
        service runs this periodically so validation rarely waits for a download).

        ``issuers_named(issuer_key)`` gives the CA certificates a CRL of that issuer may be
        verified with (trust store and accredited-CA list); addresses with none are left
        to the on-demand refresh. Returns the problems.
        """
        rows = self.cache._connection().execute(
            "SELECT url, issuer_key FROM crls c WHERE url IS NOT NULL"
            " AND this_update = (SELECT MAX(this_update) FROM crls n WHERE n.url = c.url)"
        ).fetchall()
        problems = []
        now = self.clock()
        for row in rows:
            candidates = list(issuers_named(row["issuer_key"]))
            if candidates and self._needs_fetch(row["url"], now):
                problem = self.refresh_crl(row["url"], candidates=candidates)
                if problem:
                    problems.append(problem)
        return problems

    def crls_for(self, cert: x509.Certificate, issuer: x509.Certificate, at: datetime) -> FetchedEvidence:
        # CAs list mirrors of one CRL (the ФНС names three): the first address that is
        # current or fetched decides; the others are tried only when it fails.
        problems: list[str] = []
        for url in crl_urls(cert):
            problem = self.refresh_crl(url, issuer)
            if problem is None:
                problems = []
                break
            problems.append(problem)
        return FetchedEvidence(crls=tuple(self.cache.crls_of(issuer.subject, at)), problems=tuple(problems))

    def ocsp_for(self, cert: x509.Certificate, issuer: x509.Certificate, at: datetime) -> FetchedEvidence:
        issuer_fp = fingerprint(issuer)
        now = self.clock()
        cached = self.cache.ocsp_of(issuer_fp, cert.serial_number)
        fresh = any((next_update is not None and next_update > now) or now - fetched < self.ocsp_max_age for _, fetched, next_update in cached)
        problems: list[str] = []
        if not fresh and self.fetcher is not None:
            request = ocsp_request_for(cert, issuer)
            for url in ocsp_urls(cert):
                failed = self._recently_failed(url)
                if failed is not None:
                    problems.append(failed)
                    continue
                try:
                    der = self.fetcher.post(url, request, "application/ocsp-request")
                    response = ocsp.OCSPResponse.load(der)
                    status = response["response_status"].native
                    if status != "successful":
                        raise FetchError(f"{url}: OCSP responder answered '{status}'")
                    basic = response["response_bytes"]["response"].parsed
                    basic["tbs_response_data"]["produced_at"].native
                except FetchError as exc:
                    self.cache.record_failure(url, str(exc))
                    problems.append(str(exc))
                    continue
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    message = f"{url}: unreadable OCSP response ({type(exc).__name__})"
                    self.cache.record_failure(url, message)
                    problems.append(message)
                    continue
                self.cache.clear_failure(url)
                self.cache.add_ocsp(issuer_fp, cert.serial_number, url, basic, der)
                cached = self.cache.ocsp_of(issuer_fp, cert.serial_number)
                problems = []
                break
        return FetchedEvidence(ocsp_responses=tuple(b for b, _, _ in cached), problems=tuple(problems))


def _to_der(path: Path) -> None:
    """A PEM CRL (some CAs publish them so) is rewritten as DER in place."""
    with open(path, "rb") as stream:
        start = stream.read(64)
    if b"-----BEGIN" not in start:
        return
    if path.stat().st_size > 256 << 20:
        raise CrlFormatError("PEM CRL too large")
    from asn1crypto import pem

    _, _, der = pem.unarmor(path.read_bytes())
    path.write_bytes(der)
