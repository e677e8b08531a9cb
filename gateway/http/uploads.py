"""The one streaming reader of multipart uploads, for every upload route.

Submissions (``POST /api/v1/submissions``), single-document verification
(``POST /api/v1/verify``) and the staff member-list upload read their forms through
:class:`FormReader`: parts one by one, every limit checked while reading (body size,
number of parts, field length), a malformed part a 400, a silent client a 408. File parts
are streamed chunk by chunk into a writer (:func:`stream_part`), never buffered whole.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.helpers import parse_mimetype
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import content_disposition_filename, parse_content_disposition

from gateway import messages_ru as text
from gateway.http.responses import error_response
from gateway.store.files import safe_name

__all__ = [
    "FormReader",
    "SlowClient",
    "UploadRefused",
    "too_large",
    "file_too_large",
    "malformed",
    "read_chunk",
    "stream_part",
    "multipart_precheck",
    "part_names",
    "read_json_body",
    "safe_name",
]

_CHUNK = 1 << 20

class SlowClient(Exception):
    """The client stopped sending in the middle of the body."""


class UploadRefused(Exception):
    """The upload breaks a limit or is malformed: answer with ``response``, read no further."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def too_large(limit: int) -> UploadRefused:
    return UploadRefused(error_response(413, "request.too_large", text.FILES_TOO_LARGE, f"body over {limit} bytes"))


def file_too_large(slot: str, limit: int) -> UploadRefused:
    """413 for a file part over its slot's limit, the limit named in Russian."""
    return UploadRefused(
        error_response(413, "request.file_too_large", text.FILE_TOO_LARGE.format(slot=slot, limit=text.size_ru(limit)), f"{slot}: over {limit} bytes")
    )


def malformed(detail: str) -> UploadRefused:
    return UploadRefused(error_response(400, "request.malformed", text.FORM_MALFORMED, detail[:200]))


async def read_chunk(part: BodyPartReader, idle_timeout: float, size: int = _CHUNK) -> bytes:
    """The next chunk of a part, or :class:`SlowClient` when none comes in ``idle_timeout`` s
    (a per-chunk idle limit, not a deadline for the whole part)."""
    try:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for wraps every read in a task of
        # its own, a cost the event loop pays per chunk and per form field.
        async with asyncio.timeout(idle_timeout):
            return await part.read_chunk(size)
    except TimeoutError:
        raise SlowClient() from None
    except HttpProcessingError as exc:
        raise malformed(f"part body: {exc.message}") from None


def part_names(part: BodyPartReader) -> tuple[str | None, str | None]:
    """The part's form-field ``name`` and ``filename``, as aiohttp's ``part.name`` and
    ``part.filename`` give them, from one parse of its Content-Disposition header.

    aiohttp parses the header again for each of the two (and its parser rebuilds an escaped
    character class on every call: the largest share of the event loop's time per upload
    after the socket); a form's headers repeat from upload to upload, so the parse is cached.
    """
    return _disposition_names(part.headers.get(hdrs.CONTENT_DISPOSITION))


@functools.lru_cache(maxsize=256)  # at most 256 headers within aiohttp's header size limit
def _disposition_names(header: str | None) -> tuple[str | None, str | None]:
    _, params = parse_content_disposition(header)
    return content_disposition_filename(params, "name"), content_disposition_filename(params, "filename")


class ChunkWriter(Protocol):
    """Where :func:`stream_part` puts a file part (a blob writer, a plain file)."""

    def write(self, chunk: bytes) -> None: ...

    def finish(self) -> None: ...


class FormReader:
    """The one streaming reader of multipart uploads: parts one by one, within limits.

    Every limit is checked while reading, before anything past it is buffered: the body
    size (counted on the wire, headers and fields included), the number of parts, the
    length of form fields. A malformed part header (a NUL, a line without a colon) is a
    400, never a 500.
    """

    def __init__(self, request: web.Request, limit: int, max_parts: int, timeout: float) -> None:
        self.request = request
        self.limit = limit
        self.max_parts = max_parts
        self.timeout = timeout
        self.parts = 0
        self._reader: Any = None
        boundary = parse_mimetype(request.headers.get(hdrs.CONTENT_TYPE, "")).parameters.get("boundary", "")
        self._min_read = len(boundary) + 8  # CRLF "--" boundary, and some

    def check_size(self) -> None:
        """:class:`UploadRefused` (413) once more than ``limit`` body bytes have arrived."""
        if self.request.content.total_bytes > self.limit:
            raise too_large(self.limit)

    async def next_part(self) -> BodyPartReader | None:
        """The next part, or None at the end of the form."""
        try:
            if self._reader is None:
                self._reader = await self.request.multipart()
            async with asyncio.timeout(self.timeout):
                part = await self._reader.next()
        except TimeoutError:
            raise SlowClient() from None
        except HttpProcessingError as exc:
            raise malformed(f"part header: {exc.message}") from None
        except (ValueError, UnicodeDecodeError, RuntimeError, LookupError) as exc:
            # aiohttp's own verdicts on a broken form (e.g. RuntimeError for an overlong
            # _charset_ part, LookupError for an unknown charset)
            raise malformed(str(exc)) from None
        self.check_size()
        if part is None:
            return None
        self.parts += 1
        if self.parts > self.max_parts:
            raise UploadRefused(
                error_response(413, "request.too_many_parts", text.TOO_MANY_PARTS.format(limit=self.max_parts), f"more than {self.max_parts} parts")
            )
        if not isinstance(part, BodyPartReader):
            raise malformed("nested multipart is not accepted")
        return part

    async def read_field(self, part: BodyPartReader, max_chars: int) -> str:
        """A text field, refused (400) as soon as it is longer than ``max_chars``."""
        limit = max_chars * 4  # UTF-8: at most four bytes a character
        data = bytearray()
        # No more than the limit allows (a field that never ends is refused as soon as it is
        # too long), but never less than aiohttp needs to see the boundary.
        while chunk := await read_chunk(part, self.timeout, max(limit + 1 - len(data), self._min_read)):
            data += chunk
            self.check_size()
            if len(data) > limit:
                break
        value = data.decode("utf-8", "replace").strip()
        if len(data) > limit or len(value) > max_chars:
            raise UploadRefused(error_response(400, "request.field", text.FIELD_TOO_LONG.format(name=part.name), f"{part.name}: over {max_chars} characters"))
        return value

    async def skip(self, part: BodyPartReader) -> None:
        """Read past a part nobody asked for, within the body limit."""
        while await read_chunk(part, self.timeout):
            self.check_size()

    async def chunks(self, part: BodyPartReader, max_bytes: int | None = None) -> AsyncIterator[bytes]:
        """The body of a file part, chunk by chunk, within the body limit and, given
        ``max_bytes``, within the part's own limit: :func:`file_too_large` (413) as soon as
        the part goes past it, before the chunk that crossed it is handed on."""
        received = 0
        while chunk := await read_chunk(part, self.timeout):
            self.check_size()
            received += len(chunk)
            if max_bytes is not None and received > max_bytes:
                raise file_too_large(part.name or "", max_bytes)
            yield chunk


async def stream_part(form: FormReader, part: BodyPartReader, writer: ChunkWriter, executor: ThreadPoolExecutor, max_bytes: int | None = None) -> None:
    """Copy one part into its blob writer, then close its file: a request holds one open
    file at a time, however many parts it has. While the chunks read so far are written
    (+SHA-256) on a worker thread, the event loop reads the next one. A chunk shorter than a
    full read is most likely the part's last: it is held back and handed over with the next
    one, or with the close, so a small file costs the event loop one hand-over to the
    thread, not two."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[None] | None = None
    held: bytes | None = None
    try:
        async for chunk in form.chunks(part, max_bytes):
            batch: tuple[bytes, ...] = (held, chunk) if held is not None else (chunk,)
            held = None
            if len(chunk) < _CHUNK:
                held, batch = chunk, batch[:-1]
            if batch:
                if pending is not None:
                    await pending
                pending = loop.run_in_executor(executor, _write_all, writer, batch)
        if pending is not None:
            await pending
            pending = None
        await loop.run_in_executor(executor, _write_all, writer, (held,) if held is not None else (), True)
    finally:
        if pending is not None:
            await asyncio.gather(pending, return_exceptions=True)


def _write_all(writer: ChunkWriter, chunks: tuple[bytes, ...], finish: bool = False) -> None:
    """Write ``chunks`` in order and, with ``finish``, close the file (on a worker thread)."""
    for chunk in chunks:
        writer.write(chunk)
    if finish:
        writer.finish()


async def read_json_body(request: web.Request, limit: int, idle_timeout: float) -> Any:
    """The request's JSON body, read only up to ``limit`` bytes (413 past it, 400 if not JSON;
    408 when no data comes for ``idle_timeout`` s between chunks).

    Raises :class:`UploadRefused`; never buffers more than ``limit`` + one chunk.
    """
    if request.content_length is not None and request.content_length > limit:
        raise UploadRefused(error_response(413, "request.too_large", text.REQUEST_TOO_LARGE, f"body of {request.content_length} bytes over {limit}"))
    data = bytearray()
    while True:
        try:
            async with asyncio.timeout(idle_timeout):
                chunk = await request.content.read(min(_CHUNK, limit + 1 - len(data)))
        except TimeoutError:
            raise UploadRefused(error_response(408, "request.timeout", text.REQUEST_TIMEOUT, f"no data for {idle_timeout} s")) from None
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            raise UploadRefused(error_response(413, "request.too_large", text.REQUEST_TOO_LARGE, f"body over {limit} bytes"))
    try:
        return json.loads(bytes(data).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise UploadRefused(error_response(400, "request.malformed", text.JSON_MALFORMED, "body is not JSON")) from None


def multipart_precheck(request: web.Request, limit: int, form_hint_ru: str) -> web.Response | None:
    """413 for a declared body over ``limit``, 400 for a body that is not a multipart form."""
    if request.content_length is not None and request.content_length > limit:
        return error_response(413, "request.too_large", text.FILES_TOO_LARGE, f"body of {request.content_length} bytes over {limit}")
    # parse_mimetype, not request.content_type: aiohttp parses the latter with the email
    # package's header parser, a sizeable share of the event loop's time per upload.
    if parse_mimetype(request.headers.get(hdrs.CONTENT_TYPE, "")).type != "multipart":
        return error_response(400, "request.not_multipart", form_hint_ru, f"content type {request.headers.get(hdrs.CONTENT_TYPE, '')[:100]}")
    return None
