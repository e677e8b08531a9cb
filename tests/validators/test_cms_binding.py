"""CMS binding: a document signature signs id-data; a signed TSTInfo or any other signed
structure is not a signature of "the document" (issue 9, section 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import cms

from tests.conftest import verify
from tests.pki.builder import TestPki
from validators.signatures.model import Indication, SubIndication
from validators.trust import TrustStore

TSTINFO = "1.2.840.113549.1.9.16.1.4"
OTHER = "1.2.643.100.999.1"


def _sign_with_content_type(pki: TestPki, content: Path, out: Path, econtent_type: str, *, attached: bool) -> Path:
    """``openssl cms -sign -econtent_type``: the signed contentType attribute says the same."""
    args = [
        "cms", "-sign", "-binary", "-in", str(content),
        "-signer", str(pki.cert("head256")), "-inkey", str(pki.key("head256")),
        "-md", "md_gost12_256", "-cades", "-nosmimecap",
        "-econtent_type", econtent_type, "-outform", "DER", "-out", str(out),
    ]
    if attached:
        args.append("-nodetach")
    pki.openssl(*args)
    assert cms.ContentInfo.load(out.read_bytes())["content"]["encap_content_info"]["content_type"].dotted == econtent_type
    return out


def _content_type_check(report):  # type: ignore[no-untyped-def]
    [signature] = report.signatures
    return signature, [c for c in signature.checks if c.name == "cms.content_type"]


@pytest.mark.parametrize("econtent_type", [TSTINFO, OTHER], ids=["tstinfo", "other-oid"])
def test_attached_signature_over_a_non_data_content_type_fails(
    econtent_type: str, pki: TestPki, store: TrustStore, document: Path, tmp_path: Path
) -> None:
    sig = _sign_with_content_type(pki, document, tmp_path / "doc.p7s", econtent_type, attached=True)
    signature, [check] = _content_type_check(verify(sig, store))
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE)
    assert not check.passed and econtent_type in check.detail
    assert not signature.qualified


@pytest.mark.parametrize("econtent_type", [TSTINFO, OTHER], ids=["tstinfo", "other-oid"])
def test_detached_signature_over_a_non_data_content_type_fails_although_the_digest_matches(
    econtent_type: str, pki: TestPki, store: TrustStore, document: Path, tmp_path: Path
) -> None:
    sig = _sign_with_content_type(pki, document, tmp_path / "doc.sig", econtent_type, attached=False)
    signature, [_check] = _content_type_check(verify(sig, store, document))
    # Everything else about the signature is sound: only the content type makes it fail.
    assert [c.name for c in signature.checks if not c.passed] == ["cms.content_type"]
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE)


def test_id_data_signature_records_a_passed_content_type_check(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    signature, [check] = _content_type_check(verify(sig, store, document))
    assert check.passed and signature.indication is Indication.TOTAL_PASSED


def test_signed_content_type_attribute_differing_from_econtent_type_fails(
    pki: TestPki, store: TrustStore, document: Path, tmp_path: Path
) -> None:
    """eContentType relabelled to id-data after signing: the signed contentType attribute
    (TSTInfo) no longer equals it, and the signature over the attributes cannot be redone."""
    sig = _sign_with_content_type(pki, document, tmp_path / "doc.p7s", TSTINFO, attached=True)
    info = cms.ContentInfo.load(sig.read_bytes())
    info["content"]["encap_content_info"]["content_type"] = cms.ContentType("1.2.840.113549.1.7.1")
    sig.write_bytes(info.dump())
    [signature] = verify(sig, store).signatures
    failed = {c.name for c in signature.checks if not c.passed}
    assert "cms.signed_attributes" in failed
    assert signature.sub_indication is SubIndication.FORMAT_FAILURE
