"""The short fuzz run of the normal test command, and the regressions fuzzing found.

With atheris installed, every target runs for a bounded number of executions in a
subprocess (atheris ends the process itself), seeded from the shared corpus and the kept
regression inputs; the exit status must be 0. Without atheris, a deterministic mutation
loop (seeded byte flips, insertions, truncations of the same seeds) runs in-process.

Known bugs (``targets.KNOWN_BUGS``) are tolerated by both, so the run stays green while
they are open; each has an ``xfail(strict=True)`` test below that replays its input
strictly and starts failing (XPASS) once the bug is fixed -- then drop the KNOWN_BUGS
entry and the xfail marker.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fuzz import targets
from tests.fuzz.targets import REGRESSIONS, REPO, TARGET_NAMES

#: SRO_FUZZ_NO_ATHERIS=1 forces the in-process fallback even where atheris is installed.
HAVE_ATHERIS = importlib.util.find_spec("atheris") is not None and not os.environ.get("SRO_FUZZ_NO_ATHERIS")

#: atheris executions per target (including loading the seeds), and a wall-clock cap.
#: Measured here: startup + instrumentation ~2.5 s; cms ~1000 exec/s, names ~10000,
#: certificate ~800, archive ~300 (RAR entries start unar/lsar).
ATHERIS_RUNS = {"cms": 2500, "names": 5000, "certificate": 2500, "archive": 1200}
MAX_TOTAL_TIME_S = 10
#: Fallback without atheris: in-process mutants per target.
FALLBACK_INPUTS = 3000


def _atheris_run(target: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    corpus = tmp_path / "corpus"
    targets.write_seeds(target, corpus)
    env = dict(os.environ, PYTHONPATH=str(REPO), SRO_FUZZ_STRICT="0")
    command = [
        sys.executable, "-m", "tests.fuzz.targets", target,
        f"-atheris_runs={ATHERIS_RUNS[target]}",
        f"-max_total_time={MAX_TOTAL_TIME_S}",
        f"-max_len={targets.MAX_SEED_BYTES}",
        "-seed=20261122",
        "-rss_limit_mb=2048",
        "-timeout=30",
        f"-artifact_prefix={tmp_path}/",
        str(corpus),
    ]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("target", TARGET_NAMES)
def test_short_fuzz_run(target: str, tmp_path: Path) -> None:
    started = time.monotonic()
    if HAVE_ATHERIS:
        proc = _atheris_run(target, tmp_path)
        elapsed = time.monotonic() - started
        done = re.search(r"Done (\d+) in (\d+) second", proc.stderr)
        cov = re.findall(r"cov: (\d+) ft: (\d+)", proc.stderr)
        crashes = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-")))
        print(
            f"atheris {target}: exit {proc.returncode}, "
            f"{done.group(1) if done else '?'} executions, cov/ft {cov[-1] if cov else '?'}, {elapsed:.1f} s"
        )
        assert proc.returncode == 0, (
            f"atheris {target} exited {proc.returncode}; artifacts {crashes} in {tmp_path}\n"
            + "\n".join(line for line in proc.stderr.splitlines() if not line.startswith(("#", "INFO:")))[-6000:]
        )
        return
    run = targets.runner(target, tmp_path)
    for n, data in enumerate(targets.mutations(target, FALLBACK_INPUTS, seed=20261122)):
        try:
            run(data)
        except AssertionError as exc:
            keep = tmp_path / f"crash-{n}"
            keep.write_bytes(data)
            raise AssertionError(f"input #{n} (kept as {keep}): {exc}") from exc
    print(f"mutation loop {target}: {FALLBACK_INPUTS} inputs, {time.monotonic() - started:.1f} s")


# --------------------------------------------------------------------------------------
# regressions found by fuzzing


def _regression_files() -> list[Path]:
    return sorted(p for p in REGRESSIONS.glob("*/*") if p.is_file() and not p.name.startswith("."))


@pytest.mark.parametrize("path", _regression_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_regression_input_gives_nothing_but_its_known_bug(path: Path, tmp_path: Path) -> None:
    """Replayed non-strictly, a kept input may only trigger a bug listed in KNOWN_BUGS."""
    targets.runner(path.parent.name, tmp_path)(path.read_bytes())


@pytest.mark.parametrize("path", _regression_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_kept_crash_input_is_handled_strictly(path: Path, tmp_path: Path) -> None:
    """Every input that once crashed a component is replayed strictly: the four bugs the
    fuzzer found (qualified._utf8, certificatePolicies, mis-tagged extnValue, name_key
    stringprep) are fixed, and these inputs keep them fixed."""
    target = path.parent.name
    data = path.read_bytes()
    if target == "archive":
        targets.fuzz_archive(data, tmp_path, strict=True)
    else:
        {"cms": targets.fuzz_cms, "names": targets.fuzz_names, "certificate": targets.fuzz_certificate}[target](data, strict=True)


def test_every_known_bug_has_a_kept_input() -> None:
    names = {p.name for p in _regression_files()}
    for bug in targets.KNOWN_BUGS:
        assert any(n.startswith(bug.key + "-") for n in names), f"no regression input for {bug.key}"


@pytest.mark.parametrize("name", ["name-key-stringprep-ValueError.der", "name-key-stringprep-TypeError.der"])
def test_trust_store_with_an_odd_subject_does_not_raise(name: str, tmp_path: Path) -> None:
    from validators.trust import load_trust_store

    (tmp_path / "roots").mkdir()
    (tmp_path / "roots" / "odd.cer").write_bytes((REGRESSIONS / "certificate" / name).read_bytes())
    load_trust_store(tmp_path)


def test_signer_certificate_with_non_utf8_sign_tool_gets_a_verdict(pki, store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from validators.signatures.model import SubIndication
    from validators.signatures.revocation import RevocationMode
    from validators.signatures.verify import VerificationPolicy, verify_cms

    # A certificate of the test CA for head256's key, identical in profile to the
    # qualified ones except subjectSignTool = UTF8String "Крипт" in CP1251 (not UTF-8).
    extfile = tmp_path / "ext.cnf"
    extfile.write_text(
        "[ext]\n"
        "basicConstraints = CA:FALSE\n"
        "keyUsage = critical, digitalSignature, nonRepudiation\n"
        "subjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid\n"
        "1.2.643.100.111 = DER:0C05CAF0E8EFF2\n"
        "certificatePolicies = 1.2.643.100.113.1\n"
    )
    csr = tmp_path / "req.pem"
    cert = tmp_path / "odd.pem"
    pki.openssl(
        "req", "-new", "-key", str(pki.key("head256")), "-subj", "/CN=Odd sign tool/SNILS=12345678964",
        "-out", str(csr),
    )
    pki.openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(pki.cert("ca")), "-CAkey", str(pki.key("ca")),
        "-set_serial", "0x4B7E0000DEADBEEF", "-days", "30", "-md_gost12_256",
        "-extfile", str(extfile), "-extensions", "ext", "-out", str(cert),
    )
    document = tmp_path / "d.txt"
    document.write_bytes(b"content")
    signature = tmp_path / "d.sig"
    pki.openssl(
        "cms", "-sign", "-binary", "-in", str(document), "-signer", str(cert), "-inkey", str(pki.key("head256")),
        "-md", "md_gost12_256", "-cades", "-nosmimecap", "-outform", "DER", "-out", str(signature),
    )
    report = verify_cms(
        signature.read_bytes(), store, VerificationPolicy(revocation=RevocationMode.OFF), document=document
    )
    (signer,) = report.signatures
    checks = {c.name: c.passed for c in signer.checks}
    assert signer.sub_indication is not SubIndication.FORMAT_FAILURE, signer.checks
    assert checks.get("signature.value") is True
    assert checks.get("qualified.profile") is False
    assert not signer.qualified
