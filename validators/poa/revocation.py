"""Is an МЧД revoked? The operator's local list, and optionally the online registry.

* Local list (``[poa] revoked_list``): a text file, one МЧД number (``НомДовер``, the GUID)
  per line; blank lines and ``#`` comments are ignored; letter case and braces do not
  matter. A missing file means "nothing revoked locally"; a file that exists but cannot be
  read is reported (the check could not be made), never silently ignored.
* Online registry (``[poa] registry_url``, off when empty): ``GET {url}?number=<НомДовер>
  &inn=<ИНН ЮЛ of the principal>`` answering JSON ``{"status": "active" | "revoked" | …}``.
  Only ``active``/``valid`` and ``revoked``/``cancelled``/``annulled`` are definite; any
  other answer, an HTTP error or a timeout means "could not be checked".
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RevokedList", "RegistryAnswer", "load_revoked_list", "query_registry", "normalise_number"]

#: A registry answer is a small JSON object; more is not read.
MAX_REGISTRY_ANSWER = 64 * 1024

_ACTIVE = {"active", "valid", "действует", "действующая"}
_REVOKED = {"revoked", "cancelled", "canceled", "annulled", "отменена", "отозвана"}


def normalise_number(number: str) -> str:
    """An МЧД number as compared: braces and surrounding blanks removed, lower case; a
    GUID (the EMCHD number) also without its dashes, so ``0B6F8F0E3C1A…`` in the
    operator's list still matches ``{0b6f8f0e-3c1a-…}`` in the file."""
    plain = number.strip().strip("{}").strip().lower()
    compact = plain.replace("-", "")
    return compact if len(compact) == 32 and all(c in "0123456789abcdef" for c in compact) else plain


@dataclass(frozen=True, slots=True)
class RevokedList:
    """The operator's list of revoked МЧД numbers."""

    numbers: frozenset[str]
    problem: str | None = None
    """Why the list could not be read (then nothing is known to be revoked)."""

    def revoked(self, number: str) -> bool:
        return normalise_number(number) in self.numbers


def load_revoked_list(path: Path | None) -> RevokedList:
    """Read the local list; a missing (or unconfigured) file is an empty list."""
    if path is None:
        return RevokedList(frozenset())
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        return RevokedList(frozenset())
    except (OSError, UnicodeError) as exc:
        return RevokedList(frozenset(), f"revoked list {path}: {getattr(exc, 'strerror', None) or exc}")
    numbers = {normalise_number(line.split("#", 1)[0]) for line in text.splitlines()}
    return RevokedList(frozenset(n for n in numbers if n))


@dataclass(frozen=True, slots=True)
class RegistryAnswer:
    """What the online registry said about one МЧД."""

    consulted: bool
    """True when the registry gave a definite answer (active or revoked)."""
    status: str | None
    """``active``, ``revoked``, or None when unknown."""
    detail: str
    """English detail for staff: the URL asked and what came back."""

    @property
    def revoked(self) -> bool:
        return self.status == "revoked"

    def to_json(self) -> dict[str, Any]:
        return {"consulted": self.consulted, "status": self.status, "detail": self.detail}


def query_registry(url: str, number: str, principal_inn: str | None, timeout: float) -> RegistryAnswer:
    """Ask the registry about ``number``; never raises (errors mean "could not be checked")."""
    query = {"number": number}
    if principal_inn:
        query["inn"] = principal_inn
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    target = url + separator + urllib.parse.urlencode(query)
    if urllib.parse.urlsplit(target).scheme not in ("http", "https"):
        return RegistryAnswer(False, None, f"registry URL {url!r} is not http(s)")
    request = urllib.request.Request(target, headers={"Accept": "application/json"})  # noqa: S310 - http(s) checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - operator-configured URL
            body = response.read(MAX_REGISTRY_ANSWER + 1)
    except urllib.error.HTTPError as exc:
        return RegistryAnswer(False, None, f"{target}: HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return RegistryAnswer(False, None, f"{target}: {reason}")
    if len(body) > MAX_REGISTRY_ANSWER:
        return RegistryAnswer(False, None, f"{target}: answer larger than {MAX_REGISTRY_ANSWER} bytes")
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeError):
        return RegistryAnswer(False, None, f"{target}: answer is not JSON")
    status = str(answer.get("status", "")).strip().lower() if isinstance(answer, dict) else ""
    if status in _ACTIVE:
        return RegistryAnswer(True, "active", f"{target}: {status}")
    if status in _REVOKED:
        return RegistryAnswer(True, "revoked", f"{target}: {status}")
    return RegistryAnswer(False, None, f"{target}: status {status or 'missing'!r} is not a definite answer")
