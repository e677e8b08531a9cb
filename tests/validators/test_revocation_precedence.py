"""Revocation precedence (issue 9 §3): every verified CRL and OCSP response is consulted;
any verified "revoked at or before the time of judgment" wins over any "good" answers,
whatever the order in which the sources are found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, ocsp
from asn1crypto import crl as asn1_crl

from tests.conftest import verify
from tests.pki.builder import TestPki
from tests.pki.online import OnlinePki, RevocationServer
from tests.pki.online_ocsp import good_ocsp_response
from tests.pki.revocation import make_crl, make_ocsp_response
from validators.revocation_cache import OnlineRevocation, RevocationCache
from validators.signatures.cms import RevocationValues
from validators.signatures.fetch import Fetcher, FetchPolicy
from validators.signatures.model import Indication, SignatureReport, SubIndication
from validators.signatures.verify import VerificationPolicy, verify_cms
from validators.trust import load_trust_store

NOW = datetime.now(UTC).replace(microsecond=0)


def _embed(signature: Path, crls: list[bytes] = (), responses: list[bytes] = ()) -> None:  # type: ignore[assignment]
    signed = cms.ContentInfo.load(signature.read_bytes())
    values = RevocationValues(
        {
            "crl_vals": [asn1_crl.CertificateList.load(c) for c in crls],
            "ocsp_vals": [ocsp.OCSPResponse.load(r)["response_bytes"]["response"].parsed for r in responses],
        }
    )
    signed["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": "1.2.840.113549.1.9.16.2.24", "values": [values]})]
    )
    signature.write_bytes(signed.dump())


def _revocation_verdict(report: SignatureReport) -> tuple[Indication, SubIndication | None]:
    return report.indication, report.sub_indication


@pytest.fixture
def old_good_ca_crl(pki: TestPki, tmp_path: Path) -> bytes:
    """A CRL of the CA issued 10 days ago, still current, that does not list revoked256."""
    return make_crl(
        pki, "ca", tmp_path / "old.crl", this_update=NOW - timedelta(days=10), next_update=NOW + timedelta(days=20), crl_number=1
    ).read_bytes()


@pytest.mark.parametrize("old_name", ["0_old.crl", "zz_old.crl"])
def test_old_good_crl_beside_newer_revoking_crl_does_not_hide_the_revocation(
    pki: TestPki, trust_copy: Path, old_good_ca_crl: bytes, document: Path, tmp_path: Path, old_name: str
) -> None:
    (trust_copy / "crl" / old_name).write_bytes(old_good_ca_crl)
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    result = verify(sig, load_trust_store(trust_copy), document).signatures[0]
    assert _revocation_verdict(result) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_old_good_crl_alone_says_good(pki: TestPki, trust_copy: Path, old_good_ca_crl: bytes, document: Path, tmp_path: Path) -> None:
    """The control: without the newer CRL, the old one decides (so the tests above test precedence)."""
    (trust_copy / "crl" / "ca.crl").write_bytes(old_good_ca_crl)
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    result = verify(sig, load_trust_store(trust_copy), document).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()


def test_good_crl_embedded_by_the_signer_does_not_hide_the_store_crl_that_revokes(
    pki: TestPki, store, old_good_ca_crl: bytes, document: Path, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    _embed(sig, crls=[old_good_ca_crl, pki.crl("root").read_bytes()])
    result = verify(sig, store, document).signatures[0]
    assert _revocation_verdict(result) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_revoking_crl_embedded_wins_over_a_good_store_crl(
    pki: TestPki, trust_copy: Path, old_good_ca_crl: bytes, document: Path, tmp_path: Path
) -> None:
    (trust_copy / "crl" / "ca.crl").write_bytes(old_good_ca_crl)
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    _embed(sig, crls=[pki.crl("ca").read_bytes()])
    result = verify(sig, load_trust_store(trust_copy), document).signatures[0]
    assert _revocation_verdict(result) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_good_ocsp_response_does_not_hide_a_revoking_crl(pki: TestPki, store, document: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    _embed(sig, responses=[make_ocsp_response(pki, "revoked256", tmp_path / "ocsp")])
    result = verify(sig, store, document).signatures[0]
    assert _revocation_verdict(result) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_revoking_ocsp_response_wins_over_a_good_crl(
    pki: TestPki, trust_copy: Path, old_good_ca_crl: bytes, document: Path, tmp_path: Path
) -> None:
    (trust_copy / "crl" / "ca.crl").write_bytes(old_good_ca_crl)
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    _embed(sig, responses=[make_ocsp_response(pki, "revoked256", tmp_path / "ocsp", revoked_at=NOW - timedelta(days=2))])
    result = verify(sig, load_trust_store(trust_copy), document).signatures[0]
    assert _revocation_verdict(result) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_several_good_sources_still_pass(pki: TestPki, trust_copy: Path, old_good_ca_crl: bytes, document: Path, tmp_path: Path) -> None:
    (trust_copy / "crl" / "0_old.crl").write_bytes(old_good_ca_crl)
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    _embed(sig, responses=[make_ocsp_response(pki, "head256", tmp_path / "ocsp")])
    result = verify(sig, load_trust_store(trust_copy), document).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()


def test_a_forged_revoking_crl_does_not_count(pki: TestPki, trust_copy: Path, old_good_ca_crl: bytes, document: Path, tmp_path: Path) -> None:
    """Revoked wins only when verified: a CRL with a broken signature listing the cert is ignored."""
    forged = bytearray(pki.crl("ca").read_bytes())
    forged[-5] ^= 0xFF
    (trust_copy / "crl" / "ca.crl").write_bytes(bytes(forged))
    (trust_copy / "crl" / "0_old.crl").write_bytes(old_good_ca_crl)
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    result = verify(sig, load_trust_store(trust_copy), document).signatures[0]
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()


def test_earliest_revocation_date_of_all_sources_counts(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    """One CRL says revoked 5 days ago, another 1 day ago: judged 3 days ago it is revoked."""
    (trust_copy / "crl" / "ca.crl").write_bytes(
        make_crl(pki, "ca", tmp_path / "late.crl", revoked=[("head256", NOW - timedelta(days=1))]).read_bytes()
    )
    (trust_copy / "crl" / "zz_early.crl").write_bytes(
        make_crl(pki, "ca", tmp_path / "early.crl", revoked=[("head256", NOW - timedelta(days=5))], crl_number=3).read_bytes()
    )
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    result = verify(sig, load_trust_store(trust_copy), document, at=NOW - timedelta(days=3)).signatures[0]
    assert _revocation_verdict(result) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_a_good_ocsp_response_in_the_signature_does_not_skip_the_revoking_crl_online(
    online_pki: OnlinePki, document: Path, tmp_path: Path
) -> None:
    """The signer embeds a "good" OCSP answer; the CA's CRL at the certificate's CDP lists
    it as revoked. The CRL must still be fetched, and its "revoked" wins."""
    trust = load_trust_store(online_pki.trust_copy(tmp_path / "trust"))
    sig = online_pki.sign("crl_revoked", document, tmp_path / "doc.sig")
    _embed(sig, responses=[good_ocsp_response(online_pki, "crl_revoked", tmp_path / "ocsp")])
    online = OnlineRevocation(RevocationCache(tmp_path / "cache"), Fetcher(FetchPolicy(connect_timeout=2, read_timeout=5)), retry_after=0)
    with RevocationServer(online_pki) as server:
        result = verify_cms(sig.read_bytes(), trust, VerificationPolicy(online=online), document=document).signatures[0]
    assert server.hits.get("/ca.crl") == 1
    assert _revocation_verdict(result) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
