"""The portal contract of ``POST /api/v1/submissions``, checked before anything is stored.

The portal's own mistakes (an unknown or missing ``doc_type``, ``report_kind`` or
``regulation_kind``, a member number that is not in the member list, a malformed
``report_year``) are answered at once with 400 and a Russian message: they must never
become a package that is «rejected» and emailed to a member who did nothing wrong.
``external_id`` is the portal's idempotency key: the same key with the same member, type
and files is the same submission (200); with anything different it is a conflict (409).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from aiohttp import web

from gateway import messages_ru as text
from gateway.http.responses import error_response
from gateway.store.submissions import SubmissionRecord, SubmissionRepository
from validators.catalogue import DOC_TYPES, REGULATION_KINDS, REPORT_KINDS
from validators.members import MemberList

__all__ = ["field_problem", "report_year_of", "conflict_with"]

MIN_REPORT_YEAR = 2000


def _codes(values: object) -> str:
    return ", ".join(sorted(values))  # type: ignore[call-overload]


def report_year_of(fields: Mapping[str, str]) -> int | None:
    """The ``report_year`` field as a number (None when absent); ValueError when malformed."""
    text = (fields.get("report_year") or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise ValueError(text)
    year = int(text)
    if not MIN_REPORT_YEAR <= year <= datetime.now(UTC).year + 1:
        raise ValueError(text)
    return year


def field_problem(fields: Mapping[str, str], members: MemberList) -> web.Response | None:
    """The 400 answer for a request the portal got wrong, or None when the fields are usable."""
    doc_type = fields.get("doc_type", "")
    if doc_type not in DOC_TYPES:
        return error_response(
            400, "request.doc_type", text.UNKNOWN_DOC_TYPE.format(value=doc_type, allowed=_codes(DOC_TYPES)), f"doc_type {doc_type!r}"
        )
    report_kind = fields.get("report_kind") or ""
    if doc_type == "report" and not report_kind:
        return error_response(400, "request.report_kind", text.REPORT_KIND_REQUIRED.format(allowed=_codes(REPORT_KINDS)), "report_kind is required for doc_type report")
    if report_kind and report_kind not in REPORT_KINDS:
        return error_response(400, "request.report_kind", text.UNKNOWN_REPORT_KIND.format(value=report_kind, allowed=_codes(REPORT_KINDS)), f"report_kind {report_kind!r}")
    regulation_kind = fields.get("regulation_kind") or ""
    if doc_type == "regulation" and not regulation_kind:
        return error_response(400, "request.regulation_kind", text.REGULATION_KIND_REQUIRED.format(allowed=_codes(REGULATION_KINDS)), "regulation_kind is required for doc_type regulation")
    if regulation_kind and regulation_kind not in REGULATION_KINDS:
        return error_response(
            400, "request.regulation_kind", text.UNKNOWN_REGULATION_KIND.format(value=regulation_kind, allowed=_codes(REGULATION_KINDS)), f"regulation_kind {regulation_kind!r}"
        )
    try:
        report_year_of(fields)
    except ValueError:
        return error_response(400, "request.report_year", text.BAD_REPORT_YEAR.format(first=MIN_REPORT_YEAR), f"report_year {fields.get('report_year')!r}")
    member = fields.get("member", "")
    # Only a usable member list can say a number is unknown; without one the pipeline decides.
    if len(members) and members.get(member) is None:
        return error_response(400, "member.unknown", text.UNKNOWN_MEMBER_NUMBER.format(value=member), f"member {member!r} not in the member list")
    return None


def conflict_with(
    repository: SubmissionRepository, existing_id: str, fields: Mapping[str, str], sha256s: Sequence[tuple[str, str]]
) -> web.Response | None:
    """409 when ``external_id`` names a submission with another member, type or files;
    None when the request repeats it (the portal retried)."""
    record: SubmissionRecord | None = repository.get(existing_id)
    if record is None:
        return None
    before = (record.member, record.doc_type, record.report_kind or "", record.regulation_kind or "")
    now = (fields.get("member", ""), fields.get("doc_type", ""), fields.get("report_kind") or "", fields.get("regulation_kind") or "")
    files_before = sorted((f.slot, f.blob.sha256) for f in repository.files(existing_id))
    if before == now and files_before == sorted(sha256s):
        return None
    # The submission is named only to its own member: for anyone else its id is a handle
    # on another cooperative's package (the portal may show the detail to the user).
    owner = f"submission {existing_id}" if record.member == now[0] else "another member's submission"
    return error_response(409, "request.external_id_conflict", text.REQUEST_EXTERNAL_ID_CONFLICT, f"external_id belongs to {owner}")
