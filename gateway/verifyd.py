"""``gateway verifyd``: a warm verifier for ``gateway verify`` (a zygote, as ``dmypy``).

A cold ``gateway verify`` spends most of its time importing (asn1crypto alone is about
five times ``openssl cms -verify``). The daemon imports once what a verdict needs, checks
that GOST support works, then listens on a UNIX socket (mode 0600, in a folder of its
user that no one else may write) and accepts connections of its own user only
(``SO_PEERCRED``). For each request it forks a worker, which receives the client's
arguments, environment, working directory (an open directory) and standard streams
(``SCM_RIGHTS``) and runs exactly the ``main(argv)`` of a cold run there; the daemon
sends the worker's exit status back, and the client exits with it.

Only code is preloaded, with one exception checked on every request: the configuration
and the OpenSSL GOST configuration (engine and provider are switched on in each worker,
about a millisecond) are read by every worker as a cold run reads them. Trust stores named
at start (``--trust``; by default the configuration's) are read once by the daemon, with
the state of every entry below the folder (inode, size, modification and change times);
a worker uses that copy only for the very same folder argument whose state is unchanged,
else it reads the folder as a cold run does, so a change on disk counts at once. The
client side lives in :mod:`gateway.entry` (before any heavy import).
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import selectors
import signal
import socket
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from gateway import entry

if TYPE_CHECKING:
    from validators.trust import TrustStore

__all__ = ["serve", "preload", "PRELOADED"]

#: Modules a cold ``gateway verify`` of a CMS signature imports after ``gateway.cli``
#: (measured; their dependencies follow), plus the text report's. Nothing else: a module
#: whose import has side effects a cold run would not have must not be preloaded (the PDF
#: stack, pyHanko, is imported by the workers that need it).
PRELOADED = (
    "gateway.cli",
    "gateway.render.text",
    "gateway.trust.revocation",
    "validators.crl_index",
    "validators.digests",
    "validators.gost",
    "validators.revocation_cache",
    "validators.signatures.certificates",
    "validators.signatures.chain",
    "validators.signatures.cms",
    "validators.signatures.crypto",
    "validators.signatures.fetch",
    "validators.signatures.locate",
    "validators.signatures.model",
    "validators.signatures.qualified",
    "validators.signatures.revocation",
    "validators.signatures.timestamps",
    "validators.signatures.verify",
    "validators.trust",
    "encodings.idna",
    "encodings.cp1252",
)

#: Exit status of a worker whose client sent no request (it read the greeting and left,
#: e.g. finding another code or environment there): nothing to report or log.
_NO_REQUEST = 255

#: Workers at once; further clients wait in the listen queue.
DEFAULT_WORKERS = 8


def preload() -> None:
    """Import what a verdict needs and make the process-wide set-up of a cold run."""
    import importlib

    import validators

    for name in PRELOADED:
        importlib.import_module(name)
    validators.init()


def _gost_problem(config_path: Path | None) -> str | None:
    """Whether GOST support works with the configured OpenSSL file, tried in a throwaway
    child: the daemon itself loads no engine, so each worker loads the one its request's
    configuration names, as a cold run does."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read)
        try:
            from gateway.cli import _load_config
            from validators import gost

            support = gost.gost_support(_load_config(config_path).verification.openssl_gost_conf)
            os.write(write, (support.problem or "").encode())
            os._exit(0 if support.available else 1)
        except BaseException as exc:  # noqa: BLE001 - anything is a problem to report
            os.write(write, f"{type(exc).__name__}: {exc}".encode())
            os._exit(1)
    os.close(write)
    with os.fdopen(read, "rb") as stream:
        text = stream.read().decode("utf-8", "replace")
    _, status = os.waitpid(pid, 0)
    return None if os.waitstatus_to_exitcode(status) == 0 else (text or "GOST support could not be switched on")


def _listen(path: Path) -> socket.socket:
    """The listening socket at ``path``, mode 0600; ValueError says why it cannot be."""
    folder = path.parent.resolve()
    info = os.stat(folder)
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ValueError(f"{folder} must belong to this user and be writable by no one else")
    try:
        existing = os.lstat(path)
    except FileNotFoundError:
        existing = None
    if existing is not None:
        if not stat.S_ISSOCK(existing.st_mode):
            raise ValueError(f"{path} exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except ConnectionRefusedError:
            path.unlink()  # left by a daemon that is gone
        else:
            raise ValueError(f"another verifier listens on {path}")
        finally:
            probe.close()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    listener.listen(64)
    return listener


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    return int.from_bytes(creds[4:8], sys.byteorder)


_FolderState = tuple[tuple[str, tuple[int, ...] | None], ...]

#: Trust stores read at start: folder (absolute, as given to load_trust_store) -> (its
#: state when read, the store). Inherited by the workers, never changed after start.
_STORES: dict[str, tuple[_FolderState, TrustStore]] = {}


def _folder_state(folder: str) -> _FolderState:
    """Every entry below ``folder`` (the folder too) with what any change to it changes:
    device, inode, mode, size, modification and status-change times (of the target, for a
    link; a dangling link as None). Folders are walked as ``Path.rglob`` walks them."""
    entries: list[tuple[str, tuple[int, ...] | None]] = []

    def add(path: str) -> None:
        try:
            info = os.stat(path)
        except OSError:
            entries.append((path, None))
            return
        entries.append((path, (info.st_dev, info.st_ino, info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns)))

    add(folder)
    for root, folders, files in os.walk(folder):
        for name in (*folders, *files):
            add(os.path.join(root, name))
    return tuple(sorted(entries, key=lambda entry: entry[0]))


def _preload_store(folder: Path) -> None:
    """Read the trust store at ``folder`` into :data:`_STORES`, unless it changed meanwhile."""
    from validators.trust import load_trust_store

    key = str(folder)
    before = _folder_state(key)
    store = load_trust_store(folder)
    if _folder_state(key) == before:
        _STORES[key] = (before, store)


def _cached_trust_store(directory: Path) -> TrustStore:
    """:func:`validators.trust.load_trust_store` as a worker runs it: the daemon's copy when
    the folder is one read at start and nothing below it has changed since."""
    cached = _STORES.get(str(directory))
    if cached is not None and _folder_state(str(directory)) == cached[0]:
        return cached[1]
    return _load_trust_store(directory)


_load_trust_store: Callable[[Path], TrustStore]


class _Stop(Exception):
    """SIGTERM or SIGINT: stop accepting and leave."""


def _stop(signum: int, frame: object) -> None:
    raise _Stop


def serve(path: Path, *, config_path: Path | None = None, workers: int = DEFAULT_WORKERS, trust: list[Path] | None = None) -> int:
    """Run the warm verifier on ``path`` until SIGTERM/SIGINT; the exit status.

    ``trust``: trust store folders to read once (absolute paths; each request naming one
    of them, unchanged, uses the copy)."""
    preload()
    problem = _gost_problem(config_path)
    if problem:
        print(f"gateway verifyd: GOST support is not available: {problem}", file=sys.stderr)
        return 2
    for folder in trust or ():
        if folder.is_dir():
            _preload_store(folder)
    from validators import gost

    if gost.tried():  # the daemon must not have loaded what a worker's configuration chooses
        raise RuntimeError("GOST support was switched on in the daemon")
    try:
        listener = _listen(path)
    except (ValueError, OSError) as exc:
        print(f"gateway verifyd: {exc}", file=sys.stderr)
        return 2
    identity = entry.warm_identity()
    me = os.stat(path).st_ino
    # Workers share the preloaded heap copy-on-write; a collection in a worker would walk
    # (and so copy) every preloaded object. Frozen objects are never walked.
    gc.collect()
    gc.freeze()
    children: dict[int, tuple[socket.socket, int]] = {}  # pid -> (connection, pidfd)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    accepting = True
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    print(f"gateway verifyd: listening on {path} (pid {os.getpid()})", file=sys.stderr, flush=True)
    try:
        while True:
            for key, _ in selector.select():
                if key.data is None:
                    conn, _ = listener.accept()
                    peer = _peer_uid(conn)
                    if peer != os.getuid():
                        conn.close()  # the socket's mode should have kept it out already
                        print(f"gateway verifyd: refused a connection of uid {peer}", file=sys.stderr, flush=True)
                        continue
                    try:
                        conn.sendall(identity)
                    except OSError:
                        conn.close()
                        continue
                    sys.stdout.flush()
                    sys.stderr.flush()
                    pid = os.fork()
                    if pid == 0:
                        _worker(conn, [listener.fileno(), selector.fileno(), *(c.fileno() for c, _ in children.values()), *(fd for _, fd in children.values())])
                    pidfd = os.pidfd_open(pid)
                    children[pid] = (conn, pidfd)
                    selector.register(pidfd, selectors.EVENT_READ, pid)
                else:
                    pid = key.data
                    conn, pidfd = children.pop(pid)
                    selector.unregister(pidfd)
                    os.close(pidfd)
                    _, status = os.waitpid(pid, 0)
                    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == _NO_REQUEST:
                        conn.close()  # a client that read the greeting and went its own way
                        continue
                    reply = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.waitstatus_to_exitcode(status)}"
                    with contextlib.suppress(OSError):  # the client may be gone
                        conn.sendall(reply.encode() + b"\n")
                    print(f"gateway verifyd: worker {pid}: {reply}", file=sys.stderr, flush=True)
                    conn.close()
            if accepting and len(children) >= workers:
                selector.unregister(listener)
                accepting = False
            elif not accepting and len(children) < workers:
                selector.register(listener, selectors.EVENT_READ, None)
                accepting = True
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        try:
            if os.lstat(path).st_ino == me:
                path.unlink()
        except OSError:
            pass
        listener.close()
        selector.close()
    return 0


def _receive(conn: socket.socket) -> tuple[list[bytes], list[int]]:
    """The request's fields and the four descriptors (cwd, stdin, stdout, stderr)."""
    data, fds, flags, _ = socket.recv_fds(conn, 65536, 4)
    received = list(fds)
    if not data and not received:
        raise EOFError
    if flags & socket.MSG_CTRUNC or len(received) != 4:
        raise ValueError("the request did not carry its four descriptors")
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        chunk = conn.recv(65536)
        if not chunk or len(data) > entry.MAX_MESSAGE:
            raise ValueError("request cut short")
        data += chunk
    return entry.unpack(data[4:]), received


def _text_stream(fd: int, spec: bytes, mode: str) -> io.TextIOWrapper:
    """A standard stream on ``fd`` made as the interpreter makes the client's (a text
    wrapper over a buffer over the file), with its encoding, errors and buffering."""
    encoding, errors, line, through = spec.split(b"\0")
    raw = io.FileIO(fd, mode, closefd=False)
    buffered = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
    return io.TextIOWrapper(
        buffered, encoding=encoding.decode(), errors=errors.decode(), line_buffering=line == b"1", write_through=through == b"1"
    )


def _worker(conn: socket.socket, inherited: list[int]) -> NoReturn:
    """The forked worker: become the client's process, run ``main(argv)``, exit with it."""
    code = 2
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in inherited:  # the listener, other clients' connections: not this worker's
            os.close(fd)
        conn.settimeout(10)
        try:
            fields, (cwd, *streams) = _receive(conn)
        except EOFError:
            os._exit(_NO_REQUEST)
        conn.settimeout(None)
        if fields[0] != entry.WARM_PROTOCOL:
            raise ValueError("unknown protocol")
        argv0 = os.fsdecode(fields[1])
        count = int(fields[2])
        argv = [os.fsdecode(word) for word in fields[3 : 3 + count]]
        env_count = int(fields[3 + count])
        env = fields[4 + count : 4 + count + env_count]
        specs = fields[4 + count + env_count :]
        os.fchdir(cwd)
        os.close(cwd)
        for target, fd in enumerate(streams):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        for item in env:
            key, _, value = os.fsdecode(item).partition("=")
            os.environ[key] = value
        import time

        time.tzset()
        # sys.__stdout__ too: the help's width is read from it (gateway.cli._terminal_width).
        sys.stdin = _text_stream(0, specs[0], "r")
        sys.stdout = _text_stream(1, specs[1], "w")
        sys.stderr = _text_stream(2, specs[2], "w")
        setattr(sys, "__stdin__", sys.stdin)  # noqa: B010 - typeshed declares them final
        setattr(sys, "__stdout__", sys.stdout)  # noqa: B010
        setattr(sys, "__stderr__", sys.stderr)  # noqa: B010
        sys.argv = [argv0, *argv]
    except BaseException:  # noqa: BLE001 - a broken request: no verdict, exit 2
        os._exit(2)
    # A client that goes away (Ctrl-C) takes its worker with it, as it would a cold run.
    threading.Thread(target=_watch_client, args=(conn,), daemon=True).start()
    try:
        import validators.trust

        global _load_trust_store
        _load_trust_store = validators.trust.load_trust_store
        validators.trust.load_trust_store = _cached_trust_store
        # What gateway.entry.run() does after the warm attempt, in this process.
        entry._early = None
        entry._start_early_digest(argv)
        from gateway.cli import main

        code = main(argv)
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:  # noqa: BLE001 - as the interpreter reports an uncaught exception
        import traceback

        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)


def _exit_code(exc: SystemExit) -> int:
    """The status the interpreter gives ``SystemExit`` (``sys.exit``'s rules)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _watch_client(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.recv(1)  # the client sends nothing more: this returns when it is gone
    os.kill(os.getpid(), signal.SIGTERM)
