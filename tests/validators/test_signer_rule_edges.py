"""Edges of the whose-signature and МЧД rules (``validators/signers.py``,
``validators/package.py``, ``validators/poa/``) that a one-line change slipped past in a
mutation pass: a sole proprietor's certificate, an empty head name, a Moscow-date boundary
of an МЧД, an МЧД signed with the head's name under another organisation's certificate,
several МЧД for one signer, a head's signature that does not verify beside a valid one of
someone else, person-signed accounting statements, МЧД format rules (one principal, an
identified representative, kinds of re-delegation, СНИЛС length) and an oversized answer
of the МЧД registry."""

from __future__ import annotations

import http.server
import json
import threading
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import HEAD_EMAIL, KPK_INNLE, KPK_NAME, KPK_OGRN, TestPki
from tests.pki.poa import PoaSpec, issue_personal_certificates, poa_xml, write_signed_poa
from tests.pki.signer_edges import HEAD_AT_FOREIGN, add_signer_edge_certificates
from tests.validators.packages import MEMBER, codes, letter, report_package, signed_entries, validate, verdict, zip_of
from validators.catalogue import Slot
from validators.members import Member
from validators.poa.parse import normalise_snils, parse_poa
from validators.poa.revocation import MAX_REGISTRY_ANSWER, query_registry
from validators.poa.verify import is_personal_certificate, validity_findings
from validators.signatures.model import Indication, SignatureReport, SignerIdentity
from validators.signers import SignerRole, signer_is_head, signer_role
from validators.trust import TrustStore

MEMBER_ROW = Member(MEMBER, KPK_OGRN, KPK_INNLE, KPK_NAME, HEAD_EMAIL, "Иванов Иван Петрович", "active")


def _passed(identity: SignerIdentity) -> SignatureReport:
    return SignatureReport(Indication.TOTAL_PASSED, None, True, identity, None, None, None, None, ())


@pytest.fixture(scope="module")
def edge_pki(pki: TestPki) -> TestPki:
    return add_signer_edge_certificates(issue_personal_certificates(pki))


# --- roles -----------------------------------------------------------------------------------


def test_a_sole_proprietors_certificate_is_another_organisation_not_a_person() -> None:
    """ОГРНИП beside СНИЛС: the certificate speaks for a business, which no МЧД of the
    member can make the member's."""
    identity = SignerIdentity(surname="Петров", ogrnip="304770000000012", snils="23456789012", inn="770000000022")
    assert signer_role(_passed(identity), MEMBER_ROW) is SignerRole.OTHER_ORG


def test_a_member_without_a_head_name_has_no_head() -> None:
    """An empty ``head`` in the member list matches no certificate, not one without names."""
    nameless = _passed(SignerIdentity(ogrn=KPK_OGRN, inn_le=KPK_INNLE))
    member = Member(MEMBER, KPK_OGRN, KPK_INNLE, KPK_NAME, HEAD_EMAIL, "", "active")
    assert not signer_is_head(nameless, member) and signer_role(nameless, member) is SignerRole.MEMBER_ORG


def test_a_certificate_with_ogrn_but_no_inn_le_is_not_personal() -> None:
    assert not is_personal_certificate(SignerIdentity(snils="23456789012", ogrn=KPK_OGRN))


# --- МЧД --------------------------------------------------------------------------------------


def test_the_validity_of_a_poa_is_judged_on_the_moscow_date() -> None:
    """21:30 UTC is already the next day in Moscow (UTC+3)."""
    issued, until = date(2026, 3, 10), date(2026, 3, 20)
    poa = parse_poa(poa_xml(PoaSpec(issued=issued, valid_until=until))).poa
    assert poa is not None
    evening_before_issue = datetime(2026, 3, 9, 21, 30, tzinfo=UTC)  # 10.03 00:30 MSK
    evening_of_last_day = datetime(2026, 3, 20, 21, 30, tzinfo=UTC)  # 21.03 00:30 MSK
    assert validity_findings(poa, evening_before_issue, "a.pdf") == []
    assert [c.code for c in validity_findings(poa, evening_of_last_day, "a.pdf")] == ["poa.expired"]


def _representative_letter(pki: TestPki, tmp_path: Path, *poa_files: Path) -> Path:
    """The supporting ZIP of a letter signed by the accountant's personal certificate."""
    inner = tmp_path / "inner"
    inner.mkdir(exist_ok=True)
    attachment = pdfs.make_pdf(inner / "Справка.pdf", "Attachment")
    signature = pki.sign("accountant_personal", attachment, inner / "Справка.pdf.sig")
    archive = tmp_path / "Приложение.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in (attachment, signature, *poa_files):
            out.write(file, file.name)
    return archive


def test_an_expired_poa_is_recorded_as_not_valid(edge_pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    spec = PoaSpec(issued=date.today() - timedelta(days=400), valid_until=date.today() - timedelta(days=2))
    archive = _representative_letter(edge_pki, tmp_path, *write_signed_poa(edge_pki, tmp_path / "poa", spec))
    result = letter(store, edge_pki, tmp_path, archive, cover_label="accountant_personal")
    assert codes(result) == {"poa.expired"}
    [cover] = [s for s in result.signatures if s.file == "Письмо.pdf"]
    assert cover.to_json()["power_of_attorney"]["valid"] is False


@pytest.mark.parametrize("expired_first", [True, False])
def test_one_valid_poa_among_several_naming_the_signer_is_enough(edge_pki: TestPki, store: TrustStore, tmp_path: Path, expired_first: bool) -> None:
    expired = PoaSpec(number="00000000-0000-0000-0000-00000000000" + ("1" if expired_first else "2"),
                      issued=date.today() - timedelta(days=400), valid_until=date.today() - timedelta(days=2))
    valid = PoaSpec(number="00000000-0000-0000-0000-00000000000" + ("2" if expired_first else "1"))
    files = [*write_signed_poa(edge_pki, tmp_path / "poa", expired), *write_signed_poa(edge_pki, tmp_path / "poa", valid)]
    result = letter(store, edge_pki, tmp_path, _representative_letter(edge_pki, tmp_path, *files), cover_label="accountant_personal")
    assert result.checks == ()


def test_a_poa_signed_by_the_head_with_another_organisations_certificate_is_rejected(edge_pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    """His name, СНИЛС and ИНН are right, but the certificate speaks for another organisation."""
    files = write_signed_poa(edge_pki, tmp_path / "poa", PoaSpec(), label=HEAD_AT_FOREIGN)
    result = letter(store, edge_pki, tmp_path, _representative_letter(edge_pki, tmp_path, *files), cover_label="accountant_personal")
    assert "poa.signature" in codes(result) and verdict(result) == "rejected"


# --- several signatures on one document --------------------------------------------------------


def _report_signed_by(pki: TestPki, tmp_path: Path, first: str, second: str) -> Path:
    """A report ZIP whose report.xml carries the signature of ``first`` co-signed by ``second``."""
    folder = tmp_path / "signed"
    folder.mkdir()
    document = folder / "report.xml"
    document.write_bytes("<Отчет>ОД КПК</Отчет>".encode())
    signature = pki.sign(first, document, folder / "first.sig")
    both = pki.cosign(signature, second, document, folder / "report.xml.sig")
    return zip_of(tmp_path / f"{MEMBER}_OD.zip", {"report.xml": document.read_bytes(), "report.xml.sig": both.read_bytes()})


def test_a_head_signature_that_does_not_verify_does_not_make_the_report_the_heads(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    """The head's certificate expired: only the accountant's signature is usable, and the
    accountant may not sign a report."""
    package = _report_signed_by(pki, tmp_path, "accountant256", "expired256")
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, package)], report_kind="OD_Q1")
    assert "signer.not_head" in codes(result)


@pytest.mark.parametrize("accountant_file", ["report.xml.sig", "report.xml.p7s"])
def test_a_report_signed_by_the_head_and_by_the_accountant_is_the_heads(pki: TestPki, store: TrustStore, tmp_path: Path, accountant_file: str) -> None:
    """Two detached signatures of report.xml, in either order: the head's one suffices."""
    document = tmp_path / "report.xml"
    document.write_bytes("<Отчет>ОД КПК</Отчет>".encode())
    by = {name: pki.sign(label, document, tmp_path / f"{label}.sig").read_bytes() for name, label in
          ((accountant_file, "accountant256"), ({"report.xml.sig": "report.xml.p7s", "report.xml.p7s": "report.xml.sig"}[accountant_file], "head256"))}
    package = zip_of(tmp_path / f"{MEMBER}_OD.zip", {"report.xml": document.read_bytes(), **by})
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, package)], report_kind="OD_Q1")
    assert result.checks == (), result.checks


def test_accounting_statements_signed_only_by_a_person_are_not_the_members(edge_pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    """The statements of an OD_Y90 report count only with the member's signature (head or
    organisation certificate); a personal certificate without an МЧД is not the member."""
    xml = f'<?xml version="1.0" encoding="utf-8"?><Файл><Документ КНД="0710099" ОКУД="0710001"><СвНП ИННЮЛ="{KPK_INNLE}"/></Документ></Файл>'
    statements = signed_entries(edge_pki, tmp_path, "NO_BOUPR_7700_7700.xml", xml.encode(), "accountant_personal")
    package = report_package(edge_pki, tmp_path, extra=statements)
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, package)], report_kind="OD_Y90")
    assert "report.accounting_missing" in codes(result)


# --- МЧД format and registry -----------------------------------------------------------------


def _poa_with(old: str, new: str) -> bytes:
    """The default МЧД with ``old`` replaced by ``new`` (once)."""
    data = poa_xml(PoaSpec())
    assert old.encode() in data
    return data.replace(old.encode(), new.encode(), 1)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (_poa_with("</Доверит></СвДоверит>", "</Доверит><Доверит/></СвДоверит>"), "2 principals"),
        (_poa_with('<СведФизЛ ИННФЛ="770000000022" СНИЛС="234-567-890 12"', "<СведФизЛ"), "neither СНИЛС nor ИННФЛ"),
    ],
    ids=["two-principals", "representative-without-identifiers"],
)
def test_a_poa_that_does_not_name_one_principal_and_an_identified_representative_is_malformed(data: bytes, why: str) -> None:
    parsed = parse_poa(data)
    assert parsed.poa is None and why in (parsed.problem or "")


def test_any_kind_of_poa_but_the_principals_own_is_a_re_delegation() -> None:
    poa = parse_poa(poa_xml(PoaSpec(kind="3"))).poa
    assert poa is not None and poa.is_redelegated


def test_a_certificate_snils_is_eleven_digits_or_nothing() -> None:
    assert normalise_snils("123-456-789 64") == "12345678964"
    assert normalise_snils("1234567896") is None and normalise_snils("123456789641") is None


def test_an_oversized_registry_answer_is_no_answer() -> None:
    """Even one that says "revoked": more than 64 KiB is not read, and the МЧД stays to be
    checked by hand (a warning), never decided by a truncated or padded answer."""
    body = json.dumps({"status": "revoked", "padding": "x" * (MAX_REGISTRY_ANSWER + 1)}).encode()

    class Registry(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            answer = query_registry(f"http://127.0.0.1:{server.server_address[1]}/poa", "0b6f", KPK_INNLE, 5.0)
        finally:
            server.shutdown()
    assert (answer.consulted, answer.status) == (False, None) and "larger than" in answer.detail
