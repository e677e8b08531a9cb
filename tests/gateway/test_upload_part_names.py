"""The form-field name and file name of an upload part, read from one (cached) parse of its
Content-Disposition header: the same answers as aiohttp's ``part.name``/``part.filename``."""

from __future__ import annotations

import pytest
from aiohttp import BodyPartReader
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.http.uploads import part_names

HEADERS = [
    'form-data; name="document"; filename="42_OD.zip"',
    'form-data; name="member"',
    "form-data; name=member",
    'form-data; name="signature"; filename="Отчет.xml.sig"',
    "form-data; name=\"document\"; filename*=UTF-8''%D0%9E%D1%82%D1%87%D0%B5%D1%82.zip",
    'form-data; name="document"; filename="a\\"b.zip"',
    'form-data; name="document"; filename="..\\\\..\\\\evil.zip"',
    'form-data; name="document"; filename=""',
    "form-data",
    "attachment; filename=x.zip",
    'form-data; name="a"; name="b"',
    "form-data; name",
    ";;;",
    "",
]


def part(header: str | None) -> BodyPartReader:
    headers: CIMultiDict[str] = CIMultiDict()
    if header is not None:
        headers["Content-Disposition"] = header
    return BodyPartReader(b"--x", CIMultiDictProxy(headers), None)  # type: ignore[arg-type]  # the body is not read


@pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionHeader")
@pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionParam")
@pytest.mark.parametrize("header", [*HEADERS, None])
def test_part_names_are_aiohttps_name_and_filename(header: str | None) -> None:
    reference = part(header)
    assert part_names(part(header)) == (reference.name, reference.filename)


@pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionHeader")
@pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionParam")
def test_a_repeated_header_gives_the_same_names_again() -> None:
    first = [part_names(part(header)) for header in HEADERS]
    assert [part_names(part(header)) for header in HEADERS] == first
    assert first[0] == ("document", "42_OD.zip") and first[1] == ("member", None)
