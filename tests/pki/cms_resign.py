"""CMS signatures with hand-changed signed attributes or algorithm identifiers, re-signed
with the signer's real GOST key (``openssl dgst -sign``), so that only the structure is
wrong and the signature value still verifies: what a hostile member's own tool can make.

Uses the builder's primitives; nothing here imports the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from asn1crypto import cms, core

from tests.pki.builder import _run_openssl

__all__ = ["resign_signed_attributes", "attribute", "der_length", "add_countersignature"]

AttributeEdit = Callable[[list[cms.CMSAttribute]], list[cms.CMSAttribute]]


def der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def attribute(oid: str, values: list[object]) -> cms.CMSAttribute:
    """One attribute with the given values (a SET of them, as given)."""
    return cms.CMSAttribute({"type": oid, "values": values})


def resign_signed_attributes(signature: Path, key: Path, edit: AttributeEdit, out: Path, *, digest: str = "md_gost12_256") -> Path:
    """Change the first SignerInfo's signed attributes with ``edit`` and sign them again
    with ``key`` (GOST, ``digest``); write the DER signature to ``out``."""
    info = cms.ContentInfo.load(signature.read_bytes())
    signer_info = info["content"]["signer_infos"][0]
    attributes = edit(list(signer_info["signed_attrs"]))
    signer_info["signed_attrs"] = cms.CMSAttributes(attributes)
    body = bytes(signer_info["signed_attrs"].contents)
    tbs = out.parent / f".{out.name}.tbs"
    tbs.write_bytes(b"\x31" + der_length(len(body)) + body)
    value = out.parent / f".{out.name}.value"
    _run_openssl(["dgst", f"-{digest}", "-sign", str(key), "-out", str(value), str(tbs)])
    signer_info["signature"] = value.read_bytes()
    out.write_bytes(info.dump())
    return out


def add_countersignature(signature: Path, cert_pem: Path, key: Path, out: Path) -> Path:
    """Countersign (RFC 5652, 11.4) the first SignerInfo of a DER signature with a GOST-256
    key: a SignerInfo whose messageDigest is the Streebog-256 of the countersigned
    signature value, placed in its unsigned attributes."""
    from asn1crypto import x509

    info = cms.ContentInfo.load(signature.read_bytes())
    target = info["content"]["signer_infos"][0]
    value_file = out.parent / f".{out.name}.countersigned"
    value_file.write_bytes(bytes(target["signature"].native))
    digest = _run_openssl(["dgst", "-md_gost12_256", "-binary", str(value_file)])
    cert = x509.Certificate.load(_run_openssl(["x509", "-in", str(cert_pem), "-outform", "DER"]))
    attrs = cms.CMSAttributes([attribute("1.2.840.113549.1.9.4", [core.OctetString(digest)])])
    body = bytes(attrs.contents)
    tbs = out.parent / f".{out.name}.counter-tbs"
    tbs.write_bytes(b"\x31" + der_length(len(body)) + body)
    value = _run_openssl(["dgst", "-md_gost12_256", "-sign", str(key), "-binary", str(tbs)])
    counter = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}}),
            "digest_algorithm": {"algorithm": "1.2.643.7.1.1.2.2"},
            "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": "1.2.643.7.1.1.1.1"},
            "signature": value,
        }
    )
    target["unsigned_attrs"] = cms.CMSAttributes([attribute("1.2.840.113549.1.9.6", [counter])])
    out.write_bytes(info.dump())
    return out
