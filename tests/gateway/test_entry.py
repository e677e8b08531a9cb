"""The light console entry point starts the document digest before the CLI loads."""

from __future__ import annotations

from pathlib import Path

from gateway import entry
from tests.pki.builder import TestPki


def test_verify_command_starts_the_streebog_digest_early(pki: TestPki, document: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from validators.digests import STREEBOG_256

    monkeypatch.setattr(entry, "_early", None)
    entry._start_early_digest(["verify", str(document), "--trust", str(pki.trust_dir)])
    digests = entry.early_digests(document)
    assert digests is not None
    expected = pki.openssl("dgst", "-md_gost12_256", "-r", str(document)).split()[0].decode()
    assert digests.get([STREEBOG_256])[STREEBOG_256].hex() == expected


def test_other_commands_start_nothing(document: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(entry, "_early", None)
    entry._start_early_digest(["check", "--doc-type", "report", str(document)])
    assert entry.early_digests(document) is None


def test_the_gost_configuration_comes_from_the_given_config_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[verification]\nopenssl_gost_conf = "gost.cnf"\n', encoding="utf-8")
    assert entry._gost_conf(entry._config_path(["--config", str(config), "verify", "x"])) == (tmp_path / "gost.cnf").resolve()


# What a verdict on a signed text document needs, and what it must not pay for at start:
# the HTTP service (aiohttp), templates (jinja2), the PDF stack (pyhanko, pypdf), and the
# online fetcher's HTTP/TLS machinery until a fetch is actually made, the XML parser of an
# accredited-CA list the trust store does not have.
_NOT_FOR_A_VERDICT = ("aiohttp", "jinja2", "pyhanko", "pypdf", "http.client", "ssl", "magic", "xml.etree")


def test_verify_of_a_signed_text_loads_no_service_pdf_or_tls_modules(pki: TestPki, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from tests.conftest import REPO

    document = tmp_path / "letter.txt"
    document.write_bytes("Письмо в СРО\n".encode() * 50)
    signature = pki.sign("head256", document, tmp_path / "letter.txt.sig")
    script = (
        "import json, sys\n"
        "from gateway.cli import main\n"
        f"code = main(['verify', {str(document)!r}, '--trust', {str(pki.trust_dir)!r}, '--json'])\n"
        "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    result = json.loads(run.stderr.strip().splitlines()[-1])
    assert result["code"] == 0 and json.loads(run.stdout)["signatures"][0]["indication"] == "TOTAL_PASSED"
    assert signature.is_file()
    loaded = [m for m in result["modules"] if m.split(".")[0] in _NOT_FOR_A_VERDICT or m in _NOT_FOR_A_VERDICT]
    assert loaded == []
