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


def _signed_copy_only(kit: Kit, signer: str = "head256", cover_bytes: bytes | None = None) -> dict[str, list[Path]]:
    """No signature part: the cover's signature lies in the archive beside a copy of it."""
    packed = kit.pdf("Письмо.pdf")
    sig = kit.sign(signer, packed)
    cover = kit.file(packed.name, cover_bytes) if cover_bytes is not None else packed
    return {"document": [cover], "attachment": [kit.archive("Письмо.zip", [(packed.name, packed), (sig.name, sig)])]}


async def test_cover_signed_only_through_its_packed_copy_is_accepted(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    report = await run_package(rw_client, LETTER, await asyncio.to_thread(_signed_copy_only, kit))
    assert report["decision"] == "accepted", report["checks"]


async def test_a_packed_copy_of_other_bytes_signs_nothing_uploaded(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    def build() -> dict[str, list[Path]]:
        return _signed_copy_only(kit, cover_bytes=kit.pdf("x.pdf", "Другое письмо").read_bytes())

    report = await run_package(rw_client, LETTER, await asyncio.to_thread(build))
    assert ("signature.missing", "Письмо.pdf") in {(c["code"], c["file"]) for c in report["checks"]}


async def test_the_cover_signed_through_its_copy_is_judged_for_who_signed(kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    person = await run_package(rw_client, LETTER, await asyncio.to_thread(_signed_copy_only, kit, "accountant_personal"))
    assert person["decision"] == "returned" and ("poa.missing", "Письмо.pdf") in {(c["code"], c["file"]) for c in person["checks"]}
    foreign = await run_package(rw_client, LETTER, await asyncio.to_thread(_signed_copy_only, kit, "foreign256"))
    assert foreign["decision"] == "rejected" and ("signer.foreign_org", "Письмо.pdf") in {(c["code"], c["file"]) for c in foreign["checks"]}
