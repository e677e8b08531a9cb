"""Reports show the moment of signing as 63-ФЗ art. 11 has it: the signer's claim, and the
time-stamp that proves the moment (with its TSA) or that nothing proves it and when the
certificate was judged instead (staff report, member report, staff package page)."""

from __future__ import annotations

import copy
import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from gateway.http.staff.views import _ENV as STAFF_ENV
from gateway.render.html import render_html
from gateway.store.report import PackageReport
from tests.pki import pdf as pdfs
from tests.pki.doc_timestamps import add_dss_crls, doc_timestamp, sign_pdf_lapsed
from tests.pki.tsa import TsaPki
from tests.servers.report_samples import REPORT_JSON, SIGNATURE
from validators.signatures.locate import verify_document
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore

RECEIVED = "2026-03-31T21:29:00Z"  # 01.04.2026 00:29 МСК
NOT_PROVEN = "Момент подписания не подтверждён штампом времени; сертификат проверен на момент получения пакета 01.04.2026 00:29 (МСК)"


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def report_with(**signature: Any) -> dict[str, Any]:
    report = copy.deepcopy(REPORT_JSON)
    report["signatures"] = [{**copy.deepcopy(SIGNATURE), **signature}]
    return report


def staff_page(signature: dict[str, Any]) -> str:
    template = STAFF_ENV.from_string('{% from "staff/_stamp.html" import stamp %}{{ stamp(s) }}')
    return _text(template.render(s=signature))


def received_check() -> dict[str, Any]:
    return {"name": "validation.time", "passed": True, "detail": "certificates judged at 2026-03-31 21:29:00Z (time the package was received; no valid signature time-stamp)"}


def renderings(report: dict[str, Any]) -> list[str]:
    typed = PackageReport.from_json(report)
    return [_text(render_html(typed, "staff")), _text(render_html(typed, "member")), staff_page(report["signatures"][0])]


def test_signature_without_time_stamp_says_the_certificate_was_judged_at_receipt() -> None:
    report = report_with(validation_time=RECEIVED, timestamp=None, checks=[*SIGNATURE["checks"], received_check()])
    for page in renderings(report):
        assert "Время подписания (заявлено подписантом): 01.04.2026 00:30 (МСК)" in page
        assert NOT_PROVEN in page
        assert "Подтверждено штампом" not in page


def test_signature_time_stamp_is_shown_as_the_proof_with_its_tsa() -> None:
    stamp = {"gen_time": "2026-03-31T21:31:00Z", "tsa": "Тестовая служба штампов времени", "valid": True, "kind": "signature"}
    report = report_with(validation_time=stamp["gen_time"], timestamp=stamp)
    for page in renderings(report):
        assert "Время подписания (заявлено подписантом): 01.04.2026 00:30 (МСК)" in page
        assert "Подтверждено штампом времени 01.04.2026 00:31 (МСК) (TSA Тестовая служба штампов времени)" in page
        assert "не подтверждён" not in page


def test_invalid_time_stamp_is_not_shown_as_a_proof() -> None:
    stamp = {"gen_time": "2026-03-01T10:00:00Z", "tsa": "Недоверенная TSA", "valid": False, "kind": "signature"}
    report = report_with(validation_time=RECEIVED, timestamp=stamp, checks=[*SIGNATURE["checks"], received_check()])
    for page in renderings(report):
        assert "Подтверждено" not in page
        assert "не прошёл проверку: момент подписания не подтверждён; сертификат проверен на момент получения пакета 01.04.2026 00:29 (МСК)" in page


def test_signature_without_a_claimed_time_says_so() -> None:
    report = report_with(signing_time=None, validation_time=RECEIVED, timestamp=None, checks=[received_check()])
    assert "Время подписания (заявлено подписантом): не указано" in _text(render_html(PackageReport.from_json(report), "member"))


def test_real_report_of_a_signature_proven_by_a_document_time_stamp(tsa: TsaPki, store: TrustStore, tmp_path: Path) -> None:
    moment = tsa.now - timedelta(days=30)
    signed = sign_pdf_lapsed(tsa, pdfs.make_pdf(tmp_path / "charter.pdf"), tmp_path / "signed.pdf", signing_time=moment)
    ltv = add_dss_crls(signed, tmp_path / "ltv.pdf", [tsa.crl("ca", moment - timedelta(hours=1), moment + timedelta(days=7))])
    stamped = doc_timestamp(tsa, "tsa256", ltv, tmp_path / "stamped.pdf", moment + timedelta(hours=1))
    [signature] = verify_document(stamped, store, VerificationPolicy().received(tsa.now)).signatures
    report = copy.deepcopy(REPORT_JSON)
    report["signatures"] = [{"file": "Устав.pdf", **signature.to_json()}]
    from gateway.moscow import msk

    for page in renderings(report):
        assert f"Время подписания (заявлено подписантом): {msk(moment)} (МСК)" in page
        assert f"Подтверждено штампом времени документа {msk(moment + timedelta(hours=1))} (МСК) (TSA Тестовая служба штампов времени)" in page
