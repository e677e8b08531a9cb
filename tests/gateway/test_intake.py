"""End to end through the real HTTP server on 127.0.0.1: upload, validation, decision, reports.

Real files: GOST signatures from the test PKI, ZIPs built here, RAR/ZIP samples from the
corpus; a real SQLite file and blob folder per test.
"""

from __future__ import annotations

import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import AuthConfig, Config, LimitsConfig, ServerConfig
from tests.conftest import CORPUS
from tests.pki import pdf as pdfs
from tests.pki.builder import KPK_INNLE, KPK_OGRN, TestPki
from tests.pki.persons import add_person_certificates
from tests.pki.textpdf import text_pdf
from tests.servers.packages import (
    LETTER,
    MEMBER,
    REPORT,
    codes,
    decided,
    make_zip,
    report_zip,
    run_package,
    signed_copy,
    stored_report,
    submit,
)

ClientFactory = Callable[..., Awaitable[TestClient]]



class _Cp866Info(zipfile.ZipInfo):
    """An entry name written as CP866 bytes without the UTF-8 flag (old Russian archivers)."""

    def _encodeFilenameFlags(self):  # type: ignore[no-untyped-def]
        return self.filename.encode("cp866"), self.flag_bits & ~0x800


# --- accepted packages -------------------------------------------------------------------


async def test_correct_report_signed_by_the_head_is_accepted(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    report = await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    assert report["decision"] == "accepted", report["checks"]
    assert report["checks"] == []
    [signature] = report["signatures"]
    assert signature["file"] == f"{MEMBER}_OD.zip/report.xml"
    assert signature["signer"]["surname"] == "Иванов" and signature["qualified"] is True
    [file] = report["files"]
    assert file["name"] == f"{MEMBER}_OD.zip" and file["type"] == "application/zip" and len(file["streebog256"]) == 64


async def test_status_shows_the_decision(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    submission_id = (await response.json())["id"]
    await decided(client, submission_id)
    status = await (await client.get(f"/api/v1/submissions/{submission_id}")).json()
    # The embedded local registry may already have registered it.
    assert status["status"] in ("accepted", "registered")
    assert (status["decision"], status["member"]) == ("accepted", MEMBER)


@pytest.mark.parametrize("doc_type", ["letter", "disciplinary_report", "registry_notice", "information_request", "compensation_claim", "audit_conclusion", "meeting_notice"])
async def test_letter_like_package_with_signed_cover_and_archive_is_accepted(client: TestClient, pki: TestPki, tmp_path: Path, doc_type: str) -> None:
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf", "Cover letter")
    cover_sig = pki.sign("head256", cover, tmp_path / "Письмо.pdf.sig")
    attachment = make_zip(tmp_path / "Приложение.zip", signed_copy(pki, tmp_path / "att", "Справка.pdf", pdfs.make_pdf(tmp_path / "s.pdf").read_bytes()))
    report = await run_package(client, {"member": MEMBER, "doc_type": doc_type}, {"document": [cover], "attachment": [attachment], "signature": [cover_sig]})
    assert report["decision"] == "accepted", report["checks"]
    assert {s["file"] for s in report["signatures"]} == {"Письмо.pdf", "Приложение.zip/Справка.pdf"}


async def test_charter_with_a_gost_signature_embedded_in_the_pdf_is_accepted(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    charter = pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf(tmp_path / "plain.pdf", "Charter"), tmp_path / "Устав.pdf")
    report = await run_package(client, {"member": MEMBER, "doc_type": "charter"}, {"document": [charter]})
    assert report["decision"] == "accepted", report["checks"]
    assert report["signatures"][0]["kind"] == "embedded"


async def test_regulation_with_a_kind_and_a_detached_signature_is_accepted(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    regulation = pdfs.make_pdf(tmp_path / "Положение.pdf", "Regulation")
    signature = pki.sign("accountant256", regulation, tmp_path / "Положение.pdf.sig")
    report = await run_package(client, {"member": MEMBER, "doc_type": "regulation", "regulation_kind": "loans"}, {"document": [regulation], "signature": [signature]})
    assert report["decision"] == "accepted", report["checks"]


async def test_archive_with_cp866_names_is_read_and_accepted(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    files = signed_copy(pki, tmp_path / "cp866", "Отчет.xml", b"<x/>")
    archive = tmp_path / f"{MEMBER}_OD.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in files:
            out.writestr(_Cp866Info(file.name), file.read_bytes())
    report = await run_package(client, REPORT, {"document": [archive]})
    assert report["decision"] == "accepted", report["checks"]
    assert report["signatures"][0]["file"] == f"{MEMBER}_OD.zip/Отчет.xml"


async def test_annual_report_with_accounting_statements_is_accepted(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    statements = text_pdf(tmp_path / "a.pdf", ["Бухгалтерский баланс на 31 декабря 2024 г.", "Форма по ОКУД 0710001", f"ИНН {KPK_INNLE}"])
    accounting = signed_copy(pki, tmp_path / "acc", "бухгалтерская_отчетность.pdf", statements.read_bytes())
    report = await run_package(client, {**REPORT, "report_kind": "OD_Y90"}, {"document": [report_zip(pki, tmp_path, extra=accounting)]})
    assert report["decision"] == "accepted" and report["checks"] == [], report["checks"]


async def test_report_signed_by_another_employee_with_an_appointment_order_is_accepted(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    wording = ["ПРИКАЗ № 3", "Возложить исполнение обязанностей председателя правления", "на главного бухгалтера Петрову Марию Сергеевну."]
    order = signed_copy(pki, tmp_path / "order", "Приказ_о_назначении_врио.pdf", text_pdf(tmp_path / "o.pdf", wording).read_bytes(), "head256")
    report = await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256", extra=order)]})
    assert report["decision"] == "accepted" and report["checks"] == [], report["checks"]


# --- returned and rejected packages -------------------------------------------------------


async def test_report_signed_by_someone_other_than_the_head_is_returned(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    report = await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256")]})
    assert report["decision"] == "returned"
    assert codes(report) == {"signer.not_head"}


async def test_wrong_member_number_in_the_report_name_is_returned(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    report = await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, name="77_OD.zip")]})
    assert report["decision"] == "returned" and "name.member_number" in codes(report)


async def test_annual_report_without_accounting_statements_is_returned(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    report = await run_package(client, {**REPORT, "report_kind": "OD_Y90"}, {"document": [report_zip(pki, tmp_path)]})
    assert report["decision"] == "returned" and codes(report) == {"report.accounting_missing"}


async def test_another_organisations_signer_is_rejected(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    report = await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label="foreign256")]})
    assert report["decision"] == "rejected" and "signer.foreign_org" in codes(report)


async def test_unsigned_document_in_the_archive_is_rejected(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    loose = tmp_path / "loose.xml"
    loose.write_bytes(b"<unsigned/>")
    report = await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, extra=[loose])]})
    assert report["decision"] == "rejected"
    assert any(c["code"] == "signature.missing" and c["file"] == f"{MEMBER}_OD.zip/loose.xml" for c in report["checks"])


async def test_tampered_document_in_the_archive_is_rejected(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    files = signed_copy(pki, tmp_path / "t", "report.xml", b"<a>1</a>")
    files[0].write_bytes(b"<a>2</a>")
    report = await run_package(client, REPORT, {"document": [make_zip(tmp_path / f"{MEMBER}_OD.zip", files)]})
    assert report["decision"] == "rejected" and "signature.invalid" in codes(report)


async def test_non_qualified_signature_is_rejected(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    report = await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label="nonqualified256")]})
    assert report["decision"] == "rejected" and "signature.not_qualified" in codes(report)


async def test_revoked_signer_is_rejected(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    report = await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label="revoked256")]})
    assert report["decision"] == "rejected" and "signature.revoked" in codes(report)


async def test_unknown_member_is_refused_at_once(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    response = await submit(client, {**REPORT, "member": "999"}, {"document": [report_zip(pki, tmp_path)]})
    assert response.status == 400 and (await response.json())["error"]["code"] == "member.unknown"


async def test_excluded_member_is_rejected(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    report = await run_package(client, {**REPORT, "member": "13"}, {"document": [report_zip(pki, tmp_path, name="13_OD.zip")]})
    assert report["decision"] == "rejected" and codes(report) == {"member.inactive"}


async def test_zip_bomb_is_rejected(client: TestClient, tmp_path: Path) -> None:
    bomb = tmp_path / f"{MEMBER}_OD.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        with out.open("zeros.bin", "w") as entry:
            block = bytes(1 << 20)
            for _ in range(100):
                entry.write(block)
    report = await run_package(client, REPORT, {"document": [bomb]})
    assert report["decision"] == "rejected" and codes(report) & {"archive.bomb", "archive.too_large"}


async def test_parent_path_entry_is_rejected(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    files = signed_copy(pki, tmp_path / "p", "report.xml", b"<x/>")
    archive = make_zip(tmp_path / f"{MEMBER}_OD.zip", files, ["../report.xml", "../report.xml.sig"])
    report = await run_package(client, REPORT, {"document": [archive]})
    assert report["decision"] == "rejected" and "archive.unsafe_path" in codes(report)


async def test_symlink_entry_is_rejected(client: TestClient, tmp_path: Path) -> None:
    archive = tmp_path / f"{MEMBER}_OD.zip"
    with zipfile.ZipFile(archive, "w") as out:
        link = zipfile.ZipInfo("passwd")
        link.external_attr = 0o120777 << 16
        out.writestr(link, "/etc/passwd")
    report = await run_package(client, REPORT, {"document": [archive]})
    assert report["decision"] == "rejected" and "archive.link" in codes(report)


@pytest.mark.skipif(not (CORPUS / "archives").is_dir(), reason="corpus absent")
async def test_encrypted_zip_is_rejected(client: TestClient, tmp_path: Path) -> None:
    archive = tmp_path / f"{MEMBER}_OD.zip"
    archive.write_bytes((CORPUS / "archives/libarchive/test_read_format_zip_traditional_encryption_data.zip").read_bytes())
    report = await run_package(client, REPORT, {"document": [archive]})
    assert report["decision"] == "rejected" and "archive.encrypted" in codes(report)


@pytest.mark.skipif(not (CORPUS / "archives").is_dir(), reason="corpus absent")
async def test_rar5_attachment_from_the_corpus_is_read_and_its_unsigned_file_reported(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf")
    rar = tmp_path / "Приложение.rar"
    rar.write_bytes((CORPUS / "archives/libarchive/test_read_format_rar5_stored.rar").read_bytes())
    report = await run_package(client, LETTER, {"document": [cover], "attachment": [rar], "signature": [pki.sign("head256", cover, tmp_path / "Письмо.pdf.sig")]})
    assert report["decision"] == "rejected"
    assert [c["file"] for c in report["checks"] if c["code"] == "signature.missing"] == ["Приложение.rar/helloworld.txt"]


async def test_pdf_renamed_to_zip_is_rejected(client: TestClient, tmp_path: Path) -> None:
    fake = tmp_path / f"{MEMBER}_OD.zip"
    fake.write_bytes(pdfs.make_pdf(tmp_path / "x.pdf").read_bytes())
    report = await run_package(client, REPORT, {"document": [fake]})
    assert report["decision"] == "rejected" and "file.type_not_allowed" in codes(report)


async def test_zip_renamed_to_pdf_is_reported(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf")
    attachment = make_zip(tmp_path / "Приложение.pdf", signed_copy(pki, tmp_path / "a", "Справка.txt", b"text"))
    report = await run_package(client, LETTER, {"document": [cover], "attachment": [attachment], "signature": [pki.sign("head256", cover, tmp_path / "Письмо.pdf.sig")]})
    assert "file.extension_mismatch" in codes(report) and report["decision"] != "accepted"


async def test_missing_signature_on_the_cover_letter_is_rejected(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf")
    attachment = make_zip(tmp_path / "Приложение.zip", signed_copy(pki, tmp_path / "a", "Справка.txt", b"text"))
    report = await run_package(client, LETTER, {"document": [cover], "attachment": [attachment]})
    assert report["decision"] == "rejected"
    assert [c["file"] for c in report["checks"] if c["code"] == "signature.missing"] == ["Письмо.pdf"]


async def test_empty_file_is_rejected(client: TestClient, tmp_path: Path) -> None:
    empty = tmp_path / "Устав.pdf"
    empty.write_bytes(b"")
    report = await run_package(client, {"member": MEMBER, "doc_type": "charter"}, {"document": [empty]})
    assert report["decision"] == "rejected" and "file.empty" in codes(report)


# --- API behaviour -------------------------------------------------------------------------


async def test_same_external_id_twice_returns_the_first_submission(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    package = report_zip(pki, tmp_path)
    first = await submit(client, {**REPORT, "external_id": "portal-1"}, {"document": [package]})
    second = await submit(client, {**REPORT, "external_id": "portal-1"}, {"document": [package]})
    assert first.status == 202 and second.status == 200
    assert (await first.json())["id"] == (await second.json())["id"]


async def test_body_over_the_limit_is_cut_off_with_413(aiohttp_client: ClientFactory, config: Config, tmp_path: Path) -> None:
    import dataclasses

    small = dataclasses.replace(config, server=ServerConfig(max_request_bytes=200_000))
    client = await aiohttp_client(create_app(small))
    big = tmp_path / f"{MEMBER}_OD.zip"
    big.write_bytes(bytes(1_000_000))
    response = await submit(client, REPORT, {"document": [big]})
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "request.too_large"


async def test_missing_fields_are_a_400_in_russian(client: TestClient, tmp_path: Path) -> None:
    file = tmp_path / "x.pdf"
    file.write_bytes(b"%PDF-1.4")
    response = await submit(client, {"doc_type": "charter"}, {"document": [file]})
    assert response.status == 400
    assert "member" in (await response.json())["error"]["message_ru"]


async def test_staff_html_report_shows_checks_and_signature_stamps(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256")]})
    submission_id = (await response.json())["id"]
    await decided(client, submission_id)
    html = await (await client.get(f"/api/v1/submissions/{submission_id}/report?format=html")).text()
    assert "Возвращен на доработку" in html and "signer.not_head" in html
    assert "ДОКУМЕНТ ПОДПИСАН УСИЛЕННОЙ КВАЛИФИЦИРОВАННОЙ ЭЛЕКТРОННОЙ ПОДПИСЬЮ" in html and "Петрова" in html and KPK_OGRN in html


async def test_keys_are_required_and_portal_reads_html_only_for_its_member(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    import dataclasses

    keyed = dataclasses.replace(config, auth=AuthConfig(api_keys={"portal": "portal-key-1", "staff": "staff-key-2", "registry": "registry-key-3"}))
    client = await aiohttp_client(create_app(keyed))
    assert (await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})).status == 401
    portal = {"X-API-Key": "portal-key-1"}
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]}, portal)
    submission_id = (await response.json())["id"]
    await decided(client, submission_id, portal)
    url = f"/api/v1/submissions/{submission_id}/report?format=html"
    assert (await client.get(url, headers=portal)).status == 403
    assert (await client.get(url + "&member=13", headers=portal)).status == 403
    assert (await client.get(url + f"&member={MEMBER}", headers=portal)).status == 200
    assert (await client.get(url, headers={"X-API-Key": "staff-key-2"})).status == 200
    assert (await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]}, {"X-API-Key": "registry-key-3"})).status == 403


async def test_openapi_document_describes_the_submission_api(client: TestClient) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    assert {"/api/v1/submissions", "/api/v1/submissions/{id}", "/api/v1/submissions/{id}/report"} <= set(document["paths"])


async def test_metrics_count_decisions(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    text = await (await client.get("/metrics")).text()
    assert 'gateway_decisions_total{decision="accepted"} 1' in text
    assert "gateway_validation_seconds_count 1" in text


async def test_submission_received_before_a_restart_is_validated_after_it(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    submission_id = stored_report(config, pki, tmp_path)
    client = await aiohttp_client(create_app(config))
    assert (await decided(client, submission_id))["decision"] == "accepted"


def test_every_check_code_has_russian_text() -> None:
    from validators.checks import CATALOGUE

    for code, entry in CATALOGUE.items():
        assert entry.message_ru and entry.remedy_ru, code
        assert any("а" <= ch <= "я" for ch in entry.message_ru.lower()), code



# --- one package per remaining check code (decision, code, no 5xx) ---------------------


def _nested(tmp_path: Path, depth: int) -> Path:
    inner = tmp_path / "level0.zip"
    with zipfile.ZipFile(inner, "w") as out:
        out.writestr("deep.txt", "x")
    for level in range(1, depth + 1):
        outer = tmp_path / f"level{level}.zip"
        with zipfile.ZipFile(outer, "w") as out:
            out.write(inner, inner.name)
        inner = outer
    final = tmp_path / f"{MEMBER}_OD.zip"
    inner.rename(final)
    return final


def _many_entries(tmp_path: Path) -> Path:
    archive = tmp_path / f"{MEMBER}_OD.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for index in range(LimitsConfig().archive_max_entries + 100):
            out.writestr(f"f{index}.txt", "x")
    return archive


def _empty_zip(tmp_path: Path) -> Path:
    archive = tmp_path / f"{MEMBER}_OD.zip"
    zipfile.ZipFile(archive, "w").close()
    return archive


@pytest.mark.parametrize(
    ("label", "code", "decision"),
    [
        ("expired256", "signature.expired", "rejected"),
        ("untrusted256", "signature.untrusted", "rejected"),
        ("nosignku256", "signature.key_usage", "rejected"),
        ("rsa_signer", "signature.not_qualified", "rejected"),
    ],
)
async def test_signature_problem_gets_its_code(client: TestClient, pki: TestPki, tmp_path: Path, label: str, code: str, decision: str) -> None:
    report = await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label=label)]})
    assert report["decision"] == decision and code in codes(report), report["checks"]


@pytest.mark.parametrize(
    ("build", "code"),
    [(lambda p: _nested(p, 4), "archive.nested_too_deep"), (_many_entries, "archive.too_many_entries"), (_empty_zip, "archive.empty")],
    ids=["nested", "many", "empty"],
)
async def test_hostile_archive_gets_its_code(client: TestClient, tmp_path: Path, build: Callable[[Path], Path], code: str) -> None:
    report = await run_package(client, REPORT, {"document": [build(tmp_path)]})
    assert report["decision"] == "rejected" and code in codes(report), report["checks"]


async def test_report_name_of_the_wrong_shape_is_returned(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    report = await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, name="отчет.zip")]})
    assert report["decision"] == "returned" and "name.report_pattern" in codes(report)


async def test_reserved_file_name_is_reported(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    charter = pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "s.pdf")
    form = aiohttp.FormData()
    form.add_field("member", MEMBER)
    form.add_field("doc_type", "charter")
    form.add_field("document", charter.read_bytes(), filename="CON.pdf")
    response = await client.post("/api/v1/submissions", data=form)
    report = await decided(client, (await response.json())["id"])
    assert "file.name_invalid" in codes(report) and report["decision"] == "returned"


async def test_pdf_with_javascript_is_accepted_with_a_warning(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    scripted = pdfs.make_pdf(tmp_path / "scripted.pdf", catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
    charter = pdfs.sign_pdf_gost(pki, "head256", scripted, tmp_path / "Устав.pdf")
    report = await run_package(client, {"member": MEMBER, "doc_type": "charter"}, {"document": [charter]})
    assert report["decision"] == "accepted" and codes(report) == {"pdf.active_content"}


async def test_encrypted_pdf_charter_is_rejected(client: TestClient, tmp_path: Path) -> None:
    encrypted = pdfs.encrypt_pdf(pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "Устав.pdf")
    report = await run_package(client, {"member": MEMBER, "doc_type": "charter"}, {"document": [encrypted]})
    assert report["decision"] == "rejected" and "pdf.encrypted" in codes(report)


async def test_file_over_the_slot_limit_is_refused_with_413_naming_the_limit(aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path) -> None:
    import dataclasses

    tight = dataclasses.replace(config, limits=LimitsConfig(max_document_bytes=1000))
    client = await aiohttp_client(create_app(tight))
    response = await submit(client, REPORT, {"document": [report_zip(pki, tmp_path)]})
    error = (await response.json())["error"]
    assert response.status == 413 and error["code"] == "request.file_too_large"
    assert error["message_ru"] == "Файл в поле document слишком большой: не более 1000 байт."


async def test_unknown_doc_type_is_refused_at_once(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    response = await submit(client, {"member": MEMBER, "doc_type": "poem"}, {"document": [report_zip(pki, tmp_path)]})
    assert response.status == 400 and "Неизвестный вид документа «poem»" in (await response.json())["error"]["message_ru"]


async def test_pdf_with_embedded_and_uploaded_signatures_reports_each_once(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    charter = pdfs.sign_pdf_gost(pki, "head256", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "Устав.pdf")
    detached = pki.sign("accountant256", charter, tmp_path / "Устав.pdf.sig")
    report = await run_package(client, {"member": MEMBER, "doc_type": "charter"}, {"document": [charter], "signature": [detached]})
    assert report["decision"] == "accepted", report["checks"]
    assert sorted(s["kind"] for s in report["signatures"]) == ["detached", "embedded"]


async def test_encrypted_pdf_is_reported_once(client: TestClient, tmp_path: Path) -> None:
    encrypted = pdfs.encrypt_pdf(pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "Устав.pdf")
    report = await run_package(client, {"member": MEMBER, "doc_type": "charter"}, {"document": [encrypted]})
    assert "pdf.encrypted" in codes(report) and "pdf.corrupt" not in codes(report)


# --- who signed (issue 11 §2) and attached signatures, through the server -----------------------


async def test_attached_signature_charter_is_accepted(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    attached = pki.sign("head256", pdfs.make_pdf(tmp_path / "Устав.pdf", "Charter"), tmp_path / "out" / "Устав.pdf.sig", attached=True)
    report = await run_package(client, {"member": MEMBER, "doc_type": "charter"}, {"document": [attached]})
    assert report["decision"] == "accepted" and report["checks"] == [], report["checks"]
    assert [(s["file"], s["kind"]) for s in report["signatures"]] == [("Устав.pdf.sig", "attached")]


async def test_audit_conclusion_signed_by_the_chairs_personal_certificate_is_accepted(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    add_person_certificates(pki)
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf", "Cover letter")
    conclusion = signed_copy(pki, tmp_path / "krk", "Заключение_КРК.pdf", pdfs.make_pdf(tmp_path / "c.pdf").read_bytes(), "chair_person256")
    files = {"document": [cover], "attachment": [make_zip(tmp_path / "Приложение.zip", conclusion)], "signature": [pki.sign("head256", cover, tmp_path / "Письмо.pdf.sig")]}
    report = await run_package(client, {"member": MEMBER, "doc_type": "audit_conclusion"}, files)
    assert report["decision"] == "accepted" and report["checks"] == [], report["checks"]


async def test_fns_signed_extract_in_the_archive_is_accepted_with_an_info_finding(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    add_person_certificates(pki)
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf", "Cover letter")
    extract = signed_copy(pki, tmp_path / "egrul", "Выписка_ЕГРЮЛ.pdf", pdfs.make_pdf(tmp_path / "e.pdf").read_bytes(), "fns256")
    files = {"document": [cover], "attachment": [make_zip(tmp_path / "Приложение.zip", extract)], "signature": [pki.sign("head256", cover, tmp_path / "Письмо.pdf.sig")]}
    report = await run_package(client, LETTER, files)
    assert report["decision"] == "accepted"
    assert [(c["code"], c["severity"]) for c in report["checks"]] == [("signature.third_party", "info")]


async def test_accountant_signed_report_with_a_folder_named_order_is_returned(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    add_person_certificates(pki)
    folder = signed_copy(pki, tmp_path / "f", "скан.pdf", pdfs.make_pdf(tmp_path / "o.pdf").read_bytes())
    package = report_zip(pki, tmp_path, label="accountant_person256")
    with zipfile.ZipFile(package, "a") as archive:
        for file in folder:
            archive.write(file, "приказ/" + file.name)
    report = await run_package(client, REPORT, {"document": [package]})
    assert report["decision"] == "returned" and codes(report) == {"poa.missing", "signer.not_head"}


async def test_letter_signed_by_another_organisation_is_rejected(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    cover = pdfs.make_pdf(tmp_path / "Письмо.pdf", "Cover letter")
    attachment = make_zip(tmp_path / "Приложение.zip", signed_copy(pki, tmp_path / "a", "Справка.pdf", pdfs.make_pdf(tmp_path / "s.pdf").read_bytes()))
    report = await run_package(client, LETTER, {"document": [cover], "attachment": [attachment], "signature": [pki.sign("foreign256", cover, tmp_path / "Письмо.pdf.sig")]})
    assert report["decision"] == "rejected" and "signer.foreign_org" in codes(report)
