"""Outbox job handlers: registry delivery and member emails.

Handlers run in the outbox worker and return the effects to commit with "done": a
registered package gets its incoming number and its "registered" email in the same
transaction that closes its delivery job.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass

from gateway.delivery.errors import PermanentDelivery
from gateway.delivery.jobs import email_job
from gateway.delivery.mail.compose import Attachment, MailSettings, compose
from gateway.delivery.mail.contexts import RegisteredEmail
from gateway.delivery.mail.transport import Transport
from gateway.delivery.outbox import Effects, Job
from gateway.delivery.registry.model import OutgoingPackage, Registry
from gateway.render.html import render_html
from gateway.store.blobs import BlobStore
from gateway.store.report import PackageReport
from gateway.store.submissions import SubmissionRecord, SubmissionRepository, mark_registered

__all__ = ["JobHandlers"]

@dataclass
class JobHandlers:
    """Outbox handlers for 'registry' and 'email' jobs."""

    repository: SubmissionRepository
    blobs: BlobStore
    registry: Registry
    transport: Transport
    mail: MailSettings

    async def registry_job(self, job: Job) -> Effects:
        if job.submission_id is None:  # retrying cannot supply the missing id
            raise PermanentDelivery(f"registry job {job.id} has no submission id")
        submission_id = job.submission_id
        package, record, report = await asyncio.to_thread(self._package, submission_id)
        receipt = await self.registry.deliver(package)
        member_email = record.member_email

        def effects(connection: sqlite3.Connection) -> None:
            mark_registered(connection, submission_id, receipt.incoming_number, receipt.registered_at)
            if member_email:
                context = RegisteredEmail(
                    member_name=report.member.name if report.member is not None else "",
                    doc_type_ru=report.doc_type_ru or "",
                    submission_id=submission_id,
                    incoming_number=receipt.incoming_number,
                    registered_at=receipt.registered_at,
                )
                email_job(connection, f"email:registered:{submission_id}", member_email, context, submission_id)

        return effects

    def _package(self, submission_id: str) -> tuple[OutgoingPackage, SubmissionRecord, PackageReport]:
        """The package to deliver, with the submission and report it was built from."""
        record = self.repository.get(submission_id)
        report = self.repository.report(submission_id)
        if record is None or report is None:  # only decided packages are delivered; retrying cannot help
            raise PermanentDelivery(f"submission {submission_id} has no record or no report to deliver")
        files = self.repository.files(submission_id)
        metadata = {
            "submission_id": submission_id,
            "external_id": record.external_id,
            "member": report.member.to_json() if report.member is not None else {"number": record.member},
            "doc_type": record.doc_type,
            "report_kind": record.report_kind,
            "regulation_kind": record.regulation_kind,
            "received_at": record.received_at,
            "files": [f.to_json() for f in files],
            "validation": {
                "decision": report.decision.value,
                "checks": [c.to_json() for c in report.checks],
                "signatures": [
                    {k: s.get(k) for k in ("file", "indication", "qualified", "signer", "certificate", "signing_time")}
                    for s in report.signatures
                ],
            },
        }
        package = OutgoingPackage(submission_id, metadata, [(f.name, self.blobs.path(f.blob.key)) for f in files])
        return package, record, report

    async def email_job(self, job: Job) -> None:
        payload = job.payload
        attachments: list[Attachment] = []
        if payload.get("attach_report") and job.submission_id:
            report = await asyncio.to_thread(self.repository.report_with_submission, job.submission_id)
            if report is not None:
                # The member's copy: no staff-only detail; the charset is named for every mail client.
                attachments.append(Attachment("Отчет о проверке.html", "text/html; charset=utf-8", render_html(report, "member").encode("utf-8")))
        message = compose(payload["kind"], payload["to"], payload["context"], job.message_id, self.mail, attachments)
        await self.transport.send(message)
        return None
