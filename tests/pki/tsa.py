"""Time-stamp authorities for the test PKI, and signatures with a proven or claimed time.

Built with ``openssl`` and the gost engine on top of :func:`tests.pki.builder.build_test_pki`
(its CAs issue the TSA certificates), written into a separate folder:

* ``tsa256`` GOST TSA issued by ``ca`` (trusted): extendedKeyUsage critical, timeStamping;
* ``tsa_rsa`` RSA TSA issued by ``rsa_ca`` (trusted), the same profile;
* ``tsa_noncritical`` GOST, issued by ``ca``, timeStamping EKU NOT critical;
* ``tsa_untrusted`` GOST, issued by ``untrusted_root`` (not in the trust store);
* ``tsa_revoked`` GOST, issued by ``ca``, the TSA profile; :meth:`TsaPki.crl` can list it;
* ``tsa_two_purposes`` GOST, issued by ``ca``, critical EKU timeStamping AND clientAuth;
* ``lapsed256`` a qualified head certificate (HEAD_DN) issued by ``ca``, valid from 60 days
  ago to 10 days ago: expired now, valid a month ago.

Tokens are made two ways: ``openssl ts -query``/``-reply`` (genTime = now), and, where a
genTime in the past or a TSA that ``openssl ts`` refuses (non-critical EKU) is needed, a
TSTInfo written with asn1crypto and signed by ``openssl cms -sign -econtent_type
id-smime-ct-TSTInfo -cades`` (the same CMS a TSA produces: contentType TSTInfo,
messageDigest, signingCertificateV2). A back-dated signingTime is made by re-signing the
signed attributes of an ``openssl cms`` signature with ``openssl dgst -sign``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import algos, cms, core, tsp

from tests.pki.builder import (
    _BASE_CONF,
    DEFAULT_DIGEST,
    HEAD_DN,
    TestPki,
    _ca_section,
    _fmt_time,
    _subj,
)

OID_SIGNATURE_TIME_STAMP = "1.2.840.113549.1.9.16.2.14"
OID_TSTINFO = "1.2.840.113549.1.9.16.1.4"
TSA_POLICY = "1.2.643.100.999.1"

_EXTENSIONS = """
[v3_tsa]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[v3_tsa_noncritical]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[v3_tsa_two_purposes]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

_DIGEST_OIDS = {
    "md_gost12_256": "1.2.643.7.1.1.2.2",
    "md_gost12_512": "1.2.643.7.1.1.2.3",
    "sha256": "2.16.840.1.101.3.4.2.1",
}
_HASHLIB_NAMES = {"md_gost12_256": "md_gost12_256", "md_gost12_512": "md_gost12_512", "sha256": "sha256"}


@dataclass(frozen=True)
class _Spec:
    label: str
    key_type: str
    issuer: str
    dn: tuple[tuple[str, str], ...]
    extensions: str
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class TsaPki:
    """TSA certificates and token makers over a :class:`TestPki`."""

    __test__ = False

    pki: TestPki
    root_dir: Path
    now: datetime

    def cert(self, label: str) -> Path:
        """A certificate of this module, else of the test PKI."""
        own = self.root_dir / f"{label}.pem"
        return own if own.exists() else self.pki.cert(label)

    def key(self, label: str) -> Path:
        own = self.root_dir / f"{label}.key"
        return own if own.exists() else self.pki.key(label)

    # -- tokens ----------------------------------------------------------------------

    def token_by_openssl_ts(self, label: str, stamped: bytes, digest: str = "md_gost12_256") -> bytes:
        """A token from ``openssl ts -reply`` over ``stamped`` (genTime = now), DER."""
        work = self.root_dir / "ts" / label
        work.mkdir(parents=True, exist_ok=True)
        data = work / "stamped.bin"
        data.write_bytes(stamped)
        conf = work / "ts.cnf"
        key_type = "rsa" if label == "tsa_rsa" else "gost256"
        conf.write_text(
            _BASE_CONF
            + f"""
[tsa]
default_tsa = tsa_config

[tsa_config]
dir = {work}
serial = $dir/serial
crypto_device = builtin
signer_cert = {self.cert(label)}
signer_key = {self.key(label)}
signer_digest = {DEFAULT_DIGEST[key_type]}
default_policy = {TSA_POLICY}
digests = md_gost12_256, md_gost12_512, sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""",
            encoding="utf-8",
        )
        (work / "serial").write_text("01\n")
        query = work / "query.tsq"
        self.pki.openssl("ts", "-query", "-data", str(data), f"-{digest}", "-cert", "-no_nonce", "-out", str(query))
        token = work / "token.der"
        self.pki.openssl("ts", "-reply", "-config", str(conf), "-queryfile", str(query), "-token_out", "-out", str(token))
        return token.read_bytes()

    def token_by_cms(
        self, label: str, stamped: bytes, gen_time: datetime, digest: str = "md_gost12_256",
        econtent_type: str = OID_TSTINFO, ess: bool = True,
    ) -> bytes:
        """A token with any genTime: a TSTInfo signed with ``openssl cms -sign`` as a TSA
        does (``econtent_type`` other than id-ct-TSTInfo makes a malformed token)."""
        work = self.root_dir / "cms-ts" / label
        work.mkdir(parents=True, exist_ok=True)
        imprint = hashlib.new(_HASHLIB_NAMES[digest], stamped).digest()
        info = tsp.TSTInfo(
            {
                "version": "v1",
                "policy": TSA_POLICY,
                "message_imprint": tsp.MessageImprint(
                    {"hash_algorithm": algos.DigestAlgorithm({"algorithm": _DIGEST_OIDS[digest]}), "hashed_message": imprint}
                ),
                "serial_number": int(gen_time.timestamp()),
                "gen_time": core.GeneralizedTime(gen_time.astimezone(UTC)),
            }
        )
        content = work / "tstinfo.der"
        content.write_bytes(info.dump())
        key_type = "rsa" if "rsa" in label else "gost256"
        return self.pki.openssl(
            "cms", "-sign", "-binary", "-nodetach", "-in", str(content),
            "-signer", str(self.cert(label)), "-inkey", str(self.key(label)),
            "-md", DEFAULT_DIGEST[key_type], *(("-cades",) if ess else ()), "-nosmimecap",
            "-econtent_type", econtent_type, "-outform", "DER",
        )

    # -- signatures --------------------------------------------------------------------

    def sign(self, label: str, content: Path, out: Path, *, signing_time: datetime | None = None) -> Path:
        """A detached CAdES-BES signature by ``label`` (a TSA-PKI label such as
        ``lapsed256``, or a test-PKI one), its signingTime optionally set to a chosen
        (back-dated) moment: the signed attributes are re-signed with ``openssl dgst``."""
        cert, key = self.cert(label), self.key(label)
        digest = "md_gost12_512" if "512" in label else "md_gost12_256"
        der = self.pki.openssl(
            "cms", "-sign", "-binary", "-in", str(content), "-signer", str(cert), "-inkey", str(key),
            "-md", digest, "-cades", "-nosmimecap", "-outform", "DER",
        )
        if signing_time is not None:
            info = cms.ContentInfo.load(der)
            signer = info["content"]["signer_infos"][0]
            attributes = [a for a in signer["signed_attrs"] if a["type"].dotted != "1.2.840.113549.1.9.5"]
            attributes.append(cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]}))
            signed_attrs = cms.CMSAttributes(attributes)
            to_sign = out.with_suffix(".tbs")
            to_sign.write_bytes(signed_attrs.dump())
            value = self.pki.openssl("dgst", f"-{digest}", "-sign", str(key), "-binary", str(to_sign))
            signer["signed_attrs"] = signed_attrs
            signer["signature"] = value
            der = info.dump()
        out.write_bytes(der)
        return out

    def crl(
        self, issuer: str, this_update: datetime, next_update: datetime, revoked: dict[str, datetime] | None = None
    ) -> bytes:
        """A DER CRL of ``issuer``: by default nothing revoked and current in the past (the
        CRL a CAdES-XL signature carries for a certificate that has since expired);
        ``revoked`` lists labels of this module with their revocation dates (keyCompromise)."""
        work = self.root_dir / "crl" / f"{issuer}-{int(this_update.timestamp())}-{len(revoked or ())}"
        work.mkdir(parents=True, exist_ok=True)
        lines = []
        for label, when in (revoked or {}).items():
            serial = self.serial(label)
            lines.append(f"R\t{(self.now + timedelta(days=3650)):%y%m%d%H%M%SZ}\t{when.astimezone(UTC):%y%m%d%H%M%SZ},keyCompromise\t{serial}\tunknown\t/CN={label}\n")
        (work / "index.txt").write_text("".join(lines))
        (work / "crlnumber").write_text("10\n")
        md = DEFAULT_DIGEST[self.pki.info(issuer)["key_type"]]
        conf = work / "openssl.cnf"
        conf.write_text(_BASE_CONF + _ca_section(work, md), encoding="utf-8")
        pem = work / "crl.pem"
        self.pki.openssl(
            "ca", "-config", str(conf), "-gencrl", "-md", md, "-cert", str(self.pki.cert(issuer)),
            "-keyfile", str(self.pki.key(issuer)), "-crl_lastupdate", _fmt_time(this_update),
            "-crl_nextupdate", _fmt_time(next_update), "-out", str(pem),
        )
        return self.pki.openssl("crl", "-in", str(pem), "-outform", "DER")

    def serial(self, label: str) -> str:
        """Upper-case hexadecimal serial of a certificate of this module."""
        out = self.pki.openssl("x509", "-in", str(self.cert(label)), "-noout", "-serial").decode()
        return out.strip().split("=", 1)[1]

    @staticmethod
    def add_revocation_values(signature: Path, crls: list[bytes]) -> Path:
        """Add CRLs as the CAdES-XL revocationValues unsigned attribute."""
        from asn1crypto import crl as asn1_crl

        from validators.signatures.cms import RevocationValues

        values = RevocationValues({"crl_vals": [asn1_crl.CertificateList.load(c) for c in crls]})
        signature.write_bytes(_add_unsigned_attribute(signature.read_bytes(), "1.2.840.113549.1.9.16.2.24", values.dump()))
        return signature

    @staticmethod
    def signature_value(signature: Path) -> bytes:
        """The SignerInfo signature value: what a signature time-stamp's imprint covers."""
        return bytes(cms.ContentInfo.load(signature.read_bytes())["content"]["signer_infos"][0]["signature"].native)

    @staticmethod
    def add_timestamp(signature: Path, token: bytes, out: Path | None = None) -> Path:
        """Add ``token`` as a signatureTimeStampToken (unsigned attribute): CAdES-T."""
        target = out or signature
        target.write_bytes(_add_unsigned_attribute(signature.read_bytes(), OID_SIGNATURE_TIME_STAMP, token))
        return target


def _der(tag: int, body: bytes) -> bytes:
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    octets = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + body


def _add_unsigned_attribute(signature_der: bytes, oid: str, value_der: bytes) -> bytes:
    """The signature with one more unsigned attribute on its first SignerInfo, written
    from raw DER so nothing already there is re-encoded (asn1crypto cannot re-encode GOST
    keys inside tokens)."""
    info = cms.ContentInfo.load(signature_der)
    signer = info["content"]["signer_infos"][0]
    existing = [a.dump() for a in signer["unsigned_attrs"]] if signer["unsigned_attrs"].contents else []
    attribute = _der(0x30, core.ObjectIdentifier(oid).dump() + _der(0x31, value_der))
    signer["unsigned_attrs"] = cms.CMSAttributes.load(_der(0x31, b"".join([*existing, attribute])))
    return info.dump()


def build_tsa_pki(pki: TestPki, dest: Path) -> TsaPki:
    """Issue the TSA certificates and ``lapsed256`` into ``dest``."""
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    year = timedelta(days=365)
    tsa_dn = (("C", "RU"), ("O", "Тестовый оператор TSP"), ("CN", "Тестовая служба штампов времени"))
    specs = [
        _Spec("tsa256", "gost256", "ca", tsa_dn, "v3_tsa", now - year, now + year),
        _Spec("tsa_rsa", "rsa", "rsa_ca", (("C", "RU"), ("O", "RSA TSA"), ("CN", "RSA TSA")), "v3_tsa", now - year, now + year),
        _Spec("tsa_noncritical", "gost256", "ca", (*tsa_dn[:2], ("CN", "TSA без критичного EKU")), "v3_tsa_noncritical", now - year, now + year),
        _Spec("tsa_revoked", "gost256", "ca", (*tsa_dn[:2], ("CN", "Отозванная TSA")), "v3_tsa", now - year, now + year),
        _Spec("tsa_untrusted", "gost256", "untrusted_root", (*tsa_dn[:2], ("CN", "Недоверенная TSA")), "v3_tsa", now - year, now + year),
        _Spec("lapsed256", "gost256", "ca", HEAD_DN, "v3_qualified", now - timedelta(days=60), now - timedelta(days=10)),
        _Spec("tsa_two_purposes", "gost256", "ca", (*tsa_dn[:2], ("CN", "TSA с двумя назначениями")), "v3_tsa_two_purposes", now - year, now + year),
    ]
    genpkey = {
        "gost256": ("-algorithm", "gost2012_256", "-pkeyopt", "paramset:A"),
        "rsa": ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"),
    }
    for index, spec in enumerate(specs):
        key = dest / f"{spec.label}.key"
        pki.openssl("genpkey", *genpkey[spec.key_type], "-out", str(key))
        work = dest / "work" / spec.label
        work.mkdir(parents=True, exist_ok=True)
        (work / "index.txt").write_text("")
        (work / "serial").write_text(f"{0x7A5A000000000000 + 0x101 * (index + 1):016X}\n")
        issuer_type = pki.info(spec.issuer)["key_type"]
        md = DEFAULT_DIGEST[issuer_type]
        conf = work / "openssl.cnf"
        conf.write_text(_BASE_CONF + _EXTENSIONS + _ca_section(work, md), encoding="utf-8")
        csr = work / "req.pem"
        pki.openssl("req", "-config", str(conf), "-new", "-utf8", "-key", str(key), "-subj", _subj(spec.dn), "-out", str(csr))
        pki.openssl(
            "ca", "-config", str(conf), "-batch", "-notext", "-utf8", "-preserveDN", "-md", md, "-in", str(csr),
            "-startdate", _fmt_time(spec.not_before), "-enddate", _fmt_time(spec.not_after),
            "-extensions", spec.extensions, "-cert", str(pki.cert(spec.issuer)), "-keyfile", str(pki.key(spec.issuer)),
            "-out", str(dest / f"{spec.label}.pem"),
        )
    return TsaPki(pki, dest, now)
