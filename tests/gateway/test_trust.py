"""`gateway trust` (show, import-tsl FILE|URL, add, refresh), the scheduled TSL refresh and the
trust-data fields of `/healthz`, with the test PKI, the online PKI and the Bank of Russia–shaped
branch (tests/pki/bank.py), and a TSL in the real element structure (tests/pki/tsl.py)."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.app import create_app
from gateway.config import Config, StorageConfig, TrustConfig, VerificationConfig
from tests.pki.bank import BankPki
from tests.pki.builder import TestPki
from tests.pki.online import OnlinePki, RevocationServer
from tests.pki.tsl import TslCentre, build_tsl
from tests.servers.cli import gateway
from tests.servers.packages import ClientFactory, members_csv

NOW = datetime.now(UTC).replace(microsecond=0)
ACTIVE = ("Действует", NOW - timedelta(days=900), None)


def _config(tmp_path: Path, trust: Path, extra: str = "", trust_section: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[verification]\ntrust_dir = "{trust}"\nfetch_retry_after_seconds = 0.0\n{extra}\n'
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n[trust]\n{trust_section}\n'
    )
    return config


def _tsl_for(pki: TestPki, *history: tuple[str, datetime, datetime | None], crl_urls: list[str] | None = None) -> bytes:
    return build_tsl([TslCentre("Тестовый аккредитованный УЦ", "1027700000200", "7700000200", [pki.cert("ca")], list(history), crl_urls or [])])


def _verify_json(config: Path, document: Path, sig: Path, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    run = gateway("--config", config, "verify", document, "--signature", sig, "--json", "--offline", *extra)
    return run.returncode, json.loads(run.stdout)


def _check(signature: dict, name: str) -> list[dict]:  # type: ignore[type-arg]
    return [c for c in signature["checks"] if c["name"] == name]


# --- accredited-CA list ----------------------------------------------------------------


def test_without_a_tsl_the_report_says_accreditation_was_not_checked(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    code, report = _verify_json(_config(tmp_path, trust_copy), document, sig)
    assert code == 0
    [check] = _check(report["signatures"][0], "qualified.accreditation")
    assert "not checked" in check["detail"]


def test_imported_tsl_with_the_ca_accredited_passes(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    (tmp_path / "tsl.xml").write_bytes(_tsl_for(pki, ACTIVE))
    config = _config(tmp_path, trust_copy)
    run = gateway("--config", config, "trust", "import-tsl", tmp_path / "tsl.xml", "--offline")
    assert run.returncode == 0, run.stderr
    assert "1 accredited centres" in run.stdout
    assert (trust_copy / "tsl.xml").is_file() and list((trust_copy / "tsl-ca").iterdir())
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    code, report = _verify_json(config, document, sig)
    assert code == 0
    assert "accredited at the validation time" in _check(report["signatures"][0], "qualified.accreditation")[0]["detail"]


def test_imported_tsl_with_the_accreditation_ended_is_not_qualified(pki: TestPki, trust_copy: Path, document: Path, tmp_path: Path) -> None:
    ended = ("Действует", NOW - timedelta(days=900), NOW - timedelta(days=10))
    (tmp_path / "tsl.xml").write_bytes(_tsl_for(pki, ended, ("Прекращена", NOW - timedelta(days=10), None)))
    config = _config(tmp_path, trust_copy)
    assert gateway("--config", config, "trust", "import-tsl", tmp_path / "tsl.xml", "--offline").returncode == 0
    sig = pki.sign("head256", document, tmp_path / "doc.sig")
    code, report = _verify_json(config, document, sig)
    assert code == 1
    assert report["signatures"][0]["qualified"] is False
    assert not _check(report["signatures"][0], "qualified.accreditation")[0]["passed"]


def test_a_failing_import_keeps_the_last_good_list(pki: TestPki, trust_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "good.xml").write_bytes(_tsl_for(pki, ACTIVE))
    (tmp_path / "broken.xml").write_bytes(b"<\xd0\x90\xd0\x9a\xd0\x9a\xd0\xa0")  # cut off mid-element
    config = _config(tmp_path, trust_copy)
    assert gateway("--config", config, "trust", "import-tsl", tmp_path / "good.xml", "--offline").returncode == 0
    kept = (trust_copy / "tsl.xml").read_bytes()
    run = gateway("--config", config, "trust", "import-tsl", tmp_path / "broken.xml", "--offline")
    assert run.returncode == 1 and "kept" in run.stderr
    assert (trust_copy / "tsl.xml").read_bytes() == kept
    shown = json.loads(gateway("--config", config, "trust", "--json", "--offline").stdout)
    [tsl] = [i for i in shown["items"] if i["kind"] == "tsl"]
    assert "last refresh failed" in tsl["note"] and tsl["level"] == "warning"


def test_tsl_with_a_dtd_is_refused(pki: TestPki, trust_copy: Path, tmp_path: Path) -> None:
    hostile = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]>' + _tsl_for(pki, ACTIVE).split(b"?>", 1)[1]
    (tmp_path / "tsl.xml").write_bytes(hostile)
    run = gateway("--config", _config(tmp_path, trust_copy), "trust", "import-tsl", tmp_path / "tsl.xml", "--offline")
    assert run.returncode == 1 and not (trust_copy / "tsl.xml").exists()


def test_import_from_a_url_prefetches_the_crls_it_names(online_pki: OnlinePki, tmp_path: Path) -> None:
    trust = online_pki.trust_copy(tmp_path / "trust")
    tsl = build_tsl([TslCentre("Онлайн УЦ", "1027700000500", "7700000500", [online_pki.cert("online_ca")], [ACTIVE], [f"{online_pki.base_url}/ca.crl"])])
    config = _config(tmp_path, trust)
    with RevocationServer(online_pki) as server:
        server.files["tsl.xml"] = tsl
        run = gateway("--config", config, "trust", "import-tsl", f"{online_pki.base_url}/files/tsl.xml")
        assert run.returncode == 0, run.stdout + run.stderr
        assert server.hits["/ca.crl"] == 1, "the CRL address of the list was prefetched"
    shown = json.loads(gateway("--config", config, "trust", "--json", "--offline").stdout)
    cached = [i for i in shown["items"] if i["kind"] == "crl" and i["source"].startswith("cache")]
    assert cached and cached[0]["level"] == "ok" and cached[0]["next_update"]


# --- Bank of Russia CA and `gateway trust add` --------------------------------------------


def _bank_trust(bank_pki: BankPki, pki: TestPki, tmp_path: Path) -> tuple[Path, Path]:
    trust = tmp_path / "trust"
    shutil.copytree(pki.trust_dir, trust)
    for label in ("bank_root", "bank_ca"):
        shutil.copy(bank_pki.crl(label), trust / "crl" / f"{label}.crl")
    config = _config(tmp_path, trust)
    assert gateway("--config", config, "trust", "add", bank_pki.cert("bank_root"), "--anchor").returncode == 0
    return trust, config


def test_bank_of_russia_chain_passes_once_its_certificates_are_added(bank_pki: BankPki, pki: TestPki, document: Path, tmp_path: Path) -> None:
    _trust, config = _bank_trust(bank_pki, pki, tmp_path)
    sig = bank_pki.sign("bank_head", document, tmp_path / "doc.sig")
    code, report = _verify_json(config, document, sig)
    assert (code, report["signatures"][0]["sub_indication"]) == (1, "NO_CERTIFICATE_CHAIN_FOUND")
    run = gateway("--config", config, "trust", "add", bank_pki.cert("bank_ca"))
    assert run.returncode == 0 and "ca/" in run.stdout
    code, report = _verify_json(config, document, sig)
    assert code == 0, report
    assert report["signatures"][0]["qualified"] is True


def test_bank_of_russia_ca_added_as_accredited_stays_qualified_with_a_tsl(bank_pki: BankPki, pki: TestPki, document: Path, tmp_path: Path) -> None:
    _trust, config = _bank_trust(bank_pki, pki, tmp_path)
    (tmp_path / "tsl.xml").write_bytes(_tsl_for(pki, ACTIVE))
    assert gateway("--config", config, "trust", "import-tsl", tmp_path / "tsl.xml", "--offline").returncode == 0
    assert gateway("--config", config, "trust", "add", bank_pki.cert("bank_ca")).returncode == 0
    sig = bank_pki.sign("bank_head", document, tmp_path / "doc.sig")
    code, report = _verify_json(config, document, sig)
    assert code == 1 and report["signatures"][0]["qualified"] is False, "not in the list, not declared: not qualified"
    assert gateway("--config", config, "trust", "add", bank_pki.cert("bank_ca"), "--accredited").returncode == 0
    code, report = _verify_json(config, document, sig)
    assert code == 0, report


def test_trust_add_refuses_an_end_entity_certificate(pki: TestPki, trust_copy: Path, tmp_path: Path) -> None:
    run = gateway("--config", _config(tmp_path, trust_copy), "trust", "add", pki.cert("head256"))
    assert run.returncode == 1 and "not a CA" in run.stderr


def test_trust_add_refuses_an_intermediate_as_anchor(pki: TestPki, trust_copy: Path, tmp_path: Path) -> None:
    run = gateway("--config", _config(tmp_path, trust_copy), "trust", "add", pki.cert("ca"), "--anchor")
    assert run.returncode == 1 and "not self-signed" in run.stderr


# --- /healthz and the scheduled refresh ---------------------------------------------------


async def test_healthz_reports_every_crl_with_age_and_next_update(aiohttp_client: ClientFactory, pki: TestPki, tmp_path: Path) -> None:
    config = Config(
        verification=VerificationConfig(trust_dir=pki.trust_dir, offline=True),
        storage=StorageConfig(data_dir=tmp_path / "var", members_csv=members_csv(tmp_path / "m.csv")),
    )
    client = await aiohttp_client(create_app(config))
    body = await (await client.get("/healthz")).json()
    assert body["status"] == "ok" and body["trust_data"]["status"] == "ok"
    crls = [i for i in body["trust_data"]["items"] if i["kind"] == "crl"]
    assert len(crls) == 4 and all(i["next_update"] and i["age_hours"] is not None for i in crls)
    assert body["awaiting_revocation"] == 0


async def test_healthz_is_degraded_when_a_crl_is_past_next_update_and_offline(
    aiohttp_client: ClientFactory, pki: TestPki, trust_copy: Path, tmp_path: Path
) -> None:
    from tests.pki.revocation import make_crl

    make_crl(pki, "ca", trust_copy / "crl" / "ca.crl", this_update=NOW - timedelta(days=40), next_update=NOW - timedelta(days=10))
    config = Config(
        verification=VerificationConfig(trust_dir=trust_copy, offline=True),
        storage=StorageConfig(data_dir=tmp_path / "var", members_csv=members_csv(tmp_path / "m.csv")),
    )
    client = await aiohttp_client(create_app(config))
    body = await (await client.get("/healthz")).json()
    assert body["status"] == "degraded" and body["trust_data"]["status"] == "degraded"


async def test_the_service_imports_the_tsl_from_its_url_on_schedule_and_keeps_it_when_the_url_fails(
    aiohttp_client: ClientFactory, pki: TestPki, online_pki: OnlinePki, trust_copy: Path, tmp_path: Path
) -> None:
    config = Config(
        verification=VerificationConfig(trust_dir=trust_copy, fetch_retry_after_seconds=0.0),
        trust=TrustConfig(tsl_url=f"{online_pki.base_url}/files/tsl.xml", tsl_refresh_hours=24.0, prefetch_crls=False),
        storage=StorageConfig(data_dir=tmp_path / "var", members_csv=members_csv(tmp_path / "m.csv")),
    )
    with RevocationServer(online_pki) as server:
        server.files["tsl.xml"] = _tsl_for(pki, ACTIVE)
        client = await aiohttp_client(create_app(config))
        for _ in range(100):
            body = await (await client.get("/healthz")).json()
            if body["trust_store"]["tsl"]:
                break
            await asyncio.sleep(0.05)
        assert body["trust_store"]["tsl"] is True
    from gateway.trust.tsl_refresh import import_tsl
    from validators.signatures.fetch import Fetcher
    from validators.tsl import TslError

    try:
        import_tsl(config.trust.tsl_url, trust_copy, Fetcher())
    except TslError:
        pass
    else:
        raise AssertionError("the server is down: the import must fail")
    assert (trust_copy / "tsl.xml").read_bytes() == _tsl_for(pki, ACTIVE)
