"""Online revocation: CRLs from the certificate's CDP and OCSP from its AIA, served by a
real aiohttp server on 127.0.0.1, with the on-disk cache (tests/pki/online.py)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl

from tests.conftest import REPO
from tests.pki.online import OnlinePki, RevocationServer
from tests.pki.revocation import make_crl
from validators.crl_index import REASONS, open_crl, serial_key
from validators.revocation_cache import OnlineRevocation, RevocationCache
from validators.signatures.fetch import Fetcher, FetchPolicy
from validators.signatures.model import Indication, SignatureReport, SubIndication
from validators.signatures.verify import VerificationPolicy, verify_cms
from validators.trust import TrustStore, load_trust_store


@pytest.fixture
def trust(online_pki: OnlinePki, tmp_path: Path) -> TrustStore:
    return load_trust_store(online_pki.trust_copy(tmp_path / "trust"))


@pytest.fixture
def server(online_pki: OnlinePki):  # type: ignore[no-untyped-def]
    with RevocationServer(online_pki) as running:
        yield running


def _online(folder: Path, policy: FetchPolicy | None = FetchPolicy(connect_timeout=2, read_timeout=5), **kwargs) -> OnlineRevocation:  # type: ignore[no-untyped-def]
    return OnlineRevocation(RevocationCache(folder), Fetcher(policy) if policy is not None else None, retry_after=0, **kwargs)


def _verify(
    online_pki: OnlinePki, label: str, trust: TrustStore, document: Path, tmp_path: Path, online: OnlineRevocation | None, **policy: object
) -> SignatureReport:
    sig = online_pki.sign(label, document, tmp_path / f"{label}.sig")
    report = verify_cms(sig.read_bytes(), trust, VerificationPolicy(online=online, **policy), document=document)  # type: ignore[arg-type]
    return report.signatures[0]


def _revocation_details(result: SignatureReport) -> str:
    return " | ".join(c.detail for c in result.checks if c.name == "chain.revocation")


# --- CRL from the CDP ------------------------------------------------------------------


def test_good_certificate_passes_with_the_crl_fetched_from_its_cdp(online_pki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _verify(online_pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache"))
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()
    assert server.hits.get("/ca.crl") == 1 and server.hits.get("/root.crl") == 1
    assert "cached from http://127.0.0.1" in _revocation_details(result)


def test_revoked_certificate_fails_with_the_crl_fetched_from_its_cdp(online_pki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _verify(online_pki, "crl_revoked", trust, document, tmp_path, _online(tmp_path / "cache"))
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_cdp_unreachable_gives_try_later(online_pki, trust, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _verify(online_pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache"))
    assert (result.indication, result.sub_indication) == (Indication.INDETERMINATE, SubIndication.TRY_LATER)
    assert "could not fetch http://127.0.0.1" in _revocation_details(result)


def test_without_an_online_source_nothing_is_fetched(online_pki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _verify(online_pki, "crl_good", trust, document, tmp_path, None)
    assert result.sub_indication is SubIndication.TRY_LATER
    assert server.hits == {}


def test_offline_source_uses_only_the_cache(online_pki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _verify(online_pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache", policy=None))
    assert result.sub_indication is SubIndication.TRY_LATER
    assert server.hits == {}


def test_cache_survives_a_restart_and_serves_while_the_ca_is_down(online_pki, trust, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with RevocationServer(online_pki) as running:
        first = _verify(online_pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache"))
        assert first.indication is Indication.TOTAL_PASSED, first.failed_checks()
        again = _verify(online_pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache"))
        assert again.indication is Indication.TOTAL_PASSED
        assert running.hits["/ca.crl"] == 1, "a current cached CRL is not fetched again"
    after_restart = _verify(online_pki, "crl_revoked", trust, document, tmp_path, _online(tmp_path / "cache"))
    assert after_restart.sub_indication is SubIndication.REVOKED


def test_crl_is_fetched_again_ahead_of_its_next_update(online_pki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _verify(online_pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache"))
    soon = datetime.now(UTC) + timedelta(days=7) - timedelta(minutes=30)
    _verify(online_pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache", clock=lambda: soon))
    assert server.hits["/ca.crl"] == 2


def test_superseded_crls_are_kept_and_a_newer_listing_wins(online_pki: OnlinePki, trust, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    published = tmp_path / "pki"
    shutil.copytree(online_pki.root_dir, published)
    pki = OnlinePki(published, online_pki.port, online_pki.serials)
    cache = tmp_path / "cache"
    with RevocationServer(pki):
        assert _verify(pki, "crl_good", trust, document, tmp_path, _online(cache)).indication is Indication.TOTAL_PASSED
    # The CA publishes a new CRL that revokes crl_good too.
    _republish_ca_crl(pki, tmp_path, revoke=("crl_revoked", "crl_good"))
    later = datetime.now(UTC) + timedelta(days=8)
    with RevocationServer(pki):
        result = _verify(pki, "crl_good", trust, document, tmp_path, _online(cache, clock=lambda: later))
    assert result.sub_indication is SubIndication.REVOKED
    infos = [i for i in RevocationCache(cache).crl_infos() if "Онлайн аккредитованный" in i.issuer]
    assert len(infos) == 2 and [i.superseded for i in infos] == [True, False]


def _republish_ca_crl(pki: OnlinePki, tmp_path: Path, revoke: tuple[str, ...]) -> None:
    from tests.pki.builder import _BASE_CONF, _ca_section, _fmt_time, _fmt_utctime, _run_openssl

    now = datetime.now(UTC).replace(microsecond=0)
    work = tmp_path / "recrl"
    work.mkdir()
    lines = [
        f"R\t{_fmt_utctime(now + timedelta(days=365))}\t{_fmt_utctime(now - timedelta(hours=2))},keyCompromise\t{pki.serials[label]}\tunknown\t/CN={label}\n"
        for label in revoke
    ]
    (work / "index.txt").write_text("".join(lines))
    (work / "crlnumber").write_text("02\n")
    (work / "openssl.cnf").write_text(_BASE_CONF + _ca_section(work, "md_gost12_256"), encoding="utf-8")
    _run_openssl(["ca", "-config", str(work / "openssl.cnf"), "-gencrl", "-md", "md_gost12_256",
                  "-cert", str(pki.cert("online_ca")), "-keyfile", str(pki.key("online_ca")),
                  "-crl_lastupdate", _fmt_time(now), "-crl_nextupdate", _fmt_time(now + timedelta(days=30)),
                  "-out", str(work / "crl.pem")])
    _run_openssl(["crl", "-in", str(work / "crl.pem"), "-outform", "DER", "-out", str(pki.crl("ca"))])


def test_a_crl_at_the_cdp_that_the_issuer_did_not_sign_is_not_believed(online_pki: OnlinePki, trust, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    published = tmp_path / "pki"
    shutil.copytree(online_pki.root_dir, published)
    pki = OnlinePki(published, online_pki.port, online_pki.serials)
    forged = bytearray(pki.crl("ca").read_bytes())
    forged[-5] ^= 0xFF
    pki.crl("ca").write_bytes(bytes(forged))
    with RevocationServer(pki):
        result = _verify(pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache"))
    assert result.sub_indication is SubIndication.TRY_LATER
    assert "does not verify" in _revocation_details(result)


def test_denied_host_is_not_fetched(online_pki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    policy = FetchPolicy(deny_hosts=("127.0.0.1",))
    result = _verify(online_pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache", policy=policy))
    assert result.sub_indication is SubIndication.TRY_LATER
    assert server.hits == {}


def test_host_outside_the_allow_list_is_not_fetched(online_pki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    policy = FetchPolicy(allow_hosts=(".nalog.ru",))
    _verify(online_pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache", policy=policy))
    assert server.hits == {}


def test_response_over_the_size_cap_is_refused(online_pki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    policy = FetchPolicy(max_bytes=200)
    result = _verify(online_pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache", policy=policy))
    assert result.sub_indication is SubIndication.TRY_LATER
    assert "over the limit" in _revocation_details(result)


def test_nothing_is_fetched_for_a_certificate_that_does_not_chain(online_pki, pki, store, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The CDP of a certificate whose chain did not verify is an attacker's URL: never asked."""
    result = _verify(online_pki, "crl_good", store, document, tmp_path, _online(tmp_path / "cache"))
    assert result.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert server.hits == {}


# --- OCSP from the AIA -----------------------------------------------------------------


def test_good_certificate_passes_with_ocsp_from_its_aia(online_pki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _verify(online_pki, "ocsp_good", trust, document, tmp_path, _online(tmp_path / "cache"))
    assert result.indication is Indication.TOTAL_PASSED, result.failed_checks()
    assert server.hits.get("/ocsp") == 1
    assert "OCSP" in _revocation_details(result)


def test_revoked_certificate_fails_with_ocsp_from_its_aia(online_pki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _verify(online_pki, "ocsp_revoked", trust, document, tmp_path, _online(tmp_path / "cache"))
    assert (result.indication, result.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_ocsp_responder_down_gives_try_later(online_pki, trust, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _verify(online_pki, "ocsp_good", trust, document, tmp_path, _online(tmp_path / "cache"))
    assert result.sub_indication is SubIndication.TRY_LATER


def test_cached_ocsp_response_is_reused(online_pki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _verify(online_pki, "ocsp_good", trust, document, tmp_path, _online(tmp_path / "cache"))
    result = _verify(online_pki, "ocsp_good", trust, document, tmp_path, _online(tmp_path / "cache"))
    assert result.indication is Indication.TOTAL_PASSED
    assert server.hits["/ocsp"] == 1


# --- the streaming CRL index -------------------------------------------------------------


def test_streamed_entries_equal_what_asn1crypto_reads(pki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC).replace(microsecond=0)
    path = make_crl(pki, "ca", tmp_path / "many.crl", revoked=[
        ("head256", now - timedelta(days=3)), ("revoked256", now - timedelta(days=1)), ("accountant256", now - timedelta(days=400 * 30)),
    ])
    expected = {
        e["user_certificate"].native: (e["revocation_date"].native, e.crl_reason_value.native)
        for e in asn1_crl.CertificateList.load(path.read_bytes())["tbs_cert_list"]["revoked_certificates"]
    }
    with open_crl(path) as item:
        streamed = {
            int.from_bytes(serial, "big", signed=True): (datetime.strptime(when, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC), REASONS[reason])
            for serial, when, reason in item.entries()
        }
        assert item.header["tbs_cert_list"]["issuer"] == asn1_crl.CertificateList.load(path.read_bytes())["tbs_cert_list"]["issuer"]
    assert streamed == expected and len(streamed) == 3


@pytest.mark.parametrize("serial", [0, 1, 0x7F, 0x80, 0xFF, 0x4B7E000000000C0C, 2**159 + 5])
def test_serial_key_is_the_minimal_der_integer(serial: int) -> None:
    from asn1crypto import core

    assert serial_key(serial) == core.Integer(serial).contents


def test_superseded_crls_are_pruned_only_long_after_their_next_update(pki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC).replace(microsecond=0)
    cache = RevocationCache(tmp_path / "cache", keep_superseded=timedelta(days=30))
    ancient = make_crl(pki, "ca", tmp_path / "a.crl", this_update=now - timedelta(days=100), next_update=now - timedelta(days=70), crl_number=1)
    recent = make_crl(pki, "ca", tmp_path / "b.crl", this_update=now - timedelta(days=20), next_update=now - timedelta(days=10), crl_number=2)
    cache.add_crl_file(recent, "http://x/ca.crl")
    cache.add_crl_file(make_crl(pki, "ca", tmp_path / "c.crl", crl_number=3), "http://x/ca.crl")
    assert len(cache.crl_infos()) == 2, "superseded but within the keeping period: kept"
    cache.add_crl_file(ancient, "http://x/ca.crl")
    kept = cache.crl_infos()
    assert len(kept) == 2 and min(i.this_update for i in kept) == now - timedelta(days=20)
    lone = RevocationCache(tmp_path / "lone", keep_superseded=timedelta(days=1))
    lone.add_crl_file(make_crl(pki, "ca", tmp_path / "d.crl", this_update=now - timedelta(days=100), next_update=now - timedelta(days=70)), None)
    assert len(lone.crl_infos()) == 1, "the newest CRL of an issuer is never dropped"


def test_cached_crls_due_for_refresh_are_fetched_ahead_in_the_background(online_pki: OnlinePki, trust, server, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from validators.signatures.certificates import name_key

    _verify(online_pki, "crl_good", trust, document, tmp_path, _online(tmp_path / "cache"))
    by_name = {name_key(c.subject): [c] for c in (*trust.roots, *trust.intermediates)}
    assert _online(tmp_path / "cache").refresh_due(lambda key: by_name.get(key, [])) == []
    assert server.hits["/ca.crl"] == 1, "not due yet: nothing fetched"
    soon = datetime.now(UTC) + timedelta(days=7) - timedelta(minutes=30)
    assert _online(tmp_path / "cache", clock=lambda: soon).refresh_due(lambda key: by_name.get(key, [])) == []
    assert server.hits["/ca.crl"] == 2 and server.hits["/root.crl"] == 2


def test_streamed_entries_of_real_ca_crls_equal_asn1crypto(corpus: Path, tmp_path: Path) -> None:
    """The Минцифры and CryptoPro CRLs of the corpus (DER or PEM): the same entries either way."""
    from asn1crypto import pem

    files = sorted((corpus / "certs").glob("*.crl"))
    assert files
    for path in files:
        data = path.read_bytes()
        der = pem.unarmor(data)[2] if pem.detect(data) else data
        (tmp_path / "x.crl").write_bytes(der)
        parsed = asn1_crl.CertificateList.load(der)
        expected = {
            e["user_certificate"].native: (e["revocation_date"].native, e.crl_reason_value.native if e.crl_reason_value else None)
            for e in parsed["tbs_cert_list"]["revoked_certificates"]
        }
        with open_crl(tmp_path / "x.crl") as item:
            streamed = {
                int.from_bytes(serial, "big", signed=True): (
                    datetime.strptime(when, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC),
                    REASONS[reason] if reason is not None else None,
                )
                for serial, when, reason in item.entries()
            }
            assert item.header["tbs_cert_list"]["this_update"].native == parsed["tbs_cert_list"]["this_update"].native
        assert streamed == expected, path.name


def test_real_mincifry_crl_signature_verifies_when_streamed(corpus: Path, tmp_path: Path) -> None:
    from validators.signatures.certificates import load_certificates

    root = load_certificates((REPO / "certs" / "roots" / "guc_mincifry_root_2022_951FA347.pem").read_bytes())[0]
    (tmp_path / "x.crl").write_bytes((corpus / "certs" / "crl_mincifry_root_2022_2024-10-17.crl").read_bytes())
    with open_crl(tmp_path / "x.crl") as item:
        assert item.signature_verifies(root.public_key)
    forged = bytearray((tmp_path / "x.crl").read_bytes())
    forged[200] ^= 0x01
    (tmp_path / "y.crl").write_bytes(bytes(forged))
    with open_crl(tmp_path / "y.crl") as item:
        assert not item.signature_verifies(root.public_key)
