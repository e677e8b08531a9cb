"""Red team: an МЧД whose detached signature carries the head's valid signature and a
second, broken SignerInfo (a co-signature whose value no longer verifies).

SPEC section 3/6: every document of the package must carry only signatures that pass; a
failed signature on a document is a rejection. The МЧД is a document of the package, so a
broken co-signature on it rejects the package — and the verdict must not depend on whether
the МЧД came as its own ``power_of_attorney`` part or inside the supporting archive (the
old code ignored the broken co-signature of an uploaded МЧД because the head's one was
valid, and rejected the same files inside the archive)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from asn1crypto import cms

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.pki.poa import PoaSpec, issue_personal_certificates, write_signed_poa
from tests.servers.packages import LETTER, codes, make_zip, run_package, signed_copy


@pytest.fixture(scope="session")
def poa_pki(pki: TestPki) -> TestPki:
    return issue_personal_certificates(pki)


def _poa_with_broken_cosignature(pki: TestPki, folder: Path, broken: bool = True) -> tuple[Path, Path]:
    """The МЧД signed by the head, co-signed by the accountant; the co-signature's value
    flipped in one byte when ``broken``."""
    poa, head_sig = write_signed_poa(pki, folder, PoaSpec())
    both = pki.cosign(head_sig, "accountant256", poa, folder / "both.sig")
    signed = cms.ContentInfo.load(both.read_bytes())
    if broken:
        signers = signed["content"]["signer_infos"]
        index = next(i for i, s in enumerate(signers) if s["sid"].chosen["serial_number"].native == pki.serial("accountant256"))
        value = bytearray(signers[index]["signature"].native)
        value[5] ^= 0x01
        signers[index]["signature"] = bytes(value)
    head_sig.write_bytes(signed.dump(force=True))
    both.unlink()
    return poa, head_sig


def _letter(pki: TestPki, folder: Path, in_archive: list[Path], signer: str = "accountant_personal") -> dict[str, list[Path]]:
    """A letter signed by ``signer``: by default the chief accountant's personal
    certificate (an МЧД is needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    cover = pdfs.make_pdf(folder / "Письмо.pdf", "Cover letter")
    cover_sig = pki.sign(signer, cover, folder / "Письмо.pdf.sig")
    inner = signed_copy(pki, folder / "att", "Справка.pdf", pdfs.make_pdf(folder / "s.pdf").read_bytes(), signer)
    return {"document": [cover], "signature": [cover_sig], "attachment": [make_zip(folder / "Приложение.zip", inner + in_archive)]}


@pytest.mark.parametrize("where", ["power_of_attorney part", "inside the archive"])
async def test_a_broken_cosignature_on_the_poa_rejects_the_package_whichever_way_it_arrives(
    client: TestClient, poa_pki: TestPki, tmp_path: Path, where: str
) -> None:
    poa = list(_poa_with_broken_cosignature(poa_pki, tmp_path / "poa"))
    if where == "inside the archive":
        files = _letter(poa_pki, tmp_path / "p", poa)
    else:
        files = _letter(poa_pki, tmp_path / "p", []) | {"power_of_attorney": poa}
    report = await run_package(client, LETTER, files)
    assert report["decision"] == "rejected", report["checks"]
    assert "signature.invalid" in codes(report), report["checks"]


@pytest.mark.parametrize("where", ["power_of_attorney part", "inside the archive"])
async def test_control_a_valid_cosignature_on_the_poa_is_accepted_whichever_way_it_arrives(
    client: TestClient, poa_pki: TestPki, tmp_path: Path, where: str
) -> None:
    poa = list(_poa_with_broken_cosignature(poa_pki, tmp_path / "poa", broken=False))
    if where == "inside the archive":
        files = _letter(poa_pki, tmp_path / "p", poa)
    else:
        files = _letter(poa_pki, tmp_path / "p", []) | {"power_of_attorney": poa}
    report = await run_package(client, LETTER, files)
    assert report["decision"] == "accepted", report["checks"]


@pytest.mark.parametrize("where", ["power_of_attorney part", "inside the archive"])
async def test_a_broken_signature_on_an_unneeded_poa_rejects_the_package_whichever_way_it_arrives(
    client: TestClient, poa_pki: TestPki, tmp_path: Path, where: str
) -> None:
    """The head signed everything, so nothing needs the МЧД; it is still a document of the
    package (read even when no representative signed)."""
    poa = list(_poa_with_broken_cosignature(poa_pki, tmp_path / "poa"))
    if where == "inside the archive":
        files = _letter(poa_pki, tmp_path / "p", poa, signer="head256")
    else:
        files = _letter(poa_pki, tmp_path / "p", [], signer="head256") | {"power_of_attorney": poa}
    report = await run_package(client, LETTER, files)
    assert report["decision"] == "rejected", report["checks"]
    assert "signature.invalid" in codes(report), report["checks"]
