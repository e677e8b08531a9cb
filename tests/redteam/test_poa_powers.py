"""Red team: an МЧД that names the signer but grants nothing.

The ФНС format requires the powers (``СвПолн`` with at least one ``ТекстПолн`` or
``МашПолн``): a power of attorney without any power authorises nothing, yet it named the
representative, was signed by the head and was in force, so the representative's
signature counted for the member. Such a file is not a usable МЧД: ``poa.format``
(rejected). What the powers say is shown to staff, not interpreted (SECURITY.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.pipeline.decision import Decision
from tests.pki.builder import TestPki
from tests.pki.poa import PoaSpec, poa_xml
from tests.validators.poa_packages import Package, codes, decision, members, poa_pki, validate
from validators.members import MemberList
from validators.poa.parse import parse_poa
from validators.trust import TrustStore

__all__ = ["members", "poa_pki"]

_EMPTY_POWERS = '<СвПолн ТипПолн="1"></СвПолн>'


def _signed_poa(pki: TestPki, folder: Path, text: str, spec: PoaSpec) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / spec.file_name
    path.write_text(text, encoding="utf-8")
    return path, pki.sign("head256", path, path.with_name(path.name + ".sig"))


@pytest.mark.parametrize(
    "powers",
    [_EMPTY_POWERS, "", '<СвПолн ТипПолн="1"><ТекстПолн>   </ТекстПолн></СвПолн>', '<СвПолн ТипПолн="1"><МашПолн КодПолн="" НаимПолн=""/></СвПолн>'],
    ids=["empty-powers-element", "no-powers-element", "blank-text", "blank-classifier-entry"],
)
def test_a_power_of_attorney_granting_nothing_is_not_usable(
    poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path, powers: str
) -> None:
    spec = PoaSpec(powers_text="")
    text = poa_xml(spec).decode("utf-8")
    assert _EMPTY_POWERS in text
    text = text.replace(_EMPTY_POWERS, powers)
    assert parse_poa(text.encode()).poa is None
    package = Package(poa_pki, tmp_path / "p").in_archive(*_signed_poa(poa_pki, tmp_path / "poa", text, spec))
    result = validate(package, store, members, tmp_path)
    assert "poa.format" in codes(result), codes(result)
    assert decision(result) is Decision.REJECTED


def test_control_classifier_powers_alone_are_powers(poa_pki: TestPki, store: TrustStore, members: MemberList, tmp_path: Path) -> None:
    spec = PoaSpec(powers_text="", power_codes=(("SRO_DOCS", "Представление документов в СРО"),))
    package = Package(poa_pki, tmp_path / "p").in_archive(*_signed_poa(poa_pki, tmp_path / "poa", poa_xml(spec).decode("utf-8"), spec))
    result = validate(package, store, members, tmp_path)
    assert result.checks == () and decision(result) is Decision.ACCEPTED


def test_gateway_check_rejects_a_letter_under_a_power_of_attorney_granting_nothing(poa_pki: TestPki, tmp_path: Path) -> None:
    """The same through ``gateway check`` (the МЧД given with ``--power-of-attorney``)."""
    import json

    from tests.servers.cli import gateway
    from tests.servers.packages import MEMBER, letter_by_accountant, members_csv

    spec = PoaSpec(powers_text="")
    xml, _sig = _signed_poa(poa_pki, tmp_path / "poa", poa_xml(spec).decode("utf-8"), spec)
    files = letter_by_accountant(poa_pki, tmp_path / "p")
    run = gateway(
        "check", "--doc-type", "letter", "--member", MEMBER, "--members", members_csv(tmp_path / "m.csv"), "--trust", poa_pki.trust_dir, "--json",
        "--power-of-attorney", xml, *files["document"], *files["signature"], *files["attachment"],
    )
    output = json.loads(run.stdout)
    assert run.returncode == 1, output["checks"]
    assert output["decision"] == "rejected" and "poa.format" in {c["code"] for c in output["checks"]}
