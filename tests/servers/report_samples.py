"""A package report as stored (JSON), for renderer and stamp tests: a returned report with
one qualified signature, staff-only details marked STAFF-ONLY / SECRET-STEP."""

from __future__ import annotations

from typing import Any

__all__ = ["REPORT_JSON", "SIGNATURE"]

SIGNATURE: dict[str, Any] = {
    "indication": "TOTAL_PASSED",
    "sub_indication": None,
    "qualified": True,
    "file": "report.xml",
    "signature_file": "report.xml.sig",
    "signer": {"surname": "Иванов", "given_name": "Иван Петрович", "title": "Председатель правления", "organization": "КПК «Ромашка»", "ogrn": "1027700000008"},
    "certificate": {"serial": "1A2B", "issuer": "CN=УЦ ФНС России, O=Федеральная налоговая служба, C=RU", "not_before": "2026-01-15T21:00:00Z", "not_after": "2027-01-15T21:00:00Z"},
    "signing_time": "2026-03-31T21:30:00Z",
    "signature_algorithm": "ГОСТ Р 34.10-2012 (256 бит)",
    "digest_algorithm": "ГОСТ Р 34.11-2012 (256 бит)",
    "checks": [{"name": "qualified.profile", "passed": True, "detail": "FSB 795 profile present"}, {"name": "chain.path", "passed": True, "detail": "path of 3 SECRET-STEP"}],
}

REPORT_JSON: dict[str, Any] = {
    "decision": "returned",
    "decision_ru": "Возвращен на доработку",
    "member": {"number": "42", "name": "КПК «Ромашка»", "ogrn": "1027700000008", "inn": "7700000009"},
    "doc_type": "report",
    "doc_type_ru": "Отчетность КПК в СРО",
    "report_kind": "OD_Q1",
    "regulation_kind": None,
    "checks": [{"code": "signer.not_head", "severity": "fixable", "file": "report.xml", "message_ru": "Подписал не руководитель", "remedy_ru": "Подпишите у руководителя", "detail": "STAFF-ONLY subject CN=Петрова"}],
    "files": [{"name": "42_OD.zip", "size": 10, "sha256": "ab" * 32, "streebog256": "cd" * 32}],
    "signatures": [SIGNATURE],
    "validated_at": "2026-03-31T21:30:00Z",
    "submission": {"id": "x" * 32, "received_at": "2026-03-31T21:29:00Z", "staff_decision": None},
}
