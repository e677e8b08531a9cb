"""Red team: an МЧД whose XML says one thing to the gateway and another to a different
reader. The format has exactly one of each of these elements and attributes; with two
(a second СвДов with a later СрокДейст, a second principal, a second ФИО, the same
attribute in two namespaces) the gateway read the first while another reader may take
the last. Such a file is not a usable power of attorney: ``poa.format`` (rejected)."""

from __future__ import annotations

import pytest

from tests.pki.poa import PoaSpec, poa_xml
from validators.poa.parse import parse_poa

SPEC = PoaSpec(number="0b6f8f0e-3c1a-4d52-9a41-5d2f7c9e1a10")


def _text() -> str:
    return poa_xml(SPEC).decode("utf-8")


def _duplicate(element: str) -> str:
    """The first ``<element …>…</element>`` (or empty element) given twice in a row."""
    text = _text()
    start = text.index(f"<{element} ")  if f"<{element} " in text else text.index(f"<{element}>")
    close = f"</{element}>"
    end = text.find(close, start)
    end = end + len(close) if end >= 0 else text.index("/>", start) + 2
    return text[:end] + text[start:end] + text[end:]


def test_control_the_unchanged_file_is_read() -> None:
    assert parse_poa(_text().encode()).poa is not None


@pytest.mark.parametrize("element", ["СвДов", "Довер", "Документ", "СвРосОрг", "РосОргДовер", "ФИО", "СвФЛ"])
def test_an_element_given_twice_is_a_format_problem(element: str) -> None:
    parsed = parse_poa(_duplicate(element).encode())
    assert parsed.poa is None
    assert parsed.problem and ("times" in parsed.problem or "ФИО elements" in parsed.problem)


def test_a_second_validity_in_another_namespace_is_a_format_problem() -> None:
    text = _text().replace("<Доверенность ", '<Доверенность xmlns:x="urn:x" ', 1)
    text = text.replace('СрокДейст="', 'x:СрокДейст="2099-12-31" СрокДейст="', 1)
    parsed = parse_poa(text.encode())
    assert parsed.poa is None and parsed.problem and "СрокДейст" in parsed.problem


@pytest.mark.parametrize(
    "listed",
    ["0B6F8F0E3C1A4D529A415D2F7C9E1A10", "{0b6f8f0e-3c1a-4d52-9a41-5d2f7c9e1a10}", " 0b6f8f0e-3c1a-4d52-9a41-5d2f7c9e1a10 "],
)
def test_a_revoked_number_is_found_however_the_operator_wrote_the_guid(tmp_path, listed: str) -> None:  # type: ignore[no-untyped-def]
    """The revoked МЧД cannot escape the operator's list by how its GUID is spelled there."""
    from validators.poa.revocation import load_revoked_list

    path = tmp_path / "revoked.txt"
    path.write_text(listed + "\n", encoding="utf-8")
    poa = parse_poa(_text().encode()).poa
    assert poa is not None and load_revoked_list(path).revoked(poa.number)
    assert not load_revoked_list(path).revoked("0b6f8f0e-3c1a-4d52-9a41-5d2f7c9e1a11")


@pytest.mark.parametrize(
    "tail",
    ["<Доверенность/>", "<!-- x --><Доверенность ВерсФорм=\"EMCHD_1\"/>", "<?pi x?><b/>"],
    ids=["second-root", "second-root-after-a-comment", "second-root-after-a-processing-instruction"],
)
def test_a_second_root_element_is_a_format_problem(tail: str) -> None:
    """A recovering parser may read the second document; the gateway reads none."""
    text = _text().rstrip("\n") + tail
    parsed = parse_poa(text.encode())
    assert parsed.poa is None and parsed.problem and "well-formed" in parsed.problem


def test_a_doctype_is_refused_even_without_entities() -> None:
    text = _text().replace("<Доверенность ", "<!DOCTYPE Доверенность [<!ELEMENT Доверенность ANY>]><Доверенность ", 1)
    parsed = parse_poa(text.encode())
    assert parsed.poa is None and parsed.problem and "forbidden" in parsed.problem
