"""Self-check of the run-time test PKI (real openssl + GOST engine, no mocks)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from tests.pki.builder import (
    HEAD_INN,
    HEAD_SNILS,
    KPK_INNLE,
    KPK_OGRN,
    OpenSSLError,
    TestPki,
    build_test_pki,
)

CONTENT = "Заявление о вступлении в СРО\n".encode()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return build_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("content") / "doc.txt"
    path.write_bytes(CONTENT)
    return path


def text(pki: TestPki, label: str) -> str:
    return pki.openssl("x509", "-in", str(pki.cert(label)), "-noout", "-text",
                       "-nameopt", "oneline,-esc_msb").decode("utf-8")


def asn1(pki: TestPki, label: str) -> str:
    return pki.openssl("asn1parse", "-in", str(pki.cert(label))).decode("utf-8")


def verify_cms(pki: TestPki, sig: Path, content: Path | None, inform: str = "DER") -> bytes:
    args = ["cms", "-verify", "-binary", "-inform", inform, "-in", str(sig),
            "-CAfile", str(pki.ca_bundle), "-purpose", "any"]
    if content is not None:
        args += ["-content", str(content)]
    return pki.openssl(*args)


def signer_count(pki: TestPki, sig: Path) -> int:
    out = pki.openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", str(sig)).decode()
    return len(re.findall(r"d\.issuerAndSerialNumber:", out))


# -- certificates -----------------------------------------------------------


@pytest.mark.parametrize("label", ["head256", "head512", "accountant256", "foreign256",
                                   "revoked256", "nonqualified256", "nosignku256"])
def test_chain_verifies(pki: TestPki, label: str) -> None:
    out = pki.openssl("verify", "-CAfile", str(pki.cert("root")), "-untrusted",
                      str(pki.cert("ca")), str(pki.cert(label)))
    assert out.strip().endswith(b"OK")


def test_rsa_and_ecdsa_chains_verify(pki: TestPki) -> None:
    for label in ("rsa_signer", "ecdsa_signer"):
        pki.openssl("verify", "-CAfile", str(pki.cert("rsa_root")), "-untrusted",
                    str(pki.cert("rsa_ca")), str(pki.cert(label)))


def test_untrusted_chain_fails_against_trust_store(pki: TestPki) -> None:
    pki.openssl("verify", "-CAfile", str(pki.cert("untrusted_root")), str(pki.cert("untrusted256")))
    with pytest.raises(OpenSSLError):
        pki.openssl("verify", "-CAfile", str(pki.ca_bundle), str(pki.cert("untrusted256")))


def test_head512_has_512_bit_gost_key(pki: TestPki) -> None:
    assert "GOST R 34.10-2012 with 512 bit modulus" in text(pki, "head512")
    assert "GOST R 34.10-2012 with 256 bit modulus" in text(pki, "head256")
    der = pki.openssl("x509", "-in", str(pki.cert("head512")), "-outform", "DER")
    # OID 1.2.643.7.1.1.1.2 (GOST R 34.10-2012 512-bit public key)
    assert bytes.fromhex("06082a85030701010102") in der
    # but the certificate itself is signed by the 256-bit CA
    assert bytes.fromhex("06082a85030701010302") in der


def test_head256_subject_and_profile(pki: TestPki) -> None:
    t = text(pki, "head256")
    dump = asn1(pki, "head256")
    for value in (KPK_OGRN, KPK_INNLE, HEAD_INN, HEAD_SNILS):
        assert re.search(rf"NUMERICSTRING\s+:{value}\b", dump), value
    assert "OGRN" in dump and "1.2.643.100.4" in dump and ":INN" in dump and ":SNILS" in dump
    assert "UTF8STRING        :Иванов" in dump
    assert "UTF8STRING        :Иван Петрович" in dump
    assert 'КПК "Тест"' in dump
    assert "Signing Tool of Subject" in t  # 1.2.643.100.111
    assert 'СКЗИ "КриптоПро CSP" (версия 5.0)' in t
    assert "Signing Tool of Issuer" in t  # 1.2.643.100.112
    assert "Class of Signing Tool KC1" in t  # 1.2.643.100.113.1
    assert "Class of Signing Tool KC2" in t  # 1.2.643.100.113.2
    assert re.search(r"Key Usage: critical\s+Digital Signature, Non Repudiation", t)
    assert "CA:FALSE" in t


def test_nonqualified_lacks_profile_extensions(pki: TestPki) -> None:
    t = text(pki, "nonqualified256")
    assert "Signing Tool of Subject" not in t
    assert "Signing Tool of Issuer" not in t
    assert "Class of Signing Tool" not in t
    assert "Digital Signature" in t


def test_nosignku_key_usage(pki: TestPki) -> None:
    t = text(pki, "nosignku256")
    assert re.search(r"Key Usage: critical\s+Key Encipherment, Data Encipherment\n", t)


def test_validity_periods(pki: TestPki) -> None:
    expired = pki.openssl("x509", "-in", str(pki.cert("expired256")), "-noout", "-enddate").decode()
    assert "2021" in expired
    with pytest.raises(OpenSSLError):  # not yet valid
        pki.openssl("verify", "-CAfile", str(pki.ca_bundle), str(pki.cert("notyet256")))
    with pytest.raises(OpenSSLError):  # expired
        pki.openssl("verify", "-CAfile", str(pki.ca_bundle), str(pki.cert("expired256")))


def test_serials_distinct(pki: TestPki) -> None:
    labels = ["root", "ca", "head256", "head512", "accountant256", "foreign256", "expired256",
              "notyet256", "revoked256", "nonqualified256", "nosignku256", "untrusted_root",
              "untrusted256", "rsa_root", "rsa_ca", "rsa_signer", "ecdsa_signer"]
    serials = {pki.openssl("x509", "-in", str(pki.cert(label)), "-noout", "-serial") for label in labels}
    assert len(serials) == len(labels)


def test_trust_store_layout(pki: TestPki) -> None:
    roots = {p.name for p in (pki.trust_dir / "roots").iterdir()}
    assert roots == {"root.pem", "rsa_root.pem"}
    assert {p.name for p in (pki.trust_dir / "ca").iterdir()} == {"ca.pem", "rsa_ca.pem"}
    assert {p.name for p in (pki.trust_dir / "crl").iterdir()} == {
        "root.crl", "ca.crl", "rsa_root.crl", "rsa_ca.crl"}


# -- CRLs -----------------------------------------------------------------------


def test_ca_crl_lists_revoked256(pki: TestPki) -> None:
    crl = pki.trust_dir / "crl" / "ca.crl"
    out = pki.openssl("crl", "-inform", "DER", "-in", str(crl), "-noout", "-text",
                      "-CAfile", str(pki.cert("ca"))).decode()
    serial = pki.openssl("x509", "-in", str(pki.cert("revoked256")), "-noout", "-serial")
    serial_hex = serial.decode().strip().split("=")[1]
    assert f"Serial Number: {serial_hex}" in out
    assert f"{pki.serial('revoked256'):X}" == serial_hex.lstrip("0")
    assert "Key Compromise" in out
    assert out.count("Serial Number:") == 1
    with pytest.raises(OpenSSLError):
        pki.openssl("verify", "-crl_check", "-CRLfile", str(crl), "-CAfile",
                    str(pki.cert("root")), "-untrusted", str(pki.cert("ca")),
                    str(pki.cert("revoked256")))
    pki.openssl("verify", "-crl_check", "-CRLfile", str(crl), "-CAfile",
                str(pki.cert("root")), "-untrusted", str(pki.cert("ca")),
                str(pki.cert("head256")))


@pytest.mark.parametrize("issuer", ["root", "rsa_root", "rsa_ca"])
def test_other_crls_empty_and_signed(pki: TestPki, issuer: str) -> None:
    out = pki.openssl("crl", "-inform", "DER", "-in", str(pki.crl(issuer)), "-noout", "-text",
                      "-CAfile", str(pki.cert(issuer))).decode()
    assert "No Revoked Certificates" in out


# -- CMS signatures -------------------------------------------------------------


@pytest.mark.parametrize("label", ["head256", "head512", "rsa_signer", "ecdsa_signer"])
def test_detached_der_signature_verifies(pki: TestPki, content: Path, tmp_path: Path,
                                         label: str) -> None:
    sig = pki.sign(label, content, tmp_path / "doc.txt.sig")
    assert sig.read_bytes()[:1] == b"\x30"
    verify_cms(pki, sig, content)
    printed = pki.openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", str(sig)).decode()
    assert "eContent: <ABSENT>" in printed
    assert "signingCertificateV2" in printed
    if label == "head512":
        assert "1.2.643.7.1.1.2.3" in printed  # Streebog-512
    if label == "head256":
        assert "1.2.643.7.1.1.2.2" in printed  # Streebog-256
    tampered = tmp_path / "tampered.txt"
    tampered.write_bytes(CONTENT + b"x")
    with pytest.raises(OpenSSLError):
        verify_cms(pki, sig, tampered)


def test_attached_pem_signature_verifies(pki: TestPki, content: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", content, tmp_path / "doc.p7s", attached=True, encoding="pem")
    assert sig.read_bytes().startswith(b"-----BEGIN CMS-----")
    assert verify_cms(pki, sig, None, inform="PEM") == CONTENT


def test_base64_signature_is_decodable(pki: TestPki, content: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", content, tmp_path / "doc.sig", encoding="base64")
    raw = sig.read_bytes()
    assert not raw.startswith(b"-----")
    assert all(len(line) <= 64 for line in raw.splitlines())
    der = base64.b64decode(raw)
    der_path = tmp_path / "doc.der"
    der_path.write_bytes(der)
    verify_cms(pki, der_path, content)


def test_noattr_and_nocerts(pki: TestPki, content: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", content, tmp_path / "a.sig", signed_attributes=False,
                   include_certificate=False)
    printed = pki.openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", str(sig)).decode()
    assert "signedAttrs:\n          <ABSENT>" in printed
    assert "certificates:\n      <ABSENT>" in printed
    pki.openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", str(sig), "-content",
                str(content), "-CAfile", str(pki.ca_bundle), "-purpose", "any",
                "-certfile", str(pki.cert("head256")))


def test_cosign_adds_second_signer(pki: TestPki, content: Path, tmp_path: Path) -> None:
    first = pki.sign("head256", content, tmp_path / "first.sig")
    assert signer_count(pki, first) == 1
    both = pki.cosign(first, "accountant256", content, tmp_path / "both.sig")
    assert signer_count(pki, both) == 2
    verify_cms(pki, both, content)
    printed = pki.openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", str(both)).decode()
    assert "eContent: <ABSENT>" in printed


def test_numeric_string_types_with_asn1crypto(pki: TestPki) -> None:
    x509 = pytest.importorskip("asn1crypto.x509")
    pem = pytest.importorskip("asn1crypto.pem")
    _, _, der = pem.unarmor(pki.cert("head256").read_bytes())
    cert = x509.Certificate.load(der)
    values: dict[str, tuple[int, str]] = {}
    for rdn in cert.subject.chosen:
        for atv in rdn:
            encoded = atv["value"].dump()
            values[atv["type"].dotted] = (encoded[0], atv["value"].native)
    for oid, expected in (("1.2.643.100.1", KPK_OGRN), ("1.2.643.100.4", KPK_INNLE),
                          ("1.2.643.3.131.1.1", HEAD_INN), ("1.2.643.100.3", HEAD_SNILS)):
        assert values[oid] == (0x12, expected), oid  # 0x12 = NumericString
    assert values["2.5.4.3"] == (0x0C, 'КПК "Тест"')  # 0x0C = UTF8String
    assert values["2.5.4.42"] == (0x0C, "Иван Петрович")
    assert cert.subject.native["surname"] == "Иванов"
    exts = {e["extn_id"].dotted for e in cert["tbs_certificate"]["extensions"]}
    assert {"1.2.643.100.111", "1.2.643.100.112", "2.5.29.32"} <= exts
