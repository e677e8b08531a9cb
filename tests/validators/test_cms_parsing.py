"""Reading signature files: encodings, and robustness against arbitrary bytes."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest
from asn1crypto import cms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pki.builder import TestPki
from validators.signatures.certificates import der_blocks
from validators.signatures.cms import CmsFormatError, parse_signed_data
from validators.signatures.model import Indication, RevocationMode
from validators.signatures.verify import VerificationPolicy, verify_cms
from validators.trust import TrustStore


def test_binary_der_ending_in_a_whitespace_octet_is_not_stripped() -> None:
    der = b"\x30\x03\x02\x01\x20"  # INTEGER 32: the last octet is an ASCII space
    assert der_blocks(der) == [der]
    assert der_blocks(der[:-1] + b"\x0a") == [der[:-1] + b"\x0a"]


def test_base64_with_line_breaks_is_decoded() -> None:
    assert der_blocks(b"MAMCASA=\r\n") == [b"\x30\x03\x02\x01\x20"]


def test_pem_armour_with_crlf_is_decoded() -> None:
    assert der_blocks(b"-----BEGIN CMS-----\r\nMAMCASA=\r\n-----END CMS-----\r\n") == [b"\x30\x03\x02\x01\x20"]


def test_certificate_instead_of_signature_is_a_format_error(pki: TestPki) -> None:
    try:
        parse_signed_data(pki.cert("head256").read_bytes())
    except CmsFormatError as exc:
        assert "ContentInfo" in str(exc) or "signedData" in str(exc)
    else:
        raise AssertionError("a certificate was accepted as a signature")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise_anything_but_a_format_error(data: bytes) -> None:
    with contextlib.suppress(CmsFormatError):
        parse_signed_data(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_mutated_signature_anywhere_gives_a_verdict_not_an_exception(
    store: TrustStore, signed_sample: _Sample, position: int, value: int
) -> None:
    der = bytearray(signed_sample.der)
    der[position % len(der)] = value
    report = verify_cms(bytes(der), store, VerificationPolicy(), document=signed_sample.document)
    assert report.indication in set(Indication)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_mutated_signed_bytes_never_pass(
    store: TrustStore, signed_sample: _Sample, position: int, value: int
) -> None:
    """Any change in the signed attributes, the signature value or the signer certificate
    is caught. (Unsigned fields such as SignedData.digestAlgorithms or a NULL algorithm
    parameter may change without effect, as in every CMS verifier.)"""
    start, end = signed_sample.covered[position % len(signed_sample.covered)]
    index = start + (position // len(signed_sample.covered)) % (end - start)
    der = bytearray(signed_sample.der)
    if der[index] == value:
        return
    der[index] = value
    report = verify_cms(bytes(der), store, VerificationPolicy(), document=signed_sample.document)
    assert not (report.signatures and report.indication is Indication.TOTAL_PASSED), index


class _Sample:
    def __init__(self, document: Path, der: bytes) -> None:
        self.document = document
        self.der = der
        info = cms.ContentInfo.load(der)["content"]
        signer = info["signer_infos"][0]
        # Regions: the signed attributes' content, the signature value, the certificate.
        self.covered = [
            _region(der, bytes(signer["signed_attrs"].contents)),
            _region(der, signer["signature"].native),
            _region(der, info["certificates"][0].chosen["tbs_certificate"].dump()),
        ]


def _region(der: bytes, part: bytes) -> tuple[int, int]:
    start = der.index(part)
    return start, start + len(part)


@pytest.fixture(scope="module")
def signed_sample(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> _Sample:
    folder = tmp_path_factory.mktemp("mut")
    document = folder / "d.txt"
    document.write_bytes(b"content")
    return _Sample(document, pki.sign("head256", document, folder / "d.sig").read_bytes())


# --- parse once (issue 13 §4): the per-thread cache of parsed signatures ------------------


def test_the_same_signature_bytes_are_parsed_once_per_thread(pki: TestPki, tmp_path: Path) -> None:
    from validators.signatures.cms import parse_signed_data

    document = tmp_path / "letter.txt"
    document.write_bytes("Письмо".encode() * 100)
    data = pki.sign("head256", document, tmp_path / "letter.txt.sig").read_bytes()
    first = parse_signed_data(data)
    assert parse_signed_data(bytes(data)) is first  # equal bytes, another object: still one parse
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(parse_signed_data(data)))
    thread.start()
    thread.join(10)
    assert other and other[0] is not first  # asn1crypto objects are never shared between threads


def test_a_changed_byte_is_never_answered_from_the_parse_cache(pki: TestPki, tmp_path: Path, store: TrustStore) -> None:
    from validators.signatures.cms import parse_signed_data
    from validators.signatures.verify import VerificationPolicy, verify_cms

    document = tmp_path / "letter.txt"
    document.write_bytes("Письмо".encode() * 100)
    data = pki.sign("head256", document, tmp_path / "letter.txt.sig").read_bytes()
    parse_signed_data(data)
    tampered = bytearray(data)
    tampered[-5] ^= 0x01  # inside the signature value, same length
    report = verify_cms(bytes(tampered), store, VerificationPolicy(revocation=RevocationMode.OFF), document=document)
    assert report.signatures and report.signatures[0].indication != "TOTAL_PASSED"
    assert verify_cms(data, store, VerificationPolicy(revocation=RevocationMode.OFF), document=document).signatures[0].indication == "TOTAL_PASSED"
