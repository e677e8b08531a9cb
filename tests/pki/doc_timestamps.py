"""PDF document time-stamps (/DocTimeStamp, ETSI.RFC3161) from the TSAs of :mod:`tests.pki.tsa`.

pyHanko's ``PdfTimeStamper`` lays out the time-stamp field and the ByteRange; the token
comes from:

* an RSA TSA (``tsa_rsa``): pyHanko's ``DummyTimeStamper`` with the TSA certificate and
  key of the test PKI, genTime chosen (``fixed_dt``);
* a GOST TSA (``tsa256``, ``tsa_untrusted``, ``tsa_noncritical``...): a TSTInfo over
  pyHanko's ByteRange digest written with asn1crypto and signed by ``openssl cms -sign
  -econtent_type id-smime-ct-TSTInfo -cades`` with the gost engine, exactly as
  :meth:`TsaPki.token_by_cms` does, at any genTime.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core, tsp

from tests.pki.builder import DEFAULT_DIGEST
from tests.pki.tsa import OID_TSTINFO, TSA_POLICY, TsaPki

__all__ = ["doc_timestamp", "sign_pdf_lapsed", "add_dss_crls"]


def _gost_stamper(tsa: TsaPki, label: str, gen_time: datetime, other_imprint: bool = False) -> Any:
    from pyhanko.sign.timestamps.api import TimeStamper

    class OpensslGostStamper(TimeStamper):  # type: ignore[misc]
        async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
            if other_imprint:
                message_digest = hashlib.new(md_algorithm, b"other bytes").digest()
            work = tsa.root_dir / "doc-ts" / label
            work.mkdir(parents=True, exist_ok=True)
            info = tsp.TSTInfo(
                {
                    "version": "v1",
                    "policy": TSA_POLICY,
                    "message_imprint": tsp.MessageImprint(
                        {"hash_algorithm": algos.DigestAlgorithm({"algorithm": md_algorithm}), "hashed_message": message_digest}
                    ),
                    "serial_number": 0x10000000 + int(gen_time.timestamp()) % 0x1000000,
                    "gen_time": core.GeneralizedTime(gen_time.astimezone(UTC)),
                }
            )
            content = work / "tstinfo.der"
            content.write_bytes(info.dump())
            der = tsa.pki.openssl(
                "cms", "-sign", "-binary", "-nodetach", "-in", str(content),
                "-signer", str(tsa.cert(label)), "-inkey", str(tsa.key(label)),
                "-md", DEFAULT_DIGEST["gost256"], "-cades", "-nosmimecap",
                "-econtent_type", OID_TSTINFO, "-outform", "DER",
            )
            return cms.ContentInfo.load(der)

    return OpensslGostStamper()


def doc_timestamp(
    tsa: TsaPki, label: str, source: Path, target: Path, gen_time: datetime | None = None, *, other_imprint: bool = False
) -> Path:
    """``source`` with a document time-stamp by TSA ``label`` in a new revision (its
    ByteRange covers everything before it, earlier signatures included);
    ``other_imprint`` (GOST TSAs): the token's messageImprint is of other bytes."""
    from tests.pki.pdf import stamp_pdf_with, timestamp_pdf

    moment = gen_time or datetime.now(UTC)
    if "rsa" in label:
        return timestamp_pdf(tsa, label, source, target, fixed_dt=moment)  # type: ignore[arg-type]
    return stamp_pdf_with(_gost_stamper(tsa, label, moment, other_imprint), source, target)


class _TsaSigner:
    """What :func:`tests.pki.pdf.sign_pdf_gost` needs of a PKI (``cert``, ``sign``), with
    the TSA PKI's certificates (``lapsed256``) and a chosen signingTime claim."""

    def __init__(self, tsa: TsaPki, signing_time: datetime | None) -> None:
        self.tsa, self.signing_time = tsa, signing_time

    def cert(self, label: str) -> Path:
        return self.tsa.cert(label)

    def sign(self, label: str, content: Path, out: Path, *, attached: bool = False, digest: str | None = None) -> Path:
        assert not attached and digest is None
        return self.tsa.sign(label, content, out, signing_time=self.signing_time)


def sign_pdf_lapsed(tsa: TsaPki, source: Path, target: Path, signing_time: datetime | None = None, label: str = "lapsed256") -> Path:
    """A GOST PAdES signature by ``lapsed256`` (expired 10 days ago), made now, its
    signingTime optionally back-dated (a claim, proving nothing)."""
    from tests.pki.pdf import sign_pdf_gost

    return sign_pdf_gost(_TsaSigner(tsa, signing_time), label, source, target)  # type: ignore[arg-type]


def add_dss_crls(source: Path, target: Path, crls: list[bytes]) -> Path:
    """An LTV update (/DSS) carrying CRLs for the document's last signature."""
    from asn1crypto import crl as asn1_crl
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    data = source.read_bytes()
    with open(source, "rb") as stream:
        reader = PdfFileReader(stream, strict=False)
        *_, (_name, sig_object, _field) = enumerate_sig_fields(reader, filled_status=True)
        contents = sig_object.get_object()["/Contents"]
    output = BytesIO(data)
    DocumentSecurityStore.add_dss(output, contents, crls=[asn1_crl.CertificateList.load(c) for c in crls], strict=False)
    target.write_bytes(output.getvalue())
    return target
