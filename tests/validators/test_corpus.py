"""Real signatures from shared/corpus/gost-cms: the same verdict as OpenSSL (corpus/MANIFEST.md).

The trust store is built from corpus/certs (self-signed certificates become anchors, the
rest intermediates, CRLs go to crl/), and certificates are judged at the signing time the
MANIFEST gives (``--at``). Revocation is ``soft``: the public CRLs of these CAs are not in
the corpus, so an unknown status must give a warning, while the CRLs that are present are
still checked.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from validators.signatures.certificates import load_certificates, load_crls
from validators.signatures.locate import verify_document
from validators.signatures.model import Indication, SubIndication
from validators.signatures.revocation import RevocationMode
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore, load_trust_store


@pytest.fixture(scope="module")
def corpus_store(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> TrustStore:
    trust = tmp_path_factory.mktemp("corpus-trust")
    for folder in ("roots", "ca", "crl"):
        (trust / folder).mkdir()
    for path in sorted((corpus / "certs").iterdir()):
        data = path.read_bytes()
        certificates = load_certificates(data)
        if certificates:
            cert = certificates[0]
            anchor = cert.self_issued and cert.self_signed != "no"
            shutil.copy(path, trust / ("roots" if anchor else "ca") / path.name)
        elif load_crls(data):
            shutil.copy(path, trust / "crl" / path.name)
    store = load_trust_store(trust)
    assert not store.problems
    return store


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (signature, signed document or None for attached, signing time per MANIFEST, qualified)
VERIFIED_BY_OPENSSL = [
    ("cpsia_report.pdf.sig", "cpsia_report.pdf", "2023-05-14T10:43:45", True),
    ("nicesoft_fns_qualified_gost_test.txt.p7s", None, "2025-06-23T16:32:08", True),
    ("pycryptoprosdk_attached_qwerty_2012.sig", None, "2019-06-26T11:14:52", False),
    ("pycryptoprosdk_doc.txt.2017-10.sig", "pycryptoprosdk_doc.txt", "2017-10-23T12:00:00", False),
    ("pycryptoprosdk_doc.txt.2018-01.sgn", "pycryptoprosdk_doc.txt", "2018-01-24T12:00:00", False),
    ("pycryptoprosdk_doc.txt.2019-02.sgn", "pycryptoprosdk_doc.txt", "2019-02-22T12:00:00", False),
    ("pycryptoprosdk_test.txt.sig", "pycryptoprosdk_test.txt", "2017-09-22T12:00:00", False),
    ("tc26_signed_a111.pem", None, "2019-03-20T12:00:00", False),
    ("tc26_signed_a121.pem", None, "2019-03-20T12:00:00", False),
    ("tk26cms_signed_256_nocerts.p7m", None, "2020-01-01T00:00:00", False),
    ("tk26cms_signed_512_nocerts.p7m", None, "2020-01-01T00:00:00", False),
]


@pytest.mark.parametrize(("signature", "document", "signed_at", "qualified"), VERIFIED_BY_OPENSSL, ids=[c[0] for c in VERIFIED_BY_OPENSSL])
def test_corpus_signature_verified_by_openssl_passes(
    corpus: Path, corpus_store: TrustStore, signature: str, document: str | None, signed_at: str, qualified: bool
) -> None:
    folder = corpus / "gost-cms"
    target = folder / (document or signature)
    policy = VerificationPolicy(revocation=RevocationMode.SOFT, at=_at(signed_at))
    report = verify_document(target, corpus_store, policy, folder / signature if document else None)
    assert report.sub_indication is None, report.problems
    assert len(report.signatures) == 1
    result = report.signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, [c for c in result.checks if not c.passed]
    assert result.qualified is qualified


def test_corpus_signature_with_tampered_certificate_fails(corpus: Path, corpus_store: TrustStore) -> None:
    folder = corpus / "gost-cms"
    policy = VerificationPolicy(revocation=RevocationMode.SOFT, at=_at("2023-05-14T10:43:45"))
    report = verify_document(folder / "cpsia_report.pdf", corpus_store, policy, folder / "cpsia_report.pdf.tampered_cert.sig")
    result = report.signatures[0]
    assert result.indication is not Indication.TOTAL_PASSED
    failed = {c.name for c in result.checks if not c.passed}
    # The CMS signature itself is intact (openssl -noverify accepts it); the certificate is not.
    assert "signature.value" not in failed
    assert {"signer.certificate_reference", "chain.path"} <= failed


def test_real_qualified_signature_names_the_signer_organisation(corpus: Path, corpus_store: TrustStore) -> None:
    folder = corpus / "gost-cms"
    report = verify_document(folder / "cpsia_report.pdf", corpus_store, VerificationPolicy(revocation=RevocationMode.SOFT), folder / "cpsia_report.pdf.sig")
    signer = report.signatures[0].signer
    assert signer.organization == 'ООО "ЦПСИА"' and signer.ogrn == "1227700638197" and signer.inn_le == "7720876531"


def test_real_qualified_signature_is_not_passed_without_revocation_data(corpus: Path, corpus_store: TrustStore) -> None:
    folder = corpus / "gost-cms"
    policy = VerificationPolicy(at=_at("2023-05-14T10:43:45"))
    report = verify_document(folder / "cpsia_report.pdf", corpus_store, policy, folder / "cpsia_report.pdf.sig")
    result = report.signatures[0]
    assert (result.indication, result.sub_indication) == (Indication.INDETERMINATE, SubIndication.TRY_LATER)


def test_signature_whose_content_is_missing_still_has_its_value_checked(corpus: Path, corpus_store: TrustStore) -> None:
    folder = corpus / "gost-cms"
    report = verify_document(
        folder / "gisgkh_smev3_attachment_detached_nocontent.p7s", corpus_store, VerificationPolicy(revocation=RevocationMode.SOFT)
    )
    assert report.signatures == ()
    assert "detached signature" in report.problems[0]


def test_detached_signature_without_content_reports_signed_data_not_found(corpus: Path, corpus_store: TrustStore) -> None:
    from validators.signatures.verify import verify_cms

    data = (corpus / "gost-cms" / "gisgkh_smev3_attachment_detached_nocontent.p7s").read_bytes()
    report = verify_cms(data, corpus_store, VerificationPolicy(revocation=RevocationMode.SOFT))
    result = report.signatures[0]
    assert result.sub_indication is SubIndication.SIGNED_DATA_NOT_FOUND
    # The GOST signature over the signed attributes (signwithdigest OID 1.2.643.7.1.1.3.2) verifies.
    assert next(c for c in result.checks if c.name == "signature.value").passed


# --- PDFs with embedded signatures (corpus/gost-pdf) -----------------------------------

# file -> per signature: (indication, qualified). All were verified by openssl over their
# ByteRange with the full chain at the signing time (MANIFEST). pdfscp_15 has no
# signingTime, so it is judged at a moment inside its certificate's validity, as in the
# MANIFEST. pdfscp_04's first signature is followed by a revision that pyHanko cannot
# parse (raw non-ASCII bytes in a PDF name): what it changes is unknown -> INDETERMINATE.
PASSED, UNKNOWN = Indication.TOTAL_PASSED, Indication.INDETERMINATE
CORPUS_PDFS = {
    "cryptopro_pdf_gost2001_test_signed.pdf": [(PASSED, False)],
    "pdfscp_01_okular_BES.pdf": [(PASSED, False)],
    "pdfscp_04_cam_BES_signers_free_area_signed_BES.pdf": [(UNKNOWN, False), (PASSED, False)],
    "pdfscp_15_fns_1.pdf": [(PASSED, True)],
    "pdfscp_16_Document_ARM_BES_revoced.pdf": [(PASSED, False)],
    "pdfscp_17_acr_XLT1_revoced.pdf": [(PASSED, False)],
    "pdfscp_20_acrob_T_revoced.pdf": [(PASSED, False)],
    "pdfscp_25_cam_CADES-A.pdf": [(PASSED, False)],
    "pdfscp_26_cades-xlt1-sign_task146042.pdf": [(PASSED, True)],
    "pdfscp_27_cades-bes-sign_task146042.pdf": [(PASSED, True)],
    "pdfscp_28_cades-t-sign_task146042.pdf": [(PASSED, True)],
    "pdfscp_29_cades-xlt1-sign_tax-gov_task146042.pdf": [(PASSED, True)],
    "pdfscp_35_pades-bes-itcom.pdf": [(PASSED, True)],
    "pdfscp_36_pades-bes-sertum_pro.pdf": [(PASSED, True)],
    "pdfscp_37_pades-bes-taxcom.pdf": [(PASSED, True)],
    "pdfscp_38_pades-t-itcom.pdf": [(PASSED, True)],
    "pdfscp_41_pades-xlt1-itcom.pdf": [(PASSED, True)],
    "pdfscp_42_pades-xlt1-sertum_pro.pdf": [(PASSED, True)],
    "pdfscp_cam_bes1.pdf": [(PASSED, False)],
}


def test_every_corpus_pdf_is_listed(corpus: Path) -> None:
    assert sorted(p.name for p in (corpus / "gost-pdf").glob("*.pdf")) == sorted(CORPUS_PDFS)


# Signatures without a signature time-stamp (BES) have no proven moment of signing: they
# are judged at the present time, when their certificates have long expired, unless an
# audit sets the time (--at). These are the moments the MANIFEST verified them at (their
# claimed signingTime; pdfscp_15 has none). The CAdES-T/PAdES-T ones (and XL/A, which
# contain T) need no --at: their real time-stamps (CryptoPro test TSP, ФНС России and
# others) validate fully and prove the moment.
AUDIT_AT = {
    "cryptopro_pdf_gost2001_test_signed.pdf": "2017-08-01T00:09:00",
    "pdfscp_01_okular_BES.pdf": "2024-07-02T12:31:18",
    "pdfscp_04_cam_BES_signers_free_area_signed_BES.pdf": "2024-07-16T13:37:23",
    "pdfscp_15_fns_1.pdf": "2024-07-03T12:00:00",
    "pdfscp_16_Document_ARM_BES_revoced.pdf": "2024-08-09T10:58:33",
    "pdfscp_27_cades-bes-sign_task146042.pdf": "2024-09-04T11:19:51",
    "pdfscp_35_pades-bes-itcom.pdf": "2024-10-18T14:06:21",
    "pdfscp_36_pades-bes-sertum_pro.pdf": "2024-10-18T13:59:27",
    "pdfscp_37_pades-bes-taxcom.pdf": "2024-10-18T13:41:02",
    "pdfscp_cam_bes1.pdf": "2024-10-15T12:30:37",
}


@pytest.mark.parametrize("name", sorted(CORPUS_PDFS))
def test_corpus_pdf_signatures_get_the_expected_verdict(corpus: Path, corpus_store: TrustStore, name: str) -> None:
    at = _at(AUDIT_AT[name]) if name in AUDIT_AT else None
    report = verify_document(corpus / "gost-pdf" / name, corpus_store, VerificationPolicy(revocation=RevocationMode.SOFT, at=at))
    assert report.sub_indication is None, report.problems
    got = [(s.indication, s.qualified) for s in report.signatures]
    assert got == CORPUS_PDFS[name], [[c for c in s.checks if not c.passed] for s in report.signatures]
    assert all(s.kind == "embedded" for s in report.signatures)


def test_real_time_stamp_whose_tsa_status_is_unknown_is_try_later_under_require(corpus: Path, corpus_store: TrustStore) -> None:
    """pdfscp_26: the TSA's (ООО «ТАКСКОМ») OCSP response inside the token is signed by a
    responder that the CA's other key certified (AKI d1e7… vs the TSA issuer's aba3…): not
    authoritative (RFC 6960, 4.2.2.2), so the TSA's status is unknown and the time-stamp
    cannot prove the moment under --revocation require; the package would wait."""
    report = verify_document(corpus / "gost-pdf" / "pdfscp_26_cades-xlt1-sign_task146042.pdf", corpus_store, VerificationPolicy())
    [signature] = report.signatures
    assert (signature.indication, signature.sub_indication) == (Indication.INDETERMINATE, SubIndication.TRY_LATER)
    check = next(c for c in signature.checks if c.name == "timestamp.signature")
    assert not check.passed and "revocation" in check.detail
    assert signature.timestamp is not None and not signature.timestamp.valid


@pytest.mark.parametrize("name", ["pdfscp_41_pades-xlt1-itcom.pdf", "pdfscp_29_cades-xlt1-sign_tax-gov_task146042.pdf"])
def test_real_cades_xl_pdf_passes_revocation_from_its_own_ocsp_and_crl(corpus: Path, corpus_store: TrustStore, name: str) -> None:
    """CAdES-X Long: the OCSP response and CRLs inside the signature decide revocation, so
    these pass even under --revocation require."""
    report = verify_document(corpus / "gost-pdf" / name, corpus_store, VerificationPolicy())
    [signature] = report.signatures
    assert signature.indication is Indication.TOTAL_PASSED and signature.qualified
    assert any("OCSP" in c.detail for c in signature.checks if c.name == "chain.revocation")


@pytest.mark.parametrize("name", sorted(set(CORPUS_PDFS) - set(AUDIT_AT)))
def test_real_signature_time_stamp_proves_the_moment_of_signing(corpus: Path, corpus_store: TrustStore, name: str) -> None:
    """Judged at the token's genTime, not at the claimed signingTime nor today."""
    report = verify_document(corpus / "gost-pdf" / name, corpus_store, VerificationPolicy(revocation=RevocationMode.SOFT))
    for signature in report.signatures:
        assert signature.timestamp is not None and signature.timestamp.valid
        assert signature.validation_time == signature.timestamp.gen_time
        assert signature.signing_time is not None and signature.signing_time != signature.timestamp.gen_time
        assert next(c for c in signature.checks if c.name == "timestamp.signature").passed


@pytest.mark.parametrize("name", sorted(AUDIT_AT))
def test_real_signature_without_time_stamp_is_judged_now_and_its_expired_certificate_fails(corpus: Path, corpus_store: TrustStore, name: str) -> None:
    report = verify_document(corpus / "gost-pdf" / name, corpus_store, VerificationPolicy(revocation=RevocationMode.SOFT))
    assert report.signatures and all(s.indication is not Indication.TOTAL_PASSED for s in report.signatures)
    assert all(s.timestamp is None for s in report.signatures)
