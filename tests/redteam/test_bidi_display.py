"""Red team: text direction controls in member strings shown to staff and members.

A name refused by the name rules is still shown in the finding that refuses it; a
certificate or МЧД name is shown on the stamp. The right-to-left override (U+202E) and its
kin (U+202A–U+202E, U+2066–U+2069) make «Справка\u202efdp.exe» read «Справкаexe.pdf» on a page,
in a report or in an email. Every page, report and email now shows them as a visible
``[U+202E]`` instead of obeying them."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config
from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.servers.mail import eml_messages
from tests.servers.packages import LETTER, ClientFactory, decided, make_zip, signed_copy, submit, wait_for
from tests.servers.staff import add_staff, sign_in

NAME = "Справка\u202efdp.exe"
CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


async def _package(client: TestClient, pki: TestPki, tmp_path: Path) -> str:
    """A letter whose supporting archive holds a signed file named :data:`NAME` (upload
    names lose such characters at intake; names inside archives are shown as they are)."""
    folder = tmp_path / "p"
    folder.mkdir(parents=True)
    cover = signed_copy(pki, folder, "Письмо.pdf", pdfs.make_pdf(folder / "c.pdf", "Cover").read_bytes())
    inner = signed_copy(pki, folder / "att", "inner.pdf", pdfs.make_pdf(folder / "s.pdf").read_bytes())
    archive = make_zip(folder / "Приложение.zip", inner, [NAME, NAME + ".sig"])
    response = await submit(client, LETTER, {"document": [cover[0]], "signature": [cover[1]], "attachment": [archive]})
    submission_id: str = (await response.json())["id"]
    report = await decided(client, submission_id)
    assert "file.name_invalid" in {c["code"] for c in report["checks"]}, report["checks"]
    return submission_id


async def test_direction_controls_are_shown_not_obeyed_on_pages_and_reports(client: TestClient, config: Config, pki: TestPki, tmp_path: Path) -> None:
    submission_id = await _package(client, pki, tmp_path)
    add_staff(config)
    assert (await sign_in(client)).status == 303
    for path in (f"/staff/submissions/{submission_id}", f"/staff/submissions/{submission_id}/report", f"/api/v1/submissions/{submission_id}/report?format=html"):
        html = await (await client.get(path)).text()
        assert not any(c in html for c in CONTROLS), path
        assert "Справка[U+202E]fdp.exe" in html, path


async def test_direction_controls_are_shown_not_obeyed_in_emails(aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(delivery_config))
    await _package(client, pki, tmp_path)
    # Returned for the name, or rejected since a name ending in ".exe" is a program (file.not_document).
    decided_subjects = ("возвращен", "отклонен")
    await wait_for(lambda: any(word in str(m["Subject"]) for m in eml_messages(tmp_path / "mail") for word in decided_subjects))
    rejected = next(m for m in eml_messages(tmp_path / "mail") if any(word in str(m["Subject"]) for word in decided_subjects))
    body = rejected.get_body(preferencelist=("plain",))
    assert body is not None and "Справка[U+202E]fdp.exe" in body.get_content()
    for message in eml_messages(tmp_path / "mail"):
        for part in message.walk():
            if part.get_content_maintype() == "text":
                assert not any(c in part.get_content() for c in CONTROLS)
