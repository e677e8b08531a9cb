"""Russian names of the codes people see: statuses, decisions, document and report kinds.

The API keeps the stable codes; pages, reports and emails show these names. «Проверен» is
the staff status of that name only, never a label for the automatic check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gateway.moscow import msk, msk_date
from gateway.render.stamps import certificate_qualified, issuer_name, serial_full_hex, signing_moment, stamp_heading
from validators.catalogue import DOC_TYPES, REGULATION_KINDS, REPORT_KINDS

__all__ = ["show_direction_controls", "STATUS_RU", "DECISION_RU", "STAFF_DECISION_RU", "SEVERITY_RU", "doc_type_ru", "report_kind_ru", "regulation_kind_ru", "kind_ru", "TEMPLATE_FILTERS"]

STATUS_RU: dict[str, str] = {
    "received": "Получен",
    "validating": "Проверяется",
    "awaiting_revocation": "Ожидает сведений об отзыве сертификата",
    "accepted": "Принят",
    "registered": "Зарегистрирован",
    "returned": "Возвращен на доработку",
    "rejected": "Отклонен",
}

DECISION_RU: dict[str, str] = {"accepted": "Принят", "returned": "Возвращен на доработку", "rejected": "Отклонен"}

STAFF_DECISION_RU: dict[str, str] = {"verified": "Проверен", "returned": "Возвращен на доработку", "rejected": "Отклонен"}

SEVERITY_RU: dict[str, str] = {"fatal": "критично", "fixable": "исправимо", "warning": "предупреждение", "info": "сведения"}


def doc_type_ru(code: str | None) -> str:
    entry = DOC_TYPES.get(code or "")
    return entry.name_ru if entry else (code or "—")


def report_kind_ru(code: str | None) -> str:
    """``OD_Q1`` -> «OD 31 марта (первый квартал)»; unknown codes as they are."""
    entry = REPORT_KINDS.get(code or "")
    return entry[0] if entry else (code or "")


def regulation_kind_ru(code: str | None) -> str:
    return REGULATION_KINDS.get(code or "", code or "")


def kind_ru(record: Any) -> str:
    """The document type with its report or regulation kind, for one line."""

    def get(key: str) -> Any:
        return record.get(key) if isinstance(record, dict) else getattr(record, key, None)

    parts = [doc_type_ru(get("doc_type"))]
    if get("report_kind"):
        parts.append(report_kind_ru(get("report_kind")))
    if get("regulation_kind"):
        parts.append(regulation_kind_ru(get("regulation_kind")))
    return ", ".join(parts)


#: The Jinja2 filters of every page and report: Moscow dates, Russian names of codes, stamps.
TEMPLATE_FILTERS: dict[str, Callable[..., Any]] = {
    "msk": msk,
    "msk_date": msk_date,
    "status_ru": lambda v: STATUS_RU.get(v or "", v or "—"),
    "decision_ru": lambda v: DECISION_RU.get(v or "", v or "—"),
    "staff_decision_ru": lambda v: STAFF_DECISION_RU.get(v or "", v or ""),
    "severity_ru": lambda v: SEVERITY_RU.get(v or "", v or ""),
    "doc_type_ru": doc_type_ru,
    "report_kind_ru": report_kind_ru,
    "regulation_kind_ru": regulation_kind_ru,
    "kind_ru": kind_ru,
    "serial_hex": serial_full_hex,
    "issuer_name": issuer_name,
    "stamp_heading": stamp_heading,
    "cert_qualified": certificate_qualified,
    "signing_moment": signing_moment,
}


#: Text-direction embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
_DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def show_direction_controls(value: Any) -> Any:
    """The ``finalize`` of every template (pages, reports, emails): a direction control in
    a member's string (a file or certificate name: «Справка\u202efdp.exe» reads
    «Справкаexe.pdf») is shown as ``[U+202E]`` instead of reordering the text."""
    if isinstance(value, str):
        # str.replace keeps the type: a Markup value stays Markup (the markers need no escaping).
        for control in set(_DIRECTION_CONTROLS.findall(value)):
            value = value.replace(control, f"[U+{ord(control):04X}]")
    return value
