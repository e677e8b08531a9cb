"""Red team: stored HTML injection through every member-controlled string that reaches the
staff workspace (inbox, package page, printable report, the API's HTML report).

A hostile member controls: upload file names, names inside the supporting archive,
``external_id``, and every free-text attribute of the signing certificate's subject (CN,
O, SN, GN, title, email — a self-made CA is shown too: the issuer name). Each must be shown
as text. Pages are rendered by autoescaping Jinja2 templates and sent with a strict CSP;
these tests pin both, through the running service.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from gateway.config import Config
from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.pki.hostile_names import add_markup_certificate
from tests.pki.poa import PoaSpec, issue_personal_certificates, write_signed_poa
from tests.servers.packages import LETTER, REPORT, decided, make_zip, report_zip, run_package, signed_copy, submit
from tests.servers.staff import add_staff, sign_in

#: Markup a browser would run or render, in every form the package below carries it.
ACTIVE = ("<img src=x", "<svg", "<b onmouseover", "<script", "<iframe")
DOCUMENT = "<img src=x onerror=alert(1)>.pdf"
INNER = "<b onmouseover=alert(3)>Справка.pdf"
EXTERNAL_ID = "<svg onload=alert(4)>"


@pytest.fixture(scope="session")
def markup_pki(pki: TestPki) -> TestPki:
    return add_markup_certificate(pki)


async def _hostile_package(client: TestClient, pki: TestPki, tmp_path: Path) -> str:
    folder = tmp_path / "p"
    cover = signed_copy(pki, folder, DOCUMENT, pdfs.make_pdf(tmp_path / "c.pdf", "Cover").read_bytes(), "markup256")
    inner = signed_copy(pki, folder / "att", INNER, pdfs.make_pdf(tmp_path / "s.pdf").read_bytes(), "markup256")
    attachment = make_zip(folder / "<iframe src=x>.zip", inner)
    response = await submit(client, {**LETTER, "external_id": EXTERNAL_ID}, {"document": [cover[0]], "signature": [cover[1]], "attachment": [attachment]})
    assert response.status == 202, await response.text()
    submission_id: str = (await response.json())["id"]
    report = await decided(client, submission_id)
    # The hostile strings really are in the stored report (else the pages prove nothing).
    assert any(s["signer"] and "onerror" in (s["signer"]["common_name"] or "") for s in report["signatures"]), report["signatures"]
    assert {DOCUMENT, "<iframe src=x>.zip"} <= {f["name"] for f in report["files"]}
    return submission_id


def _inert(html: str) -> None:
    for markup in ACTIVE:
        assert markup not in html, html[max(0, html.find(markup) - 200): html.find(markup) + 200]


async def test_member_strings_are_text_on_every_staff_page(client: TestClient, config: Config, markup_pki: TestPki, tmp_path: Path) -> None:
    submission_id = await _hostile_package(client, markup_pki, tmp_path)
    add_staff(config)
    assert (await sign_in(client)).status == 303
    pages = {
        "inbox": f"/staff/?q={submission_id[:8]}",
        "package": f"/staff/submissions/{submission_id}",
        "printable": f"/staff/submissions/{submission_id}/report",
        "api-html": f"/api/v1/submissions/{submission_id}/report?format=html",
    }
    for name, path in pages.items():
        response = await client.get(path)
        assert response.status == 200, name
        html = await response.text()
        _inert(html)
        if name != "inbox":  # the strings are shown, escaped
            assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html, name
            assert "&lt;b onmouseover=alert(3)&gt;Справка.pdf" in html, name
            assert "&lt;img src=x onerror=alert(1)&gt;" in re.sub(r"&#34;|&quot;", '"', html), name
    package = await (await client.get(pages["package"])).text()
    assert "(портал: &lt;svg onload=alert(4)&gt;)" in package


async def test_staff_pages_forbid_scripts_framing_and_sniffing(client: TestClient, config: Config) -> None:
    add_staff(config)
    assert (await sign_in(client)).status == 303
    for path in ("/staff/", "/staff/members", "/staff/login", "/staff/submissions/unknown"):
        headers = (await client.get(path)).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp.replace("default-src", ""), path
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff", path
        assert "no-store" in headers["Cache-Control"], path


async def test_the_html_report_forbids_scripts_wherever_it_is_opened(client: TestClient, config: Config, pki: TestPki, tmp_path: Path) -> None:
    """The API's HTML report carried no CSP or nosniff (a browser opening it ran whatever
    escaping missed); the workspace's printable copy had the workspace CSP, which blocked
    its own style block. Both now: no script at all, inline style only."""
    submission_id = (await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path)]}))["submission"]["id"]
    add_staff(config)
    assert (await sign_in(client)).status == 303
    for path in (f"/api/v1/submissions/{submission_id}/report?format=html", f"/staff/submissions/{submission_id}/report"):
        response = await client.get(path)
        assert response.status == 200 and "<style>" in await response.text()
        csp = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
        assert csp["default-src"] == "'none'" and csp["style-src"] == "'unsafe-inline'" and csp["frame-ancestors"] == "'none'", path
        assert "script-src" not in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["X-Frame-Options"] == "DENY", path


async def test_markup_in_a_power_of_attorney_is_text_in_the_reports(client: TestClient, config: Config, pki: TestPki, tmp_path: Path) -> None:
    """The МЧД's powers (free text and classifier names) are shown on the signature stamp."""
    persons = issue_personal_certificates(pki)
    folder = tmp_path / "p"
    cover = signed_copy(persons, folder, "Письмо.pdf", pdfs.make_pdf(tmp_path / "c.pdf", "Cover").read_bytes(), "accountant_personal")
    inner = signed_copy(persons, folder / "att", "Справка.pdf", pdfs.make_pdf(tmp_path / "s.pdf").read_bytes(), "accountant_personal")
    spec = PoaSpec(powers_text="Подписание &lt;img src=x onerror=alert(5)&gt;", power_codes=(("01", "<svg onload=alert(6)>"),))
    files = {"document": [cover[0]], "signature": [cover[1]], "attachment": [make_zip(folder / "Приложение.zip", inner)], "power_of_attorney": list(write_signed_poa(persons, tmp_path / "poa", spec))}
    report = await run_package(client, LETTER, files)
    assert report["decision"] == "accepted", report["checks"]
    submission_id = report["submission"]["id"]
    add_staff(config)
    assert (await sign_in(client)).status == 303
    for path in (f"/api/v1/submissions/{submission_id}/report?format=html", f"/staff/submissions/{submission_id}/report", f"/staff/submissions/{submission_id}"):
        html = await (await client.get(path)).text()
        _inert(html)
        if "/report" in path:  # the stamp with the powers is on the reports
            assert "Подписание &lt;img src=x onerror=alert(5)&gt;" in html and "&lt;svg onload=alert(6)&gt;" in html, path
