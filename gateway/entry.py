"""The ``gateway`` console command's entry point, kept light on purpose.

``gateway verify`` on a large file is dominated by one pass over it, Streebog-256 and
SHA-256 together (the report gives both). This module starts that pass on the other core
before the rest of the gateway (configuration classes, ASN.1 machinery) is imported, using
the same OpenSSL GOST configuration the full configuration will name; ``gateway.cli``
picks the running digests up.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["run", "early_digests"]

_REPO_ROOT = Path(__file__).resolve().parent.parent
_early: tuple[Path, Any] | None = None


def _config_path(argv: list[str]) -> Path | None:
    for index, arg in enumerate(argv):
        if arg == "--config" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1])
    default = _REPO_ROOT / "config.toml"
    return default if default.is_file() else None


def _gost_conf(config: Path | None) -> Path:
    """``[verification] openssl_gost_conf`` as gateway.config resolves it."""
    default = _REPO_ROOT / "certs" / "openssl-gost.cnf"
    if config is None:
        return default
    with open(config, "rb") as stream:
        value = tomllib.load(stream).get("verification", {}).get("openssl_gost_conf")
    if not isinstance(value, str):
        return default
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else (config.resolve().parent / path).resolve()


def _start_early_digest(argv: list[str]) -> None:
    global _early
    if "verify" not in argv:
        return
    document = _document_of(argv[argv.index("verify") + 1 :])
    if document is None or not Path(document).is_file():
        return
    try:
        conf = _gost_conf(_config_path(argv))
    except (OSError, tomllib.TOMLDecodeError):
        return  # gateway.cli reports configuration problems properly
    from validators import gost
    from validators.digests import REPORTED, FileDigests

    gost.configure(conf)
    if gost.digest_support().available:  # the provider only: the engine loads when a signature needs it
        digests = FileDigests(Path(document))
        digests.prefetch(REPORTED)
        _early = (Path(document).resolve(), digests)


#: Options of ``gateway verify`` followed by a value (the document is the one positional).
_VERIFY_VALUES = frozenset({"--signature", "--trust", "--at", "--revocation", "--config"})


def _document_of(rest: list[str]) -> str | None:
    """The DOCUMENT of ``gateway verify`` arguments (options and their values skipped)."""
    words = iter(rest)
    for word in words:
        if word in _VERIFY_VALUES:
            next(words, None)
        elif word == "--":
            return next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def early_digests(document: Path) -> Any | None:
    """The digests already started for ``document``, if this process started them."""
    if _early is not None and _early[0] == document.resolve():
        return _early[1]
    return None


def run() -> None:
    """Console script: start the document digest early, then run the command line."""
    _start_early_digest(sys.argv[1:])
    from gateway.cli import run as cli_run

    cli_run()
