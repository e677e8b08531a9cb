"""The pipeline's product is one frozen, typed report with one way in and one way out of
JSON; email contexts are typed per kind and carry exactly what their templates read."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gateway.delivery.mail.compose import _REQUIRED
from gateway.delivery.mail.contexts import DecisionEmail, ReceivedEmail
from gateway.store.report import PackageReport
from gateway.store.status import Decision
from validators.checks import Severity

STORED: dict[str, Any] = {
    "decision": "returned",
    "decision_ru": "Возвращен на доработку",
    "member": {"number": "42", "name": "КПК «Ромашка»", "ogrn": "1027700000008", "inn": "7700000009", "head": "Иванов И. И.", "email": "kpk@example.ru"},
    "doc_type": "report",
    "doc_type_ru": "Отчетность КПК в СРО",
    "report_kind": "OD_Q1",
    "regulation_kind": None,
    "checks": [
        {"code": "signer.not_head", "severity": "fixable", "file": "42_OD.zip/report.xml", "message_ru": "Подписал не руководитель", "remedy_ru": "Подпишите", "detail": "CN=Петрова"},
        {"code": "pdf.active_content", "severity": "warning", "file": None, "message_ru": "Активное содержимое", "remedy_ru": "", "detail": ""},
    ],
    "files": [{"slot": "document", "name": "42_OD.zip", "size": 10, "type": "application/zip", "sha256": "ab" * 32, "streebog256": None}],
    "signatures": [{"file": "42_OD.zip.sig", "indication": "TOTAL_PASSED", "sub_indication": None, "qualified": True}],
    "policy": {"revocation": "require", "decision": {"fatal": "rejected", "fixable": "returned", "warning": "accepted", "info": "accepted"}},
    "validated_at": "2026-03-31T21:30:00Z",
    "validation_seconds": 0.125,
    "submission": {"id": "x" * 32, "member": "42", "received_at": "2026-03-31T21:29:00Z", "status": "returned"},
}


def test_stored_json_reads_back_to_the_same_json() -> None:
    assert PackageReport.from_json(STORED).to_json() == STORED


def test_report_fields_are_typed() -> None:
    report = PackageReport.from_json(STORED)
    assert report.decision is Decision.RETURNED
    assert report.checks[0].severity is Severity.FIXABLE
    assert [c.code for c in report.problems] == ["signer.not_head"]
    assert report.member is not None and report.member_email == "kpk@example.ru"


def test_report_is_frozen() -> None:
    report = PackageReport.from_json(STORED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.decision = Decision.ACCEPTED  # type: ignore[misc]


def test_report_without_a_known_member_names_the_member_by_number() -> None:
    report = PackageReport.from_json({**STORED, "member": None})
    assert report.member_name == "42" and report.member_email is None


def test_each_email_context_has_exactly_the_keys_its_templates_require() -> None:
    received = ReceivedEmail("КПК", "Устав", "id", "2026-03-31T21:29:00Z")
    assert set(received.to_json()) == set(_REQUIRED[received.kind])
    returned = DecisionEmail("returned", "КПК", "Устав", "id", "Возвращен на доработку", [])
    assert returned.kind == "returned" and set(returned.to_json()) == set(_REQUIRED["returned"])
