"""Property tests (hypothesis): report names, file names, the archive walker, certificate
identity. (Arbitrary bytes into the CMS parser and mutated signatures are covered by
tests/validators/test_cms_parsing.py and are not repeated here.)"""

from __future__ import annotations

import base64
import json
import tempfile
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.fuzz.targets import build_zip
from tests.pki import builder
from tests.pki.builder import TestPki
from validators.archives import ArchiveLimits, extract_archive
from validators.files import MAX_NAME_BYTES, check_file_name
from validators.names import REPORT_SUFFIXES, check_report_name
from validators.signatures.certificates import identity_of, load_certificates, summary_of
from validators.signatures.qualified import profile_problems

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

OD_KINDS = sorted(k for k, v in REPORT_SUFFIXES.items() if v == "OD")
PS_KINDS = sorted(k for k, v in REPORT_SUFFIXES.items() if v == "PS")

digits = st.text(alphabet="0123456789", min_size=1, max_size=40)


# --------------------------------------------------------------------------------------
# report names


@PROPERTY
@given(n=st.integers(min_value=0, max_value=10**30), kind=st.sampled_from(OD_KINDS))
def test_any_number_od_zip_is_accepted_for_that_member_and_od_kinds(n: int, kind: str) -> None:
    assert check_report_name(f"{n}_OD.zip", str(n), kind) == []


@PROPERTY
@given(
    number=digits,
    extra_zeros=st.integers(min_value=0, max_value=5),
    suffix=st.sampled_from(["OD", "PS"]),
    case=st.lists(st.booleans(), min_size=6, max_size=6),
    kind_spacing=st.sampled_from(["", " ", "\t"]),
)
def test_digit_names_other_than_the_exact_one_are_returned_naming_it(
    number: str, extra_zeros: int, suffix: str, case: list[bool], kind_spacing: str
) -> None:
    tail = "".join(ch.lower() if low else ch for ch, low in zip(f"{suffix}.zip"[:6], case, strict=False)) + f"{suffix}.zip"[6:]
    name = "0" * extra_zeros + number + "_" + tail
    exact = f"{number}_{suffix}.zip"
    kinds = OD_KINDS if suffix == "OD" else PS_KINDS
    for kind in kinds:
        found = check_report_name(name, number, kind_spacing + kind.lower() + kind_spacing)
        if name == exact:
            assert found == [], (name, kind)
        else:
            assert [c.code for c in found] == ["name.report_pattern"], (name, kind)
            assert f"в {exact} " in found[0].remedy_ru, (name, kind)


@PROPERTY
@given(number=digits, kind=st.sampled_from(PS_KINDS))
def test_od_name_for_a_ps_kind_is_refused(number: str, kind: str) -> None:
    codes = [c.code for c in check_report_name(f"{number}_OD.zip", number, kind)]
    assert codes == ["name.report_pattern"]


@PROPERTY
@given(number=digits, other=digits, kind=st.sampled_from(OD_KINDS))
def test_another_members_number_is_refused(number: str, other: str, kind: str) -> None:
    assume((number.lstrip("0") or "0") != (other.lstrip("0") or "0"))
    assert [c.code for c in check_report_name(f"{number}_OD.zip", other, kind)] == ["name.member_number"]


@PROPERTY
@given(number=digits, before=st.text(max_size=5), after=st.text(max_size=5), kind=st.sampled_from(OD_KINDS))
def test_anything_around_the_pattern_is_refused(number: str, before: str, after: str, kind: str) -> None:
    assume(before or after)
    name = f"{before}{number}_OD.zip{after}"
    assume(not (before.isascii() and before.isdigit() and not after))  # still <digits>_OD.zip
    assert "name.report_pattern" in [c.code for c in check_report_name(name, number, kind)]


# --------------------------------------------------------------------------------------
# file names

names = st.text(max_size=80)


@PROPERTY
@given(head=names, tail=names, separator=st.sampled_from(["/", "\\"]))
def test_name_with_a_path_separator_is_rejected(head: str, tail: str, separator: str) -> None:
    assert [c.code for c in check_file_name(head + separator + tail)] == ["file.name_invalid"]


@PROPERTY
@given(
    head=names,
    tail=names,
    control=st.characters(categories=["Cc"]),
)
def test_name_with_a_control_character_is_rejected(head: str, tail: str, control: str) -> None:
    assert [c.code for c in check_file_name(head + control + tail)] == ["file.name_invalid"]


@PROPERTY
@given(
    head=st.text(max_size=60),
    fill=st.sampled_from(["a", "я", "€", "\U0001d400", "1.pdf"]),
    extra=st.integers(min_value=0, max_value=100),
    tail=st.text(max_size=20),
)
def test_name_over_255_utf8_bytes_is_rejected(head: str, fill: str, extra: int, tail: str) -> None:
    name = head + fill * (MAX_NAME_BYTES // len(fill.encode("utf-8")) + 1 + extra) + tail
    assert len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES
    assert [c.code for c in check_file_name(name)] == ["file.name_invalid"]


@PROPERTY
@given(
    stem=st.text(alphabet="abcdefghijklmnopqrstuvwxyzАБВабвгдеёжзи0123456789_-() ", max_size=60),
    extension=st.sampled_from([".pdf", ".zip", ".rar", ".sig", ".p7s", ".SGN", ""]),
)
def test_ordinary_name_is_accepted(stem: str, extension: str) -> None:
    name = "д" + stem + extension  # never a reserved device name, never blank
    assume(len(name.encode("utf-8")) <= MAX_NAME_BYTES)
    assert check_file_name(name) == []


# --------------------------------------------------------------------------------------
# archive walker

_component_alphabet = st.characters(
    categories=["L", "N"], include_characters=" _-()[]+=,@#№.", exclude_characters="/\\"
)
_component = st.text(_component_alphabet, min_size=1, max_size=20).filter(lambda s: s not in (".", ".."))
_safe_name = st.lists(_component, min_size=1, max_size=3).map("/".join)
_unsafe_name = st.one_of(
    _safe_name.map(lambda s: "../" + s),
    _safe_name.map(lambda s: "/" + s),
    _safe_name.map(lambda s: s + "/../../x"),
    _safe_name.map(lambda s: "C:" + s),
    _safe_name.map(lambda s: "a\\..\\" + s),
)
# Contents never start with ZIP/RAR magic (they would be expanded as nested archives).
_content = st.binary(max_size=3000).filter(lambda b: not b.startswith((b"PK", b"Rar!")))
_COMPRESSIONS = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]


def _unique_by_name(entries: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    seen: dict[str, bytes] = {}
    for name, content in entries:
        # zipfile warns on duplicates; NFC-equal or case-different names are fine, though.
        seen.setdefault(name, content)
    return list(seen.items())


def _extract(data: bytes, limits: ArchiveLimits) -> tuple[object, dict[str, bytes]]:
    with tempfile.TemporaryDirectory(prefix="sro-prop-") as folder:
        upload = Path(folder) / "upload.zip"
        upload.write_bytes(data)
        dest = Path(folder) / "dest"
        result = extract_archive(upload, dest, "pkg.zip", limits)
        written = {f.name: f.path.read_bytes() for f in result.files}
        for f in result.files:
            assert dest.resolve() in f.path.resolve().parents
            assert f.path.stat().st_size == f.size
        on_disk = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
        assert on_disk == sum(f.size for f in result.files)
    return result, written


@PROPERTY
@given(
    entries=st.lists(st.tuples(_safe_name, _content), min_size=1, max_size=12).map(_unique_by_name),
    compression=st.sampled_from(_COMPRESSIONS),
)
def test_safe_entries_round_trip_byte_for_byte(entries: list[tuple[str, bytes]], compression: int) -> None:
    limits = ArchiveLimits(max_entries=50, max_total_bytes=1 << 20, max_entry_bytes=1 << 20)
    result, written = _extract(build_zip(entries, compression=compression), limits)
    assert [c.code for c in result.checks] == []  # type: ignore[attr-defined]
    expected = {f"pkg.zip/{name}": content for name, content in entries}
    assert written == expected
    assert all(f.depth == 1 for f in result.files)  # type: ignore[attr-defined]


@PROPERTY
@given(
    entries=st.lists(st.tuples(_safe_name, _content), min_size=1, max_size=12).map(_unique_by_name),
    unsafe=st.lists(st.tuples(_unsafe_name, _content), min_size=1, max_size=3).map(_unique_by_name),
    seed=st.randoms(use_true_random=False),
)
def test_any_unsafe_name_refuses_the_whole_archive(entries, unsafe, seed) -> None:  # type: ignore[no-untyped-def]
    mixed = _unique_by_name(entries + unsafe)
    seed.shuffle(mixed)
    result, written = _extract(build_zip(mixed, compression=zipfile.ZIP_STORED), ArchiveLimits())
    assert "archive.unsafe_path" in [c.code for c in result.checks]  # type: ignore[attr-defined]
    assert written == {}


@PROPERTY
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=6000), min_size=1, max_size=10),
    limit=st.integers(min_value=1, max_value=20000),
    compression=st.sampled_from(_COMPRESSIONS),
)
def test_total_extracted_bytes_never_exceed_the_limit(sizes: list[int], limit: int, compression: int) -> None:
    entries = [(f"f{i}.bin", bytes([i % 251 + 1]) * size) for i, size in enumerate(sizes)]
    limits = ArchiveLimits(max_total_bytes=limit, max_entry_bytes=limit)
    result, written = _extract(build_zip(entries, compression=compression), limits)
    assert sum(len(v) for v in written.values()) <= limit
    codes = [c.code for c in result.checks]  # type: ignore[attr-defined]
    if sum(sizes) <= limit:
        assert codes == [] and len(written) == len(entries)
    else:
        assert codes == ["archive.too_large"]


# --------------------------------------------------------------------------------------
# certificate identity


def _labels(pki: TestPki) -> list[str]:
    return sorted(json.loads((pki.root_dir / "labels.json").read_text("utf-8")))


def _der(pki: TestPki, label: str) -> bytes:
    (der,) = [c.dump() for c in load_certificates(pki.cert(label).read_bytes())]
    return der


def _encode(der: bytes, how: str, width: int) -> bytes:
    if how == "der":
        return der
    b64 = base64.b64encode(der)
    lines = [b64[i : i + width] for i in range(0, len(b64), width)]
    if how == "base64":
        return b"\r\n".join(lines) + b"\r\n"
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


@PROPERTY
@given(data=st.data())
def test_certificate_identity_survives_der_round_trips(pki: TestPki, data: st.DataObject) -> None:
    labels = data.draw(st.lists(st.sampled_from(_labels(pki)), min_size=1, max_size=4), label="labels")
    how = data.draw(st.sampled_from(["der", "base64", "pem"]), label="encoding")
    width = data.draw(st.sampled_from([64, 76, 1000]), label="width")
    ders = [_der(pki, label) for label in labels]
    if how == "der":
        loaded = [c for der in ders for c in load_certificates(der)]
    else:
        loaded = load_certificates(b"".join(_encode(der, how, width) for der in ders)) if how == "pem" else [
            c for der in ders for c in load_certificates(_encode(der, how, width))
        ]
    assert [c.dump() for c in loaded] == ders
    for label, cert in zip(labels, loaded, strict=True):
        identity = identity_of(cert)  # never raises on the test PKI
        summary = summary_of(cert)
        assert summary.serial == format(pki.serial(label), "X")
        assert identity == identity_of(load_certificates(cert.dump())[0])
        assert isinstance(profile_problems(cert), list)
        if label in ("head256", "head512"):
            assert (identity.snils, identity.inn, identity.ogrn, identity.inn_le) == (
                builder.HEAD_SNILS, builder.HEAD_INN, builder.KPK_OGRN, builder.KPK_INNLE
            )
            assert identity.surname == builder.HEAD_SURNAME and identity.organization == builder.KPK_NAME
            assert profile_problems(cert) == []
        if label == "accountant256":
            assert identity.snils == builder.ACCOUNTANT_SNILS
            assert unicodedata.normalize("NFC", identity.given_name or "") == builder.ACCOUNTANT_GIVEN_NAME


@pytest.mark.parametrize("label", ["nonqualified256"])
def test_non_qualified_certificate_has_profile_problems(pki: TestPki, label: str) -> None:
    (cert,) = load_certificates(pki.cert(label).read_bytes())
    assert profile_problems(cert)
