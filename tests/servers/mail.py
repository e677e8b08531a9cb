"""Reading the emails the gateway wrote (the embedded default: .eml files in a folder)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

__all__ = ["eml_messages", "text_of"]


def eml_messages(folder: Path) -> list[EmailMessage]:
    """Every .eml message in ``folder`` (sorted by file name); none when it does not exist."""
    if not folder.is_dir():
        return []
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.glob("*.eml"))]  # type: ignore[misc]


def text_of(message: EmailMessage) -> str:
    """The plain-text body of a message."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
