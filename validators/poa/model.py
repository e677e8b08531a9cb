"""The machine-readable power of attorney (МЧД, ФНС format EMCHD_1 version 003) as values.

Only what a gateway needs (``shared/formats/mchd-emchd-003.md``): who issued it for which
organisation, to whom, for which period and with which powers. Frozen: parsed once, then
only compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from validators.members import normalise_person_name

__all__ = ["Person", "Principal", "Power", "PowerOfAttorney", "ru_date"]


def ru_date(value: date | None) -> str:
    """``дд.мм.гггг``, the way dates are shown to people."""
    return value.strftime("%d.%m.%Y") if value else "—"


@dataclass(frozen=True, slots=True)
class Person:
    """A natural person named in the МЧД (the head who issued it, or the representative)."""

    surname: str = ""
    given_name: str = ""
    patronymic: str = ""
    snils: str | None = None
    """11 digits, separators removed."""
    inn: str | None = None
    """ИНН ФЛ, 12 digits."""
    position: str = ""

    @property
    def full_name(self) -> str:
        """Фамилия Имя Отчество."""
        return " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)

    @property
    def name_key(self) -> str:
        """The name for comparisons (case- and ё/е-insensitive)."""
        return normalise_person_name(self.full_name)

    def to_json(self) -> dict[str, Any]:
        return {
            "full_name": self.full_name,
            "snils": self.snils,
            "inn": self.inn,
            "position": self.position or None,
        }


@dataclass(frozen=True, slots=True)
class Principal:
    """``СвРосОрг``: the organisation that gives the power (must be the member)."""

    name: str
    ogrn: str | None
    inn_le: str | None
    kpp: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ogrn": self.ogrn, "inn": self.inn_le, "kpp": self.kpp}


@dataclass(frozen=True, slots=True)
class Power:
    """One power: free text (``ТекстПолн``) or a classifier entry (``МашПолн``)."""

    text: str = ""
    code: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text}


@dataclass(frozen=True, slots=True)
class PowerOfAttorney:
    """One МЧД (``Доверенность ВерсФорм="EMCHD_1"``)."""

    number: str
    """``НомДовер``: the registry number (a GUID), lower case."""
    issued: date
    """``ДатаВыдДовер``."""
    valid_until: date
    """``СрокДейст`` (inclusive)."""
    principal: Principal
    issuer: Person
    """``ЛицоБезДов``: the head (ЕИО) acting without a power of attorney, who signs the МЧД."""
    representative: Person
    """``СвУпПред``: the natural person who may sign for the principal."""
    kind: str = "1"
    """``ВидДовер``: ``1`` a power of attorney issued by the principal; anything else is
    issued by way of re-delegation (передоверие)."""
    redelegation: str | None = None
    """``ПрПередов``: whether the representative may re-delegate (shown, not used)."""
    internal_number: str | None = None
    """``ВнНомДовер``: the principal's own number."""
    file_id: str | None = None
    """``ИдФайл``."""
    powers: tuple[Power, ...] = field(default=())

    @property
    def is_redelegated(self) -> bool:
        """Issued by way of re-delegation (not by the principal's head)."""
        return self.kind != "1"

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "internal_number": self.internal_number,
            "issued": self.issued.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "kind": self.kind,
            "redelegation": self.redelegation,
            "principal": self.principal.to_json(),
            "issuer": self.issuer.to_json(),
            "representative": self.representative.to_json(),
            "powers": [p.to_json() for p in self.powers],
        }
