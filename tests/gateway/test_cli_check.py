"""`gateway check`: the same pipeline offline, as a subprocess."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.servers.cli import gateway
from tests.servers.packages import MEMBER, make_zip, members_csv, report_zip, signed_copy


def test_correct_report_exits_0_with_the_json_contract(pki: TestPki, tmp_path: Path) -> None:
    package = report_zip(pki, tmp_path)
    run = gateway(
        "check", "--doc-type", "report", "--member", MEMBER, "--report-kind", "OD_Q1",
        "--members", members_csv(tmp_path / "m.csv"), "--trust", pki.trust_dir, "--json", package,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    output = json.loads(run.stdout)
    assert set(output) == {"decision", "checks", "files", "signatures"}
    assert output["decision"] == "accepted" and output["checks"] == []
    [file] = output["files"]
    assert set(file) >= {"name", "size", "type", "sha256", "streebog256"}
    assert output["signatures"][0]["file"] == f"{MEMBER}_OD.zip/report.xml"


def _check_letter(pki: TestPki, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    """`gateway check --json` of a letter: cover PDF, its .sig beside it, a signed attachment."""
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf")
    signature = pki.sign("head256", cover, tmp_path / "Письмо.pdf.sig")
    attachment = make_zip(tmp_path / "Приложение.zip", signed_copy(pki, tmp_path / "a", "Справка.pdf", cover.read_bytes()))
    run = gateway(
        "check", "--doc-type", "letter", "--member", MEMBER, "--members", members_csv(tmp_path / "m.csv"),
        "--trust", pki.trust_dir, "--json", cover, attachment, signature,
    )
    return run.returncode, json.loads(run.stdout)


def test_letter_files_are_assigned_to_slots_by_type(pki: TestPki, tmp_path: Path) -> None:
    returncode, output = _check_letter(pki, tmp_path)
    assert returncode == 0, output["checks"]
    assert {f["slot"] for f in output["files"]} == {"document", "attachment", "signature"}


def test_returned_package_exits_1_and_prints_russian_advice(pki: TestPki, tmp_path: Path) -> None:
    package = report_zip(pki, tmp_path, label="accountant256")
    run = gateway(
        "check", "--doc-type", "report", "--member", MEMBER, "--report-kind", "OD_Q1",
        "--members", members_csv(tmp_path / "m.csv"), "--trust", pki.trust_dir, package,
    )
    assert run.returncode == 1
    assert "Возвращен на доработку" in run.stdout and "signer.not_head" in run.stdout


def test_missing_member_list_is_a_usage_error(pki: TestPki, tmp_path: Path) -> None:
    package = report_zip(pki, tmp_path)
    run = gateway("check", "--doc-type", "report", "--member", MEMBER, "--members", tmp_path / "absent.csv", package)
    assert run.returncode == 2 and "member list" in run.stderr


def test_a_signature_lying_beside_the_pdf_given_is_verified_and_listed_once(pki: TestPki, tmp_path: Path) -> None:
    _, output = _check_letter(pki, tmp_path)
    assert [s["file"] for s in output["signatures"]].count("Письмо.pdf") == 1, output["signatures"]


def test_a_zip_named_pdf_is_taken_as_the_cover_letter_and_rejected_as_a_wrong_format(pki: TestPki, tmp_path: Path) -> None:
    from tests.servers.packages import make_zip

    fake_cover = make_zip(tmp_path / "Письмо.pdf", signed_copy(pki, tmp_path / "a", "Справка.pdf", pdfs.make_pdf(tmp_path / "s.pdf").read_bytes()))
    attachment = make_zip(tmp_path / "Приложение.zip", signed_copy(pki, tmp_path / "b", "Справка.pdf", pdfs.make_pdf(tmp_path / "s.pdf").read_bytes()))
    run = gateway(
        "check", "--doc-type", "letter", "--member", MEMBER, "--members", members_csv(tmp_path / "m.csv"),
        "--trust", pki.trust_dir, "--json", fake_cover, attachment,
    )
    output = json.loads(run.stdout)
    assert run.returncode == 1 and output["decision"] == "rejected"
    assert any(c["code"] == "file.type_not_allowed" and c["file"] == "Письмо.pdf" for c in output["checks"]), output["checks"]
    assert {f["name"]: f["slot"] for f in output["files"]}["Письмо.pdf"] == "document"


def test_an_attached_signature_charter_is_accepted_by_check(pki: TestPki, tmp_path: Path) -> None:
    charter = pdfs.make_pdf(tmp_path / "Устав.pdf", "Charter")
    attached = pki.sign("head256", charter, tmp_path / "out" / "Устав.pdf.sig", attached=True)
    run = gateway(
        "check", "--doc-type", "charter", "--member", MEMBER, "--members", members_csv(tmp_path / "m.csv"),
        "--trust", pki.trust_dir, "--json", attached,
    )
    output = json.loads(run.stdout)
    assert run.returncode == 0, output["checks"]
    assert [(s["file"], s["kind"]) for s in output["signatures"]] == [("Устав.pdf.sig", "attached")]
    assert output["files"][0]["slot"] == "document"


def test_an_attached_cover_letter_and_an_attached_archive_go_to_their_slots(pki: TestPki, tmp_path: Path) -> None:
    from tests.servers.packages import make_zip

    cover = pki.sign("head256", pdfs.make_pdf(tmp_path / "Письмо.pdf"), tmp_path / "out" / "Письмо.pdf.sig", attached=True)
    archive = make_zip(tmp_path / "Приложение.zip", signed_copy(pki, tmp_path / "b", "Справка.xml", "<Справка/>".encode()))
    attached_archive = pki.sign("head256", archive, tmp_path / "out" / "Приложение.zip.p7m", attached=True)
    run = gateway(
        "check", "--doc-type", "letter", "--member", MEMBER, "--members", members_csv(tmp_path / "m.csv"),
        "--trust", pki.trust_dir, "--json", cover, attached_archive,
    )
    output = json.loads(run.stdout)
    assert run.returncode == 0, output["checks"]
    assert {f["name"]: f["slot"] for f in output["files"]} == {"Письмо.pdf.sig": "document", "Приложение.zip.p7m": "attachment"}


def test_report_named_with_zeros_and_lower_case_is_returned_with_the_correct_name(pki: TestPki, tmp_path: Path) -> None:
    package = report_zip(pki, tmp_path, name="0042_od.zip")
    run = gateway(
        "check", "--doc-type", "report", "--member", MEMBER, "--report-kind", "OD_Q1",
        "--members", members_csv(tmp_path / "m.csv"), "--trust", pki.trust_dir, "--json", package,
    )
    output = json.loads(run.stdout)
    assert output["decision"] == "returned"
    [check] = output["checks"]
    assert check["code"] == "name.report_pattern" and "42_OD.zip" in check["remedy_ru"]
