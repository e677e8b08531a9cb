"""A qualified certificate (under the test ``ca``) whose subject carries HTML markup in
every free-text attribute a staff page or report shows (CN, O, SN, GN, title, email):
``markup256``. Made with the primitives of :mod:`tests.pki.builder` (via
:func:`tests.pki.persons.issue_under_ca`). Idempotent."""

from __future__ import annotations

from tests.pki.builder import HEAD_DN, DnEntries, TestPki
from tests.pki.persons import issue_under_ca

__all__ = ["MARKUP", "add_markup_certificate"]

#: What each free-text attribute gets appended (an element with an event handler).
MARKUP = '"><img src=x onerror=alert(1)>'

_SERIAL_BASE = 0x5E70000000000000


def _specs() -> dict[str, DnEntries]:
    dn: list[tuple[str, str]] = []
    for key, value in HEAD_DN:
        if key in ("CN", "O", "SN", "GN", "title"):
            value = value + " " + MARKUP
        elif key == "emailAddress":
            value = "<svg/onload=alert(2)>@kpk-test.ru"
        dn.append((key, value))
    return {"markup256": tuple(dn)}


def add_markup_certificate(pki: TestPki) -> TestPki:
    """Issue ``markup256`` under ``ca`` into ``pki`` (once)."""
    return issue_under_ca(pki, _specs(), _SERIAL_BASE)
