"""Emails: composition of every kind, SMTP delivery against a real aiosmtpd server on
127.0.0.1 (started inside the test's event loop), error classification, and the .eml folder."""

from __future__ import annotations

import asyncio
import email
import email.header
import email.policy
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from gateway.delivery.errors import PermanentDelivery, RetryableDelivery
from gateway.delivery.mail.compose import KINDS, Attachment, MailSettings, compose
from gateway.delivery.mail.transport import EmlFolderTransport, SmtpSettings, SmtpTransport
from tests.pki.tls import localhost_tls, server_context

SETTINGS = MailSettings(sro_contact="info@coopfin.test", portal_url="https://lk.coopfin.test")
TO = "kpk123@member.test"
REPORT = Attachment("Отчёт о проверке пакета.html", "text/html; charset=utf-8", "<html>Отчёт</html>".encode())

CHECKS = [
    {
        "code": "signature.missing",
        "file": "123_OD.zip",
        "message_ru": "Файл не подписан усиленной квалифицированной электронной подписью",
        "remedy_ru": "Подпишите файл УКЭП руководителя кооператива",
        "detail": "internal: no CMS found",
    },
    {
        "code": "archive.name",
        "file": "отчет.rar",
        "message_ru": "Имя архива не соответствует шаблону PPP_OD.zip",
        "remedy_ru": "Переименуйте архив в 123_OD.zip",
    },
]

CONTEXTS: dict[str, dict[str, Any]] = {
    "received": {
        "member_name": "КПК «Ромашка»",
        "doc_type_ru": "Отчетность КПК в СРО",
        "submission_id": "S-2025-0001",
        "received_at": datetime(2025, 3, 31, 14, 5, tzinfo=UTC),
    },
    "registered": {
        "member_name": "КПК «Ромашка»",
        "doc_type_ru": "Отчетность КПК в СРО",
        "submission_id": "S-2025-0001",
        "incoming_number": "ВХ-1234/25",
        "registered_at": date(2025, 4, 1),
    },
    "returned": {
        "member_name": "КПК «Ромашка»",
        "doc_type_ru": "Устав",
        "submission_id": "S-2025-0002",
        "decision_ru": "Возвращен на доработку",
        "checks": CHECKS,
    },
    "rejected": {
        "member_name": "КПК «Ромашка»",
        "doc_type_ru": "Положение",
        "submission_id": "S-2025-0003",
        "decision_ru": "Отклонен",
        "checks": CHECKS,
    },
    "staff_decision": {
        "member_name": "КПК «Ромашка»",
        "doc_type_ru": "Отчетность КПК в СРО",
        "incoming_number": "ВХ-1234/25",
        "decision": "returned",
        "comment": "Не хватает страницы 3 баланса",
    },
    "incoming_notice": {"member_name": "КПК «Ромашка»", "title": "Запрос о предоставлении информации № 15"},
    "mass_mailing": {
        "member_name": "КПК «Ромашка»",
        "subject": "О сроках сдачи отчётности",
        "body": "Уважаемые коллеги!\nНапоминаем о сроках <script>alert(1)</script>.\n\nС уважением, СРО",
    },
    "staff_digest": {
        "date": date(2025, 4, 2),
        "items": [
            {
                "submission_id": "S-2025-0002",
                "member": "123",
                "member_name": "КПК «Ромашка»",
                "doc_type_ru": "Устав",
                "decision_ru": "Возвращен на доработку",
                "first_problem": "Файл не подписан",
            },
            {
                "submission_id": "S-2025-0003",
                "member": None,
                "member_name": None,
                "doc_type_ru": "Положение",
                "decision_ru": "Отклонен",
                "first_problem": "Неизвестный отправитель",
            },
        ],
    },
}

EXPECTED: dict[str, tuple[str, list[str]]] = {
    # kind: (a piece of the subject, facts the text part must show)
    "received": ("получен", ["S-2025-0001", "31.03.2025 17:05 (МСК)", "Отчетность КПК в СРО", "КПК «Ромашка»"]),
    "registered": ("ВХ-1234/25", ["ВХ-1234/25", "01.04.2025", "S-2025-0001", "«Проверен»"]),
    "returned": ("возвращен на доработку", [c[k] for c in CHECKS for k in ("message_ru", "remedy_ru", "file")]),
    "rejected": ("отклонен", [c[k] for c in CHECKS for k in ("message_ru", "remedy_ru", "file")] + ["Отклонен"]),
    "staff_decision": ("Возвращен на доработку", ["ВХ-1234/25", "Не хватает страницы 3 баланса", "«Движения»"]),
    "incoming_notice": ("размещён документ", ["Запрос о предоставлении информации № 15", "https://lk.coopfin.test", "«Входящие документы»"]),
    "mass_mailing": ("О сроках сдачи отчётности", ["Напоминаем о сроках", "Письмо в СРО (ответ на запрос)"]),
    "staff_digest": ("02.04.2025", ["S-2025-0002", "S-2025-0003", "КПК «Ромашка» (№ 123)", "Неизвестный отправитель"]),
}


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _compose(kind: str, message_id: str = "outbox-17.1", settings: MailSettings = SETTINGS) -> EmailMessage:
    attachments = (REPORT,) if kind in ("returned", "rejected") else ()
    return compose(kind, TO, CONTEXTS[kind], message_id, settings, attachments)


# --------------------------------------------------------------------------- compose


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_composes_with_russian_subject_and_key_facts(kind: str) -> None:
    raw = _compose(kind, message_id=f"outbox-{kind}.1").as_bytes()
    raw.decode("ascii")  # headers RFC 2047-encoded, bodies base64: 7-bit clean
    message = _parse(raw)
    subject_piece, facts = EXPECTED[kind]
    assert subject_piece in message["Subject"]
    assert any("а" <= ch <= "я" for ch in message["Subject"].lower())
    assert message["To"] == TO
    assert message["Message-ID"] == f"<outbox-{kind}.1@sro-gateway>"
    assert message["From"].addresses[0].addr_spec == "noreply@sro.local"
    assert message["Date"] is not None
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for fact in facts:
        assert fact in text, fact
    for part in (text, html):
        assert "info@coopfin.test" in part
        assert "сформировано автоматически" in part


def test_sender_display_name_encoded_per_rfc_2047() -> None:
    composed = _compose("received")
    assert composed["From"].addresses[0].display_name == "СРО «Кооперативные Финансы»"
    raw_from = composed.as_bytes().split(b"\r\nTo: ")[0].split(b"\r\nFrom: ")[1].decode("ascii")
    # The legacy decoder drops the folding between adjacent encoded words (RFC 2047 §6.2);
    # Python 3.11's modern address parser does not (CPython gh-128110) and would show
    # "Фина нсы", so the wire format is checked with the legacy one.
    decoded = str(email.header.make_header(email.header.decode_header(raw_from)))
    assert decoded == "СРО «Кооперативные Финансы» <noreply@sro.local>"


@pytest.mark.parametrize("kind", KINDS)
def test_written_bytes_are_those_of_the_standard_smtp_policy(kind: str) -> None:
    """The From header is folded once per process (issue 13 §4); the bytes stay exactly
    what email.policy.SMTP writes, on the wire and in .eml files, first time and again."""
    composed = _compose(kind)
    reference = composed.as_bytes(policy=email.policy.SMTP)
    assert composed.as_bytes() == reference
    assert composed.as_bytes(policy=composed.policy.clone(linesep="\r\n")) == reference  # as the transports write it
    assert composed.as_bytes() == reference  # from the cache
    assert composed.as_bytes(policy=composed.policy.clone(linesep="\n")) == composed.as_bytes(policy=email.policy.default)


def test_each_sender_is_folded_as_itself() -> None:
    first = _compose("received", settings=MailSettings(sender="СРО «Первая» <one@sro.local>"))
    second = _compose("received", settings=MailSettings(sender="СРО «Вторая» <two@sro.local>"))
    for composed, name in ((first, "Первая"), (second, "Вторая")):
        raw = _parse(composed.as_bytes())
        assert raw["From"].addresses[0].addr_spec == ("one@sro.local" if name == "Первая" else "two@sro.local")
        assert name in raw["From"].addresses[0].display_name


def test_parts_are_text_and_html_alternatives() -> None:
    message = _parse(_compose("received").as_bytes())
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())


@pytest.mark.parametrize("kind", ["returned", "rejected"])
def test_report_attachment_with_cyrillic_filename(kind: str) -> None:
    raw = _compose(kind).as_bytes()
    # RFC 2231 (Python splits a long one into filename*0*=utf-8''…; filename*1*=…)
    assert b"filename*0*=utf-8''" in raw or b"filename*=utf-8''" in raw
    message = _parse(raw)
    assert message.get_content_type() == "multipart/mixed"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "Отчёт о проверке пакета.html"
    assert attachment.get_content_type() == "text/html"
    assert attachment.get_content() == "<html>Отчёт</html>"
    assert "приложен к письму" in message.get_body(("plain",)).get_content()


def test_check_detail_for_staff_is_not_mailed_to_members() -> None:
    message = _compose("returned")
    assert "internal: no CMS found" not in message.get_body(("plain",)).get_content()
    assert "internal: no CMS found" not in message.get_body(("html",)).get_content()


def test_mass_mailing_html_escapes_body_and_keeps_line_breaks() -> None:
    html = _compose("mass_mailing").get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Уважаемые коллеги!<br>" in html


def test_mass_mailing_subject_line_breaks_collapsed() -> None:
    context = dict(CONTEXTS["mass_mailing"], subject="Первая строка\r\nвторая")
    message = compose("mass_mailing", TO, context, "m.1", SETTINGS)
    assert message["Subject"] == "Первая строка вторая"


def test_plain_text_part_is_not_html_escaped() -> None:
    context = dict(CONTEXTS["incoming_notice"], title="Письмо <b>важное</b> & срочное")
    text = compose("incoming_notice", TO, context, "n.1", SETTINGS).get_body(("plain",)).get_content()
    assert "Письмо <b>важное</b> & срочное" in text
    assert "&lt;" not in text and "&amp;" not in text


def test_member_strings_escaped_in_html() -> None:
    context = dict(CONTEXTS["incoming_notice"], title="Письмо <b>важное</b> & срочное")
    html = compose("incoming_notice", TO, context, "n.1", SETTINGS).get_body(("html",)).get_content()
    assert "Письмо &lt;b&gt;важное&lt;/b&gt; &amp; срочное" in html


@pytest.mark.parametrize(
    ("decision", "status"),
    [("verified", "Проверен"), ("returned", "Возвращен на доработку"), ("rejected", "Отклонен")],
)
def test_staff_decision_status_names(decision: str, status: str) -> None:
    context = dict(CONTEXTS["staff_decision"], decision=decision)
    message = compose("staff_decision", TO, context, "d.1", SETTINGS)
    assert message["Subject"].endswith(status)
    assert f"Статус документа: {status}" in message.get_body(("plain",)).get_content()


def test_staff_decision_unknown_decision_is_an_error() -> None:
    with pytest.raises(ValueError, match="staff decision"):
        compose("staff_decision", TO, dict(CONTEXTS["staff_decision"], decision="accepted"), "d.1", SETTINGS)


def test_staff_digest_without_items() -> None:
    message = compose("staff_digest", "staff@sro.test", {"date": "02.04.2025", "items": []}, "g.1", SETTINGS)
    assert "пакетов нет" in message.get_body(("plain",)).get_content()


def test_reply_to_set_only_when_configured() -> None:
    assert _compose("received")["Reply-To"] is None
    settings = MailSettings(reply_to="Отдел контроля <control@coopfin.test>")
    message = _parse(_compose("received", settings=settings).as_bytes())
    assert message["Reply-To"].addresses[0].addr_spec == "control@coopfin.test"


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown email kind"):
        compose("newsletter", TO, {}, "x.1", SETTINGS)


def test_missing_context_key_is_an_error() -> None:
    context = {k: v for k, v in CONTEXTS["registered"].items() if k != "incoming_number"}
    with pytest.raises(ValueError, match="incoming_number"):
        compose("registered", TO, context, "x.1", SETTINGS)


@pytest.mark.parametrize("bad", ["a b", "x@y", "<x>", "", "x\r\nBcc: a@b"])
def test_malformed_message_id_is_an_error(bad: str) -> None:
    with pytest.raises(ValueError, match="message_id"):
        compose("received", TO, CONTEXTS["received"], bad, SETTINGS)


# --------------------------------------------------------------------------- SMTP server


class Recorder:
    """aiosmtpd handler: stores envelopes; can refuse RCPT or stall DATA."""

    def __init__(self, rcpt_reply: str | None = None, stall: asyncio.Event | None = None) -> None:
        self.envelopes: list[Envelope] = []
        self.rcpt_reply = rcpt_reply
        self.stall = stall

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.stall is not None:
            await asyncio.wait_for(self.stall.wait(), 5)  # bounded even if the test forgets
        self.envelopes.append(envelope)
        return "250 Message accepted"


@asynccontextmanager
async def smtp_server(handler: Recorder, **smtp_kwargs: Any) -> AsyncIterator[int]:
    """aiosmtpd on 127.0.0.1, an OS-chosen port, in the running loop; yields the port.

    (aiosmtpd's threaded ``Controller`` cannot use port 0: its start-up self-check
    connects to the configured port.)
    """
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp.test", loop=loop, **smtp_kwargs), "127.0.0.1", 0
    )
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def _smtp(port: int, **kwargs: Any) -> SmtpTransport:
    return SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=5.0, **kwargs))


async def test_smtp_delivers_to_real_server() -> None:
    handler = Recorder()
    async with smtp_server(handler) as port:
        await asyncio.wait_for(_smtp(port).send(_compose("returned")), 10)
    (envelope,) = handler.envelopes
    assert envelope.mail_from == "noreply@sro.local"
    assert envelope.rcpt_tos == [TO]
    received = _parse(envelope.content)
    assert received["Subject"] == "Документ возвращен на доработку: Устав"
    assert received["To"] == TO
    assert received["Message-ID"] == "<outbox-17.1@sro-gateway>"
    assert CHECKS[0]["remedy_ru"] in received.get_body(("plain",)).get_content()
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_filename() == "Отчёт о проверке пакета.html"


async def test_smtp_451_on_rcpt_is_retryable() -> None:
    async with smtp_server(Recorder(rcpt_reply="451 4.3.0 Try again later")) as port:
        with pytest.raises(RetryableDelivery, match="451"):
            await asyncio.wait_for(_smtp(port).send(_compose("received")), 10)


async def test_smtp_550_on_rcpt_is_permanent_and_names_recipient() -> None:
    async with smtp_server(Recorder(rcpt_reply="550 5.1.1 No such user")) as port:
        with pytest.raises(PermanentDelivery) as info:
            await asyncio.wait_for(_smtp(port).send(_compose("received")), 10)
    assert "550" in info.value.detail and "No such user" in info.value.detail and TO in info.value.detail


async def test_smtp_nothing_listening_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RetryableDelivery):
        await asyncio.wait_for(_smtp(port).send(_compose("received")), 10)


async def test_smtp_slow_server_times_out_retryable() -> None:
    release = asyncio.Event()
    handler = Recorder(stall=release)
    async with smtp_server(handler) as port:
        transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=0.5))
        try:
            with pytest.raises(RetryableDelivery, match="timed out"):
                await asyncio.wait_for(transport.send(_compose("received")), 10)
        finally:
            release.set()
            await asyncio.sleep(0)  # let the stalled handler finish before the server closes


def _authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"gateway" and auth_data.password == "s3cret-пароль".encode()
    # handled=False: aiosmtpd then answers "535 5.7.8" itself. With the default
    # handled=True a failure sends no reply at all and the client hangs until its timeout.
    return AuthResult(success=ok, handled=False)


async def test_smtp_login_accepted() -> None:
    handler = Recorder()
    async with smtp_server(handler, authenticator=_authenticator, auth_require_tls=False) as port:
        await asyncio.wait_for(_smtp(port, username="gateway", password="s3cret-пароль").send(_compose("received")), 10)
    assert len(handler.envelopes) == 1


async def test_smtp_wrong_password_is_permanent_and_not_leaked() -> None:
    handler = Recorder()
    async with smtp_server(handler, authenticator=_authenticator, auth_require_tls=False) as port:
        transport = _smtp(port, username="gateway", password="wrong-secret")
        with pytest.raises(PermanentDelivery, match="535") as info:
            await asyncio.wait_for(transport.send(_compose("received")), 10)
    assert "wrong-secret" not in info.value.detail
    assert "wrong-secret" not in repr(transport.settings)
    assert handler.envelopes == []


# --------------------------------------------------------------------------- .eml folder


async def test_eml_folder_writes_parseable_file(tmp_path: Path) -> None:
    await EmlFolderTransport(tmp_path).send(_compose("registered", message_id="outbox-5.1"))
    path = tmp_path / "outbox-5.1.eml"
    message = _parse(path.read_bytes())
    assert message["Message-ID"] == "<outbox-5.1@sro-gateway>"
    assert "ВХ-1234/25" in message.get_body(("plain",)).get_content()


async def test_eml_folder_same_message_id_twice_leaves_one_file(tmp_path: Path) -> None:
    transport = EmlFolderTransport(tmp_path / "out")
    await transport.send(_compose("received", message_id="outbox-6.1"))
    await transport.send(_compose("registered", message_id="outbox-6.1"))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["outbox-6.1.eml"]
    assert "ВХ-1234/25" in _parse((tmp_path / "out" / "outbox-6.1.eml").read_bytes())["Subject"]


async def test_eml_folder_refuses_unsafe_message_id(tmp_path: Path) -> None:
    message = EmailMessage()
    message["Message-ID"] = "<../escape@elsewhere>"
    message.set_content("x")
    with pytest.raises(PermanentDelivery):
        await EmlFolderTransport(tmp_path).send(message)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- TLS


def _ca_and_server_cert(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A throw-away CA (``ca.pem``) and a 127.0.0.1 server context signed by it."""
    ca_pem, cert, key = localhost_tls(folder, "Test SMTP CA")
    return ca_pem, server_context(cert, key)


async def test_smtp_starttls_verified_against_ca_bundle(tmp_path: Path) -> None:
    ca_pem, server_context = _ca_and_server_cert(tmp_path)
    handler = Recorder()
    async with smtp_server(handler, tls_context=server_context, require_starttls=True) as port:
        transport = SmtpTransport(
            SmtpSettings(host="127.0.0.1", port=port, security="starttls", timeout=5.0, ca_bundle=ca_pem)
        )
        await asyncio.wait_for(transport.send(_compose("received")), 10)
    assert len(handler.envelopes) == 1


async def test_smtp_starttls_required_but_not_offered_is_permanent() -> None:
    async with smtp_server(Recorder()) as port:
        transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, security="starttls", timeout=5.0))
        with pytest.raises(PermanentDelivery, match="STARTTLS"):
            await asyncio.wait_for(transport.send(_compose("received")), 10)
