"""Red team: a qualified certificate whose subject names two organisations — the member's
ОГРН and a foreign ОГРН (with its ИНН ЮЛ). The gateway read the first value of each
attribute, so with the member's ОГРН first the foreign certificate was the member's head
signing the report; another reader (or the other order) sees the foreign organisation.
An identity attribute given twice with different values counts as absent: the certificate
ties the signer to no organisation, is not a qualified organisation certificate, and never
makes the member's signature."""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import pem, x509

from tests.pki.ambiguous import add_ambiguous_certificates
from tests.pki.builder import TestPki
from tests.validators.packages import report_package, validate, verdict
from validators.catalogue import Slot
from validators.signatures.certificates import identity_of
from validators.trust import TrustStore


@pytest.fixture
def ambiguous(pki: TestPki) -> TestPki:
    return add_ambiguous_certificates(pki)


def test_control_the_heads_report_is_accepted(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, report_package(pki, tmp_path))], report_kind="OD_Q1")
    assert verdict(result) == "accepted"


@pytest.mark.parametrize("label", ["two_ogrn_member_first256", "two_ogrn_foreign_first256"])
def test_a_report_signed_with_a_certificate_naming_two_ogrn_is_not_accepted(ambiguous: TestPki, store: TrustStore, tmp_path: Path, label: str) -> None:
    package = report_package(ambiguous, tmp_path, label=label)
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, package)], report_kind="OD_Q1")
    assert verdict(result) == "rejected", [c.code for c in result.checks]
    assert "signature.not_qualified" in {c.code for c in result.checks}


def test_an_attribute_given_twice_with_different_values_is_absent(ambiguous: TestPki) -> None:
    _type, _headers, der = pem.unarmor(ambiguous.cert("two_ogrn_member_first256").read_bytes())
    identity = identity_of(x509.Certificate.load(der))
    assert (identity.ogrn, identity.inn_le) == (None, None)
    assert identity.surname  # the attributes given once are read as before
