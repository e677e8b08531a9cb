"""Staff accounts and their browser sessions (the staff workspace's sign-in).

Passwords are kept as argon2id hashes (``argon2-cffi``, its default parameters, rehashed on
sign-in when they change). After :data:`MAX_FAILURES` wrong passwords in a row an account
is locked for :data:`LOCKOUT_SECONDS`; a locked account refuses even the right password,
so guessing cannot go on at full speed. Sessions are random 256-bit tokens of which only
the SHA-256 is stored (a copy of the database does not let anyone sign in); each has its
own CSRF token, an idle timeout and an absolute lifetime.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.store.db import Database, now_iso

__all__ = ["SCHEMA", "StaffUsers", "StaffUser", "Session", "SignIn", "MAX_FAILURES", "LOCKOUT_SECONDS"]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS staff_users (
        login TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until REAL NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS staff_sessions (
        token_sha256 TEXT PRIMARY KEY,
        login TEXT NOT NULL REFERENCES staff_users(login),
        csrf TEXT NOT NULL,
        created REAL NOT NULL,
        last_seen REAL NOT NULL
    )""",
)

MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60.0
IDLE_SECONDS = 60 * 60.0
"""A session unused this long ends."""
LIFETIME_SECONDS = 12 * 60 * 60.0
"""A session ends this long after sign-in, used or not."""
MIN_PASSWORD = 10

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown login (same time as a known one). Made on
    first use, not at import: argon2id takes tens of milliseconds and 64 MiB."""
    return _HASHER.hash("not a password of anyone")


@dataclass(frozen=True, slots=True)
class StaffUser:
    login: str
    name: str
    disabled: bool


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    login: str
    name: str
    csrf: str


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome of a sign-in: a session, or why not (``wrong``, ``locked``)."""

    session: Session | None
    problem: str | None = None


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffUsers:
    """Queries on staff accounts and sessions."""

    def __init__(self, db: Database, idle_seconds: float = IDLE_SECONDS, lifetime_seconds: float = LIFETIME_SECONDS) -> None:
        self.db = db
        self.idle_seconds = idle_seconds
        self.lifetime_seconds = lifetime_seconds
        #: login -> (failures in a row, locked until) of unknown or disabled logins, which
        #: lock like accounts so that the answers do not tell which logins exist.
        self._phantoms: dict[str, tuple[int, float]] = {}
        self._phantoms_lock = threading.Lock()

    # --- accounts (gateway staff add|passwd|disable) ---

    @staticmethod
    def check_password(password: str) -> str | None:
        """Why a new password is not good enough, in Russian; None when it is."""
        if len(password) < MIN_PASSWORD:
            return f"Пароль должен быть не короче {MIN_PASSWORD} символов."
        return None

    def add(self, login: str, name: str, password: str) -> bool:
        """Create an account; False when the login exists."""
        password_hash = _HASHER.hash(password)
        with self.db.transaction() as connection:
            return connection.execute(
                "INSERT OR IGNORE INTO staff_users (login, name, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (login, name, password_hash, now_iso()),
            ).rowcount == 1

    def set_password(self, login: str, password: str) -> bool:
        """New password; unlocks the account and ends its sessions. False for an unknown login."""
        password_hash = _HASHER.hash(password)
        with self.db.transaction() as connection:
            changed = connection.execute(
                "UPDATE staff_users SET password_hash = ?, failures = 0, locked_until = 0 WHERE login = ?", (password_hash, login)
            ).rowcount == 1
            connection.execute("DELETE FROM staff_sessions WHERE login = ?", (login,))
        return changed

    def disable(self, login: str) -> bool:
        """Disable an account and end its sessions. False for an unknown login."""
        with self.db.transaction() as connection:
            changed = connection.execute("UPDATE staff_users SET disabled = 1 WHERE login = ?", (login,)).rowcount == 1
            connection.execute("DELETE FROM staff_sessions WHERE login = ?", (login,))
        return changed

    def users(self) -> list[StaffUser]:
        return [StaffUser(r["login"], r["name"], bool(r["disabled"])) for r in self.db.query("SELECT * FROM staff_users ORDER BY login")]

    # --- sign-in and sessions ---

    def _phantom_failure(self, login: str, now: float) -> SignIn:
        """A failed sign-in of an unknown or disabled login, answered as an account's would
        be («locked» after :data:`MAX_FAILURES` in a row); kept in memory only, bounded."""
        with self._phantoms_lock:
            failures, locked_until = self._phantoms.get(login, (0, 0.0))
            if locked_until > now:
                return SignIn(None, "locked")
            if len(self._phantoms) >= 10_000:
                self._phantoms.clear()  # a flood of invented logins costs memory, never more
            failures += 1
            if failures >= MAX_FAILURES:
                self._phantoms[login] = (0, now + LOCKOUT_SECONDS)
                return SignIn(None, "locked")
            self._phantoms[login] = (failures, 0.0)
            return SignIn(None, "wrong")

    def sign_in(self, login: str, password: str, now: float | None = None) -> SignIn:
        """Check the password (argon2id) and open a session."""
        now = time.time() if now is None else now
        rows = self.db.query("SELECT * FROM staff_users WHERE login = ?", login)
        row = rows[0] if rows else None
        stored = row["password_hash"] if row is not None else _dummy_hash()
        good: bool
        try:
            good = _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            good = False
        if row is None or row["disabled"]:
            return self._phantom_failure(login, now)
        with self.db.transaction() as connection:
            current = connection.execute("SELECT failures, locked_until FROM staff_users WHERE login = ?", (login,)).fetchone()
            if current["locked_until"] > now:
                return SignIn(None, "locked")
            if not good:
                failures = current["failures"] + 1
                locked_until = now + LOCKOUT_SECONDS if failures >= MAX_FAILURES else 0
                connection.execute(
                    "UPDATE staff_users SET failures = ?, locked_until = ? WHERE login = ?",
                    (0 if locked_until else failures, locked_until, login),
                )
                return SignIn(None, "locked" if locked_until else "wrong")
            connection.execute("UPDATE staff_users SET failures = 0, locked_until = 0 WHERE login = ?", (login,))
            if _HASHER.check_needs_rehash(stored):
                connection.execute("UPDATE staff_users SET password_hash = ? WHERE login = ?", (_HASHER.hash(password), login))
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            connection.execute(
                "INSERT INTO staff_sessions (token_sha256, login, csrf, created, last_seen) VALUES (?, ?, ?, ?, ?)",
                (_sha(token), login, csrf, now, now),
            )
            connection.execute("DELETE FROM staff_sessions WHERE created < ? OR last_seen < ?", (now - self.lifetime_seconds, now - self.idle_seconds))
        return SignIn(Session(token, login, row["name"], csrf))

    def session(self, token: str, now: float | None = None) -> Session | None:
        """The live session of this cookie value (its idle clock restarts), or None."""
        if not token:
            return None
        now = time.time() if now is None else now
        with self.db.transaction() as connection:
            row = connection.execute(
                "SELECT s.*, u.name, u.disabled FROM staff_sessions s JOIN staff_users u ON u.login = s.login WHERE s.token_sha256 = ?",
                (_sha(token),),
            ).fetchone()
            if row is None:
                return None
            if row["disabled"] or row["created"] < now - self.lifetime_seconds or row["last_seen"] < now - self.idle_seconds:
                connection.execute("DELETE FROM staff_sessions WHERE token_sha256 = ?", (_sha(token),))
                return None
            connection.execute("UPDATE staff_sessions SET last_seen = ? WHERE token_sha256 = ?", (now, _sha(token)))
        return Session(token, row["login"], row["name"], row["csrf"])

    def sign_out(self, token: str) -> None:
        with self.db.transaction() as connection:
            connection.execute("DELETE FROM staff_sessions WHERE token_sha256 = ?", (_sha(token),))
