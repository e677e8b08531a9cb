"""Findings of the package validators and the one catalogue of their Russian texts.

Every finding is a :class:`Check` ``{code, severity, file, message_ru, remedy_ru, detail}``
(SPEC section 6). Codes are stable API values (``area.problem``); the member-facing text
lives only here, so a test can assert that every code has it. Severity defaults come
from the catalogue and can be overridden per code in ``config.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Mapping

__all__ = ["Severity", "Check", "CATALOGUE", "finding", "Entry"]


class Severity(StrEnum):
    """How much a finding weighs in the decision (mapping in ``decision.py``)."""

    INFO = "info"
    WARNING = "warning"
    FIXABLE = "fixable"
    """The member can fix it and send again: the package is returned."""
    FATAL = "fatal"
    """The package breaks a requirement: it is rejected."""


@dataclass(frozen=True, slots=True)
class Entry:
    severity: Severity
    message_ru: str
    remedy_ru: str


_F, _R, _W, _I = Severity.FATAL, Severity.FIXABLE, Severity.WARNING, Severity.INFO

CATALOGUE: dict[str, Entry] = {
    # --- member --------------------------------------------------------------------
    "member.unknown": Entry(_F, "Кооператив с таким номером не найден в реестре членов СРО.", "Проверьте номер кооператива в реестре СРО и отправьте документ из личного кабинета своего кооператива."),
    "member.inactive": Entry(_F, "Кооператив исключён из членов СРО: документы от него не принимаются.", "Обратитесь в СРО «Кооперативные Финансы» для уточнения статуса членства."),
    # --- request ------------------------------------------------------------------
    "request.doc_type": Entry(_F, "Указан неизвестный вид документа.", "Выберите вид документа из перечня личного кабинета."),
    "request.report_kind": Entry(_R, "Не указан или указан неверно вид отчёта.", "Укажите вид отчёта: OD 31 марта, OD 30 июня, OD 30 сентября, OD 31 декабря (30 или 90 дней) или PS."),
    "request.regulation_kind": Entry(_R, "Не указан или указан неверно вид положения.", "Укажите вид положения из перечня личного кабинета."),
    "request.slot_missing": Entry(_R, "Не приложен обязательный файл.", "Приложите все файлы, которые требуются для этого вида документа."),
    "request.unexpected_file": Entry(_R, "Приложен лишний файл, не предусмотренный для этого вида документа.", "Оставьте только файлы, предусмотренные для этого вида документа."),
    # --- files ----------------------------------------------------------------------
    "file.type_not_allowed": Entry(_F, "Формат файла не допускается для этого поля.", "Для документа используйте PDF, для приложения — архив ZIP или RAR."),
    "file.extension_mismatch": Entry(_R, "Расширение имени файла не соответствует его содержимому.", "Сохраните файл в правильном формате или исправьте расширение (.pdf, .zip, .rar)."),
    "file.empty": Entry(_F, "Файл пустой.", "Приложите файл с содержимым."),
    "file.too_large": Entry(_F, "Файл превышает допустимый размер.", "Уменьшите размер файла (например, сканируйте с меньшим разрешением) и отправьте снова."),
    "file.name_invalid": Entry(_R, "Недопустимое имя файла.", "Используйте имя без путей и служебных символов, не длиннее 255 байт."),
    # --- names --------------------------------------------------------------------
    "name.report_pattern": Entry(_R, "Имя файла отчёта не соответствует требуемому виду PPP_OD.zip или PPP_PS.zip.", "Переименуйте архив: номер кооператива в реестре СРО, затем _OD или _PS, расширение .zip."),
    "name.member_number": Entry(_R, "В имени файла отчёта указан номер другого кооператива.", "Укажите в имени архива номер своего кооператива в реестре СРО."),
    # --- archives -----------------------------------------------------------------
    "archive.corrupt": Entry(_F, "Архив повреждён и не может быть прочитан.", "Создайте архив заново и проверьте, что он открывается."),
    "archive.encrypted": Entry(_F, "Архив или файлы в нём защищены паролем.", "Создайте архив без пароля."),
    "archive.unsafe_path": Entry(_F, "В архиве есть файлы с недопустимыми путями (абсолютными или с переходом «..»).", "Создайте архив заново из обычной папки с документами."),
    "archive.link": Entry(_F, "Архив содержит ссылки или специальные файлы вместо документов.", "Поместите в архив сами документы, а не ярлыки и ссылки."),
    "archive.too_many_entries": Entry(_F, "В архиве слишком много файлов.", "Уменьшите число файлов в архиве."),
    "archive.too_large": Entry(_F, "Распакованное содержимое архива превышает допустимый размер.", "Уменьшите объём документов в архиве."),
    "archive.bomb": Entry(_F, "Архив имеет подозрительную степень сжатия и отклонён из соображений безопасности.", "Создайте архив обычным архиватором из самих документов."),
    "archive.nested_too_deep": Entry(_F, "Слишком глубокая вложенность архивов друг в друга.", "Не вкладывайте архивы в архивы более одного раза."),
    "archive.empty": Entry(_F, "Архив не содержит файлов.", "Поместите в архив документы."),
    "archive.unsupported": Entry(_F, "Архив этого вида не поддерживается (многотомный или с неизвестным методом сжатия).", "Создайте единый архив ZIP или RAR стандартными настройками."),
    # --- PDF ----------------------------------------------------------------------
    "pdf.corrupt": Entry(_F, "PDF-файл повреждён и не может быть прочитан.", "Сохраните документ в PDF заново и проверьте, что он открывается."),
    "pdf.encrypted": Entry(_F, "PDF-файл защищён паролем или зашифрован.", "Сохраните PDF без пароля и ограничений."),
    "pdf.active_content": Entry(_W, "PDF-файл содержит активное содержимое (сценарии, запуск программ или вложенные файлы).", "Сохраните документ в PDF без сценариев и вложений."),
    # --- signatures ---------------------------------------------------------------
    "signature.missing": Entry(_F, "Документ не подписан усиленной квалифицированной электронной подписью.", "Подпишите документ УКЭП руководителя кооператива (отсоединённая подпись .sig рядом с файлом или подпись в PDF) и отправьте снова."),
    "signature.format": Entry(_F, "Файл подписи повреждён или имеет неверный формат.", "Создайте подпись заново средством электронной подписи (формат CMS/CAdES)."),
    "signature.invalid": Entry(_F, "Электронная подпись недействительна: документ изменён после подписания или подпись не соответствует документу.", "Подпишите окончательную версию документа заново и не изменяйте его после подписания."),
    "signature.untrusted": Entry(_F, "Сертификат подписи выдан не аккредитованным удостоверяющим центром или цепочка сертификатов не проверена.", "Используйте квалифицированный сертификат, выданный аккредитованным удостоверяющим центром."),
    "signature.expired": Entry(_F, "Сертификат подписи не действовал на момент подписания.", "Подпишите документ действующим сертификатом."),
    "signature.revoked": Entry(_F, "Сертификат подписи отозван.", "Получите новый сертификат и подпишите документ заново."),
    "signature.revocation_unknown": Entry(_R, "Не удалось проверить, не отозван ли сертификат подписи.", "Повторите отправку позже; если ошибка повторится, обратитесь в СРО."),
    "signature.not_qualified": Entry(_F, "Подпись не является усиленной квалифицированной.", "Подпишите документ УКЭП (ГОСТ Р 34.10-2012), выданной аккредитованным удостоверяющим центром."),
    "signature.key_usage": Entry(_F, "Сертификат не предназначен для электронной подписи.", "Используйте сертификат, предназначенный для подписи документов."),
    "signature.other": Entry(_F, "Электронную подпись не удалось проверить.", "Подпишите документ заново; если ошибка повторится, обратитесь в СРО."),
    "signer.foreign_org": Entry(_F, "Документ подписан сертификатом другой организации.", "Подпишите документ сертификатом, выданным на ваш кооператив (ОГРН и ИНН кооператива)."),
    "signer.not_head": Entry(_R, "Отчётность подписана не руководителем (ЕИО) кооператива и не приложен документ о назначении временно исполняющего обязанности.", "Подпишите отчётность УКЭП руководителя или приложите копию приказа о назначении временно исполняющего обязанности."),
    # --- report contents ------------------------------------------------------------
    "report.accounting_missing": Entry(_R, "К годовому отчёту (90 дней) не приложена годовая бухгалтерская (финансовая) отчётность.", "Добавьте в архив файл годовой бухгалтерской (финансовой) отчётности, подписанный УКЭП."),
    # --- processing -------------------------------------------------------------------
    "processing.error": Entry(_R, "Пакет не удалось проверить из-за внутренней ошибки шлюза.", "Повторите отправку позже; если ошибка повторится, обратитесь в СРО."),
}


@dataclass(frozen=True, slots=True)
class Check:
    """One finding about a package or a file in it."""

    code: str
    severity: Severity
    file: str | None
    """The file it concerns, as a path inside the package (``PPP_OD.zip/отчет.xml``)."""
    message_ru: str
    remedy_ru: str
    detail: str
    """Technical detail for staff (English); never secrets."""

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "file": self.file,
            "message_ru": self.message_ru,
            "remedy_ru": self.remedy_ru,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Check":
        return cls(
            code=data["code"],
            severity=Severity(data["severity"]),
            file=data.get("file"),
            message_ru=data["message_ru"],
            remedy_ru=data["remedy_ru"],
            detail=data.get("detail", ""),
        )


def finding(code: str, *, file: str | None = None, detail: str = "", severity: Severity | None = None) -> Check:
    """The one factory of checks: text and default severity come from the catalogue."""
    entry = CATALOGUE[code]
    return Check(code, severity or entry.severity, file, entry.message_ru, entry.remedy_ru, detail)
