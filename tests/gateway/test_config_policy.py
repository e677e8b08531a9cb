"""Algorithm sunsets and the signing-time skew are configuration (``[verification]`` of
``config.toml``): one :class:`VerificationPolicy` for the service, ``gateway verify`` and
``gateway check``; a bad value is refused at start with a message naming the key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import REPO_ROOT, ConfigError, load_config, verification_policy
from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.servers.cli import gateway
from tests.servers.packages import ClientFactory, members_csv
from tests.servers.verify import make_config, verify_form
from validators.signatures.policy import VerificationPolicy


def config_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\ndata_dir = "{tmp_path / "var"}"\n[verification]\n{body}\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sha1_bound(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A qualified GOST signature bound to the PDF through SHA-1 (adbe.pkcs7.sha1)."""
    folder = tmp_path_factory.mktemp("sha1")
    return pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf(folder / "p.pdf"), folder / "Устав.pdf", subfilter="sha1")


def test_shipped_config_gives_the_built_in_policy() -> None:
    shipped, built_in = verification_policy(load_config(REPO_ROOT / "config.toml")), VerificationPolicy()
    assert shipped.gost2001_sunset == built_in.gost2001_sunset
    assert shipped.weak_digest_sunset == built_in.weak_digest_sunset
    assert shipped.weak_digests == built_in.weak_digests
    assert shipped.signing_time_skew == built_in.signing_time_skew


def test_configured_values_reach_the_policy(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, (
        'gost2001_sunset = 2019-07-01\nweak_digest_sunset = "2018-03-01T12:00:00+03:00"\n'
        'weak_digests = ["md5", "1.2.3.4"]\nsigning_time_skew_seconds = 60\n'
    )))
    policy = verification_policy(config, at=None)
    assert policy.gost2001_sunset == datetime(2019, 7, 1, tzinfo=UTC)
    assert policy.weak_digest_sunset == datetime(2018, 3, 1, 9, tzinfo=UTC)
    assert policy.weak_digests == frozenset({"1.2.840.113549.2.5", "1.2.3.4"})
    assert policy.signing_time_skew == timedelta(seconds=60)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("weak_digest_sunset = 2018-01-01T00:00:00", "no UTC offset"),
        ('weak_digest_sunset = "soon"', "not a date"),
        ("gost2001_sunset = 2020", "date or date-time is expected"),
        ('weak_digests = ["sha1", "crc32"]', "'crc32'"),
        ('weak_digests = "sha1"', "list of strings"),
        ("signing_time_skew_seconds = -1.0", "must not be negative"),
        ('signing_time_skew_seconds = "5m"', "signing_time_skew_seconds"),
    ],
)
def test_bad_value_is_refused_with_a_clear_message(body: str, named: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(config_file(tmp_path, body))
    assert "[verification]" in str(refused.value) and named in str(refused.value)


def test_gateway_verify_refuses_to_start_with_a_bad_sunset(pki: TestPki, sha1_bound: Path, tmp_path: Path) -> None:
    run = gateway("verify", sha1_bound, "--trust", pki.trust_dir, "--config", config_file(tmp_path, 'weak_digest_sunset = "tomorrow"'))
    assert run.returncode == 2 and "weak_digest_sunset" in run.stderr


def test_gateway_verify_judges_with_the_configured_sunset(pki: TestPki, sha1_bound: Path, tmp_path: Path) -> None:
    assert gateway("verify", sha1_bound, "--trust", pki.trust_dir, "--config", config_file(tmp_path, "")).returncode == 1
    run = gateway("verify", sha1_bound, "--trust", pki.trust_dir, "--json", "--config", config_file(tmp_path, "weak_digest_sunset = 2100-01-01"))
    assert run.returncode == 0, run.stdout
    [signature] = json.loads(run.stdout)["signatures"]
    assert [c["passed"] for c in signature["checks"] if c["name"] == "pdf.digest_policy"] == [True]


def test_gateway_check_judges_with_the_configured_sunset(pki: TestPki, sha1_bound: Path, tmp_path: Path) -> None:
    def check(body: str) -> dict:  # type: ignore[type-arg]
        run = gateway(
            "check", "--doc-type", "charter", "--member", "42", "--members", members_csv(tmp_path / "m.csv"),
            "--trust", pki.trust_dir, "--json", "--config", config_file(tmp_path, body), sha1_bound,
        )
        return json.loads(run.stdout)  # type: ignore[no-any-return]

    assert check("")["decision"] != "accepted"
    assert check("weak_digest_sunset = 2100-01-01")["decision"] == "accepted"


@pytest.mark.asyncio
async def test_service_judges_with_the_configured_sunset(aiohttp_client: ClientFactory, pki: TestPki, sha1_bound: Path, tmp_path: Path) -> None:
    import dataclasses

    base = make_config(pki, tmp_path / "var")
    configured = dataclasses.replace(
        base, verification=dataclasses.replace(base.verification, weak_digest_sunset=datetime(2100, 1, 1, tzinfo=UTC))
    )
    results = []
    for config in (base, configured):
        client: TestClient = await aiohttp_client(create_app(config))
        response = await client.post("/api/v1/verify", data=verify_form(sha1_bound, None))
        [signature] = (await response.json())["signatures"]
        results.append([c["passed"] for c in signature["checks"] if c["name"] == "pdf.digest_policy"])
    assert results == [[False], [True]]
