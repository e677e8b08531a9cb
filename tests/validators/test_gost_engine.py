"""The GOST glue keeps "invalid" and "the engine could not decide" apart, and refuses to
start with an engine that says "valid" to a wrong signature (issue 13, section 2)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import verify
from tests.pki.builder import TestPki
from validators import gost
from validators.signatures.model import Indication, SubIndication
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore


@pytest.fixture(scope="module")
def digest() -> bytes:
    assert gost.gost_support().available
    return hashlib.new("md_gost12_256", gost._KAT_CONTENT).digest()


def test_known_answer_test_passes_with_the_real_engine(digest: bytes) -> None:
    assert gost.known_answer_problem(lambda d, s: gost.verify_gost_signature(gost._KAT_SPKI, d, s), digest) is None


def test_known_answer_test_refuses_an_engine_that_accepts_everything(digest: bytes) -> None:
    problem = gost.known_answer_problem(lambda d, s: True, digest)
    assert problem is not None and "bit flipped" in problem


def test_known_answer_test_refuses_an_engine_that_accepts_nothing(digest: bytes) -> None:
    assert gost.known_answer_problem(lambda d, s: False, digest) is not None


def test_known_answer_test_refuses_an_engine_that_errs_on_the_wrong_signature(digest: bytes) -> None:
    """"Could not decide" is not "invalid": the negative half must be a real rejection."""
    assert gost.known_answer_problem(lambda d, s: True if s == gost._KAT_SIGNATURE else None, digest) is not None


def test_flipped_bit_does_not_verify(digest: bytes) -> None:
    flipped = bytes([gost._KAT_SIGNATURE[5] ^ 0x10]) + gost._KAT_SIGNATURE[1:]
    assert gost.verify_gost_signature(gost._KAT_SPKI, digest, flipped) is False


def test_signature_with_bytes_appended_does_not_verify(digest: bytes) -> None:
    """The engine itself ignores trailing bytes; the glue insists on the exact length."""
    assert gost.verify_gost_signature(gost._KAT_SPKI, digest, gost._KAT_SIGNATURE + b"\x00") is False


def test_key_the_engine_cannot_read_is_an_engine_error_not_invalid(digest: bytes) -> None:
    with pytest.raises(gost.GostEngineError):
        gost.verify_gost_signature(gost._KAT_SPKI[:-20], digest, gost._KAT_SIGNATURE)


def test_digest_of_a_length_gost_has_not_is_an_engine_error_not_a_crash(digest: bytes) -> None:
    """The engine aborts the process on such a digest; the glue never hands it one."""
    with pytest.raises(gost.GostEngineError):
        gost.verify_gost_signature(gost._KAT_SPKI, digest[:20], gost._KAT_SIGNATURE)


def test_engine_error_on_the_signer_key_is_indeterminate_not_a_crypto_failure(
    digest: bytes, pki: TestPki, store: TrustStore, document: Path, tmp_path: Path
) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig", signed_attributes=False)
    # The key is BIT STRING { OCTET STRING (64 bytes) }: retag the OCTET STRING as a
    # SEQUENCE (same length, so the CMS stays well formed): the engine cannot read the key.
    key = b"\x03\x43\x00\x04\x40"
    der = sig.read_bytes()
    assert der.count(key) == 1
    sig.write_bytes(der.replace(key, b"\x03\x43\x00\x30\x40"))
    [result] = verify(sig, store, document).signatures
    [value] = [c for c in result.checks if c.name == "signature.value"]
    assert not value.passed and "engine error" in value.detail
    assert result.sub_indication is not SubIndication.SIG_CRYPTO_FAILURE
    assert result.indication is Indication.INDETERMINATE


def test_weak_digest_sunset_is_a_policy_value(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("rsa_signer", document, tmp_path / "doc.sig", digest="sha1")
    [strict] = verify(sig, store, document).signatures
    assert strict.sub_indication is SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
    later = datetime(2100, 1, 1, tzinfo=UTC)
    [lenient] = verify(sig, store, document, weak_digest_sunset=later).signatures
    assert lenient.indication is Indication.TOTAL_PASSED, lenient.failed_checks()


def test_gost_2001_sunset_default_is_2020() -> None:
    assert VerificationPolicy().gost2001_sunset == datetime(2020, 1, 1, tzinfo=UTC)
