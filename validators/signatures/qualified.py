"""The qualified-certificate profile (FSB Order 795) and CA accreditation (the TSL).

A signature is *qualified* only when it passed and its signer certificate:

* names the signing tool of the owner (subjectSignTool, 1.2.643.100.111) and the tools
  and certificates of the issuing CA (issuerSignTool, 1.2.643.100.112, four strings);
* carries a class policy 1.2.643.100.113.x (КС1…КВ2) in certificatePolicies;
* carries the identity attributes: for an organisation ОГРН, ИНН ЮЛ (or the older INN
  form) and its name; for an individual entrepreneur ОГРНИП and ИНН; for a person
  СНИЛС; and always a common name;
* was issued by a CA that the accredited-CA list (``tsl.xml``, when configured) lists
  as accredited at the validation time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from asn1crypto import core, x509

from validators.signatures.certificates import conflicting_identity_attributes, identity_of

if TYPE_CHECKING:
    from validators.tsl import AccreditedCaList

__all__ = ["profile_problems", "accreditation_problem", "CLASS_POLICY_PREFIX"]

SUBJECT_SIGN_TOOL = "1.2.643.100.111"
ISSUER_SIGN_TOOL = "1.2.643.100.112"
CLASS_POLICY_PREFIX = "1.2.643.100.113."


def _extension(cert: x509.Certificate, oid: str) -> bytes | None:
    """The DER inside the extension's OCTET STRING (for extensions asn1crypto does not know)."""
    for ext in cert["tbs_certificate"]["extensions"]:
        if ext["extn_id"].dotted == oid:
            try:
                return bytes(ext["extn_value"].contents)
            except (ValueError, TypeError):
                return None  # a mis-tagged extnValue: the extension is unreadable, so absent
    return None


def _utf8(data: bytes) -> str | None:
    """The string inside an extension value, or None when it is not a readable string
    (invalid UTF-8, truncated, another type: found by fuzzing)."""
    try:
        native = core.Asn1Value.load(data).native
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError):
        return None
    return native.strip() if isinstance(native, str) and native.strip() else None


class _IssuerSignTool(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """IssuerSignTool ::= SEQUENCE { signTool, cATool, signToolCert, cAToolCert UTF8String }"""

    _fields = [
        ("sign_tool", core.UTF8String),
        ("ca_tool", core.UTF8String),
        ("sign_tool_cert", core.UTF8String),
        ("ca_tool_cert", core.UTF8String),
    ]


def _issuer_sign_tool_ok(data: bytes) -> bool:
    try:
        values = _IssuerSignTool.load(data).native
    except (ValueError, TypeError):
        return False
    return all(isinstance(v, str) and v.strip() for v in values.values())


def profile_problems(cert: x509.Certificate) -> list[str]:
    """What the signer certificate lacks for the FSB Order 795 qualified profile."""
    problems = []
    tool = _extension(cert, SUBJECT_SIGN_TOOL)
    if tool is None or _utf8(tool) is None:
        problems.append("no subjectSignTool (1.2.643.100.111)")
    issuer_tool = _extension(cert, ISSUER_SIGN_TOOL)
    if issuer_tool is None or not _issuer_sign_tool_ok(issuer_tool):
        problems.append("no issuerSignTool (1.2.643.100.112) with four strings")
    try:
        policies = cert.certificate_policies_value
        policy_ids = [p["policy_identifier"].dotted for p in policies] if policies is not None else []
    except (ValueError, TypeError, KeyError):
        policy_ids = []
        problems.append("unreadable certificatePolicies")
    if not any(p.startswith(CLASS_POLICY_PREFIX) for p in policy_ids):
        problems.append("no class policy 1.2.643.100.113.x in certificatePolicies")
    identity = identity_of(cert)
    for oid in conflicting_identity_attributes(cert.subject):
        problems.append(f"subject gives {oid} twice with different values (whose certificate it is is ambiguous)")
    if not identity.common_name:
        problems.append("no common name")
    if identity.ogrn or identity.inn_le:
        if not identity.ogrn:
            problems.append("organisation certificate without ОГРН (1.2.643.100.1)")
        if not identity.inn_le:
            problems.append("organisation certificate without ИНН ЮЛ (1.2.643.100.4)")
        if not identity.organization:
            problems.append("organisation certificate without organisation name")
    elif identity.ogrnip:
        if not identity.inn:
            problems.append("individual entrepreneur certificate without ИНН")
    elif not identity.snils:
        problems.append("personal certificate without СНИЛС (1.2.643.100.3)")
    return problems


def accreditation_problem(
    issuing_ca: x509.Certificate, tsl: AccreditedCaList | None, at: datetime
) -> str | None:
    """None when no list is configured or the issuing CA was accredited at ``at``."""
    if tsl is None:
        return None
    centre = tsl.centre_for(issuing_ca.dump())
    if centre is None:
        return "the issuing CA certificate is not in the accredited-CA list (tsl.xml)"
    if not centre.accredited_at(at):
        return f"the CA '{centre.name}' was not accredited on {at:%Y-%m-%d} per tsl.xml"
    return None
