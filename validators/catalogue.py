"""The document catalogue (SPEC section 2): document types, kinds and upload slots."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Slot",
    "SlotRule",
    "DocType",
    "DOC_TYPES",
    "REPORT_KINDS",
    "REGULATION_KINDS",
    "LETTER_LIKE",
]


class Slot(StrEnum):
    """Multipart file parts of ``POST /submissions``."""

    DOCUMENT = "document"
    ATTACHMENT = "attachment"
    SIGNATURE = "signature"
    POWER_OF_ATTORNEY = "power_of_attorney"
    """МЧД (issue 11 §1): the XML and its detached signature; judged by ``validators.poa``."""


@dataclass(frozen=True, slots=True)
class SlotRule:
    kinds: frozenset[str]
    """Allowed file kinds by content (``pdf``, ``zip``, ``rar``)."""
    required: bool = True


@dataclass(frozen=True, slots=True)
class DocType:
    code: str
    name_ru: str
    slots: dict[Slot, SlotRule]


_PDF = SlotRule(frozenset({"pdf"}))
_ARCHIVE = SlotRule(frozenset({"zip", "rar"}))

LETTER_LIKE = (
    ("letter", "Письмо в СРО (ответ на запрос)"),
    ("disciplinary_report", "Отчет об исполнении решений Дисциплинарного комитета"),
    ("registry_notice", "Уведомление о внесении сведений (изменений) в реестр"),
    ("information_request", "Запрос информации от СРО"),
    ("compensation_claim", "Требование в СРО о компенсационной выплате"),
    ("audit_conclusion", "Заключение контрольно-ревизионного органа по итогам проверки годовой отчетности"),
    ("meeting_notice", "Уведомление о проведении Общего собрания КПК"),
)

DOC_TYPES: dict[str, DocType] = {
    "report": DocType("report", "Отчетность КПК в СРО", {Slot.DOCUMENT: SlotRule(frozenset({"zip"}))}),
    **{code: DocType(code, name, {Slot.DOCUMENT: _PDF, Slot.ATTACHMENT: _ARCHIVE}) for code, name in LETTER_LIKE},
    "charter": DocType("charter", "Устав", {Slot.DOCUMENT: _PDF}),
    "regulation": DocType("regulation", "Положение", {Slot.DOCUMENT: _PDF}),
}

#: report_kind -> (Russian name, the name part of the ZIP: OD or PS)
REPORT_KINDS: dict[str, tuple[str, str]] = {
    "OD_Q1": ("OD 31 марта (первый квартал)", "OD"),
    "OD_H1": ("OD 30 июня (полугодие)", "OD"),
    "OD_9M": ("OD 30 сентября (9 месяцев)", "OD"),
    "OD_Y30": ("OD 31 декабря (годовой, 30 дней)", "OD"),
    "OD_Y90": ("OD 31 декабря (годовой, 90 дней)", "OD"),
    "PS": ("PS отчет о персональном составе органов КПК", "PS"),
}

REGULATION_KINDS: dict[str, str] = {
    "membership": "Положение о членстве в кредитном кооперативе",
    "property": "Положение о порядке формирования и использования имущества",
    "funds_raising": "Положение о порядке и об условиях привлечения денежных средств членов (пайщиков)",
    "loans": "Положение о порядке предоставления займов членам (пайщикам)",
    "bodies": "Положение об органах кредитного кооператива",
    "income_distribution": "Положение о порядке распределения доходов",
    "other": "Иное положение, утвержденное общим собранием",
}
