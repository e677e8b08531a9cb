"""The name of a ``report`` package (SPEC section 2): ``PPP_OD.zip`` or ``PPP_PS.zip``.

``PPP`` is the member's number in the SRO register; the ``OD`` kinds (``OD_Q1``,
``OD_H1``, ``OD_9M``, ``OD_Y30``, ``OD_Y90``) need ``_OD``, the ``PS`` kind needs ``_PS``.
"""

from __future__ import annotations

import re

from validators.checks import Check, finding

__all__ = ["check_report_name", "REPORT_SUFFIXES"]

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


def check_report_name(name: str, member_number: str, report_kind: str) -> list[Check]:
    """Check the file name of a ``report`` package against the member and the report kind.

    * The name must be exactly ``<digits>_OD.zip`` or ``<digits>_PS.zip``, nothing before
      or after (no spaces, no path, no ``" (1)"``), else ``name.report_pattern``.
      The ``OD``/``PS`` part and the ``.zip`` extension are accepted in any letter case
      (``7_od.ZIP`` is fine): case carries no meaning and Windows users do not see it.
      The digits must be ASCII.
    * ``OD`` for an ``OD_*`` kind, ``PS`` for ``PS``; the other one gives
      ``name.report_pattern`` whose detail says which was expected. An unknown
      ``report_kind`` is the request validator's finding (``request.report_kind``):
      here only the shape and the number are then checked.
    * The number must be the member's register number, compared as a number: leading
      zeros are ignored on both sides (``007_OD.zip`` is member ``7``; ``7_OD.zip`` is
      member ``007``). Another number gives ``name.member_number``. When
      ``member_number`` is not made of digits (a configuration problem), the two are
      compared as exact strings.

    Both the kind and the number findings can come together.
    """
    match = _REPORT_NAME.fullmatch(name)
    if match is None:
        return [
            finding(
                "name.report_pattern",
                file=name,
                detail=f"{name!r} is not of the form PPP_OD.zip or PPP_PS.zip (PPP: the register number){_shape_hint(name)}",
            )
        ]
    number, suffix = match.group(1), match.group(2).upper()
    checks: list[Check] = []
    expected = REPORT_SUFFIXES.get(report_kind.strip().upper())
    if expected is not None and suffix != expected:
        checks.append(
            finding(
                "name.report_pattern",
                file=name,
                detail=f"report kind {report_kind} needs a name ending in _{expected}.zip, got _{match.group(2)}",
            )
        )
    own = member_number.strip()
    if _ANY_DIGITS.fullmatch(own):
        same = _canonical_number(number) == _canonical_number(own)
    else:
        same = number == own
    if not same:
        checks.append(
            finding(
                "name.member_number",
                file=name,
                detail=f"the name carries register number {number}, the member's number is {own}",
            )
        )
    return checks
