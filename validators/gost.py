"""The only glue to the system libcrypto: GOST support through Debian's engine and provider.

OpenSSL 3 with ``libengine-gost-openssl`` gives two things, switched on in the very
libcrypto that Python's ``hashlib`` is linked against, each when first needed:

* the ``gostprov`` provider, so ``hashlib.new("md_gost12_256")`` (Streebog) works at
  native speed (:func:`digest_support`, at the first GOST digest);
* the ``gost`` engine, whose EVP_PKEY methods parse GOST public keys and verify
  GOST R 34.10-2001/2012 signatures (the byte order of CMS signatures, ``s || r`` with
  a little-endian digest, is the engine's business, exactly as in ``openssl cms``)
  (:func:`signature_support`, at the first GOST signature). The engine is registered for
  the key methods only, not as OpenSSL's default for every algorithm it has.

Each part passes a known-answer test before it is used; :func:`gost_support` switches both
on (the service does so at start). Nothing here is pure-Python cryptography. If the engine
or provider is missing, the support objects say so in one line and
:func:`verify_gost_signature` refuses to answer (raises :class:`GostUnavailable`), so no
caller can claim a GOST signature valid.
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
    "configure",
    "digest_support",
    "signature_support",
    "tried",
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

#: Application sections of the configuration file loaded for each part. A file without
#: them (an operator's own) is applied whole (its ``openssl_conf``) for either part.
DIGESTS_SECTION = b"gateway_gost_digests"
SIGNATURES_SECTION = b"gateway_gost_signatures"
_CONF_MFLAGS_DEFAULT_SECTION = 0x20

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
#: Streebog-256 of ``_KAT_CONTENT`` (``openssl dgst -md_gost12_256``): the digests' own
#: known answer, and the digest the signature's known-answer test verifies.
_KAT_DIGEST = bytes.fromhex("43ffefd745005e69c9aadcfe62d70af67b9dde7bdf425fc889f25a1482abf485")
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
    """Outcome of switching GOST support (or one part of it) on."""

    available: bool
    """True when the part (for :func:`gost_support`: Streebog digests and GOST signature
    verification both) works."""
    problem: str | None = None
    """One line saying what is missing when ``available`` is false."""
    config: str | None = None
    """The OpenSSL configuration file that was applied."""


_lock = threading.Lock()
"""Serialises the loading of the parts (OpenSSL configuration is process-wide)."""
_conf: Path | None = None
_digests: GostSupport | None = None
_signatures: GostSupport | None = None
_libcrypto: ctypes.CDLL | None = None
"""The libcrypto whose engine passed its known-answer test (None until then)."""
_loaded_lib: ctypes.CDLL | None = None


def configure(config: str | os.PathLike[str] | None = None) -> Path:
    """Choose the OpenSSL GOST configuration file of this process without loading anything.

    In order: ``config``, the ``GATEWAY_OPENSSL_GOST_CONF`` environment variable, the
    project's ``certs/openssl-gost.cnf``. The first choice stays (as for an engine that is
    already loaded); later calls return it.
    """
    global _conf
    with _lock:
        if _conf is None:
            _conf = Path(config or os.environ.get(OPENSSL_CONF_ENV) or DEFAULT_OPENSSL_CONF)
        return _conf


def gost_support(config: str | os.PathLike[str] | None = None) -> GostSupport:
    """Switch both parts of GOST support on in this process (once each) and report whether
    they work: Streebog digests and GOST signature verification, each after its
    known-answer test (the signature's positive and negative). The service calls it at
    start; the command line lets each part load when first used.
    """
    conf = configure(config)
    digests = digest_support()
    signatures = signature_support()
    if not digests.available:
        return digests
    if not signatures.available:
        return signatures
    return GostSupport(True, None, str(conf))


def tried() -> list[GostSupport]:
    """The parts this process has tried to switch on so far (digests, signatures)."""
    with _lock:
        return [part for part in (_digests, _signatures) if part is not None]


def digest_support() -> GostSupport:
    """The GOST provider (Streebog, GOST R 34.11-94 for ``hashlib``), switched on once;
    its known answer (Streebog-256 of the TC26 text) must come out."""
    global _digests
    conf = configure()
    with _lock:
        if _digests is None:
            _digests = _switch_on_digests(conf)
        return _digests


def signature_support() -> GostSupport:
    """The GOST engine's key methods, switched on once; the known-answer test (a real TC26
    signature verifies, the same with one bit flipped does not) must pass."""
    global _signatures
    conf = configure()
    with _lock:
        if _signatures is None:
            _signatures = _switch_on_signatures(conf)
        return _signatures


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


def _apply(conf: Path, section: bytes, what: str) -> ctypes.CDLL | GostSupport:
    """Load libcrypto (once) and apply one application section of ``conf`` to it; the
    library, or the reason it cannot be used. Called with ``_lock`` held."""
    global _loaded_lib
    if not conf.is_file():
        return GostSupport(False, f"GOST support unavailable: OpenSSL config {conf} not found", None)
    if _loaded_lib is None:
        try:
            _loaded_lib = _load_libcrypto()
        except OSError as exc:
            return GostSupport(False, f"GOST support unavailable: cannot load libcrypto ({exc})", None)
    lib = _loaded_lib
    if lib.OpenSSL_version_num() < 0x30000000:
        return GostSupport(False, "GOST support unavailable: OpenSSL 3 is required", str(conf))
    if lib.CONF_modules_load_file(os.fsencode(conf), section, _CONF_MFLAGS_DEFAULT_SECTION) != 1:
        reason = _drain_errors(lib)
        return GostSupport(
            False,
            f"GOST support unavailable: OpenSSL could not load the gost {what} "
            f"(install libengine-gost-openssl): {reason}",
            str(conf),
        )
    _drain_errors(lib)
    return lib


def _switch_on_digests(conf: Path) -> GostSupport:
    lib = _apply(conf, DIGESTS_SECTION, "provider")
    if isinstance(lib, GostSupport):
        return lib
    try:
        digest = hashlib.new("md_gost12_256", _KAT_CONTENT).digest()
    except ValueError:
        return GostSupport(
            False,
            "GOST support unavailable: Streebog (md_gost12_256) is not provided; "
            "install libengine-gost-openssl (gostprov)",
            str(conf),
        )
    if digest != _KAT_DIGEST:
        return GostSupport(False, "GOST support unavailable: Streebog-256 of the TC26 control text is wrong", str(conf))
    return GostSupport(True, None, str(conf))


def _switch_on_signatures(conf: Path) -> GostSupport:
    global _libcrypto
    lib = _apply(conf, SIGNATURES_SECTION, "engine")
    if isinstance(lib, GostSupport):
        return lib
    _key_methods_only(lib)
    problem_text = known_answer_problem(lambda d, sig: _verify(lib, _KAT_SPKI, d, sig), _KAT_DIGEST)
    if problem_text is not None:
        return GostSupport(False, f"GOST support unavailable: the gost engine failed its known-answer test: {problem_text}", str(conf))
    _libcrypto = lib
    return GostSupport(True, None, str(conf))


def _key_methods_only(lib: ctypes.CDLL) -> None:
    """Withdraw the gost engine from OpenSSL's digest and cipher tables.

    The engine registers all it has when it binds, whatever ``default_algorithms`` says;
    registered for Streebog, it would take over even the digests ``hashlib`` fetches from
    the provider (OpenSSL 3 prefers an engine registered for a digest's NID). The gateway
    needs its key methods only (parsing GOST keys, verifying signatures): digests come
    from the provider, and no GOST cipher is used.
    """
    lib.ENGINE_by_id.argtypes = [ctypes.c_char_p]
    lib.ENGINE_by_id.restype = ctypes.c_void_p
    for name in ("ENGINE_unregister_ciphers", "ENGINE_unregister_digests", "ENGINE_free"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    engine = lib.ENGINE_by_id(b"gost")
    if engine:
        lib.ENGINE_unregister_ciphers(engine)
        lib.ENGINE_unregister_digests(engine)
        lib.ENGINE_free(engine)
    _drain_errors(lib)


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
        GostUnavailable: GOST signature verification cannot be switched on in this process.
        GostEngineError: the engine could not decide (a key it cannot use, a digest of a
            length GOST does not have, an engine error): no verdict either way.
    """
    support = signature_support()
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
