"""The test run never reaches outside this machine: the fetcher's confinement by
``GATEWAY_FETCH_ONLY_HOSTS`` (set in ``tests/conftest.py``) refuses other hosts before
any name resolution, in this process and in the ``gateway`` subprocesses."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO
from tests.servers.cli import gateway
from validators.signatures.fetch import CONFINE_ENV, Fetcher, FetchError


def test_the_test_run_is_confined_to_this_machine() -> None:
    assert os.environ[CONFINE_ENV] == "127.0.0.1,localhost,::1"


def test_a_host_outside_the_confinement_is_refused_before_resolution() -> None:
    with pytest.raises(FetchError, match=CONFINE_ENV):
        Fetcher().get_to_file("http://crl.example.invalid/ca.crl", io.BytesIO())


def test_gateway_verify_on_a_real_certificate_does_not_fetch_its_public_cdp(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"  # a fresh revocation cache: no earlier answer to reuse
    config.write_text(f'[verification]\ntrust_dir = "{REPO / "certs"}"\n[storage]\ndata_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    folder = CORPUS / "gost-cms"
    result = gateway("--config", config, "verify", folder / "cpsia_report.pdf", "--signature", folder / "cpsia_report.pdf.sig", "--json")
    details = " ".join(c["detail"] for s in json.loads(result.stdout)["signatures"] for c in s["checks"] if c["name"] == "chain.revocation")
    assert CONFINE_ENV in details and "gaierror" not in details
