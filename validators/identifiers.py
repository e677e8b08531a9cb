"""Check digits of Russian registration numbers: ОГРН, ОГРНИП and ИНН (legal entity and person).

Pure functions; each returns True only for a number of the right length whose control
digit(s) agree (ФНС algorithms).
"""

from __future__ import annotations

__all__ = ["ogrn_valid", "inn_valid"]

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def ogrn_valid(value: str) -> bool:
    """ОГРН (13 digits, mod 11) or ОГРНИП (15 digits, mod 13)."""
    if not value.isascii() or not value.isdigit():
        return False
    if len(value) == 13:
        return int(value[:12]) % 11 % 10 == int(value[12])
    if len(value) == 15:
        return int(value[:14]) % 13 % 10 == int(value[14])
    return False


def _control(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_valid(value: str) -> bool:
    """ИНН of a legal entity (10 digits) or of a person (12 digits)."""
    if not value.isascii() or not value.isdigit():
        return False
    if len(value) == 10:
        return _control(value, _INN10) == int(value[9])
    if len(value) == 12:
        return _control(value, _INN12_1) == int(value[10]) and _control(value, _INN12_2) == int(value[11])
    return False
