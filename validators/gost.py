"""The only glue to the system libcrypto: GOST support through Debian's engine and provider.

OpenSSL 3 with ``libengine-gost-openssl`` gives two things this module switches on at
start-up, in the very libcrypto that Python's ``hashlib`` is linked against:

* the ``gostprov`` provider, so ``hashlib.new("md_gost12_256")`` (Streebog) works at
  native speed;
* the ``gost`` engine, whose EVP_PKEY methods parse GOST public keys and verify
  GOST R 34.10-2001/2012 signatures (the byte order of CMS signatures, ``s || r`` with
  a little-endian digest, is the engine's business, exactly as in ``openssl cms``).

Nothing here is pure-Python cryptography. If the engine or provider is missing,
:func:`gost_support` says so in one line and :func:`verify_gost_signature` refuses to
answer (raises :class:`GostUnavailable`), so no caller can claim a GOST signature valid.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "GostSupport",
    "GostUnavailable",
    "GostEngineError",
    "known_answer_problem",
    "gost_support",
    "verify_gost_signature",
    "DEFAULT_OPENSSL_CONF",
]

#: The OpenSSL configuration shipped with the project (certs/openssl-gost.cnf).
DEFAULT_OPENSSL_CONF = Path(__file__).resolve().parent.parent / "certs" / "openssl-gost.cnf"

#: Environment variable that points the gateway at another OpenSSL GOST configuration.
OPENSSL_CONF_ENV = "GATEWAY_OPENSSL_GOST_CONF"

# Known-answer test: TC26 CMS control example "signed_a121" (gost-engine tcl_tests,
# Apache-2.0): a GOST R 34.10-2012 256-bit signature with no signed attributes over
# the CP1251 text "Контрольный пример для структуры SignedData.".
_KAT_SPKI = bytes.fromhex(
    "3068302106082a85030701010101301506092a850307010201010106082a8503070101020203"
    "4300044096290d1362596a8381a6637b41262cb3a5750df9a395f566e64d48a7aab9841cfeca"
    "08dce8033160fb4e12490a4d3521e94279be8cb01986e25a25fa99e956d3"
)
_KAT_CONTENT = bytes.fromhex(
    "caeeedf2f0eeebfcedfbe920eff0e8ece5f020e4ebff20f1f2f0f3eaf2f3f0fb205369676e65"
    "64446174612e"
)
_KAT_SIGNATURE = bytes.fromhex(
    "2ea364f039f6cccbf45880d300bbd44044e366a9ea02b19254fcd3472ed85bdb2eef7bd86258"
    "35223bf9479a9d5537ece556c9e9c45e2d84e47914f789017bc4"
)


class GostUnavailable(RuntimeError):
    """GOST cryptography is not available in this process; no GOST verdict can be given."""


class GostEngineError(RuntimeError):
    """The engine could not decide (it returned an error, not "invalid"): no verdict on
    this signature, which is not a forgery either (INDETERMINATE, not SIG_CRYPTO_FAILURE)."""


#: GOST R 34.10 signature length by digest length: (r, s) of the key's size. The engine
#: ignores bytes after them (a signature with a byte appended still "verifies"), and aborts
#: the whole process on a digest of another length: both are refused before the engine.
_SIGNATURE_LENGTH = {32: 64, 64: 128}


@dataclass(frozen=True, slots=True)
class GostSupport:
    """Outcome of switching GOST support on."""

    available: bool
    """True when Streebog digests and GOST signature verification both work."""
    problem: str | None = None
    """One line saying what is missing when ``available`` is false."""
    config: str | None = None
    """The OpenSSL configuration file that was applied."""


_lock = threading.Lock()
_support: GostSupport | None = None
_libcrypto: ctypes.CDLL | None = None


def _hashlib_libcrypto_path() -> str | None:
    """Path of the libcrypto that ``_hashlib`` is linked against (from /proc/self/maps)."""
    import _hashlib  # noqa: F401  (make sure it is mapped)

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rstrip("\n").split(maxsplit=5)[-1]
                if "/libcrypto.so" in path:
                    return path
    except OSError:
        return None
    return None


def _load_libcrypto() -> ctypes.CDLL:
    path = _hashlib_libcrypto_path() or "libcrypto.so.3"
    lib = ctypes.CDLL(path)
    lib.OpenSSL_version_num.restype = ctypes.c_ulong
    lib.CONF_modules_load_file.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong]
    lib.CONF_modules_load_file.restype = ctypes.c_int
    lib.d2i_PUBKEY.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long]
    lib.d2i_PUBKEY.restype = ctypes.c_void_p
    lib.EVP_PKEY_free.argtypes = [ctypes.c_void_p]
    lib.EVP_PKEY_CTX_new.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.EVP_PKEY_CTX_new.restype = ctypes.c_void_p
    lib.EVP_PKEY_CTX_free.argtypes = [ctypes.c_void_p]
    lib.EVP_PKEY_verify_init.argtypes = [ctypes.c_void_p]
    lib.EVP_PKEY_verify_init.restype = ctypes.c_int
    lib.EVP_PKEY_verify.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    lib.EVP_PKEY_verify.restype = ctypes.c_int
    lib.ERR_get_error.restype = ctypes.c_ulong
    lib.ERR_error_string_n.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_size_t]
    lib.ERR_clear_error.restype = None
    return lib


def _drain_errors(lib: ctypes.CDLL) -> str:
    """Empty OpenSSL's error queue (so hashlib never sees our errors); return the first."""
    first = ""
    while code := lib.ERR_get_error():
        if not first:
            buf = ctypes.create_string_buffer(256)
            lib.ERR_error_string_n(code, buf, len(buf))
            first = buf.value.decode("ascii", "replace")
    return first


def gost_support(config: str | os.PathLike[str] | None = None) -> GostSupport:
    """Switch GOST support on in this process (once) and report whether it works.

    The configuration file is, in order: ``config``, the ``GATEWAY_OPENSSL_GOST_CONF``
    environment variable, the project's ``certs/openssl-gost.cnf``. A known-answer
    test (a real TC26 signature) must pass before GOST is declared available.
    """
    global _support
    with _lock:
        if _support is not None:
            return _support
        conf = Path(config or os.environ.get(OPENSSL_CONF_ENV) or DEFAULT_OPENSSL_CONF)
        _support = _switch_on(conf)
        return _support


def _switch_on(conf: Path) -> GostSupport:
    global _libcrypto
    if not conf.is_file():
        return GostSupport(False, f"GOST support unavailable: OpenSSL config {conf} not found", None)
    try:
        lib = _load_libcrypto()
    except OSError as exc:
        return GostSupport(False, f"GOST support unavailable: cannot load libcrypto ({exc})", None)
    if lib.OpenSSL_version_num() < 0x30000000:
        return GostSupport(False, "GOST support unavailable: OpenSSL 3 is required", str(conf))
    if lib.CONF_modules_load_file(os.fsencode(conf), None, 0) != 1:
        reason = _drain_errors(lib)
        return GostSupport(
            False,
            "GOST support unavailable: OpenSSL could not load the gost engine/provider "
            f"(install libengine-gost-openssl): {reason}",
            str(conf),
        )
    _drain_errors(lib)
    _libcrypto = lib
    try:
        digest = hashlib.new("md_gost12_256", _KAT_CONTENT).digest()
    except ValueError:
        _libcrypto = None
        return GostSupport(
            False,
            "GOST support unavailable: Streebog (md_gost12_256) is not provided; "
            "install libengine-gost-openssl (gostprov)",
            str(conf),
        )
    problem = known_answer_problem(lambda d, sig: _verify(lib, _KAT_SPKI, d, sig), digest)
    if problem is not None:
        _libcrypto = None
        return GostSupport(False, f"GOST support unavailable: the gost engine failed its known-answer test: {problem}", str(conf))
    return GostSupport(True, None, str(conf))


def known_answer_problem(verify: Callable[[bytes, bytes], bool | None], digest: bytes) -> str | None:
    """Run the known-answer test with ``verify(digest, signature)``: the TC26 signature
    must verify, and the same signature with one bit flipped must NOT (an engine that
    says "valid" to everything would otherwise pass). None when both hold."""
    if verify(digest, _KAT_SIGNATURE) is not True:
        return "the TC26 control signature does not verify"
    flipped = bytes([_KAT_SIGNATURE[0] ^ 0x01]) + _KAT_SIGNATURE[1:]
    if verify(digest, flipped) is not False:
        return "a signature with one bit flipped is not rejected"
    return None


def _verify(lib: ctypes.CDLL, spki_der: bytes, digest: bytes, signature: bytes) -> bool | None:
    """True/False for a verdict; None when the engine cannot decide (unusable key,
    context error, EVP_PKEY_verify < 0)."""
    if _SIGNATURE_LENGTH.get(len(digest)) is None:
        return None
    buf = ctypes.c_char_p(spki_der)
    pkey = lib.d2i_PUBKEY(None, ctypes.byref(buf), len(spki_der))
    if not pkey:
        _drain_errors(lib)
        return None
    ctx = lib.EVP_PKEY_CTX_new(pkey, None)
    try:
        if not ctx or lib.EVP_PKEY_verify_init(ctx) != 1:
            _drain_errors(lib)
            return None
        if len(signature) != _SIGNATURE_LENGTH[len(digest)]:
            return False
        result = lib.EVP_PKEY_verify(ctx, signature, len(signature), digest, len(digest))
        _drain_errors(lib)
        if result < 0:
            return None
        return bool(result == 1)
    finally:
        if ctx:
            lib.EVP_PKEY_CTX_free(ctx)
        lib.EVP_PKEY_free(pkey)


def verify_gost_signature(spki_der: bytes, digest: bytes, signature: bytes) -> bool:
    """Verify a GOST R 34.10-2001/2012 signature over an already computed digest.

    ``spki_der`` is the signer's SubjectPublicKeyInfo (DER), ``digest`` the Streebog
    (or GOST R 34.11-94) digest of the signed bytes, ``signature`` the value exactly as
    it stands in a CMS SignerInfo or an X.509 signature BIT STRING. Returns False for a
    signature that does not verify (including one of the wrong length).

    Raises:
        GostUnavailable: GOST support is not switched on in this process.
        GostEngineError: the engine could not decide (a key it cannot use, a digest of a
            length GOST does not have, an engine error): no verdict either way.
    """
    support = gost_support()
    lib = _libcrypto
    if not support.available or lib is None:
        raise GostUnavailable(support.problem or "GOST support unavailable")
    result = _verify(lib, spki_der, digest, signature)  # OpenSSL's error queue is per thread
    if result is None:
        raise GostEngineError(
            f"the gost engine could not verify (key of {len(spki_der)} bytes, digest of {len(digest)} bytes): "
            "engine error, no verdict"
        )
    return result
