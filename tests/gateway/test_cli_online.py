"""`gateway verify` and `gateway check` fetch revocation data online by default and share one
cache under the data folder; `--offline` turns fetching off (tests/pki/online.py server)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.pki.online import OnlinePki, RevocationServer
from tests.servers.cli import gateway
from tests.servers.packages import MEMBER, members_csv


def _config(tmp_path: Path, trust: Path, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[verification]\ntrust_dir = "{trust}"\nfetch_retry_after_seconds = 0.0\n{extra}\n'
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
    )
    return config


def test_verify_fetches_the_crl_from_the_cdp_by_default(online_pki: OnlinePki, document: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, online_pki.trust_copy(tmp_path / "trust"))
    sig = online_pki.sign("crl_good", document, tmp_path / "doc.sig")
    with RevocationServer(online_pki) as server:
        run = gateway("--config", config, "verify", document, "--signature", sig, "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert server.hits["/ca.crl"] == 1
    assert (tmp_path / "data" / "revocation" / "revocation.sqlite3").is_file()


def test_verify_offline_fetches_nothing(online_pki: OnlinePki, document: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, online_pki.trust_copy(tmp_path / "trust"))
    sig = online_pki.sign("crl_good", document, tmp_path / "doc.sig")
    with RevocationServer(online_pki) as server:
        run = gateway("--config", config, "verify", document, "--signature", sig, "--json", "--offline")
    assert run.returncode == 1
    assert json.loads(run.stdout)["signatures"][0]["sub_indication"] == "TRY_LATER"
    assert server.hits == {}


def test_config_switch_offline_fetches_nothing(online_pki: OnlinePki, document: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, online_pki.trust_copy(tmp_path / "trust"), "offline = true")
    sig = online_pki.sign("crl_good", document, tmp_path / "doc.sig")
    with RevocationServer(online_pki) as server:
        run = gateway("--config", config, "verify", document, "--signature", sig, "--json")
    assert run.returncode == 1 and server.hits == {}


def test_verify_reports_revocation_from_the_ocsp_responder(online_pki: OnlinePki, document: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, online_pki.trust_copy(tmp_path / "trust"))
    sig = online_pki.sign("ocsp_revoked", document, tmp_path / "doc.sig")
    with RevocationServer(online_pki):
        run = gateway("--config", config, "verify", document, "--signature", sig, "--json")
    assert run.returncode == 1
    assert json.loads(run.stdout)["signatures"][0]["sub_indication"] == "REVOKED"


def test_check_uses_the_cache_that_verify_filled(online_pki: OnlinePki, tmp_path: Path) -> None:
    config = _config(tmp_path, online_pki.trust_copy(tmp_path / "trust"))
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF-1.4\n" + "Письмо в СРО\n".encode() * 50)
    sig = online_pki.sign("crl_good", letter, tmp_path / "letter.pdf.sig")
    with RevocationServer(online_pki):
        assert gateway("--config", config, "verify", letter, "--signature", sig).returncode == 0
    run = gateway(
        "--config", config, "check", "--doc-type", "charter", "--member", MEMBER,
        "--members", members_csv(tmp_path / "m.csv"), "--offline", "--json", letter, sig,
    )
    report = json.loads(run.stdout)
    assert not [c for c in report["checks"] if c["code"].startswith("signature.revocation")], report["checks"]
