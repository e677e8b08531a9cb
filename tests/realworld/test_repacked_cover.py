"""Seed rule: with nothing to support, the member re-sends the cover letter packed in the
archive slot — the PDF alone, its detached signature being in the signature part. That
copy is covered by the cover letter's signature only when it is the same bytes and that
signature is usable."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient

from tests.realworld.kit import Kit
from tests.servers.packages import MEMBER, codes, run_package

LETTER = {"member": MEMBER, "doc_type": "letter"}


def _letter(kit: Kit, signer: str = "head256", packed_bytes: bytes | None = None) -> dict[str, list[Path]]:
    cover = kit.pdf("Письмо.pdf")
    packed = kit.file(cover.name, packed_bytes) if packed_bytes is not None else cover
    return {"document": [cover], "signature": [kit.sign(signer, cover)], "attachment": [kit.archive("Письмо.zip", [(cover.name, packed)])]}


async def test_cover_letter_packed_alone_is_accepted(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, LETTER, await asyncio.to_thread(_letter, kit))
    assert report["decision"] == "accepted", report["checks"]


async def test_a_packed_pdf_differing_from_the_signed_cover_is_unsigned(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    def build() -> dict[str, list[Path]]:
        other = kit.pdf("x.pdf", "Другой текст письма").read_bytes()
        return _letter(kit, packed_bytes=other)

    report = await run_package(rw_client, LETTER, await asyncio.to_thread(build))
    assert report["decision"] == "rejected"
    assert ("signature.missing", "Письмо.zip/Письмо.pdf") in {(c["code"], c["file"]) for c in report["checks"]}


async def test_a_copy_of_a_cover_without_a_usable_signature_is_unsigned(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, LETTER, await asyncio.to_thread(_letter, kit, "untrusted256"))
    assert report["decision"] == "rejected"
    assert ("signature.missing", "Письмо.zip/Письмо.pdf") in {(c["code"], c["file"]) for c in report["checks"]}
    assert "signature.untrusted" in codes(report)
