"""Edges of the revocation rules (SPEC 3; RFC 5280 5.2, 6.3; RFC 6960), each one a
one-line change of ``validators/signatures/revocation.py`` or ``verify.py`` that no other
test noticed: the exact moment of revocation, a CRL issued after expiry, a delta CRL, a
CRL only for end-entity certificates, an OCSP answer "unknown", an old OCSP answer without
nextUpdate, a delegated responder without id-kp-OCSPSigning, and a signer that is itself
a trust anchor.

The trust store holds no CRL of the issuing CA (and, where said, of the root), so the only
revocation data is what the signature carries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import verify
from tests.pki.builder import TestPki
from tests.pki.evidence import embed_revocation_values, ocsp_answer
from tests.pki.redteam import make_crl_with_extensions, make_delegated_ocsp_response
from tests.pki.revocation import make_crl
from validators.signatures.model import Indication, SubIndication
from validators.trust import TrustStore, load_trust_store

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def without_ca_crl(trust_copy: Path) -> TrustStore:
    """The test trust store with the root's CRL but no CRL of the issuing CA."""
    (trust_copy / "crl" / "ca.crl").unlink()
    return load_trust_store(trust_copy)


@pytest.fixture
def without_any_crl(trust_copy: Path) -> TrustStore:
    """The test trust store without any CRL: neither the CA's nor the root's."""
    for crl in (trust_copy / "crl").iterdir():
        crl.unlink()
    return load_trust_store(trust_copy)


def _signed(pki: TestPki, label: str, document: Path, tmp_path: Path) -> Path:
    return pki.sign(label, document, tmp_path / f"{label}.sig")


def test_a_certificate_revoked_exactly_at_the_time_of_judgment_is_revoked(pki: TestPki, without_ca_crl: TrustStore, document: Path, tmp_path: Path) -> None:
    """Revoked "at or before" the time of judgment is REVOKED, not "after it, unproven"."""
    moment = NOW - timedelta(days=2)
    crl = make_crl(pki, "ca", tmp_path / "ca.crl", revoked=[("revoked256", moment)]).read_bytes()
    sig = embed_revocation_values(_signed(pki, "revoked256", document, tmp_path), crls=[crl])
    at_the_moment = verify(sig, without_ca_crl, document, at=moment).signatures[0]
    assert (at_the_moment.indication, at_the_moment.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    a_second_before = verify(sig, without_ca_crl, document, at=moment - timedelta(seconds=1)).signatures[0]
    assert a_second_before.sub_indication is SubIndication.REVOKED_NO_POE


def test_a_crl_issued_after_the_certificate_expired_cannot_say_it_is_good(pki: TestPki, without_ca_crl: TrustStore, document: Path, tmp_path: Path) -> None:
    """A CA drops expired certificates from its CRLs: today's CRL is silent about a
    certificate that expired in 2021, which proves nothing about it (RFC 5280, 3.3)."""
    today = make_crl(pki, "ca", tmp_path / "ca.crl").read_bytes()
    sig = embed_revocation_values(_signed(pki, "expired256", document, tmp_path), crls=[today])
    result = verify(sig, without_ca_crl, document, at=datetime(2020, 6, 1, tzinfo=UTC)).signatures[0]
    signer_revocation = next(c for c in result.checks if c.name == "chain.revocation")
    assert not signer_revocation.passed and "issued after the certificate expired" in signer_revocation.detail


def test_a_delta_crl_alone_says_nothing(pki: TestPki, without_ca_crl: TrustStore, document: Path, tmp_path: Path) -> None:
    """A delta CRL lists only the changes since its base CRL: without the base, its
    silence about a certificate is no "good" (RFC 5280, 5.2.4)."""
    delta = make_crl_with_extensions(pki, "ca", tmp_path / "delta.crl", "2.5.29.27 = critical, ASN1:INTEGER:1\n").read_bytes()
    sig = embed_revocation_values(_signed(pki, "revoked256", document, tmp_path), crls=[delta])
    result = verify(sig, without_ca_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def test_a_root_crl_only_for_end_entity_certificates_says_nothing_about_the_ca(pki: TestPki, without_any_crl: TrustStore, document: Path, tmp_path: Path) -> None:
    """IssuingDistributionPoint onlyContainsUserCerts: the CA certificate is out of its
    scope, so the CA's status stays unknown."""
    ca_crl = make_crl(pki, "ca", tmp_path / "ca.crl").read_bytes()
    users_only = make_crl_with_extensions(pki, "root", tmp_path / "root.crl", "issuingDistributionPoint = critical, @idp\n[idp]\nonlyuser = TRUE\n").read_bytes()
    full_root = make_crl(pki, "root", tmp_path / "root-full.crl").read_bytes()
    control = embed_revocation_values(_signed(pki, "head256", document, tmp_path), crls=[ca_crl, full_root])
    assert verify(control, without_any_crl, document).signatures[0].indication is Indication.TOTAL_PASSED
    sig = embed_revocation_values(_signed(pki, "head256", document, tmp_path), crls=[ca_crl, users_only])
    result = verify(sig, without_any_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def test_an_ocsp_answer_unknown_is_not_good(pki: TestPki, without_ca_crl: TrustStore, document: Path, tmp_path: Path) -> None:
    known = embed_revocation_values(_signed(pki, "head256", document, tmp_path), ocsp_responses=[ocsp_answer(pki, "head256", tmp_path / "known")])
    assert verify(known, without_ca_crl, document).signatures[0].indication is Indication.TOTAL_PASSED
    sig = embed_revocation_values(_signed(pki, "head256", document, tmp_path), ocsp_responses=[ocsp_answer(pki, "head256", tmp_path / "unknown", known=False)])
    result = verify(sig, without_ca_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def test_an_ocsp_answer_without_next_update_counts_for_an_hour_only(pki: TestPki, without_ca_crl: TrustStore, document: Path, tmp_path: Path) -> None:
    """No nextUpdate: the answer is current for OCSP_MAX_AGE (one hour) after thisUpdate."""
    sig = embed_revocation_values(_signed(pki, "head256", document, tmp_path), ocsp_responses=[ocsp_answer(pki, "head256", tmp_path / "ocsp", next_update=False)])
    fresh = verify(sig, without_ca_crl, document, at=NOW + timedelta(minutes=30)).signatures[0]
    assert fresh.indication is Indication.TOTAL_PASSED, fresh.failed_checks()
    three_hours_later = verify(sig, without_ca_crl, document, at=NOW + timedelta(hours=3)).signatures[0]
    assert three_hours_later.sub_indication is SubIndication.TRY_LATER, three_hours_later.failed_checks()


def test_a_delegated_responder_without_ocsp_signing_proves_nothing(pki: TestPki, without_ca_crl: TrustStore, document: Path, tmp_path: Path) -> None:
    """A certificate of the CA that may not sign OCSP answers (RFC 6960, 4.2.2.2) is no
    responder, whatever it signs."""
    validity = (NOW - timedelta(days=10), NOW + timedelta(days=10))
    response = make_delegated_ocsp_response(pki, "revoked256", tmp_path / "ocsp", responder_validity=validity, extended_key_usage="clientAuth")
    sig = embed_revocation_values(_signed(pki, "revoked256", document, tmp_path), ocsp_responses=[response])
    result = verify(sig, without_ca_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def test_a_trust_anchor_signing_itself_is_judged_not_qualified(pki: TestPki, store: TrustStore, document: Path, tmp_path: Path) -> None:
    """A path of one certificate (the signer is a trust anchor) has no issuing CA whose
    accreditation could be checked: a verdict, not a crash."""
    result = verify(_signed(pki, "root", document, tmp_path), store, document).signatures[0]
    accreditation = next(c for c in result.checks if c.name == "qualified.accreditation")
    assert not result.qualified and not accreditation.passed and "itself a trust anchor" in accreditation.detail
