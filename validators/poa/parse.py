"""Reading an МЧД (ФНС format EMCHD_1, version 003) safely, whatever its namespace and encoding.

``shared/formats/mchd-emchd-003.md``: root ``Доверенность`` with ``ВерсФорм="EMCHD_1"``;
files come with and without a default namespace, in UTF-8 or windows-1251 (declared in
the XML declaration); СНИЛС with or without separators; dates ``YYYY-MM-DD``.

Untrusted input: parsed with defusedxml (no DTD, no entities, no external resources, so
no entity expansion bombs and no network), at most :data:`MAX_POA_BYTES`. A malformed
file gives a :class:`ParsedPoa` with ``problem`` set, never an exception.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from validators.checks import Check, finding
from validators.poa.model import Person, Power, PowerOfAttorney, Principal

__all__ = ["MAX_POA_BYTES", "ParsedPoa", "looks_like_poa", "parse_poa", "read_poa", "normalise_snils"]

#: An МЧД is a few kilobytes; anything far larger is not one.
MAX_POA_BYTES = 1 << 20

_ROOT = "Доверенность"
_VERSION = "EMCHD_1"
# What the first bytes of an МЧД contain, in both encodings seen.
_SNIFF = tuple(_ROOT.encode(enc) for enc in ("utf-8", "cp1251"))


class _Malformed(ValueError):
    """Internal: why a file is not a usable МЧД (becomes ``ParsedPoa.problem``)."""


@dataclass(frozen=True, slots=True)
class ParsedPoa:
    """The outcome of reading one file: the МЧД, or why it is not a usable one."""

    name: str
    """The file's name in the package."""
    poa: PowerOfAttorney | None
    problem: str | None = None
    """English detail for staff when ``poa`` is None."""

    def format_check(self) -> Check:
        """The ``poa.format`` finding for a file that is not a usable МЧД."""
        return finding("poa.format", file=self.name, detail=self.problem or "not a power of attorney")


def looks_like_poa(head: bytes) -> bool:
    """Cheap content sniff on the first kilobytes: an XML file naming ``Доверенность`` and
    ``EMCHD`` (decides which files of an archive are parsed as МЧД)."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return stripped.startswith(b"<") and b"EMCHD" in head and any(marker in head for marker in _SNIFF)


def read_poa(path: Path, name: str) -> ParsedPoa:
    """Read and parse ``path``; too large or unreadable files are malformed МЧД."""
    try:
        size = path.stat().st_size
        if size > MAX_POA_BYTES:
            return ParsedPoa(name, None, f"{size} bytes, more than {MAX_POA_BYTES}: not a power of attorney")
        data = path.read_bytes()
    except OSError as exc:
        return ParsedPoa(name, None, f"cannot read: {exc.strerror}")
    return parse_poa(data, name)


def parse_poa(data: bytes, name: str = "power_of_attorney.xml") -> ParsedPoa:
    """Parse an МЧД from bytes; never raises for bad input."""
    if len(data) > MAX_POA_BYTES:
        return ParsedPoa(name, None, f"{len(data)} bytes, more than {MAX_POA_BYTES}: not a power of attorney")
    try:
        root = SafeElementTree.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        return ParsedPoa(name, _power_of_attorney(root))
    except DefusedXmlException as exc:
        return ParsedPoa(name, None, f"forbidden XML construct: {type(exc).__name__}")
    except ElementTree.ParseError as exc:
        return ParsedPoa(name, None, f"not well-formed XML: {exc}")
    except (LookupError, UnicodeError) as exc:
        return ParsedPoa(name, None, f"unsupported encoding: {exc}")
    except _Malformed as exc:
        return ParsedPoa(name, None, str(exc))
    except ValueError as exc:  # e.g. expat refusing an encoding it cannot map
        return ParsedPoa(name, None, f"unreadable XML: {exc}")


# --- the tree, namespace-agnostic ----------------------------------------------------------


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: ElementTree.Element, *path: str, required: bool = True) -> ElementTree.Element | None:
    current = element
    for index, name in enumerate(path):
        found = _children(current, name)
        if not found:
            if required:
                raise _Malformed(f"element {'/'.join(path[: index + 1])} missing under {_local(element.tag)}")
            return None
        if len(found) > 1:
            # The format has one of each: with two, which one counts depends on the reader
            # (an earlier СрокДейст here, a later one in the registry).
            raise _Malformed(f"element {'/'.join(path[: index + 1])} appears {len(found)} times under {_local(element.tag)}")
        current = found[0]
    return current


def _need(element: ElementTree.Element, *path: str) -> ElementTree.Element:
    """The element at ``path``; a missing one makes the document malformed."""
    found = _child(element, *path)
    if found is None:  # _child raises first; this keeps the type exact
        raise _Malformed(f"element {'/'.join(path)} missing under {_local(element.tag)}")
    return found


def _attr(element: ElementTree.Element | None, name: str) -> str | None:
    if element is None:
        return None
    values = [value for key, value in element.attrib.items() if _local(key) == name]
    if len(values) > 1:
        # ``СрокДейст`` and ``x:СрокДейст``: one name for this reader, two for another.
        raise _Malformed(f"attribute {_local(element.tag)}/@{name} given {len(values)} times (in different namespaces)")
    if values:
        value = " ".join(values[0].split())
        return value or None
    return None


def _required(element: ElementTree.Element, name: str) -> str:
    value = _attr(element, name)
    if value is None:
        raise _Malformed(f"attribute {_local(element.tag)}/@{name} missing")
    return value


def _digits(value: str | None, lengths: tuple[int, ...], what: str) -> str | None:
    if value is None:
        return None
    digits = re.sub(r"[\s-]", "", value)
    if not digits.isdigit() or len(digits) not in lengths:
        raise _Malformed(f"{what} {value!r} is not {' or '.join(map(str, lengths))} digits")
    return digits


def normalise_snils(value: str | None) -> str | None:
    """СНИЛС as 11 digits (``123-456-789 01`` and ``12345678901`` are the same), else None."""
    if not value:
        return None
    digits = re.sub(r"[\s-]", "", value)
    return digits if digits.isdigit() and len(digits) == 11 else None


def _date(value: str, what: str) -> date:
    for layout in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value.strip(), layout).date()
        except ValueError:
            continue
    raise _Malformed(f"{what} {value!r} is not a date (YYYY-MM-DD)")


def _person(element: ElementTree.Element, what: str) -> Person:
    """``СвФЛ`` / ``СведФизЛ``: identifiers as attributes, the name in a ``ФИО`` below."""
    names = [e for e in element.iter() if _local(e.tag) == "ФИО"]
    if not names:
        raise _Malformed(f"{what}: ФИО missing")
    if len(names) > 1:
        raise _Malformed(f"{what}: {len(names)} ФИО elements, one expected")
    fio = names[0]
    snils = _attr(element, "СНИЛС")
    person = Person(
        surname=_attr(fio, "Фамилия") or "",
        given_name=_attr(fio, "Имя") or "",
        patronymic=_attr(fio, "Отчество") or "",
        snils=_digits(snils, (11,), f"{what} СНИЛС"),
        inn=_digits(_attr(element, "ИННФЛ"), (12,), f"{what} ИНН"),
        position=_attr(element, "Должность") or "",
    )
    if not person.surname or not person.given_name:
        raise _Malformed(f"{what}: ФИО without Фамилия or Имя")
    if person.snils is None and person.inn is None:
        raise _Malformed(f"{what}: neither СНИЛС nor ИННФЛ")
    return person


def _power_of_attorney(root: ElementTree.Element) -> PowerOfAttorney:
    if _local(root.tag) != _ROOT:
        raise _Malformed(f"root element is {_local(root.tag)!r}, not {_ROOT}: not a power of attorney")
    version = _attr(root, "ВерсФорм")
    if version != _VERSION:
        raise _Malformed(f"ВерсФорм is {version!r}, not {_VERSION}: unsupported power of attorney format")
    dover = _need(root, "Документ", "Довер")
    details = _need(dover, "СвДов")
    number = _required(details, "НомДовер").strip("{}").lower()
    if len(number) > 100:
        raise _Malformed("НомДовер longer than 100 characters")
    issued = _date(_required(details, "ДатаВыдДовер"), "ДатаВыдДовер")
    valid_until = _date(_required(details, "СрокДейст"), "СрокДейст")
    if valid_until < issued:
        raise _Malformed(f"СрокДейст {valid_until} before ДатаВыдДовер {issued}")

    principals = [p for grantor in _children(dover, "СвДоверит") for p in _children(grantor, "Доверит")]
    if len(principals) != 1:
        raise _Malformed(f"{len(principals)} principals (СвДоверит/Доверит); exactly one organisation expected")
    organisation = _need(principals[0], "РосОргДовер")
    org = _need(organisation, "СвРосОрг")
    principal = Principal(
        name=_attr(org, "НаимОрг") or "",
        ogrn=_digits(_attr(org, "ОГРН"), (13,), "ОГРН"),
        inn_le=_digits(_attr(org, "ИННЮЛ"), (10,), "ИННЮЛ"),
        kpp=_attr(org, "КПП"),
    )
    if principal.ogrn is None and principal.inn_le is None:
        raise _Malformed("СвРосОрг has neither ОГРН nor ИННЮЛ")
    head = _need(organisation, "ЛицоБезДов", "СвФЛ")

    representatives = [
        _person(person, "СвУпПред")
        for block in _children(dover, "СвУпПред")
        for holder in _children(block, "Пред")
        for person in _children(holder, "СведФизЛ")
    ]
    if len(representatives) != 1:
        raise _Malformed(f"{len(representatives)} representatives (СвУпПред/Пред/СведФизЛ); exactly one natural person expected")

    powers: list[Power] = []
    for block in _children(dover, "СвПолн"):
        for element in block:
            if _local(element.tag) == "ТекстПолн" and (element.text or "").strip():
                powers.append(Power(text=" ".join((element.text or "").split())))
            elif _local(element.tag) == "МашПолн" and (_attr(element, "НаимПолн") or _attr(element, "КодПолн")):
                powers.append(Power(text=_attr(element, "НаимПолн") or "", code=_attr(element, "КодПолн")))
    if not powers:
        # The format requires the powers; one that grants nothing authorises nothing, and
        # must not make the representative's signature the member's.
        raise _Malformed("СвПолн grants no power (no ТекстПолн text, no МашПолн code or name)")
    return PowerOfAttorney(
        number=number,
        issued=issued,
        valid_until=valid_until,
        principal=principal,
        issuer=_person(head, "ЛицоБезДов"),
        representative=representatives[0],
        kind=_attr(details, "ВидДовер") or "1",
        redelegation=_attr(details, "ПрПередов"),
        internal_number=_attr(details, "ВнНомДовер"),
        file_id=_attr(root, "ИдФайл"),
        powers=tuple(powers),
    )
