"""A detached signature in an archive belongs to the file it is named after; a name that
differs only in letter case (Windows ignores it) pairs only when one file is meant."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient

from tests.realworld.kit import Kit
from tests.servers.packages import MEMBER, run_package

REPORT = {"member": MEMBER, "doc_type": "report", "report_kind": "OD_Q1"}


def _report(kit: Kit, names: list[str], sig_name: str) -> dict[str, list[Path]]:
    files = [kit.pdf(name, f"Документ {index}") for index, name in enumerate(names)]
    sig = kit.sign("head256", files[0], sig_name)
    return {"document": [kit.archive(f"{MEMBER}_OD.zip", [*((f.name, f) for f in files), (sig.name, sig)])]}


def _found(report: dict[str, object]) -> set[tuple[str, str]]:
    return {(c["code"], c["file"]) for c in report["checks"]}  # type: ignore[attr-defined,index]


async def test_a_name_differing_only_in_case_pairs_with_its_one_document(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, REPORT, await asyncio.to_thread(_report, kit, ["Скан.pdf"], "Скан.PDF.sig"))
    assert report["decision"] == "accepted", report["checks"]


async def test_two_documents_differing_only_in_case_leave_the_signature_unpaired(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, REPORT, await asyncio.to_thread(_report, kit, ["Скан.pdf", "СКАН.pdf"], "скан.PDF.sig"))
    assert report["decision"] == "rejected"
    assert {("signature.format", f"{MEMBER}_OD.zip/скан.PDF.sig"), ("signature.missing", f"{MEMBER}_OD.zip/Скан.pdf")} <= _found(report)


async def test_the_exact_name_wins_over_a_case_variant(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, REPORT, await asyncio.to_thread(_report, kit, ["Скан.pdf", "СКАН.pdf"], "Скан.pdf.sig"))
    assert ("signature.missing", f"{MEMBER}_OD.zip/СКАН.pdf") in _found(report)
    assert ("signature.missing", f"{MEMBER}_OD.zip/Скан.pdf") not in _found(report)


async def test_a_signature_named_after_the_stem_pairs_with_its_one_document(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, REPORT, await asyncio.to_thread(_report, kit, ["Отчет.pdf"], "Отчет.sig"))
    assert report["decision"] == "accepted", report["checks"]


async def test_two_documents_with_that_stem_leave_the_signature_unpaired(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    def build() -> dict[str, list[Path]]:
        files = _report(kit, ["Отчет.pdf"], "Отчет.sig")
        xml = kit.file("Отчет.xml", b"<a/>")
        archive = files["document"][0]
        import zipfile

        with zipfile.ZipFile(archive, "a") as out:
            out.write(xml, xml.name)
        return files

    report = await run_package(rw_client, REPORT, await asyncio.to_thread(build))
    assert ("signature.format", f"{MEMBER}_OD.zip/Отчет.sig") in _found(report)
