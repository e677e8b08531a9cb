"""The МЧД inside a package: where it comes from, and the verdict for each representative.

An МЧД reaches the gateway either as its own upload part ``power_of_attorney`` (with its
detached signature ``X.xml.sig`` in the same part name, or in ``signature`` named after
it), or inside the supporting archive next to its signature (members put it there: the
cabinet has only two fields). Inside archives it is recognised by content (root
``Доверенность``, ``ВерсФорм="EMCHD_1"``), never by name.

Everything is read lazily: a package whose signers are all heads never parses an МЧД.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from validators.members import Member
from validators.poa.model import PowerOfAttorney
from validators.poa.parse import MAX_POA_BYTES, looks_like_poa, read_poa
from validators.poa.revocation import RegistryAnswer, RevokedList, load_revoked_list, query_registry
from validators.poa.verify import PoaSource, PoaVerdict, is_personal_certificate, judge
from validators.signatures.cms import CmsFormatError
from validators.signatures.model import SignatureReport
from validators.signatures.verify import VerificationPolicy, load_signature_file, verify_cms
from validators.signers import signer_is_head
from validators.trust import TrustStore

__all__ = ["POA_SLOT", "PoaSettings", "PackagePowers", "split_uploads"]

#: The multipart part name (and ``Slot`` value) of an МЧД upload.
POA_SLOT = "power_of_attorney"
_SIGNATURE_SUFFIXES = (".sig", ".p7s", ".sgn")


@dataclass(frozen=True, slots=True)
class PoaSettings:
    """``[poa]`` in config.toml."""

    revoked_list: Path | None = None
    """The operator's list of revoked МЧД numbers (one per line); None: none kept."""
    registry_url: str = ""
    """Online registry of МЧД; empty: not consulted."""
    registry_timeout: float = 10.0


class _Upload(Protocol):
    @property
    def slot(self) -> Any: ...
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> Path: ...


class _Context(Protocol):
    @property
    def trust(self) -> TrustStore: ...
    @property
    def policy(self) -> VerificationPolicy: ...
    @property
    def poa(self) -> PoaSettings: ...


U = TypeVar("U", bound=_Upload)


def _signed_name(name: str) -> str | None:
    lower = name.lower()
    return next((name[: -len(s)] for s in _SIGNATURE_SUFFIXES if lower.endswith(s)), None)


def split_uploads(files: Sequence[U]) -> tuple[list[U], list[U]]:
    """(the package's other uploads, the МЧД uploads): the ``power_of_attorney`` part, and
    a ``signature`` part named after an МЧД upload (``X.xml.sig`` for ``X.xml``)."""
    poa = [f for f in files if f.slot == POA_SLOT]
    names = {f.name for f in poa}
    poa += [f for f in files if f.slot != POA_SLOT and f.slot == "signature" and _signed_name(f.name) in names]
    return [f for f in files if f not in poa], poa


def _sniff(path: Path) -> bool:
    try:
        if path.stat().st_size > MAX_POA_BYTES:
            return False
        with open(path, "rb") as stream:
            return looks_like_poa(stream.read(4096))
    except OSError:
        return False


class PackagePowers:
    """The МЧД of one package and the verdicts on its representatives' signatures."""

    def __init__(
        self,
        uploads: Sequence[_Upload],
        archived: Iterable[tuple[str, Path, Sequence[SignatureReport]]],
        ctx: _Context,
    ) -> None:
        """``archived``: (package name, path, signature reports) of files inside archives."""
        self._uploads = list(uploads)
        self._archived = list(archived)
        self._ctx = ctx
        self._sources: list[PoaSource] | None = None
        self._uploaded: list[PoaSource] | None = None
        self._revoked: RevokedList | None = None
        self._registry: dict[str, RegistryAnswer] = {}

    @staticmethod
    def applies(report: SignatureReport, member: Member) -> bool:
        """A natural person's certificate, not the head's: the signature needs an МЧД."""
        return is_personal_certificate(report.signer) and not signer_is_head(report, member)

    def judge(self, report: SignatureReport, member: Member, document: str) -> PoaVerdict:
        """The verdict on one natural person's signature of ``document``."""
        if self._revoked is None:
            self._revoked = load_revoked_list(self._ctx.poa.revoked_list)
        policy = self._ctx.policy
        return judge(
            report,
            member,
            self.sources(),
            document=document,
            fallback_moment=fallback_moment(policy),
            revoked=self._revoked,
            registry=self._ask_registry if self._ctx.poa.registry_url else None,
        )

    def sources(self) -> list[PoaSource]:
        """Every МЧД of the package (read once)."""
        if self._sources is None:
            self._sources = [*self.uploaded_sources(), *self._from_archives()]
        return self._sources

    def uploaded_sources(self) -> list[PoaSource]:
        """The МЧД uploaded as their own part, their signatures verified (read once)."""
        if self._uploaded is None:
            self._uploaded = self._from_uploads()
        return self._uploaded

    def _ask_registry(self, poa: PowerOfAttorney) -> RegistryAnswer:
        if poa.number not in self._registry:
            settings = self._ctx.poa
            self._registry[poa.number] = query_registry(settings.registry_url, poa.number, poa.principal.inn_le, settings.registry_timeout)
        return self._registry[poa.number]

    def _from_uploads(self) -> list[PoaSource]:
        signatures = {f.name: f for f in self._uploads if _signed_name(f.name) is not None}
        found = []
        for upload in self._uploads:
            if upload.name in signatures:
                continue
            parsed = read_poa(upload.path, upload.name)
            signature = next((signatures[upload.name + s] for s in (*_SIGNATURE_SUFFIXES, *(x.upper() for x in _SIGNATURE_SUFFIXES)) if upload.name + s in signatures), None)
            reports: tuple[SignatureReport, ...] = ()
            problems: tuple[str, ...] = ()
            # Verified whether or not the file reads as an МЧД: it is a document of the
            # package either way, and its signatures are judged like any other's.
            if signature is not None:
                try:
                    data = load_signature_file(signature.path)
                except CmsFormatError as exc:
                    problems = (f"{signature.name}: {exc}",)
                else:
                    verified = verify_cms(data, self._ctx.trust, self._ctx.policy, document=upload.path, signature_file=signature.name)
                    reports, problems = verified.signatures, verified.problems
            found.append(PoaSource(parsed, reports, problems))
        return found

    def _from_archives(self) -> list[PoaSource]:
        # Their detached signatures were verified with the other documents of the archive.
        return [PoaSource(read_poa(path, name), tuple(reports)) for name, path, reports in self._archived if _sniff(path)]


def fallback_moment(policy: VerificationPolicy) -> datetime:
    """When a signature carries no time of judgment: ``--at``, else now."""
    return policy.at or policy.clock()
