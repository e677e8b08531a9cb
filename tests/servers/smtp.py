"""An aiosmtpd handler that keeps every message it receives."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

__all__ = ["Recorder"]


class Recorder:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"
