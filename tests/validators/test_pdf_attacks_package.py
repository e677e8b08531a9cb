"""PDF changes after signing, seen from the package decision and the command line:
the package is rejected with ``pdf.modified_after_signing``; ``gateway verify`` exits 1
and names the change. (The verdicts themselves: test_pdf_attacks.py.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.pipeline.decision import Decision
from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.servers.cli import gateway
from tests.servers.packages import members_csv
from tests.validators.packages import charter_checks
from validators.checks import Severity
from validators.trust import TrustStore

MEMBER = "42"


@pytest.fixture
def signed(pki: TestPki, tmp_path: Path) -> Path:
    return pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf_with_hidden_objects(tmp_path / "charter.pdf"), tmp_path / "signed.pdf")


def test_signed_charter_is_accepted_before_any_change(signed: Path, store: TrustStore, tmp_path: Path) -> None:
    decision, checks = charter_checks(signed, store, tmp_path)
    assert (decision, checks) == (Decision.ACCEPTED, [])


@pytest.mark.parametrize(
    "attack",
    [
        lambda s, t: pdfs.add_overlay_annotation(s, t, "FreeText"),
        pdfs.new_catalog_labelled_xref,
        pdfs.shadow_hide,
        pdfs.append_junk,
    ],
    ids=["FreeText-overlay", "new-root-labelled-xref", "shadow-hide", "bytes-after-eof"],
)
def test_package_with_a_pdf_changed_after_signing_is_rejected(attack: Callable[[Path, Path], Path], signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = attack(signed, tmp_path / "forged.pdf")
    decision, checks = charter_checks(forged, store, tmp_path)
    assert decision is Decision.REJECTED
    assert [(c.code, c.severity, c.file) for c in checks] == [("pdf.modified_after_signing", Severity.FATAL, "Устав.pdf")]
    [check] = checks
    assert "изменён после подписания" in check.message_ru and "окончательную версию" in check.remedy_ru
    assert "pdf.modifications: the document was changed after signing" in check.detail


def test_package_with_a_pdf_whose_later_revision_is_unreadable_is_rejected_as_modified(signed: Path, store: TrustStore, tmp_path: Path) -> None:
    """A later revision pyHanko cannot analyse is a change nobody cleared (INDETERMINATE)."""
    forged = pdfs.append_revision(signed, tmp_path / "forged.pdf", {3: b"<< /Type /Page /Parent 2 0 R /Kids [[[ >>"})
    decision, checks = charter_checks(forged, store, tmp_path)
    assert decision is Decision.REJECTED
    assert "pdf.modified_after_signing" in [c.code for c in checks]


def test_gateway_check_rejects_an_annotated_charter(pki: TestPki, signed: Path, tmp_path: Path) -> None:
    forged = pdfs.add_overlay_annotation(signed, tmp_path / "Устав.pdf", "Stamp")
    run = gateway(
        "check", "--doc-type", "charter", "--member", MEMBER, "--members", members_csv(tmp_path / "m.csv"),
        "--trust", pki.trust_dir, "--json", forged,
    )
    assert run.returncode == 1, run.stderr
    output = json.loads(run.stdout)
    assert output["decision"] == "rejected"
    assert [c["code"] for c in output["checks"]] == ["pdf.modified_after_signing"]


@pytest.mark.parametrize(
    ("attack", "named"),
    [
        (pdfs.switch_to_hidden_catalog, "trailer /Root at object 6 0"),
        (pdfs.shadow_hide_and_replace, "hidden (unreachable) in the signed revision"),
        (lambda s, t: pdfs.add_overlay_annotation(s, t, "Square"), "unexplained xrefs"),
    ],
    ids=["hidden-catalog", "hide-and-replace", "Square-overlay"],
)
def test_gateway_verify_exits_1_and_names_the_change(attack: Callable[[Path, Path], Path], named: str, pki: TestPki, signed: Path, tmp_path: Path) -> None:
    assert gateway("verify", signed, "--trust", pki.trust_dir).returncode == 0
    forged = attack(signed, tmp_path / "forged.pdf")
    run = gateway("verify", forged, "--trust", pki.trust_dir, "--json")
    assert run.returncode == 1, run.stderr
    [signature] = json.loads(run.stdout)["signatures"]
    assert (signature["indication"], signature["sub_indication"]) == ("TOTAL_FAILED", "HASH_FAILURE")
    [check] = [c for c in signature["checks"] if c["name"] == "pdf.modifications"]
    assert not check["passed"] and named in check["detail"]
