"""An accredited-CA list (Минцифры TSL) in the real element structure, for the test PKI.

Element path as read by public parsers (corpus/MANIFEST.md, end):
``АккредитованныеУдостоверяющиеЦентры/{Версия, Дата, УдостоверяющийЦентр/{Название, ОГРН,
ИНН, СтатусАккредитации/Статус, ИсторияСтатусовАккредитации,
ПрограммноАппаратныеКомплексы/ПрограммноАппаратныйКомплекс/{Псевдоним,
КлючиУполномоченныхЛиц/Ключ/{ИдентификаторКлюча, Сертификаты/ДанныеСертификата/{Отпечаток,
КемВыдан, КомуВыдан, СерийныйНомер, ПериодДействияС, ПериодДействияДо, Данные},
АдресаСписковОтзыва/Адрес}}}}``. Nothing here imports the code under test.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["TslCentre", "build_tsl", "pem_to_der"]


def pem_to_der(path: Path) -> bytes:
    text = path.read_text("ascii")
    body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
    return base64.b64decode(body)


@dataclass
class TslCentre:
    name: str
    ogrn: str
    inn: str
    certificates: list[Path]
    """PEM CA certificates of the centre."""
    history: list[tuple[str, datetime, datetime | None]]
    """(status, from, until) periods, e.g. («Действует», 2020-01-01, None)."""
    crl_urls: list[str] = field(default_factory=list)


def _iso(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z") if moment else ""


def _certificate(path: Path) -> str:
    der = pem_to_der(path)
    return f"""
              <ДанныеСертификата>
                <Отпечаток>{hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()}</Отпечаток>
                <КемВыдан>test</КемВыдан>
                <КомуВыдан>test</КомуВыдан>
                <СерийныйНомер>00</СерийныйНомер>
                <ПериодДействияС>2020-01-01T00:00:00.000Z</ПериодДействияС>
                <ПериодДействияДо>2040-01-01T00:00:00.000Z</ПериодДействияДо>
                <Данные>{base64.b64encode(der).decode()}</Данные>
              </ДанныеСертификата>"""


def _centre(centre: TslCentre) -> str:
    current = centre.history[-1]
    periods = "".join(
        f"""
      <СтатусАккредитации><Статус>{escape(status)}</Статус><ДействуетС>{_iso(start)}</ДействуетС>"""
        + (f"<ДействуетДо>{_iso(end)}</ДействуетДо>" if end else "")
        + "</СтатусАккредитации>"
        for status, start, end in centre.history
    )
    addresses = "".join(f"<Адрес>{escape(url)}</Адрес>" for url in centre.crl_urls)
    certificates = "".join(_certificate(p) for p in centre.certificates)
    return f"""
  <УдостоверяющийЦентр>
    <Название>{escape(centre.name)}</Название>
    <ЭлектроннаяПочта>uc@test.ru</ЭлектроннаяПочта>
    <КраткоеНазвание>{escape(centre.name)}</КраткоеНазвание>
    <ИНН>{centre.inn}</ИНН>
    <ОГРН>{centre.ogrn}</ОГРН>
    <РеестровыйНомер>999</РеестровыйНомер>
    <СтатусАккредитации><Статус>{escape(current[0])}</Статус><ДействуетС>{_iso(current[1])}</ДействуетС></СтатусАккредитации>
    <ИсторияСтатусовАккредитации>{periods}
    </ИсторияСтатусовАккредитации>
    <ПрограммноАппаратныеКомплексы>
      <ПрограммноАппаратныйКомплекс>
        <Псевдоним>test</Псевдоним>
        <КлассСредствЭП>КС1</КлассСредствЭП>
        <КлючиУполномоченныхЛиц>
          <Ключ>
            <ИдентификаторКлюча>00</ИдентификаторКлюча>
            <Сертификаты>{certificates}
            </Сертификаты>
            <АдресаСписковОтзыва>{addresses}</АдресаСписковОтзыва>
          </Ключ>
        </КлючиУполномоченныхЛиц>
      </ПрограммноАппаратныйКомплекс>
    </ПрограммноАппаратныеКомплексы>
  </УдостоверяющийЦентр>"""


def build_tsl(centres: list[TslCentre], version: str = "1000") -> bytes:
    """The list as UTF-8 XML bytes."""
    body = "".join(_centre(c) for c in centres)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<АккредитованныеУдостоверяющиеЦентры>\n'
        f"  <Версия>{version}</Версия>\n  <Дата>2026-11-01T00:00:00.000Z</Дата>{body}\n"
        "</АккредитованныеУдостоверяющиеЦентры>\n"
    ).encode()
