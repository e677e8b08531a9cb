"""Emails the gateway sends: to members (package status, SRO notices) and to staff.

:func:`compose` builds a ready-to-send :class:`email.message.EmailMessage` for one of
:data:`KINDS`: a plain-text and an HTML alternative (``multipart/alternative``; with
attachments the whole is ``multipart/mixed``), UTF-8 bodies (base64, so any SMTP server
takes them), RFC 2047 encoded Russian subjects and RFC 2231 encoded attachment file names.

The ``Message-ID`` comes from the caller (the outbox derives it from its row), so a retried
send of the same row is recognisable as the same message; nothing here generates one.

Templates are inline (a :class:`jinja2.DictLoader`) so they ship with the package without
package-data configuration. HTML is autoescaped; both environments use
:class:`jinja2.StrictUndefined`, so a template asking for a key the caller did not give
fails loudly instead of mailing an empty gap to a member.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from typing import Any

import jinja2
from markupsafe import Markup, escape

from gateway.delivery.mail.contexts import CONTEXTS
from gateway.moscow import MSK
from gateway.render.labels import show_direction_controls

__all__ = ["MailSettings", "Attachment", "KINDS", "STAFF_DECISIONS_RU", "compose"]


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Addresses and links that appear in every email."""

    sender: str = "СРО «Кооперативные Финансы» <noreply@sro.local>"
    """``From``: display name and address (the display name is RFC 2047 encoded)."""
    reply_to: str | None = None
    """``Reply-To`` when set; without it the footer asks members not to reply."""
    sro_contact: str = "info@sro.local"
    """Contact shown at the end of every email."""
    staff_address: str = "staff@sro.local"
    """Where the staff digest goes (the caller passes it as ``to``)."""
    portal_url: str = "https://lk.sro.local"
    """The members' personal cabinet («личный кабинет»)."""
    staff_url: str = "http://127.0.0.1:8080/staff/"
    """The staff workspace; the digest links to ``{staff_url}submissions/{id}``."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to an email; ``content_type`` may carry parameters (``; charset=utf-8``)."""

    filename: str
    content_type: str
    data: bytes


KINDS: tuple[str, ...] = (
    "received",
    "registered",
    "returned",
    "rejected",
    "staff_decision",
    "incoming_notice",
    "mass_mailing",
    "staff_digest",
)

STAFF_DECISIONS_RU: dict[str, str] = {
    "verified": "Проверен",
    "returned": "Возвращен на доработку",
    "rejected": "Отклонен",
}
"""Statuses an SRO specialist sets in the cabinet (instruction, section 6)."""

_REQUIRED: dict[str, tuple[str, ...]] = CONTEXTS
"""Context keys per kind: the fields of its typed context (``contexts.py``)."""

_MESSAGE_ID_LEFT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
"""RFC 5322 ``dot-atom-text``: what may stand left of ``@`` in a Message-ID."""

_MESSAGE_ID_DOMAIN = "sro-gateway"


# --------------------------------------------------------------------------- filters


def _fmt_dt(value: Any) -> str:
    """A date or time as Russians write it (``31.03.2025 14:05``); ISO strings are parsed,
    other strings pass through. Aware times are shown in their own zone, which is named."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # members and staff read Moscow time
            return value.astimezone(MSK).strftime("%d.%m.%Y %H:%M") + " (МСК)"
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, str):  # ISO 8601 as stored (now_iso()); anything else as given
        try:
            return _fmt_dt(date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value))
        except ValueError:
            pass
    return str(value)


def _dash(value: Any) -> Any:
    """``—`` for a missing/empty value, the value otherwise."""
    return "—" if value is None or value == "" else value


def _paragraphs(value: Any) -> Markup:
    """Plain text as HTML: escaped, blank lines → paragraphs, line breaks → ``<br>``."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    blocks = [b for b in re.split(r"\n[ \t]*\n", text) if b.strip()]
    return Markup("\n").join(
        Markup('<p style="margin:0 0 1em 0">') + Markup("<br>\n").join(escape(line) for line in block.split("\n")) + Markup("</p>")
        for block in blocks
    )


#: Control characters (NUL, ESC, …) and the bidirectional overrides that can disguise a
#: subject (U+202A–U+202E, U+2066–U+2069): never in a header.
_HEADER_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _one_line(value: Any) -> str:
    """Whitespace (line breaks of every kind included) collapsed and control characters
    dropped: safe for a header."""
    return " ".join(_HEADER_UNSAFE.sub(" ", str(value)).split())


def _environment(templates: Mapping[str, str]) -> jinja2.Environment:
    # Escaping follows the template's name: every ``*.html`` template is autoescaped, the
    # ``*.txt`` ones render the text/plain part, where HTML escaping would corrupt the text.
    env = jinja2.Environment(
        loader=jinja2.DictLoader(dict(templates)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=show_direction_controls,
    )
    env.filters["dt"] = _fmt_dt
    env.filters["dash"] = _dash
    env.filters["paragraphs"] = _paragraphs
    return env


# --------------------------------------------------------------------------- text templates

_TEXT: dict[str, str] = {
    "base.txt": """\
{% block body %}{% endblock %}

--
СРО «Кооперативные Финансы»
Личный кабинет: {{ settings.portal_url }}
По вопросам обращайтесь: {{ settings.sro_contact }}
{% if settings.reply_to %}
Это письмо сформировано автоматически.
{% else %}
Это письмо сформировано автоматически, пожалуйста, не отвечайте на него.
{% endif %}
""",
    "received.txt": """\
{% extends "base.txt" %}
{% block body %}
Здравствуйте!

Пакет документов «{{ doc_type_ru }}» от {{ member_name }} получен {{ received_at|dt }} и передан на проверку.

Номер пакета: {{ submission_id }}

О результате проверки мы сообщим отдельным письмом. Документ считается поступившим в СРО после присвоения ему входящего номера.
{% endblock %}
""",
    "registered.txt": """\
{% extends "base.txt" %}
{% block body %}
Здравствуйте!

Пакет документов «{{ doc_type_ru }}» от {{ member_name }} прошёл автоматическую проверку и зарегистрирован в СРО.

Входящий номер: {{ incoming_number }}
Дата регистрации: {{ registered_at|dt }}
Номер пакета: {{ submission_id }}

Документ будет проверен ответственным сотрудником СРО. Отчёт считается принятым только после присвоения документу статуса «Проверен». Статус документа отображается в личном кабинете во вкладке «Исходящие документы».
{% endblock %}
""",
    "checks.txt": """\
{% for c in checks %}
{{ loop.index }}. {{ c.message_ru }}
{% if c.get("file") %}
   Файл: {{ c.file }}
{% endif %}
{% if c.get("remedy_ru") %}
   Как исправить: {{ c.remedy_ru }}
{% endif %}
{% if c.get("code") %}
   Код проверки: {{ c.code }}
{% endif %}
{% else %}
Замечания не переданы; подробности — в отчёте о проверке.
{% endfor %}
""",
    "returned.txt": """\
{% extends "base.txt" %}
{% block body %}
Здравствуйте!

Пакет документов «{{ doc_type_ru }}» от {{ member_name }} (номер пакета {{ submission_id }}) проверен автоматически.

Решение: {{ decision_ru }}.

Замечания:
{% include "checks.txt" %}

{% if has_attachments %}
Подробный отчёт о проверке приложен к письму.
{% endif %}
Пожалуйста, устраните замечания и направьте документ повторно через личный кабинет (вкладка «Исходящие документы»).
{% endblock %}
""",
    "rejected.txt": """\
{% extends "base.txt" %}
{% block body %}
Здравствуйте!

Пакет документов «{{ doc_type_ru }}» от {{ member_name }} (номер пакета {{ submission_id }}) проверен автоматически.

Решение: {{ decision_ru }}.

Пакет не соответствует установленным требованиям и не может быть принят.

Замечания:
{% include "checks.txt" %}

{% if has_attachments %}
Подробный отчёт о проверке приложен к письму.
{% endif %}
Чтобы представить документ, подготовьте новый пакет с учётом замечаний и направьте его через личный кабинет (вкладка «Исходящие документы»).
{% endblock %}
""",
    "staff_decision.txt": """\
{% extends "base.txt" %}
{% block body %}
Здравствуйте!

Документ «{{ doc_type_ru }}» от {{ member_name }}, входящий номер {{ incoming_number }}, проверен ответственным сотрудником СРО.

Статус документа: {{ status_ru }}
{% if comment %}
Комментарий специалиста СРО: {{ comment }}
{% endif %}

{% if decision == "verified" %}
Документ принят СРО.
{% elif decision == "returned" %}
Пожалуйста, доработайте документ с учётом комментария и направьте его повторно через личный кабинет.
{% else %}
Документ не соответствует установленным требованиям. При необходимости направьте новый документ через личный кабинет.
{% endif %}
Весь путь документа можно посмотреть в личном кабинете: вкладка «Исходящие документы», кнопка «Движения».
{% endblock %}
""",
    "incoming_notice.txt": """\
{% extends "base.txt" %}
{% block body %}
Здравствуйте!

В личном кабинете {{ member_name }} на сайте СРО «Кооперативные Финансы» для Вас размещён документ:
«{{ title }}»

Чтобы ознакомиться с документом:
1. Авторизуйтесь в личном кабинете: {{ settings.portal_url }}
2. Перейдите в раздел «Входящие документы».
3. Откройте документ, дважды кликнув по его наименованию; файл можно просмотреть и сохранить.

Дата и время прочтения документа будут зафиксированы в графе «Состояние».
{% endblock %}
""",
    "mass_mailing.txt": """\
{% extends "base.txt" %}
{% block body %}
Здравствуйте!

Информационная рассылка СРО «Кооперативные Финансы» для {{ member_name }}.

{{ body_text }}

Рассылка также доступна в личном кабинете ({{ settings.portal_url }}): уведомления открываются по значку колокольчика в правом верхнем углу.
Если рассылка содержит запрос информации, ответ формируйте в личном кабинете: вкладка «Исходящие документы», тип документа «Письмо в СРО (ответ на запрос)». Ответ, направленный иным способом, не будет зарегистрирован в СРО.
{% endblock %}
""",
    "staff_digest.txt": """\
{% extends "base.txt" %}
{% block body %}
Возвращённые и отклонённые пакеты за {{ date|dt }}: {{ items|length }}.

{% for i in items %}
{{ loop.index }}. {{ i.decision_ru }}: {{ settings.staff_url }}submissions/{{ i.submission_id }}
   Кооператив: {{ i.member_name|dash }}{% if i.member %} (№ {{ i.member }}){% endif %}

   Вид документа: {{ i.doc_type_ru|dash }}
   Первое замечание: {{ i.first_problem|dash }}
{% else %}
За этот день возвращённых и отклонённых пакетов нет.
{% endfor %}
{% endblock %}
""",
}

# --------------------------------------------------------------------------- HTML templates

_HTML: dict[str, str] = {
    "base.html": """\
<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.45;color:#222;max-width:720px">
{% block body %}{% endblock %}
<hr style="border:none;border-top:1px solid #ccc;margin:2em 0 1em 0">
<p style="font-size:13px;color:#555">
СРО «Кооперативные Финансы»<br>
Личный кабинет: <a href="{{ settings.portal_url }}">{{ settings.portal_url }}</a><br>
По вопросам обращайтесь: {{ settings.sro_contact }}<br>
{% if settings.reply_to %}
Это письмо сформировано автоматически.
{% else %}
Это письмо сформировано автоматически, пожалуйста, не отвечайте на него.
{% endif %}
</p>
</body></html>
""",
    "facts.html": """\
<table style="border-collapse:collapse;margin:1em 0">
{% for label, value in facts %}
<tr><th style="text-align:left;padding:.25em 1em .25em 0;color:#555;font-weight:normal">{{ label }}</th><td style="padding:.25em 0"><b>{{ value }}</b></td></tr>
{% endfor %}
</table>
""",
    "received.html": """\
{% extends "base.html" %}
{% block body %}
<p>Здравствуйте!</p>
<p>Пакет документов «{{ doc_type_ru }}» от {{ member_name }} получен {{ received_at|dt }} и передан на проверку.</p>
{% with facts = [("Номер пакета", submission_id)] %}{% include "facts.html" %}{% endwith %}
<p>О результате проверки мы сообщим отдельным письмом. Документ считается поступившим в СРО после присвоения ему входящего номера.</p>
{% endblock %}
""",
    "registered.html": """\
{% extends "base.html" %}
{% block body %}
<p>Здравствуйте!</p>
<p>Пакет документов «{{ doc_type_ru }}» от {{ member_name }} прошёл автоматическую проверку и зарегистрирован в СРО.</p>
{% with facts = [("Входящий номер", incoming_number), ("Дата регистрации", registered_at|dt), ("Номер пакета", submission_id)] %}{% include "facts.html" %}{% endwith %}
<p>Документ будет проверен ответственным сотрудником СРО. Отчёт считается принятым только после присвоения документу статуса «Проверен». Статус документа отображается в личном кабинете во вкладке «Исходящие документы».</p>
{% endblock %}
""",
    "checks.html": """\
{% if checks %}
<ol>
{% for c in checks %}
<li style="margin-bottom:.8em">{{ c.message_ru }}
{% if c.get("file") %}<br><span style="color:#555">Файл:</span> {{ c.file }}{% endif %}
{% if c.get("remedy_ru") %}<br><span style="color:#555">Как исправить:</span> {{ c.remedy_ru }}{% endif %}
{% if c.get("code") %}<br><span style="color:#888;font-size:12px">Код проверки: {{ c.code }}</span>{% endif %}
</li>
{% endfor %}
</ol>
{% else %}
<p>Замечания не переданы; подробности — в отчёте о проверке.</p>
{% endif %}
""",
    "returned.html": """\
{% extends "base.html" %}
{% block body %}
<p>Здравствуйте!</p>
<p>Пакет документов «{{ doc_type_ru }}» от {{ member_name }} (номер пакета {{ submission_id }}) проверен автоматически.</p>
<p>Решение: <b style="color:#a60">{{ decision_ru }}</b>.</p>
<h3 style="font-size:16px">Замечания</h3>
{% include "checks.html" %}
{% if has_attachments %}<p>Подробный отчёт о проверке приложен к письму.</p>{% endif %}
<p>Пожалуйста, устраните замечания и направьте документ повторно через личный кабинет (вкладка «Исходящие документы»).</p>
{% endblock %}
""",
    "rejected.html": """\
{% extends "base.html" %}
{% block body %}
<p>Здравствуйте!</p>
<p>Пакет документов «{{ doc_type_ru }}» от {{ member_name }} (номер пакета {{ submission_id }}) проверен автоматически.</p>
<p>Решение: <b style="color:#a00">{{ decision_ru }}</b>.</p>
<p>Пакет не соответствует установленным требованиям и не может быть принят.</p>
<h3 style="font-size:16px">Замечания</h3>
{% include "checks.html" %}
{% if has_attachments %}<p>Подробный отчёт о проверке приложен к письму.</p>{% endif %}
<p>Чтобы представить документ, подготовьте новый пакет с учётом замечаний и направьте его через личный кабинет (вкладка «Исходящие документы»).</p>
{% endblock %}
""",
    "staff_decision.html": """\
{% extends "base.html" %}
{% block body %}
<p>Здравствуйте!</p>
<p>Документ «{{ doc_type_ru }}» от {{ member_name }}, входящий номер {{ incoming_number }}, проверен ответственным сотрудником СРО.</p>
{% with facts = [("Статус документа", status_ru)] + ([("Комментарий специалиста СРО", comment)] if comment else []) %}{% include "facts.html" %}{% endwith %}
{% if decision == "verified" %}
<p>Документ принят СРО.</p>
{% elif decision == "returned" %}
<p>Пожалуйста, доработайте документ с учётом комментария и направьте его повторно через личный кабинет.</p>
{% else %}
<p>Документ не соответствует установленным требованиям. При необходимости направьте новый документ через личный кабинет.</p>
{% endif %}
<p>Весь путь документа можно посмотреть в личном кабинете: вкладка «Исходящие документы», кнопка «Движения».</p>
{% endblock %}
""",
    "incoming_notice.html": """\
{% extends "base.html" %}
{% block body %}
<p>Здравствуйте!</p>
<p>В личном кабинете {{ member_name }} на сайте СРО «Кооперативные Финансы» для Вас размещён документ:<br><b>«{{ title }}»</b></p>
<p>Чтобы ознакомиться с документом:</p>
<ol>
<li>Авторизуйтесь в <a href="{{ settings.portal_url }}">личном кабинете</a>.</li>
<li>Перейдите в раздел «Входящие документы».</li>
<li>Откройте документ, дважды кликнув по его наименованию; файл можно просмотреть и сохранить.</li>
</ol>
<p>Дата и время прочтения документа будут зафиксированы в графе «Состояние».</p>
{% endblock %}
""",
    "mass_mailing.html": """\
{% extends "base.html" %}
{% block body %}
<p>Здравствуйте!</p>
<p style="color:#555">Информационная рассылка СРО «Кооперативные Финансы» для {{ member_name }}.</p>
<div style="margin:1.5em 0">
{{ body_text|paragraphs }}
</div>
<p style="font-size:13px;color:#555">Рассылка также доступна в <a href="{{ settings.portal_url }}">личном кабинете</a>: уведомления открываются по значку колокольчика в правом верхнем углу.
Если рассылка содержит запрос информации, ответ формируйте в личном кабинете: вкладка «Исходящие документы», тип документа «Письмо в СРО (ответ на запрос)». Ответ, направленный иным способом, не будет зарегистрирован в СРО.</p>
{% endblock %}
""",
    "staff_digest.html": """\
{% extends "base.html" %}
{% block body %}
<p>Возвращённые и отклонённые пакеты за {{ date|dt }}: <b>{{ items|length }}</b>.</p>
{% if items %}
<table style="border-collapse:collapse;width:100%;font-size:14px">
<tr>{% for h in ["Пакет", "Кооператив", "Вид документа", "Решение", "Первое замечание"] %}<th style="border:1px solid #bbb;padding:.3em .5em;background:#eee;text-align:left">{{ h }}</th>{% endfor %}</tr>
{% for i in items %}
<tr>
<td style="border:1px solid #bbb;padding:.3em .5em"><a href="{{ settings.staff_url }}submissions/{{ i.submission_id }}">{{ i.submission_id[:8] }}</a></td>
<td style="border:1px solid #bbb;padding:.3em .5em">{{ i.member_name|dash }}{% if i.member %} (№ {{ i.member }}){% endif %}</td>
<td style="border:1px solid #bbb;padding:.3em .5em">{{ i.doc_type_ru|dash }}</td>
<td style="border:1px solid #bbb;padding:.3em .5em">{{ i.decision_ru }}</td>
<td style="border:1px solid #bbb;padding:.3em .5em">{{ i.first_problem|dash }}</td>
</tr>
{% endfor %}
</table>
{% else %}
<p>За этот день возвращённых и отклонённых пакетов нет.</p>
{% endif %}
{% endblock %}
""",
}

_TEXT_ENV = _environment(_TEXT)
_HTML_ENV = _environment(_HTML)

_SUBJECTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "received": lambda c: f"Пакет документов получен: {c['doc_type_ru']}",
    "registered": lambda c: f"Документ зарегистрирован в СРО, входящий № {c['incoming_number']}",
    "returned": lambda c: f"Документ возвращен на доработку: {c['doc_type_ru']}",
    "rejected": lambda c: f"Документ отклонен: {c['doc_type_ru']}",
    "staff_decision": lambda c: f"Результат проверки документа вх. № {c['incoming_number']}: {c['status_ru']}",
    "incoming_notice": lambda c: "В личном кабинете для Вас размещён документ от СРО «Кооперативные Финансы»",
    "mass_mailing": lambda c: c["subject"] or "Информационная рассылка СРО «Кооперативные Финансы»",
    "staff_digest": lambda c: f"Возвращённые и отклонённые пакеты за {_fmt_dt(c['date'])}: {len(c['items'])}",
}


class _SmtpFoldingOnce(email.policy.EmailPolicy):
    """``email.policy.SMTP`` that folds each distinct ``From``/``Reply-To`` once per process.

    Folding an address with a Cyrillic display name costs the standard library about a
    millisecond of CPU, the largest part of writing an email; every email of the gateway
    carries the same ``From``. The result is cached per header value and policy (line
    ending, line length, UTF-8), so the bytes are those the standard policy writes.
    """

    _CACHED = ("from", "reply-to")

    def fold(self, name: str, value: Any) -> str:
        return str(self._once("fold", name, value, super().fold))

    def fold_binary(self, name: str, value: Any) -> bytes:
        return bytes(self._once("fold_binary", name, value, super().fold_binary))

    def _once(self, how: str, name: str, value: Any, fold: Callable[[str, Any], Any]) -> Any:
        if name.lower() not in self._CACHED or not hasattr(value, "fold"):
            return fold(name, value)
        # The header registry makes a new class for every header object: keyed by its name.
        key = (how, name, type(value).__name__, str(value), self.linesep, self.max_line_length, self.utf8, self.cte_type)
        found = _FOLDED.get(key)
        if found is None:
            found = fold(name, value)
            if len(_FOLDED) < 64:
                _FOLDED[key] = found
        return found


_FOLDED: dict[tuple[Any, ...], Any] = {}
_SMTP = _SmtpFoldingOnce(linesep="\r\n")  # what email.policy.SMTP is, folding From once


def compose(
    kind: str,
    to: str,
    context: Mapping[str, Any],
    message_id: str,
    settings: MailSettings,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """Build the email of ``kind`` for ``to``.

    ``message_id`` is the left part of the ``Message-ID``: the header is exactly
    ``<{message_id}@sro-gateway>``; it must be RFC 5322 ``dot-atom-text`` (letters, digits,
    ``.-_`` and the like, no ``@``, ``<>`` or spaces).

    Dates may be :class:`~datetime.datetime`/:class:`~datetime.date` (shown as
    ``ДД.ММ.ГГГГ ЧЧ:ММ``) or ready strings. Context keys per kind (all required; extra
    keys are ignored):

    ``received`` — package accepted for checking:
        ``member_name``, ``doc_type_ru``, ``submission_id``, ``received_at``.
    ``registered`` — the SRO registry assigned an incoming number:
        ``member_name``, ``doc_type_ru``, ``submission_id``, ``incoming_number``,
        ``registered_at``.
    ``returned`` / ``rejected`` — the automatic check failed the package:
        ``member_name``, ``doc_type_ru``, ``submission_id``, ``decision_ru``, ``checks``
        (list of dicts: ``message_ru`` required; ``file``, ``remedy_ru``, ``code`` shown
        when present). The caller attaches the HTML report as an :class:`Attachment`; the
        body mentions it only when there are attachments. The checks' ``detail`` (for
        SRO staff) is never shown to members.
    ``staff_decision`` — an SRO specialist set a status in the cabinet:
        ``member_name``, ``doc_type_ru``, ``incoming_number``, ``decision``
        (``verified``/``returned``/``rejected`` → «Проверен»/«Возвращен на
        доработку»/«Отклонен»; anything else is a :class:`ValueError`), ``comment``
        (may be empty or ``None``: then no comment line).
    ``incoming_notice`` — a document from the SRO awaits the member in the cabinet
    (instruction, section 8):
        ``member_name``, ``title``; the link is ``settings.portal_url``.
    ``mass_mailing`` — an SRO information mailing (instruction, section 9):
        ``member_name``, ``subject`` (line breaks collapsed), ``body`` (plain text:
        escaped in HTML, paragraphs and line breaks kept).
    ``staff_digest`` — the day's returned and rejected packages, for staff (pass
    ``settings.staff_address`` as ``to``):
        ``date``, ``items`` (list of dicts: ``submission_id``, ``member`` (registry
        number or ``None``), ``member_name``, ``doc_type_ru``, ``decision_ru``,
        ``first_problem``).

    Every email ends with ``settings.sro_contact`` and a note that it was sent
    automatically.

    :raises ValueError: unknown ``kind``, a missing context key, an unknown staff
        decision, a malformed ``message_id``, ``to`` or attachment content type.
    """
    if kind not in _REQUIRED:
        raise ValueError(f"unknown email kind {kind!r}; expected one of {', '.join(KINDS)}")
    missing = [key for key in _REQUIRED[kind] if key not in context]
    if missing:
        raise ValueError(f"email {kind!r}: context lacks {', '.join(missing)}")
    if not _MESSAGE_ID_LEFT.fullmatch(message_id):
        raise ValueError(f"message_id {message_id!r} is not an RFC 5322 dot-atom")

    values: dict[str, Any] = dict(context)
    if kind == "staff_decision":
        try:
            values["status_ru"] = STAFF_DECISIONS_RU[values["decision"]]
        except (KeyError, TypeError):
            raise ValueError(
                f"staff decision {values['decision']!r}; expected one of {', '.join(STAFF_DECISIONS_RU)}"
            ) from None
    if kind == "mass_mailing":
        values["subject"] = _one_line(values["subject"])
        values["body_text"] = str(values["body"]).replace("\r\n", "\n").replace("\r", "\n").strip()
    subject = _one_line(_SUBJECTS[kind](values))
    values.update(settings=settings, has_attachments=bool(attachments), subject=subject)

    text = _TEXT_ENV.get_template(f"{kind}.txt").render(values)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    html = _HTML_ENV.get_template(f"{kind}.html").render(values)

    message = EmailMessage(policy=_SMTP)
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = to
    if not message["To"].addresses or message["To"].defects:
        raise ValueError(f"recipient {to!r} is not an email address")
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Date"] = email.utils.format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{message_id}@{_MESSAGE_ID_DOMAIN}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to us
    message.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    for attachment in attachments:
        maintype, subtype, params = _content_type(attachment.content_type)
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    return message


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    """``type/subtype; key=value`` split into parts, parameters unquoted."""
    head, *rest = value.split(";")
    maintype, sep, subtype = head.strip().lower().partition("/")
    if not sep or not maintype or not subtype or maintype == "multipart":
        raise ValueError(f"attachment content type {value!r} is not a single-part MIME type")
    params: dict[str, str] = {}
    for part in rest:
        key, eq, val = part.strip().partition("=")
        if eq and key.strip():
            params[key.strip().lower()] = val.strip().strip('"')
    return maintype, subtype, params
