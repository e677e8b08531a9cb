"""Test pieces for machine-readable powers of attorney (МЧД): natural-person certificates
and МЧД XML files signed with ``openssl cms`` + the gost engine.

Personal (natural-person) qualified certificates are issued by the test PKI's accredited
``ca`` with the builder's primitives and written next to the builder's certificates, so
:meth:`TestPki.sign` signs with them by label:

* ``accountant_personal``: the chief accountant (СНИЛС, ИНН ФЛ, no ОГРН, no organisation);
* ``stranger_personal``: another natural person (for "the МЧД names someone else").

The head's organisation certificate is the builder's ``head256`` (ОГРН and ИНН ЮЛ of the
member, СНИЛС ``HEAD_SNILS``, the name in the member list), the one that signs an МЧД.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import quoteattr

from tests.pki.builder import (
    ACCOUNTANT_GIVEN_NAME,
    ACCOUNTANT_INN,
    ACCOUNTANT_SNILS,
    ACCOUNTANT_SURNAME,
    ACCOUNTANT_TITLE,
    HEAD_GIVEN_NAME,
    HEAD_INN,
    HEAD_SNILS,
    HEAD_SURNAME,
    HEAD_TITLE,
    KPK_INNLE,
    KPK_NAME,
    KPK_OGRN,
    TestPki,
)

STRANGER_SURNAME = "Сергеев"
STRANGER_GIVEN_NAME = "Олег Павлович"
STRANGER_INN = "770000000055"
STRANGER_SNILS = "45678901234"

#: Serials 4B7E00000000A051, …A052 (issue_under_ca counts from 1 after the base).
_PERSONS = {
    "accountant_personal": (ACCOUNTANT_SURNAME, ACCOUNTANT_GIVEN_NAME, ACCOUNTANT_INN, ACCOUNTANT_SNILS),
    "stranger_personal": (STRANGER_SURNAME, STRANGER_GIVEN_NAME, STRANGER_INN, STRANGER_SNILS),
}
_SERIAL_BASE = 0x4B7E00000000A050


def _person_dn(surname: str, given_name: str, inn: str, snils: str) -> tuple[tuple[str, str], ...]:
    """A natural person's qualified certificate subject: no O, no ОГРН, no ИНН ЮЛ."""
    return (
        ("C", "RU"),
        ("ST", "77 Москва"),
        ("L", "г. Москва"),
        ("SN", surname),
        ("GN", given_name),
        ("CN", f"{surname} {given_name}"),
        ("INN", inn),
        ("SNILS", snils),
    )


def issue_personal_certificates(pki: TestPki) -> TestPki:
    """Issue the natural-person certificates once (idempotent) and return ``pki``."""
    from tests.pki.persons import issue_under_ca

    specs = {label: _person_dn(surname, given_name, inn, snils) for label, (surname, given_name, inn, snils) in _PERSONS.items()}
    return issue_under_ca(pki, specs, _SERIAL_BASE)


# --- МЧД XML -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoaPerson:
    surname: str
    given_name: str
    patronymic: str
    inn: str | None
    snils: str | None
    position: str


HEAD = PoaPerson(HEAD_SURNAME, *HEAD_GIVEN_NAME.split(), HEAD_INN, HEAD_SNILS, HEAD_TITLE)
ACCOUNTANT = PoaPerson(ACCOUNTANT_SURNAME, *ACCOUNTANT_GIVEN_NAME.split(), ACCOUNTANT_INN, ACCOUNTANT_SNILS, ACCOUNTANT_TITLE)
STRANGER = PoaPerson(STRANGER_SURNAME, *STRANGER_GIVEN_NAME.split(), STRANGER_INN, STRANGER_SNILS, "Юрист")


def dashed_snils(snils: str) -> str:
    """``123-456-789 01``, the way СНИЛС is often written."""
    return f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"


@dataclass(frozen=True)
class PoaSpec:
    """Everything an МЧД says; defaults: the member's head empowers the chief accountant for a year."""

    number: str = field(default_factory=lambda: str(uuid.uuid4()))
    issued: date = field(default_factory=lambda: date.today() - timedelta(days=10))
    valid_until: date = field(default_factory=lambda: date.today() + timedelta(days=355))
    org_name: str = KPK_NAME
    ogrn: str = KPK_OGRN
    inn_le: str = KPK_INNLE
    issuer: PoaPerson = HEAD
    representative: PoaPerson = ACCOUNTANT
    kind: str = "1"
    redelegation: str = "1"
    powers_text: str = "Подписание и представление документов в саморегулируемую организацию"
    power_codes: tuple[tuple[str, str], ...] = ()
    namespace: str | None = None
    encoding: str = "UTF-8"
    dashed_snils: bool = True

    @property
    def file_name(self) -> str:
        return f"ON_EMCHD_{self.issued:%Y%m%d}_{self.number}.xml"


def _person_xml(tag: str, person: PoaPerson, spec: PoaSpec) -> str:
    attrs = ""
    if person.inn:
        attrs += f" ИННФЛ={quoteattr(person.inn)}"
    if person.snils:
        attrs += f" СНИЛС={quoteattr(dashed_snils(person.snils) if spec.dashed_snils else person.snils)}"
    return (
        f"<{tag}{attrs} Должность={quoteattr(person.position)}><СведФЛ>"
        f"<ФИО Фамилия={quoteattr(person.surname)} Имя={quoteattr(person.given_name)} Отчество={quoteattr(person.patronymic)}/>"
        f"</СведФЛ></{tag}>"
    )


def poa_xml(spec: PoaSpec = PoaSpec()) -> bytes:
    """The МЧД as bytes in ``spec.encoding`` (declared in the XML declaration)."""
    xmlns = f" xmlns={quoteattr(spec.namespace)}" if spec.namespace else ""
    powers = f"<ТекстПолн>{spec.powers_text}</ТекстПолн>" if spec.powers_text else ""
    powers += "".join(f"<МашПолн КодПолн={quoteattr(c)} НаимПолн={quoteattr(n)}/>" for c, n in spec.power_codes)
    text = (
        f'<?xml version="1.0" encoding="{spec.encoding}"?>\n'
        f'<Доверенность{xmlns} ВерсФорм="EMCHD_1" ПрЭлФорм="00000000" ИдФайл={quoteattr(spec.file_name[:-4])}>'
        "<Документ><Довер>"
        f"<СвДов ВидДовер={quoteattr(spec.kind)} ПрПередов={quoteattr(spec.redelegation)} ВнНомДовер=\"5-Д\" НомДовер={quoteattr(spec.number)}"
        f" ДатаВыдДовер=\"{spec.issued.isoformat()}\" СрокДейст=\"{spec.valid_until.isoformat()}\">"
        f"<СведСист>https://m4d.nalog.gov.ru/emchd/check-status?guid={spec.number}</СведСист></СвДов>"
        "<СвДоверит ТипДоверит=\"1\"><Доверит><РосОргДовер ЕИОУК=\"0\" ЕИОФЛ=\"1\" ЕИОИП=\"0\">"
        f"<СвРосОрг НаимОрг={quoteattr(spec.org_name)} ИННЮЛ={quoteattr(spec.inn_le)} КПП=\"770001001\" ОГРН={quoteattr(spec.ogrn)}/>"
        f"<ЛицоБезДов ПолнЮЛ=\"1\">{_person_xml('СвФЛ', spec.issuer, spec)}</ЛицоБезДов>"
        "</РосОргДовер></Доверит></СвДоверит>"
        f"<СвУпПред ТипПред=\"1\"><Пред>{_person_xml('СведФизЛ', spec.representative, spec)}</Пред></СвУпПред>"
        f"<СвПолн ТипПолн=\"1\">{powers}</СвПолн>"
        "</Довер></Документ></Доверенность>\n"
    )
    return text.encode("cp1251" if spec.encoding.lower() == "windows-1251" else spec.encoding)


def write_poa(folder: Path, spec: PoaSpec = PoaSpec()) -> Path:
    """Write the МЧД (unsigned) as ``ON_EMCHD_<date>_<guid>.xml`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / spec.file_name
    path.write_bytes(poa_xml(spec))
    return path


def write_signed_poa(pki: TestPki, folder: Path, spec: PoaSpec = PoaSpec(), label: str = "head256") -> tuple[Path, Path]:
    """The МЧД and its detached CAdES signature ``….xml.sig`` by ``label`` (the head by default)."""
    path = write_poa(folder, spec)
    return path, pki.sign(label, path, path.with_name(path.name + ".sig"))
