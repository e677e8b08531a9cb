"""An upload must be a multipart form, whatever the case of its media type (read from the raw
header, not through aiohttp's email-package parser)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.servers.packages import MEMBER


async def test_a_body_that_is_not_a_multipart_form_is_refused_with_400(client: TestClient) -> None:
    response = await client.post("/api/v1/submissions", data=b"member=42", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "request.not_multipart"


async def test_a_body_without_a_content_type_is_refused_with_400(client: TestClient) -> None:
    response = await client.post("/api/v1/submissions", data=b"x", headers={"Content-Type": ""})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "request.not_multipart"


async def test_the_media_type_of_a_form_is_read_case_insensitively(client: TestClient) -> None:
    boundary = "b0"
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="member"\r\n\r\n{MEMBER}\r\n--{boundary}--\r\n'.encode()
    response = await client.post("/api/v1/submissions", data=body, headers={"Content-Type": f"Multipart/Form-Data; boundary={boundary}"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "request.missing_field"  # read as a form: doc_type is missing
