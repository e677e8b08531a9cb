"""Red team: an МЧД no signer relies on, uploaded as its own part or inside the archive.

The МЧД is a document of the package wherever it comes (``test_poa_cosignature.py`` made
its signatures' validity agree). Who signed it did not: inside a report ZIP an МЧД signed
by another organisation is ``signer.foreign_org``, inside a letter's supporting archive
``signature.third_party``, and an unsigned one ``signature.missing`` — as its own
``power_of_attorney`` part it got none of these (only the signature's validity was
judged, and only when it had one). Both paths now give the same findings and decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.pki.poa import PoaSpec, issue_personal_certificates, write_poa, write_signed_poa
from tests.servers.packages import LETTER, MEMBER, REPORT, make_zip, run_package, signed_copy

WHERE = ["power_of_attorney part", "inside the archive"]


@pytest.fixture(scope="session")
def poa_pki(pki: TestPki) -> TestPki:
    return issue_personal_certificates(pki)


def _poa(pki: TestPki, folder: Path, signer: str | None) -> list[Path]:
    """The МЧД signed by ``signer`` (None: unsigned)."""
    return [write_poa(folder)] if signer is None else list(write_signed_poa(pki, folder, PoaSpec(), label=signer))


def _report(pki: TestPki, folder: Path, poa: list[Path], where: str) -> dict[str, list[Path]]:
    """A report signed by the head, the МЧД in its ZIP or as its own part."""
    inner = signed_copy(pki, folder / "report", "report.xml", "<Отчет>ОД КПК</Отчет>".encode(), "head256")
    package = make_zip(folder / f"{MEMBER}_OD.zip", inner + (poa if where == "inside the archive" else []))
    return {"document": [package]} | ({"power_of_attorney": poa} if where != "inside the archive" else {})


def _letter(pki: TestPki, folder: Path, poa: list[Path], where: str) -> dict[str, list[Path]]:
    """A letter signed by the head, the МЧД in its supporting archive or as its own part."""
    folder.mkdir(parents=True, exist_ok=True)
    cover = pdfs.make_pdf(folder / "Письмо.pdf", "Cover letter")
    inner = signed_copy(pki, folder / "att", "Справка.pdf", pdfs.make_pdf(folder / "s.pdf").read_bytes(), "head256")
    archive = make_zip(folder / "Приложение.zip", inner + (poa if where == "inside the archive" else []))
    files = {"document": [cover], "signature": [pki.sign("head256", cover, folder / "Письмо.pdf.sig")], "attachment": [archive]}
    return files | ({"power_of_attorney": poa} if where != "inside the archive" else {})


def _on_poa(report: dict[str, Any], poa_name: str) -> set[str]:
    """The finding codes about the МЧД file (its package path ends with its name)."""
    return {c["code"] for c in report["checks"] if (c.get("file") or "").rsplit("/", 1)[-1] == poa_name}


@pytest.mark.parametrize("where", WHERE)
async def test_a_report_poa_signed_by_another_organisation_is_foreign_whichever_way_it_arrives(
    client: TestClient, poa_pki: TestPki, tmp_path: Path, where: str
) -> None:
    poa = _poa(poa_pki, tmp_path / "poa", "foreign256")
    report = await run_package(client, {**REPORT}, _report(poa_pki, tmp_path / "p", poa, where))
    assert "signer.foreign_org" in _on_poa(report, poa[0].name), report["checks"]
    assert report["decision"] == "rejected", report["checks"]


@pytest.mark.parametrize("where", WHERE)
async def test_a_letter_poa_signed_by_another_organisation_is_a_third_party_signature_whichever_way_it_arrives(
    client: TestClient, poa_pki: TestPki, tmp_path: Path, where: str
) -> None:
    poa = _poa(poa_pki, tmp_path / "poa", "foreign256")
    report = await run_package(client, LETTER, _letter(poa_pki, tmp_path / "p", poa, where))
    assert _on_poa(report, poa[0].name) == {"signature.third_party"}, report["checks"]


@pytest.mark.parametrize("kind", ["report", "letter"])
@pytest.mark.parametrize("where", WHERE)
async def test_an_unsigned_poa_is_a_missing_signature_whichever_way_it_arrives(
    client: TestClient, poa_pki: TestPki, tmp_path: Path, where: str, kind: str
) -> None:
    poa = _poa(poa_pki, tmp_path / "poa", None)
    build, fields = (_report, REPORT) if kind == "report" else (_letter, LETTER)
    report = await run_package(client, fields, build(poa_pki, tmp_path / "p", poa, where))
    assert _on_poa(report, poa[0].name) == {"signature.missing"}, report["checks"]
    assert report["decision"] != "accepted", report["checks"]


@pytest.mark.parametrize("kind", ["report", "letter"])
@pytest.mark.parametrize("where", WHERE)
async def test_control_a_poa_signed_by_the_head_is_accepted_whichever_way_it_arrives(
    client: TestClient, poa_pki: TestPki, tmp_path: Path, where: str, kind: str
) -> None:
    poa = _poa(poa_pki, tmp_path / "poa", "head256")
    build, fields = (_report, REPORT) if kind == "report" else (_letter, LETTER)
    report = await run_package(client, fields, build(poa_pki, tmp_path / "p", poa, where))
    assert _on_poa(report, poa[0].name) == set(), report["checks"]
    assert report["decision"] == "accepted", report["checks"]


@pytest.mark.parametrize("kind", ["report", "letter"])
async def test_a_poa_signature_file_that_is_no_signature_gives_the_same_findings_either_way(
    client: TestClient, poa_pki: TestPki, tmp_path: Path, kind: str
) -> None:
    build, fields = (_report, REPORT) if kind == "report" else (_letter, LETTER)
    found = {}
    for where in WHERE:
        poa = _poa(poa_pki, tmp_path / where / "poa", "head256")
        poa[1].write_bytes(b"0\x82\x01\x00 not a signature at all")
        report = await run_package(client, fields, build(poa_pki, tmp_path / where / "p", poa, where))
        found[where] = (_on_poa(report, poa[0].name) | _on_poa(report, poa[1].name), report["decision"])
    assert found["power_of_attorney part"] == found["inside the archive"]
    assert "signature.format" in found["inside the archive"][0] and found["inside the archive"][1] != "accepted"
