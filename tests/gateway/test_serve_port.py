"""``gateway serve`` on a port that is taken: one clear line and exit code 2, no traceback,
and nothing of the service started (no database created in the data folder)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli import _port_in_use

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket listening on a free loopback port (what a running gateway looks like)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[server]\nhost = "127.0.0.1"\nport = {port}\n[storage]\ndata_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    return path


def _serve(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "--config", str(config), "serve", *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_on_a_busy_configured_port_prints_one_line_and_exits_2(listener: socket.socket, tmp_path: Path) -> None:
    port = listener.getsockname()[1]
    result = _serve(_config(tmp_path, port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"gateway serve: port {port} on 127.0.0.1 is already in use; set [server] port in config.toml or --port"
    ]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "var" / "gateway.sqlite3").exists()  # refused before anything started


def test_serve_port_option_overrides_the_configured_port(listener: socket.socket, tmp_path: Path) -> None:
    busy = listener.getsockname()[1]
    result = _serve(_config(tmp_path, _free_port()), "--port", str(busy))
    assert result.returncode == 2
    assert f"port {busy} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_probe_tells_a_listening_port_from_a_free_one(listener: socket.socket) -> None:
    assert _port_in_use("127.0.0.1", listener.getsockname()[1])
    assert not _port_in_use("127.0.0.1", _free_port())


def test_serve_on_an_address_of_another_machine_says_so_in_one_line(tmp_path: Path) -> None:
    config = _config(tmp_path, _free_port())
    result = _serve(config, "--host", "192.0.2.1")  # TEST-NET-1: never an address of this machine
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "gateway serve: 192.0.2.1 is not an address of this machine; set [server] host in config.toml or --host"
    ]
