"""The signature stamp as people read it (reports, staff pages, ``gateway verify`` text).

- The heading follows the result: «ДОКУМЕНТ ПОДПИСАН УСИЛЕННОЙ КВАЛИФИЦИРОВАННОЙ ЭЛЕКТРОННОЙ
  ПОДПИСЬЮ» only for a valid qualified signature; otherwise a heading that says what is wrong.
- The certificate serial in full hexadecimal with leading zeros (the bytes of the DER
  INTEGER, as КриптоПро and the ФНС stamp print it).
- The issuer by its name (CN, else O), not the whole distinguished name.
- Whether the certificate is qualified, judged from the profile checks, apart from whether
  the signature is valid.
- The moment of signing: the signer's claim and what proves it (a time-stamp and its
  TSA), or that nothing does and when the certificate was judged instead.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.moscow import msk

__all__ = [
    "serial_full_hex",
    "issuer_name",
    "stamp_heading",
    "certificate_qualified",
    "signing_moment",
    "QUALIFIED_HEADING",
    "SUB_INDICATION_RU",
]

QUALIFIED_HEADING = "ДОКУМЕНТ ПОДПИСАН УСИЛЕННОЙ КВАЛИФИЦИРОВАННОЙ ЭЛЕКТРОННОЙ ПОДПИСЬЮ"

SUB_INDICATION_RU: dict[str, str] = {
    "FORMAT_FAILURE": "подпись повреждена или имеет неверный формат",
    "HASH_FAILURE": "документ изменён после подписания",
    "SIG_CRYPTO_FAILURE": "значение подписи не сходится",
    "REVOKED": "сертификат подписанта отозван",
    "EXPIRED": "срок действия сертификата истёк",
    "NOT_YET_VALID": "сертификат ещё не действовал",
    "SIG_CONSTRAINTS_FAILURE": "подпись не отвечает требованиям политики",
    "CHAIN_CONSTRAINTS_FAILURE": "цепочка сертификатов не отвечает требованиям",
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": "ошибка проверки цепочки сертификатов",
    "CRYPTO_CONSTRAINTS_FAILURE": "недопустимый алгоритм подписи",
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": "недопустимый алгоритм подписи",
    "NO_SIGNING_CERTIFICATE_FOUND": "сертификат подписанта не найден",
    "NO_CERTIFICATE_CHAIN_FOUND": "сертификат не ведёт к доверенному удостоверяющему центру",
    "REVOKED_NO_POE": "сертификат отозван, время подписи не подтверждено",
    "REVOKED_CA_NO_POE": "сертификат удостоверяющего центра отозван",
    "OUT_OF_BOUNDS_NO_POE": "сертификат не действовал в момент проверки, время подписи не подтверждено",
    "OUT_OF_BOUNDS_NOT_REVOKED": "сертификат не действовал в момент подписи",
    "TRY_LATER": "нет сведений об отзыве сертификата, проверка будет повторена",
    "SIGNED_DATA_NOT_FOUND": "подписанный документ не найден",
    "GENERIC": "ошибка проверки",
}

_LABEL = re.compile(r"(?:^|, )([A-Za-z]+|\d+(?:\.\d+)+)=")


def serial_full_hex(serial: str | int | None) -> str:
    """``1A2B`` -> ``1A2B``; ``ABC`` -> ``0ABC``; ``80…`` -> ``0080…`` (the DER sign byte)."""
    if serial is None or serial == "":
        return "—"
    try:
        value = serial if isinstance(serial, int) else int(str(serial).replace(":", "").replace(" ", ""), 16)
    except ValueError:
        return str(serial)
    if value < 0:
        return str(serial)
    return value.to_bytes(value.bit_length() // 8 + 1, "big").hex().upper()


def issuer_name(issuer: str | None) -> str:
    """The CN (else O) of an issuer line ``CN=…, O=…, C=RU``; the line itself when neither is there."""
    if not issuer:
        return "—"
    fields: dict[str, str] = {}
    matches = list(_LABEL.finditer(issuer))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(issuer)
        fields.setdefault(match.group(1).upper(), issuer[match.end():end].strip())
    return fields.get("CN") or fields.get("O") or issuer


def certificate_qualified(signature: dict[str, Any]) -> bool | None:
    """Whether the signer certificate meets the qualified profile, whatever the verdict;
    None when the profile was not checked (e.g. the signature could not be read)."""
    checks = [c for c in signature.get("checks") or [] if str(c.get("name", "")).startswith("qualified.")]
    if not checks:
        return True if signature.get("qualified") else None
    return all(c.get("passed") for c in checks)


def stamp_heading(signature: dict[str, Any]) -> str:
    """The stamp's first line, saying what the result is."""
    indication = signature.get("indication")
    reason = SUB_INDICATION_RU.get(str(signature.get("sub_indication") or ""), "")
    if indication == "TOTAL_PASSED":
        if signature.get("qualified"):
            return QUALIFIED_HEADING
        return "ДОКУМЕНТ ПОДПИСАН ЭЛЕКТРОННОЙ ПОДПИСЬЮ, НЕ ЯВЛЯЮЩЕЙСЯ КВАЛИФИЦИРОВАННОЙ"
    if indication == "TOTAL_FAILED":
        return "ПОДПИСЬ НЕДЕЙСТВИТЕЛЬНА" + (f": {reason}" if reason else "")
    return "ДЕЙСТВИТЕЛЬНОСТЬ ПОДПИСИ НЕ УСТАНОВЛЕНА" + (f": {reason}" if reason else "")


def _msk(value: Any) -> str:
    return f"{msk(value)} (МСК)"


def _judged_at(signature: dict[str, Any]) -> str:
    """What the time of judgment was (from the ``validation.time`` check), in Russian."""
    detail = next((str(c.get("detail", "")) for c in signature.get("checks") or [] if c.get("name") == "validation.time"), "")
    if "--at" in detail:
        return "на заданный момент (аудит)"
    if "present time" in detail:
        return "на момент проверки"
    return "на момент получения пакета"


def signing_moment(signature: dict[str, Any]) -> list[str]:
    """Two lines about the moment of signing (63-ФЗ ст. 11), from the ``signing_time``,
    ``timestamp`` and ``validation_time`` of a signature in the JSON report: the signer's
    claim, and either the time-stamp that proves the moment (with its TSA) or that
    nothing proves it and when the certificate was judged instead."""
    claimed = signature.get("signing_time")
    lines = [f"Время подписания (заявлено подписантом): {_msk(claimed) if claimed else 'не указано'}"]
    stamp = signature.get("timestamp") or None
    judged = signature.get("validation_time")
    judged_text = f"сертификат проверен {_judged_at(signature)} {_msk(judged)}" if judged else ""
    if stamp and stamp.get("valid"):
        which = "штампом времени документа" if stamp.get("kind") == "document" else "штампом времени"
        line = f"Подтверждено {which} {_msk(stamp.get('gen_time'))} (TSA {stamp.get('tsa') or '—'})"
        if judged and judged != stamp.get("gen_time"):
            line += f"; {judged_text}"
        lines.append(line)
    elif stamp:
        lines.append(
            f"Штамп времени {_msk(stamp.get('gen_time'))} (TSA {stamp.get('tsa') or '—'}) не прошёл проверку: "
            f"момент подписания не подтверждён{'; ' + judged_text if judged_text else ''}"
        )
    else:
        lines.append(f"Момент подписания не подтверждён штампом времени{'; ' + judged_text if judged_text else ''}")
    return lines
