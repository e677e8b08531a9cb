"""Shared fixtures: the GOST test PKI (built once per session with openssl + gost engine),
the real corpus beside the repository, and helpers to verify files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.pki.builder import TestPki, build_test_pki
from tests.pki.bank import BankPki
from tests.pki.online import OnlinePki
from validators.gost import gost_support
from validators.signatures.locate import verify_document
from validators.signatures.model import VerificationReport
from validators.signatures.revocation import RevocationMode
from validators.signatures.verify import VerificationPolicy, verify_cms
from validators.trust import TrustStore, load_trust_store

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session", autouse=True)
def _gost_on() -> None:
    support = gost_support()
    assert support.available, support.problem


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return build_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def online_pki(tmp_path_factory: pytest.TempPathFactory) -> "OnlinePki":
    """A test PKI whose certificates name CDP/AIA addresses on 127.0.0.1 (tests/pki/online.py)."""
    from tests.pki.online import build_online_pki

    return build_online_pki(tmp_path_factory.mktemp("online-pki"))


@pytest.fixture(scope="session")
def bank_pki(tmp_path_factory: pytest.TempPathFactory) -> "BankPki":
    """A Bank of Russia–shaped CA branch (tests/pki/bank.py)."""
    from tests.pki.bank import BankPki, build_bank_pki

    return build_bank_pki(tmp_path_factory.mktemp("bank-pki"))


@pytest.fixture(scope="session")
def store(pki: TestPki) -> TrustStore:
    loaded = load_trust_store(pki.trust_dir)
    assert not loaded.problems, loaded.problems
    return loaded


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "Отчет_ОД.pdf"
    path.write_bytes(b"%PDF-1.4\n" + "Отчетность КПК в СРО, 31 марта\n".encode() * 200)
    return path


@pytest.fixture
def trust_copy(pki: TestPki, tmp_path: Path) -> Path:
    """A private copy of the test trust store that a test may change."""
    target = tmp_path / "trust"
    shutil.copytree(pki.trust_dir, target)
    return target


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "MANIFEST.md").is_file():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


def verify(
    signature: Path,
    store: TrustStore,
    document: Path | None = None,
    revocation: RevocationMode = RevocationMode.REQUIRE,
    **policy: object,
) -> VerificationReport:
    """Verify one signature file the way `gateway verify --signature` does."""
    return verify_cms(
        signature.read_bytes(),
        store,
        VerificationPolicy(revocation=revocation, **policy),  # type: ignore[arg-type]
        document=document,
        signature_file=signature.name,
    )


__all__ = ["verify", "verify_document", "REPO", "CORPUS"]
