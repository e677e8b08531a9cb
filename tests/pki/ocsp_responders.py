"""OCSP material for the red-team suite: delegated responders of every kind (with or
without id-pkix-ocsp-nocheck, another extended key usage, another issuing CA), answers
they sign with ``openssl ocsp`` (good, revoked, on hold), answers re-dated and re-signed
with the responder's GOST key (``openssl dgst -sign``), and CRLs listing any serial.

Uses the builder's primitives (its openssl configuration and ``openssl ca`` database
format); of the code under test only the CAdES ASN.1 spec (``RevocationValues``) is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import cms, core, crl, ocsp

from tests.pki.builder import (
    _BASE_CONF,
    _GENPKEY_ARGS,
    DEFAULT_DIGEST,
    TestPki,
    _ca_section,
    _fmt_time,
    _fmt_utctime,
    _run_openssl,
    _subj,
)

__all__ = [
    "Responder",
    "issue_responder",
    "respond",
    "basic_response",
    "redated",
    "crl_listing",
    "embed_revocation_values",
]

_OID_REVOCATION_VALUES = "1.2.840.113549.1.9.16.2.24"


@dataclass(frozen=True)
class Responder:
    """A delegated OCSP responder: its certificate (PEM), key and serial (hex)."""

    cert: Path
    key: Path
    serial: str


def issue_responder(
    pki: TestPki,
    folder: Path,
    *,
    issuer: str = "ca",
    eku: str | None = "OCSPSigning",
    nocheck: bool = False,
    key_usage: str = "critical, digitalSignature",
    validity: tuple[datetime, datetime] | None = None,
    serial: str = "5EED10",
    extra: Sequence[str] = (),
) -> Responder:
    """A GOST-256 responder certificate issued by ``issuer`` (its key signs it); ``extra``
    adds openssl extension lines (e.g. ``1.2.643.999.7 = critical, ASN1:NULL``)."""
    now = datetime.now(UTC).replace(microsecond=0)
    not_before, not_after = validity or (now - timedelta(days=10), now + timedelta(days=60))
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / "responder.key"
    _run_openssl(["genpkey", *_GENPKEY_ARGS["gost256"], "-out", str(key)])
    (folder / "index.txt").write_text("")
    (folder / "serial").write_text(serial + "\n")
    extensions = ["basicConstraints = CA:FALSE", f"keyUsage = {key_usage}", "subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid"]
    if eku:
        extensions.append(f"extendedKeyUsage = {eku}")
    if nocheck:
        extensions.append("noCheck = ignored")
    extensions.extend(extra)
    conf = folder / "openssl.cnf"
    md = DEFAULT_DIGEST[pki.info(issuer)["key_type"]]
    conf.write_text(_BASE_CONF + _ca_section(folder, md) + "\n[v3_responder]\n" + "\n".join(extensions) + "\n", encoding="utf-8")
    csr = folder / "req.pem"
    _run_openssl(["req", "-config", str(conf), "-new", "-utf8", "-key", str(key),
                  "-subj", _subj((("CN", f"OCSP-ответчик {serial}"),)), "-out", str(csr)])
    cert = folder / "responder.pem"
    _run_openssl(["ca", "-config", str(conf), "-batch", "-notext", "-utf8", "-md", md, "-in", str(csr),
                  "-startdate", _fmt_time(not_before), "-enddate", _fmt_time(not_after),
                  "-extensions", "v3_responder", "-cert", str(pki.cert(issuer)), "-keyfile", str(pki.key(issuer)),
                  "-out", str(cert)])
    return Responder(cert, key, serial)


def respond(
    pki: TestPki,
    label: str,
    folder: Path,
    *,
    responder: Responder | None = None,
    issuer: str = "ca",
    revoked_at: datetime | None = None,
    reason: str = "keyCompromise",
    subject: Responder | None = None,
) -> bytes:
    """A DER OCSPResponse about ``label`` (or about the certificate ``subject``, e.g. one
    made by :func:`issue_responder`) by ``openssl ocsp``, signed by ``responder`` (default:
    the issuing CA itself). ``reason`` ``certificateHold`` puts it on hold."""
    folder.mkdir(parents=True, exist_ok=True)
    expiry = _fmt_utctime(datetime.now(UTC) + timedelta(days=300))
    serial = subject.serial.upper() if subject else pki.info(label)["serial"].upper()
    about = str(subject.cert if subject else pki.cert(label))
    if revoked_at is None:
        line = f"V\t{expiry}\t\t{serial}\tunknown\t/CN={label}\n"
    else:
        extra = ",holdInstructionReject" if reason == "certificateHold" else ""
        line = f"R\t{expiry}\t{_fmt_utctime(revoked_at)},{reason}{extra}\t{serial}\tunknown\t/CN={label}\n"
    index = folder / "index.txt"
    index.write_text(line)
    request, response = folder / "request.der", folder / "response.der"
    signer_cert = str(responder.cert if responder else pki.cert(issuer))
    signer_key = str(responder.key if responder else pki.key(issuer))
    _run_openssl(["ocsp", "-issuer", str(pki.cert(issuer)), "-cert", about, "-no_nonce", "-reqout", str(request)])
    _run_openssl([
        "ocsp", "-index", str(index), "-CA", str(pki.cert(issuer)), "-rsigner", signer_cert, "-rkey", signer_key,
        "-rmd", "md_gost12_256", "-reqin", str(request), "-respout", str(response), "-ndays", "1",
    ])
    return response.read_bytes()


def basic_response(response: bytes) -> ocsp.BasicOCSPResponse:
    """The BasicOCSPResponse inside a DER OCSPResponse."""
    parsed: ocsp.BasicOCSPResponse = ocsp.OCSPResponse.load(response)["response_bytes"]["response"].parsed
    return parsed


_UNSET = object()


def redated(
    response: bytes,
    key: Path,
    folder: Path,
    *,
    produced_at: datetime | None = None,
    this_update: datetime | None = None,
    next_update: datetime | object | None = _UNSET,
    archive_cutoff: datetime | None = None,
    critical_extension: str | None = None,
) -> ocsp.BasicOCSPResponse:
    """The basic response with its dates changed, re-signed with ``key`` (the key that
    signed it: the responder, or the CA), as a responder with a wrong clock or a stale
    database would sign it. ``next_update=None`` removes nextUpdate; ``archive_cutoff`` adds
    that single extension (RFC 6960, 4.4.4); ``critical_extension`` (``single`` or
    ``response``) adds a critical extension nobody understands at that level."""
    basic = basic_response(response)
    tbs = basic["tbs_response_data"]
    if produced_at is not None:
        tbs["produced_at"] = core.GeneralizedTime(produced_at)
    single = tbs["responses"][0]
    if this_update is not None:
        single["this_update"] = core.GeneralizedTime(this_update)
    if next_update is not _UNSET:
        single["next_update"] = None if next_update is None else core.GeneralizedTime(next_update)
    if archive_cutoff is not None:
        single["single_extensions"] = [
            {"extn_id": "archive_cutoff", "critical": False, "extn_value": core.GeneralizedTime(archive_cutoff)}
        ]
    if critical_extension == "single":
        single["single_extensions"] = [{"extn_id": "1.2.643.999.1", "critical": True, "extn_value": core.Null().dump()}]
    elif critical_extension == "response":
        tbs["response_extensions"] = [{"extn_id": "1.2.643.999.2", "critical": True, "extn_value": core.Null().dump()}]
    data = ocsp.ResponseData.load(tbs.dump(force=True))
    folder.mkdir(parents=True, exist_ok=True)
    tbs_file, signature = folder / "tbs.der", folder / "tbs.sig"
    tbs_file.write_bytes(data.dump())
    _run_openssl(["dgst", "-md_gost12_256", "-sign", str(key), "-out", str(signature), str(tbs_file)])
    return ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": data,
            "signature_algorithm": basic["signature_algorithm"],
            "signature": signature.read_bytes(),
            "certs": basic["certs"],
        }
    )


def crl_listing(
    pki: TestPki,
    out: Path,
    serials: Sequence[tuple[str, datetime]],
    *,
    issuer: str = "ca",
    this_update: datetime,
    next_update: datetime,
    crl_number: int = 9,
    reason: str = "keyCompromise",
) -> crl.CertificateList:
    """A CRL of ``issuer`` listing ``serials`` (hex serial, revocation time) for ``reason``
    (``certificateHold``: on hold), with the dates given."""
    work = out.parent / f".{out.name}.work"
    work.mkdir(parents=True, exist_ok=True)
    expiry = _fmt_utctime(datetime.now(UTC) + timedelta(days=300))
    hold = ",holdInstructionReject" if reason == "certificateHold" else ""
    (work / "index.txt").write_text(
        "".join(f"R\t{expiry}\t{_fmt_utctime(when)},{reason}{hold}\t{serial}\tunknown\t/CN={serial}\n" for serial, when in serials)
    )
    (work / "crlnumber").write_text(f"{crl_number:02X}\n")
    md = DEFAULT_DIGEST[pki.info(issuer)["key_type"]]
    conf = work / "openssl.cnf"
    conf.write_text(_BASE_CONF + _ca_section(work, md), encoding="utf-8")
    pem = work / "crl.pem"
    _run_openssl([
        "ca", "-config", str(conf), "-gencrl", "-md", md, "-cert", str(pki.cert(issuer)), "-keyfile", str(pki.key(issuer)),
        "-crl_lastupdate", _fmt_time(this_update), "-crl_nextupdate", _fmt_time(next_update), "-out", str(pem),
    ])
    _run_openssl(["crl", "-in", str(pem), "-outform", "DER", "-out", str(out)])
    loaded: crl.CertificateList = crl.CertificateList.load(out.read_bytes())
    return loaded


def embed_revocation_values(
    signature: Path,
    responses: Sequence[ocsp.BasicOCSPResponse] = (),
    crls: Sequence[crl.CertificateList] = (),
) -> Path:
    """Put CAdES revocationValues (these OCSP responses and CRLs) on the first SignerInfo."""
    from validators.signatures.cms import RevocationValues  # the CAdES ASN.1 spec only

    values: dict[str, object] = {}
    if responses:
        values["ocsp_vals"] = list(responses)
    if crls:
        values["crl_vals"] = list(crls)
    signed = cms.ContentInfo.load(signature.read_bytes())
    signed["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": _OID_REVOCATION_VALUES, "values": [RevocationValues(values)]})]
    )
    signature.write_bytes(signed.dump())
    return signature
