"""The decision mapping (SPEC section 6) and the member list file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gateway.pipeline.decision import Decision, DecisionPolicy, decide
from validators.checks import Severity, finding
from validators.members import MemberList, normalise_person_name


def test_no_findings_is_accepted() -> None:
    assert decide([])[0] is Decision.ACCEPTED


def test_a_fatal_finding_rejects_even_with_fixable_ones() -> None:
    assert decide([finding("name.report_pattern"), finding("archive.bomb")])[0] is Decision.REJECTED


def test_only_fixable_findings_return_the_package() -> None:
    assert decide([finding("signer.not_head")])[0] is Decision.RETURNED


def test_warnings_keep_the_package_accepted() -> None:
    assert decide([finding("pdf.active_content")])[0] is Decision.ACCEPTED


def test_severity_override_from_configuration_changes_the_decision() -> None:
    policy = DecisionPolicy(severity_overrides={"pdf.active_content": Severity.FATAL})
    decision, applied = decide([finding("pdf.active_content")], policy)
    assert decision is Decision.REJECTED and applied[0].severity is Severity.FATAL


def test_override_for_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown check codes"):
        DecisionPolicy(severity_overrides={"no.such": Severity.FATAL})


def test_member_list_is_re_read_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    header = "number,ogrn,inn,name,email,head,status\n"
    path.write_text(header + "1,1027700000008,7700000009,КПК,a@b.ru,Иванов Иван,active\n", encoding="utf-8")
    members = MemberList(path)
    assert members.get("1") is not None and members.get("2") is None
    path.write_text(header + "2,1037700000007,7700000016,КПК 2,c@d.ru,Петров Пётр,active\n", encoding="utf-8")
    future = time.time() + 5
    os.utime(path, (future, future))
    assert members.get("2") is not None and members.get("1") is None


def test_broken_member_list_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("number,ogrn,inn,name,email,head,status\n001,1,2,КПК,a@b.ru,Иванов,active\n", encoding="utf-8")
    members = MemberList(path)
    assert members.get("1") is not None  # leading zeros ignored
    path.write_text("bad header\n", encoding="utf-8")
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert members.get("1") is not None and "header" in (members.problem or "")


def test_head_names_compare_without_case_and_yo() -> None:
    assert normalise_person_name("Семёнов  Пётр Ильич") == normalise_person_name("СЕМЕНОВ ПЕТР ИЛЬИЧ")


def test_a_decision_mapping_without_every_severity_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks severities"):
        DecisionPolicy(by_severity={Severity.FATAL: Decision.REJECTED})
