"""Qualified certificates (under the test ``ca``) whose subject gives an identity attribute
twice with different values, made with the primitives of :mod:`tests.pki.builder`.

* ``two_ogrn_member_first256`` -- the head's subject with the member's ОГРН, then a
  foreign organisation's ОГРН (and ИНН ЮЛ) as well;
* ``two_ogrn_foreign_first256`` -- the same, the foreign ОГРН first.

Idempotent: a second call finds the labels and returns.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from tests.pki.builder import (
    _BASE_CONF,
    _GENPKEY_ARGS,
    DEFAULT_DIGEST,
    FOREIGN_INNLE,
    FOREIGN_OGRN,
    HEAD_DN,
    DnEntries,
    TestPki,
    _ca_section,
    _fmt_time,
    _run_openssl,
    _subj,
)

__all__ = ["AMBIGUOUS_LABELS", "add_ambiguous_certificates"]

_SERIAL_BASE = 0x5E60000000000000
_lock = threading.Lock()


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
    with _lock:
        meta_path = pki.root_dir / "labels.json"
        meta = json.loads(meta_path.read_text("utf-8"))
        if all(label in meta for label in AMBIGUOUS_LABELS):
            return pki
        now = datetime.now(UTC).replace(microsecond=0)
        not_before, not_after = now - timedelta(days=30), now + timedelta(days=365)
        md = DEFAULT_DIGEST[meta["ca"]["key_type"]]
        for index, (label, dn) in enumerate(_specs().items(), start=1):
            serial = f"{_SERIAL_BASE + index:016X}"
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
