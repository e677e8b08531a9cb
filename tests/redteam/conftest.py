"""Red-team fixtures: the gateway's (configuration, in-process client) for attacks through
the HTTP API, and one signed PDF per signature kind for attacks on PDF revisions."""

from pathlib import Path

import pytest

from tests.gateway.conftest import client, config, delivery_config
from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki

__all__ = ["client", "config", "delivery_config", "signed"]


@pytest.fixture(params=["gost", "rsa"])
def signed(request: pytest.FixtureRequest, pki: TestPki, tmp_path: Path) -> Path:
    """A one-page PDF with one signature: GOST (openssl CMS) or RSA (pyHanko)."""
    source = pdfs.make_pdf(tmp_path / "plain.pdf", "Letter to the SRO")
    if request.param == "gost":
        return pdfs.sign_pdf_gost(pki, "head256", source, tmp_path / "signed.pdf")
    return pdfs.sign_pdf_pyhanko(pki, "rsa_signer", source, tmp_path / "signed.pdf")
