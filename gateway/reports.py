"""The staff report in HTML (Russian): every finding, the file it concerns, and the signature
stamp data of every signer. Rendered from the stored JSON report; autoescaped."""

from __future__ import annotations

from typing import Any

import jinja2

__all__ = ["render_html"]

_SEVERITY_RU = {"fatal": "критично", "fixable": "исправимо", "warning": "предупреждение", "info": "сведения"}
_INDICATION_RU = {
    "TOTAL_PASSED": "действительна",
    "TOTAL_FAILED": "недействительна",
    "INDETERMINATE": "не установлено",
}

_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
    """<!doctype html>
<html lang="ru"><head><meta charset="utf-8">
<title>Проверка пакета {{ sub.id if sub else "" }}</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:70em} table{border-collapse:collapse;width:100%;margin:1em 0}
td,th{border:1px solid #bbb;padding:.3em .5em;vertical-align:top;text-align:left} th{background:#eee}
.accepted{color:#064} .returned{color:#a60} .rejected{color:#a00} .fatal{color:#a00} .fixable{color:#a60}
.stamp{border:2px solid #246;padding:.5em 1em;margin:1em 0;max-width:45em} .muted{color:#666;font-size:90%}
</style></head><body>
<h1>Результат проверки пакета</h1>
<p>Решение: <b class="{{ r.decision }}">{{ r.decision_ru }}</b></p>
<table>
<tr><th>Кооператив</th><td>{% if r.member %}{{ r.member.name }} (№ {{ r.member.number }}, ОГРН {{ r.member.ogrn }}, ИНН {{ r.member.inn }}){% else %}не найден в реестре{% endif %}</td></tr>
<tr><th>Вид документа</th><td>{{ r.doc_type_ru or r.doc_type }}{% if r.report_kind %}, {{ r.report_kind }}{% endif %}{% if r.regulation_kind %}, {{ r.regulation_kind }}{% endif %}</td></tr>
{% if sub %}<tr><th>Пакет</th><td>{{ sub.id }}, получен {{ sub.received_at }}{% if sub.incoming_number %}, вх. № {{ sub.incoming_number }}{% endif %}</td></tr>{% endif %}
<tr><th>Проверен</th><td>{{ r.validated_at }}</td></tr>
</table>
<h2>Замечания</h2>
{% if r.checks %}
<table><tr><th>Код</th><th>Важность</th><th>Файл</th><th>Замечание</th><th>Как исправить</th><th>Подробности для СРО</th></tr>
{% for c in r.checks %}<tr><td>{{ c.code }}</td><td class="{{ c.severity }}">{{ severity_ru.get(c.severity, c.severity) }}</td><td>{{ c.file or "—" }}</td><td>{{ c.message_ru }}</td><td>{{ c.remedy_ru }}</td><td class="muted">{{ c.detail }}</td></tr>
{% endfor %}</table>
{% else %}<p>Замечаний нет.</p>{% endif %}
<h2>Файлы</h2>
<table><tr><th>Поле</th><th>Имя</th><th>Размер, байт</th><th>Тип</th><th>SHA-256</th><th>ГОСТ Р 34.11-2012 (256)</th></tr>
{% for f in r.files %}<tr><td>{{ f.slot }}</td><td>{{ f.name }}</td><td>{{ f.size }}</td><td>{{ f.type or "—" }}</td><td class="muted">{{ f.sha256 }}</td><td class="muted">{{ f.streebog256 or "—" }}</td></tr>
{% endfor %}</table>
<h2>Электронные подписи</h2>
{% for s in r.signatures %}
<div class="stamp">
<b>ДОКУМЕНТ ПОДПИСАН ЭЛЕКТРОННОЙ ПОДПИСЬЮ</b> — {{ s.file }}{% if s.signature_file %} ({{ s.signature_file }}){% endif %}<br>
{% if s.signer %}Владелец: {{ [s.signer.surname, s.signer.given_name]|select|join(" ") or s.signer.common_name }}{% if s.signer.title %}, {{ s.signer.title }}{% endif %}<br>
Организация: {{ s.signer.organization or "—" }}{% if s.signer.ogrn %}, ОГРН {{ s.signer.ogrn }}{% endif %}{% if s.signer.inn_le %}, ИНН {{ s.signer.inn_le }}{% endif %}<br>{% endif %}
{% if s.certificate %}Сертификат: {{ s.certificate.serial }}<br>Издатель: {{ s.certificate.issuer }}<br>
Действителен: с {{ s.certificate.not_before }} по {{ s.certificate.not_after }}<br>{% endif %}
Время подписи: {{ s.signing_time or "—" }}<br>
{% set poa = s.get("power_of_attorney") %}{% if poa %}{# МЧД (issue 11 §1) #}
{% if poa.stamp_ru %}<b>{{ poa.stamp_ru }}</b>{% if not poa.valid %} — <span class="fatal">доверенность не принята ({{ poa.findings|join(", ") }})</span>{% endif %}<br>
Представитель: {{ poa.representative.full_name }}{% if poa.representative.position %}, {{ poa.representative.position }}{% endif %}; доверенность выдал: {{ poa.issuer.full_name }}{% if poa.issuer.position %}, {{ poa.issuer.position }}{% endif %}<br>
Полномочия: {% for p in poa.powers %}{% if p.code %}[{{ p.code }}] {% endif %}{{ p.text }}{% if not loop.last %}; {% endif %}{% else %}—{% endfor %}<br>
Реестр доверенностей: {% if poa.registry.consulted %}проверена, статус {{ poa.registry.status }}{% else %}не проверялась{% endif %} <span class="muted">({{ poa.registry.detail }})</span>{% if poa.revoked_locally %}; <span class="fatal">в списке отменённых доверенностей</span>{% endif %}<br>
{% else %}<span class="fixable">Подписано личным сертификатом; доверенность, выданная подписанту, не найдена ({{ poa.findings|join(", ") }})</span><br>{% endif %}{% endif %}
Результат: <b>{{ indication_ru.get(s.indication, s.indication) }}</b> ({{ s.indication }}{% if s.sub_indication %}/{{ s.sub_indication }}{% endif %}), {{ "квалифицированная" if s.qualified else "не квалифицированная" }}
<details><summary class="muted">Шаги проверки</summary><ul>
{% for c in s.checks %}<li>{{ "✓" if c.passed else "✗" }} {{ c.name }}: {{ c.detail }}</li>{% endfor %}
</ul></details>
</div>
{% else %}<p>Подписи не найдены.</p>{% endfor %}
</body></html>
"""
)


def render_html(report: dict[str, Any]) -> str:
    """The staff HTML page for a stored package report."""
    return _TEMPLATE.render(
        r=report, sub=report.get("submission"), severity_ru=_SEVERITY_RU, indication_ru=_INDICATION_RU
    )
