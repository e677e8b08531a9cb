"""Personal (natural-person) qualified certificates and third-party organisations for the
test PKI, made with the primitives of :mod:`tests.pki.builder`.

Since 1 September 2024 only the head (ЕИО) signs with an organisation certificate; anyone
else holds a personal certificate: СНИЛС, ИНН ФЛ, the person's name, no ОГРН and no ИНН ЮЛ
(FSB Order 795). :func:`add_person_certificates` issues, under the test ``ca``, into an
already built :class:`~tests.pki.builder.TestPki` (files and ``labels.json`` entries are
added, nothing is changed), so that ``pki.sign(label, ...)`` works for them:

* ``chair_person256`` -- the chair of the audit commission, a personal certificate;
* ``accountant_person256`` -- the chief accountant (the builder's ``accountant256`` person),
  a personal certificate;
* ``head_person256`` -- the head (the member list's head) holding a *personal* certificate;
* ``member_name_no_ogrn256`` -- the member's organisation *name* in ``O`` and a person's
  СНИЛС/ИНН, but neither ОГРН nor ИНН ЮЛ: a personal certificate that merely names the
  cooperative, never the member's own;
* ``fns256`` -- the Federal Tax Service (ФНС России), an organisation certificate of another
  organisation, as on an ЕГРЮЛ extract.

Idempotent: a second call finds the labels and returns.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from tests.pki.builder import (
    _BASE_CONF,
    _GENPKEY_ARGS,
    ACCOUNTANT_EMAIL,
    ACCOUNTANT_GIVEN_NAME,
    ACCOUNTANT_INN,
    ACCOUNTANT_SNILS,
    ACCOUNTANT_SURNAME,
    DEFAULT_DIGEST,
    HEAD_EMAIL,
    HEAD_GIVEN_NAME,
    HEAD_INN,
    HEAD_SNILS,
    HEAD_SURNAME,
    KPK_NAME,
    DnEntries,
    TestPki,
    _ca_section,
    _fmt_time,
    _org_dn,
    _run_openssl,
    _subj,
)

__all__ = [
    "issue_under_ca",
    "CHAIR_SURNAME",
    "CHAIR_GIVEN_NAME",
    "CHAIR_SNILS",
    "CHAIR_INN",
    "FNS_NAME",
    "FNS_OGRN",
    "FNS_INNLE",
    "PERSON_LABELS",
    "add_person_certificates",
    "person_dn",
]

CHAIR_SURNAME = "Смирнова"
CHAIR_GIVEN_NAME = "Ольга Николаевна"
CHAIR_INN = "770000000144"
CHAIR_SNILS = "45678901234"
CHAIR_EMAIL = "krk@kpk-test.ru"

FNS_NAME = "ФНС России"
FNS_OGRN = "1047707030513"
FNS_INNLE = "7707329152"

_SERIAL_BASE = 0x5E50000000000000
_lock = threading.Lock()


def person_dn(surname: str, given_name: str, inn: str, snils: str, email: str, organization: str | None = None) -> DnEntries:
    """A natural person's subject: name, ИНН ФЛ, СНИЛС; no ОГРН, no ИНН ЮЛ.

    ``organization`` puts a name in ``O`` (as some CAs do for employees) without making
    it an organisation certificate.
    """
    entries: list[tuple[str, str]] = [("C", "RU"), ("ST", "77 Москва"), ("L", "г. Москва")]
    if organization:
        entries.append(("O", organization))
    entries += [
        ("SN", surname),
        ("GN", given_name),
        ("CN", f"{surname} {given_name}"),
        ("INN", inn),
        ("SNILS", snils),
        ("emailAddress", email),
    ]
    return tuple(entries)


def _specs() -> dict[str, DnEntries]:
    fns = (*_org_dn(FNS_NAME, FNS_OGRN, FNS_INNLE), ("CN", FNS_NAME), ("emailAddress", "uc@nalog.ru"))
    return {
        "chair_person256": person_dn(CHAIR_SURNAME, CHAIR_GIVEN_NAME, CHAIR_INN, CHAIR_SNILS, CHAIR_EMAIL),
        "accountant_person256": person_dn(ACCOUNTANT_SURNAME, ACCOUNTANT_GIVEN_NAME, ACCOUNTANT_INN, ACCOUNTANT_SNILS, ACCOUNTANT_EMAIL),
        "head_person256": person_dn(HEAD_SURNAME, HEAD_GIVEN_NAME, HEAD_INN, HEAD_SNILS, HEAD_EMAIL),
        "member_name_no_ogrn256": person_dn(HEAD_SURNAME, HEAD_GIVEN_NAME, HEAD_INN, HEAD_SNILS, HEAD_EMAIL, organization=KPK_NAME),
        "fns256": fns,
    }


PERSON_LABELS = tuple(_specs())


def add_person_certificates(pki: TestPki) -> TestPki:
    """Issue the certificates of :data:`PERSON_LABELS` under ``ca`` into ``pki`` (once)."""
    return issue_under_ca(pki, _specs(), _SERIAL_BASE)


def issue_under_ca(pki: TestPki, specs: dict[str, DnEntries], serial_base: int) -> TestPki:
    """Issue one qualified GOST-256 certificate per label of ``specs`` (its subject) under
    ``ca`` into ``pki``, serials from ``serial_base``; a second call finds them and returns.
    One lock for every caller: they all rewrite the same ``labels.json``."""
    with _lock:
        meta_path = pki.root_dir / "labels.json"
        meta = json.loads(meta_path.read_text("utf-8"))
        if all(label in meta for label in specs):
            return pki
        now = datetime.now(UTC).replace(microsecond=0)
        not_before, not_after = now - timedelta(days=30), now + timedelta(days=365)
        md = DEFAULT_DIGEST[meta["ca"]["key_type"]]
        for index, (label, dn) in enumerate(specs.items(), start=1):
            serial = f"{serial_base + index:016X}"
            work = pki.root_dir / "work" / label
            work.mkdir(parents=True, exist_ok=True)
            (work / "index.txt").write_text("")
            (work / "serial").write_text(serial + "\n")
            conf = work / "openssl.cnf"
            conf.write_text(_BASE_CONF + _ca_section(work, md), encoding="utf-8")
            key = pki.root_dir / "keys" / f"{label}.key"
            _run_openssl(["genpkey", *_GENPKEY_ARGS["gost256"], "-out", str(key)])
            csr = work / "req.pem"
            _run_openssl(["req", "-config", str(conf), "-new", "-utf8", "-key", str(key), "-subj", _subj(dn), "-out", str(csr)])
            _run_openssl([
                "ca", "-config", str(conf), "-batch", "-notext", "-utf8", "-preserveDN", "-md", md, "-in", str(csr),
                "-startdate", _fmt_time(not_before), "-enddate", _fmt_time(not_after),
                "-extensions", "v3_qualified",
                "-cert", str(pki.cert("ca")), "-keyfile", str(pki.key("ca")),
                "-out", str(pki.root_dir / "certs" / f"{label}.pem"),
            ])
            meta[label] = {
                "key_type": "gost256",
                "serial": serial,
                "issuer": "ca",
                "not_before": _fmt_time(not_before),
                "not_after": _fmt_time(not_after),
            }
        meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
        return pki
