"""`gateway verify` start-up (issue 13 §4): the command line builds only the parser of the
command it runs, and a verdict loads only what it uses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import cli
from tests.conftest import REPO
from tests.pki.builder import TestPki

_ARGVS = [
    ["verify", "doc.pdf"],
    ["verify", "doc.pdf", "--signature", "doc.sig", "--trust", "t", "--at", "2025-01-02T03:04:05Z", "--revocation", "soft", "--json", "--offline"],
    ["--config", "c.toml", "verify", "doc.pdf", "--config", "d.toml"],
    ["--config=c.toml", "check", "a.pdf", "b.zip", "--doc-type", "report", "--member", "7", "--power-of-attorney", "p.xml"],
    ["serve", "--port", "8081"],
    ["outbox", "retry", "12"],
    ["staff", "add", "ivanova", "--name", "Иванова"],
    ["trust", "import-tsl", "tsl.xml", "--offline"],
    ["trust"],
]


@pytest.mark.parametrize("argv", _ARGVS, ids=lambda argv: " ".join(argv))
def test_the_parser_of_one_command_reads_its_arguments_as_the_full_parser_does(argv: list[str]) -> None:
    assert cli._build_parser(argv).parse_args(argv) == cli._build_parser().parse_args(argv)


def test_a_command_line_naming_verify_builds_the_verify_parser_only() -> None:
    import argparse

    parser = cli._build_parser(["verify", "doc.pdf"])
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) == {"verify"}


def test_the_command_is_the_first_word_that_is_not_the_value_of_config() -> None:
    assert cli._command_of(["--config", "verify", "serve"]) == "serve"
    assert cli._command_of(["--config=verify", "trust", "show"]) == "trust"


@pytest.mark.parametrize("argv", [["--help"], ["-h", "verify", "x"], ["verfy", "x"], []], ids=repr)
def test_help_or_an_unknown_command_builds_every_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli._command_of(argv) is None
    with pytest.raises(SystemExit):
        cli._build_parser(argv).parse_args(argv)
    shown = capsys.readouterr()
    assert "{serve,verify,check,outbox,staff,trust,verifyd}" in shown.out + shown.err


def test_the_help_is_as_wide_as_columns_says(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        cli._build_parser(["verify", "--help"]).parse_args(["verify", "--help"])
    usage = capsys.readouterr().out.splitlines()[0]
    assert usage.startswith("usage: gateway verify") and usage.rstrip().endswith("document")  # one line


def _modules_of_verify(args: list[str]) -> tuple[int, dict[str, object], list[str]]:
    script = (
        "import json, sys\n"
        "from gateway.cli import main\n"
        f"code = main({args!r})\n"
        "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    result = json.loads(run.stderr.strip().splitlines()[-1])
    return result["code"], json.loads(run.stdout), result["modules"]


# Nothing of the service (HTTP, pipeline, delivery, database, staff passwords, templates) nor
# the PDF stack for a verdict on a CMS signature; with revocation off, not the revocation
# cache (SQLite) and the online fetcher either.
_SERVICE = ("aiohttp", "jinja2", "argon2", "pyhanko", "pypdf", "magic", "gateway.app", "gateway.http", "gateway.pipeline", "gateway.delivery", "gateway.store.db")
_REVOCATION_CACHE = ("sqlite3", "validators.revocation_cache", "validators.signatures.fetch", "gateway.trust.revocation")


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def test_verify_with_revocation_off_loads_neither_the_service_nor_the_revocation_cache(pki: TestPki, tmp_path: Path) -> None:
    document = tmp_path / "letter.txt"
    document.write_bytes("Письмо в СРО\n".encode() * 50)
    pki.sign("head256", document, tmp_path / "letter.txt.sig")
    code, report, modules = _modules_of_verify(["verify", str(document), "--trust", str(pki.trust_dir), "--revocation", "off", "--json"])
    assert code == 0 and report["signatures"][0]["indication"] == "TOTAL_PASSED"
    assert _loaded(modules, _SERVICE + _REVOCATION_CACHE) == []
    assert "validators.signatures.verify" in modules  # the verdict itself did run here


def test_verify_with_revocation_loads_the_cache_but_not_the_service(pki: TestPki, tmp_path: Path) -> None:
    document = tmp_path / "letter.txt"
    document.write_bytes("Письмо в СРО\n".encode() * 50)
    pki.sign("head256", document, tmp_path / "letter.txt.sig")
    code, report, modules = _modules_of_verify(["verify", str(document), "--trust", str(pki.trust_dir), "--offline", "--json"])
    assert code == 0 and report["signatures"][0]["indication"] == "TOTAL_PASSED"
    assert _loaded(modules, _SERVICE) == []
    assert "validators.revocation_cache" in modules
    # Nor what only a CRL download (tempfile), a help text (shutil, for the width), a log
    # line (logging: a failed fetch, pyHanko's PDF messages) or an accredited-CA list (the
    # test trust store has no tsl.xml) uses.
    assert _loaded(modules, ("tempfile", "shutil", "logging", "concurrent", "validators.tsl")) == []


def test_verify_of_a_pdf_quiets_pyhankos_logging(pki: TestPki, tmp_path: Path) -> None:
    from tests.pki.pdf import make_pdf

    document = make_pdf(tmp_path / "report.pdf")
    script = (
        "import contextlib, io, json, logging\n"
        "from gateway.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['verify', {str(document)!r}, '--trust', {str(pki.trust_dir)!r}, '--offline', '--json'])\n"
        "print(json.dumps({'propagate': logging.getLogger('pyhanko').propagate}))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"propagate": False}, run.stderr
