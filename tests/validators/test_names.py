"""validators.names: the report package name PPP_OD.zip / PPP_PS.zip (SPEC section 2)."""

from __future__ import annotations

import pytest

from validators.names import REPORT_SUFFIXES, check_report_name

OD_KINDS = ["OD_Q1", "OD_H1", "OD_9M", "OD_Y30", "OD_Y90"]
ALL_KINDS = [*OD_KINDS, "PS"]


def codes(checks: list) -> list[str]:
    return [check.code for check in checks]


def test_every_report_kind_has_a_suffix() -> None:
    assert set(REPORT_SUFFIXES) == set(ALL_KINDS)


@pytest.mark.parametrize("kind", OD_KINDS)
def test_an_od_kind_accepts_ppp_od_zip(kind: str) -> None:
    assert check_report_name("123_OD.zip", "123", kind) == []


def test_the_ps_kind_accepts_ppp_ps_zip() -> None:
    assert check_report_name("123_PS.zip", "123", "PS") == []


@pytest.mark.parametrize("kind", OD_KINDS)
def test_an_od_kind_refuses_ppp_ps_zip_saying_od_was_expected(kind: str) -> None:
    [check] = check_report_name("123_PS.zip", "123", kind)
    assert check.code == "name.report_pattern"
    assert "_OD.zip" in check.detail and kind in check.detail


def test_the_ps_kind_refuses_ppp_od_zip_saying_ps_was_expected() -> None:
    [check] = check_report_name("123_OD.zip", "123", "PS")
    assert check.code == "name.report_pattern" and "_PS.zip" in check.detail


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_another_members_number_is_a_member_number_finding(kind: str) -> None:
    name = f"124_{REPORT_SUFFIXES[kind]}.zip"
    [check] = check_report_name(name, "123", kind)
    assert check.code == "name.member_number"
    assert "124" in check.detail and "123" in check.detail


def test_a_number_that_only_starts_with_the_members_number_is_another_member() -> None:
    assert codes(check_report_name("1230_OD.zip", "123", "OD_Q1")) == ["name.member_number"]


def test_a_wrong_kind_and_a_wrong_number_are_both_reported() -> None:
    assert codes(check_report_name("9_PS.zip", "123", "OD_Y90")) == ["name.report_pattern", "name.member_number"]


@pytest.mark.parametrize("name", ["7_od.zip", "7_Od.ZIP", "7_OD.Zip", "7_PS.ZIP"])
def test_another_letter_case_is_a_pattern_finding_naming_the_correct_name(name: str) -> None:
    kind = "PS" if "ps" in name.lower() else "OD_Q1"
    [check] = check_report_name(name, "7", kind)
    assert check.code == "name.report_pattern" and "letter case" in check.detail
    assert f"7_{'PS' if kind == 'PS' else 'OD'}.zip" in check.remedy_ru


def test_the_members_number_with_leading_zeros_is_returned_with_the_correct_name() -> None:
    [check] = check_report_name("0042_od.zip", "42", "OD_Q1")
    assert check.code == "name.report_pattern"
    assert "Переименуйте архив в 42_OD.zip" in check.remedy_ru


@pytest.mark.parametrize(("name", "member"), [("007_OD.zip", "7"), ("0007_OD.zip", "07")])
def test_leading_zeros_are_the_same_member_written_wrongly(name: str, member: str) -> None:
    [check] = check_report_name(name, member, "OD_H1")
    assert check.code == "name.report_pattern" and f"{member}_OD.zip" in check.remedy_ru


def test_another_members_number_gets_a_remedy_with_the_own_number() -> None:
    [check] = check_report_name("43_PS.zip", "42", "PS")
    assert check.code == "name.member_number" and "42_PS.zip" in check.remedy_ru


def test_an_unknown_kind_names_both_correct_names() -> None:
    [check] = check_report_name("x.zip", "42", "OD_Q5")
    assert "42_OD.zip или 42_PS.zip" in check.remedy_ru


@pytest.mark.parametrize("name", ["123_OD.rar", "123_OD.pdf", "123_OD", "123_OD.zip.zip", "123_OD.7z"])
def test_a_wrong_extension_is_a_pattern_finding(name: str) -> None:
    assert codes(check_report_name(name, "123", "OD_Q1")) == ["name.report_pattern"]


def test_a_rar_extension_is_named_in_the_detail() -> None:
    [check] = check_report_name("123_OD.rar", "123", "OD_Q1")
    assert ".zip" in check.detail


@pytest.mark.parametrize(
    "name",
    [
        "",
        "report.zip",
        "123.zip",
        "_OD.zip",
        "123-OD.zip",
        "123_OD_Q1.zip",
        "123_ODS.zip",
        " 123_OD.zip",
        "123_OD.zip ",
        "123_OD (1).zip",
        "reports/123_OD.zip",
        "OD_123.zip",
        "abc_OD.zip",
    ],
)
def test_garbage_names_are_pattern_findings(name: str) -> None:
    assert codes(check_report_name(name, "123", "OD_Q1")) == ["name.report_pattern"]


def test_a_cyrillic_letter_in_place_of_a_latin_one_is_a_pattern_finding_with_a_hint() -> None:
    [check] = check_report_name("123_ОD.zip", "123", "OD_Q1")  # Cyrillic О
    assert check.code == "name.report_pattern" and "Cyrillic" in check.detail


@pytest.mark.parametrize("name", ["１２３_OD.zip", "١٢٣_OD.zip", "¹²³_OD.zip"])
def test_non_ascii_digits_are_a_pattern_finding(name: str) -> None:
    assert codes(check_report_name(name, "123", "OD_Q1")) == ["name.report_pattern"]


def test_a_five_thousand_digit_number_is_another_member_not_a_crash() -> None:
    assert codes(check_report_name("1" * 5000 + "_OD.zip", "123", "OD_Q1")) == ["name.member_number"]


def test_an_unknown_report_kind_leaves_only_shape_and_number_to_check() -> None:
    assert check_report_name("123_PS.zip", "123", "OD_Q5") == []
    assert codes(check_report_name("124_PS.zip", "123", "OD_Q5")) == ["name.member_number"]


def test_findings_name_the_file() -> None:
    assert [check.file for check in check_report_name("x.zip", "123", "PS")] == ["x.zip"]
