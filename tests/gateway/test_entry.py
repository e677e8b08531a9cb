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
