"""Signatures built to make certificate path building explode (issue 9, section 4).

All made with ``openssl`` and the GOST engine, like the rest of the test PKI:

* ``same_key``: N certificates with one subject and one key, each self-issued (issuer =
  subject), so every one verifies as the issuer of every other; the signer certificate is
  issued by that subject. A naive depth-first search tries N^depth paths.
* ``cross_loop``: two subjects A and B with one key each, N/2 certificates of A issued by
  B and N/2 of B issued by A (cross-signed in a loop), the signer issued by A.

* ``mesh``: eight subjects sharing one key, each certified by each of the others (56
  distinct subject/issuer pairs, all verifying): nothing collapses, every path of distinct
  subjects is a real candidate path, so only the search bounds stop it (the worst case).

None reaches a trust anchor: the right verdict is NO_CERTIFICATE_CHAIN_FOUND, fast.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.pki.builder import GOST_OPENSSL_CONF, TestPki

Shape = Literal["same_key", "cross_loop", "mesh"]
_MESH_SUBJECTS = 8

_EXT = """\
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ee]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
"""


@dataclass(frozen=True)
class PathAttack:
    """A detached signature over ``document`` carrying ``certificates`` extra certificates."""

    signature: Path
    document: Path
    certificates: int


def build_path_attack(pki: TestPki, dest: Path, shape: Shape = "same_key", count: int = 60) -> PathAttack:
    """Write the attack signature and its document into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    ext = dest / "ext.cnf"
    ext.write_text(_EXT, encoding="utf-8")
    key_a, key_b, signer_key = dest / "a.key", dest / "b.key", dest / "signer.key"
    for key in (key_a, key_b, signer_key):
        pki.openssl("genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", str(key))
    subject_a, subject_b = "/CN=Loop CA A/O=Attacker", "/CN=Loop CA B/O=Attacker"
    # One self-signed certificate per subject/key serves as the "CA certificate" that signs
    # the others (openssl x509 -req needs an issuer certificate with the issuer's name).
    ca_a, ca_b = dest / "a.pem", dest / "b.pem"
    for key, subject, out in ((key_a, subject_a, ca_a), (key_b, subject_b, ca_b)):
        pki.openssl("req", "-new", "-x509", "-key", str(key), "-subj", subject, "-days", "3650",
                    "-set_serial", "1", "-extensions", "ca", "-config", str(_req_conf(dest)), "-out", str(out))

    mesh_cas: list[Path] = []
    if shape == "mesh":
        for number in range(_MESH_SUBJECTS):
            out = dest / f"mesh{number}.pem"
            pki.openssl("req", "-new", "-x509", "-key", str(key_a), "-subj", f"/CN=Mesh CA {number}/O=Attacker",
                        "-days", "3650", "-set_serial", "1", "-extensions", "ca", "-config", str(_req_conf(dest)),
                        "-out", str(out))
            mesh_cas.append(out)

    def issue(index: int) -> bytes:
        if shape == "mesh":
            pairs = [(i, j) for i in range(_MESH_SUBJECTS) for j in range(_MESH_SUBJECTS) if i != j]
            subject_index, issuer_index = pairs[index % len(pairs)]
            csr = pki.openssl("req", "-new", "-key", str(key_a), "-subj", f"/CN=Mesh CA {subject_index}/O=Attacker",
                              "-config", str(_req_conf(dest)), "-outform", "PEM")
            return pki.openssl("x509", "-req", "-CA", str(mesh_cas[issuer_index]), "-CAkey", str(key_a),
                               "-set_serial", str(1000 + index), "-days", "3650",
                               "-extfile", str(ext), "-extensions", "ca", input=csr)
        if shape == "same_key" or index % 2 == 0:
            subject, subject_key, issuer, issuer_key = subject_a, key_a, ca_a, key_a
            if shape == "cross_loop":
                issuer, issuer_key = ca_b, key_b
        else:
            subject, subject_key, issuer, issuer_key = subject_b, key_b, ca_a, key_a
        csr = pki.openssl("req", "-new", "-key", str(subject_key), "-subj", subject,
                          "-config", str(_req_conf(dest)), "-outform", "PEM")
        return pki.openssl("x509", "-req", "-CA", str(issuer), "-CAkey", str(issuer_key),
                           "-set_serial", str(1000 + index), "-days", "3650",
                           "-extfile", str(ext), "-extensions", "ca", input=csr)

    with ThreadPoolExecutor(max_workers=4) as pool:
        pems = list(pool.map(issue, range(count)))
    bundle = dest / "bundle.pem"
    bundle.write_bytes(b"".join(pems))

    signer_csr = pki.openssl("req", "-new", "-key", str(signer_key), "-subj", "/CN=Signer/O=Attacker",
                             "-config", str(_req_conf(dest)), "-outform", "PEM")
    signer = dest / "signer.pem"
    signer_ca = mesh_cas[0] if shape == "mesh" else ca_a
    signer.write_bytes(pki.openssl("x509", "-req", "-CA", str(signer_ca), "-CAkey", str(key_a), "-set_serial", "7",
                                   "-days", "3650", "-extfile", str(ext), "-extensions", "ee", input=signer_csr))
    document = dest / "document.pdf"
    document.write_bytes(b"%PDF-1.4\nforged report\n")
    signature = dest / "document.pdf.sig"
    pki.openssl("cms", "-sign", "-binary", "-in", str(document), "-signer", str(signer), "-inkey", str(signer_key),
                "-md", "md_gost12_256", "-cades", "-nosmimecap", "-certfile", str(bundle),
                "-outform", "DER", "-out", str(signature))
    return PathAttack(signature, document, count)


def _req_conf(dest: Path) -> Path:
    conf = dest / "req.cnf"
    if not conf.exists():
        # -config replaces OPENSSL_CONF: the engine sections must be repeated.
        conf.write_text(
            GOST_OPENSSL_CONF.read_text(encoding="utf-8")
            + "\n[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n" + _EXT,
            encoding="utf-8",
        )
    return conf
