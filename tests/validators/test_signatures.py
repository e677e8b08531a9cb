"""The verification engine on real signatures made with openssl + the gost engine."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from asn1crypto import crl as asn1_crl

from tests.conftest import verify
from tests.pki.builder import HEAD_SNILS, KPK_INNLE, KPK_OGRN, TestPki
from validators.signatures.cms import RevocationValues
from validators.signatures.model import Indication, SubIndication, VerificationReport
from validators.signatures.revocation import RevocationMode
from validators.trust import TrustStore, load_trust_store


def _only(report: VerificationReport):  # type: ignore[no-untyped-def]
    assert report.sub_indication is None, report.problems
    assert len(report.signatures) == 1
    return report.signatures[0]


def _check(signature, name: str):  # type: ignore[no-untyped-def]
    return [c for c in signature.checks if c.name == name]


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, "the bytes to tamper with must be unique"
    return data.replace(old, new)


# --- valid signatures -------------------------------------------------------------------


def test_detached_der_signature_by_qualified_head_passes(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document))
    assert result.indication is Indication.TOTAL_PASSED
    assert result.qualified is True
    assert result.kind == "detached"
    assert result.signer.ogrn == KPK_OGRN and result.signer.inn_le == KPK_INNLE
    assert result.signer.snils == HEAD_SNILS and result.signer.surname == "Иванов"
    assert result.digest_algorithm == "GOST R 34.11-2012 (Streebog) 256"
    assert result.certificate.serial == format(pki.serial("head256"), "X")
    assert all(c.passed for c in result.checks)


def test_attached_pem_signature_passes(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.p7s", attached=True, encoding="pem")
    result = _only(verify(sig, store))
    assert result.indication is Indication.TOTAL_PASSED and result.qualified
    assert result.kind == "attached"


def test_base64_signature_without_armour_passes(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sgn", encoding="base64")
    assert sig.read_bytes()[:2] == b"MI"
    assert _only(verify(sig, store, document)).indication is Indication.TOTAL_PASSED


def test_signature_with_512_bit_key_uses_streebog_512_and_passes(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head512", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document))
    assert result.indication is Indication.TOTAL_PASSED and result.qualified
    assert result.digest_algorithm == "GOST R 34.11-2012 (Streebog) 512"
    assert result.signature_algorithm == "GOST R 34.10-2012 512"


def test_co_signature_reports_both_signers(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    first = pki.sign("head256", document, tmp_path / "first.sig")
    both = pki.cosign(first, "accountant256", document, tmp_path / "both.sig")
    report = verify(both, store, document)
    assert len(report.signatures) == 2
    assert {s.signer.surname for s in report.signatures} == {"Иванов", "Петрова"}
    assert all(s.indication is Indication.TOTAL_PASSED and s.qualified for s in report.signatures)
    assert report.all_qualified_and_passed


def test_signature_without_signed_attributes_covers_the_content(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig", signed_attributes=False)
    result = _only(verify(sig, store, document))
    assert result.indication is Indication.TOTAL_PASSED
    assert result.signing_time is None


def test_signature_without_certificates_uses_the_trust_store_copy(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig", include_certificate=False)
    (trust_copy / "ca" / "head256.pem").write_bytes(pki.cert("head256").read_bytes())
    result = _only(verify(sig, load_trust_store(trust_copy), document))
    assert result.indication is Indication.TOTAL_PASSED


def test_rsa_signature_passes_but_is_not_qualified(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("rsa_signer", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document))
    assert result.indication is Indication.TOTAL_PASSED
    assert result.qualified is False
    assert not _check(result, "qualified.algorithm")[0].passed


def test_ecdsa_signature_passes_but_is_not_qualified(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("ecdsa_signer", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document))
    assert result.indication is Indication.TOTAL_PASSED and not result.qualified


# --- certificates -----------------------------------------------------------------------


def test_expired_certificate_is_out_of_bounds(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("expired256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document))
    assert result.indication is Indication.INDETERMINATE
    assert result.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE
    assert not result.qualified


def test_not_yet_valid_certificate_fails(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("notyet256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document))
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.NOT_YET_VALID)


def test_at_option_judges_certificates_at_that_time(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    result = _only(verify(sig, store, document, at=long_ago))
    assert result.sub_indication is SubIndication.NOT_YET_VALID
    assert result.validation_time == long_ago


def test_revoked_certificate_fails(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document))
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert "keyCompromise" in _check(result, "chain.revocation")[0].detail or "key_compromise" in _check(result, "chain.revocation")[0].detail


def test_revoked_certificate_fails_even_with_soft_revocation(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    assert _only(verify(sig, store, document, RevocationMode.SOFT)).sub_indication is SubIndication.REVOKED


def test_certificate_revoked_after_the_claimed_signing_time_is_not_passed(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    before_revocation = datetime.now(UTC) - timedelta(days=3)
    result = _only(verify(sig, store, document, at=before_revocation))
    assert (result.indication, result.sub_indication) == (Indication.INDETERMINATE, SubIndication.REVOKED_NO_POE)


def test_untrusted_root_gives_no_chain(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("untrusted256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document))
    assert (result.indication, result.sub_indication) == (Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    assert "not a trust anchor" in _check(result, "chain.path")[0].detail or "no issuer" in _check(result, "chain.path")[0].detail


def test_missing_signer_certificate_is_reported(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig", include_certificate=False)
    result = _only(verify(sig, store, document))
    assert (result.indication, result.sub_indication) == (Indication.INDETERMINATE, SubIndication.NO_SIGNING_CERTIFICATE_FOUND)
    assert result.signer is None


def test_non_qualified_certificate_passes_without_qualified_flag(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("nonqualified256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document))
    assert result.indication is Indication.TOTAL_PASSED
    assert result.qualified is False
    profile = _check(result, "qualified.profile")[0]
    assert not profile.passed and "subjectSignTool" in profile.detail


def test_certificate_without_signing_key_usage_fails_constraints(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("nosignku256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, document))
    assert (result.indication, result.sub_indication) == (Indication.INDETERMINATE, SubIndication.CHAIN_CONSTRAINTS_FAILURE)
    assert not _check(result, "signer.key_usage")[0].passed


# --- tampering --------------------------------------------------------------------------


def test_changed_document_is_a_hash_failure(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    document.write_bytes(document.read_bytes().replace(b"31", b"30", 1))
    result = _only(verify(sig, store, document))
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)


def test_changed_signed_attribute_breaks_the_signature_value(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    der = sig.read_bytes()
    signer_info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    signing_time = next(a for a in signer_info["signed_attrs"] if a["type"].native == "signing_time").dump()
    forged = bytearray(signing_time)
    forged[-2] = ord("0") if forged[-2] != ord("0") else ord("1")  # a seconds digit of the UTCTime
    sig.write_bytes(_replace_once(der, signing_time, bytes(forged)))
    result = _only(verify(sig, store, document))
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE)


def test_changed_signature_value_fails(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    der = sig.read_bytes()
    value = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native
    forged = bytes([value[0] ^ 0x01]) + value[1:]
    sig.write_bytes(_replace_once(der, value, forged))
    result = _only(verify(sig, store, document))
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE)


def test_signature_from_another_key_with_a_swapped_certificate_fails(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """A forger signs with their own key but presents the head's certificate."""
    sig = pki.sign("accountant256", document, tmp_path / "doc.sig", include_certificate=False)
    signed = cms.ContentInfo.load(sig.read_bytes())
    head = cms.ContentInfo.load(pki.sign("head256", document, tmp_path / "head.sig").read_bytes())
    head_info = head["content"]["signer_infos"][0]
    info = signed["content"]["signer_infos"][0]
    info["sid"] = head_info["sid"]
    signed["content"]["certificates"] = head["content"]["certificates"]
    sig.write_bytes(signed.dump())
    result = _only(verify(sig, store, document))
    assert result.indication is not Indication.TOTAL_PASSED
    assert result.sub_indication in {SubIndication.SIG_CRYPTO_FAILURE, SubIndication.NO_SIGNING_CERTIFICATE_FOUND}


@pytest.mark.parametrize(
    "content",
    [b"", b"not a signature at all", b"\x30\x82\xff\xff\x06\x09", b"-----BEGIN CMS-----\n!!!\n-----END CMS-----\n", bytes(range(256)) * 4],
    ids=["empty", "text", "bad-length", "bad-pem", "binary-noise"],
)
def test_garbage_signature_is_a_format_failure(content: bytes, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = tmp_path / "doc.sig"
    sig.write_bytes(content)
    report = verify(sig, store, document)
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures == () and report.problems


def test_truncated_signature_is_a_format_failure(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    sig.write_bytes(sig.read_bytes()[:-40])
    report = verify(sig, store, document)
    assert report.sub_indication is SubIndication.FORMAT_FAILURE


def test_detached_signature_without_document_is_signed_data_not_found(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, store, None))
    assert (result.indication, result.sub_indication) == (Indication.INDETERMINATE, SubIndication.SIGNED_DATA_NOT_FOUND)


# --- revocation modes and sources -------------------------------------------------------


def _without_crls(trust: Path) -> TrustStore:
    for path in (trust / "crl").iterdir():
        path.unlink()
    return load_trust_store(trust)


def test_unknown_revocation_status_is_try_later_under_require(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, _without_crls(trust_copy), document))
    assert (result.indication, result.sub_indication) == (Indication.INDETERMINATE, SubIndication.TRY_LATER)


def test_unknown_revocation_status_passes_with_a_warning_under_soft(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, _without_crls(trust_copy), document, RevocationMode.SOFT))
    assert result.indication is Indication.TOTAL_PASSED
    assert any(c.warning and c.name == "chain.revocation" for c in result.checks)


def test_revocation_off_skips_the_check(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, _without_crls(trust_copy), document, RevocationMode.OFF))
    assert result.indication is Indication.TOTAL_PASSED


def test_crl_past_its_next_update_does_not_decide(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    after_next_update = datetime.now(UTC) + timedelta(days=45)
    result = _only(verify(sig, store, document, at=after_next_update))
    assert result.sub_indication is SubIndication.TRY_LATER
    assert "expired" in _check(result, "chain.revocation")[0].detail


def test_crl_embedded_as_revocation_values_counts(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    """CAdES-XL: the CA's and root's CRLs travel inside the signature (unsigned attribute)."""
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    signed = cms.ContentInfo.load(sig.read_bytes())
    values = RevocationValues(
        {"crl_vals": [asn1_crl.CertificateList.load(pki.crl(n).read_bytes()) for n in ("ca", "root")]}
    )
    signed["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": "1.2.840.113549.1.9.16.2.24", "values": [values]})]
    )
    sig.write_bytes(signed.dump())
    result = _only(verify(sig, _without_crls(trust_copy), document))
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()


def test_forged_crl_is_not_believed(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    """A CRL whose signature does not verify cannot make a certificate 'good'."""
    store = _without_crls(trust_copy)
    forged = bytearray(pki.crl("ca").read_bytes())
    forged[-5] ^= 0xFF
    (trust_copy / "crl" / "ca.crl").write_bytes(bytes(forged))
    (trust_copy / "crl" / "root.crl").write_bytes(pki.crl("root").read_bytes())
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, load_trust_store(trust_copy), document))
    assert result.sub_indication is SubIndication.TRY_LATER
    assert "does not verify" in " ".join(c.detail for c in result.checks)
    del store


# --- accredited-CA list ----------------------------------------------------------------


def _tsl(ca_pem: bytes, periods: str) -> str:
    der = base64.b64encode(_pem_body(ca_pem)).decode()
    return f"""<?xml version="1.0" encoding="utf-8"?>
<АккредитованныеУдостоверяющиеЦентры>
  <Версия>1</Версия><Дата>2026-11-01T00:00:00Z</Дата>
  <УдостоверяющийЦентр>
    <Название>Тестовый аккредитованный УЦ</Название><ОГРН>1027700000008</ОГРН><ИНН>7700000009</ИНН>
    <СтатусАккредитации><Статус>Действует</Статус></СтатусАккредитации>
    <ИсторияСтатусовАккредитации>{periods}</ИсторияСтатусовАккредитации>
    <ПрограммноАппаратныеКомплексы><ПрограммноАппаратныйКомплекс><КлючиУполномоченныхЛиц><Ключ>
      <Сертификаты><ДанныеСертификата><Данные>{der}</Данные></ДанныеСертификата></Сертификаты>
    </Ключ></КлючиУполномоченныхЛиц></ПрограммноАппаратныйКомплекс></ПрограммноАппаратныеКомплексы>
  </УдостоверяющийЦентр>
</АккредитованныеУдостоверяющиеЦентры>
"""


def _pem_body(pem_bytes: bytes) -> bytes:
    from asn1crypto import pem

    return pem.unarmor(pem_bytes)[2]


def test_issuing_ca_accredited_in_tsl_keeps_signature_qualified(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    period = "<СтатусАккредитацииУЦ><Статус>Действует</Статус><ДействуетС>2020-01-01T00:00:00Z</ДействуетС></СтатусАккредитацииУЦ>"
    (trust_copy / "tsl.xml").write_text(_tsl(pki.cert("ca").read_bytes(), period), encoding="utf-8")
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, load_trust_store(trust_copy), document))
    assert result.qualified is True
    assert _check(result, "qualified.accreditation")[0].passed


def test_ca_whose_accreditation_ended_gives_no_qualified_signature(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    period = (
        "<СтатусАккредитацииУЦ><Статус>Действует</Статус><ДействуетС>2020-01-01T00:00:00Z</ДействуетС>"
        "<ДействуетДо>2021-01-01T00:00:00Z</ДействуетДо></СтатусАккредитацииУЦ>"
        "<СтатусАккредитацииУЦ><Статус>Прекращена</Статус><ДействуетС>2021-01-01T00:00:00Z</ДействуетС></СтатусАккредитацииУЦ>"
    )
    (trust_copy / "tsl.xml").write_text(_tsl(pki.cert("ca").read_bytes(), period), encoding="utf-8")
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, load_trust_store(trust_copy), document))
    assert result.indication is Indication.TOTAL_PASSED
    assert result.qualified is False
    assert "not accredited" in _check(result, "qualified.accreditation")[0].detail


def test_ca_missing_from_tsl_gives_no_qualified_signature(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    period = "<СтатусАккредитацииУЦ><Статус>Действует</Статус></СтатусАккредитацииУЦ>"
    (trust_copy / "tsl.xml").write_text(_tsl(pki.cert("rsa_ca").read_bytes(), period), encoding="utf-8")
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = _only(verify(sig, load_trust_store(trust_copy), document))
    assert result.qualified is False


def test_attached_signature_given_with_another_document_is_a_hash_failure(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.p7s", attached=True)
    other = tmp_path / "other.pdf"
    other.write_bytes(b"%PDF-1.4 another document")
    report = verify(sig, store, other)
    result = _only(report)
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    assert not _check(result, "content.matches_document")[0].passed
    # The signature itself is intact over its own content.
    assert _check(result, "signature.value")[0].passed
