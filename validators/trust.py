"""The trust store (SPEC section 4): ``roots/``, ``ca/``, ``crl/`` and an optional ``tsl.xml``.

Also ``tsl-ca/`` (CA certificates imported from the accredited-CA list, for path building
only) and ``accredited/`` (CA certificates treated as accredited whatever the list says:
CAs qualified by law without the Ministry's accreditation, such as the Bank of Russia CA).

Loaded once into an immutable :class:`TrustStore`; unreadable files are listed in
``problems`` rather than silently ignored, so an operator sees a broken store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from asn1crypto import crl, x509

from validators.signatures.certificates import fingerprint, format_name, load_certificates, load_crls, name_key

if TYPE_CHECKING:
    from validators.tsl import AccreditedCaList

__all__ = ["TrustStore", "load_trust_store", "TSL_CA_FOLDER", "ACCREDITED_EXTRA"]

#: CA certificates taken from the accredited-CA list (never anchors).
TSL_CA_FOLDER = "tsl-ca"
#: CA certificates the operator declared accredited by law (``gateway trust add --accredited``).
ACCREDITED_EXTRA = "accredited"

T = TypeVar("T")


@dataclass(frozen=True)
class TrustStore:
    """Trust anchors, further CA certificates, CRLs and the accredited-CA list."""

    roots: tuple[x509.Certificate, ...] = ()
    intermediates: tuple[x509.Certificate, ...] = ()
    crls: tuple[crl.CertificateList, ...] = ()
    tsl: AccreditedCaList | None = None
    problems: tuple[str, ...] = ()
    """Files that could not be read (shown by ``gateway trust`` and at start-up)."""
    source: str | None = None
    _root_fingerprints: frozenset[str] = field(default=frozenset(), repr=False)
    _by_subject: dict[str, tuple[x509.Certificate, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_subject: dict[str, list[x509.Certificate]] = defaultdict(list)
        seen: set[str] = set()
        for cert in (*self.roots, *self.intermediates):
            fp = fingerprint(cert)
            if fp not in seen:
                seen.add(fp)
                by_subject[name_key(cert.subject)].append(cert)
        object.__setattr__(self, "_by_subject", {k: tuple(v) for k, v in by_subject.items()})
        object.__setattr__(self, "_root_fingerprints", frozenset(fingerprint(c) for c in self.roots))

    def is_anchor(self, cert: x509.Certificate) -> bool:
        """True for a certificate placed in ``roots/``."""
        return fingerprint(cert) in self._root_fingerprints

    def certificates_with_subject(self, name: x509.Name) -> tuple[x509.Certificate, ...]:
        return self._by_subject.get(name_key(name), ())

    def find_by_issuer_serial(self, issuer: x509.Name, serial: int) -> x509.Certificate | None:
        """A certificate of the store by issuer and serial (for CMS without certificates)."""
        for cert in (*self.roots, *self.intermediates):
            if cert.serial_number == serial and name_key(cert.issuer) == name_key(issuer):
                return cert
        return None

    def find_by_key_identifier(self, key_id: bytes) -> x509.Certificate | None:
        for cert in (*self.roots, *self.intermediates):
            if cert.key_identifier == key_id:
                return cert
        return None

    @property
    def empty(self) -> bool:
        return not self.roots


def _read_folder(folder: Path, loader: Callable[[bytes], list[T]], what: str, problems: list[str]) -> list[T]:
    """Everything ``loader`` reads from the files of a folder; unreadable files are reported."""
    found: list[T] = []
    if not folder.is_dir():
        return found
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            items = loader(path.read_bytes())
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror}")
            continue
        if not items and not (path.name.startswith(".") or path.suffix.lower() in {".md", ".txt"}):
            problems.append(f"{path}: no {what} could be read")
        found.extend(items)
    return found


def load_trust_store(directory: Path) -> TrustStore:
    """Read a trust store folder. A missing folder gives an empty store (nothing trusted)."""
    problems: list[str] = []
    if not directory.is_dir():
        problems.append(f"{directory}: trust store folder not found")
    roots = _read_folder(directory / "roots", load_certificates, "certificate", problems)
    intermediates = _read_folder(directory / "ca", load_certificates, "certificate", problems)
    # CA certificates of the accredited-CA list (gateway trust import-tsl) help path building.
    intermediates += _read_folder(directory / TSL_CA_FOLDER, load_certificates, "certificate", problems)
    crls = _read_folder(directory / "crl", load_crls, "CRL", problems)
    tsl = None
    tsl_path = directory / "tsl.xml"
    if tsl_path.is_file():
        # The list's reader only when the trust store has one (`gateway verify` start-up).
        from validators.tsl import AccreditedCaList, TslError, exempt_centre, load_tsl

        try:
            tsl = load_tsl(tsl_path)
        except TslError as exc:
            problems.append(str(exc))
    exempt = _read_folder(directory / ACCREDITED_EXTRA, load_certificates, "certificate", problems)
    if tsl is not None and exempt:
        # CAs qualified by law without the Ministry's accreditation (Bank of Russia CA).
        extra = tuple(exempt_centre(format_name(c.subject), c.dump()) for c in exempt)
        tsl = AccreditedCaList(tsl.version, tsl.date, (*tsl.centres, *extra))
    return TrustStore(
        roots=tuple(roots),
        intermediates=tuple(intermediates),
        crls=tuple(crls),
        tsl=tsl,
        problems=tuple(problems),
        source=str(directory),
    )
