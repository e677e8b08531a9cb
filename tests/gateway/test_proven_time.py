"""A back-dated signature with an expired certificate, as a member would send it: `gateway
verify` exits 1 and the intake pipeline (`gateway check`) rejects the package; the same
signature with a valid signature time-stamp inside the validity passes both."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.pki.builder import TestPki
from tests.pki.tsa import TsaPki
from tests.servers.cli import gateway
from tests.servers.packages import MEMBER, make_zip, members_csv


def _signed(tsa: TsaPki, folder: Path, *, stamped: bool) -> tuple[Path, Path]:
    """report.xml and its detached signature by the head's expired certificate, the
    signingTime set to a month ago (and, with ``stamped``, a time-stamp of that moment)."""
    folder.mkdir(parents=True, exist_ok=True)
    document = folder / "report.xml"
    document.write_bytes("<Отчет>ОД КПК</Отчет>".encode())
    moment = tsa.now - timedelta(days=30)
    signature = tsa.sign("lapsed256", document, folder / "report.xml.sig", signing_time=moment)
    tsa.add_revocation_values(signature, [tsa.crl("ca", moment - timedelta(hours=1), moment + timedelta(days=7))])
    if stamped:
        tsa.add_timestamp(signature, tsa.token_by_cms("tsa256", tsa.signature_value(signature), moment + timedelta(minutes=1)))
    return document, signature


def test_gateway_verify_exits_1_for_backdated_signature_with_expired_certificate(tsa: TsaPki, pki: TestPki, tmp_path: Path) -> None:
    document, signature = _signed(tsa, tmp_path, stamped=False)
    run = gateway("verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json")
    assert run.returncode == 1, run.stderr
    [result] = json.loads(run.stdout)["signatures"]
    assert result["sub_indication"] == "OUT_OF_BOUNDS_NO_POE"
    assert result["signing_time"] is not None and result["timestamp"] is None


def test_gateway_verify_exits_0_when_a_time_stamp_proves_the_moment(tsa: TsaPki, pki: TestPki, tmp_path: Path) -> None:
    document, signature = _signed(tsa, tmp_path, stamped=True)
    run = gateway("verify", document, "--signature", signature, "--trust", pki.trust_dir, "--json")
    assert run.returncode == 0, run.stdout
    [result] = json.loads(run.stdout)["signatures"]
    assert result["timestamp"]["valid"] is True and result["validation_time"] == result["timestamp"]["gen_time"]
    text = gateway("verify", document, "--signature", signature, "--trust", pki.trust_dir).stdout
    assert "заявлено подписантом" in text and "Подтверждено штампом времени" in text


def _check(package: Path, pki: TestPki, tmp_path: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    run = gateway(
        "check", "--doc-type", "report", "--member", MEMBER, "--report-kind", "OD_Q1",
        "--members", members_csv(tmp_path / "m.csv"), "--trust", pki.trust_dir, "--json", package,
    )
    return run.returncode, json.loads(run.stdout)


def test_package_with_backdated_expired_signature_is_rejected(tsa: TsaPki, pki: TestPki, tmp_path: Path) -> None:
    package = make_zip(tmp_path / f"{MEMBER}_OD.zip", list(_signed(tsa, tmp_path / "in", stamped=False)))
    code, output = _check(package, pki, tmp_path)
    assert code == 1
    assert output["decision"] == "rejected"
    assert "signature.expired" in {c["code"] for c in output["checks"]}


def test_package_with_time_stamped_signature_inside_the_validity_is_accepted(tsa: TsaPki, pki: TestPki, tmp_path: Path) -> None:
    package = make_zip(tmp_path / f"{MEMBER}_OD.zip", list(_signed(tsa, tmp_path / "in", stamped=True)))
    code, output = _check(package, pki, tmp_path)
    assert (code, output["decision"]) == (0, "accepted"), output["checks"]
    assert output["signatures"][0]["timestamp"]["valid"] is True
