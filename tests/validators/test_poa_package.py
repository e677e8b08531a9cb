"""МЧД in real packages (``validate_package``): a chief accountant's personal certificate
plus an МЧД signed by the head counts as the member's signature; every ``poa.`` finding
from a package that produces it. Real GOST signatures (openssl + gost engine), real ZIPs,
a real HTTP registry on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gateway.pipeline.decision import Decision
from tests.pki.builder import FOREIGN_INNLE, FOREIGN_OGRN, HEAD_EMAIL, KPK_INNLE, KPK_NAME, KPK_OGRN, TestPki
from tests.pki.poa import STRANGER, PoaSpec, poa_xml, write_poa, write_signed_poa
from tests.validators.poa_packages import (
    HEAD,
    MEMBER,
    TODAY,
    Package,
    codes,
    decision,
    members,
    poa_of,
    poa_pki,
    validate,
)
from validators.catalogue import Slot
from validators.members import MemberList
from validators.package import ValidationContext, validate_package
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore

__all__ = ["members", "poa_pki"]  # fixtures used by the tests below


# --- accepted ------------------------------------------------------------------------------


def test_accountant_with_a_head_signed_poa_in_the_archive_signs_for_the_member(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    spec = PoaSpec()
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa", spec))
    result = validate(package, store, members, tmp_path)
    assert result.checks == () and decision(result) is Decision.ACCEPTED
    poa = poa_of(result)
    assert poa["valid"] is True and poa["number"] == spec.number and poa["file"] == f"Приложение.zip/{spec.file_name}"
    assert poa["stamp_ru"] == (
        f"Подписано представителем по доверенности № {spec.number} от {spec.issued:%d.%m.%Y}, "
        f'доверитель {KPK_NAME} (ОГРН {KPK_OGRN}, ИНН {KPK_INNLE}), действует до {spec.valid_until:%d.%m.%Y}'
    )
    assert poa["powers"] == [{"code": None, "text": spec.powers_text}]
    assert poa["registry"]["consulted"] is False
    # Every signature of the representative carries the МЧД, the head's signature of the МЧД does not.
    assert poa_of(result, "Приложение.zip/Справка.pdf")["valid"] is True
    assert next(s for s in result.signatures if s.file.endswith(".xml")).power_of_attorney is None


def test_poa_as_its_own_upload_part_with_its_signature_counts(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    package = Package(poa_pki, tmp_path / "p").as_part(*write_signed_poa(poa_pki, tmp_path / "poa"))
    result = validate(package, store, members, tmp_path)
    assert result.checks == (), result.checks
    assert poa_of(result)["valid"] is True


def test_poa_signature_uploaded_in_the_signature_part_is_matched_to_the_poa(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    xml, sig = write_signed_poa(poa_pki, tmp_path / "poa")
    package = Package(poa_pki, tmp_path / "p").as_part(xml).as_part(sig, slot=Slot.SIGNATURE)
    result = validate(package, store, members, tmp_path)
    assert result.checks == (), result.checks


def test_windows_1251_poa_with_a_namespace_and_plain_snils_counts(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    spec = PoaSpec(encoding="windows-1251", namespace="urn:fns:emchd", dashed_snils=False)
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa", spec))
    assert validate(package, store, members, tmp_path).checks == ()


def test_a_package_signed_by_the_head_needs_no_poa(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    result = validate(Package(poa_pki, tmp_path / "p", signer="head256"), store, members, tmp_path)
    assert result.checks == ()
    assert all(s.power_of_attorney is None for s in result.signatures)


def test_poa_valid_on_its_last_day_counts(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    # The moment of signing is a Moscow date compared inclusively with СрокДейст.
    from datetime import datetime

    from validators.poa.verify import MOSCOW

    moscow_today = datetime.now(UTC).astimezone(MOSCOW).date()
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa", PoaSpec(issued=moscow_today, valid_until=moscow_today)))
    assert validate(package, store, members, tmp_path).checks == ()


# --- one package per finding --------------------------------------------------------------


def test_personal_certificate_without_poa_is_returned_not_foreign(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    result = validate(Package(poa_pki, tmp_path / "p"), store, members, tmp_path)
    assert codes(result) == {"poa.missing"}
    assert decision(result) is Decision.RETURNED


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (PoaSpec(issued=TODAY - timedelta(days=400), valid_until=TODAY - timedelta(days=2)), "poa.expired"),
        (PoaSpec(issued=TODAY + timedelta(days=2), valid_until=TODAY + timedelta(days=300)), "poa.not_yet_valid"),
        (PoaSpec(representative=STRANGER), "poa.representative_mismatch"),
    ],
)
def test_fixable_poa_problems_return_the_package(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path, spec: PoaSpec, code: str) -> None:
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa", spec))
    result = validate(package, store, members, tmp_path)
    assert codes(result) == {code}
    assert decision(result) is Decision.RETURNED
    assert "signer.foreign_org" not in codes(result)


def test_poa_naming_the_accountant_does_not_cover_another_person(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    package = Package(poa_pki, tmp_path / "p", signer="stranger_personal").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa"))
    assert codes(validate(package, store, members, tmp_path)) == {"poa.representative_mismatch"}


def test_poa_with_the_right_name_but_another_snils_does_not_count(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    from tests.pki.poa import ACCOUNTANT

    spec = PoaSpec(representative=replace(ACCOUNTANT, snils="99999999999"))
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa", spec))
    assert codes(validate(package, store, members, tmp_path)) == {"poa.representative_mismatch"}


def test_poa_with_the_right_snils_but_another_name_does_not_count(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    from tests.pki.poa import ACCOUNTANT

    spec = PoaSpec(representative=replace(ACCOUNTANT, surname="Петренко"))
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa", spec))
    assert codes(validate(package, store, members, tmp_path)) == {"poa.representative_mismatch"}


def test_names_compare_case_and_yo_insensitively(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    from tests.pki.poa import ACCOUNTANT

    spec = PoaSpec(representative=replace(ACCOUNTANT, surname="ПЕТРОВА", given_name="мария"))
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa", spec))
    assert validate(package, store, members, tmp_path).checks == ()


def test_poa_of_another_organisation_is_rejected(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    spec = PoaSpec(org_name='ООО "Чужая"', ogrn=FOREIGN_OGRN, inn_le=FOREIGN_INNLE)
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa", spec))
    result = validate(package, store, members, tmp_path)
    assert "poa.principal_mismatch" in codes(result) and decision(result) is Decision.REJECTED


def test_unsigned_poa_is_rejected(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    package = Package(poa_pki, tmp_path / "p").as_part(write_poa(tmp_path / "poa"))
    result = validate(package, store, members, tmp_path)
    # Unsigned, as the same file in the archive is (tests/redteam/test_poa_part_findings.py).
    assert codes(result) == {"poa.signature", "signature.missing"} and decision(result) is Decision.REJECTED
    assert "unsigned" in next(c.detail for c in result.checks if c.code == "poa.signature")


def test_poa_changed_after_the_head_signed_it_is_rejected(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    xml, sig = write_signed_poa(poa_pki, tmp_path / "poa", PoaSpec(valid_until=TODAY + timedelta(days=30)))
    xml.write_bytes(xml.read_bytes().replace(str(TODAY + timedelta(days=30)).encode(), str(TODAY + timedelta(days=3000)).encode()))
    result = validate(Package(poa_pki, tmp_path / "p").as_part(xml, sig), store, members, tmp_path)
    # The МЧД is a document of the package: its failed signature is listed too, as in the archive.
    assert codes(result) == {"poa.signature", "signature.invalid"} and decision(result) is Decision.REJECTED
    assert "HASH_FAILURE" in next(c.detail for c in result.checks if c.code == "poa.signature")


@pytest.mark.parametrize(
    ("label", "spec"),
    [
        ("accountant256", PoaSpec()),  # the member's organisation certificate, but not the head's
        ("foreign256", PoaSpec()),  # another organisation's head
        ("accountant_personal", PoaSpec()),  # the representative empowering herself
        ("head256", PoaSpec(issuer=STRANGER)),  # the head's key, but ЛицоБезДов names someone else
        ("head256", PoaSpec(kind="2")),  # issued by way of re-delegation
        ("nonqualified256", PoaSpec()),  # not a qualified signature
    ],
)
def test_poa_not_signed_by_the_members_head_is_rejected(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path, label: str, spec: PoaSpec) -> None:
    package = Package(poa_pki, tmp_path / "p").as_part(*write_signed_poa(poa_pki, tmp_path / "poa", spec, label=label))
    result = validate(package, store, members, tmp_path)
    # A non-qualified signature on the МЧД (a document of the package) is also its own finding,
    # and another organisation's one is reported as in the letter's archive (a third party).
    expected = {"poa.signature"} | ({"signature.not_qualified"} if label == "nonqualified256" else set())
    assert codes(result) == expected | ({"signature.third_party"} if label == "foreign256" else set()), result.checks
    assert decision(result) is Decision.REJECTED


def test_malformed_poa_is_rejected(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    broken = tmp_path / "ON_EMCHD_broken.xml"
    broken.write_bytes(b"<?xml version='1.0'?><not-closed")
    result = validate(Package(poa_pki, tmp_path / "p").as_part(broken), store, members, tmp_path)
    assert codes(result) == {"poa.format", "signature.missing"} and decision(result) is Decision.REJECTED


def test_poa_in_the_operators_revoked_list_is_rejected(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    spec = PoaSpec()
    revoked = tmp_path / "poa-revoked.txt"
    revoked.write_text(f"# revoked on request of the member\n{{{spec.number.upper()}}}  # letter of 01.10\n", encoding="utf-8")
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa", spec))
    result = validate(package, store, members, tmp_path, revoked_list=revoked)
    assert codes(result) == {"poa.revoked"} and decision(result) is Decision.REJECTED
    assert poa_of(result)["revoked_locally"] is True


def test_a_missing_revoked_list_revokes_nothing(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa"))
    assert validate(package, store, members, tmp_path, revoked_list=tmp_path / "absent.txt").checks == ()


# --- the online registry (a real aiohttp server on 127.0.0.1, in its own thread) -------------


@pytest.fixture
def registry() -> Iterator[dict[str, Any]]:
    """A registry answering ``{"status": statuses[number]}``; records the queries."""
    state: dict[str, Any] = {"statuses": {}, "queries": []}

    async def status(request: web.Request) -> web.Response:
        state["queries"].append(dict(request.query))
        if "raw" in state:
            return web.json_response(state["raw"])
        found = state["statuses"].get(request.query.get("number"))
        if found is None:
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response({"status": found})

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get("/emchd/status", status)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    state["url"] = f"http://127.0.0.1:{port}/emchd/status"
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def test_poa_revoked_in_the_online_registry_is_rejected(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path, registry: dict[str, Any]) -> None:
    spec = PoaSpec()
    registry["statuses"][spec.number] = "REVOKED"
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa", spec))
    result = validate(package, store, members, tmp_path, registry_url=registry["url"])
    assert codes(result) == {"poa.revoked"} and decision(result) is Decision.REJECTED
    assert poa_of(result)["registry"]["consulted"] is True and poa_of(result)["registry"]["status"] == "revoked"
    # Asked once per package, with the principal's ИНН, although two documents were signed.
    assert registry["queries"] == [{"number": spec.number, "inn": KPK_INNLE}]


def test_poa_active_in_the_online_registry_counts_and_says_it_was_consulted(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path, registry: dict[str, Any]) -> None:
    spec = PoaSpec()
    registry["statuses"][spec.number] = "active"
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa", spec))
    result = validate(package, store, members, tmp_path, registry_url=registry["url"])
    assert result.checks == ()
    assert poa_of(result)["registry"]["consulted"] is True


def test_unanswered_registry_is_a_warning_and_says_it_was_not_consulted(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path, registry: dict[str, Any]) -> None:
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa"))
    result = validate(package, store, members, tmp_path, registry_url=registry["url"])  # 404: not known there
    assert codes(result) == {"poa.revocation_unknown"} and decision(result) is Decision.ACCEPTED
    assert poa_of(result)["registry"]["consulted"] is False and "HTTP 404" in poa_of(result)["registry"]["detail"]


def test_unreachable_registry_is_a_warning(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa"))
    result = validate(package, store, members, tmp_path, registry_url="http://127.0.0.1:9/emchd/status", registry_timeout=2.0)
    assert codes(result) == {"poa.revocation_unknown"}


# --- the rules one by one (pure functions) ---------------------------------------------------


def test_poa_signed_by_a_former_head_no_longer_in_the_member_list_is_rejected(poa_pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(
        "number,ogrn,inn,name,email,head,status\n"
        f'{MEMBER},{KPK_OGRN},{KPK_INNLE},"{KPK_NAME}",{HEAD_EMAIL},Сидорова Анна Павловна,active\n',
        encoding="utf-8",
    )
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa"))
    result = validate(package, store, MemberList(path), tmp_path)
    assert codes(result) == {"poa.signature"}
    assert "Сидорова Анна Павловна" in next(c.detail for c in result.checks)


def test_the_moment_of_signing_is_the_signatures_time_of_judgment_not_now(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    from datetime import datetime

    at = datetime.now(UTC) - timedelta(days=20)
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa"))  # issued 10 days ago
    work = tmp_path / "work"
    work.mkdir()
    ctx = ValidationContext(MEMBER, "letter", None, None, members, store, VerificationPolicy(at=at), work)
    result = validate_package(package.files(), ctx)
    assert "poa.not_yet_valid" in codes(result)
    assert poa_of(result)["moment_of_signing"].startswith(at.strftime("%Y-%m-%dT%H:%M"))


def test_identifiers_present_on_both_sides_must_all_agree() -> None:
    from tests.pki.poa import ACCOUNTANT as A
    from validators.poa.model import Person
    from validators.poa.verify import person_matches
    from validators.signatures.model import SignerIdentity

    person = Person(A.surname, A.given_name, A.patronymic, A.snils, A.inn)
    signer = SignerIdentity(surname=A.surname, snils=A.snils, inn=A.inn)
    assert person_matches(person, signer) is None
    assert person_matches(person, replace(signer, inn="770000000099")) == f"ИНН {A.inn} in the power of attorney, 770000000099 in the certificate"
    assert person_matches(replace(person, inn=None), replace(signer, inn="770000000099")) is None  # СНИЛС alone decides
    assert person_matches(replace(person, snils=None), replace(signer, snils=None)) is None  # ИНН alone decides
    assert person_matches(replace(person, snils=None), replace(signer, inn=None)) is not None  # nothing in common
    # An older organisation certificate carries "00" + ИНН ЮЛ as INN: that is not the person's ИНН.
    assert person_matches(person, replace(signer, inn="00" + KPK_INNLE, inn_le=KPK_INNLE)) is None


def test_only_a_natural_persons_certificate_needs_a_poa() -> None:
    from validators.poa.verify import is_personal_certificate
    from validators.signatures.model import SignerIdentity

    assert is_personal_certificate(SignerIdentity(snils="23456789012", inn="770000000022"))
    assert not is_personal_certificate(SignerIdentity(snils="23456789012", ogrn=KPK_OGRN, inn_le=KPK_INNLE))
    assert not is_personal_certificate(SignerIdentity(snils="23456789012", ogrnip="304770000000012"))
    assert not is_personal_certificate(SignerIdentity(inn="770000000022"))
    assert not is_personal_certificate(None)


def test_the_revoked_list_ignores_comments_case_and_braces(tmp_path: Path) -> None:
    from validators.poa.revocation import load_revoked_list

    path = tmp_path / "revoked.txt"
    path.write_text("\ufeff# header\n\n{0B6F8F0E-3C1A-4D52-9A41-5D2F7C9E1A10}\n  abc # note\n", encoding="utf-8")
    revoked = load_revoked_list(path)
    assert revoked.revoked("0b6f8f0e-3c1a-4d52-9a41-5d2f7c9e1a10") and revoked.revoked("ABC")
    assert not revoked.revoked("header") and not revoked.revoked("note") and revoked.problem is None


def test_an_unreadable_revoked_list_is_reported_not_ignored(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    folder = tmp_path / "revoked-is-a-folder"
    folder.mkdir()
    package = Package(poa_pki, tmp_path / "p").in_archive(*write_signed_poa(poa_pki, tmp_path / "poa"))
    result = validate(package, store, members, tmp_path, revoked_list=folder)
    assert codes(result) == {"poa.revocation_unknown"}


@pytest.mark.parametrize(
    ("answer", "consulted", "status"),
    [
        ({"status": "active"}, True, "active"),
        ({"status": "Revoked"}, True, "revoked"),
        ({"status": "pending"}, False, None),
        ({}, False, None),
        (["revoked"], False, None),
    ],
)
def test_only_definite_registry_answers_count(registry: dict[str, Any], answer: Any, consulted: bool, status: str | None) -> None:
    from validators.poa.revocation import query_registry

    registry["raw"] = answer
    got = query_registry(registry["url"], "0b6f", KPK_INNLE, 5.0)
    assert (got.consulted, got.status) == (consulted, status)


@pytest.mark.parametrize(("ogrn", "inn_le"), [(KPK_OGRN, FOREIGN_INNLE), (FOREIGN_OGRN, KPK_INNLE)])
def test_the_principal_must_be_the_member_by_both_ogrn_and_inn(ogrn: str, inn_le: str) -> None:
    from validators.members import Member
    from validators.poa.parse import parse_poa
    from validators.poa.verify import principal_problem

    poa = parse_poa(poa_xml(PoaSpec(ogrn=ogrn, inn_le=inn_le))).poa
    assert poa is not None
    member = Member(MEMBER, KPK_OGRN, KPK_INNLE, KPK_NAME, HEAD_EMAIL, HEAD, "active")
    assert principal_problem(poa, member) is not None
    assert principal_problem(parse_poa(poa_xml(PoaSpec())).poa, member) is None  # type: ignore[arg-type]
