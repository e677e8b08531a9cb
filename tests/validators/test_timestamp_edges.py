"""Edges of the signature time-stamp rules (RFC 3161; ``validators/signatures/timestamps.py``)
that a one-line change slipped past: a TSA certificate allowed other purposes besides
time-stamping, a token with two signers, and two valid tokens (the earliest genTime is the
proven moment)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import verify
from tests.pki.builder import TestPki
from tests.pki.tsa import TsaPki
from validators.signatures.model import Indication, SignatureReport
from validators.trust import TrustStore


def _stamp_check(result: SignatureReport):  # type: ignore[no-untyped-def]
    [check] = [c for c in result.checks if c.name == "timestamp.signature"]
    return check


def test_a_tsa_certificate_for_time_stamping_and_another_purpose_is_no_tsa(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """RFC 3161, 2.3: the TSA's extendedKeyUsage is id-kp-timeStamping ONLY."""
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa_two_purposes", tsa.signature_value(sig), datetime.now(UTC) - timedelta(minutes=1)))
    [result] = verify(sig, store, document).signatures
    check = _stamp_check(result)
    assert not check.passed and "not id-kp-timeStamping alone" in check.detail
    assert result.indication is not Indication.TOTAL_PASSED


def test_a_token_with_two_signers_is_malformed(pki: TestPki, tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """A time-stamp token is signed by its TSA alone (RFC 3161, 2.4.2): a second
    SignerInfo is not the TSA's word, whoever it is."""
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    token = tmp_path / "token.der"
    token.write_bytes(tsa.token_by_cms("tsa256", tsa.signature_value(sig), datetime.now(UTC) - timedelta(minutes=1)))
    cosigned = pki.openssl(
        "cms", "-resign", "-binary", "-inform", "DER", "-in", str(token), "-signer", str(pki.cert("head256")),
        "-inkey", str(pki.key("head256")), "-md", "md_gost12_256", "-cades", "-nosmimecap", "-outform", "DER",
    )
    tsa.add_timestamp(sig, cosigned)
    [result] = verify(sig, store, document).signatures
    check = _stamp_check(result)
    assert not check.passed and "2 signers, not one" in check.detail


def test_of_two_valid_tokens_the_earlier_proves_the_moment(tsa: TsaPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """Signed with a certificate that expired 10 days ago; a token of a month ago proves
    it was valid then, whatever a later token (from after the expiry) says."""
    month_ago = tsa.now - timedelta(days=30)
    sig = tsa.sign("lapsed256", document, tmp_path / "doc.sig")
    tsa.add_revocation_values(sig, [tsa.crl("ca", month_ago - timedelta(hours=1), month_ago + timedelta(days=7))])
    value = tsa.signature_value(sig)
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa256", value, tsa.now - timedelta(days=5)))
    tsa.add_timestamp(sig, tsa.token_by_cms("tsa256", value, month_ago))
    [result] = verify(sig, store, document).signatures
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()
    assert result.validation_time == month_ago
