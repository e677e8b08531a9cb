"""Attacks on PDF signatures by revisions appended after signing (issue 9, section 1).

Rule (SPEC section 3, stricter than Acrobat): after a signature only further signatures,
document timestamps and DSS/VRI validation data may be added. Anything else means the
signature does not cover the document as shown: TOTAL_FAILED/HASH_FAILURE (the rendered
document is not what was hashed; chosen over SIG_CONSTRAINTS_FAILURE, which would only
make it INDETERMINATE), a failed ``pdf.modifications`` check naming the change, and in a
package the fatal finding ``pdf.modified_after_signing``.

Every attack is built here, on a signature that passes before the attack (checked by
``test_the_signed_file_passes_before_any_attack``), with GOST (openssl + gost engine,
placed by pyHanko) and with pyHanko's RSA signer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.pki import pdf as pdfs
from tests.pki.builder import TestPki
from validators.signatures.locate import verify_document
from validators.signatures.model import Indication, SignatureReport, SubIndication
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore

Signer = Callable[[Path, Path], Path]


@pytest.fixture(params=["gost", "rsa"])
def sign(request: pytest.FixtureRequest, pki: TestPki) -> Signer:
    if request.param == "gost":
        return lambda source, target: pdfs.sign_pdf_gost(pki, "head256", source, target)
    return lambda source, target: pdfs.sign_pdf_pyhanko(pki, "rsa_signer", source, target)


@pytest.fixture
def hidden_signed(sign: Signer, tmp_path: Path) -> Path:
    """A signed PDF whose signed revision carries a hidden catalog, pages and content."""
    return sign(pdfs.make_pdf_with_hidden_objects(tmp_path / "hidden.pdf"), tmp_path / "signed.pdf")


@pytest.fixture
def plain_signed(sign: Signer, tmp_path: Path) -> Path:
    return sign(pdfs.make_pdf(tmp_path / "plain.pdf", "Letter to the SRO"), tmp_path / "signed.pdf")


def first_signature(path: Path, store: TrustStore) -> SignatureReport:
    report = verify_document(path, store, VerificationPolicy())
    return report.signatures[0]


def modifications(signature: SignatureReport) -> str:
    [check] = [c for c in signature.checks if c.name == "pdf.modifications"]
    return check.detail if not check.passed else ""


def assert_changed(signature: SignatureReport, *words: str) -> None:
    """TOTAL_FAILED/HASH_FAILURE with a failed pdf.modifications check naming the change."""
    detail = modifications(signature)
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE), detail
    assert detail.startswith("the document was changed after signing"), detail
    for word in words:
        assert word in detail, detail
    assert signature.qualified is False


def test_the_signed_file_passes_before_any_attack(hidden_signed: Path, store: TrustStore) -> None:
    signature = first_signature(hidden_signed, store)
    assert signature.indication is Indication.TOTAL_PASSED
    assert modifications(signature) == ""


# --- incremental saving and signature wrapping -------------------------------------------


def test_new_page_content_in_a_later_revision_fails(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.replace_page_text(plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "unexplained")


def test_trailer_root_pointing_at_a_new_catalog_labelled_xref_fails(hidden_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.new_catalog_labelled_xref(hidden_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "trailer /Root", "instead of the signed catalog 1 0")


def test_switching_to_a_catalog_hidden_in_the_signed_revision_fails(hidden_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.switch_to_hidden_catalog(hidden_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "trailer /Root at object 6 0")


def test_redefining_the_page_content_labelled_xref_fails(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.relabel_content_as_xref(plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "unexplained xrefs")


# --- shadow attacks --------------------------------------------------------------------


def test_shadow_hide_showing_a_hidden_content_stream_fails(hidden_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.shadow_hide(hidden_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "hidden (unreachable) in the signed revision: 9 0 R")


def test_shadow_hide_with_the_hidden_stream_written_in_the_signed_revision_itself_fails(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    signed, hidden = pdfs.sign_pdf_pyhanko_with_hidden_stream(pki, "rsa_signer", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "s.pdf")
    assert first_signature(signed, store).indication is Indication.TOTAL_PASSED
    forged = pdfs.show_stream_on_page(signed, tmp_path / "forged.pdf", hidden)
    assert_changed(first_signature(forged, store), f"hidden (unreachable) in the signed revision: {hidden} 0 R")


def test_shadow_replace_redefining_a_signed_object_fails(hidden_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.shadow_replace(hidden_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "unexplained xrefs")


def test_shadow_hide_and_replace_redefining_the_catalog_fails(hidden_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.shadow_hide_and_replace(hidden_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "hidden (unreachable) in the signed revision: 7 0 R, 8 0 R, 9 0 R")


def test_trailer_info_pointed_at_the_catalog_fails(hidden_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.info_points_at_catalog(hidden_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "trailer /Info at object 1 0")


def test_trailer_info_pointed_at_a_catalog_gaining_an_action_fails(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.info_points_at_catalog_with_action(plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "part of the document itself")


def test_new_info_carrying_a_stream_fails(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.info_with_a_stream(plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "not plain document metadata")


def test_new_info_with_metadata_strings_only_is_allowed(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    """The bookkeeping every editor writes; the line between this and the test above."""
    updated = pdfs.info_with_strings(plain_signed, tmp_path / "info.pdf")
    signature = first_signature(updated, store)
    assert signature.indication is Indication.TOTAL_PASSED and modifications(signature) == ""


def test_bytes_after_the_last_revision_fail(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.append_junk(plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "bytes follow the end of the last revision")


# --- overlays and form filling -----------------------------------------------------------


@pytest.mark.parametrize("subtype", ["FreeText", "Stamp", "Square", "Text"])
def test_annotation_with_an_appearance_added_after_signing_fails(subtype: str, plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.add_overlay_annotation(plain_signed, tmp_path / "forged.pdf", subtype)
    assert_changed(first_signature(forged, store), "only signatures, document timestamps and DSS data may be added")


def test_annotation_fails_even_when_the_certification_allows_comments(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    certified = pdfs.certify_pdf_pyhanko(pki, "rsa_signer", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "certified.pdf", permission=3)
    assert first_signature(certified, store).indication is Indication.TOTAL_PASSED
    forged = pdfs.add_overlay_annotation(certified, tmp_path / "forged.pdf", "FreeText")
    assert_changed(first_signature(forged, store))


def test_filling_a_borderless_text_field_after_signing_fails(sign: Signer, store: TrustStore, tmp_path: Path) -> None:
    signed = sign(pdfs.make_pdf_with_text_field(tmp_path / "form.pdf"), tmp_path / "signed.pdf")
    assert first_signature(signed, store).indication is Indication.TOTAL_PASSED
    forged = pdfs.fill_text_field(signed, tmp_path / "filled.pdf")
    assert_changed(first_signature(forged, store))


def test_need_appearances_set_after_signing_fails(sign: Signer, store: TrustStore, tmp_path: Path) -> None:
    signed = sign(pdfs.make_pdf_with_text_field(tmp_path / "form.pdf"), tmp_path / "signed.pdf")
    forged = pdfs.set_need_appearances(signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "/NeedAppearances")


def test_form_default_font_repointed_after_signing_fails(sign: Signer, store: TrustStore, tmp_path: Path) -> None:
    signed = sign(pdfs.make_pdf_with_text_field(tmp_path / "form.pdf"), tmp_path / "signed.pdf")
    forged = pdfs.repoint_form_font(signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "/AcroForm /DR /Font/Helv")


def test_new_unsigned_visible_signature_field_painting_over_the_page_fails(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.add_empty_visible_signature_field(plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "visible fields added without a signature behind them: Overlay (unsigned)")


def test_visible_document_timestamp_painting_over_the_page_fails(pki: TestPki, plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    """A timestamp vouches for no content and any TSA makes one: it may not paint."""
    forged = pdfs.timestamp_into_visible_field(pki, "rsa_signer", plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "Overlay (document timestamp)")


def test_a_later_signature_does_not_launder_an_overlay_in_its_own_revision(pki: TestPki, plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    both = pdfs.sign_pdf_pyhanko_with_overlay(pki, "rsa_signer", plain_signed, tmp_path / "both.pdf")
    first, second = verify_document(both, store, VerificationPolicy()).signatures
    assert_changed(first)
    assert second.indication is Indication.TOTAL_PASSED  # it covers the whole file, overlay included


# --- actions, names, resources -----------------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [pdfs.add_open_action, pdfs.add_names_javascript],
    ids=["OpenAction", "Names-JavaScript"],
)
def test_catalog_entry_added_after_signing_fails(attack: Callable[[Path, Path], Path], plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = attack(plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store))


def test_page_additional_action_added_after_signing_fails(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.add_page_additional_action(plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "unexplained xrefs")


def test_page_resources_changed_after_signing_fail(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.change_page_resources(plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "unexplained xrefs")


# --- what stays allowed ----------------------------------------------------------------------


def test_second_signature_in_a_new_field_keeps_the_first_valid(pki: TestPki, plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    both = pdfs.sign_pdf_pyhanko(pki, "ecdsa_signer", plain_signed, tmp_path / "both.pdf", field="Signature2")
    first, second = verify_document(both, store, VerificationPolicy()).signatures
    assert first.indication is second.indication is Indication.TOTAL_PASSED
    assert [c.detail for c in first.checks if c.name == "pdf.modifications"] == [
        "later revisions only add signatures, document timestamps or validation data (DSS)"
    ]


def test_second_signature_in_a_new_visible_field_keeps_the_first_valid(pki: TestPki, plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    both = pdfs.sign_pdf_pyhanko(pki, "rsa_signer", plain_signed, tmp_path / "both.pdf", field="Signature2", box=(300, 50, 550, 120))
    first, second = verify_document(both, store, VerificationPolicy()).signatures
    assert first.indication is second.indication is Indication.TOTAL_PASSED
    assert modifications(first) == ""


def test_document_timestamp_keeps_the_signature_valid(pki: TestPki, plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    stamped = pdfs.timestamp_pdf(pki, "rsa_signer", plain_signed, tmp_path / "stamped.pdf")
    signature = first_signature(stamped, store)
    assert signature.indication is Indication.TOTAL_PASSED and modifications(signature) == ""


def test_dss_and_vri_added_by_an_ltv_update_keep_the_signature_valid(pki: TestPki, plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    updated = pdfs.add_dss(pki, plain_signed, tmp_path / "ltv.pdf")
    data = updated.read_bytes()
    assert b"/DSS" in data[len(plain_signed.read_bytes()):] and b"/VRI" in data
    signature = first_signature(updated, store)
    assert signature.indication is Indication.TOTAL_PASSED and modifications(signature) == ""


def test_dss_update_then_an_overlay_still_fails(pki: TestPki, plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    updated = pdfs.add_dss(pki, plain_signed, tmp_path / "ltv.pdf")
    forged = pdfs.add_overlay_annotation(updated, tmp_path / "forged.pdf", "Square")
    assert_changed(first_signature(forged, store))


# --- SHA-1 binding ---------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["rsa_signer", "head256"])
def test_adbe_pkcs7_sha1_binding_fails_the_algorithm_policy_even_with_a_strong_cms_digest(label: str, pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    """The CMS digest is SHA-256 / Streebog and passes the CMS policy; the document is
    bound only by the SHA-1 signed as content."""
    signed = pdfs.sign_pdf_gost(pki, label, pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "sha1.pdf", subfilter="sha1")
    signature = first_signature(signed, store)
    checks = {c.name: c for c in signature.checks}
    assert checks["pdf.sha1_content"].passed and checks["content.digest"].passed and checks["algorithm.policy"].passed
    assert (signature.indication, signature.sub_indication) == (Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE)
    assert not checks["pdf.digest_policy"].passed and "/adbe.pkcs7.sha1" in checks["pdf.digest_policy"].detail
    assert signature.qualified is False


def test_sha1_digest_in_the_cms_of_a_pdf_signature_fails(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    signed = pdfs.sign_pdf_gost(pki, "rsa_signer", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "s.pdf", subfilter="pkcs7", digest="sha1")
    signature = first_signature(signed, store)
    assert (signature.indication, signature.sub_indication) == (Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE)
    [check] = [c for c in signature.checks if c.name == "pdf.digest_policy"]
    assert not check.passed and "SHA-1 in the CMS digest algorithm" in check.detail


def test_sha256_pdf_signature_has_no_weak_binding(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    signed = pdfs.sign_pdf_gost(pki, "rsa_signer", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "s.pdf", subfilter="pkcs7")
    signature = first_signature(signed, store)
    assert signature.indication is Indication.TOTAL_PASSED
    assert not [c for c in signature.checks if c.name == "pdf.digest_policy"]


# --- cross-reference tricks ----------------------------------------------------------------


def test_freeing_the_page_content_after_signing_fails(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.free_page_content(plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store), "freed")


def test_metadata_pointed_at_the_page_content_fails(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    forged = pdfs.metadata_pointed_at_page_content(plain_signed, tmp_path / "forged.pdf")
    assert_changed(first_signature(forged, store))


def test_revision_whose_prev_skips_the_signed_one_leaves_no_signature(plain_signed: Path, store: TrustStore, tmp_path: Path) -> None:
    """Readers follow /Prev from the last startxref and never see the signed revision:
    the document shown is unsigned, and so is our verdict (no signature, exit 1,
    ``signature.missing`` in a package)."""
    forged = pdfs.skip_signed_revision(plain_signed, tmp_path / "forged.pdf")
    report = verify_document(forged, store, VerificationPolicy())
    assert report.signatures == () and not report.all_qualified_and_passed


# --- the author's certification (DocMDP) -----------------------------------------------------


@pytest.fixture
def certified_no_changes(pki: TestPki, tmp_path: Path) -> Path:
    return pdfs.certify_pdf_pyhanko(pki, "rsa_signer", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "certified.pdf", permission=1)


def test_second_signature_after_a_no_changes_certification_fails(pki: TestPki, certified_no_changes: Path, store: TrustStore, tmp_path: Path) -> None:
    both = pdfs.sign_pdf_pyhanko(pki, "ecdsa_signer", certified_no_changes, tmp_path / "both.pdf", field="Signature2", ignore_certification=True)
    assert_changed(first_signature(both, store), "DocMDP P=1")


def test_document_timestamp_after_a_no_changes_certification_is_allowed(pki: TestPki, certified_no_changes: Path, store: TrustStore, tmp_path: Path) -> None:
    stamped = pdfs.timestamp_pdf(pki, "rsa_signer", certified_no_changes, tmp_path / "stamped.pdf")
    signature = first_signature(stamped, store)
    assert signature.indication is Indication.TOTAL_PASSED and modifications(signature) == ""


def test_second_signature_after_a_form_filling_certification_is_allowed(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    certified = pdfs.certify_pdf_pyhanko(pki, "rsa_signer", pdfs.make_pdf(tmp_path / "p.pdf"), tmp_path / "certified.pdf", permission=2)
    both = pdfs.sign_pdf_pyhanko(pki, "ecdsa_signer", certified, tmp_path / "both.pdf", field="Signature2")
    signature = first_signature(both, store)
    assert signature.indication is Indication.TOTAL_PASSED and modifications(signature) == ""
