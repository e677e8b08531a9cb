"""Red team: signature time-stamps that must not prove a moment of signing.

* two tokens on one signature, one of them over other bytes: the bad one is not hidden
  by the good one (regression);
* a token of the trusted TSA whose genTime lies in the future (regression);
* a token whose messageImprint is a SHA-1 digest (retired since 2017 like every other
  SHA-1 binding: a chosen-prefix collision lets a token over one value stand for
  another), even though the token's own CMS uses a strong digest.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import algos, core, tsp

from tests.conftest import verify
from tests.pki.builder import TestPki
from tests.pki.tsa import TSA_POLICY, TsaPki
from validators.signatures.model import Indication, SubIndication
from validators.trust import TrustStore

NOW = datetime.now(UTC).replace(microsecond=0)


def token_with_imprint(tsa: TsaPki, stamped: bytes, gen_time: datetime, algorithm: str, tmp_path: Path) -> bytes:
    """A token of the trusted GOST TSA (``tsa256``) whose imprint uses ``algorithm``
    (hashlib name: sha1, sha256), signed with Streebog as the TSA signs everything."""
    oids = {"sha1": "1.3.14.3.2.26", "sha256": "2.16.840.1.101.3.4.2.1"}
    info = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": TSA_POLICY,
            "message_imprint": tsp.MessageImprint(
                {"hash_algorithm": algos.DigestAlgorithm({"algorithm": oids[algorithm]}), "hashed_message": hashlib.new(algorithm, stamped).digest()}
            ),
            "serial_number": int(gen_time.timestamp()) + 7,
            "gen_time": core.GeneralizedTime(gen_time),
        }
    )
    content = tmp_path / f"tstinfo-{algorithm}.der"
    content.write_bytes(info.dump())
    return tsa.pki.openssl(
        "cms", "-sign", "-binary", "-nodetach", "-in", str(content),
        "-signer", str(tsa.cert("tsa256")), "-inkey", str(tsa.key("tsa256")),
        "-md", "md_gost12_256", "-cades", "-nosmimecap", "-econtent_type", "1.2.840.113549.1.9.16.1.4", "-outform", "DER",
    )


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag position, content start, content end) of the DER element at ``at``."""
    length = data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return at, start, start + length


def _header(tag: int, length: int) -> bytes:
    if length < 0x80:
        return bytes([tag, length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets


def add_token_raw(signature: Path, token: bytes) -> None:
    """Append a signatureTimeStampToken to the only SignerInfo (which has no unsigned
    attributes yet) by splicing DER: nothing else is re-encoded."""
    data = signature.read_bytes()
    content_info = _tlv(data, 0)
    explicit = _tlv(data, _tlv(data, content_info[1])[2])
    signed_data = _tlv(data, explicit[1])
    child, signer_infos = signed_data[1], signed_data
    while child < signed_data[2]:
        signer_infos = _tlv(data, child)
        child = signer_infos[2]
    signer_info = _tlv(data, signer_infos[1])
    assert signer_info[2] == signer_infos[2], "one SignerInfo expected"
    oid = core.ObjectIdentifier("1.2.840.113549.1.9.16.2.14").dump()
    values = _header(0x31, len(token)) + token
    attribute = _header(0x30, len(oid) + len(values)) + oid + values
    insert = _header(0xA1, len(attribute)) + attribute
    body = data[signer_info[1] : signer_info[2]] + insert
    new = _header(data[signer_info[0]], len(body)) + body
    inner = signer_info
    for outer in (signer_infos, signed_data, explicit, content_info):
        body = data[outer[1] : inner[0]] + new + data[inner[2] : outer[2]]
        new = _header(data[outer[0]], len(body)) + body
        inner = outer
    signature.write_bytes(new)


def test_control_a_strong_imprint_proves_the_moment(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    moment = NOW - timedelta(minutes=10)
    add_token_raw(sig, token_with_imprint(tsa, tsa.signature_value(sig), moment, "sha256", tmp_path))
    [result] = verify(sig, store, document).signatures
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()
    assert result.validation_time == moment


def test_a_sha1_imprint_proves_nothing(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    add_token_raw(sig, token_with_imprint(tsa, tsa.signature_value(sig), NOW - timedelta(minutes=10), "sha1", tmp_path))
    [result] = verify(sig, store, document).signatures
    assert result.indication is not Indication.TOTAL_PASSED
    assert any(c.name == "timestamp.signature" and not c.passed and "SHA-1" in c.detail for c in result.checks)


def test_a_bad_token_beside_a_good_one_fails(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    value = tsa.signature_value(sig)
    tsa.add_timestamp(sig, tsa.token_by_openssl_ts("tsa256", value))
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa256", b"another signature value", NOW - timedelta(days=3)))
    [result] = verify(sig, store, document).signatures
    assert result.indication is Indication.TOTAL_FAILED
    assert any(c.name == "timestamp.signature" and not c.passed for c in result.checks)


def test_a_token_from_the_future_proves_nothing(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa256", tsa.signature_value(sig), NOW + timedelta(days=2)))
    [result] = verify(sig, store, document).signatures
    assert result.indication is not Indication.TOTAL_PASSED
    assert result.validation_time is not None and result.validation_time < NOW + timedelta(days=1)


def test_a_token_older_than_the_signer_certificate_proves_no_valid_signature(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """genTime before the signer certificate's notBefore (a TSA that signs whatever time it
    is told): the certificate is judged at that moment and was not yet valid."""
    from asn1crypto import x509

    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    cert = x509.Certificate.load(pki.openssl("x509", "-in", str(pki.cert("head256")), "-outform", "DER"))
    moment = cert["tbs_certificate"]["validity"]["not_before"].native - timedelta(days=1)
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa256", tsa.signature_value(sig), moment))
    [result] = verify(sig, store, document).signatures
    assert result.validation_time == moment
    assert result.sub_indication is SubIndication.NOT_YET_VALID, result.failed_checks()
