"""Red team: OCSP answers that must prove nothing (RFC 6960), and those that must count.

The trust store here holds no CRL of the issuing CA and nothing is fetched online: the
only revocation data is what the signer embedded (CAdES revocationValues), as a hostile
member would choose it.

* A delegated responder (4.2.2.2) is trusted only when the CA issued it for OCSPSigning
  with a key usage allowing signatures and it was valid; without id-pkix-ocsp-nocheck its
  own revocation must be checked (4.2.2.2.1): a responder listed as revoked answers
  nothing, and one whose status nobody can tell cannot vouch "good" (its "revoked" still
  counts: any verified revocation wins). A nocheck responder is trusted for its lifetime.
* Freshness (3.2, 4.2.2.1): the status is the one known at thisUpdate; a fresh
  producedAt over an old thisUpdate without nextUpdate is a stale answer; a nextUpdate
  before thisUpdate, or a thisUpdate/producedAt in the future, is no answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import verify
from tests.pki.builder import TestPki
from tests.pki.ocsp_responders import (
    basic_response,
    crl_listing,
    embed_revocation_values,
    issue_responder,
    redated,
    respond,
)
from validators.signatures.model import Indication, SubIndication
from validators.signatures.revocation import RevocationStatus
from validators.trust import TrustStore, load_trust_store

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def store_without_ca_crl(trust_copy: Path) -> TrustStore:
    """The test trust store with the root's CRL but no CRL of the issuing CA."""
    (trust_copy / "crl" / "ca.crl").unlink()
    return load_trust_store(trust_copy)


def _signed(pki: TestPki, label: str, document: Path, tmp_path: Path) -> Path:
    return pki.sign(label, document, tmp_path / f"{label}.sig")


def test_control_a_nocheck_responder_vouches_good(pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path) -> None:
    responder = issue_responder(pki, tmp_path / "responder", nocheck=True)
    sig = embed_revocation_values(_signed(pki, "head256", document, tmp_path), [basic_response(respond(pki, "head256", tmp_path / "ocsp", responder=responder))])
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()


def test_a_responder_without_nocheck_whose_status_is_unknown_cannot_vouch_good(
    pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path
) -> None:
    """RFC 6960, 4.2.2.2.1: no id-pkix-ocsp-nocheck, so the responder's own certificate
    must be checked; nothing says whether it is revoked, so its "good" proves nothing."""
    responder = issue_responder(pki, tmp_path / "responder")
    sig = embed_revocation_values(_signed(pki, "revoked256", document, tmp_path), [basic_response(respond(pki, "revoked256", tmp_path / "ocsp", responder=responder))])
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def test_a_revoked_responder_answers_nothing(pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path) -> None:
    """The CA's CRL lists the responder (its key retired or leaked); the CRL is old, so it
    decides nothing about the signer, but it is the CA's word about the responder."""
    responder = issue_responder(pki, tmp_path / "responder")
    listing = crl_listing(pki, tmp_path / "old.crl", [(responder.serial, NOW - timedelta(days=8))], this_update=NOW - timedelta(days=7), next_update=NOW - timedelta(days=1))
    good = basic_response(respond(pki, "revoked256", tmp_path / "ocsp", responder=responder))
    sig = embed_revocation_values(_signed(pki, "revoked256", document, tmp_path), [good], [listing])
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def test_a_revoked_nocheck_responder_is_still_trusted_for_its_lifetime(
    pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path
) -> None:
    """id-pkix-ocsp-nocheck: the CA vouches for the responder for its whole validity (that
    is why such certificates are short-lived); a CRL listing it changes nothing."""
    responder = issue_responder(pki, tmp_path / "responder", nocheck=True)
    listing = crl_listing(pki, tmp_path / "old.crl", [(responder.serial, NOW - timedelta(days=8))], this_update=NOW - timedelta(days=7), next_update=NOW - timedelta(days=1))
    good = basic_response(respond(pki, "head256", tmp_path / "ocsp", responder=responder))
    sig = embed_revocation_values(_signed(pki, "head256", document, tmp_path), [good], [listing])
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()


def test_a_revoked_answer_of_a_responder_without_nocheck_still_revokes(
    pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path
) -> None:
    """The responder's status is unknown, but the CA delegated it: its "revoked" wins."""
    responder = issue_responder(pki, tmp_path / "responder")
    revoked = basic_response(respond(pki, "revoked256", tmp_path / "ocsp", responder=responder, revoked_at=NOW - timedelta(days=3)))
    sig = embed_revocation_values(_signed(pki, "revoked256", document, tmp_path), [revoked])
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


@pytest.mark.parametrize(
    ("issuer", "eku", "key_usage"),
    [
        ("ca", "timeStamping", "critical, digitalSignature"),
        ("ca", None, "critical, digitalSignature"),
        ("ca", "OCSPSigning", "critical, keyEncipherment"),
        ("root", "OCSPSigning", "critical, digitalSignature"),
        ("untrusted_root", "OCSPSigning", "critical, digitalSignature"),
    ],
    ids=["time-stamping-eku", "no-eku", "key-encipherment-only", "issued-by-the-root-not-the-ca", "issued-by-an-untrusted-ca"],
)
def test_a_responder_the_ca_did_not_delegate_answers_nothing(
    pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path, issuer: str, eku: str | None, key_usage: str
) -> None:
    responder = issue_responder(pki, tmp_path / "responder", issuer=issuer, eku=eku, key_usage=key_usage, nocheck=True)
    good = basic_response(respond(pki, "revoked256", tmp_path / "ocsp", responder=responder))
    sig = embed_revocation_values(_signed(pki, "revoked256", document, tmp_path), [good])
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


@pytest.mark.parametrize(
    "dates",
    [
        # A CRL-backed responder with a stale database: status of ten days ago, signed now.
        {"this_update": NOW - timedelta(days=10), "next_update": None},
        {"this_update": NOW - timedelta(days=10), "next_update": NOW - timedelta(days=9)},
        # nextUpdate before thisUpdate: a malformed validity window.
        {"this_update": NOW - timedelta(minutes=10), "next_update": NOW - timedelta(days=1)},
        # From the future: a pre-produced answer (or a responder with a wrong clock).
        {"this_update": NOW + timedelta(days=30), "next_update": NOW + timedelta(days=31), "produced_at": NOW + timedelta(days=30)},
        {"produced_at": NOW + timedelta(days=30)},
    ],
    ids=["stale-this-update-fresh-produced-at", "expired-next-update", "next-update-before-this-update", "this-update-in-the-future", "produced-at-in-the-future"],
)
def test_an_answer_not_current_now_proves_nothing(
    pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path, dates: dict[str, datetime | None]
) -> None:
    """Judged as at intake: the package was received an hour ago (the time of judgment),
    the answer is produced after it."""
    good = redated(respond(pki, "revoked256", tmp_path / "ocsp"), pki.key("ca"), tmp_path / "redated", **dates)
    sig = embed_revocation_values(_signed(pki, "revoked256", document, tmp_path), [good])
    result = verify(sig, store_without_ca_crl, document, reference_time=NOW - timedelta(hours=1)).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def test_control_a_redated_answer_current_now_counts(pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path) -> None:
    """The re-signing works (so the tests above test the dates): received an hour ago,
    thisUpdate ten minutes ago, no nextUpdate, produced now."""
    good = redated(respond(pki, "head256", tmp_path / "ocsp"), pki.key("ca"), tmp_path / "redated", this_update=NOW - timedelta(minutes=10), next_update=None)
    sig = embed_revocation_values(_signed(pki, "head256", document, tmp_path), [good])
    result = verify(sig, store_without_ca_crl, document, reference_time=NOW - timedelta(hours=1)).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()


def _status_at(pki: TestPki, leaf_cert: Path, response: object, at: datetime) -> RevocationStatus:
    from asn1crypto import ocsp, x509

    from validators.signatures.certificates import fingerprint
    from validators.signatures.revocation import RevocationEvidence, check_path_revocation

    def load(path: Path) -> x509.Certificate:
        return x509.Certificate.load(pki.openssl("x509", "-in", str(path), "-outform", "DER"))

    path = (load(leaf_cert), load(pki.cert("ca")), load(pki.cert("root")))
    assert isinstance(response, ocsp.BasicOCSPResponse)
    evidence = RevocationEvidence(ocsp_responses=(response,))
    return check_path_revocation(path, {fingerprint(path[-1])}, (), evidence, at)[0].status


def test_a_good_issued_after_the_certificate_expired_proves_nothing(pki: TestPki, tmp_path: Path) -> None:
    """A certificate valid 200 to 10 days ago, judged at a proven moment 100 days ago; the
    CA's responder says "good" today. After expiry a CA no longer tracks the certificate
    (RFC 6960, 4.4.4; RFC 5280, 3.3): a revocation during its life may no longer be told.
    The same answer dated within the certificate's life counts (control)."""
    leaf = issue_responder(pki, tmp_path / "leaf", validity=(NOW - timedelta(days=200), NOW - timedelta(days=10)), serial="5EED20")
    today = basic_response(respond(pki, "", tmp_path / "ocsp", subject=leaf))
    assert _status_at(pki, leaf.cert, today, NOW - timedelta(days=100)) is RevocationStatus.UNKNOWN
    then = redated(
        respond(pki, "", tmp_path / "ocsp2", subject=leaf), pki.key("ca"), tmp_path / "redated",
        produced_at=NOW - timedelta(days=99), this_update=NOW - timedelta(days=99), next_update=NOW - timedelta(days=98),
    )
    assert _status_at(pki, leaf.cert, then, NOW - timedelta(days=100)) is RevocationStatus.GOOD


def test_gateway_verify_exits_1_for_a_good_from_an_unchecked_responder(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    """The same attack through ``gateway verify`` (the revoked certificate's signature
    carrying a "good" by a responder without nocheck whose status nobody can tell)."""
    import json

    from tests.servers.cli import gateway

    (trust_copy / "crl" / "ca.crl").unlink()
    responder = issue_responder(pki, tmp_path / "responder")
    sig = embed_revocation_values(_signed(pki, "revoked256", document, tmp_path), [basic_response(respond(pki, "revoked256", tmp_path / "ocsp", responder=responder))])
    run = gateway("verify", document, "--signature", sig, "--trust", trust_copy, "--json", env={"GATEWAY_FETCH_ONLY_HOSTS": "127.0.0.1,localhost,::1"})
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout)["signatures"][0]["sub_indication"] == "TRY_LATER"


async def test_a_report_signed_with_a_revoked_certificate_and_an_unchecked_responders_good_is_not_accepted(
    aiohttp_client, config, pki: TestPki, trust_copy: Path, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """Through the HTTP API: the head's revoked certificate signs the report, the signature
    carries a "good" from a responder without nocheck; the CA's CRL is not in the trust
    store. The package waits for revocation data (it was accepted before)."""
    import asyncio
    import dataclasses

    from gateway.app import create_app
    from tests.servers.packages import MEMBER, make_zip, signed_copy, submit

    (trust_copy / "crl" / "ca.crl").unlink()
    client = await aiohttp_client(create_app(dataclasses.replace(config, verification=dataclasses.replace(config.verification, trust_dir=trust_copy))))
    document, signature = signed_copy(pki, tmp_path / "report", "report.xml", "<Отчет>ОД КПК</Отчет>".encode(), "revoked256")
    responder = issue_responder(pki, tmp_path / "responder")
    embed_revocation_values(signature, [basic_response(respond(pki, "revoked256", tmp_path / "ocsp", responder=responder))])
    package = make_zip(tmp_path / f"{MEMBER}_OD.zip", [document, signature])
    response = await submit(client, {"member": MEMBER, "doc_type": "report", "report_kind": "OD_Q1"}, {"document": [package]})
    assert response.status == 202, await response.text()
    submission = (await response.json())["id"]
    for _ in range(300):
        status = (await (await client.get(f"/api/v1/submissions/{submission}")).json())["status"]
        if status not in ("received", "validating"):
            break
        await asyncio.sleep(0.05)
    assert status == "awaiting_revocation"


def test_a_good_after_expiry_counts_when_the_responder_archives_the_status(pki: TestPki, tmp_path: Path) -> None:
    """RFC 6960, 4.4.4: an archiveCutoff at or before the certificate's notAfter says the
    responder still keeps its status; one after it does not."""
    leaf = issue_responder(pki, tmp_path / "leaf", validity=(NOW - timedelta(days=200), NOW - timedelta(days=10)), serial="5EED21")

    def answer(cutoff: datetime) -> object:
        return redated(respond(pki, "", tmp_path / "ocsp", subject=leaf), pki.key("ca"), tmp_path / "redated", archive_cutoff=cutoff)

    assert _status_at(pki, leaf.cert, answer(NOW - timedelta(days=365)), NOW - timedelta(days=100)) is RevocationStatus.GOOD
    assert _status_at(pki, leaf.cert, answer(NOW - timedelta(days=5)), NOW - timedelta(days=100)) is RevocationStatus.UNKNOWN


@pytest.mark.parametrize("level", ["single", "response"])
def test_a_good_with_a_critical_extension_not_understood_proves_nothing(
    pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path, level: str
) -> None:
    """As for CRLs (RFC 5280, 5.2): the CA limited what its answer means in a way the
    gateway cannot read; the answer cannot say "good"."""
    good = redated(respond(pki, "revoked256", tmp_path / "ocsp"), pki.key("ca"), tmp_path / "redated", critical_extension=level)
    sig = embed_revocation_values(_signed(pki, "revoked256", document, tmp_path), [good])
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def test_a_responder_certificate_with_a_critical_extension_not_understood_answers_nothing(
    pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path
) -> None:
    """RFC 5280, 4.2: a certificate with a critical extension the verifier does not
    recognise must be rejected — a delegated responder's too, even with nocheck: its "good"
    about a revoked certificate (whose revocation nothing else tells) proves nothing."""
    responder = issue_responder(pki, tmp_path / "responder", nocheck=True, extra=["1.2.643.999.7 = critical, ASN1:NULL"])
    good = basic_response(respond(pki, "revoked256", tmp_path / "ocsp", responder=responder))
    sig = embed_revocation_values(_signed(pki, "revoked256", document, tmp_path), [good])
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.sub_indication is SubIndication.TRY_LATER, result.failed_checks()


def test_control_a_responder_with_a_critical_nocheck_extension_vouches_good(
    pki: TestPki, store_without_ca_crl: TrustStore, document: Path, tmp_path: Path
) -> None:
    """id-pkix-ocsp-nocheck is understood, critical or not."""
    responder = issue_responder(pki, tmp_path / "responder", extra=["noCheck = critical, ignored"])
    good = basic_response(respond(pki, "head256", tmp_path / "ocsp", responder=responder))
    sig = embed_revocation_values(_signed(pki, "head256", document, tmp_path), [good])
    result = verify(sig, store_without_ca_crl, document).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()
