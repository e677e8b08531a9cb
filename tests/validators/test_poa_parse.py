"""Reading МЧД files (ФНС EMCHD_1 v003): by content, namespace-agnostic, UTF-8 and
windows-1251, safe against hostile XML; malformed files give a problem, never an exception."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.pki.poa import ACCOUNTANT, PoaSpec, poa_xml
from validators.poa.parse import MAX_POA_BYTES, looks_like_poa, normalise_snils, parse_poa, read_poa

# The fictional example of shared/formats/mchd-emchd-003.md, verbatim.
FORMAT_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<Доверенность ВерсФорм="EMCHD_1" ПрЭлФорм="00000000" ИдФайл="ON_EMCHD_20261001_0b6f8f0e-3c1a-4d52-9a41-5d2f7c9e1a10">
  <Документ>
    <Довер>
      <СвДов ВидДовер="1" ПрПередов="1" ВнНомДовер="5-Д" НомДовер="0b6f8f0e-3c1a-4d52-9a41-5d2f7c9e1a10"
             ДатаВыдДовер="2026-10-01" СрокДейст="2027-09-30">
        <СведСист>https://m4d.nalog.gov.ru/emchd/check-status?guid=0b6f8f0e-3c1a-4d52-9a41-5d2f7c9e1a10</СведСист>
      </СвДов>
      <СвДоверит ТипДоверит="1">
        <Доверит>
          <РосОргДовер ЕИОУК="0" ЕИОФЛ="1" ЕИОИП="0">
            <СвРосОрг НаимОрг="КПК &quot;Пример&quot;" ИННЮЛ="0000000000" КПП="000001001" ОГРН="0000000000000"/>
            <ЛицоБезДов ПолнЮЛ="1">
              <СвФЛ ИННФЛ="000000000000" СНИЛС="000-000-000 00" Должность="Председатель правления">
                <СведФЛ><ФИО Фамилия="Примерова" Имя="Ольга" Отчество="Сергеевна"/></СведФЛ>
              </СвФЛ>
            </ЛицоБезДов>
          </РосОргДовер>
        </Доверит>
      </СвДоверит>
      <СвУпПред ТипПред="1">
        <Пред>
          <СведФизЛ ИННФЛ="000000000001" СНИЛС="000-000-000 01" Должность="Главный бухгалтер">
            <СведФЛ><ФИО Фамилия="Образцов" Имя="Павел" Отчество="Ильич"/></СведФЛ>
          </СведФизЛ>
        </Пред>
      </СвУпПред>
      <СвПолн ТипПолн="1">
        <ТекстПолн>Подписание и представление документов в саморегулируемую организацию</ТекстПолн>
      </СвПолн>
    </Довер>
  </Документ>
</Доверенность>
""".encode()


def test_the_format_example_is_read_completely() -> None:
    parsed = parse_poa(FORMAT_EXAMPLE, "example.xml")
    assert parsed.problem is None
    poa = parsed.poa
    assert poa is not None
    assert poa.number == "0b6f8f0e-3c1a-4d52-9a41-5d2f7c9e1a10"
    assert (poa.issued, poa.valid_until) == (date(2026, 10, 1), date(2027, 9, 30))
    assert (poa.principal.name, poa.principal.ogrn, poa.principal.inn_le) == ('КПК "Пример"', "0000000000000", "0000000000")
    assert (poa.issuer.full_name, poa.issuer.snils, poa.issuer.inn) == ("Примерова Ольга Сергеевна", "00000000000", "000000000000")
    assert (poa.representative.full_name, poa.representative.snils, poa.representative.inn) == ("Образцов Павел Ильич", "00000000001", "000000000001")
    assert (poa.kind, poa.redelegation, poa.internal_number, poa.is_redelegated) == ("1", "1", "5-Д", False)
    assert [p.text for p in poa.powers] == ["Подписание и представление документов в саморегулируемую организацию"]


def test_windows_1251_and_utf_8_give_the_same_power_of_attorney() -> None:
    spec = PoaSpec()
    cp1251 = poa_xml(PoaSpec(number=spec.number, encoding="windows-1251"))
    assert "Доверенность".encode("cp1251") in cp1251  # really single-byte Cyrillic
    assert parse_poa(cp1251).poa == parse_poa(poa_xml(spec)).poa is not None


def test_a_default_namespace_does_not_matter() -> None:
    spec = PoaSpec()
    with_namespace = parse_poa(poa_xml(PoaSpec(number=spec.number, namespace="urn:fns:emchd:003")))
    assert with_namespace.poa == parse_poa(poa_xml(spec)).poa is not None


def test_snils_with_and_without_separators_is_the_same_number() -> None:
    spec = PoaSpec()
    plain = parse_poa(poa_xml(PoaSpec(number=spec.number, dashed_snils=False))).poa
    dashed = parse_poa(poa_xml(PoaSpec(number=spec.number, dashed_snils=True))).poa
    assert plain is not None and plain == dashed
    assert plain.representative.snils == ACCOUNTANT.snils
    assert normalise_snils("234-567-890 12") == normalise_snils("23456789012") == "23456789012"


def test_classifier_powers_are_read_with_their_codes() -> None:
    poa = parse_poa(poa_xml(PoaSpec(powers_text="", power_codes=(("02.001", "Подписание отчётности"), ("02.002", "Подписание писем"))))).poa
    assert poa is not None
    assert [(p.code, p.text) for p in poa.powers] == [("02.001", "Подписание отчётности"), ("02.002", "Подписание писем")]


def test_a_re_delegated_power_of_attorney_is_recognised_as_such() -> None:
    poa = parse_poa(poa_xml(PoaSpec(kind="2"))).poa
    assert poa is not None and poa.is_redelegated


def _mutated(old: str, new: str, *more: str) -> bytes:
    data = poa_xml(PoaSpec()).replace(old.encode(), new.encode(), 1)
    for index in range(0, len(more), 2):
        data = data.replace(more[index].encode(), more[index + 1].encode(), 1)
    return data


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not well-formed"),
        (b"\x00\x01binary", "not well-formed"),
        (b"<html><body/></html>", "root element"),
        (poa_xml(PoaSpec()).replace(b'EMCHD_1', b'EMCHD_2', 1), "ВерсФорм"),
        (_mutated(" НомДовер=", " Номер="), "НомДовер"),
        (_mutated("СрокДейст=\"", "СрокДейст=\"31-"), "СрокДейст"),
        (poa_xml(PoaSpec(issued=date(2026, 5, 1), valid_until=date(2026, 4, 1))), "before"),
        (_mutated(" ОГРН=", " ОГРНX=", " ИННЮЛ=", " ИННX="), "neither ОГРН"),
        (_mutated("<ФИО ", "<ФИОX "), "ФИО missing"),
        (_mutated("<СвУпПред ТипПред=\"1\">", "<СвУпПред ТипПред=\"1\"><Пред><СведФизЛ СНИЛС=\"11111111111\"><ФИО Фамилия=\"А\" Имя=\"Б\"/></СведФизЛ></Пред>"), "2 representatives"),
        (_mutated("<Документ>", "<Документ2>").replace("</Документ>".encode(), "</Документ2>".encode()), "Документ"),
        (poa_xml(PoaSpec(encoding="windows-1251")).replace(b' encoding="windows-1251"', b""), "not well-formed"),
    ],
)
def test_a_malformed_file_gives_a_problem_not_an_exception(data: bytes, why: str) -> None:
    parsed = parse_poa(data, "bad.xml")
    assert parsed.poa is None and parsed.problem is not None
    assert why in parsed.problem
    check = parsed.format_check()
    assert (check.code, check.file, check.severity.value) == ("poa.format", "bad.xml", "fatal")


def test_entity_expansion_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + "<Доверенность ВерсФорм=\"EMCHD_1\">&b;</Доверенность>".encode()
    )
    parsed = parse_poa(bomb)
    assert parsed.poa is None and "forbidden XML construct" in (parsed.problem or "")


def test_external_entities_are_never_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'.encode()
        + "<Доверенность ВерсФорм=\"EMCHD_1\">&x;</Доверенность>".encode()
    )
    parsed = parse_poa(xxe)
    assert parsed.poa is None and "SECRET" not in (parsed.problem or "")


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(poa_xml(PoaSpec()) + b" " * MAX_POA_BYTES)
    parsed = read_poa(big, "big.xml")
    assert parsed.poa is None and "more than" in (parsed.problem or "")


def test_the_content_sniff_finds_both_encodings_and_nothing_else() -> None:
    assert looks_like_poa(poa_xml(PoaSpec())[:4096])
    assert looks_like_poa(poa_xml(PoaSpec(encoding="windows-1251"))[:4096])
    assert not looks_like_poa("<Отчет>EMCHD</Отчет>".encode())
    assert not looks_like_poa("%PDF-1.7 Доверенность EMCHD".encode())


_VALID = poa_xml(PoaSpec(number="0b6f8f0e-3c1a-4d52-9a41-5d2f7c9e1a10"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.binary(min_size=0, max_size=8)), min_size=1, max_size=6))
def test_mutated_poa_never_raises(edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(_VALID)
    for position, replacement in edits:
        data[position : position + len(replacement)] = replacement
    parsed = parse_poa(bytes(data))
    assert (parsed.poa is None) != (parsed.problem is None)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    parsed = parse_poa(b"<?xml version='1.0' encoding='windows-1251'?>" + data)
    assert (parsed.poa is None) != (parsed.problem is None)
