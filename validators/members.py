"""The member list: credit cooperatives in the SRO register, read from a CSV file.

Header ``number,ogrn,inn,name,email,head,status`` (UTF-8, a BOM tolerated); ``status`` is
``active`` or ``excluded``. The file is re-read when its modification time or size
changes, so staff can update it without restarting the gateway.
"""

from __future__ import annotations

import csv
import os
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Member", "MemberList", "MemberListError", "normalise_person_name", "load_members"]

_COLUMNS = ("number", "ogrn", "inn", "name", "email", "head", "status")


class MemberListError(ValueError):
    """The member list cannot be used; the message names the line."""


@dataclass(frozen=True, slots=True)
class Member:
    number: str
    """Number in the SRO register (digits)."""
    ogrn: str
    inn: str
    name: str
    email: str
    head: str
    """Full name of the head (ЕИО): surname, given name, patronymic."""
    status: str

    @property
    def active(self) -> bool:
        return self.status == "active"


def normalise_person_name(name: str | None) -> str:
    """Compare names case- and ё/е-insensitively, ignoring extra white space and dots."""
    text = (name or "").lower().replace("ё", "е").replace(".", " ")
    return " ".join(text.split())


def _number_key(number: str) -> str:
    stripped = number.strip()
    return str(int(stripped)) if stripped.isdigit() else stripped


def load_members(path: Path) -> dict[str, Member]:
    """Members by register number (leading zeros ignored); raises MemberListError."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            reader = csv.DictReader(stream)
            if tuple(reader.fieldnames or ()) != _COLUMNS:
                raise MemberListError(f"{path}: header must be {','.join(_COLUMNS)}, found {','.join(reader.fieldnames or ())}")
            members: dict[str, Member] = {}
            for line, row in enumerate(reader, start=2):
                values = {k: (row.get(k) or "").strip() for k in _COLUMNS}
                if not values["number"] or not values["number"].isdigit():
                    raise MemberListError(f"{path}:{line}: register number must be digits, got {values['number']!r}")
                if values["status"] not in {"active", "excluded"}:
                    raise MemberListError(f"{path}:{line}: status must be active or excluded")
                key = _number_key(values["number"])
                if key in members:
                    raise MemberListError(f"{path}:{line}: register number {values['number']} appears twice")
                members[key] = Member(**values)
    except OSError as exc:
        raise MemberListError(f"{path}: {exc.strerror}") from None
    except csv.Error as exc:
        raise MemberListError(f"{path}: {exc}") from None
    return members


class MemberList:
    """The member list file, re-read when it changes (thread-safe)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._members: dict[str, Member] = {}
        self.problem: str | None = None
        """Why the last (re-)read failed; the previous good list stays in use."""

    def get(self, number: str) -> Member | None:
        """The member with this register number, or None."""
        self._refresh()
        return self._members.get(_number_key(number))

    def active_members(self) -> list[Member]:
        """Every active member, in register-number order."""
        self._refresh()
        return sorted((m for m in self._members.values() if m.active), key=lambda m: int(m.number))

    def all_members(self) -> list[Member]:
        """Every member, excluded ones too, in register-number order."""
        self._refresh()
        return sorted(self._members.values(), key=lambda m: int(m.number))

    def __len__(self) -> int:
        self._refresh()
        return len(self._members)

    def _refresh(self) -> None:
        if self.path is None:
            return
        try:
            info = os.stat(self.path)
        except OSError as exc:
            self.problem = f"{self.path}: {exc.strerror}"
            return
        stamp = (info.st_mtime_ns, info.st_size)
        with self._lock:
            if stamp == self._stamp:
                return
            try:
                self._members = load_members(self.path)
                self.problem = None
            except MemberListError as exc:
                self.problem = str(exc)
            self._stamp = stamp
