"""Currency of the trust data (issue 10 §2): every CRL's age and nextUpdate, and the TSL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.pki.builder import TestPki
from tests.pki.revocation import make_crl
from validators.revocation_cache import RevocationCache
from validators.trust import load_trust_store
from validators.trust_health import trust_health

NOW = datetime.now(UTC).replace(microsecond=0)


def test_current_crls_are_ok_with_age_and_next_update(store) -> None:  # type: ignore[no-untyped-def]
    health = trust_health(store, NOW)
    assert health.level == "ok"
    crls = [i for i in health.items if i.kind == "crl"]
    assert len(crls) == len(store.crls) and all(i.next_update is not None and i.age_hours is not None for i in crls)


def test_crl_due_for_refresh_is_a_warning(store) -> None:  # type: ignore[no-untyped-def]
    almost = NOW + timedelta(days=30) - timedelta(minutes=10)
    assert trust_health(store, almost, online=True).level == "warning"


def test_crl_past_next_update_offline_is_degraded(store) -> None:  # type: ignore[no-untyped-def]
    assert trust_health(store, NOW + timedelta(days=31), online=False).level == "degraded"


def test_crl_past_next_update_is_only_a_warning_while_a_refresh_is_possible(store) -> None:  # type: ignore[no-untyped-def]
    assert trust_health(store, NOW + timedelta(days=31), online=True).level == "warning"


def test_an_old_crl_superseded_by_a_newer_one_is_not_a_problem(pki: TestPki, trust_copy: Path, tmp_path: Path) -> None:
    old = make_crl(pki, "ca", tmp_path / "old.crl", this_update=NOW - timedelta(days=60), next_update=NOW - timedelta(days=30), crl_number=1)
    (trust_copy / "crl" / "0_old.crl").write_bytes(old.read_bytes())
    health = trust_health(load_trust_store(trust_copy), NOW, online=False)
    assert health.level == "ok"
    assert sum(i.superseded for i in health.items) == 1


def test_cached_crl_whose_address_failed_is_degraded_past_next_update(pki: TestPki, trust_copy: Path, tmp_path: Path) -> None:
    for path in (trust_copy / "crl").iterdir():
        path.unlink()
    cache = RevocationCache(tmp_path / "cache")
    crl_file = make_crl(pki, "ca", tmp_path / "c.crl", next_update=NOW + timedelta(days=1))
    cache.add_crl_file(crl_file, "http://crl.example/ca.crl")
    store = load_trust_store(trust_copy)
    later = NOW + timedelta(days=2)
    assert trust_health(store, later, cache=cache, online=True).level == "warning"
    cache.record_failure("http://crl.example/ca.crl", "http://crl.example/ca.crl: timed out")
    health = trust_health(store, later, cache=cache, online=True)
    assert health.level == "degraded"
    assert "timed out" in health.items[0].note


def test_tsl_older_than_twice_its_refresh_interval_is_a_warning(pki: TestPki, trust_copy: Path) -> None:
    from tests.pki.tsl import TslCentre, build_tsl

    (trust_copy / "tsl.xml").write_bytes(build_tsl([TslCentre("УЦ", "1", "2", [pki.cert("ca")], [("Действует", NOW - timedelta(days=900), None)])]))
    store = load_trust_store(trust_copy)
    fresh = trust_health(store, NOW, tsl_refresh=timedelta(hours=24), tsl_loaded_at=NOW - timedelta(hours=5))
    stale = trust_health(store, NOW, tsl_refresh=timedelta(hours=24), tsl_loaded_at=NOW - timedelta(hours=50))
    assert [i.level for i in fresh.items if i.kind == "tsl"] == ["ok"]
    assert [i.level for i in stale.items if i.kind == "tsl"] == ["warning"]
