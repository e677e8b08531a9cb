"""Human-readable verification summary: the signature stamp, in Russian with English terms."""

from __future__ import annotations

from datetime import datetime

from gateway.moscow import msk, msk_date
from gateway.render.stamps import issuer_name, serial_full_hex, signing_moment, stamp_heading
from validators.signatures.model import Indication, SignatureReport, VerificationReport

__all__ = ["render_text"]

_VERDICTS = {
    Indication.TOTAL_PASSED: "ПОДПИСЬ ДЕЙСТВИТЕЛЬНА",
    Indication.TOTAL_FAILED: "ПОДПИСЬ НЕДЕЙСТВИТЕЛЬНА",
    Indication.INDETERMINATE: "СТАТУС ПОДПИСИ НЕ УСТАНОВЛЕН",
}


_KINDS = {"detached": "отсоединённая", "attached": "присоединённая", "embedded": "встроена в PDF"}


def _date(value: datetime | None, with_time: bool = True) -> str:
    """Moscow time, as on the stamps people know (``дд.мм.гггг чч:мм``)."""
    if value is None:
        return "—"
    return msk(value) + " МСК" if with_time else msk_date(value)


def _stamp(index: int, report: SignatureReport) -> list[str]:
    signer = report.signer
    cert = report.certificate
    verdict = _VERDICTS[report.indication]
    sub = f"/{report.sub_indication.value}" if report.sub_indication else ""
    qualified = "квалифицированная (qualified)" if report.qualified else "не квалифицированная (not qualified)"
    lines = [
        f"┌─ Подпись {index} ({_KINDS.get(report.kind, report.kind)}{', ' + report.signature_file if report.signature_file else ''})",
        f"│  {stamp_heading(report.to_json())}",
    ]
    if cert is not None:
        lines.append(f"│  Сертификат (serial): {serial_full_hex(cert.serial)}")
    if signer is not None:
        owner = ", ".join(p for p in (signer.full_name or signer.common_name, signer.title, signer.organization) if p)
        lines.append(f"│  Владелец (owner):    {owner or '—'}")
        ids = [
            f"ОГРН {signer.ogrn}" if signer.ogrn else "",
            f"ОГРНИП {signer.ogrnip}" if signer.ogrnip else "",
            f"ИНН ЮЛ {signer.inn_le}" if signer.inn_le else "",
            f"ИНН {signer.inn}" if signer.inn and signer.inn != (signer.inn_le and "00" + signer.inn_le) else "",
            f"СНИЛС {signer.snils}" if signer.snils else "",
        ]
        if any(ids):
            lines.append(f"│  Реквизиты:           {', '.join(i for i in ids if i)}")
    if cert is not None:
        lines.append(f"│  Издатель (issuer):   {issuer_name(cert.issuer)}")
        lines.append(f"│  Действителен:        с {_date(cert.not_before, False)} по {_date(cert.not_after, False)}")
    # The claim and what proves the moment (or when the certificate was judged instead).
    lines.extend(f"│  {line}" for line in signing_moment(report.to_json()))
    lines.append(f"│  Алгоритмы:           {report.signature_algorithm or '—'}; {report.digest_algorithm or '—'}")
    lines.append(f"│  Результат (result):  {verdict} ({report.indication.value}{sub}), {qualified}")
    for check in report.checks:
        mark = "✓" if check.passed and not check.warning else "!" if check.passed else "✗"
        lines.append(f"│   {mark} {check.name}: {check.detail}")
    lines.append("└─")
    return lines


def render_text(report: VerificationReport) -> str:
    """The whole report as text for a terminal."""
    lines: list[str] = []
    document = report.document
    if document is not None:
        lines.append(f"Документ (document): {document.name}, {document.size} байт")
        lines.append(f"  SHA-256:               {document.sha256}")
        lines.append(f"  ГОСТ Р 34.11-2012/256: {document.streebog256 or 'недоступно (GOST support unavailable)'}")
    sub = f"/{report.sub_indication.value}" if report.sub_indication else ""
    lines.append(f"Итог (overall): {_VERDICTS[report.indication]} ({report.indication.value}{sub}), подписей: {len(report.signatures)}")
    for problem in report.problems:
        lines.append(f"  ! {problem}")
    for index, signature in enumerate(report.signatures, start=1):
        lines.extend(_stamp(index, signature))
    for index, timestamp in enumerate(report.timestamps, start=1):
        valid = "действителен (valid)" if timestamp.passed else "НЕДЕЙСТВИТЕЛЕН (invalid), момент подписания не подтверждает"
        tsa = timestamp.timestamp.tsa if timestamp.timestamp is not None and timestamp.timestamp.tsa else None
        lines.append(f"Штамп времени документа {index} (document timestamp, {timestamp.signature_file}): {valid}")
        lines.append(
            f"  {timestamp.indication.value}{f'/{timestamp.sub_indication.value}' if timestamp.sub_indication else ''}, "
            f"время: {_date(timestamp.signing_time)}{f', TSA {tsa}' if tsa else ''}"
        )
        for check in timestamp.checks:
            if not check.passed:
                lines.append(f"   ✗ {check.name}: {check.detail}")
    return "\n".join(lines)
