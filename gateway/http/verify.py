"""``POST /api/v1/verify``: the signatures of one document (multipart ``document`` and an
optional detached ``signature``), answered with the JSON of ``gateway verify``."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import shutil
import tempfile
from pathlib import Path

from aiohttp import BodyPartReader, web

from gateway import messages_ru as text
from gateway.http.responses import dumps, error_response
from gateway.http.uploads import FormReader, SlowClient, UploadRefused, multipart_precheck, safe_name
from gateway.keys import CONFIG_KEY, PIPELINE_KEY, ROLE_KEY, VERIFY_EXECUTOR_KEY
from validators.signatures.locate import verify_document
from validators.signatures.model import RevocationMode, VerificationReport
from validators.signatures.verify import MAX_SIGNATURE_FILE_SIZE

__all__ = ["setup_verify_routes"]


async def _save_part(form: FormReader, part: BodyPartReader, target: Path, max_bytes: int | None) -> None:
    """Stream one part to ``target`` (413 past ``max_bytes`` or the body limit).

    File calls run on a worker thread: a slow disk must not stall the event loop."""
    out = await asyncio.to_thread(open, target, "wb")
    try:
        async for chunk in form.chunks(part, max_bytes):
            await asyncio.to_thread(out.write, chunk)
    finally:
        await asyncio.to_thread(out.close)


async def verify(request: web.Request) -> web.Response:
    if request.get(ROLE_KEY) not in ("portal", "staff"):
        return error_response(403, "auth.forbidden", text.FORBIDDEN, "role may not verify")
    config = request.app[CONFIG_KEY]
    limit = config.server.max_request_bytes
    refused = multipart_precheck(request, limit, text.VERIFY_FORM_EXPECTED)
    if refused:
        return refused
    revocation = request.query.get("revocation", config.verification.revocation.value)
    if revocation not in {m.value for m in RevocationMode}:
        return error_response(400, "request.revocation", text.REQUEST_REVOCATION, "revocation must be require, soft or off")
    workdir = Path(tempfile.mkdtemp(prefix="gateway-verify-"))
    form = FormReader(request, limit, config.server.max_parts, config.server.body_timeout)
    try:
        document: Path | None = None
        signature: Path | None = None
        while (part := await form.next_part()) is not None:
            if part.name == "document" and document is None:
                document = workdir / "document" / safe_name(part.filename, "document")
                document.parent.mkdir()
                await _save_part(form, part, document, None)
            elif part.name == "signature" and signature is None:
                signature = workdir / "signature" / safe_name(part.filename, "signature.sig")
                signature.parent.mkdir()
                await _save_part(form, part, signature, MAX_SIGNATURE_FILE_SIZE)
            else:
                await form.skip(part)
        if document is None:
            return error_response(400, "request.no_document", text.REQUEST_NO_DOCUMENT, "multipart part 'document' is required")
        # The service's policy (configured sunsets, skew, online revocation), this mode.
        policy = dataclasses.replace(request.app[PIPELINE_KEY].policy, revocation=RevocationMode(revocation))
        loop = asyncio.get_running_loop()
        report: VerificationReport = await loop.run_in_executor(
            request.app[VERIFY_EXECUTOR_KEY], verify_document, document, request.app[PIPELINE_KEY].trust, policy, signature
        )
        return web.json_response(report.to_json(), dumps=dumps)
    except UploadRefused as refusal:
        return refusal.response
    except SlowClient:
        return error_response(408, "request.timeout", text.UPLOAD_TIMEOUT, f"no data for {config.server.body_timeout} s")
    finally:
        # Off the event loop: removing a large upload takes milliseconds of system time.
        await asyncio.get_running_loop().run_in_executor(None, functools.partial(shutil.rmtree, workdir, ignore_errors=True))


def setup_verify_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/verify", verify)
