"""A resent email is the same email: a retry after a temporary SMTP failure carries the
Message-ID of the first attempt, so the member's mail server (and the member) can tell
the second copy is a repeat, not a new notice (issue 13 §3)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config, MailConfig
from tests.pki.builder import TestPki
from tests.servers.packages import REPORT, report_zip, run_package, wait_for
from tests.servers.smtp import LosesFirstReply

ClientFactory = Callable[..., Awaitable[TestClient]]


async def test_an_email_resent_after_a_temporary_smtp_failure_keeps_its_message_id(
    aiohttp_client: ClientFactory, delivery_config: Config, pki: TestPki, tmp_path: Path
) -> None:
    from aiosmtpd.smtp import SMTP

    recorder = LosesFirstReply()
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(recorder, hostname="127.0.0.1"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        mail = MailConfig(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", eml_dir=tmp_path / "unused")
        client = await aiohttp_client(create_app(dataclasses.replace(delivery_config, mail=mail)))
        # A returned package: exactly one email (the return notice) goes to the member.
        await run_package(client, REPORT, {"document": [report_zip(pki, tmp_path, label="accountant256")]})
        await wait_for(lambda: len(recorder.messages) == 2)
        first, second = recorder.messages
        assert first["Message-ID"] and first["Message-ID"] == second["Message-ID"]
        assert first["Subject"] == second["Subject"]
    finally:
        server.close()
        await server.wait_closed()
