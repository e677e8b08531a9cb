"""Certificates for edges of the whose-signature rules: the member's head holding a
certificate of ANOTHER organisation (his own СНИЛС, ИНН and name, a foreign ОГРН).

Issued under the test ``ca`` with the persons module's ``issue_under_ca``.
"""

from __future__ import annotations

from tests.pki.builder import (
    FOREIGN_INNLE,
    FOREIGN_NAME,
    FOREIGN_OGRN,
    HEAD_EMAIL,
    HEAD_GIVEN_NAME,
    HEAD_INN,
    HEAD_SNILS,
    HEAD_SURNAME,
    HEAD_TITLE,
    TestPki,
    _person_dn,
)
from tests.pki.persons import issue_under_ca

__all__ = ["HEAD_AT_FOREIGN", "add_signer_edge_certificates"]

#: The member's head, by name, СНИЛС and ИНН, in a certificate of another organisation.
HEAD_AT_FOREIGN = "head_at_foreign256"

_SERIAL_BASE = 0x5E90000000000000  # distinct from every other issue_under_ca user (hostile_names: 0x5E70…)


def add_signer_edge_certificates(pki: TestPki) -> TestPki:
    """Issue the certificates of this module under ``ca`` into ``pki`` (once)."""
    specs = {
        HEAD_AT_FOREIGN: _person_dn(FOREIGN_NAME, FOREIGN_OGRN, FOREIGN_INNLE, HEAD_SURNAME, HEAD_GIVEN_NAME, HEAD_TITLE, HEAD_INN, HEAD_SNILS, HEAD_EMAIL),
    }
    return issue_under_ca(pki, specs, _SERIAL_BASE)
