"""The name of a ``report`` package (SPEC section 2): ``PPP_OD.zip`` or ``PPP_PS.zip``.

``PPP`` is the member's number in the SRO register; the ``OD`` kinds (``OD_Q1``,
``OD_H1``, ``OD_9M``, ``OD_Y30``, ``OD_Y90``) need ``_OD``, the ``PS`` kind needs ``_PS``.
The instruction's rule is exact (that letter case, the number as registered), and the
remedy of every finding names the correct name for the member.
"""

from __future__ import annotations

import dataclasses
import re

from validators.checks import Check, finding

__all__ = ["check_report_name", "expected_report_name", "REPORT_SUFFIXES"]

REPORT_SUFFIXES: dict[str, str] = {
    "OD_Q1": "OD",
    "OD_H1": "OD",
    "OD_9M": "OD",
    "OD_Y30": "OD",
    "OD_Y90": "OD",
    "PS": "PS",
}
"""The part of the report name after ``PPP_`` that each ``report_kind`` needs."""

# ASCII digits only: str.isdigit()/\d would also take Arabic-Indic or superscript digits.
_REPORT_NAME = re.compile(r"([0-9]+)_(OD|PS)\.zip", re.IGNORECASE | re.ASCII)
_ANY_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def _canonical_number(number: str) -> str:
    """Register number without leading zeros (``"007"`` -> ``"7"``, ``"000"`` -> ``"0"``).

    Compared as strings rather than with ``int()``: ``int()`` refuses more than 4300
    digits, and a name is member input.
    """
    return number.lstrip("0") or "0"


def _shape_hint(name: str) -> str:
    if any(ord(ch) > 127 for ch in name):
        return " (it contains non-ASCII characters, e.g. a Cyrillic letter instead of a Latin O, D, P or S)"
    if not name.lower().endswith(".zip") and re.fullmatch(r"[0-9]+_(OD|PS)\.[^.]*", name, re.I | re.A):
        return " (the extension must be .zip)"
    return ""


def expected_report_name(member_number: str, report_kind: str) -> str:
    """The one correct name for this member and kind (``42_OD.zip``); both forms when the
    kind is unknown (``42_OD.zip или 42_PS.zip``)."""
    number = member_number.strip()
    suffix = REPORT_SUFFIXES.get(report_kind.strip().upper())
    if suffix is None:
        return f"{number}_OD.zip или {number}_PS.zip"
    return f"{number}_{suffix}.zip"


def _naming(code: str, name: str, detail: str, expected: str) -> Check:
    """A name finding whose remedy names the correct name, computed for the member."""
    check = finding(code, file=name, detail=detail)
    return dataclasses.replace(check, remedy_ru=f"Переименуйте архив в {expected} — точно так: номер кооператива в реестре СРО, затем _OD или _PS заглавными латинскими буквами, расширение .zip строчными — и отправьте снова.")


def check_report_name(name: str, member_number: str, report_kind: str) -> list[Check]:
    """Check the file name of a ``report`` package against the member and the report kind.

    The instruction's rule is exact: ``PPP_OD.zip`` / ``PPP_PS.zip`` in that letter case,
    ``PPP`` the member's register number as the member list writes it. Every finding's
    remedy names the correct name (:func:`expected_report_name`).

    * Not of the shape ``<ASCII digits>_<OD|PS>.<zip>`` (any case), e.g. spaces, a path,
      ``" (1)"``, another extension: ``name.report_pattern``.
    * ``OD`` for an ``OD_*`` kind, ``PS`` for ``PS``; the other one gives
      ``name.report_pattern`` whose detail says which was expected. An unknown
      ``report_kind`` is the request validator's finding (``request.report_kind``):
      here only the shape and the number are then checked.
    * Another letter case (``42_od.zip``, ``42_OD.ZIP``) or the member's number with
      leading zeros (``0042_OD.zip``): ``name.report_pattern``.
    * Another number (compared without leading zeros on both sides, as strings: ``int()``
      refuses more than 4300 digits and a name is member input): ``name.member_number``.
      When ``member_number`` is not made of digits (a configuration problem), the two are
      compared as exact strings.

    Both the kind and the number findings can come together.
    """
    expected = expected_report_name(member_number, report_kind)
    match = _REPORT_NAME.fullmatch(name)
    if match is None:
        detail = f"{name!r} is not of the form PPP_OD.zip or PPP_PS.zip (PPP: the register number){_shape_hint(name)}"
        return [_naming("name.report_pattern", name, detail, expected)]
    number, suffix = match.group(1), match.group(2).upper()
    checks: list[Check] = []
    wanted_suffix = REPORT_SUFFIXES.get(report_kind.strip().upper())
    if wanted_suffix is not None and suffix != wanted_suffix:
        detail = f"report kind {report_kind} needs a name ending in _{wanted_suffix}.zip, got _{match.group(2)}"
        checks.append(_naming("name.report_pattern", name, detail, expected))
    own = member_number.strip()
    if _ANY_DIGITS.fullmatch(own):
        same = _canonical_number(number) == _canonical_number(own)
    else:
        same = number == own
    if not same:
        detail = f"the name carries register number {number}, the member's number is {own}"
        checks.append(_naming("name.member_number", name, detail, expected))
    elif not checks and name != f"{own}_{suffix}.zip":
        problems = []
        if number != own:
            problems.append(f"the number is written {number}, the register has {own}")
        if f"_{match.group(2)}.{name.rsplit('.', 1)[1]}" != f"_{suffix}.zip":
            problems.append("the letter case differs (OD/PS in capitals, .zip in lower case)")
        checks.append(_naming("name.report_pattern", name, f"{name!r}: " + "; ".join(problems), expected))
    return checks
