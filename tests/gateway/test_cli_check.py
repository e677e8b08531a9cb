"""`gateway check`: the same pipeline offline, as a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_letter_files_are_assigned_to_slots_by_type(pki: TestPki, tmp_path: Path) -> None:
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf")
    signature = pki.sign("head256", cover, tmp_path / "Письмо.pdf.sig")

    attachment = make_zip(tmp_path / "Приложение.zip", signed_copy(pki, tmp_path / "a", "Справка.pdf", cover.read_bytes()))
    run = gateway(
        "check", "--doc-type", "letter", "--member", MEMBER, "--members", members_csv(tmp_path / "m.csv"),
        "--trust", pki.trust_dir, "--json", cover, attachment, signature,
    )
    output = json.loads(run.stdout)
    assert run.returncode == 0, output["checks"]
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
