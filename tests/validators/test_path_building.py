"""Path building is bounded: a hostile certificate pool gets a verdict in bounded time and
memory (issue 9, section 4)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from asn1crypto import cms

from tests.conftest import verify
from tests.pki.builder import TestPki
from tests.pki.path_attack import PathAttack, build_path_attack
from validators.signatures import chain
from validators.signatures.certificates import load_certificates
from validators.signatures.model import Indication, SubIndication
from validators.signatures.revocation import RevocationMode
from validators.trust import TrustStore


@pytest.fixture(scope="module", params=["same_key", "cross_loop", "mesh"])
def attack(request: pytest.FixtureRequest, pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> PathAttack:
    return build_path_attack(pki, tmp_path_factory.mktemp(request.param), request.param)


def test_attack_signature_carries_sixty_certificates(attack: PathAttack) -> None:
    certificates = cms.ContentInfo.load(attack.signature.read_bytes())["content"]["certificates"]
    assert len(certificates) == attack.certificates + 1  # the pool and the signer
    assert attack.signature.stat().st_size > 20_000


def test_sixty_looping_certificates_get_no_chain_verdict_in_under_a_second(attack: PathAttack, store: TrustStore) -> None:
    started = time.perf_counter()
    report = verify(attack.signature, store, attack.document, RevocationMode.OFF)
    elapsed = time.perf_counter() - started
    [signature] = report.signatures
    assert (signature.indication, signature.sub_indication) == (Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    [path_check] = [c for c in signature.checks if c.name == "chain.path"]
    assert "loop" in path_check.detail
    assert elapsed < 1.0, f"{elapsed:.2f} s"


def test_sixty_looping_certificates_keep_memory_bounded(attack: PathAttack, store: TrustStore) -> None:
    tracemalloc.start()
    try:
        verify(attack.signature, store, attack.document, RevocationMode.OFF)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_duplicates_by_subject_and_key_collapse_to_one_issuer_candidate(attack: PathAttack, store: TrustStore) -> None:
    signer = next(c for c in _all(attack) if c.subject.native.get("common_name") == "Signer")
    extra: dict[str, list] = {}  # type: ignore[type-arg]
    for cert in _pool(attack):
        extra.setdefault(chain.name_key(cert.subject), []).append(cert)
    candidates = chain._issuer_candidates(signer, store, extra)
    # Sixty copies collapse to one per subject, key and issuer (the mesh has seven issuers
    # of each subject: distinct nodes, and within the per-step cap).
    assert len(candidates) == (7 if attack.signature.parent.name.startswith("mesh") else 1)


def test_exhausted_budget_stops_path_building_with_a_clear_reason(pki: TestPki, store: TrustStore) -> None:
    [head] = load_certificates(pki.cert("head256").read_bytes())
    assert chain.build_path(head, [], store).found
    path = chain.build_path(head, [], store, chain.PathBudget(limit=1))
    assert not path.found
    assert path.problem is not None and "stopped after 1 distinct certificate signature checks" in path.problem


def test_budget_is_shared_by_the_signers_of_one_signature(pki: TestPki, store: TrustStore) -> None:
    """head -> ca -> root costs 2 checks; the accountant's certificate one more (ca -> root
    is already known); with a budget of 2 the second signer's path is refused."""
    [head] = load_certificates(pki.cert("head256").read_bytes())
    [accountant] = load_certificates(pki.cert("accountant256").read_bytes())
    budget = chain.PathBudget(limit=2)
    assert chain.build_path(head, [], store, budget).found
    assert not chain.build_path(accountant, [], store, budget).found
    assert chain.build_path(head, [], store, budget).found  # checks already made are free


def test_co_signers_under_one_ca_fit_the_default_budget(pki: TestPki, store: TrustStore) -> None:
    budget = chain.PathBudget()
    for label in ("head256", "head512", "accountant256", "foreign256", "revoked256", "nonqualified256"):
        [cert] = load_certificates(pki.cert(label).read_bytes())
        assert chain.build_path(cert, [], store, budget).found
    assert budget.used == 7


def test_genuine_chain_still_builds_when_the_pool_is_in_the_signature(
    attack: PathAttack, pki: TestPki, store: TrustStore, document: Path, tmp_path: Path
) -> None:
    """The looping certificates added to a genuine signature do not hide its real path."""
    bundle = tmp_path / "pool.pem"
    bundle.write_bytes(
        (attack.signature.parent / "bundle.pem").read_bytes()
        + b"".join(pki.cert(label).read_bytes() for label in ("ca", "root", "untrusted_root"))
    )
    sig = tmp_path / "doc.sig"
    pki.openssl("cms", "-sign", "-binary", "-in", str(document), "-signer", str(pki.cert("head256")),
                "-inkey", str(pki.key("head256")), "-md", "md_gost12_256", "-cades", "-nosmimecap",
                "-certfile", str(bundle), "-outform", "DER", "-out", str(sig))
    [signature] = verify(sig, store, document).signatures
    assert signature.indication is Indication.TOTAL_PASSED, signature.failed_checks()


def _all(attack: PathAttack):  # type: ignore[no-untyped-def]
    from validators.signatures.cms import parse_signed_data

    return parse_signed_data(attack.signature.read_bytes()).certificates


def _pool(attack: PathAttack):  # type: ignore[no-untyped-def]
    return [c for c in _all(attack) if c.subject.native.get("common_name") != "Signer"]
