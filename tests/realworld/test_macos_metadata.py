"""macOS Archive Utility adds ``__MACOSX/._<name>`` (AppleDouble: Finder info, the
download quarantine) beside every file it zips: metadata, not documents, so they need no
signature. Only what really is a small AppleDouble file is passed over: the name alone
proves nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient

from tests.realworld.cases import _apple_double
from tests.realworld.kit import Kit
from tests.servers.packages import MEMBER, run_package

LETTER = {"member": MEMBER, "doc_type": "letter"}


def _letter(kit: Kit, extra_name: str, extra: bytes) -> dict[str, list[Path]]:
    cover = kit.pdf("Письмо.pdf")
    doc = kit.pdf("Справка.pdf")
    archive = kit.archive("Приложение.zip", [(doc.name, doc), (doc.name + ".sig", kit.sign("head256", doc)), (extra_name, kit.file("x", extra))])
    return {"document": [cover], "signature": [kit.sign("head256", cover)], "attachment": [archive]}


def _missing(report: dict[str, object], name: str) -> bool:
    return ("signature.missing", f"Приложение.zip/{name}") in {(c["code"], c["file"]) for c in report["checks"]}  # type: ignore[attr-defined,index]


async def test_appledouble_metadata_needs_no_signature(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, LETTER, await asyncio.to_thread(_letter, kit, "__MACOSX/._Справка.pdf", _apple_double()))
    assert report["decision"] == "accepted", report["checks"]


async def test_a_pdf_named_like_macos_metadata_must_be_signed(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    pdf = (await asyncio.to_thread(kit.pdf, "p.pdf", "Не подписанный документ")).read_bytes()
    report = await run_package(rw_client, LETTER, await asyncio.to_thread(_letter, kit, "__MACOSX/._Справка.pdf", pdf))
    assert report["decision"] == "rejected" and _missing(report, "__MACOSX/._Справка.pdf"), report["checks"]


async def test_a_large_file_with_the_appledouble_magic_is_judged(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    big = _apple_double() + bytes(64 << 10)
    report = await run_package(rw_client, LETTER, await asyncio.to_thread(_letter, kit, "__MACOSX/._Справка.pdf", big))
    assert report["decision"] != "accepted", report["checks"]


async def test_appledouble_content_without_the_dot_underscore_name_is_judged(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, LETTER, await asyncio.to_thread(_letter, kit, "Справка2.pdf", _apple_double()))
    assert report["decision"] != "accepted", report["checks"]
