"""Organisation certificates of the member's head in the subject layouts real CAs use,
for the real-world acceptance set (tests/realworld):

* ``head_cn_person256`` -- ФНС layout, but ``CN`` is the head's full name (not the
  organisation's), as several commercial accredited CAs write it;
* ``head_inn00_256`` -- older / Bank of Russia layout: the organisation's ИНН in the
  personal ``INN`` attribute as ``00`` + 10 digits, no ``INNLE``; ``CN`` the head's name;
* ``head_cn_only256`` -- ``CN`` the head's full name, no ``SN``/``GN``.

Issued under the test ``ca`` with the persons module's ``issue_under_ca``.
"""

from __future__ import annotations

from tests.pki.builder import (
    HEAD_EMAIL,
    HEAD_GIVEN_NAME,
    HEAD_INN,
    HEAD_SNILS,
    HEAD_SURNAME,
    HEAD_TITLE,
    KPK_INNLE,
    KPK_NAME,
    KPK_OGRN,
    TestPki,
)
from tests.pki.persons import issue_under_ca

__all__ = ["HEAD_LAYOUTS", "add_head_layouts"]

_SERIAL_BASE = 0x5E80000000000000
_PLACE = (("C", "RU"), ("ST", "77 г. Москва"), ("L", "Москва"), ("street", "ул. Тестовая, д. 1"))
_FULL = f"{HEAD_SURNAME} {HEAD_GIVEN_NAME}"

HEAD_LAYOUTS = {
    "head_cn_person256": (*_PLACE, ("O", KPK_NAME), ("OGRN", KPK_OGRN), ("INNLE", KPK_INNLE), ("title", HEAD_TITLE),
                          ("SN", HEAD_SURNAME), ("GN", HEAD_GIVEN_NAME), ("CN", _FULL), ("INN", HEAD_INN), ("SNILS", HEAD_SNILS),
                          ("emailAddress", HEAD_EMAIL)),
    "head_inn00_256": (*_PLACE, ("O", KPK_NAME), ("OGRN", KPK_OGRN), ("INN", "00" + KPK_INNLE), ("title", HEAD_TITLE),
                       ("SN", HEAD_SURNAME), ("GN", HEAD_GIVEN_NAME), ("CN", _FULL), ("SNILS", HEAD_SNILS), ("emailAddress", HEAD_EMAIL)),
    "head_cn_only256": (*_PLACE, ("O", KPK_NAME), ("OGRN", KPK_OGRN), ("INNLE", KPK_INNLE), ("title", HEAD_TITLE),
                        ("CN", _FULL), ("INN", HEAD_INN), ("SNILS", HEAD_SNILS), ("emailAddress", HEAD_EMAIL)),
}


def add_head_layouts(pki: TestPki) -> TestPki:
    """Issue the certificates of :data:`HEAD_LAYOUTS` under ``ca`` into ``pki`` (once)."""
    return issue_under_ca(pki, dict(HEAD_LAYOUTS), _SERIAL_BASE)
