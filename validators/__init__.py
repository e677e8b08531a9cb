"""Pure checks of files, archives, PDFs and signatures (see the README's architecture)."""

from __future__ import annotations

__all__ = ["init"]


def init() -> None:
    """The process-wide set-up the validators rely on, made by the application that uses
    them (the ``gateway`` command, the service's app factory, the test suite), never as a
    side effect of an import. Idempotent and cheap; safe to call from several places.

    Today: asn1crypto's certificate spec (:func:`validators.signatures.certificates.init_asn1`).
    GOST support is switched on separately, with the configured OpenSSL file
    (:func:`validators.gost.gost_support`), and its parts load when first used.
    """
    from validators.signatures.certificates import init_asn1

    init_asn1()
