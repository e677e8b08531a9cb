"""Genuine packages of every document type, in every form SPEC allows, are accepted.

A wrong «Возвращен»/«Отклонен» on an honest member's package is as bad as a false accept.
Each case of :mod:`tests.realworld.cases` builds one package as members send it
(seeds/sro-cabinet-instruction.txt) and posts it to the real HTTP routes; the decision
must be ``accepted``."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from tests.realworld.cases import CASES
from tests.realworld.kit import Kit
from tests.servers.packages import run_package


@pytest.mark.parametrize("name", sorted(CASES))
async def test_genuine_package_is_accepted(name: str, kit: Kit, rw_client: TestClient) -> None:  # type: ignore[type-arg]
    # Built in a thread: the PDF helpers run their own event loop (pyHanko is async).
    fields, files = await asyncio.to_thread(CASES[name], kit)
    report = await run_package(rw_client, fields, files)
    problems = [(c["code"], c["severity"], c.get("file"), c.get("detail")) for c in report["checks"] if c["severity"] in ("fatal", "fixable")]
    assert report["decision"] == "accepted", problems
