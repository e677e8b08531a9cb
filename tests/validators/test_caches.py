"""Process-wide caches keep a bounded amount of memory whatever hostile input carries: keys
are fingerprints (SHA-256) or bounded-size values, entries are capped, and oversized
certificates and names are parsed each time instead of being kept (issue 13, section 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import x509

from tests.pki.builder import TestPki
from validators.revocation_cache import OnlineRevocation, RevocationCache
from validators.signatures import certificates
from validators.signatures.fetch import Fetcher


def _rsa_certificate(pki: TestPki) -> x509.Certificate:
    """An RSA one: asn1crypto re-encodes its key (it has no spec for GOST keys)."""
    return x509.Certificate.load(certificates.der_blocks(pki.cert("rsa_signer").read_bytes())[0])


def _variant(cert: x509.Certificate, serial: int, padding: bytes = b"") -> bytes:
    """The certificate's DER with another serial (and an optional unknown extension of
    ``padding``): parseable, its signature no longer valid — the cache does not care."""
    copy = x509.Certificate.load(cert.dump())
    tbs = copy["tbs_certificate"]
    tbs["serial_number"] = serial
    if padding:
        extensions = list(tbs["extensions"]) + [x509.Extension({"extn_id": "1.2.643.999.7", "critical": False, "extn_value": padding})]
        tbs["extensions"] = x509.Extensions(extensions)
    return copy.dump(force=True)


def test_the_same_certificate_is_parsed_once_and_kept_under_its_sha256(pki: TestPki) -> None:
    der = _variant(_rsa_certificate(pki), 0x1001)
    first, second = certificates.certificate_from_der(der), certificates.certificate_from_der(bytes(der))
    assert first is second
    assert all(len(key) == 32 for key in certificates._certificates)  # digests, never the DER


def test_an_oversized_certificate_is_parsed_but_never_kept(pki: TestPki) -> None:
    der = _variant(_rsa_certificate(pki), 0x1002, padding=b"\x00" * 40_000)
    assert len(der) > certificates._MAX_CACHED_CERTIFICATE
    before = len(certificates._certificates)
    cert = certificates.certificate_from_der(der)
    assert cert.serial_number == 0x1002 and cert is not certificates.certificate_from_der(der)
    assert len(certificates._certificates) == before


def test_the_certificate_cache_never_holds_more_than_its_cap(pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(certificates, "_CERTIFICATE_CACHE_SIZE", 16)  # the real cap (512) takes seconds to fill
    # An empty cache of its own: earlier tests in this worker may have filled the shared one past 16.
    monkeypatch.setattr(certificates, "_certificates", type(certificates._certificates)())
    cert = _rsa_certificate(pki)
    for serial in range(0x2000, 0x2000 + 40):
        certificates.certificate_from_der(_variant(cert, serial))
    assert len(certificates._certificates) == 16
    latest = _variant(cert, 0x2000 + 39)
    assert certificates.certificate_from_der(latest) is certificates.certificate_from_der(latest)  # the newest stay


def test_an_oversized_name_is_compared_but_never_kept() -> None:
    def huge(value: str) -> x509.Name:
        return x509.Name.build({"common_name": value * 20_000})

    before = certificates._cached_name_key.cache_info().currsize
    assert certificates.name_key(huge("a")) == certificates.name_key(huge("a"))
    assert certificates.name_key(huge("a")) != certificates.name_key(huge("b"))
    assert certificates._cached_name_key.cache_info().currsize == before
    small = x509.Name.build({"common_name": "Тестовый УЦ"})
    assert certificates.name_key(small) == certificates.name_key(x509.Name.build({"common_name": "тестовый  уц"}))


def test_the_per_address_fetch_locks_do_not_outlive_their_holders(tmp_path: Path) -> None:
    """One lock per CRL address while a fetch holds it; the table does not grow with every
    address ever fetched."""
    source = OnlineRevocation(RevocationCache(tmp_path / "cache"), None)
    held = source._lock("http://ca.test/a.crl")
    with held:
        assert source._lock("http://ca.test/a.crl") is held  # a second fetch of it waits on the same lock
    del held
    for number in range(1000):
        with source._lock(f"http://ca.test/{number}.crl"):
            pass
    assert len(source._locks) == 0


def test_the_per_host_fetch_slots_do_not_outlive_their_holders() -> None:
    fetcher = Fetcher()
    slot = fetcher._slot("ca.test")
    with slot:
        assert fetcher._slot("ca.test") is slot  # concurrent fetches of one host share its limit
    del slot
    for number in range(1000):
        with fetcher._slot(f"crl{number}.ca.test"):
            pass
    assert len(fetcher._per_host) == 0
