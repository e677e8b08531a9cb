"""Red team: what reaches a member's email from outside the gateway.

Member-controlled: file names (upload, archive entries) and certificate names, shown in
the findings of a «returned»/«rejected» email and in the attached HTML report.
Registry-controlled: notice titles, mass-mailing subjects and bodies, incoming numbers.
None may add a header (CR/LF, U+2028/U+2029, NEL, other vertical white space) or put a
control character (NUL, ESC) or a bidirectional override (U+202E: «…fdp.exe» shown as
«…exe.pdf») into one — those reached the Subject before — and none may become markup in the HTML part or the attached report. The Message-ID is the outbox
row's, so a retried email is the same message.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config
from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.servers.mail import eml_messages
from tests.servers.packages import LETTER, MEMBER, ClientFactory, decided, make_zip, signed_copy, submit, wait_for

BREAKS = ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"]
HOSTILE = "".join(f"{b}X-Injected-{i}: yes" for i, b in enumerate(BREAKS)) + "\r\nBcc: evil@example.com\x00\x1b[2J\u202efdp.exe"
MARKUP = ("<img src=x", "<b onmouseover", "<svg")

#: The headers every gateway email has; nothing else may appear.
EXPECTED_HEADERS = {"subject", "from", "to", "reply-to", "date", "message-id", "auto-submitted", "mime-version", "content-type", "content-transfer-encoding"}


def _headers_are_ours(message: EmailMessage) -> None:
    names = {name.lower() for name, _value in message.items()}
    assert names <= EXPECTED_HEADERS, names - EXPECTED_HEADERS
    for name, value in message.items():
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", str(value)), (name, value)
    assert message["Bcc"] is None
    assert re.fullmatch(r"<[A-Za-z0-9._:-]+@sro-gateway>", message["Message-ID"]), message["Message-ID"]


def _parts(message: EmailMessage) -> list[str]:
    return [part.get_content() for part in message.walk() if part.get_content_maintype() == "text"]


async def test_notice_titles_and_mailing_subjects_add_no_header(aiohttp_client: ClientFactory, delivery_config: Config, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(delivery_config))
    response = await client.post("/api/v1/notices", json={"kind": "document", "member": MEMBER, "title": "Акт " + HOSTILE + " <svg onload=alert(1)>"})
    assert response.status == 202, await response.text()
    response = await client.post("/api/v1/notices", json={"kind": "mass", "subject": "Тема " + HOSTILE, "body": "Текст <img src=x onerror=alert(1)>" + HOSTILE})
    assert response.status == 202, await response.text()
    await wait_for(lambda: len(eml_messages(tmp_path / "mail")) == 2)
    subjects = []
    for message in eml_messages(tmp_path / "mail"):
        _headers_are_ours(message)
        subjects.append(str(message["Subject"]))
        html = message.get_body(preferencelist=("html",))
        assert html is not None and not any(m in html.get_content() for m in MARKUP)
    assert any("X-Injected-0: yes" in subject for subject in subjects), subjects  # it reached the header, flattened


async def test_hostile_file_names_stay_text_in_the_rejection_email_and_its_report(
    aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path
) -> None:
    client: TestClient = await aiohttp_client(create_app(delivery_config))
    folder = tmp_path / "p"
    cover = signed_copy(pki, folder, "<img src=x onerror=alert(1)>.pdf", pdfs.make_pdf(tmp_path / "c.pdf", "Cover").read_bytes(), "foreign256")
    inner = signed_copy(pki, folder / "att", "<b onmouseover=alert(3)>Справка.pdf", pdfs.make_pdf(tmp_path / "s.pdf").read_bytes(), "foreign256")
    attachment = make_zip(folder / "Приложение.zip", inner)
    response = await submit(client, LETTER, {"document": [cover[0]], "signature": [cover[1]], "attachment": [attachment]})
    submission_id = (await response.json())["id"]
    assert (await decided(client, submission_id))["decision"] == "rejected"
    await wait_for(lambda: any("отклонен" in str(m["Subject"]) for m in eml_messages(tmp_path / "mail")))
    message = next(m for m in eml_messages(tmp_path / "mail") if "отклонен" in str(m["Subject"]))
    _headers_are_ours(message)
    texts = _parts(message)
    assert any("<img src=x onerror=alert(1)>.pdf" in t for t in texts)  # the plain text shows it as is
    for part in message.walk():
        if part.get_content_type() == "text/html":
            content = part.get_content()
            assert not any(m in content for m in MARKUP), content[:2000]
    [report] = [p for p in message.iter_attachments()]
    assert report.get_filename() == "Отчет о проверке.html"
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in report.get_content()
