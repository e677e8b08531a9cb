"""``validators.init()`` (issue 13 §1, no process-wide side effect at import time): importing
the validators leaves asn1crypto as it was; the application's explicit, idempotent init
makes the real «AC OCSP SERVER 2024» certificate (its ocsp-nocheck NULL mis-encoded)
readable, and the gateway command and the app factory make that init themselves. That the
real CAdES-X Long signature then passes on that responder's OCSP response is
``test_corpus.py::test_real_cades_xl_pdf_passes_revocation_from_its_own_ocsp_and_crl``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from asn1crypto import cms, core, x509

from tests.conftest import REPO
from validators.signatures.certificates import certificate_from_der, init_asn1

_XLT1_PDF = "gost-pdf/pdfscp_29_cades-xlt1-sign_tax-gov_task146042.pdf"
_CERT_VALUES = "1.2.840.113549.1.9.16.2.23"

# Prints whether asn1crypto's spec is as the library ships it.
_SPEC_STATE = (
    "from asn1crypto import x509\n"
    "print(json.dumps({'spec_untouched': 'ocsp_no_check' in x509.Extension._oid_specs"
    " and '_ocsp_no_check_value' in vars(x509.Certificate)}))\n"
)


def _run(script: str) -> dict[str, object]:
    run = subprocess.run([sys.executable, "-c", "import json\n" + script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def ocsp_responder_der(corpus: Path) -> bytes:
    """DER of «AC OCSP SERVER 2024» from the certValues of a real CAdES-X Long signature,
    cut out with asn1crypto's generic parser only (no extension of it is read)."""
    contents = re.findall(rb"/Contents\s*<([0-9A-Fa-f]+)>", (corpus / _XLT1_PDF).read_bytes())
    signed_data = cms.ContentInfo.load(bytes.fromhex(contents[0].decode()))["content"]
    for attribute in signed_data["signer_infos"][0]["unsigned_attrs"]:
        if attribute["type"].dotted == _CERT_VALUES:
            for cert in core.SequenceOf.load(attribute["values"][0].dump(), spec=x509.Certificate):
                if cert.subject.native.get("common_name") == "AC OCSP SERVER 2024":
                    der: bytes = cert.dump()
                    return der
    raise AssertionError("the corpus signature has no «AC OCSP SERVER 2024» certificate")


def test_importing_the_validators_and_the_gateway_leaves_asn1crypto_untouched() -> None:
    script = (
        "import validators, validators.signatures.certificates, validators.signatures.locate\n"
        "import validators.signatures.pdf, validators.package, gateway.cli, gateway.app\n" + _SPEC_STATE
    )
    assert _run(script) == {"spec_untouched": True}


def test_without_init_the_real_ocsp_responder_certificate_is_refused(ocsp_responder_der: bytes) -> None:
    """Why the init exists: asn1crypto alone rejects the whole certificate."""
    script = (
        "from validators.signatures.certificates import certificate_from_der\n"
        f"der = bytes.fromhex({ocsp_responder_der.hex()!r})\n"
        "try:\n    certificate_from_der(der)\n    read = True\nexcept ValueError:\n    read = False\n"
        "print(json.dumps({'read': read}))\n"
    )
    assert _run(script) == {"read": False}


def test_after_init_the_real_ocsp_responder_certificate_reads(ocsp_responder_der: bytes) -> None:
    script = (
        "import validators\n"
        "from validators.signatures.certificates import certificate_from_der\n"
        "validators.init()\nvalidators.init()\n"  # idempotent
        f"cert = certificate_from_der(bytes.fromhex({ocsp_responder_der.hex()!r}))\n"
        "print(json.dumps({'cn': cert.subject.native['common_name'], 'ocsp_signing': 'ocsp_signing' in cert.extended_key_usage_value.native}))\n"
    )
    assert _run(script) == {"cn": "AC OCSP SERVER 2024", "ocsp_signing": True}


def test_init_is_idempotent_in_this_process(ocsp_responder_der: bytes) -> None:
    init_asn1()
    init_asn1()
    assert certificate_from_der(ocsp_responder_der).subject.native["common_name"] == "AC OCSP SERVER 2024"


def test_the_gateway_command_makes_the_init() -> None:
    script = "from gateway.cli import main\nmain(['trust', '--json'])\n" + _SPEC_STATE
    assert _run(script) == {"spec_untouched": False}


def test_the_app_factory_makes_the_init() -> None:
    script = "from gateway.app import create_app\nfrom gateway.config import load_config\ncreate_app(load_config(None))\n" + _SPEC_STATE
    assert _run(script) == {"spec_untouched": False}

