"""Running Debian's ``unar`` under resource limits, reading its output from a pipe."""

from __future__ import annotations

import resource
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from validators.archives.rar import Hasher


UNAR_TIMEOUT_S = 300.0
LSAR_TIMEOUT_S = 60.0
UNAR_MEMORY_BYTES = 2 << 30
UNAR_CPU_SECONDS = 300


class UnarReader:
    """``unar -o -`` for one entry, with resource limits and a wall-clock timeout."""

    def __init__(self, workdir: Path, index: int, hasher: Hasher | None = None) -> None:
        self._hasher = hasher
        self._err = tempfile.TemporaryFile(dir=workdir)
        self._proc = subprocess.Popen(
            [shutil.which("unar") or "unar", "-q", "-nr", "-o", "-", "-i", "a.rar", str(index)],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._err,
            close_fds=True,
        )
        limit_process(self._proc.pid)
        self._timer = threading.Timer(UNAR_TIMEOUT_S, self._kill)
        self._timer.daemon = True
        self._timer.start()

    def __enter__(self) -> "UnarReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()

    def read(self, n: int) -> bytes:
        assert self._proc.stdout is not None
        data = self._proc.stdout.read(n)
        if self._hasher is not None and data:
            self._hasher.update(data)
        return data

    def digest(self) -> bytes | None:
        return self._hasher.digest() if self._hasher is not None else None

    def wait(self) -> tuple[int, str]:
        """Exit code and the tail of stderr (without GNUstep date warnings)."""
        code = self._proc.wait()
        self._err.seek(0)
        lines = [
            ln
            for ln in self._err.read(65536).decode("utf-8", "replace").splitlines()
            if ln.strip() and "NSCalendarDate" not in ln
        ]
        return code, " | ".join(lines[-3:])[:500]

    def close(self) -> None:
        self._timer.cancel()
        self._kill()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc.wait()
        self._err.close()


def limit_process(pid: int) -> None:
    """Resource limits for the unar child (set right after start; Linux prlimit)."""
    limits = (
        (resource.RLIMIT_AS, UNAR_MEMORY_BYTES),
        (resource.RLIMIT_CPU, UNAR_CPU_SECONDS),
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_CORE, 0),
    )
    for which, value in limits:
        try:
            resource.prlimit(pid, which, (value, value))
        except (OSError, ValueError, AttributeError):
            pass
