"""Evaluation (issue 10 §4): can pyhanko_certvalidator replace chain.py/revocation.py for GOST?

Runs pyhanko_certvalidator 0.33 with a GOST ``SignatureValidator`` (our libcrypto + gost
engine verification, validators/signatures/crypto.py) on the test PKI and prints what it
does with: a GOST chain and GOST-signed CRLs (good and revoked certificates), GOST-signed
OCSP responses with Streebog-256 and SHA-1 CertIDs (made by ``openssl ocsp``), its own
OCSP request builder, and a revocation after the time of judgment (POE). Each case
prints the outcome or the exception; nothing is asserted. Not a test; not run in CI.

Usage: .venv/bin/python bench/eval_certvalidator.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from asn1crypto import crl, ocsp, x509  # noqa: E402
from pyhanko_certvalidator import CertificateValidator, ValidationContext  # noqa: E402
from pyhanko_certvalidator.policy_decl import (  # noqa: E402
    CertRevTrustPolicy,
    FreshnessReqType,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.sig_validate import SignatureValidator  # noqa: E402

from tests.pki.builder import build_test_pki  # noqa: E402
from tests.pki.revocation import make_ocsp_response  # noqa: E402
from validators.gost import gost_support  # noqa: E402
from validators.signatures.certificates import load_certificates, verify_signed_by  # noqa: E402


class GostSignatureValidator(SignatureValidator):
    """GOST R 34.10-2012 (and RSA/ECDSA) through the gateway's one verification entry point."""

    def validate_signature(self, signature, signed_data, public_key_info, signature_algorithm, context=None):  # type: ignore[no-untyped-def,override]
        from cryptography.exceptions import InvalidSignature

        result = verify_signed_by(signed_data, signature_algorithm, signature, public_key_info)
        if not result.valid:
            raise InvalidSignature(result.problem or "invalid")


def _policy(retroactive: bool = False) -> CertRevTrustPolicy:
    rule = RevocationCheckingRule.CRL_OR_OCSP_REQUIRED
    return CertRevTrustPolicy(
        RevocationCheckingPolicy(ee_certificate_rule=rule, intermediate_ca_cert_rule=rule),
        freshness_req_type=FreshnessReqType.DEFAULT,
        retroactive_revinfo=retroactive,
    )


def _run(title: str, cert: x509.Certificate, **context: object) -> None:
    try:
        validator = CertificateValidator(cert, validation_context=ValidationContext(**context))  # type: ignore[arg-type]
        asyncio.run(validator.async_validate_usage({"digital_signature"}))
        print(f"| {title} | PASSED |")
    except Exception as exc:  # noqa: BLE001 - the point is to see what happens
        tail = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(tail.filename).name}:{tail.lineno}"
        print(f"| {title} | {type(exc).__name__}: {str(exc)[:150]} ({where}) |")


def main() -> None:
    gost_support()
    work = Path(tempfile.mkdtemp(prefix="eval-cv-"))
    pki = build_test_pki(work / "pki")
    cert = lambda label: load_certificates(pki.cert(label).read_bytes())[0]  # noqa: E731
    root, ca = cert("root"), cert("ca")
    crls = [crl.CertificateList.load(pki.crl(n).read_bytes()) for n in ("ca", "root")]
    now = datetime.now(UTC)
    base = dict(trust_roots=[root], other_certs=[ca], moment=now, revinfo_policy=_policy(), signature_validator=GostSignatureValidator())
    print("| case | pyhanko_certvalidator 0.33 outcome |")
    print("|---|---|")
    _run("GOST chain, no revocation data, CRL_OR_OCSP_REQUIRED", cert("head256"), **base)
    _run("GOST chain + GOST CRLs, good certificate", cert("head256"), crls=crls, **base)
    _run("GOST chain + GOST CRLs, revoked certificate", cert("revoked256"), crls=crls, **base)
    root_crl_only = [crls[1]]
    # OCSP responses are made below, after ``now``: judge a little later so they are not "too recent".
    base = {**base, "moment": now + timedelta(minutes=5)}
    for digest in ("md_gost12_256", "sha1", "sha256"):
        response = make_ocsp_response(pki, "head256", work / f"ocsp-{digest}", cert_id_digest=digest)
        _run(f"cert WITHOUT AIA, embedded-style GOST OCSP (CertID {digest}), good, root CRL for the CA", cert("head256"),
             ocsps=[ocsp.OCSPResponse.load(response)], crls=root_crl_only, **base)
    revoked = make_ocsp_response(pki, "revoked256", work / "ocsp-rev", revoked_at=now - timedelta(days=1), cert_id_digest="md_gost12_256")
    _run("cert WITHOUT AIA, GOST OCSP (CertID Streebog), revoked", cert("revoked256"), ocsps=[ocsp.OCSPResponse.load(revoked)], crls=root_crl_only, **base)
    # POE: revoked yesterday, judged two days ago (the proven signing time) with the current CRL.
    _run("revoked after the time of judgment (moment = 2 days ago, current CRL)", cert("revoked256"), crls=crls,
         **{**base, "moment": now - timedelta(days=2)})
    _run("same, policy retroactive_revinfo=True", cert("revoked256"), crls=crls,
         **{**base, "moment": now - timedelta(days=2), "revinfo_policy": _policy(True)})
    _run("good certificate judged 2 days ago, current CRL, policy retroactive_revinfo=True", cert("head256"), crls=crls,
         **{**base, "moment": now - timedelta(days=2), "revinfo_policy": _policy(True)})
    sha1 = make_ocsp_response(pki, "head256", work / "ocsp-sha1-retro", cert_id_digest="sha1")
    _run("cert WITHOUT AIA, GOST OCSP (CertID sha1), good, policy retroactive_revinfo=True", cert("head256"),
         ocsps=[ocsp.OCSPResponse.load(sha1)], crls=root_crl_only, **{**base, "revinfo_policy": _policy(True)})
    # A GOST certificate WITH an AIA OCSP address (pyHanko consults OCSP only for those).
    from tests.pki.builder import _run_openssl
    from tests.pki.online import build_online_pki

    online = build_online_pki(work / "online")
    ocert = lambda label: load_certificates(online.cert(label).read_bytes())[0]  # noqa: E731
    for digest in ("sha1", "md_gost12_256"):
        request = work / f"req-{digest}.der"
        _run_openssl(["ocsp", "-issuer", str(online.cert("online_ca")), f"-{digest}", "-cert", str(online.cert("ocsp_good")),
                      "-no_nonce", "-reqout", str(request)])
        response = ocsp.OCSPResponse.load(online.ocsp_response(request.read_bytes()))
        _run(f"cert with AIA, GOST OCSP response (CertID {digest}) from openssl ocsp, good", ocert("ocsp_good"),
             trust_roots=[ocert("online_root")], other_certs=[ocert("online_ca")], moment=datetime.now(UTC) + timedelta(minutes=5),
             ocsps=[response], crls=[crl.CertificateList.load(online.crl("root").read_bytes())], revinfo_policy=_policy(),
             signature_validator=GostSignatureValidator())
    # pyHanko's own OCSP request builder with Streebog CertIDs.
    try:
        from pyhanko_certvalidator.authority import AuthorityWithCert
        from pyhanko_certvalidator.fetchers.common_utils import get_certid

        get_certid(cert("head256"), AuthorityWithCert(ca), certid_hash_algo="streebog256")
        print("| get_certid(certid_hash_algo='streebog256') | built |")
    except Exception as exc:  # noqa: BLE001
        print(f"| get_certid(certid_hash_algo='streebog256') | {type(exc).__name__}: {str(exc)[:150]} |")
    try:
        from pyhanko_certvalidator.fetchers.aiohttp_fetchers.ocsp_client import AIOHttpOCSPFetcher

        AIOHttpOCSPFetcher(None, certid_hash_algo="streebog256")  # type: ignore[arg-type]
        print("| AIOHttpOCSPFetcher(certid_hash_algo='streebog256') | accepted |")
    except Exception as exc:  # noqa: BLE001
        print(f"| AIOHttpOCSPFetcher(certid_hash_algo='streebog256') | {type(exc).__name__}: {str(exc)[:150]} |")
    print(f"\nwork folder {work}")



if __name__ == "__main__":
    main()
