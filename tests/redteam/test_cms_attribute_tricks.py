"""Red team (regressions): CMS signatures whose structure is bent while the signature value
still verifies (re-signed with the signer's real key), and certificates passed off in the
signature's certificate bag.

* signed attributes carrying two messageDigest values (one SET with two, or the attribute
  twice: one signature "covering" two documents), two contentTypes, or no messageDigest:
  FORMAT_FAILURE for either document;
* a GOST R 34.10-2012 512-bit key with a signature algorithm or digest of the 256-bit
  variant: never passes;
* a certificate in the bag made to look like the signer's (same issuer name and serial,
  the attacker's key), or a leaf under a fake intermediate that bears the real CA's name:
  no path to a trust anchor.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import cms, core

from tests.conftest import verify
from tests.pki.builder import TestPki
from tests.pki.cms_resign import attribute, resign_signed_attributes
from validators.digests import STREEBOG_256, FileDigests
from validators.signatures.model import Indication, SubIndication
from validators.trust import TrustStore

CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ID_DATA = "1.2.840.113549.1.7.1"


def _streebog(path: Path) -> bytes:
    return FileDigests(path).get((STREEBOG_256,))[STREEBOG_256]


@pytest.fixture
def other_document(tmp_path: Path) -> Path:
    other = tmp_path / "Другой_документ.pdf"
    other.write_bytes(b"%PDF-1.4\n% another document the signer never meant to sign\n")
    return other


def _edited(pki: TestPki, document: Path, tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    original = pki.sign("head256", document, tmp_path / "original.sig")
    return resign_signed_attributes(original, pki.key("head256"), edit, tmp_path / "edited.sig")


def test_control_re_signing_unchanged_attributes_passes(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = _edited(pki, document, tmp_path, lambda attrs: attrs)
    assert verify(sig, store, document).signatures[0].indication is Indication.TOTAL_PASSED


def _with_digests(attrs: list[cms.CMSAttribute], digests: list[bytes], *, twice: bool) -> list[cms.CMSAttribute]:
    rest = [a for a in attrs if a["type"].dotted != MESSAGE_DIGEST]
    if twice:
        return [*rest, *(attribute(MESSAGE_DIGEST, [core.OctetString(d)]) for d in digests)]
    return [*rest, attribute(MESSAGE_DIGEST, [core.OctetString(d) for d in digests])]


@pytest.mark.parametrize("twice", [False, True], ids=["one-set-of-two-values", "the-attribute-twice"])
def test_two_message_digests_cover_neither_document(
    pki: TestPki, store: TrustStore, document: Path, other_document: Path, tmp_path: Path, twice: bool
) -> None:
    digests = [_streebog(document), _streebog(other_document)]
    sig = _edited(pki, document, tmp_path, lambda attrs: _with_digests(attrs, digests, twice=twice))
    for signed in (document, other_document):
        result = verify(sig, store, signed).signatures[0]
        assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE), signed.name
        assert [c.name for c in result.failed_checks()] == ["cms.signed_attributes"]


@pytest.mark.parametrize(
    "edit",
    [
        lambda attrs: [*attrs, attribute(CONTENT_TYPE, [cms.ContentType(ID_DATA)])],
        lambda attrs: [attribute(CONTENT_TYPE, [cms.ContentType(ID_DATA), cms.ContentType("1.2.840.113549.1.9.16.1.4")]) if a["type"].dotted == CONTENT_TYPE else a for a in attrs],
        lambda attrs: [a for a in attrs if a["type"].dotted != MESSAGE_DIGEST],
        lambda attrs: [a for a in attrs if a["type"].dotted != CONTENT_TYPE],
    ],
    ids=["content-type-twice", "content-type-with-two-values", "no-message-digest", "no-content-type"],
)
def test_signed_attributes_without_exactly_one_content_type_and_digest_fail(
    pki: TestPki, store: TrustStore, document: Path, tmp_path: Path, edit  # type: ignore[no-untyped-def]
) -> None:
    result = verify(_edited(pki, document, tmp_path, edit), store, document).signatures[0]
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE)
    assert [c.name for c in result.failed_checks()] == ["cms.signed_attributes"]


@pytest.mark.parametrize(
    ("field", "oid"),
    [("signature_algorithm", "1.2.643.7.1.1.3.2"), ("signature_algorithm", "1.2.643.7.1.1.1.1"), ("digest_algorithm", "1.2.643.7.1.1.2.2")],
    ids=["signature-oid-of-256-with-streebog-256", "key-oid-of-256", "digest-streebog-256"],
)
def test_a_512_bit_key_with_256_bit_algorithm_identifiers_never_passes(
    pki: TestPki, store: TrustStore, document: Path, tmp_path: Path, field: str, oid: str
) -> None:
    sig = pki.sign("head512", document, tmp_path / "head512.sig")
    info = cms.ContentInfo.load(sig.read_bytes())
    info["content"]["signer_infos"][0][field] = {"algorithm": oid}
    sig.write_bytes(info.dump())
    result = verify(sig, store, document).signatures[0]
    assert result.indication is not Indication.TOTAL_PASSED
    assert result.sub_indication in (SubIndication.CRYPTO_CONSTRAINTS_FAILURE, SubIndication.SIG_CRYPTO_FAILURE), result.failed_checks()


def _attacker_certificate(pki: TestPki, tmp_path: Path, subject_of: str, issuer_cert: Path, issuer_key: Path, serial: int) -> Path:
    """A certificate with the subject of ``subject_of`` and the untrusted root's key as its
    own, signed by ``issuer_key`` under the name of ``issuer_cert``."""
    csr = tmp_path / f"{subject_of}.csr"
    pki.openssl("x509", "-x509toreq", "-in", str(pki.cert(subject_of)), "-signkey", str(pki.key("untrusted_root")), "-out", str(csr))
    out = tmp_path / f"{subject_of}-fake.pem"
    pki.openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(issuer_cert), "-CAkey", str(issuer_key), "-set_serial", str(serial),
        "-days", "30", "-copy_extensions", "copyall", "-out", str(out),
    )
    return out


def test_a_leaf_under_a_fake_intermediate_named_like_the_ca_has_no_path(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """The bag carries a self-signed 'Тестовый аккредитованный УЦ' (the attacker's key)
    and under it a certificate with the head's subject and the attacker's key."""
    fake_ca = tmp_path / "fake-ca.pem"
    pki.openssl("x509", "-in", str(pki.cert("ca")), "-signkey", str(pki.key("untrusted_root")), "-out", str(fake_ca))
    leaf = _attacker_certificate(pki, tmp_path, "head256", fake_ca, pki.key("untrusted_root"), pki.serial("head256"))
    sig = tmp_path / "forged.sig"
    pki.openssl(
        "cms", "-sign", "-binary", "-in", str(document), "-signer", str(leaf), "-inkey", str(pki.key("untrusted_root")),
        "-certfile", str(fake_ca), "-md", "md_gost12_256", "-cades", "-nosmimecap", "-outform", "DER", "-out", str(sig),
    )
    result = verify(sig, store, document).signatures[0]
    assert (result.indication, result.sub_indication) == (Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND), result.failed_checks()
    assert [c.name for c in result.failed_checks()] == ["chain.path"]  # the forgery itself is consistent


@pytest.mark.parametrize("cades", [True, False], ids=["with-signing-certificate-v2", "plain-cms"])
def test_a_subject_key_identifier_naming_another_certificate_in_the_bag_never_passes(
    pki: TestPki, store: TrustStore, document: Path, tmp_path: Path, cades: bool
) -> None:
    """The foreign organisation's key signs; the sid is the head's subjectKeyIdentifier and
    the head's certificate is in the bag: the certificate found is the head's, whose key
    did not sign (and, with CAdES, whose hash the signed attributes do not name)."""
    from asn1crypto import x509

    sig = tmp_path / "foreign.sig"
    pki.openssl(
        "cms", "-sign", "-binary", "-in", str(document), "-signer", str(pki.cert("foreign256")), "-inkey", str(pki.key("foreign256")),
        "-certfile", str(pki.cert("head256")), "-md", "md_gost12_256", *(["-cades", "-nosmimecap"] if cades else []),
        "-outform", "DER", "-out", str(sig),
    )
    head = x509.Certificate.load(pki.openssl("x509", "-in", str(pki.cert("head256")), "-outform", "DER"))
    info = cms.ContentInfo.load(sig.read_bytes())
    signer_info = info["content"]["signer_infos"][0]
    signer_info["version"] = "v3"
    signer_info["sid"] = cms.SignerIdentifier({"subject_key_identifier": head.key_identifier})
    sig.write_bytes(info.dump())
    result = verify(sig, store, document).signatures[0]
    assert result.signer is not None and result.signer.surname == "Иванов"  # the head's certificate was picked...
    assert result.indication is Indication.TOTAL_FAILED  # ...and its key did not sign
    assert result.sub_indication in (SubIndication.SIG_CRYPTO_FAILURE, SubIndication.NO_SIGNING_CERTIFICATE_FOUND)


SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
SIGNING_CERTIFICATE = "1.2.840.113549.1.9.16.2.12"


def _ess_naming(pki: TestPki, label: str, *, v1: bool = False) -> object:
    """An ESS signingCertificate(V2) value naming ``label``'s certificate by its hash."""
    import hashlib

    from asn1crypto import tsp

    der = pki.openssl("x509", "-in", str(pki.cert(label)), "-outform", "DER")
    if v1:
        return tsp.SigningCertificate({"certs": [{"cert_hash": hashlib.sha1(der).digest()}]})  # noqa: S324 - the v1 attribute is SHA-1 by definition
    streebog = pki.openssl("dgst", "-md_gost12_256", "-binary", input=der)
    return tsp.SigningCertificateV2({"certs": [{"hash_algorithm": {"algorithm": "1.2.643.7.1.1.2.2"}, "cert_hash": streebog}]})


@pytest.mark.parametrize("shape", ["attribute-twice", "two-values", "v1-beside-v2"])
def test_signing_certificate_attributes_naming_two_certificates_fail(
    pki: TestPki, store: TrustStore, document: Path, tmp_path: Path, shape: str
) -> None:
    """RFC 5035 allows one signingCertificateV2 attribute: the certificate the signer meant.
    With a second one naming another certificate (the foreign organisation's), which of
    them a reader believes decides whose signature it is."""
    foreign = _ess_naming(pki, "foreign256", v1=shape == "v1-beside-v2")

    def edit(attrs: list[cms.CMSAttribute]) -> list[cms.CMSAttribute]:
        if shape == "v1-beside-v2":
            return [*attrs, attribute(SIGNING_CERTIFICATE, [foreign])]
        [own] = [a for a in attrs if a["type"].dotted == SIGNING_CERTIFICATE_V2]
        if shape == "attribute-twice":
            return [*attrs, attribute(SIGNING_CERTIFICATE_V2, [foreign])]
        rest = [a for a in attrs if a["type"].dotted != SIGNING_CERTIFICATE_V2]
        return [*rest, attribute(SIGNING_CERTIFICATE_V2, [own["values"][0], foreign])]

    result = verify(_edited(pki, document, tmp_path, edit), store, document).signatures[0]
    assert result.indication is not Indication.TOTAL_PASSED
    assert [c.name for c in result.failed_checks()] == ["signer.certificate_reference"], result.failed_checks()


def test_control_a_v1_attribute_naming_the_signer_beside_v2_passes(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    own = _ess_naming(pki, "head256", v1=True)
    result = verify(_edited(pki, document, tmp_path, lambda attrs: [*attrs, attribute(SIGNING_CERTIFICATE, [own])]), store, document).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()
