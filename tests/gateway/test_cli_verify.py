"""`gateway verify` as a user runs it: a real subprocess, exit codes and the JSON contract."""

from __future__ import annotations

import json
from pathlib import Path

from tests.pki.builder import TestPki
from tests.servers.cli import gateway


def test_valid_qualified_signature_exits_0_with_the_json_contract(pki: TestPki, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    run = gateway("verify", document, "--signature", sig, "--trust", pki.trust_dir, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["indication"] == "TOTAL_PASSED" and report["sub_indication"] is None
    assert set(report["document"]) >= {"name", "size", "sha256", "streebog256"}
    assert report["document"]["size"] == document.stat().st_size
    signature = report["signatures"][0]
    assert set(signature) >= {
        "indication", "sub_indication", "qualified", "signer", "certificate", "signing_time",
        "digest_algorithm", "signature_algorithm", "checks",
    }
    assert set(signature["signer"]) == {
        "common_name", "surname", "given_name", "title", "organization", "ogrn", "ogrnip", "inn", "inn_le", "snils", "email",
    }
    assert set(signature["certificate"]) >= {"serial", "issuer", "not_before", "not_after"}
    assert all(set(c) >= {"name", "passed", "detail"} for c in signature["checks"])
    assert signature["qualified"] is True


def test_document_streebog_digest_matches_openssl(pki: TestPki, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    report = json.loads(gateway("verify", document, "--signature", sig, "--trust", pki.trust_dir, "--json").stdout)
    expected = pki.openssl("dgst", "-md_gost12_256", "-r", str(document)).split()[0].decode()
    assert report["document"]["streebog256"] == expected


def test_signature_beside_the_document_is_found(pki: TestPki, document: Path) -> None:
    pki.sign("head256", document, document.with_name(document.name + ".p7s"))
    run = gateway("verify", document, "--trust", pki.trust_dir, "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["signatures"][0]["signature_file"] == document.name + ".p7s"


def test_passed_but_not_qualified_signature_exits_1(pki: TestPki, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("nonqualified256", document, tmp_path / "doc.sig")
    run = gateway("verify", document, "--signature", sig, "--trust", pki.trust_dir, "--json")
    assert run.returncode == 1
    assert json.loads(run.stdout)["signatures"][0]["indication"] == "TOTAL_PASSED"


def test_unreadable_signature_exits_1_with_format_failure(pki: TestPki, document: Path, tmp_path: Path) -> None:
    sig = tmp_path / "doc.sig"
    sig.write_bytes(b"\x30\x80garbage")
    run = gateway("verify", document, "--signature", sig, "--trust", pki.trust_dir, "--json")
    assert run.returncode == 1
    report = json.loads(run.stdout)
    assert (report["indication"], report["sub_indication"], report["signatures"]) == ("TOTAL_FAILED", "FORMAT_FAILURE", [])
    assert "Traceback" not in run.stderr


def test_document_without_signature_exits_1_with_empty_list(pki: TestPki, document: Path) -> None:
    run = gateway("verify", document, "--trust", pki.trust_dir, "--json")
    assert run.returncode == 1
    assert json.loads(run.stdout)["signatures"] == []


def test_missing_document_is_a_usage_error(pki: TestPki, tmp_path: Path) -> None:
    run = gateway("verify", tmp_path / "absent.pdf", "--trust", pki.trust_dir)
    assert run.returncode == 2
    assert "no such file" in run.stderr


def test_bad_at_time_is_a_usage_error(pki: TestPki, document: Path) -> None:
    run = gateway("verify", document, "--at", "yesterday", "--trust", pki.trust_dir)
    assert run.returncode == 2


def test_revocation_option_is_applied(pki: TestPki, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("revoked256", document, tmp_path / "doc.sig")
    strict = gateway("verify", document, "--signature", sig, "--trust", pki.trust_dir, "--json")
    off = gateway("verify", document, "--signature", sig, "--trust", pki.trust_dir, "--revocation", "off", "--json")
    assert json.loads(strict.stdout)["signatures"][0]["sub_indication"] == "REVOKED"
    assert json.loads(off.stdout)["signatures"][0]["indication"] == "TOTAL_PASSED"


def test_text_output_shows_the_signature_stamp(pki: TestPki, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    run = gateway("verify", document, "--signature", sig, "--trust", pki.trust_dir)
    assert run.returncode == 0
    assert "ДОКУМЕНТ ПОДПИСАН УСИЛЕННОЙ КВАЛИФИЦИРОВАННОЙ ЭЛЕКТРОННОЙ ПОДПИСЬЮ" in run.stdout
    assert "Иванов Иван Петрович" in run.stdout and format(pki.serial("head256"), "X") in run.stdout
    assert "ПОДПИСЬ ДЕЙСТВИТЕЛЬНА" in run.stdout


def test_missing_gost_support_is_said_in_one_line_and_nothing_passes(pki: TestPki, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    config = tmp_path / "config.toml"
    config.write_text(f'[verification]\nopenssl_gost_conf = "{tmp_path / "absent.cnf"}"\ntrust_dir = "{pki.trust_dir}"\n')
    run = gateway("--config", config, "verify", document, "--signature", sig, "--json")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[0].startswith("GOST support unavailable")
    report = json.loads(run.stdout)
    assert report["indication"] != "TOTAL_PASSED"
    assert report["document"]["streebog256"] is None
    assert "Traceback" not in run.stderr
