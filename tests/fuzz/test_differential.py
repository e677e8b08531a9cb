"""Differential testing of the CMS verifier against ``openssl cms -verify`` (GOST engine).

Real detached GOST signatures of the test PKI are mutated (seeded): a byte flipped in the
signature at a random offset, a byte flipped in the content, a truncated signature. Each
case is judged by both:

* ours: the *cryptographic* verdict of ``verify_cms`` -- the ``signature.value`` check and
  the ``content.digest`` check both passed (chain, revocation and qualification do not
  count); FORMAT_FAILURE (or an unverifiable signer) when our parser refused the input;
* openssl: ``openssl cms -verify -binary -inform DER -content DOC -noverify -purpose any``
  (exit 0 = verified, 2 = could not read the input, other = rejected), and the same with
  ``-CAfile <ca_bundle>`` instead of ``-noverify`` for the full chain.

They must agree whenever both parsed the input: a signature one verifies and the other
rejects is a finding. Cases where our parser says FORMAT_FAILURE and openssl also could not
read the input are skipped. Two fail-safe differences are counted and printed, not failed:
FORMAT_FAILURE where openssl verified the signature (we are stricter about the format),
and an unrecognised SignerInfo.signatureAlgorithm OID, which we refuse
(``signature.algorithm``) while OpenSSL's GOST engine ignores that unsigned field and
verifies with the key's algorithm (found by this test: a flipped byte turned
1.2.643.7.1.1.1.1 into 1.2.643.7.1.105.1.1). The signatures of the shared
corpus (gost-cms) go through the same comparison. Run with ``-s`` to see the summary.
"""

from __future__ import annotations

import base64
import os
import random
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.pki.builder import TestPki
from validators.signatures.certificates import load_certificates
from validators.signatures.model import SubIndication, VerificationReport
from validators.signatures.revocation import RevocationMode
from validators.signatures.verify import VerificationPolicy, verify_cms
from validators.trust import TrustStore

OPENSSL_ENV = dict(os.environ, OPENSSL_CONF=str(REPO / "certs" / "openssl-gost.cnf"))
SEED = 20261122
CASES_PER_SIGNATURE = 50  # x 3 base signatures = 150 mutated cases
POLICY = VerificationPolicy(revocation=RevocationMode.OFF)


@dataclass
class Verdicts:
    ours: str
    """``ok`` (signature.value and content.digest passed), ``fail``, ``format``, or
    ``unsupported`` (SignerInfo.signatureAlgorithm not recognised: crypto not evaluated)."""
    openssl: str
    """``ok`` (exit 0), ``fail`` (read but not verified) or ``unparsed`` (exit 2)."""
    openssl_chain: str | None = None
    ours_chain: str | None = None
    detail: str = ""


@dataclass
class Tally:
    cases: int = 0
    agreements: int = 0
    skipped_both_unparsed: int = 0
    stricter_format: list[str] = field(default_factory=list)
    stricter_algorithm: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    chain_disagreements: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)

    def add(self, label: str, v: Verdicts) -> None:
        self.cases += 1
        self.kinds[f"ours={v.ours}/openssl={v.openssl}"] += 1
        line = f"{label}: ours={v.ours} openssl={v.openssl} {v.detail}".strip()
        if v.ours == "format" and v.openssl == "unparsed":
            self.skipped_both_unparsed += 1
        elif v.ours == "format" and v.openssl == "ok":
            self.stricter_format.append(line)
        elif v.ours == "unsupported" and v.openssl == "ok":
            self.stricter_algorithm.append(line)
        elif (v.ours == "ok") == (v.openssl == "ok"):
            self.agreements += 1
        else:
            self.disagreements.append(line)
        comparable = v.openssl_chain is not None and v.ours_chain is not None and v.ours not in ("format", "unsupported")
        if comparable and (v.ours_chain == "ok") != (v.openssl_chain == "ok"):
            self.chain_disagreements.append(f"{label}: ours chain={v.ours_chain} openssl chain={v.openssl_chain} {v.detail}")

    def summary(self, title: str) -> str:
        lines = [
            f"== differential {title}: {self.cases} cases, {self.agreements} agreements, "
            f"{self.skipped_both_unparsed} skipped (both could not parse), "
            f"{len(self.stricter_format)} ours FORMAT_FAILURE / openssl verified, "
            f"{len(self.stricter_algorithm)} ours unsupported signatureAlgorithm / openssl verified, "
            f"{len(self.disagreements)} disagreements, {len(self.chain_disagreements)} chain disagreements",
            "   " + ", ".join(f"{k}: {n}" for k, n in sorted(self.kinds.items())),
        ]
        lines += [f"   DISAGREE {d}" for d in self.disagreements]
        lines += [f"   CHAIN DISAGREE {d}" for d in self.chain_disagreements]
        lines += [f"   stricter format {d}" for d in self.stricter_format]
        lines += [f"   stricter algorithm {d}" for d in self.stricter_algorithm]
        return "\n".join(lines)


def _openssl_verify(signature: Path, content: Path | None, *, ca_file: Path | None, certfile: Path | None = None) -> tuple[str, str]:
    args = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature), "-purpose", "any", "-out", os.devnull]
    if content is not None:
        args += ["-content", str(content)]
    args += ["-CAfile", str(ca_file)] if ca_file is not None else ["-noverify"]
    if certfile is not None:
        args += ["-certfile", str(certfile)]
    proc = subprocess.run(args, env=OPENSSL_ENV, capture_output=True, text=True, timeout=60, check=False)
    state = "ok" if proc.returncode == 0 else "unparsed" if proc.returncode == 2 else "fail"
    first_error = next((ln for ln in proc.stderr.splitlines() if ln.strip()), "")
    return state, re.sub(r"^[0-9A-F]+:error:", "", first_error)[:120]


def _ours(report: VerificationReport) -> tuple[str, str, str]:
    """(crypto verdict, chain verdict, detail) of a one-signer report."""
    if report.sub_indication is SubIndication.FORMAT_FAILURE:
        return "format", "format", (report.problems[0] if report.problems else "")[:120]
    if len(report.signatures) != 1:
        return "fail", "fail", f"{len(report.signatures)} signers"
    (signer,) = report.signatures
    checks = {c.name: c for c in signer.checks}
    if "cms.format" in checks:
        return "format", "format", checks["cms.format"].detail[:120]
    if "signature.algorithm" in checks and not checks["signature.algorithm"].passed:
        return "unsupported", "unsupported", checks["signature.algorithm"].detail[:120]
    crypto = all(name in checks and checks[name].passed for name in ("signature.value", "content.digest"))
    chain = crypto and all(name in checks and checks[name].passed for name in ("chain.path", "chain.validity"))
    failed = [f"{c.name}" for c in signer.checks if not c.passed]
    return ("ok" if crypto else "fail"), ("ok" if chain else "fail"), f"ours failed: {failed}"


def _flip(data: bytes, rng: random.Random) -> tuple[bytes, int]:
    buf = bytearray(data)
    offset = rng.randrange(len(buf))
    buf[offset] ^= rng.randrange(1, 256)
    return bytes(buf), offset


@pytest.fixture(scope="module")
def base_signatures(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes, bytes]]:
    folder = tmp_path_factory.mktemp("diff")
    content = "Отчетность КПК за 1 квартал\n".encode() * 4
    document = folder / "doc.txt"
    document.write_bytes(content)
    made = []
    for name, label, options in (
        ("head256-cades", "head256", {}),
        ("head512-cades", "head512", {}),
        ("head256-noattr", "head256", {"signed_attributes": False}),
    ):
        signature = pki.sign(label, document, folder / f"{name}.sig", **options).read_bytes()  # type: ignore[arg-type]
        made.append((name, signature, content))
    return made


def test_mutated_signatures_agree_with_openssl(
    pki: TestPki, store: TrustStore, base_signatures: list[tuple[str, bytes, bytes]], tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    tally = Tally()
    signature_path, document_path = tmp_path / "case.sig", tmp_path / "case.txt"
    for name, signature, content in base_signatures:
        # The unmutated signature first: both must verify it.
        cases: list[tuple[str, bytes, bytes]] = [(f"{name}/original", signature, content)]
        for _ in range(CASES_PER_SIGNATURE - 1):
            kind = rng.choice(["sig-flip", "sig-flip", "content-flip", "truncate"])
            if kind == "sig-flip":
                mutated, offset = _flip(signature, rng)
                cases.append((f"{name}/sig-flip@{offset}", mutated, content))
            elif kind == "content-flip":
                changed, offset = _flip(content, rng)
                cases.append((f"{name}/content-flip@{offset}", signature, changed))
            else:
                length = rng.randrange(len(signature))
                cases.append((f"{name}/truncate@{length}", signature[:length], content))
        for label, sig, doc in cases:
            signature_path.write_bytes(sig)
            document_path.write_bytes(doc)
            report = verify_cms(sig, store, POLICY, document=document_path)
            ours, ours_chain, detail = _ours(report)
            openssl, why = _openssl_verify(signature_path, document_path, ca_file=None)
            openssl_chain, _why_chain = _openssl_verify(signature_path, document_path, ca_file=pki.ca_bundle)
            tally.add(label, Verdicts(ours, openssl, openssl_chain, ours_chain, f"[{detail}] [openssl: {why}]"))
    print("\n" + tally.summary("mutated test-PKI signatures"))
    assert tally.cases == 3 * CASES_PER_SIGNATURE
    assert tally.kinds["ours=ok/openssl=ok"] >= 3  # at least the originals
    assert not tally.disagreements, tally.summary("mutated test-PKI signatures")
    assert not tally.chain_disagreements, tally.summary("mutated test-PKI signatures")


# --------------------------------------------------------------------------------------
# the shared corpus

#: signature file -> signed content (None: attached, or content not available).
CORPUS_CONTENT = {
    "cpsia_report.pdf.sig": "cpsia_report.pdf",
    "cpsia_report.pdf.tampered_cert.sig": "cpsia_report.pdf",
    "gisgkh_smev3_attachment_detached_nocontent.p7s": None,
    "nicesoft_fns_qualified_gost_test.txt.p7s": None,
    "pycryptoprosdk_attached_qwerty_2012.sig": None,
    "pycryptoprosdk_doc.txt.2017-10.sig": "pycryptoprosdk_doc.txt",
    "pycryptoprosdk_doc.txt.2018-01.sgn": "pycryptoprosdk_doc.txt",
    "pycryptoprosdk_doc.txt.2019-02.sgn": "pycryptoprosdk_doc.txt",
    "pycryptoprosdk_test.txt.sig": "pycryptoprosdk_test.txt",
    "tc26_signed_a111.pem": None,
    "tc26_signed_a121.pem": None,
    "tk26cms_signed_256_nocerts.p7m": None,
    "tk26cms_signed_512_nocerts.p7m": None,
}
#: Certificates the corpus signatures without certificates need (MANIFEST: -certfile).
CORPUS_CERTFILE = {
    "tk26cms_signed_256_nocerts.p7m": "tk26iok_cert_256_example.cer",
    "tk26cms_signed_512_nocerts.p7m": "tk26iok_cert_512_example.cer",
}
#: What MANIFEST.md measured with `openssl cms -verify -noverify` (with the content/-certfile).
CORPUS_OPENSSL_NOVERIFY = {name: "ok" for name in CORPUS_CONTENT} | {
    "gisgkh_smev3_attachment_detached_nocontent.p7s": "fail",  # the signed ZIP is not available
}


def _independent_der(data: bytes) -> bytes:
    """DER of a DER/PEM/bare-base64 file, decoded without the code under test."""
    if data[:1] == b"\x30":
        return data
    text = data.decode("ascii").strip()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("-----")]
    return base64.b64decode("".join(ln.strip() for ln in lines))


def test_corpus_signatures_agree_with_openssl(corpus: Path, tmp_path: Path) -> None:
    folder = corpus / "gost-cms"
    present = sorted(p.name for p in folder.iterdir() if p.suffix in {".sig", ".p7s", ".sgn", ".pem", ".p7m"})
    assert set(present) == set(CORPUS_CONTENT), "corpus changed: update CORPUS_CONTENT"
    # Every corpus certificate is offered (as an anchor) so signatures without embedded
    # certificates can be checked cryptographically, as openssl's -certfile does.
    anchors = [c for p in sorted((corpus / "certs").iterdir()) if p.suffix in {".pem", ".cer", ".der"} for c in load_certificates(p.read_bytes())]
    store = TrustStore(roots=tuple(anchors))
    tally = Tally()
    for name in present:
        raw = (folder / name).read_bytes()
        der = tmp_path / (name + ".der")
        der.write_bytes(_independent_der(raw))
        content_name = CORPUS_CONTENT[name]
        content = folder / content_name if content_name else None
        report = verify_cms(raw, store, POLICY, document=content, signature_file=name)
        ours, _chain, detail = _ours(report)
        certfile = corpus / "certs" / CORPUS_CERTFILE[name] if name in CORPUS_CERTFILE else None
        openssl, why = _openssl_verify(der, content, ca_file=None, certfile=certfile)
        assert openssl == CORPUS_OPENSSL_NOVERIFY[name], f"{name}: openssl {openssl} ({why}), MANIFEST says otherwise"
        tally.add(name, Verdicts(ours, openssl, detail=f"[{detail}] [openssl: {why}]"))
    print("\n" + tally.summary("shared corpus gost-cms"))
    assert tally.cases == len(CORPUS_CONTENT)
    assert not tally.disagreements, tally.summary("shared corpus gost-cms")
    assert not tally.stricter_format, tally.summary("shared corpus gost-cms")
