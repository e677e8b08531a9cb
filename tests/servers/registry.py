"""A registry on loopback that records what it receives."""

from __future__ import annotations

import asyncio

from aiohttp import web

__all__ = ["RecordingRegistry"]


class RecordingRegistry:
    """A registry that numbers packages by Idempotency-Key and can misbehave first."""

    def __init__(self, script: list[tuple[int, dict[str, str]]] | None = None, delay: float = 0.0) -> None:
        self.script = list(script or [])
        self.delay = delay
        self.numbers: dict[str, str] = {}
        self.posts = 0
        #: The Idempotency-Key of every POST received, in order (repeats included).
        self.keys: list[str] = []
        #: Every POST from number ``hold_from`` on waits here unanswered until released.
        self.hold_from: int | None = None
        self.held: list[str] = []
        self.release = asyncio.Event()

    async def incoming(self, request: web.Request) -> web.Response:
        self.posts += 1
        self.keys.append(request.headers.get("Idempotency-Key", ""))
        if self.hold_from is not None and self.posts >= self.hold_from and not self.release.is_set():
            self.held.append(self.keys[-1])
            await self.release.wait()
        reader = await request.multipart()
        async for part in reader:
            await part.read()  # type: ignore[union-attr]
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.script:
            status, headers = self.script.pop(0)
            return web.json_response({"error": "scripted"}, status=status, headers=headers)
        key = request.headers["Idempotency-Key"]
        number = self.numbers.setdefault(key, f"R-{len(self.numbers) + 1:04}")
        return web.json_response({"incoming_number": number, "registered_at": "2026-11-23T12:00:00Z"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/incoming", self.incoming)
        return app
