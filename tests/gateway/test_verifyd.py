"""The warm verifier (``gateway verifyd``) gives what a cold ``gateway verify`` gives.

Real daemons on a socket in tmp_path; the client is the console entry point
(``gateway.entry.run``) in a subprocess, cold (no ``GATEWAY_VERIFY_SOCKET``) and warm.
The daemon logs one line per worker, which tells a warm answer from a silent fallback.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway import entry
from tests.conftest import REPO
from tests.pki.builder import TestPki

_CLIENT = "import sys; sys.argv[0] = 'gateway'; from gateway.entry import run; run()"
#: A fixed time of judgment (the report says when it judged): within the test PKI's validity.
_AT = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")


@dataclass
class Daemon:
    socket: Path
    log: Path
    process: subprocess.Popen[bytes]

    def served(self) -> int:
        """Workers that finished so far (one log line each)."""
        return self.log.read_text(encoding="utf-8").count(": worker ")


#: ``gateway verifyd`` that keeps a copy of its warm-up sample (argv[1]) for the test.
_KEEPING_DAEMON = (
    "import sys; from pathlib import Path; from gateway import verifyd; verifyd._KEEP_SAMPLE = Path(sys.argv.pop(1)); "
    "from gateway.cli import main; sys.exit(main(sys.argv[1:]))"
)


def _start(folder: Path, *options: str, env: dict[str, str] | None = None, keep_sample: Path | None = None) -> Daemon:
    folder.mkdir(mode=0o700, exist_ok=True)
    path, log = folder / "verifyd.sock", folder / "verifyd.log"
    command = [sys.executable, "-m", "gateway"] if keep_sample is None else [sys.executable, "-c", _KEEPING_DAEMON, str(keep_sample)]
    with open(log, "wb") as out:
        process = subprocess.Popen([*command, "verifyd", "--socket", str(path), *options], cwd=REPO, stdout=out, stderr=out, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 8
    while b"listening on" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"verifyd did not start: {log.read_text(encoding='utf-8')}")
        time.sleep(0.02)
    return Daemon(path, log, process)


def _stop(daemon: Daemon) -> None:
    daemon.process.send_signal(signal.SIGTERM)
    try:
        daemon.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        daemon.process.kill()
        daemon.process.wait(timeout=5)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    started = _start(tmp_path / "run")
    yield started
    _stop(started)


def _gateway(*args: str | Path, cwd: Path, socket_path: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != entry.VERIFY_SOCKET_ENV}
    if socket_path is not None:
        environ[entry.VERIFY_SOCKET_ENV] = str(socket_path)
    return subprocess.run(
        [sys.executable, "-c", _CLIENT, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60, env={**environ, **(env or {})}
    )


def _same(cold: subprocess.CompletedProcess[str], warm: subprocess.CompletedProcess[str]) -> None:
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)


@pytest.fixture
def signed(pki: TestPki, tmp_path: Path) -> tuple[Path, Path]:
    document = tmp_path / "docs" / "Письмо.txt"
    document.parent.mkdir()
    document.write_bytes("Письмо в СРО\n".encode() * 80)
    return document, pki.sign("head256", document, document.with_name(document.name + ".sig"))


def _cases(pki: TestPki, document: Path, signature: Path) -> dict[str, list[str | Path]]:
    return {
        "valid --json --at": ["verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json", "--at", _AT],
        "valid, text --at": ["verify", document, "--trust", pki.trust_dir, "--at", _AT],
        "missing document": ["verify", document.with_name("нет.txt"), "--trust", pki.trust_dir],
        "usage error": ["verify", document, "--at", "вчера"],
    }


def test_warm_runs_give_the_cold_runs_output_and_exit_code(daemon: Daemon, pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    expected_codes = {"valid --json --at": 0, "valid, text --at": 0, "missing document": 2, "usage error": 2}
    for name, args in _cases(pki, document, signature).items():
        before = daemon.served()
        cold = _gateway(*args, cwd=tmp_path)
        warm = _gateway(*args, cwd=tmp_path, socket_path=daemon.socket)
        assert cold.returncode == expected_codes[name], (name, cold.stderr)
        _same(cold, warm)
        assert daemon.served() == before + 1, name
    assert "a cold run replaces" not in daemon.log.read_text(encoding="utf-8")  # the daemon's own GOST configuration: warm


def test_a_tampered_document_fails_warm_as_cold(daemon: Daemon, pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    document.write_bytes(document.read_bytes() + b"!")
    args = ["verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json", "--at", _AT]
    cold, warm = _gateway(*args, cwd=tmp_path), _gateway(*args, cwd=tmp_path, socket_path=daemon.socket)
    assert cold.returncode == 1 and '"HASH_FAILURE"' in cold.stdout
    _same(cold, warm)
    assert daemon.served() == 1


def test_relative_paths_are_read_from_the_clients_directory(daemon: Daemon, pki: TestPki, signed: tuple[Path, Path]) -> None:
    document, _ = signed
    args = ["verify", document.name, "--trust", os.path.relpath(pki.trust_dir, document.parent), "--json", "--at", _AT]
    cold, warm = _gateway(*args, cwd=document.parent), _gateway(*args, cwd=document.parent, socket_path=daemon.socket)
    assert cold.returncode == 0, cold.stderr
    _same(cold, warm)
    assert daemon.served() == 1


def test_a_changed_trust_store_changes_the_warm_verdict_as_a_cold_one(daemon: Daemon, pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    trust = tmp_path / "trust"
    shutil.copytree(pki.trust_dir, trust)
    args = ["verify", document, "--signature", signature, "--trust", trust, "--json", "--at", _AT]
    assert _gateway(*args, cwd=tmp_path, socket_path=daemon.socket).returncode == 0
    for anchor in (trust / "roots").iterdir():
        anchor.unlink()
    cold, warm = _gateway(*args, cwd=tmp_path), _gateway(*args, cwd=tmp_path, socket_path=daemon.socket)
    assert cold.returncode == 1 and '"NO_CERTIFICATE_CHAIN_FOUND"' in cold.stdout
    _same(cold, warm)
    assert daemon.served() == 2


@pytest.mark.parametrize("change", ["remove the anchors", "rewrite a CRL in place", "add a file to ca/"])
def test_a_trust_store_the_daemon_read_at_start_is_read_again_once_changed(change: str, pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    trust = tmp_path / "trust"
    shutil.copytree(pki.trust_dir, trust)
    daemon = _start(tmp_path / "run", "--trust", str(trust))
    try:
        args = ["verify", document, "--signature", signature, "--trust", trust, "--json", "--at", _AT]
        _same(_gateway(*args, cwd=tmp_path), _gateway(*args, cwd=tmp_path, socket_path=daemon.socket))
        if change == "remove the anchors":
            for anchor in (trust / "roots").iterdir():
                anchor.unlink()
        elif change == "rewrite a CRL in place":  # same size, same name: a broken CRL now
            crl = next(p for p in (trust / "crl").iterdir() if p.is_file())
            data = crl.read_bytes()
            crl.write_bytes(b"\0" * len(data))
        else:
            (trust / "ca" / "junk.pem").write_bytes(b"not a certificate")
        cold, warm = _gateway(*args, cwd=tmp_path), _gateway(*args, cwd=tmp_path, socket_path=daemon.socket)
        assert (cold.returncode, cold.stderr) != (0, ""), "the change must change the cold run's output"
        _same(cold, warm)
        assert daemon.served() == 2
    finally:
        _stop(daemon)


def test_without_a_daemon_the_command_runs_in_process_with_the_same_output(pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    args = ["verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json", "--at", _AT]
    cold = _gateway(*args, cwd=tmp_path)
    assert cold.returncode == 0
    _same(cold, _gateway(*args, cwd=tmp_path, socket_path=tmp_path / "no-such.sock"))
    stale = tmp_path / "stale.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(stale))
    listener.close()  # a socket file nobody listens on: connection refused
    _same(cold, _gateway(*args, cwd=tmp_path, socket_path=stale))


def test_a_daemon_started_with_another_startup_environment_is_not_used(daemon: Daemon, pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    args = ["verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json", "--at", _AT]
    run = _gateway(*args, cwd=tmp_path, socket_path=daemon.socket, env={"OPENSSL_CONF": os.devnull})
    assert run.returncode == 0, run.stderr
    assert daemon.served() == 0


def test_the_socket_is_private_to_its_user(daemon: Daemon) -> None:
    info = os.stat(daemon.socket)
    assert (info.st_mode & 0o777, info.st_uid) == (0o600, os.getuid())


def test_a_socket_folder_others_may_write_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    run = subprocess.run(
        [sys.executable, "-m", "gateway", "verifyd", "--socket", str(folder / "s")], cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 2 and "writable by no one else" in run.stderr
    assert not (folder / "s").exists()


def test_a_socket_owned_by_another_user_is_not_used(daemon: Daemon, pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("giving the socket to another user needs root")
    document, signature = signed
    os.chown(daemon.socket, 65534, 65534)
    args = ["verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json", "--at", _AT]
    cold, warm = _gateway(*args, cwd=tmp_path), _gateway(*args, cwd=tmp_path, socket_path=daemon.socket)
    _same(cold, warm)
    assert daemon.served() == 0


def test_a_connection_from_another_user_is_refused() -> None:
    if os.getuid() != 0:
        pytest.skip("connecting as another user needs root")
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="verifyd-"))  # under /tmp: other users can reach it
    daemon = _start(folder / "run")
    try:
        _probe_as_nobody(folder, daemon)
    finally:
        _stop(daemon)
        shutil.rmtree(folder, ignore_errors=True)


def _probe_as_nobody(folder: Path, daemon: Daemon) -> None:
    folder.chmod(0o711)
    daemon.socket.parent.chmod(0o711)
    daemon.socket.chmod(0o666)  # only the peer check is left to keep it out
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(5); s.connect(sys.argv[1])\n"
        "print(repr(s.recv(100)))\n"
    )
    run = subprocess.run(["/usr/bin/python3", "-c", probe, str(daemon.socket)], user=65534, group=65534, capture_output=True, text=True, timeout=30)
    assert run.stdout.strip() == "b''", run.stderr  # closed without a greeting
    assert "refused a connection of uid 65534" in daemon.log.read_text(encoding="utf-8")


def _child_in(daemon: Daemon, cwd: str, not_pid: int | None = None) -> int:
    """The pid of a child of the daemon working in ``cwd`` (waits for it, bounded)."""
    children = Path(f"/proc/{daemon.process.pid}/task/{daemon.process.pid}/children")
    deadline = time.monotonic() + 8
    while True:
        for pid in map(int, children.read_text().split()):
            with contextlib.suppress(OSError):
                if pid != not_pid and os.readlink(f"/proc/{pid}/cwd") == cwd:
                    return pid
        assert time.monotonic() < deadline, f"no child of the daemon in {cwd}"
        time.sleep(0.02)


def _worker_of(daemon: Daemon, cwd: Path) -> int:
    """The daemon's worker serving a client in ``cwd``: a worker takes over its client's
    directory; a spare waiting for a request has not."""
    return _child_in(daemon, str(cwd))


def _spare_of(daemon: Daemon, not_pid: int | None = None) -> int:
    """The daemon's spare: a child still in the daemon's own directory."""
    return _child_in(daemon, os.readlink(f"/proc/{daemon.process.pid}/cwd"), not_pid)


def test_a_worker_killed_by_a_signal_gives_exit_2_with_a_message_and_the_daemon_survives(daemon: Daemon, pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    config = tmp_path / "config.fifo"
    os.mkfifo(config)  # the worker blocks reading its configuration until killed
    environ = {**os.environ, entry.VERIFY_SOCKET_ENV: str(daemon.socket)}
    client = subprocess.Popen(
        [sys.executable, "-c", _CLIENT, "--config", str(config), "verify", str(document), "--trust", str(pki.trust_dir)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ,
    )
    try:
        os.kill(_worker_of(daemon, tmp_path), signal.SIGKILL)
        out, err = client.communicate(timeout=10)
    finally:
        client.kill()
    assert client.returncode == 2 and out == ""
    assert err == f"gateway verify: the warm verifier's worker ({daemon.socket}) was killed by signal 9; no verdict\n"
    args = ["verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json", "--at", _AT]
    assert _gateway(*args, cwd=tmp_path, socket_path=daemon.socket).returncode == 0
    assert daemon.served() == 2


def test_only_the_verify_command_goes_to_the_daemon() -> None:
    assert entry.verify_command_of(["verify", "x"])
    assert entry.verify_command_of(["--config", "verify.toml", "verify", "x"])
    assert not entry.verify_command_of(["--config", "verify", "trust", "show"])
    assert not entry.verify_command_of(["check", "verify"])
    assert not entry.verify_command_of(["--help", "verify"])


def test_messages_round_trip_and_malformed_ones_are_refused() -> None:
    fields = [b"", b"verify", "Отчет.pdf".encode(), b"\0" * 70000]
    message = entry.pack(fields)
    assert int.from_bytes(message[:4], "big") == len(message) - 4
    assert entry.unpack(message[4:]) == fields
    with pytest.raises(ValueError, match="truncated"):
        entry.unpack(message[4:-1])
    with pytest.raises(ValueError, match="trailing"):
        entry.unpack(message[4:] + b"x")


def test_the_daemon_preloads_only_modules_a_cold_verify_loads(pki: TestPki, signed: tuple[Path, Path]) -> None:
    """A preloaded module whose import had side effects a cold run lacks could change a
    verdict: everything preloaded must be something cold runs load anyway."""
    document, _ = signed
    cold = (
        "import json, sys\n"
        "from gateway.cli import main\n"
        "main(sys.argv[1:])\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    loaded: set[str] = set()
    for extra in (["--json"], []):
        run = subprocess.run([sys.executable, "-c", cold, "verify", str(document), "--trust", str(pki.trust_dir), "--revocation", "soft", *extra], cwd=REPO, capture_output=True, text=True, timeout=60)
        loaded |= set(__import__("json").loads(run.stderr.strip().splitlines()[-1]))
    warm = "import json, sys\nfrom gateway.verifyd import preload\npreload()\nprint(json.dumps(sorted(sys.modules)))\n"
    preloaded = set(__import__("json").loads(subprocess.run([sys.executable, "-c", warm], cwd=REPO, capture_output=True, text=True, timeout=60, check=True).stdout))
    assert preloaded - loaded <= {"gateway.verifyd", "selectors", "importlib", "signal", "gc"}, sorted(preloaded - loaded)


def test_a_worker_reuses_the_daemons_copy_of_an_unchanged_trust_store_only(pki: TestPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway import verifyd
    from validators.trust import load_trust_store

    trust = tmp_path / "trust"
    shutil.copytree(pki.trust_dir, trust)
    monkeypatch.setattr(verifyd, "_STORES", {})
    monkeypatch.setattr(verifyd, "_load_trust_store", load_trust_store, raising=False)
    verifyd._preload_store(trust)
    copy = verifyd._STORES[str(trust)][1]
    assert verifyd._cached_trust_store(trust) is copy
    assert verifyd._cached_trust_store(Path(os.path.relpath(trust))) is not copy  # another argument, another store
    os.utime(next((trust / "roots").iterdir()))  # touched: its times changed
    assert verifyd._cached_trust_store(trust) is not copy


def test_the_next_request_is_served_by_the_spare_forked_before_it_came(daemon: Daemon, pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    args = ["verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json", "--at", _AT]
    spare = _spare_of(daemon)
    _same(_gateway(*args, cwd=tmp_path), _gateway(*args, cwd=tmp_path, socket_path=daemon.socket))
    assert f"worker {spare}: exit 0" in daemon.log.read_text(encoding="utf-8")
    assert _spare_of(daemon, not_pid=spare) != spare  # and another waits for the next one


def test_a_spare_that_dies_unused_is_replaced_and_requests_are_still_served(daemon: Daemon, pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    args = ["verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json", "--at", _AT]
    cold = _gateway(*args, cwd=tmp_path)
    for _ in range(3):  # as many as the daemon replaces; then it forks per request again
        spare = _spare_of(daemon)
        os.kill(spare, signal.SIGKILL)
        _same(cold, _gateway(*args, cwd=tmp_path, socket_path=daemon.socket))
    _same(cold, _gateway(*args, cwd=tmp_path, socket_path=daemon.socket))
    children = Path(f"/proc/{daemon.process.pid}/task/{daemon.process.pid}/children").read_text().split()
    assert children == [] and daemon.process.poll() is None and daemon.served() == 4


def test_workers_beyond_the_bound_wait_for_a_free_one(pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    daemon = _start(tmp_path / "run", "--workers", "1")
    config = tmp_path / "config.fifo"
    os.mkfifo(config)  # the first worker blocks reading its configuration
    environ = {**os.environ, entry.VERIFY_SOCKET_ENV: str(daemon.socket)}
    verify = ["verify", str(document), "--signature", str(signature), "--trust", str(pki.trust_dir), "--at", _AT]
    first = subprocess.Popen([sys.executable, "-c", _CLIENT, "--config", str(config), *verify], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ)
    second: subprocess.Popen[bytes] | None = None
    try:
        busy = _worker_of(daemon, tmp_path)
        second = subprocess.Popen([sys.executable, "-c", _CLIENT, *verify], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ)
        time.sleep(1)
        assert second.poll() is None and daemon.served() == 0  # queued behind the busy worker
        os.kill(busy, signal.SIGKILL)
        assert first.wait(timeout=10) == 2 and second.wait(timeout=10) == 0
        assert daemon.served() == 2
    finally:
        for client in (first, second):
            if client is not None:
                client.kill()
                client.communicate(timeout=10)
        _stop(daemon)


# --- warm-up at start and the GOST configuration of a request ---------------------------


def _config(folder: Path, gost_conf: Path) -> Path:
    """A configuration naming ``gost_conf`` as the OpenSSL GOST configuration."""
    config = folder / "config.toml"
    config.write_text(f"[verification]\nopenssl_gost_conf = \"{gost_conf}\"\n", encoding="utf-8")
    return config


@pytest.mark.parametrize("conf", ["a copy of the project's file", "a file that does not exist"])
def test_a_request_choosing_another_gost_configuration_is_run_cold(conf: str, daemon: Daemon, pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    """The daemon's engine was loaded with its own file: a request naming another one gets a
    cold run in the worker's place (a missing file: GOST unavailable, as cold, where the
    daemon's engine would have said "valid")."""
    document, signature = signed
    gost_conf = tmp_path / "gost.cnf"
    if conf.startswith("a copy"):
        shutil.copyfile(REPO / "certs" / "openssl-gost.cnf", gost_conf)
    args = ["verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json", "--at", _AT, "--config", _config(tmp_path, gost_conf)]
    cold, warm = _gateway(*args, cwd=tmp_path), _gateway(*args, cwd=tmp_path, socket_path=daemon.socket)
    if conf.startswith("a copy"):
        assert cold.returncode == 0, cold.stderr
    else:
        assert cold.returncode == 1 and f"OpenSSL config {gost_conf} not found" in cold.stderr
    _same(cold, warm)
    assert daemon.served() == 1 and daemon.log.read_text(encoding="utf-8").count(": a cold run replaces worker ") == 1


def test_the_daemons_gost_configuration_changed_on_disk_is_not_used_by_workers(pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    gost_conf = tmp_path / "gost.cnf"
    shutil.copyfile(REPO / "certs" / "openssl-gost.cnf", gost_conf)
    config = _config(tmp_path, gost_conf)
    daemon = _start(tmp_path / "run", "--config", str(config))
    try:
        args = ["verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json", "--at", _AT, "--config", config]
        before = _gateway(*args, cwd=tmp_path, socket_path=daemon.socket)
        assert before.returncode == 0, before.stderr
        gost_conf.write_text("openssl_conf = no_such_section\n", encoding="utf-8")  # OpenSSL refuses it now
        cold, warm = _gateway(*args, cwd=tmp_path), _gateway(*args, cwd=tmp_path, socket_path=daemon.socket)
        assert cold.returncode == 1 and "GOST support unavailable" in cold.stderr
        _same(cold, warm)
        assert daemon.served() == 2 and daemon.log.read_text(encoding="utf-8").count(": a cold run replaces worker ") == 1  # not before the change
    finally:
        _stop(daemon)


def test_a_document_signed_with_the_warm_up_key_is_refused_warm_as_cold(pki: TestPki, tmp_path: Path) -> None:
    """The warm-up's root is never trusted by a request; its folder is gone after start."""
    sample, scratch = tmp_path / "sample", tmp_path / "tmp"
    scratch.mkdir()
    daemon = _start(tmp_path / "run", env={"TMPDIR": str(scratch)}, keep_sample=sample)
    try:
        assert list(scratch.iterdir()) == []  # the daemon's private warm-up folder was deleted
        assert "warm-up failed" not in daemon.log.read_text(encoding="utf-8")
        document = next(sample.glob("*.txt"))
        args = ["verify", document, "--signature", f"{document}.sig", "--json", "--at", _AT]
        for trust in (pki.trust_dir, tmp_path / "empty"):
            (tmp_path / "empty").mkdir(exist_ok=True)
            cold = _gateway(*args, "--trust", trust, cwd=tmp_path)
            warm = _gateway(*args, "--trust", trust, cwd=tmp_path, socket_path=daemon.socket)
            assert cold.returncode == 1 and '"NO_CERTIFICATE_CHAIN_FOUND"' in cold.stdout
            _same(cold, warm)
        # Its own trust folder does know the root (the sample verifies: the warm-up ran it).
        later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="seconds")  # its certificates were made just now
        own = [*args[:-1], later, "--trust", sample / "trust", "--revocation", "off"]
        cold = _gateway(*own, cwd=tmp_path)
        assert '"NO_CERTIFICATE_CHAIN_FOUND"' not in cold.stdout and '"TOTAL_PASSED"' in cold.stdout
        _same(cold, _gateway(*own, cwd=tmp_path, socket_path=daemon.socket))
        assert daemon.served() == 3
    finally:
        _stop(daemon)


def test_a_daemon_whose_warm_up_fails_still_serves_the_cold_verdicts(pki: TestPki, signed: tuple[Path, Path], tmp_path: Path) -> None:
    document, signature = signed
    daemon = _start(tmp_path / "run", env={"PATH": str(tmp_path / "no-openssl-here")})
    try:
        log = daemon.log.read_text(encoding="utf-8")
        assert log.count("gateway verifyd: warm-up failed, workers start cold: ") == 1, log
        for args in _cases(pki, document, signature).values():
            _same(_gateway(*args, cwd=tmp_path), _gateway(*args, cwd=tmp_path, socket_path=daemon.socket))
        assert daemon.served() == len(_cases(pki, document, signature))
    finally:
        _stop(daemon)


_WARM_UP_TRACES = """
import json, logging, os, sys, threading, warnings
from pathlib import Path
from gateway import verifyd

def state():
    loggers = {name: (getattr(lg, "level", None), getattr(lg, "disabled", None), len(getattr(lg, "handlers", [])))
               for name, lg in logging.root.manager.loggerDict.items()}
    return {
        "root": [logging.root.level, len(logging.root.handlers)], "loggers": loggers, "disable": logging.root.manager.disable,
        "environ": dict(os.environ), "cwd": os.getcwd(), "streams": [id(sys.stdin), id(sys.stdout), id(sys.stderr)],
        "warnings": [str(f) for f in warnings.filters], "threads": threading.active_count(), "fds": sorted(os.listdir("/proc/self/fd")),
    }

verifyd.preload()
assert verifyd._gost_problem(Path(sys.argv[1])) is None
before = state()
assert verifyd._warm_up() is None
after = state()
print(json.dumps({"before": before, "after": after,
      "fd targets": sorted(os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}"))}))
"""


def test_the_warm_up_changes_no_setting_and_touches_no_data_of_the_daemon(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\ndata_dir = \"{data}\"\n", encoding="utf-8")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    run = subprocess.run([sys.executable, "-c", _WARM_UP_TRACES, str(config)], cwd=REPO, capture_output=True, text=True, timeout=60, env={**os.environ, "TMPDIR": str(scratch)})
    assert run.returncode == 0, run.stderr
    found = __import__("json").loads(run.stdout)
    before, after = found["before"], found["after"]
    assert {k: v for k, v in after.items() if k != "loggers"} == {k: v for k, v in before.items() if k != "loggers"}
    assert {name: after["loggers"][name] for name in before["loggers"]} == before["loggers"]  # loggers it created are at their defaults
    assert all(value == [0, False, 0] for name, value in after["loggers"].items() if name not in before["loggers"])
    assert not any(str(scratch) in target for target in found["fd targets"])
    assert not data.exists()  # the daemon's revocation cache (and data folder) was not opened
    assert list(scratch.iterdir()) == []


def test_a_daemon_whose_gost_support_fails_its_checks_does_not_start(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "no-such.cnf")
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    run = subprocess.run(
        [sys.executable, "-m", "gateway", "verifyd", "--socket", str(folder / "s"), "--config", str(config)], cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 2 and "gateway verifyd: GOST support is not available: " in run.stderr
    assert not (folder / "s").exists()
