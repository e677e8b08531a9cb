"""``gateway verifyd``: a warm verifier for ``gateway verify`` (a zygote, as ``dmypy``).

A cold ``gateway verify`` spends most of its time importing (asn1crypto alone is about
five times ``openssl cms -verify``). The daemon imports once what a verdict needs, checks
that GOST support works, then listens on a UNIX socket (mode 0600, in a folder of its
user that no one else may write) and accepts connections of its own user only
(``SO_PEERCRED``). For each request it forks a worker, which receives the client's
arguments, environment, working directory (an open directory) and standard streams
(``SCM_RIGHTS``) and runs exactly the ``main(argv)`` of a cold run there; the daemon
sends the worker's exit status back, and the client exits with it.

At start the daemon switches GOST on with the OpenSSL GOST configuration of its own
``config.toml`` (known-answer tests first) and warms up: one complete ``gateway verify
--offline`` of a throwaway sample made by the ``openssl`` command in a private temporary
folder (:func:`_warm_up`), so that workers find argparse, tomllib, lazy imports and the
ASN.1 and name-preparation state already set up; the caches it fills are keyed by content
only, and the folder is deleted. A worker whose request chooses another OpenSSL GOST
configuration (or the daemon's file, changed since) cannot use the loaded engine: it
replaces itself by a cold run of the same request (:func:`_guard_gost_conf`).

The configuration is read by every worker as a cold run reads it. Trust stores named
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
import json
import os
import selectors
import signal
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
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
    """Switch GOST support on in the daemon with ITS configuration's OpenSSL file, after
    the known-answer tests of :func:`validators.gost.gost_support`; what is wrong, or None.

    Workers inherit the engine and provider: a worker whose request chooses another file
    (or the same file, changed since) runs cold instead (:func:`_guard_gost_conf`)."""
    global _DAEMON_GOST
    try:
        from gateway.cli import _load_config
        from validators import gost

        conf = Path(_load_config(config_path).verification.openssl_gost_conf)
        support = gost.gost_support(conf)
    except Exception as exc:  # noqa: BLE001 - anything is a problem to report
        return f"{type(exc).__name__}: {exc}"
    if not support.available:
        return support.problem or "GOST support could not be switched on"
    _DAEMON_GOST = (gost.configure(), os.path.abspath(gost.configure()), _file_state(os.path.abspath(gost.configure())))
    return None


#: The OpenSSL GOST configuration the daemon switched on: (the path as configured, its
#: absolute form, the state of the file then). Set once at start, inherited by workers.
_DAEMON_GOST: tuple[Path, str, tuple[int, ...] | None] | None = None


def _file_state(path: str) -> tuple[int, ...] | None:
    """What any change to the file at ``path`` changes (None: not there)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


#: Set in a worker to make a cold run of it: the client's argv[0], its arguments, the
#: connection, and the daemon's log (its standard error).
_request: tuple[str, list[str], socket.socket, int] | None = None


def _guard_gost_conf() -> None:
    """In a worker: the first choice of the OpenSSL GOST configuration (what
    :func:`validators.gost.configure` would choose in a cold run, the request's) must be
    the very file the daemon loaded, unchanged; otherwise the worker becomes a cold run.

    A cold run's first ``configure`` call fixes its configuration (gateway.entry's early
    digest, else ``gateway verify``'s own): the same call decides here. It comes before
    anything is written to the client's streams (argument and configuration errors leave
    before it), so the cold run that replaces the worker writes everything once."""
    from validators import gost

    original = gost.configure

    def configure(config: str | os.PathLike[str] | None = None) -> Path:
        gost.configure = original  # decided once, as the first choice stays
        wanted = Path(config or os.environ.get(gost.OPENSSL_CONF_ENV) or gost.DEFAULT_OPENSSL_CONF)
        absolute = os.path.abspath(wanted)
        if _DAEMON_GOST is None or (wanted, absolute, _file_state(absolute)) != _DAEMON_GOST:
            _exec_cold()
        return original(config)

    gost.configure = configure


#: Run by the interpreter that replaces a worker: ``main(argv)`` as ``gateway.entry.run``
#: runs it once no warm verifier is used, with the worker's import path (arguments: the
#: connection's descriptor, the path's length, the path, argv[0], the arguments). The
#: connection is watched as the worker watched it (the client leaving ends the run).
_COLD_PROGRAM = """\
import sys
_a = sys.argv
_n = int(_a[2])
sys.path[:] = _a[3 : 3 + _n]
sys.argv = _a[3 + _n :]
import _socket, _thread, os
_conn = _socket.socket(fileno=int(_a[1]))
def _watch():
    try:
        _conn.recv(1)
    except OSError:
        pass
    os.kill(os.getpid(), 15)
_thread.start_new_thread(_watch, ())
del _a, _n, _watch
from gateway import entry
entry._start_early_digest(sys.argv[1:])
from gateway.cli import run
run()
"""


def _exec_cold() -> NoReturn:
    """Replace this worker by a cold ``gateway verify`` of its request: same process (the
    daemon waits for it as for the worker), arguments, environment, directory and
    standard streams; the daemon's interpreter and options."""
    import subprocess

    if _request is None:
        raise RuntimeError("no request to run cold")
    argv0, argv, conn, log = _request
    with contextlib.suppress(OSError):
        os.write(log, f"gateway verifyd: a cold run replaces worker {os.getpid()} (another OpenSSL GOST configuration)\n".encode())
    os.set_inheritable(conn.fileno(), True)
    args = [
        sys.executable, *subprocess._args_from_interpreter_flags(), "-c", _COLD_PROGRAM,  # type: ignore[attr-defined]
        str(conn.fileno()), str(len(sys.path)), *sys.path, argv0, *argv,
    ]
    try:
        os.execve(sys.executable, args, os.environ)  # noqa: S606 - this interpreter, no shell
    except OSError as exc:
        print(f"gateway verify: cannot start a cold run ({exc}); no verdict", file=sys.stderr, flush=True)
        os._exit(2)


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


#: Tests only: a folder the warm-up sample is copied to before it is deleted.
_KEEP_SAMPLE: Path | None = None


def _make_sample(folder: Path, openssl_conf: Path) -> list[str]:
    """A throwaway ``gateway verify`` case in ``folder``, made by the ``openssl`` command
    with the daemon's GOST configuration: a self-signed GOST R 34.10-2012 (256) root in
    ``trust/roots``, a signer certificate it issued, a 1 KB document and its detached
    CAdES-BES signature; the keys are deleted. The arguments that verify it offline."""
    import subprocess

    env = {**os.environ, "OPENSSL_CONF": str(openssl_conf)}
    (folder / "trust" / "roots").mkdir(parents=True)
    root, document = folder / "trust" / "roots" / "root.pem", folder / "Прогрев.txt"
    document.write_bytes("Проверка подписи при запуске gateway verifyd.\n".encode() * 16)
    key = ("-newkey", "gost2012_256", "-pkeyopt", "paramset:A", "-noenc", "-utf8", "-days", "2", "-md_gost12_256")
    commands = [
        ["req", "-x509", *key, "-keyout", "root.key", "-out", str(root), "-subj", "/C=RU/O=Прогрев verifyd/CN=Корень прогрева",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", *key, "-keyout", "signer.key", "-out", "signer.pem", "-subj", "/C=RU/O=Прогрев verifyd/CN=Подписант прогрева",
         "-CA", str(root), "-CAkey", "root.key", "-addext", "basicConstraints=critical,CA:FALSE",
         "-addext", "keyUsage=critical,digitalSignature,nonRepudiation"],
        ["cms", "-sign", "-binary", "-in", str(document), "-signer", "signer.pem", "-inkey", "signer.key", "-md", "md_gost12_256",
         "-cades", "-nosmimecap", "-outform", "DER", "-out", f"{document}.sig"],
    ]
    for command in commands:
        run = subprocess.run(  # noqa: S603 - fixed arguments
            ["openssl", *command],  # noqa: S607 - openssl from PATH, as tests/pki/builder.py runs it
            cwd=folder, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False,
        )
        if run.returncode != 0:
            last = (run.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"openssl {command[0]} exited {run.returncode}: {last}")
    for name in ("root.key", "signer.key"):
        (folder / name).unlink()
    config = folder / "config.toml"  # the revocation cache in the throwaway folder too
    config.write_text(
        f"[verification]\nopenssl_gost_conf = {json.dumps(os.path.abspath(openssl_conf))}\n"
        f"revocation_cache_dir = {json.dumps(str(folder / 'revocation'))}\noffline = true\n",
        encoding="utf-8",
    )
    return ["--config", str(config), "verify", str(document), "--signature", f"{document}.sig", "--trust", str(folder / "trust"), "--offline"]


def _warm_up() -> str | None:
    """Run ``gateway verify`` in the daemon on a sample made for it (``--offline``, its
    own trust folder, its own revocation cache, output discarded), twice (JSON and text),
    so that workers find what a first verification sets up already done: name keys,
    parsed certificates, argparse, tomllib, lazy imports. The folder is deleted after.
    What went wrong, or None. Nothing of it reaches a request: the caches it fills are
    keyed by content (certificates by their SHA-256, issuer checks by every byte
    checked, name keys by the name's DER), its trust store is never kept, and the
    GOST configuration is the one the daemon switched on."""
    import shutil
    import tempfile

    from gateway.cli import main
    from validators import gost

    if _DAEMON_GOST is None:
        return "GOST support is not switched on"
    folder = Path(tempfile.mkdtemp(prefix="gateway-verifyd-warmup-"))
    try:
        argv = _make_sample(folder, _DAEMON_GOST[0])
        with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            for extra in (["--json"], []):
                entry._start_early_digest(argv + extra)
                try:
                    code = main(argv + extra)
                finally:
                    entry._early = None
                if code not in (0, 1):
                    return f"the sample's verification exited {code}"
        if gost.configure() != _DAEMON_GOST[0]:
            return "the sample chose another GOST configuration"
        if _KEEP_SAMPLE is not None:
            shutil.copytree(folder, _KEEP_SAMPLE)
        return None
    except Exception as exc:  # noqa: BLE001 - a failed warm-up only costs time
        return f"{type(exc).__name__}: {exc}"
    finally:
        gc.collect()  # the revocation cache's SQLite connection is closed before its folder goes
        shutil.rmtree(folder, ignore_errors=True)


class _Stop(Exception):
    """SIGTERM or SIGINT: stop accepting and leave."""


def _stop(signum: int, frame: object) -> None:
    raise _Stop


def _drain(conn: socket.socket, limit: float = 1.0) -> None:
    """End our side and read what the client still sends until it closes (at most ``limit`` s).

    A worker killed before it read the whole request leaves request bytes unread; closing a
    UNIX socket with unread bytes resets the connection, and the client then loses the reply
    it had not read yet (ECONNRESET instead of "killed by signal")."""
    conn.shutdown(socket.SHUT_WR)
    conn.settimeout(limit)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and conn.recv(65536):
        pass


@dataclass(frozen=True)
class _Spare:
    """A worker forked ahead of the next request, its preloaded memory already its own."""

    pid: int
    pidfd: int
    channel: socket.socket


def _fork_spare(inherited: list[int]) -> _Spare | None:
    """Fork the worker of the next request now, off its critical path (None: fork failed).

    A new worker's first touches of the preloaded heap copy page after page (copy-on-write);
    a spare does that while nobody waits, then waits for its connection on ``channel``."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        ours.close()
        theirs.close()
        return None
    if pid == 0:
        ours.close()
        _spare(theirs, inherited)
    theirs.close()
    return _Spare(pid, os.pidfd_open(pid), ours)


def _spare(channel: socket.socket, inherited: list[int]) -> NoReturn:
    """The spare's life: make the preloaded heap its own, wait for a connection, serve it."""
    try:
        for fd in inherited:
            os.close(fd)
        # Every tracked object's header is written once here (unfreeze/freeze), so the
        # request later finds its pages copied already.
        gc.unfreeze()
        touched = gc.get_objects()  # and every object's reference count
        gc.freeze()
        del touched
        _, fds, _, _ = socket.recv_fds(channel, 1, 1)
        channel.close()
    except BaseException:  # noqa: BLE001 - no request was taken: leave quietly
        os._exit(_NO_REQUEST)
    if not fds:
        os._exit(_NO_REQUEST)  # the daemon stopped
    _worker(socket.socket(fileno=fds[0]), [])


def _hand_over(spare: _Spare, conn: socket.socket) -> bool:
    """Give ``conn`` to the waiting spare (False: it is gone; fork a worker instead)."""
    try:
        socket.send_fds(spare.channel, [b"c"], [conn.fileno()])
    except OSError:
        return False
    spare.channel.close()
    return True


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
    try:
        listener = _listen(path)
    except (ValueError, OSError) as exc:
        print(f"gateway verifyd: {exc}", file=sys.stderr)
        return 2
    problem = _warm_up()
    if problem:
        print(f"gateway verifyd: warm-up failed, workers start cold: {problem}", file=sys.stderr, flush=True)
    identity = entry.warm_identity()
    me = os.stat(path).st_ino
    # Workers share the preloaded heap copy-on-write; a collection in a worker would walk
    # (and so copy) every preloaded object. Frozen objects are never walked.
    gc.collect()
    gc.freeze()
    children: dict[int, tuple[socket.socket, int]] = {}  # pid -> (connection, pidfd)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    spare: _Spare | None = None
    spares_left = 3

    def inherited() -> list[int]:
        """What a new child must close: the listener and every other client's descriptors."""
        fds = [listener.fileno(), selector.fileno(), *(c.fileno() for c, _ in children.values()), *(fd for _, fd in children.values())]
        if spare is not None:
            fds += [spare.channel.fileno(), spare.pidfd]
        return fds

    accepting = True
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    print(f"gateway verifyd: listening on {path} (pid {os.getpid()})", file=sys.stderr, flush=True)
    try:
        while True:
            if spare is None and len(children) < workers and spares_left > 0:
                spare = _fork_spare(inherited())
                if spare is None:
                    spares_left -= 1  # fork failed: plain forks from now on, after a few tries
                else:
                    selector.register(spare.pidfd, selectors.EVENT_READ, spare.pid)
            for key, _ in selector.select():
                if key.data is None:
                    conn, _ = listener.accept()
                    peer = _peer_uid(conn)
                    if peer != os.getuid():
                        # Logged first: the peer sees the close, and whoever watches sees the line.
                        print(f"gateway verifyd: refused a connection of uid {peer}", file=sys.stderr, flush=True)
                        conn.close()  # the socket's mode should have kept it out already
                        continue
                    try:
                        conn.sendall(identity)
                    except OSError:
                        conn.close()
                        continue
                    if spare is not None and _hand_over(spare, conn):
                        pid, pidfd = spare.pid, spare.pidfd
                        spare = None
                    else:
                        if spare is not None:  # it died meanwhile: its exit is reaped below
                            spare.channel.close()
                            spare = None
                        sys.stdout.flush()
                        sys.stderr.flush()
                        pid = os.fork()
                        if pid == 0:
                            _worker(conn, inherited())
                        pidfd = os.pidfd_open(pid)
                        selector.register(pidfd, selectors.EVENT_READ, pid)
                    children[pid] = (conn, pidfd)
                else:
                    pid = key.data
                    if pid not in children:  # a spare that ended before any request
                        selector.unregister(key.fileobj)
                        os.close(key.fd)
                        os.waitpid(pid, 0)
                        if spare is not None and spare.pid == pid:
                            spare.channel.close()
                            spare = None
                        spares_left -= 1  # spares that die unused: plain forks after a few
                        continue
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
                    # Logged before the client sees the end of the reply (tests read the log then).
                    print(f"gateway verifyd: worker {pid}: {reply}", file=sys.stderr, flush=True)
                    with contextlib.suppress(OSError):
                        _drain(conn)
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
        if spare is not None:
            spare.channel.close()  # the spare sees the end and leaves
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
        log = os.dup(2)  # the daemon's log, for a worker that must run cold (not inherited by it)
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

        global _load_trust_store, _request
        _request = (argv0, argv, conn, log)
        _guard_gost_conf()
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
    from gateway.cli import leave

    leave(code)


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
