"""An archive inside the package signed as a whole (the Bank of Russia XBRL package
beside its ``.sig``, as cooperatives' reporting software writes it) covers the files in
it (SPEC 3: «A detached signature over the whole archive also satisfies the rule»), and
only those: not files merely named as if they were in it, not when its signature fails."""

from __future__ import annotations

import asyncio
import zipfile
from pathlib import Path

from aiohttp.test_utils import TestClient

from tests.realworld.kit import Kit
from tests.servers.packages import MEMBER, codes, run_package

REPORT = {"member": MEMBER, "doc_type": "report", "report_kind": "OD_Q1"}
XBRL = "XBRL_1027700000008_ep_nso_purcb_kpk_q_30d_20260331.zip"


def _xbrl(kit: Kit) -> Path:
    instance = kit.file("0420820_20260331.xml", b'<?xml version="1.0" encoding="UTF-8"?><xbrl/>')
    return kit.archive(XBRL, [(instance.name, instance)])


def _package(kit: Kit, signer: str = "head256", signed: Path | None = None, extra: list[tuple[str, bytes]] = ()) -> Path:  # type: ignore[assignment]
    xbrl = _xbrl(kit)
    sig = kit.sign(signer, signed or xbrl, XBRL + ".sig")
    package = kit.folder / f"{MEMBER}_OD.zip"
    with zipfile.ZipFile(package, "w") as out:
        out.write(xbrl, XBRL)
        out.write(sig, XBRL + ".sig")
        for name, data in extra:
            out.writestr(name, data)
    return package


async def _decide(client: TestClient, package: Path) -> dict[str, object]:  # type: ignore[type-arg]
    return await run_package(client, REPORT, {"document": [package]})


async def test_signed_nested_archive_covers_its_files(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await _decide(rw_client, await asyncio.to_thread(_package, kit))
    assert report["decision"] == "accepted", report["checks"]


async def test_a_folder_named_like_the_signed_archive_is_not_covered(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    smuggled = f"{XBRL}/0420821_20260331.xml"
    package = await asyncio.to_thread(_package, kit, extra=[(smuggled, b'<?xml version="1.0"?><xbrl>forged</xbrl>')])
    report = await _decide(rw_client, package)
    assert report["decision"] != "accepted"
    assert any(c["code"] == "signature.missing" and c["file"] == f"{MEMBER}_OD.zip/{smuggled}" for c in report["checks"]), report["checks"]  # type: ignore[index,union-attr]


async def test_a_signature_over_other_bytes_covers_nothing(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    other = kit.file("other.zip", b"PK\x05\x06" + bytes(18))
    report = await _decide(rw_client, await asyncio.to_thread(_package, kit, signed=other))
    assert report["decision"] == "rejected"
    assert {"signature.invalid", "signature.missing"} <= codes(report)  # type: ignore[arg-type]


async def test_another_organisations_signature_on_the_nested_archive_is_refused(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await _decide(rw_client, await asyncio.to_thread(_package, kit, "foreign256"))
    assert report["decision"] == "rejected"
    assert "signer.foreign_org" in codes(report)  # type: ignore[arg-type]


async def test_a_folder_named_like_a_signed_attached_archive_is_not_covered(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    def build() -> Path:
        carried = kit.sign("head256", _xbrl(kit), XBRL + ".sig", attached=True)
        package = kit.folder / f"{MEMBER}_OD.zip"
        with zipfile.ZipFile(package, "w") as out:
            out.write(carried, carried.name)
            out.writestr(f"{carried.name}/0420821_20260331.xml", b'<?xml version="1.0"?><xbrl>forged</xbrl>')
        return package

    report = await _decide(rw_client, await asyncio.to_thread(build))
    assert report["decision"] != "accepted", report["checks"]
    assert "signature.missing" in codes(report)  # type: ignore[arg-type]


def _y90(kit: Kit, signer: str, smuggle: bool) -> Path:
    """An OD_Y90 report: an XBRL package signed as a whole by ``signer``; the accounting
    statements inside it, or (``smuggle``) beside it in a folder named like it."""
    statements = kit.statements("0420002_20251231.xml")
    report = kit.file("0420820_20251231.xml", b'<?xml version="1.0"?><xbrl/>')
    xbrl = kit.archive(XBRL, [(report.name, report)] if smuggle else [(report.name, report), (statements.name, statements)])
    sig = kit.sign(signer, xbrl, XBRL + ".sig")
    package = kit.folder / f"{MEMBER}_OD.zip"
    with zipfile.ZipFile(package, "w") as out:
        out.write(xbrl, XBRL)
        out.write(sig, sig.name)
        if smuggle:
            out.write(statements, f"{XBRL}/{statements.name}")
    return package


async def test_statements_in_a_signed_xbrl_package_count_as_signed_by_the_member(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, {**REPORT, "report_kind": "OD_Y90"}, {"document": [await asyncio.to_thread(_y90, kit, "head256", False)]})
    assert report["decision"] == "accepted", report["checks"]


async def test_statements_in_a_package_signed_by_another_organisation_do_not_count(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, {**REPORT, "report_kind": "OD_Y90"}, {"document": [await asyncio.to_thread(_y90, kit, "foreign256", False)]})
    assert {"signer.foreign_org", "report.accounting_missing"} <= codes(report)  # type: ignore[arg-type]


async def test_statements_beside_the_package_in_a_folder_named_like_it_do_not_count(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, {**REPORT, "report_kind": "OD_Y90"}, {"document": [await asyncio.to_thread(_y90, kit, "head256", True)]})
    assert {"signature.missing", "report.accounting_missing"} <= codes(report)  # type: ignore[arg-type]
