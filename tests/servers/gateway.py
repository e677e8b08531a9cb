"""The real ``gateway serve`` as a subprocess on 127.0.0.1, with its log in a file."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import aiohttp

from tests.conftest import REPO
from tests.pki.builder import TestPki
from tests.servers.packages import members_csv

__all__ = ["Gateway", "free_port", "gateway_config", "submission_rows", "wait_for_submission"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway_config(tmp_path: Path, pki: TestPki, port: int, extra: str = "", **server: Any) -> Path:
    """A config.toml for a gateway on ``port`` with its data under ``tmp_path/var``.

    ``server`` adds [server] keys; ``extra`` is appended as is (more sections).
    """
    lines = "".join(f"{k} = {v}\n" for k, v in server.items())
    path = tmp_path / "config.toml"
    path.write_text(
        f'[server]\nhost = "127.0.0.1"\nport = {port}\n{lines}'
        f'[verification]\ntrust_dir = "{pki.trust_dir}"\n'
        f'[storage]\ndata_dir = "{tmp_path / "var"}"\nmembers_csv = "{members_csv(tmp_path / "members.csv")}"\n'
        "[delivery]\ndigest_hour_utc = -1\npoll_interval = 0.05\nbase_delay = 0.1\nmax_delay = 1.0\n" + extra,
        encoding="utf-8",
    )
    return path


def submission_rows(data_dir: Path) -> list[sqlite3.Row]:
    """Every row of the submissions table, read straight from the database file."""
    connection = sqlite3.connect(data_dir / "gateway.sqlite3")
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT * FROM submissions").fetchall()
    finally:
        connection.close()


def wait_for_submission(data_dir: Path, condition: Callable[[sqlite3.Row], bool], seconds: float = 30) -> sqlite3.Row:
    """Poll the submissions table (every 10 ms) until a row meets ``condition``: crash
    drills kill at a state seen in the database, not after a guessed sleep."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (data_dir / "gateway.sqlite3").exists():
            try:
                for row in submission_rows(data_dir):
                    if condition(row):
                        return row
            except sqlite3.OperationalError:  # locked or being created
                pass
        time.sleep(0.01)
    raise AssertionError(f"no submission reached the awaited state in {seconds} s")


class Gateway:
    """A gateway subprocess (the real `gateway serve`)."""

    def __init__(self, config: Path, port: int, log: IO[bytes]) -> None:
        self.config, self.port, self.log = config, port, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--config", str(self.config), "serve"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=self.log
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("gateway did not start")

    def descriptors(self) -> list[str]:
        """What the process's file descriptors point at now (/proc/<pid>/fd)."""
        assert self.process is not None
        found = []
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            with contextlib.suppress(FileNotFoundError):  # closed meanwhile
                found.append(str(fd.readlink()))
        return sorted(found)

    def open_files(self) -> int:
        """How many file descriptors the process holds now."""
        return len(self.descriptors())

    def upload(self, package: Path, fields: dict[str, str]) -> str:
        """POST ``package`` as the document of a submission with ``fields``; its id (202)."""

        async def post() -> str:
            async with aiohttp.ClientSession() as session:
                form = aiohttp.FormData()
                for key, value in fields.items():
                    form.add_field(key, value)
                form.add_field("document", open(package, "rb"), filename=package.name)  # noqa: SIM115 - aiohttp closes it
                async with session.post(f"{self.url}/api/v1/submissions", data=form) as response:
                    assert response.status == 202, await response.text()
                    return str((await response.json())["id"])

        return asyncio.run(post())

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
