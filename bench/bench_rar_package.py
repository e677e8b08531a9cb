"""1,000 signed PDFs in one supporting archive, RAR5 against ZIP, through the whole package
validation (`gateway check`), beside the plain tools on the same files (issue 13, section 4).

The package is a letter: a signed cover letter PDF and an archive holding N PDFs, each with
its detached GOST-256 signature (``X.pdf.sig``), so 2N entries. Rows (each a separate
process; the cases alternate round by round; medians):

* ``openssl loop``: ``openssl cms -verify`` once per signature over the extracted files;
* ``unzip + openssl loop`` / ``unar + openssl loop``: the reference for each archive type,
  extraction and verification of the same files by the plain tools;
* ``gateway check, ZIP`` / ``gateway check, RAR5``: the gateway's decision on the package
  (interpreter start, trust store, extraction under the limits and sandbox, type detection
  of every entry, PDF structure checks, every signature verified with revocation from the
  trust store's CRLs). The package must be accepted, or the bench stops.

The RAR is written by hand (stored entries, :mod:`tests.validators.rar_builder`): the
``rar`` tool is not free software and is not installed.

Usage: .venv/bin/python bench/bench_rar_package.py [--files N] [--runs N] [--repo DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from tests.pki.builder import HEAD_EMAIL, KPK_INNLE, KPK_NAME, KPK_OGRN, build_test_pki  # noqa: E402
from tests.pki.pdf import make_pdf  # noqa: E402
from tests.validators.rar_builder import rar5_stored  # noqa: E402

OPENSSL_ENV = {**os.environ, "OPENSSL_CONF": str(HERE / "certs" / "openssl-gost.cnf")}


def _timed(command: list[str], cwd: Path, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    run = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if run.returncode not in ok:
        raise SystemExit(f"{' '.join(command[:4])}... exit {run.returncode}: {run.stdout[-1500:]}{run.stderr[-1500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000, help="signed PDFs in the archive")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repo", type=Path, default=HERE, help="checkout whose gateway is measured")
    args = parser.parse_args()
    repo = args.repo.resolve()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(repo / "gateway"), str(repo / "validators")], check=True)
    work = Path(tempfile.mkdtemp(prefix="bench-rar-package-"))
    try:
        pki = build_test_pki(work / "pki")
        source = work / "files"
        entries: list[tuple[str, bytes]] = []
        for index in range(args.files):
            folder = source / f"docs{index // 100}"
            folder.mkdir(parents=True, exist_ok=True)
            pdf = make_pdf(folder / f"doc{index:04d}.pdf", f"Supporting document {index}", padding_bytes=4096)
            signature = pki.sign("head256", pdf, folder / f"doc{index:04d}.pdf.sig")
            relative = f"docs{index // 100}/{pdf.name}"
            entries += [(relative, pdf.read_bytes()), (relative + ".sig", signature.read_bytes())]
        cover = make_pdf(work / "letter.pdf", "Cover letter")
        cover_sig = pki.sign("head256", cover, work / "letter.pdf.sig")
        zip_path, rar_path = work / "supporting.zip", work / "supporting.rar"
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in entries:
                archive.writestr(name, data)
        rar_path.write_bytes(rar5_stored(entries))
        members = work / "members.csv"
        members.write_text(
            "number,ogrn,inn,name,email,head,status\n"
            f'42,{KPK_OGRN},{KPK_INNLE},"{KPK_NAME}",{HEAD_EMAIL},Иванов Иван Петрович,active\n',
            encoding="utf-8",
        )
        config = work / "config.toml"
        config.write_text(f'[storage]\ndata_dir = "{work / "var"}"\n', encoding="utf-8")
        pairs = [(source / name, source / (name + ".sig")) for name, _ in entries[::2]]
        loop_script = "".join(
            f"openssl cms -verify -binary -inform DER -in '{{d}}/{sig.relative_to(source)}' -content '{{d}}/{doc.relative_to(source)}' "
            f"-CAfile '{pki.ca_bundle}' -out /dev/null 2>/dev/null || exit 1\n"
            for doc, sig in pairs
        )

        def loop_file(folder: Path) -> str:
            """The loop as a shell script file (2,000 command lines do not fit in ``sh -c``)."""
            script = work / f"loop-{folder.name}.sh"
            if not script.exists():
                script.write_text(loop_script.replace("{d}", str(folder)), encoding="utf-8")
            return str(script)

        def extract_and_verify(extract: list[str], folder: Path) -> float:
            shutil.rmtree(folder, ignore_errors=True)
            started = time.perf_counter()
            subprocess.run(extract, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(["sh", loop_file(folder)], env=OPENSSL_ENV, check=True)
            elapsed = time.perf_counter() - started
            shutil.rmtree(folder, ignore_errors=True)
            return elapsed

        def check(archive: Path) -> float:
            command = [
                sys.executable, "-m", "gateway", "--config", str(config), "check", str(cover), str(cover_sig), str(archive),
                "--doc-type", "letter", "--member", "42", "--members", str(members), "--trust", str(pki.trust_dir), "--offline",
            ]
            return _timed(command, repo)

        cases = {
            f"openssl cms -verify loop over the {args.files} signatures (files already extracted)": lambda: _timed(["sh", loop_file(source)], work, OPENSSL_ENV),
            "reference ZIP: unzip + openssl loop": lambda: extract_and_verify(["unzip", "-qq", str(zip_path), "-d", str(work / "x")], work / "x"),
            "gateway check, ZIP (deflate)": lambda: check(zip_path),
            "reference RAR5: unar + openssl loop": lambda: extract_and_verify(["unar", "-q", "-D", "-o", str(work / "x"), str(rar_path)], work / "x"),
            "gateway check, RAR5 (stored)": lambda: check(rar_path),
        }
        samples: dict[str, list[float]] = {label: [] for label in cases}
        for _ in range(args.runs):
            for label, case in cases.items():
                samples[label].append(case())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {label: statistics.median(values) for label, values in samples.items()}
    reference = {"ZIP": medians["reference ZIP: unzip + openssl loop"], "RAR5": medians["reference RAR5: unar + openssl loop"]}
    print(f"{args.files} signed PDFs (+ {args.files} .sig) in one archive, {args.runs} interleaved runs, medians; "
          f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}; gateway of {repo}")
    print("| case | wall s (median) | min | max | ratio |")
    print("|---|---:|---:|---:|---|")
    for label, values in samples.items():
        ratio = ""
        for kind, base in reference.items():
            if label.startswith("gateway") and kind in label:
                ratio = f"{medians[label] / base:.2f}x the {kind} reference"
        print(f"| {label} | {medians[label]:.2f} | {min(values):.2f} | {max(values):.2f} | {ratio} |")


if __name__ == "__main__":
    main()
