"""An aiosmtpd handler that keeps every message it receives."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

__all__ = ["LosesFirstReply", "Recorder"]


class Recorder:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


class LosesFirstReply(Recorder):
    """Keeps every message but answers the first DATA with a temporary failure: the
    message reached the server, the sender was told to try again (a lost 250)."""

    def __init__(self) -> None:
        super().__init__()
        self.answered = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await super().handle_DATA(server, session, envelope)
        self.answered += 1
        return "451 4.3.0 try again later" if self.answered == 1 else "250 OK"
