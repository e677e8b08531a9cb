"""Qualified certificates (under the test ``ca``) whose subject gives an identity attribute
twice with different values, made with the primitives of :mod:`tests.pki.builder`.

* ``two_ogrn_member_first256`` -- the head's subject with the member's ОГРН, then a
  foreign organisation's ОГРН (and ИНН ЮЛ) as well;
* ``two_ogrn_foreign_first256`` -- the same, the foreign ОГРН first.

Idempotent: a second call finds the labels and returns.
"""

from __future__ import annotations

from tests.pki.builder import FOREIGN_INNLE, FOREIGN_OGRN, HEAD_DN, DnEntries, TestPki
from tests.pki.persons import issue_under_ca

__all__ = ["AMBIGUOUS_LABELS", "add_ambiguous_certificates"]

_SERIAL_BASE = 0x5E60000000000000


def _with_foreign_ogrn(first: bool) -> DnEntries:
    foreign = (("OGRN", FOREIGN_OGRN), ("INNLE", FOREIGN_INNLE))
    at = next(i for i, (key, _value) in enumerate(HEAD_DN) if key == "OGRN")
    if first:
        return (*HEAD_DN[:at], *foreign, *HEAD_DN[at:])
    return (*HEAD_DN, *foreign)


def _specs() -> dict[str, DnEntries]:
    return {"two_ogrn_member_first256": _with_foreign_ogrn(False), "two_ogrn_foreign_first256": _with_foreign_ogrn(True)}


AMBIGUOUS_LABELS = tuple(_specs())


def add_ambiguous_certificates(pki: TestPki) -> TestPki:
    """Issue the certificates of :data:`AMBIGUOUS_LABELS` under ``ca`` into ``pki`` (once)."""
    return issue_under_ca(pki, _specs(), _SERIAL_BASE)
