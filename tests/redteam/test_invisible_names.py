"""Red team: names that display as something else (SPEC 5: no control characters).

A name with the right-to-left override (U+202E) shows «Справка\u202efdp.exe» to staff as
«Справкаexe.pdf»; a line or paragraph separator (U+2028/U+2029) breaks the line of a
plain-text email, so a member could write a fake «Как исправить:» line; zero-width
characters make two names look equal. An uploaded file's name was already refused for
every control, format or separator character (``file.name_invalid``); a name inside the
supporting archive was checked only for C0/C1 controls. Now both follow one rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from tests.servers.packages import LETTER, make_zip, run_package, signed_copy

NAMES = {
    "rtl-override": "Справка\u202efdp.exe.pdf",
    "line-separator": "Справка\u2028Как исправить: ничего.pdf",
    "paragraph-separator": "Справка\u2029.pdf",
    "zero-width-space": "Спра\u200bвка.pdf",
    "bom": "\ufeffСправка.pdf",
}


def _letter(pki: TestPki, folder: Path, inner_name: str) -> dict[str, list[Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    cover = signed_copy(pki, folder, "Письмо.pdf", pdfs.make_pdf(folder / "c.pdf", "Cover").read_bytes())
    inner = signed_copy(pki, folder / "att", "inner.pdf", pdfs.make_pdf(folder / "s.pdf").read_bytes())
    archive = make_zip(folder / "Приложение.zip", inner, [inner_name, inner_name + ".sig"])
    return {"document": [cover[0]], "signature": [cover[1]], "attachment": [archive]}


@pytest.mark.parametrize("name", list(NAMES.values()), ids=list(NAMES))
async def test_a_name_inside_the_archive_with_invisible_characters_is_refused(client: TestClient, pki: TestPki, tmp_path: Path, name: str) -> None:
    report = await run_package(client, LETTER, _letter(pki, tmp_path / "p", name))
    found = [c for c in report["checks"] if c["code"] == "file.name_invalid"]
    assert found, report["checks"]
    assert report["decision"] != "accepted"


async def test_control_a_plain_cyrillic_name_inside_the_archive_is_accepted(client: TestClient, pki: TestPki, tmp_path: Path) -> None:
    report = await run_package(client, LETTER, _letter(pki, tmp_path / "p", "Справка о составе (2026) № 5.pdf"))
    assert report["decision"] == "accepted", report["checks"]
