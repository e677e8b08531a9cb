"""GOST support loads each part when first needed (issue 13 §1): the provider at the first
Streebog digest, the engine at the first GOST signature, and the engine serves its key
methods only — not OpenSSL's digests or ciphers. Each part keeps its known-answer test;
the service switches both on at start (``gost_support``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.pki.builder import TestPki
from validators import gost

# Prints which OpenSSL tables name an engine for a GOST digest, cipher and key (run in a
# fresh interpreter after the lines before it).
_ENGINE_TABLES = """
import ctypes
from validators import gost
lib = ctypes.CDLL(gost._hashlib_libcrypto_path())
lib.OBJ_txt2nid.argtypes = [ctypes.c_char_p]
def engine(table, oid):
    get = getattr(lib, f"ENGINE_get_{table}_engine")
    get.restype = ctypes.c_void_p
    found = get(lib.OBJ_txt2nid(oid))
    if found:
        lib.ENGINE_finish.argtypes = [ctypes.c_void_p]
        lib.ENGINE_finish(found)
    return bool(found)
print(json.dumps({
    "digests": gost._digests is not None, "signatures": gost._signatures is not None,
    "streebog_digest_engine": engine("digest", b"1.2.643.7.1.1.2.2"),
    "gost89_cipher_engine": engine("cipher", b"1.2.643.2.2.21"),
    "gost_key_engine": engine("pkey_meth", b"1.2.643.7.1.1.1.1"),
}))
"""


def _run(script: str, env: dict[str, str] | None = None) -> dict[str, bool]:
    run = subprocess.run(
        [sys.executable, "-c", "import json\n" + script + _ENGINE_TABLES],
        cwd=REPO, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, bool] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def test_importing_loads_neither_part() -> None:
    state = _run("import validators.digests, validators.signatures.locate, gateway.cli\n")
    assert state == {"digests": False, "signatures": False, "streebog_digest_engine": False, "gost89_cipher_engine": False, "gost_key_engine": False}


def test_a_streebog_digest_loads_the_provider_and_not_the_engine() -> None:
    script = (
        "from validators.digests import STREEBOG_256, digest_by_oid, new_hash\n"
        "assert new_hash(digest_by_oid(STREEBOG_256)).name\n"
    )
    state = _run(script)
    assert state["digests"] and not state["signatures"]
    assert not state["gost_key_engine"]


def test_the_engine_serves_key_methods_only() -> None:
    state = _run("from validators import gost\nassert gost.gost_support().available\n")
    assert state["digests"] and state["signatures"]
    assert state["gost_key_engine"]
    assert not state["streebog_digest_engine"] and not state["gost89_cipher_engine"]


def test_an_operators_configuration_without_the_gateway_sections_still_works(tmp_path: Path) -> None:
    """A file of their own (only ``openssl_conf``, engine as default for ALL) is applied
    whole for either part; the engine is still withdrawn from digests and ciphers."""
    conf = tmp_path / "own-gost.cnf"
    conf.write_text(
        "openssl_conf = init\n[init]\nengines = engines\nproviders = providers\n"
        "[engines]\ngost = gost\n[gost]\nengine_id = gost\ndefault_algorithms = ALL\n"
        "[providers]\ndefault = on\ngostprov = on\n[on]\nactivate = 1\n",
        encoding="utf-8",
    )
    state = _run("from validators import gost\nassert gost.gost_support().available, gost.gost_support()\n", {gost.OPENSSL_CONF_ENV: str(conf)})
    assert state["gost_key_engine"] and not state["streebog_digest_engine"] and not state["gost89_cipher_engine"]


def test_verdict_on_an_rsa_signature_does_not_load_the_gost_engine(pki: TestPki, tmp_path: Path) -> None:
    document = tmp_path / "letter.txt"
    document.write_bytes(b"RSA-signed letter\n" * 10)
    pki.sign("rsa_signer", document, tmp_path / "letter.txt.sig")
    script = (
        "import contextlib, io\nfrom gateway.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    main(['verify', {str(document)!r}, '--trust', {str(pki.trust_dir)!r}, '--offline', '--json'])\n"
        "assert json.loads(out.getvalue())['signatures'][0]['indication'] == 'TOTAL_PASSED'\n"
    )
    state = _run(script)
    assert state["digests"]  # the document's Streebog digest is part of the report
    assert not state["signatures"] and not state["gost_key_engine"]


def test_verdict_on_a_gost_signature_loads_the_engine_for_keys(pki: TestPki, tmp_path: Path) -> None:
    document = tmp_path / "letter.txt"
    document.write_bytes(b"GOST-signed letter\n" * 10)
    pki.sign("head256", document, tmp_path / "letter.txt.sig")
    script = (
        "import contextlib, io\nfrom gateway.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    assert main(['verify', {str(document)!r}, '--trust', {str(pki.trust_dir)!r}, '--offline', '--json']) == 0\n"
    )
    state = _run(script)
    assert state["signatures"] and state["gost_key_engine"] and not state["streebog_digest_engine"]


def test_a_provider_giving_a_wrong_streebog_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gost, "_KAT_DIGEST", bytes(32))
    support = gost._switch_on_digests(gost.configure())
    assert not support.available and support.problem is not None and "Streebog" in support.problem


def test_an_engine_failing_its_known_answer_test_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The start-up test of the engine: the TC26 signature over a wrong digest must not verify."""
    monkeypatch.setattr(gost, "_KAT_DIGEST", bytes(32))
    support = gost._switch_on_signatures(gost.configure())
    assert not support.available and support.problem is not None and "known-answer" in support.problem


def test_the_service_switches_both_parts_on_with_their_known_answer_tests() -> None:
    assert gost.gost_support().available
    assert [part.available for part in gost.tried()] == [True, True]

