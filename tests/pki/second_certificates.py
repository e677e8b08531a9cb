"""A second organisation certificate of a person who already holds one in the test PKI
(people renew certificates, or hold one per CA): ``accountant_second256`` has the subject
of the builder's ``accountant256`` (the member's ОГРН and ИНН ЮЛ, the chief accountant's
name and СНИЛС) and its own key and serial. Issued with :func:`tests.pki.persons.issue_under_ca`."""

from __future__ import annotations

from tests.pki.builder import ACCOUNTANT_DN, TestPki
from tests.pki.persons import issue_under_ca

_SERIAL_BASE = 0x6E6000000000A000


def issue_second_certificates(pki: TestPki) -> TestPki:
    """Issue ``accountant_second256`` once (idempotent) and return ``pki``."""
    return issue_under_ca(pki, {"accountant_second256": ACCOUNTANT_DN}, _SERIAL_BASE)
