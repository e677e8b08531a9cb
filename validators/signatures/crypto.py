"""Digests and signature values: the algorithm tables and the one verification entry point.

GOST digests come from ``hashlib`` (OpenSSL GOST provider), GOST signatures from the
system libcrypto with the gost engine (:mod:`validators.gost`); RSA (PKCS#1 v1.5 and PSS)
and ECDSA from ``cryptography``. Every signature, whether over signed attributes, a
certificate, a CRL or an OCSP response, is checked through :func:`verify_signature`.
"""

from __future__ import annotations

from collections.abc import Callable

from asn1crypto import algos, core, keys

from validators import gost
from validators.digests import (
    DigestAlgorithm,
    UnsupportedAlgorithm,
    digest_by_oid,
    digest_file,
    digest_stream,
    new_hash,
)

__all__ = [
    "DigestAlgorithm",
    "UnsupportedAlgorithm",
    "digest_by_oid",
    "new_hash",
    "digest_file",
    "digest_stream",
    "signature_digest_oid",
    "signature_algorithm_name",
    "verify_signature",
    "is_gost_key",
    "key_algorithm_oid",
    "public_key_bits",
    "GOST_2001_KEY",
    "GOST_2012_256_KEY",
    "GOST_2012_512_KEY",
]

GOST_2001_KEY = "1.2.643.2.2.19"
GOST_2012_256_KEY = "1.2.643.7.1.1.1.1"
GOST_2012_512_KEY = "1.2.643.7.1.1.1.2"
_GOST_KEYS = {GOST_2001_KEY, GOST_2012_256_KEY, GOST_2012_512_KEY}
_RSA_KEY = "1.2.840.113549.1.1.1"
_RSA_PSS = "1.2.840.113549.1.1.10"
_EC_KEY = "1.2.840.10045.2.1"

# signature algorithm OID -> (key family, implied digest OID or None, name)
_SIGNATURE_ALGORITHMS: dict[str, tuple[str, str | None, str]] = {
    "1.2.643.7.1.1.3.2": (GOST_2012_256_KEY, "1.2.643.7.1.1.2.2", "GOST R 34.10-2012 256 with Streebog-256"),
    "1.2.643.7.1.1.3.3": (GOST_2012_512_KEY, "1.2.643.7.1.1.2.3", "GOST R 34.10-2012 512 with Streebog-512"),
    "1.2.643.2.2.3": (GOST_2001_KEY, "1.2.643.2.2.9", "GOST R 34.10-2001 with GOST R 34.11-94"),
    # CryptoPro CSP writes the key OID as the SignerInfo signature algorithm.
    GOST_2012_256_KEY: (GOST_2012_256_KEY, None, "GOST R 34.10-2012 256"),
    GOST_2012_512_KEY: (GOST_2012_512_KEY, None, "GOST R 34.10-2012 512"),
    GOST_2001_KEY: (GOST_2001_KEY, None, "GOST R 34.10-2001"),
    _RSA_KEY: (_RSA_KEY, None, "RSA PKCS#1 v1.5"),
    "1.2.840.113549.1.1.11": (_RSA_KEY, "2.16.840.1.101.3.4.2.1", "RSA PKCS#1 v1.5 with SHA-256"),
    "1.2.840.113549.1.1.12": (_RSA_KEY, "2.16.840.1.101.3.4.2.2", "RSA PKCS#1 v1.5 with SHA-384"),
    "1.2.840.113549.1.1.13": (_RSA_KEY, "2.16.840.1.101.3.4.2.3", "RSA PKCS#1 v1.5 with SHA-512"),
    "1.2.840.113549.1.1.14": (_RSA_KEY, "2.16.840.1.101.3.4.2.4", "RSA PKCS#1 v1.5 with SHA-224"),
    "1.2.840.113549.1.1.5": (_RSA_KEY, "1.3.14.3.2.26", "RSA PKCS#1 v1.5 with SHA-1"),
    "1.2.840.113549.1.1.4": (_RSA_KEY, "1.2.840.113549.2.5", "RSA PKCS#1 v1.5 with MD5"),
    _RSA_PSS: (_RSA_KEY, None, "RSASSA-PSS"),
    "1.2.840.10045.4.3.2": (_EC_KEY, "2.16.840.1.101.3.4.2.1", "ECDSA with SHA-256"),
    "1.2.840.10045.4.3.3": (_EC_KEY, "2.16.840.1.101.3.4.2.2", "ECDSA with SHA-384"),
    "1.2.840.10045.4.3.4": (_EC_KEY, "2.16.840.1.101.3.4.2.3", "ECDSA with SHA-512"),
    "1.2.840.10045.4.1": (_EC_KEY, "1.3.14.3.2.26", "ECDSA with SHA-1"),
    _EC_KEY: (_EC_KEY, None, "ECDSA"),
}

# GOST R 34.10-2012 keys are used with the Streebog of their own size (GOST R 34.10-2012, 6.1).
_GOST_KEY_DIGEST = {
    GOST_2012_256_KEY: "1.2.643.7.1.1.2.2",
    GOST_2012_512_KEY: "1.2.643.7.1.1.2.3",
    GOST_2001_KEY: "1.2.643.2.2.9",
}


def signature_digest_oid(signature_oid: str, key_oid: str, declared_digest_oid: str | None) -> str:
    """The digest a signature is computed with.

    The signature algorithm may imply its digest (``1.2.643.7.1.1.3.2``); CryptoPro writes
    the bare key OID and the digest comes from the SignerInfo. For GOST the digest must
    also match the key size; a mismatch is an error, not a guess.
    """
    family, implied, _ = _family(signature_oid)
    digest_oid = implied or declared_digest_oid
    if digest_oid is None:
        raise UnsupportedAlgorithm(f"no digest algorithm for signature algorithm {signature_oid}")
    if implied and declared_digest_oid and declared_digest_oid != implied:
        raise UnsupportedAlgorithm(
            f"signature algorithm {signature_oid} implies digest {implied}, "
            f"but {declared_digest_oid} is declared"
        )
    if family in _GOST_KEYS and key_oid in _GOST_KEYS and _GOST_KEY_DIGEST[key_oid] != digest_oid:
        raise UnsupportedAlgorithm(
            f"a {key_oid} key is not used with digest {digest_oid} (GOST R 34.10-2012 pairs "
            "256-bit keys with Streebog-256 and 512-bit keys with Streebog-512)"
        )
    return digest_oid


def signature_algorithm_name(signature_oid: str) -> str:
    """Human name of a signature algorithm OID (the OID itself when unknown)."""
    entry = _SIGNATURE_ALGORITHMS.get(signature_oid)
    return entry[2] if entry else signature_oid


class _AlgorithmIdentifier(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _SubjectPublicKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """SubjectPublicKeyInfo read generically: asn1crypto has no spec for GOST keys."""

    _fields = [("algorithm", _AlgorithmIdentifier), ("public_key", core.BitString)]


def key_algorithm_oid(public_key: keys.PublicKeyInfo) -> str:
    """The key algorithm OID of a SubjectPublicKeyInfo (works for GOST keys too)."""
    return str(_SubjectPublicKeyInfo.load(public_key.dump())["algorithm"]["algorithm"].dotted)


def public_key_bits(public_key: keys.PublicKeyInfo) -> bytes:
    """The subjectPublicKey BIT STRING contents without the unused-bits octet."""
    return bytes(_SubjectPublicKeyInfo.load(public_key.dump())["public_key"].contents[1:])


def is_gost_key(public_key: keys.PublicKeyInfo) -> bool:
    return key_algorithm_oid(public_key) in _GOST_KEYS


def _family(signature_oid: str) -> tuple[str, str | None, str]:
    try:
        return _SIGNATURE_ALGORITHMS[signature_oid]
    except KeyError:
        raise UnsupportedAlgorithm(f"unsupported signature algorithm {signature_oid}") from None


def verify_signature(
    public_key: keys.PublicKeyInfo,
    signature_algorithm: algos.SignedDigestAlgorithm,
    digest_oid: str,
    digest: bytes,
    signature: bytes,
) -> bool:
    """Verify ``signature`` over data whose ``digest`` (with ``digest_oid``) is given.

    The key family must agree with the signature algorithm (a GOST signature is never
    checked with an RSA key, and the reverse). Returns False for a wrong signature;
    raises :class:`UnsupportedAlgorithm` for algorithms it does not know and
    :class:`validators.gost.GostUnavailable` when GOST support is missing.
    """
    signature_oid = signature_algorithm["algorithm"].dotted
    family, _, _ = _family(signature_oid)
    key_oid = key_algorithm_oid(public_key)
    if key_oid in _GOST_KEYS:
        if family not in _GOST_KEYS or family != key_oid:
            return False
        return gost.verify_gost_signature(public_key.dump(), digest, signature)
    if key_oid != family:
        return False
    return _verify_with_cryptography(public_key, signature_algorithm, digest_oid, digest, signature)


def _verify_with_cryptography(
    public_key: keys.PublicKeyInfo,
    signature_algorithm: algos.SignedDigestAlgorithm,
    digest_oid: str,
    digest: bytes,
    signature: bytes,
) -> bool:
    # Imported here: `gateway verify` on a GOST file never pays for loading cryptography.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

    hash_classes: dict[str, Callable[[], hashes.HashAlgorithm]] = {
        "sha1": hashes.SHA1,
        "sha224": hashes.SHA224,
        "sha256": hashes.SHA256,
        "sha384": hashes.SHA384,
        "sha512": hashes.SHA512,
        "md5": hashes.MD5,
    }
    name = digest_by_oid(digest_oid).hashlib_name
    if name not in hash_classes:
        raise UnsupportedAlgorithm(f"digest {digest_oid} cannot be used with RSA/ECDSA here")
    algorithm = utils.Prehashed(hash_classes[name]())
    try:
        key = serialization.load_der_public_key(public_key.dump())
    except (ValueError, TypeError) as exc:
        raise UnsupportedAlgorithm(f"unusable public key: {exc}") from None
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if signature_algorithm["algorithm"].dotted == _RSA_PSS:
                params = signature_algorithm["parameters"]
                mgf_hash = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
                if params["hash_algorithm"]["algorithm"].native != name or mgf_hash != name:
                    raise UnsupportedAlgorithm("RSASSA-PSS with mixed hash algorithms")
                pss = padding.PSS(
                    mgf=padding.MGF1(hash_classes[name]()), salt_length=params["salt_length"].native
                )
                key.verify(signature, digest, pss, algorithm)
            else:
                key.verify(signature, digest, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(algorithm))
        else:
            raise UnsupportedAlgorithm(f"unsupported key type {type(key).__name__}")
    except InvalidSignature:
        return False
    return True
