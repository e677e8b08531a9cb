"""The ``gateway`` console command's entry point, kept light on purpose.

``gateway verify`` with ``GATEWAY_VERIFY_SOCKET`` naming a warm verifier's socket
(``gateway verifyd``, :mod:`gateway.verifyd`) hands the command over to it first, before
anything heavy is imported (only ``os``, ``sys``, ``socket``): the daemon forks a worker
with the modules already loaded, which runs the very same ``main(argv)`` in this
process's directory, on its standard streams and environment. When the daemon cannot be
reached, or is not of this user, this checkout and interpreter, the command runs here as
usual; once the request is handed over it never runs here too.

``gateway verify`` on a large file is dominated by one pass over it, Streebog-256 and
SHA-256 together (the report gives both). This module starts that pass on the other core
before the rest of the gateway (configuration classes, ASN.1 machinery) is imported, using
the same OpenSSL GOST configuration the full configuration will name; ``gateway.cli``
picks the running digests up.
"""

from __future__ import annotations

import os
import sys

__all__ = ["run", "early_digests", "VERIFY_SOCKET_ENV", "warm_identity", "pack", "unpack", "verify_command_of"]

TYPE_CHECKING = False  # typing itself is not imported on the warm path
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

#: Environment variable naming the socket of a warm verifier (``gateway verifyd``).
VERIFY_SOCKET_ENV = "GATEWAY_VERIFY_SOCKET"

#: Protocol version, first field of the daemon's greeting and of every request.
WARM_PROTOCOL = b"gateway-verifyd/1"

#: Environment read by the interpreter or libcrypto at start-up, not by ``main``: a
#: worker forked from a daemon started with other values would not be a cold run, so the
#: daemon's values are part of its identity (a client with others runs in-process).
_STARTUP_ENV_PREFIXES = ("PYTHON", "OPENSSL_", "LD_")

#: Longest greeting or request accepted (arguments and environment).
MAX_MESSAGE = 1 << 20


def pack(fields: list[bytes]) -> bytes:
    """Fields as one message: a 4-byte big-endian count, then each as length and bytes."""
    parts = [len(fields).to_bytes(4, "big")]
    for field in fields:
        parts += [len(field).to_bytes(4, "big"), field]
    body = b"".join(parts)
    return len(body).to_bytes(4, "big") + body


def unpack(body: bytes) -> list[bytes]:
    """The fields of a message body (without its length prefix); ValueError if malformed."""
    count, at, fields = int.from_bytes(body[:4], "big"), 4, []
    for _ in range(count):
        size = int.from_bytes(body[at : at + 4], "big")
        field = body[at + 4 : at + 4 + size]
        if len(body) < at + 4 or len(field) != size:
            raise ValueError("truncated message")
        fields.append(field)
        at += 4 + size
    if at != len(body):
        raise ValueError("trailing bytes in message")
    return fields


def warm_identity() -> bytes:
    """What a warm worker must share with a cold run of this process: this checkout's
    code, the interpreter, its file-name encoding and the start-up environment."""
    startup = sorted(os.fsencode(f"{k}={v}") for k, v in os.environ.items() if k.startswith(_STARTUP_ENV_PREFIXES))
    return pack([
        WARM_PROTOCOL,
        os.fsencode(os.path.dirname(os.path.abspath(__file__))),
        os.fsencode(sys.executable),
        os.fsencode(sys.prefix),
        sys.getfilesystemencoding().encode(),
        str(sys.flags.utf8_mode).encode(),
        *startup,
    ])


def verify_command_of(argv: list[str]) -> bool:
    """Whether ``argv`` runs ``gateway verify`` (its first word that is not an option or
    the value of ``--config``), as ``gateway.cli`` reads the command."""
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help"):
            return False
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word == "verify"
    return False


def _stream_spec(stream: Any) -> bytes:
    """How a standard stream of this interpreter writes text, for the worker to do the same."""
    return b"\0".join([
        stream.encoding.encode(), stream.errors.encode(), b"1" if stream.line_buffering else b"0",
        b"1" if getattr(stream, "write_through", False) else b"0",
    ])


def _receive_line(sock: Any) -> bytes:
    """One length-prefixed message from the daemon (the greeting)."""
    data = b""
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        chunk = sock.recv(65536)
        if not chunk or len(data) > MAX_MESSAGE:
            raise ConnectionError("greeting cut short")
        data += chunk
    return data[4:]


def _connect_warm(path: str) -> Any | None:
    """A connection to a warm verifier of this user that runs this very code, or None.

    ``_socket`` itself, not ``socket``: the wrapper module imports ``selectors`` and
    ``enum``, a few milliseconds a warm run need not pay."""
    import _socket as socket

    try:
        info = os.stat(path)
        if (info.st_mode & 0o170000) != 0o140000 or info.st_uid != os.getuid():
            return None  # not a socket, or another user's: never hand our streams to it
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:
        return None
    try:
        sock.settimeout(5)
        sock.connect(path)
        # The process listening must be of this user too (the file's owner proves little).
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        if int.from_bytes(creds[4:8], sys.byteorder) != os.getuid():
            raise ConnectionError("the warm verifier runs as another user")
        if _receive_line(sock) != warm_identity()[4:]:
            raise ConnectionError("the warm verifier runs other code or another environment")
        sock.settimeout(None)
        return sock
    except (OSError, ValueError):
        sock.close()
        return None


def _warm_verify(argv: list[str]) -> int | None:
    """Run ``gateway verify`` in a warm verifier's worker; its exit status, or None when
    there is none to use (then nothing was handed over and the command runs here)."""
    path = os.environ.get(VERIFY_SOCKET_ENV)
    if not path or not verify_command_of(argv):
        return None
    streams = (sys.stdin, sys.stdout, sys.stderr)
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return None  # a closed standard stream: the cold run's behaviour is not reproducible there
    if any(stream is None for stream in streams):
        return None
    sock = _connect_warm(path)
    if sock is None:
        return None
    import array
    from _socket import SCM_RIGHTS, SOL_SOCKET

    env = [os.fsencode(f"{k}={v}") for k, v in os.environ.items()]
    request = pack([
        WARM_PROTOCOL, os.fsencode(sys.argv[0] if sys.argv else "gateway"),
        str(len(argv)).encode(), *map(os.fsencode, argv),
        str(len(env)).encode(), *env,
        *(_stream_spec(stream) for stream in streams),
    ])
    cwd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        # From here on the request belongs to the worker: whatever happens, never run here too.
        try:
            sent = sock.sendmsg([request], [(SOL_SOCKET, SCM_RIGHTS, array.array("i", [cwd, 0, 1, 2]))])
            sock.sendall(request[sent:])
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
        except KeyboardInterrupt:
            return 130  # closing the connection stops the worker
        except OSError as exc:  # the daemon went away mid-request
            reply = b"error " + os.fsencode(str(exc))
    finally:
        os.close(cwd)
        sock.close()
    word, _, value = reply.decode("utf-8", "replace").strip().partition(" ")
    if word == "exit" and value.isdigit():
        return int(value)
    if word == "signal":
        what = f"was killed by signal {value}"
    elif word == "error":
        what = f"failed: {value}"
    else:
        what = "closed the connection without a verdict"
    print(f"gateway verify: the warm verifier's worker ({path}) {what}; no verdict", file=sys.stderr)
    return 2


_early: tuple[Path, Any] | None = None


def _repo_root() -> Path:
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


def _config_path(argv: list[str]) -> Path | None:
    from pathlib import Path

    for index, arg in enumerate(argv):
        if arg == "--config" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1])
    default = _repo_root() / "config.toml"
    return default if default.is_file() else None


def _gost_conf(config: Path | None) -> Path:
    """``[verification] openssl_gost_conf`` as gateway.config resolves it."""
    import tomllib
    from pathlib import Path

    default = _repo_root() / "certs" / "openssl-gost.cnf"
    if config is None:
        return default
    with open(config, "rb") as stream:
        value = tomllib.load(stream).get("verification", {}).get("openssl_gost_conf")
    if not isinstance(value, str):
        return default
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else (config.resolve().parent / path).resolve()


def _start_early_digest(argv: list[str]) -> None:
    import tomllib
    from pathlib import Path

    global _early
    if "verify" not in argv:
        return
    document = _document_of(argv[argv.index("verify") + 1 :])
    if document is None or not Path(document).is_file():
        return
    try:
        conf = _gost_conf(_config_path(argv))
    except (OSError, tomllib.TOMLDecodeError):
        return  # gateway.cli reports configuration problems properly
    from validators import gost
    from validators.digests import REPORTED, FileDigests

    gost.configure(conf)
    if gost.digest_support().available:  # the provider only: the engine loads when a signature needs it
        digests = FileDigests(Path(document))
        digests.prefetch(REPORTED)
        _early = (Path(document).resolve(), digests)


#: Options of ``gateway verify`` followed by a value (the document is the one positional).
_VERIFY_VALUES = frozenset({"--signature", "--trust", "--at", "--revocation", "--config"})


def _document_of(rest: list[str]) -> str | None:
    """The DOCUMENT of ``gateway verify`` arguments (options and their values skipped)."""
    words = iter(rest)
    for word in words:
        if word in _VERIFY_VALUES:
            next(words, None)
        elif word == "--":
            return next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def early_digests(document: Path) -> Any | None:
    """The digests already started for ``document``, if this process started them."""
    if _early is not None and _early[0] == document.resolve():
        return _early[1]
    return None


def run() -> None:
    """Console script: ``verify`` in a warm verifier when one is named and reachable;
    otherwise start the document digest early, then run the command line."""
    warm = _warm_verify(sys.argv[1:])
    if warm is not None:
        try:
            sys.stderr.flush()
        finally:
            os._exit(warm)
    _start_early_digest(sys.argv[1:])
    from gateway.cli import run as cli_run

    cli_run()
