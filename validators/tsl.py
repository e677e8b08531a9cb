"""The accredited-CA list of the Ministry of digital development (``tsl.xml``).

Element structure as read by public parsers (recorded in corpus/MANIFEST.md):
``АккредитованныеУдостоверяющиеЦентры/УдостоверяющийЦентр/{Название, ОГРН, ИНН,
СтатусАккредитации/Статус, ИсторияСтатусовАккредитации/…,
ПрограммноАппаратныеКомплексы/ПрограммноАппаратныйКомплекс/КлючиУполномоченныхЛиц/Ключ/
{ИдентификаторКлюча, Сертификаты/ДанныеСертификата/{Отпечаток, Данные, ПериодДействияС,
ПериодДействияДо}, АдресаСписковОтзыва/Адрес}}``.

The status history is read leniently: every element under ``ИсторияСтатусовАккредитации``
that has a ``Статус`` child is one period, its start and end taken from the child
elements whose names start with ``ДействуетС``/``ДатаНачала`` and ``ДействуетДо``/
``ДатаОкончания``. When there is no history, the current ``СтатусАккредитации`` counts
as valid from the CA's own certificate date. A CA is accredited at time T when a period
with status «Действует» covers T.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xml.etree.ElementTree as ElementTree

__all__ = ["AccreditedCa", "AccreditationPeriod", "AccreditedCaList", "load_tsl", "parse_tsl", "exempt_centre", "TslError", "MAX_TSL_BYTES"]

ACTIVE_STATUS = "Действует"


class TslError(ValueError):
    """The accredited-CA list cannot be read."""


@dataclass(frozen=True, slots=True)
class AccreditationPeriod:
    status: str
    start: datetime | None
    end: datetime | None

    def covers(self, moment: datetime) -> bool:
        return (self.start is None or self.start <= moment) and (self.end is None or moment <= self.end)


@dataclass(frozen=True, slots=True)
class AccreditedCa:
    """One accredited certification centre and its CA certificates."""

    name: str
    ogrn: str | None
    inn: str | None
    periods: tuple[AccreditationPeriod, ...]
    certificate_sha1: frozenset[str]
    """SHA-1 fingerprints (upper hex) of the CA certificates it publishes."""
    certificates_der: tuple[bytes, ...]
    crl_urls: tuple[str, ...]

    def accredited_at(self, moment: datetime) -> bool:
        """True when a «Действует» period covers ``moment``."""
        return any(p.status == ACTIVE_STATUS and p.covers(moment) for p in self.periods)


@dataclass(frozen=True, slots=True)
class AccreditedCaList:
    """The parsed list, indexed by CA certificate fingerprint."""

    version: str | None
    date: str | None
    centres: tuple[AccreditedCa, ...]

    def centre_for(self, ca_certificate_der: bytes) -> AccreditedCa | None:
        """The accredited centre that publishes this CA certificate, if any."""
        sha1 = hashlib.sha1(ca_certificate_der, usedforsecurity=False).hexdigest().upper()
        for centre in self.centres:
            if sha1 in centre.certificate_sha1:
                return centre
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: ElementTree.Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    value = text.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _period(element: ElementTree.Element) -> AccreditationPeriod | None:
    status = _child_text(element, "Статус")
    if status is None:
        return None
    start = end = None
    for child in element:
        name = _local(child.tag)
        if name.startswith(("ДействуетС", "ДатаНачала")):
            start = _parse_time(child.text)
        elif name.startswith(("ДействуетДо", "ДатаОкончания")):
            end = _parse_time(child.text)
    return AccreditationPeriod(status, start, end)


def _centre(element: ElementTree.Element) -> AccreditedCa:
    periods: list[AccreditationPeriod] = []
    current: AccreditationPeriod | None = None
    certificates: list[bytes] = []
    fingerprints: set[str] = set()
    crl_urls: list[str] = []
    for node in element.iter():
        name = _local(node.tag)
        if name == "ИсторияСтатусовАккредитации":
            periods.extend(p for p in map(_period, node) if p is not None)
        elif name == "СтатусАккредитации" and current is None:
            current = _period(node)
        elif name == "ДанныеСертификата":
            data = _child_text(node, "Данные")
            thumb = _child_text(node, "Отпечаток")
            if thumb:
                fingerprints.add(thumb.replace(" ", "").upper())
            if data:
                try:
                    der = base64.b64decode("".join(data.split()), validate=True)
                except (binascii.Error, ValueError):
                    continue
                certificates.append(der)
                fingerprints.add(hashlib.sha1(der, usedforsecurity=False).hexdigest().upper())
        elif name == "АдресаСписковОтзыва":
            crl_urls.extend((a.text or "").strip() for a in node if (a.text or "").strip())
    if not periods and current is not None:
        periods.append(current)
    return AccreditedCa(
        name=_child_text(element, "Название") or "",
        ogrn=_child_text(element, "ОГРН"),
        inn=_child_text(element, "ИНН"),
        periods=tuple(periods),
        certificate_sha1=frozenset(fingerprints),
        certificates_der=tuple(certificates),
        crl_urls=tuple(crl_urls),
    )


MAX_TSL_BYTES = 256 << 20


def parse_tsl(data: bytes, origin: str = "tsl.xml") -> AccreditedCaList:
    """Parse the list from bytes; raises :class:`TslError` with a clear message.

    The list comes from the network: DTDs and entity declarations are refused before
    parsing (the real list has none), and the parse itself is defusedxml's, so no entity
    expansion or external resource can happen.
    """
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise TslError(f"{origin}: DTD or entity declarations are not accepted in the accredited-CA list")
    # Only when a list is read: `gateway verify` starts without the XML machinery.
    import xml.etree.ElementTree as ElementTree

    import defusedxml.ElementTree as SafeElementTree
    from defusedxml import DefusedXmlException

    try:
        root = SafeElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise TslError(f"cannot read accredited-CA list {origin}: {exc}") from None
    if _local(root.tag) != "АккредитованныеУдостоверяющиеЦентры":
        raise TslError(f"{origin} is not an accredited-CA list (root element {_local(root.tag)})")
    centres = tuple(_centre(el) for el in root if _local(el.tag) == "УдостоверяющийЦентр")
    return AccreditedCaList(_child_text(root, "Версия"), _child_text(root, "Дата"), centres)


def load_tsl(path: Path) -> AccreditedCaList:
    """Parse ``tsl.xml``; raises :class:`TslError` with a clear message when unreadable."""
    try:
        size = path.stat().st_size
        if size > MAX_TSL_BYTES:
            raise TslError(f"{path}: {size} bytes, more than {MAX_TSL_BYTES}")
        data = path.read_bytes()
    except OSError as exc:
        raise TslError(f"cannot read accredited-CA list {path}: {exc.strerror}") from None
    return parse_tsl(data, str(path))


def exempt_centre(name: str, certificate_der: bytes) -> AccreditedCa:
    """A CA treated as accredited at every moment: one the law makes qualified without the
    Ministry's accreditation (the Bank of Russia CA, 63-ФЗ art. 17.2), added by the operator
    with ``gateway trust add --accredited``."""
    return AccreditedCa(
        name=name,
        ogrn=None,
        inn=None,
        periods=(AccreditationPeriod(ACTIVE_STATUS, None, None),),
        certificate_sha1=frozenset({hashlib.sha1(certificate_der, usedforsecurity=False).hexdigest().upper()}),
        certificates_der=(certificate_der,),
        crl_urls=(),
    )
