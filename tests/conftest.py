"""Shared fixtures: the GOST test PKI (built once per session with openssl + gost engine),
the real corpus beside the repository (``GATEWAY_CORPUS`` may name another folder), and
helpers to verify files.

The real corpus (``../shared/corpus``) is required: without its ``MANIFEST.md`` the run
stops with an error rather than quietly skipping the tests that need it, unless
``GATEWAY_ALLOW_NO_CORPUS=1`` says that is intended (those tests are then skipped)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import validators
from tests.pki.bank import BankPki
from tests.pki.builder import TestPki, build_test_pki
from tests.pki.online import OnlinePki
from tests.pki.tsa import TsaPki, build_tsa_pki
from validators.gost import gost_support
from validators.signatures.fetch import CONFINE_ENV
from validators.signatures.locate import verify_document
from validators.signatures.model import VerificationReport
from validators.signatures.revocation import RevocationMode
from validators.signatures.verify import VerificationPolicy, verify_cms
from validators.trust import TrustStore, load_trust_store

# Tests never contact (or resolve) a host outside this machine: addresses taken from the
# real corpus certificates (their CDP/AIA) are refused by the fetcher in this process and
# in every `gateway` subprocess it starts.
os.environ[CONFINE_ENV] = "127.0.0.1,localhost,::1"

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("GATEWAY_CORPUS") or REPO.parent / "shared" / "corpus")
ALLOW_NO_CORPUS = "GATEWAY_ALLOW_NO_CORPUS"


def corpus_missing_problem(corpus: Path = CORPUS, environ: os._Environ[str] | dict[str, str] = os.environ) -> str | None:
    """Why the run must not start: the corpus is missing and nobody said that is fine."""
    if (corpus / "MANIFEST.md").is_file() or environ.get(ALLOW_NO_CORPUS) == "1":
        return None
    return (
        f"the shared corpus is missing ({corpus / 'MANIFEST.md'} not found): the tests on real signatures, "
        f"PDFs and archives cannot run. Put the corpus there, or set {ALLOW_NO_CORPUS}=1 to run without them (skipped)."
    )


def pytest_configure(config: pytest.Config) -> None:
    problem = corpus_missing_problem()
    if problem:
        raise pytest.UsageError(problem)
    validators.init()  # what the gateway command and the app factory do at start


@pytest.fixture(scope="session", autouse=True)
def _gost_on() -> None:
    support = gost_support()
    assert support.available, support.problem


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return build_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def tsa(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> TsaPki:
    """The time-stamp authorities of ``tests/pki/tsa.py``, built once per session (worker)."""
    return build_tsa_pki(pki, tmp_path_factory.mktemp("tsa"))


@pytest.fixture(scope="session")
def online_pki(tmp_path_factory: pytest.TempPathFactory) -> OnlinePki:
    """A test PKI whose certificates name CDP/AIA addresses on 127.0.0.1 (tests/pki/online.py)."""
    from tests.pki.online import build_online_pki

    return build_online_pki(tmp_path_factory.mktemp("online-pki"))


@pytest.fixture(scope="session")
def bank_pki(tmp_path_factory: pytest.TempPathFactory) -> BankPki:
    """A Bank of Russia–shaped CA branch (tests/pki/bank.py)."""
    from tests.pki.bank import build_bank_pki

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
        pytest.skip(f"shared corpus not found at {CORPUS} ({ALLOW_NO_CORPUS}=1)")
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


__all__ = ["verify", "verify_document", "REPO", "CORPUS", "corpus_missing_problem"]
