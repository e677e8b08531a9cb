"""``load_config`` refuses a bad value at start with one clear line, and parses what it
accepts into enums and policies (a bad decision used to start fine and leave every package
in ``validating``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import ConfigError, SmtpSecurity, load_config
from gateway.store.status import Decision
from validators.checks import Severity
from validators.signatures.model import RevocationMode


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[decision]\nfatal = "bogus"\n', "[decision] fatal: 'bogus' is not one of accepted, returned, rejected"),
        ('[decision.severity]\n"pdf.active_content" = "severe"\n', "[decision.severity] pdf.active_content: 'severe' is not one of"),
        ('[decision.severity]\n"no.such_code" = "fatal"\n', "[decision.severity] no.such_code: not a check code"),
        ('[verification]\nrevocation = "maybe"\n', "[verification] revocation: 'maybe' is not one of require, soft, off"),
        ('[mail]\nsmtp_security = "ssl"\n', "[mail] smtp_security: 'ssl' is not one of starttls, tls, none"),
        ("[server]\nport = 70000\n", "[server] port: must be at most 65535"),
        ("[server]\nmax_parts = 0\n", "[server] max_parts: must be at least 1"),
        ("[limits]\nvalidation_workers = 0\n", "[limits] validation_workers: must be at least 1"),
        ("[limits]\nmax_document_bytes = -5\n", "[limits] max_document_bytes: must not be negative"),
        ("[delivery]\ndigest_hour_utc = 24\n", "[delivery] digest_hour_utc: an hour 0-23"),
        ('[delivery]\nregistry_url = "ftp://registry.local/"\n', "[delivery] registry_url: an http:// or https:// URL is expected"),
        ('[trust]\ntsl_url = "e-trust.gosuslugi.ru/app/scc/portal/api/v1/portal/ca/getxml"\n', "[trust] tsl_url: an http:// or https:// URL"),
        ("[delivery]\nbase_delay = 100.0\nmax_delay = 10.0\n", "[delivery] base_delay (100.0) is over max_delay (10.0)"),
        ('[limits]\nmax_signature_bytes = "1M"\n', "[limits] max_signature_bytes: int expected"),
    ],
)
def test_a_bad_value_is_refused_at_load_with_the_key_named(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(_config(tmp_path, text))
    message = str(refused.value)
    assert named in message
    assert "\n" not in message


def test_accepted_values_are_parsed_into_enums(tmp_path: Path) -> None:
    config = load_config(
        _config(
            tmp_path,
            '[decision]\nfixable = "rejected"\n[decision.severity]\n"pdf.active_content" = "fatal"\n'
            '[verification]\nrevocation = "soft"\n[mail]\nsmtp_security = "tls"\n',
        )
    )
    assert config.decision.fixable is Decision.REJECTED
    assert config.decision.severity == {"pdf.active_content": Severity.FATAL}
    assert config.decision.by_severity()[Severity.FIXABLE] is Decision.REJECTED
    assert config.verification.revocation is RevocationMode.SOFT
    assert config.mail.smtp_security is SmtpSecurity.TLS


def test_serve_with_a_bogus_decision_does_not_start(tmp_path: Path) -> None:
    path = _config(tmp_path, f'[storage]\ndata_dir = "{tmp_path / "data"}"\n[decision]\nfatal = "bogus"\n')
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "--config", str(path), "serve", "--port", "1"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["gateway: configuration error: [decision] fatal: 'bogus' is not one of accepted, returned, rejected"]
