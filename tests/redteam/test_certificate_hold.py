"""Red team: a certificate put on hold (certificateHold, RFC 5280 5.3.1) and the hold
lifted later.

A hold is a suspension: while it is in force the certificate signs nothing, so a hold at
or before the time of judgment fails like a revocation as long as nothing shows it was
lifted. A verified, current "good" from the CA issued after the newest hold listing and
not after the time of judgment shows the hold was lifted before that moment: the old
listing must not refuse a genuine package. A lift after the moment leaves the signature
made during the suspension: it still fails. A hold never hides a real revocation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import verify
from tests.pki.builder import TestPki
from tests.pki.ocsp_responders import crl_listing, embed_revocation_values
from validators.signatures.model import Indication, SubIndication
from validators.trust import TrustStore, load_trust_store

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def store_without_ca_crl(trust_copy: Path) -> TrustStore:
    (trust_copy / "crl" / "ca.crl").unlink()
    return load_trust_store(trust_copy)


def _signature_with_crls(pki: TestPki, document: Path, tmp_path: Path, *, held: str, later: str | None) -> Path:
    """head256's signature carrying the CA's CRL of four days ago that lists it on hold
    (``held``: certificateHold or keyCompromise) and, when ``later`` is given, the CA's
    CRL of an hour ago listing it for ``later`` reason or (``later="none"``) not at all."""
    serial = pki.info("head256")["serial"].upper()
    crls = [
        crl_listing(pki, tmp_path / "old.crl", [(serial, NOW - timedelta(days=5))], this_update=NOW - timedelta(days=4),
                    next_update=NOW - timedelta(days=1), reason=held, crl_number=3),
    ]
    if later is not None:
        listed = [] if later == "none" else [(serial, NOW - timedelta(days=5))]
        crls.append(crl_listing(pki, tmp_path / "new.crl", listed, this_update=NOW - timedelta(hours=1),
                                next_update=NOW + timedelta(days=7), reason=later if later != "none" else "keyCompromise", crl_number=4))
    return embed_revocation_values(pki.sign("head256", document, tmp_path / "doc.sig"), crls=crls)


def test_a_hold_lifted_before_the_moment_of_judgment_does_not_refuse(
    pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path
) -> None:
    sig = _signature_with_crls(pki, document, tmp_path, held="certificateHold", later="none")
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()


def test_a_hold_lifted_only_after_the_moment_of_judgment_still_fails(
    pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path
) -> None:
    """Received two days ago, during the suspension; lifted an hour ago."""
    sig = _signature_with_crls(pki, document, tmp_path, held="certificateHold", later="none")
    result = verify(sig, store_without_ca_crl, document, reference_time=NOW - timedelta(days=2)).signatures[0]
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


@pytest.mark.parametrize(
    ("held", "later"),
    [("certificateHold", None), ("certificateHold", "certificateHold"), ("keyCompromise", "none"), ("certificateHold", "keyCompromise")],
    ids=["hold-in-force", "hold-repeated-in-the-newest-crl", "revocation-is-never-lifted", "hold-turned-into-revocation"],
)
def test_a_hold_in_force_or_a_revocation_fails(
    pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path, held: str, later: str | None
) -> None:
    sig = _signature_with_crls(pki, document, tmp_path, held=held, later=later)
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_an_ocsp_hold_is_lifted_by_a_later_ocsp_good(pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path) -> None:
    """The same with OCSP answers of the CA: "revoked (certificateHold)" known four days
    ago, "good" known ten minutes ago. Without the later answer the hold fails."""
    from tests.pki.ocsp_responders import redated, respond

    held = redated(
        respond(pki, "head256", tmp_path / "held", revoked_at=NOW - timedelta(days=5), reason="certificateHold"), pki.key("ca"), tmp_path / "r1",
        produced_at=NOW - timedelta(days=4), this_update=NOW - timedelta(days=4), next_update=NOW - timedelta(days=3),
    )
    assert held["tbs_response_data"]["responses"][0]["cert_status"].chosen["revocation_reason"].native == "certificate_hold"
    good = redated(respond(pki, "head256", tmp_path / "good"), pki.key("ca"), tmp_path / "r2", this_update=NOW - timedelta(minutes=10))
    lifted = embed_revocation_values(pki.sign("head256", document, tmp_path / "lifted.sig"), [held, good])
    assert verify(lifted, store_without_ca_crl, document).signatures[0].indication is Indication.TOTAL_PASSED
    only_held = embed_revocation_values(pki.sign("head256", document, tmp_path / "held.sig"), [held])
    result = verify(only_held, store_without_ca_crl, document).signatures[0]
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
