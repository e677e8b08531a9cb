"""The PDF SHA-1 binding check (``pdf.digest_policy``) is the algorithm policy's: judged at
the signature's time of judgment, with ``VerificationPolicy.weak_digest_sunset`` and
``weak_digests`` (configurable), never with constants of its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from validators.signatures.locate import verify_document
from validators.signatures.model import SignatureCheck
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore


@pytest.fixture(scope="module")
def sha1_bound(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """adbe.pkcs7.sha1 with a Streebog CMS: the CMS passes, the binding is SHA-1."""
    folder = tmp_path_factory.mktemp("sha1")
    return pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf(folder / "p.pdf"), folder / "sha1.pdf", subfilter="sha1")


def digest_policy(path: Path, store: TrustStore, policy: VerificationPolicy) -> SignatureCheck | None:
    [signature] = verify_document(path, store, policy).signatures
    found = [c for c in signature.checks if c.name == "pdf.digest_policy"]
    return found[0] if found else None


def test_sha1_binding_fails_after_the_default_sunset(sha1_bound: Path, store: TrustStore) -> None:
    check = digest_policy(sha1_bound, store, VerificationPolicy())
    assert check is not None and not check.passed and "2017-01-01" in check.detail


def test_sunset_comes_from_the_policy(sha1_bound: Path, store: TrustStore) -> None:
    later = datetime.now(UTC) + timedelta(days=365)
    check = digest_policy(sha1_bound, store, VerificationPolicy(weak_digest_sunset=later))
    assert check is not None and check.passed


def test_weak_digests_come_from_the_policy(sha1_bound: Path, store: TrustStore) -> None:
    assert digest_policy(sha1_bound, store, VerificationPolicy(weak_digests=frozenset({"1.2.840.113549.2.5"}))) is None


def test_binding_is_judged_at_the_time_of_judgment_not_now(sha1_bound: Path, store: TrustStore) -> None:
    """Received two days ago, sunset yesterday: acceptable at receipt, not now."""
    now = datetime.now(UTC)
    policy = VerificationPolicy(weak_digest_sunset=now - timedelta(days=1)).received(now - timedelta(days=2))
    check = digest_policy(sha1_bound, store, policy)
    assert check is not None and check.passed, check
    check = digest_policy(sha1_bound, store, VerificationPolicy(weak_digest_sunset=now - timedelta(days=1)))
    assert check is not None and not check.passed


def test_audit_time_before_the_sunset_accepts_the_binding(sha1_bound: Path, store: TrustStore) -> None:
    check = digest_policy(sha1_bound, store, VerificationPolicy(at=datetime(2016, 6, 1, tzinfo=UTC)))
    assert check is not None and check.passed and "2016-06-01" in check.detail
