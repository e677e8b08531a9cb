"""``POST /api/v1/verify`` from tests: the configuration of an in-process app and the form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from gateway.config import Config, ServerConfig, StorageConfig, VerificationConfig
from tests.pki.builder import TestPki

__all__ = ["make_config", "verify_form"]


def make_config(pki: TestPki, data_dir: Path, **server: Any) -> Config:
    """Embedded defaults with the test PKI's trust store and a private data folder."""
    return Config(
        server=ServerConfig(**server),
        verification=VerificationConfig(trust_dir=pki.trust_dir),
        storage=StorageConfig(data_dir=data_dir, members_csv=data_dir / "members.csv"),
    )


def verify_form(document: Path, signature: Path | None) -> aiohttp.FormData:
    """The multipart form of one document and, when given, its detached signature."""
    form = aiohttp.FormData()
    form.add_field("document", document.read_bytes(), filename=document.name)
    if signature is not None:
        form.add_field("signature", signature.read_bytes(), filename=signature.name)
    return form
