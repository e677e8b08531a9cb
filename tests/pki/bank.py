"""A Bank of Russia–shaped CA branch for the test PKI (63-ФЗ art. 17.2: heads of credit
cooperatives hold qualified certificates of the Bank of Russia CA).

``bank_root`` (self-signed, «Центральный банк Российской Федерации»), ``bank_ca``
(«Удостоверяющий центр Банка России», issued by the root) and ``bank_head`` (the head of
the test КПК, qualified profile, issued by ``bank_ca``). CRLs of both CAs in ``crl/``.
Built with the builder's primitives; nothing here imports the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.pki.builder import _BASE_CONF, _GENPKEY_ARGS, HEAD_DN, _ca_section, _fmt_time, _org_dn, _run_openssl, _subj

__all__ = ["BankPki", "build_bank_pki"]


@dataclass(frozen=True)
class BankPki:
    __test__ = False
    root_dir: Path

    def cert(self, label: str) -> Path:
        return self.root_dir / "certs" / f"{label}.pem"

    def key(self, label: str) -> Path:
        return self.root_dir / "keys" / f"{label}.key"

    def crl(self, label: str) -> Path:
        return self.root_dir / "crl" / f"{label}.crl"

    def sign(self, label: str, content: Path, out: Path) -> Path:
        _run_openssl([
            "cms", "-sign", "-binary", "-in", str(content), "-signer", str(self.cert(label)),
            "-inkey", str(self.key(label)), "-md", "md_gost12_256", "-cades", "-nosmimecap",
            "-outform", "DER", "-out", str(out),
        ])
        return out


def build_bank_pki(dest: Path) -> BankPki:
    dest = Path(dest).resolve()
    now = datetime.now(UTC).replace(microsecond=0)
    for sub in ("keys", "certs", "crl", "work"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    root_dn = (*_org_dn("Центральный банк Российской Федерации", "1037700013020", "7702235133"), ("CN", "Банк России"))
    ca_dn = (*_org_dn("Центральный банк Российской Федерации", "1037700013020", "7702235133"), ("CN", "Удостоверяющий центр Банка России"))
    specs = [
        ("bank_root", None, root_dn, "v3_root", now - timedelta(days=700), now + timedelta(days=5000)),
        ("bank_ca", "bank_root", ca_dn, "v3_ca", now - timedelta(days=700), now + timedelta(days=3000)),
        ("bank_head", "bank_ca", HEAD_DN, "v3_qualified", now - timedelta(days=30), now + timedelta(days=365)),
    ]
    for index, (label, issuer, dn, ext, not_before, not_after) in enumerate(specs):
        key = dest / "keys" / f"{label}.key"
        _run_openssl(["genpkey", *_GENPKEY_ARGS["gost256"], "-out", str(key)])
        work = dest / "work" / label
        work.mkdir(parents=True, exist_ok=True)
        (work / "index.txt").write_text("")
        (work / "serial").write_text(f"{0xCB0000000000 + index + 1:016X}\n")
        conf = work / "openssl.cnf"
        conf.write_text(_BASE_CONF + _ca_section(work, "md_gost12_256"), encoding="utf-8")
        csr = work / "req.pem"
        _run_openssl(["req", "-config", str(conf), "-new", "-utf8", "-key", str(key), "-subj", _subj(dn), "-out", str(csr)])
        args = ["ca", "-config", str(conf), "-batch", "-notext", "-utf8", "-preserveDN", "-md", "md_gost12_256", "-in", str(csr),
                "-startdate", _fmt_time(not_before), "-enddate", _fmt_time(not_after), "-extensions", ext,
                "-out", str(dest / "certs" / f"{label}.pem")]
        args += ["-selfsign", "-keyfile", str(key)] if issuer is None else [
            "-cert", str(dest / "certs" / f"{issuer}.pem"), "-keyfile", str(dest / "keys" / f"{issuer}.key")]
        _run_openssl(args)
    for label in ("bank_root", "bank_ca"):
        work = dest / "work" / f"crl_{label}"
        work.mkdir(parents=True, exist_ok=True)
        (work / "index.txt").write_text("")
        (work / "crlnumber").write_text("01\n")
        (work / "openssl.cnf").write_text(_BASE_CONF + _ca_section(work, "md_gost12_256"), encoding="utf-8")
        _run_openssl(["ca", "-config", str(work / "openssl.cnf"), "-gencrl", "-md", "md_gost12_256",
                      "-cert", str(dest / "certs" / f"{label}.pem"), "-keyfile", str(dest / "keys" / f"{label}.key"),
                      "-crl_lastupdate", _fmt_time(now - timedelta(hours=1)), "-crl_nextupdate", _fmt_time(now + timedelta(days=30)),
                      "-out", str(work / "crl.pem")])
        _run_openssl(["crl", "-in", str(work / "crl.pem"), "-outform", "DER", "-out", str(dest / "crl" / f"{label}.crl")])
    return BankPki(dest)
