"""The table of genuine packages (tests/realworld/test_genuine_packages.py): every document
type, in every form SPEC allows, as members send them.

A wrong «Возвращен»/«Отклонен» on an honest member's package is as bad as a false accept.
Each case builds one package as members send it (seeds/sro-cabinet-instruction.txt) and
posts it to the real HTTP routes; the decision must be ``accepted``. The table covers
document types × signers (head with an ФНС-style or Bank of Russia organisation
certificate, acting head with an order, representative with an МЧД, the audit
commission's chair) × containers (detached DER/PEM/base64-CRLF ``.sig``/``.p7s``/``.sgn``,
attached CMS, PAdES, ZIP UTF-8/CP866, RAR4/RAR5, nested folders, CAdES-T)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.pki.builder import KPK_INNLE, KPK_OGRN
from tests.pki.poa import PoaSpec
from tests.pki.realworld_heads import HEAD_LAYOUTS
from tests.pki.textpdf import text_pdf
from tests.realworld.kit import Kit
from tests.servers.packages import MEMBER
from validators.catalogue import LETTER_LIKE, REGULATION_KINDS, REPORT_KINDS

Files = dict[str, list[Path]]
Case = Callable[[Kit], tuple[dict[str, str], Files]]
CASES: dict[str, Case] = {}

LETTER_TYPES = [code for code, _ in LETTER_LIKE]


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        assert name not in CASES
        CASES[name] = fn
        return fn

    return register


# --- reports: one ZIP named PPP_OD.zip / PPP_PS.zip --------------------------------------

def _report(kit: Kit, kind: str, entries: list[tuple[str, Path]], form: str = "zip") -> tuple[dict[str, str], Files]:
    suffix = REPORT_KINDS[kind][1]
    if kind == "OD_Y90":
        statements = kit.statements()
        entries = [*entries, (statements.name, statements), (statements.name + ".sig", kit.sign("head256", statements))]
    package = kit.archive(f"{MEMBER}_{suffix}.zip", entries, form)
    return {"member": MEMBER, "doc_type": "report", "report_kind": kind}, {"document": [package]}


def _report_xml(kit: Kit, name: str = "report.xml") -> Path:
    return kit.file(name, '<?xml version="1.0" encoding="UTF-8"?><Отчет>ОД КПК</Отчет>'.encode())


for _kind in REPORT_KINDS:
    def _by_kind(kit: Kit, kind: str = _kind) -> tuple[dict[str, str], Files]:
        xml = _report_xml(kit)
        return _report(kit, kind, [(xml.name, xml), (xml.name + ".sig", kit.sign("head256", xml))])

    case(f"report-{_kind}-head-zip-der")(_by_kind)


@case("report-head512")
def _report_512(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    return _report(kit, "OD_Q1", [(xml.name, xml), (xml.name + ".sig", kit.sign("head512", xml))])


@case("report-bank-of-russia-head")
def _report_bank(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    return _report(kit, "OD_H1", [(xml.name, xml), (xml.name + ".sig", kit.sign("bank_head", xml))])




for _sig_name, _encoding in (("report.xml.p7s", "pem"), ("report.xml.sgn", "base64"), ("REPORT.XML.SIG", "der")):
    def _by_encoding(kit: Kit, sig_name: str = _sig_name, encoding: Any = _encoding) -> tuple[dict[str, str], Files]:
        xml = _report_xml(kit, "REPORT.XML" if sig_name.isupper() else "report.xml")
        return _report(kit, "OD_9M", [(xml.name, xml), (sig_name, kit.sign("head256", xml, encoding=encoding))])

    case(f"report-head-{_sig_name}-{_encoding}")(_by_encoding)


@case("report-attached-cms-only")
def _report_attached(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    return _report(kit, "OD_Q1", [("report.xml.sig", kit.sign("head256", xml, attached=True))])


@case("report-pades-pdf-inside")
def _report_pades(kit: Kit) -> tuple[dict[str, str], Files]:
    pdf = kit.pades("head256", "Отчет о деятельности за 9 месяцев 2026 года.PDF")
    return _report(kit, "OD_9M", [(pdf.name, pdf)])


@case("report-cp866-names-nested-folders")
def _report_cp866(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit, "Отчёт ОД за 1 квартал 2026.xml")
    pdf = kit.pdf("Пояснительная записка.pdf")
    return _report(kit, "OD_Q1", [
        ("Отчётность/" + xml.name, xml), ("Отчётность/" + xml.name + ".sig", kit.sign("head256", xml)),
        ("Отчётность/Приложения/" + pdf.name, pdf), ("Отчётность/Приложения/" + pdf.name + ".sig", kit.sign("head256", pdf)),
    ], form="zip-cp866")


@case("report-utf8-names-nested-folders")
def _report_utf8(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit, "Отчёт ОД за 1 квартал 2026.xml")
    return _report(kit, "OD_Q1", [("ОД/2026/" + xml.name, xml), ("ОД/2026/" + xml.name + ".sig", kit.sign("head256", xml))])


@case("report-cades-t")
def _report_cades_t(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    return _report(kit, "OD_Y30", [(xml.name, xml), (xml.name + ".sig", kit.sign("head256", xml, timestamp=True))])


@case("report-acting-head-with-order")
def _report_acting(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    order = kit.order()
    return _report(kit, "OD_H1", [
        (xml.name, xml), (xml.name + ".sig", kit.sign("accountant256", xml)),
        (order.name, order), (order.name + ".sig", kit.sign("head256", order)),
    ])


@case("report-acting-head-personal-certificate-order-and-poa")
def _report_acting_poa(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    order = kit.order("Приказ_врио.pdf")
    poa, poa_sig = kit.poa(PoaSpec())
    return _report(kit, "PS", [
        (xml.name, xml), (xml.name + ".sig", kit.sign("accountant_personal", xml)),
        (order.name, order), (order.name + ".sig", kit.sign("head256", order)),
        (poa.name, poa), (poa_sig.name, poa_sig),
    ])


# --- letter-like types: cover PDF + supporting archive -----------------------------------

def _letter(doc_type: str, cover: list[Path], attachment: Path, signature: list[Path] | None = None,
            poa: list[Path] | None = None) -> tuple[dict[str, str], Files]:
    files: Files = {"document": cover, "attachment": [attachment]}
    if signature:
        files["signature"] = signature
    if poa:
        files["power_of_attorney"] = poa
    return {"member": MEMBER, "doc_type": doc_type}, files


def _supporting(kit: Kit, signer: str = "head256", form: str = "zip", name: str = "Приложение.zip") -> Path:
    pdf = kit.pdf("Выписка из протокола заседания правления.pdf")
    return kit.archive(name, [(pdf.name, pdf), (pdf.name + ".sig", kit.sign(signer, pdf))], form)


for _doc_type in LETTER_TYPES:
    def _head(kit: Kit, doc_type: str = _doc_type) -> tuple[dict[str, str], Files]:
        cover = kit.pdf("Сопроводительное письмо.pdf")
        return _letter(doc_type, [cover], _supporting(kit), [kit.sign("head256", cover)])

    def _bank(kit: Kit, doc_type: str = _doc_type) -> tuple[dict[str, str], Files]:
        cover = kit.pdf("Письмо.pdf")
        return _letter(doc_type, [cover], _supporting(kit, "bank_head"), [kit.sign("bank_head", cover)])

    def _pades(kit: Kit, doc_type: str = _doc_type) -> tuple[dict[str, str], Files]:
        cover = kit.pades("head256", "Письмо в СРО.pdf")
        return _letter(doc_type, [cover], kit.archive("Письмо в СРО.zip", [(cover.name, cover)]))

    def _repacked(kit: Kit, doc_type: str = _doc_type) -> tuple[dict[str, str], Files]:
        # Seed rule: nothing to support -> the cover letter again, packed.
        cover = kit.pdf("Ответ на запрос № 125 от 01.11.2026.pdf")
        sig = kit.sign("head256", cover)
        return _letter(doc_type, [cover], kit.archive("Ответ на запрос.rar", [(cover.name, cover), (sig.name, sig)], "rar5"), [sig])

    def _representative(kit: Kit, doc_type: str = _doc_type) -> tuple[dict[str, str], Files]:
        cover = kit.pdf("Письмо.pdf")
        poa, poa_sig = kit.poa(PoaSpec())
        return _letter(doc_type, [cover], _supporting(kit, "accountant_personal"), [kit.sign("accountant_personal", cover)], [poa, poa_sig])

    case(f"{_doc_type}-head-zip")(_head)
    case(f"{_doc_type}-bank-of-russia-head")(_bank)
    case(f"{_doc_type}-pades-repacked-zip")(_pades)
    case(f"{_doc_type}-repacked-rar5")(_repacked)
    case(f"{_doc_type}-representative-poa-part")(_representative)


for _sig_name, _encoding in (("Письмо.pdf.p7s", "pem"), ("Письмо.pdf.sgn", "base64"), ("ПИСЬМО.PDF.SIG", "der"), ("Письмо.sig", "der")):
    def _letter_encoding(kit: Kit, sig_name: str = _sig_name, encoding: Any = _encoding) -> tuple[dict[str, str], Files]:
        cover = kit.pdf("ПИСЬМО.PDF" if sig_name.isupper() else "Письмо.pdf")
        return _letter("letter", [cover], _supporting(kit), [kit.sign("head256", cover, sig_name, encoding=encoding)])

    case(f"letter-cover-{_sig_name}-{_encoding}")(_letter_encoding)


@case("letter-cover-attached-cms")
def _letter_attached(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    return _letter("letter", [cover], _supporting(kit), [kit.sign("head256", cover, attached=True)])


@case("letter-cover-cades-t")
def _letter_cades_t(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    return _letter("letter", [cover], _supporting(kit), [kit.sign("head256", cover, timestamp=True)])


@case("letter-archive-rar4")
def _letter_rar4(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    return _letter("letter", [cover], _supporting(kit, form="rar4", name="prilozhenie.rar"), [kit.sign("head256", cover)])


@case("letter-archive-cp866-nested-sgn-base64")
def _letter_cp866(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    doc = kit.pdf("Справка о задолженности перед пайщиками (ё).pdf")
    sig = kit.sign("head256", doc, doc.name + ".sgn", encoding="base64")
    archive = kit.archive("Приложения к письму.zip", [("Документы/Справки/" + doc.name, doc), ("Документы/Справки/" + sig.name, sig)], "zip-cp866")
    return _letter("letter", [cover], archive, [kit.sign("head256", cover)])


@case("letter-archive-signed-as-a-whole")
def _letter_whole_archive(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    doc = kit.pdf("Справка.pdf")
    archive = kit.archive("Приложение.zip", [(doc.name, doc)])
    return _letter("letter", [cover], archive, [kit.sign("head256", cover), kit.sign("head256", archive)])


@case("letter-archive-with-egrul-extract-by-fns")
def _letter_third_party(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    own = kit.pdf("Справка.pdf")
    egrul = kit.pdf("Выписка ЕГРЮЛ.pdf")
    archive = kit.archive("Приложение.zip", [
        (own.name, own), (own.name + ".sig", kit.sign("head256", own)),
        (egrul.name, egrul), (egrul.name + ".sig", kit.sign("fns256", egrul)),
    ])
    return _letter("letter", [cover], archive, [kit.sign("head256", cover)])


for _label, _spec in (
    ("utf8-namespace", PoaSpec(namespace="urn:fns:emchd:003")),
    ("cp1251-no-namespace", PoaSpec(encoding="windows-1251")),
    ("cp1251-namespace-plain-snils", PoaSpec(encoding="windows-1251", namespace="urn:fns:emchd:003", dashed_snils=False)),
):
    def _poa_in_archive(kit: Kit, spec: PoaSpec = _spec) -> tuple[dict[str, str], Files]:
        cover = kit.pdf("Письмо.pdf")
        doc = kit.pdf("Справка.pdf")
        poa, poa_sig = kit.poa(spec)
        archive = kit.archive("Приложение.zip", [
            (doc.name, doc), (doc.name + ".sig", kit.sign("accountant_personal", doc)), (poa.name, poa), (poa_sig.name, poa_sig),
        ])
        return _letter("letter", [cover], archive, [kit.sign("accountant_personal", cover)])

    def _poa_part(kit: Kit, spec: PoaSpec = _spec) -> tuple[dict[str, str], Files]:
        cover = kit.pdf("Письмо.pdf")
        poa, poa_sig = kit.poa(spec)
        return _letter("letter", [cover], _supporting(kit, "accountant_personal"), [kit.sign("accountant_personal", cover)], [poa, poa_sig])

    case(f"letter-representative-poa-in-archive-{_label}")(_poa_in_archive)
    case(f"letter-representative-poa-part-{_label}")(_poa_part)


@case("audit_conclusion-chair-signs-conclusion-in-archive")
def _audit_chair(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Сопроводительное письмо.pdf")
    conclusion = kit.pdf("Заключение ревизионной комиссии за 2025 год.pdf")
    archive = kit.archive("Заключение КРО.zip", [(conclusion.name, conclusion), (conclusion.name + ".sig", kit.sign("chair_person256", conclusion))])
    return _letter("audit_conclusion", [cover], archive, [kit.sign("head256", cover)])


# --- charter and regulations: one PDF ------------------------------------------------------

def _single(doc_type: str, pdf: Path, signature: list[Path] | None = None, poa: list[Path] | None = None, kind: str | None = None) -> tuple[dict[str, str], Files]:
    fields = {"member": MEMBER, "doc_type": doc_type}
    if kind:
        fields["regulation_kind"] = kind
    files: Files = {"document": [pdf]}
    if signature:
        files["signature"] = signature
    if poa:
        files["power_of_attorney"] = poa
    return fields, files


_SINGLE: list[tuple[str, str | None]] = [("charter", None), *(("regulation", k) for k in REGULATION_KINDS)]
for _single_type, _reg_kind in _SINGLE:
    _id = _single_type if _reg_kind is None else f"regulation-{_reg_kind}"

    def _single_head(kit: Kit, doc_type: str = _single_type, kind: str | None = _reg_kind) -> tuple[dict[str, str], Files]:
        pdf = kit.pdf("Устав КПК «Тест» (новая редакция) утверждён 15.03.2026.pdf")
        return _single(doc_type, pdf, [kit.sign("head256", pdf)], kind=kind)

    def _single_pades(kit: Kit, doc_type: str = _single_type, kind: str | None = _reg_kind) -> tuple[dict[str, str], Files]:
        return _single(doc_type, kit.pades("head256", "ПОЛОЖЕНИЕ.PDF"), kind=kind)

    case(f"{_id}-head-detached")(_single_head)
    case(f"{_id}-pades")(_single_pades)


@case("charter-bank-of-russia-head-p7s")
def _charter_bank(kit: Kit) -> tuple[dict[str, str], Files]:
    pdf = kit.pdf("Устав.pdf")
    return _single("charter", pdf, [kit.sign("bank_head", pdf, "Устав.pdf.p7s")])


@case("regulation-representative-poa")
def _regulation_poa(kit: Kit) -> tuple[dict[str, str], Files]:
    pdf = kit.pdf("Положение о порядке предоставления займов.pdf")
    poa, poa_sig = kit.poa(PoaSpec(encoding="windows-1251"))
    return _single("regulation", pdf, [kit.sign("accountant_personal", pdf)], [poa, poa_sig], kind="loans")


# --- second batch: forms seen in members' real packages --------------------------------

for _form in ("zip-windows", "zip-streamed", "rar5"):
    def _letter_archive_form(kit: Kit, form: str = _form) -> tuple[dict[str, str], Files]:
        cover = kit.pdf("Письмо № 15 от 01.12.2026 «Об исполнении предписания».pdf")
        doc = kit.pdf("Протокол заседания правления № 7.pdf")
        archive = kit.archive("Приложение.RAR" if form == "rar5" else "Приложение.ZIP", [
            ("Документы/2026/" + doc.name, doc), ("Документы/2026/" + doc.name + ".sig", kit.sign("head256", doc)),
        ], form)
        return _letter("disciplinary_report", [cover], archive, [kit.sign("head256", cover, cover.name + ".sig")])

    case(f"letter-archive-{_form}-nested-upper-case-extension")(_letter_archive_form)


@case("report-zip-windows-folders-entries")
def _report_windows(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit, "Отчёт.xml")
    return _report(kit, "OD_Q1", [("ОД 1 кв 2026/" + xml.name, xml), ("ОД 1 кв 2026/" + xml.name + ".sig", kit.sign("head256", xml))], "zip-windows")


@case("report-zip-streamed-data-descriptors")
def _report_streamed(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    return _report(kit, "OD_Q1", [(xml.name, xml), (xml.name + ".sig", kit.sign("head256", xml))], "zip-streamed")


@case("report-signed-as-a-whole-by-a-signature-part")
def _report_whole(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    fields, files = _report(kit, "OD_Q1", [(xml.name, xml)])
    files["signature"] = [kit.sign("head256", files["document"][0])]
    return fields, files


@case("report-no-signed-attributes")
def _report_noattr(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    return _report(kit, "OD_Q1", [(xml.name, xml), (xml.name + ".sig", kit.sign("head256", xml, signed_attributes=False))])


@case("report-cryptopro-pdf-pkcs7-with-document-timestamp")
def _report_pkcs7(kit: Kit) -> tuple[dict[str, str], Files]:
    pdf = kit.pades("head256", "Отчет.pdf", subfilter="pkcs7", doc_timestamp=True)
    return _report(kit, "OD_Q1", [(pdf.name, pdf)])


@case("report-OD_Y90-statements-as-text-pdf")
def _report_y90_pdf(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    statements = text_pdf(kit.folder / "Бухгалтерский баланс 2025.pdf", [
        "Бухгалтерский баланс на 31 декабря 2025 г.", "Коды", "Форма по ОКУД 0710001", "Дата 31.12.2025",
        'Организация КПК "Тест" по ОКПО 12345678', f"Идентификационный номер налогоплательщика ИНН {KPK_INNLE}",
    ])
    package = kit.archive(f"{MEMBER}_OD.zip", [
        (xml.name, xml), (xml.name + ".sig", kit.sign("head256", xml)),
        (statements.name, statements), (statements.name + ".sig", kit.sign("head256", statements)),
    ])
    return {"member": MEMBER, "doc_type": "report", "report_kind": "OD_Y90"}, {"document": [package]}


@case("report-nested-zip-in-zip")
def _report_nested_zip(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    inner = kit.archive("Приложения.zip", [(xml.name, xml), (xml.name + ".sig", kit.sign("head256", xml))])
    own = _report_xml(kit, "Отчет.xml")
    return _report(kit, "OD_Q1", [(own.name, own), (own.name + ".sig", kit.sign("head256", own)), (inner.name, inner)])


@case("letter-cosigned-head-and-chief-accountant")
def _letter_cosigned(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    sig = kit.sign("head256", cover)
    kit.pki.cosign(sig, "accountant_personal", cover, sig)
    return _letter("letter", [cover], _supporting(kit), [sig])


@case("letter-long-cyrillic-names")
def _letter_long(kit: Kit) -> tuple[dict[str, str], Files]:
    stem = "Ответ на запрос СРО «Кооперативные Финансы» о предоставлении сведений о членах правления и ревизионной комиссии кооператива"
    cover = kit.pdf(stem[:115] + ".pdf")
    doc = kit.pdf(stem[:110] + " прил 1.pdf")
    archive = kit.archive(stem[:100] + ".zip", [(doc.name, doc), (doc.name + ".sig", kit.sign("head256", doc))])
    return _letter("information_request", [cover], archive, [kit.sign("head256", cover)])


@case("letter-poa-signature-p7s-pem")
def _letter_poa_p7s(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    poa, _ = kit.poa(PoaSpec())
    poa_sig = kit.sign("head256", poa, poa.name + ".p7s", encoding="pem")
    return _letter("letter", [cover], _supporting(kit, "accountant_personal"), [kit.sign("accountant_personal", cover)], [poa, poa_sig])


@case("letter-poa-utf8-bom")
def _letter_poa_bom(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    poa, _ = kit.poa(PoaSpec())
    poa.write_bytes(b"\xef\xbb\xbf" + poa.read_bytes())
    poa_sig = kit.sign("head256", poa)
    return _letter("letter", [cover], _supporting(kit, "accountant_personal"), [kit.sign("accountant_personal", cover)], [poa, poa_sig])


@case("regulation-bank-of-russia-head-sgn-upper")
def _regulation_bank(kit: Kit) -> tuple[dict[str, str], Files]:
    pdf = kit.pdf("ПОЛОЖЕНИЕ О ЧЛЕНСТВЕ.PDF")
    return _single("regulation", pdf, [kit.sign("bank_head", pdf, "ПОЛОЖЕНИЕ О ЧЛЕНСТВЕ.PDF.SGN")], kind="membership")


@case("charter-attached-cms-as-the-document")
def _charter_attached(kit: Kit) -> tuple[dict[str, str], Files]:
    pdf = kit.pdf("Устав.pdf")
    return _single("charter", kit.sign("head256", pdf, "Устав.pdf.sig", attached=True))


@case("regulation-attached-cms-p7m-base64")
def _regulation_p7m(kit: Kit) -> tuple[dict[str, str], Files]:
    pdf = kit.pdf("Положение об органах.pdf")
    return _single("regulation", kit.sign("head256", pdf, "Положение об органах.pdf.p7m", attached=True, encoding="base64"), kind="bodies")


@case("letter-cover-attached-cms-as-the-document")
def _letter_cover_attached(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    return _letter("compensation_claim", [kit.sign("head256", cover, "Письмо.pdf.sig", attached=True)], _supporting(kit))


@case("report-attached-cms-carrying-the-zip")
def _report_attached_zip(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    _, files = _report(kit, "OD_Q1", [(xml.name, xml), (xml.name + ".sig", kit.sign("head256", xml))])
    carried = kit.sign("head256", files["document"][0], f"{MEMBER}_OD.zip.sig", attached=True)
    return {"member": MEMBER, "doc_type": "report", "report_kind": "OD_Q1"}, {"document": [carried]}


for _layout in HEAD_LAYOUTS:
    def _layout_report(kit: Kit, label: str = _layout) -> tuple[dict[str, str], Files]:
        xml = _report_xml(kit)
        return _report(kit, "OD_Q1", [(xml.name, xml), (xml.name + ".sig", kit.sign(label, xml))])

    def _layout_letter(kit: Kit, label: str = _layout) -> tuple[dict[str, str], Files]:
        cover = kit.pdf("Письмо.pdf")
        return _letter("letter", [cover], _supporting(kit, label), [kit.sign(label, cover)])

    case(f"report-head-layout-{_layout}")(_layout_report)
    case(f"letter-head-layout-{_layout}")(_layout_letter)


@case("report-xbrl-package-signed-as-a-whole-inside")
def _report_xbrl(kit: Kit) -> tuple[dict[str, str], Files]:
    # The Bank of Russia's XBRL package (a ZIP of XML/XSD) is what the cooperative's
    # software produces; the member signs that ZIP and packs it with its signature.
    instance = kit.file("0420820_20260331.xml", b'<?xml version="1.0" encoding="UTF-8"?><xbrli:xbrl xmlns:xbrli="http://www.xbrl.org/2003/instance"/>')
    meta = kit.file("META-INF.xml", b'<?xml version="1.0" encoding="UTF-8"?><meta/>')
    xbrl = kit.archive(f"XBRL_{KPK_OGRN}_ep_nso_purcb_kpk_q_30d_20260331.zip", [(instance.name, instance), ("META-INF/" + meta.name, meta)])
    return _report(kit, "OD_Q1", [(xbrl.name, xbrl), (xbrl.name + ".sig", kit.sign("head256", xbrl))])


def _office_files(kit: Kit) -> list[Path]:
    ooxml = kit.archive("Отчет о деятельности.xlsx", [
        ("[Content_Types].xml", kit.file("ct.xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>')),
        ("_rels/.rels", kit.file("rels.xml", b'<?xml version="1.0"?><Relationships/>')),
        ("xl/workbook.xml", kit.file("wb.xml", b'<?xml version="1.0"?><workbook/>')),
    ])
    docx = kit.archive("Пояснительная записка.docx", [
        ("[Content_Types].xml", kit.file("ct.xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')),
        ("_rels/.rels", kit.file("rels.xml", b'<?xml version="1.0"?><Relationships/>')),
        ("word/document.xml", kit.file("doc.xml", b'<?xml version="1.0"?><document/>')),
    ])
    ole = kit.file("Список членов правления.xls", bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504) + bytes(1024))
    jpeg = kit.file("Скан протокола.JPG", bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9"))
    text = kit.file("Сведения.txt", "Сведения о персональном составе органов КПК\r\n".encode("cp1251"))
    return [ooxml, docx, ole, jpeg, text]


@case("report-office-files-signed")
def _report_office(kit: Kit) -> tuple[dict[str, str], Files]:
    entries: list[tuple[str, Path]] = []
    for file in _office_files(kit):
        entries += [(file.name, file), (file.name + ".sig", kit.sign("head256", file))]
    return _report(kit, "PS", entries)


@case("letter-archive-office-files-signed")
def _letter_office(kit: Kit) -> tuple[dict[str, str], Files]:
    entries: list[tuple[str, Path]] = []
    for file in _office_files(kit):
        entries += [(file.name, file), (file.name + ".sig", kit.sign("head256", file))]
    cover = kit.pdf("Письмо.pdf")
    return _letter("letter", [cover], kit.archive("Приложение.zip", entries, "zip-cp866"), [kit.sign("head256", cover)])


for _form in ("zip", "rar5", "rar4"):
    def _repacked_alone(kit: Kit, form: str = _form) -> tuple[dict[str, str], Files]:
        # Seed rule, literally: the file of the cover letter field packed again, alone; its
        # detached signature is in the signature part.
        cover = kit.pdf("Uvedomlenie.pdf" if form == "rar4" else "Уведомление о проведении общего собрания.pdf")
        archive = kit.archive(cover.stem + (".zip" if form == "zip" else ".rar"), [(cover.name, cover)], form)
        return _letter("meeting_notice", [cover], archive, [kit.sign("head256", cover)])

    case(f"meeting_notice-cover-repacked-alone-{_form}")(_repacked_alone)


for _variant in ("xref-stream", "attachment", "revised"):
    def _variant_detached(kit: Kit, variant: str = _variant) -> tuple[dict[str, str], Files]:
        pdf = kit.pdf_variant("Устав.pdf", variant)
        return _single("charter", pdf, [kit.sign("head256", pdf)])

    def _variant_pades(kit: Kit, variant: str = _variant) -> tuple[dict[str, str], Files]:
        pdf = kit.pades_over("head256", kit.pdf_variant("u.pdf", variant), "Положение.pdf")
        return _single("regulation", pdf, kind="other")

    case(f"charter-pdf-{_variant}-detached")(_variant_detached)
    case(f"regulation-pdf-{_variant}-pades")(_variant_pades)


@case("letter-cover-pades-by-head-then-second-signature")
def _letter_pades_twice(kit: Kit) -> tuple[dict[str, str], Files]:
    once = kit.pades_over("head256", kit.pdf_variant("u.pdf", "revised"), "Письмо.pdf")
    twice = kit.pades_over("accountant256", once, "Письмо.pdf")
    return _letter("letter", [twice], kit.archive("Письмо.zip", [(twice.name, twice)]))


def _reencode(sig: Path, form: str) -> Path:
    """Signature text forms seen from Russian signing tools (the DER inside unchanged)."""
    import base64

    der = sig.read_bytes()
    text = base64.b64encode(der)
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    if form == "pem-pkcs7":
        data = b"-----BEGIN PKCS7-----\r\n" + b"\r\n".join(lines) + b"\r\n-----END PKCS7-----\r\n"
    elif form == "pem-signature":
        data = b"-----BEGIN SIGNATURE-----\n" + b"\n".join(lines) + b"\n-----END SIGNATURE-----\n"
    elif form == "base64-one-line":
        data = text
    elif form == "base64-bom":  # saved again in Notepad
        data = b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n"
    elif form == "base64-76-crlf":
        data = b"\r\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + b"\r\n"
    else:
        raise ValueError(form)
    sig.write_bytes(data)
    return sig


for _text_form in ("pem-pkcs7", "pem-signature", "base64-one-line", "base64-76-crlf", "base64-bom"):
    def _sig_text(kit: Kit, form: str = _text_form) -> tuple[dict[str, str], Files]:
        cover = kit.pdf("Письмо.pdf")
        doc = kit.pdf("Справка.pdf")
        inner = _reencode(kit.sign("head256", doc, doc.name + ".p7s"), form)
        archive = kit.archive("Приложение.zip", [(doc.name, doc), (inner.name, inner)])
        return _letter("registry_notice", [cover], archive, [_reencode(kit.sign("head256", cover), form)])

    case(f"registry_notice-signatures-as-{_text_form}")(_sig_text)


@case("report-nested-rar-signed-as-a-whole")
def _report_nested_rar(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    rar = kit.archive("Отчет.rar", [(xml.name, xml)], "rar5")
    return _report(kit, "OD_Q1", [(rar.name, rar), (rar.name + ".sig", kit.sign("head256", rar))])


@case("audit_conclusion-cover-by-representative-conclusion-by-chair")
def _audit_representative(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Сопроводительное письмо.pdf")
    conclusion = kit.pdf("Заключение ревизионной комиссии.pdf")
    poa, poa_sig = kit.poa(PoaSpec())
    archive = kit.archive("Заключение.zip", [
        (conclusion.name, conclusion), (conclusion.name + ".sig", kit.sign("chair_person256", conclusion)),
        ("Доверенность.xml", poa), ("Доверенность.xml.sig", poa_sig),
    ])
    return _letter("audit_conclusion", [cover], archive, [kit.sign("accountant_personal", cover)])


@case("report-OD_Y90-statements-inside-signed-xbrl-package")
def _report_y90_xbrl(kit: Kit) -> tuple[dict[str, str], Files]:
    statements = kit.statements("0420002_20251231.xml")
    xbrl = kit.archive(f"XBRL_{KPK_OGRN}_ep_nso_kpk_y_90d_20251231.zip", [(statements.name, statements)])
    package = kit.archive(f"{MEMBER}_OD.zip", [(xbrl.name, xbrl), (xbrl.name + ".sig", kit.sign("head256", xbrl))])
    return {"member": MEMBER, "doc_type": "report", "report_kind": "OD_Y90"}, {"document": [package]}


@case("report-OD_Y90-zip-signed-as-a-whole-by-a-signature-part")
def _report_y90_whole(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    statements = kit.statements()
    package = kit.archive(f"{MEMBER}_OD.zip", [(xml.name, xml), (statements.name, statements)])
    return {"member": MEMBER, "doc_type": "report", "report_kind": "OD_Y90"}, {"document": [package], "signature": [kit.sign("head256", package)]}


for _shift_label, _shift in (("clock-10-minutes-ahead", 10 * 60), ("signed-5-days-before-sending", -5 * 86400)):
    def _skewed(kit: Kit, shift: int = _shift) -> tuple[dict[str, str], Files]:
        from datetime import timedelta

        xml = _report_xml(kit)
        when = kit.tsa.now + timedelta(seconds=shift)
        sig = kit.tsa.sign("head256", xml, kit.folder / "report.xml.sig", signing_time=when)
        if shift < 0:  # stamped when it was signed
            kit.tsa.add_timestamp(sig, kit.tsa.token_by_cms("tsa256", kit.tsa.signature_value(sig), when + timedelta(seconds=30)))
        return _report(kit, "OD_Q1", [(xml.name, xml), (sig.name, sig)])

    case(f"report-signing-time-{_shift_label}")(_skewed)


@case("charter-representative-poa-signature-in-signature-part")
def _charter_poa_sig_part(kit: Kit) -> tuple[dict[str, str], Files]:
    pdf = kit.pdf("Устав.pdf")
    poa, poa_sig = kit.poa(PoaSpec())
    return _single("charter", pdf, [kit.sign("accountant_personal", pdf), poa_sig], [poa])


@case("charter-representative-poa-renamed-by-member")
def _charter_poa_renamed(kit: Kit) -> tuple[dict[str, str], Files]:
    pdf = kit.pdf("Устав.pdf")
    poa = kit.file("Доверенность Петровой М.С..xml", kit.poa(PoaSpec())[0].read_bytes())
    return _single("charter", pdf, [kit.sign("accountant_personal", pdf)], [poa, kit.sign("head256", poa)])


@case("letter-representative-poa-in-archive-signature-sgn-base64")
def _letter_poa_sgn(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    poa, _ = kit.poa(PoaSpec(encoding="windows-1251"))
    poa_sig = kit.sign("head256", poa, poa.name + ".sgn", encoding="base64")
    doc = kit.pdf("Справка.pdf")
    archive = kit.archive("Приложение.zip", [
        (doc.name, doc), (doc.name + ".sig", kit.sign("accountant_personal", doc)), ("МЧД/" + poa.name, poa), ("МЧД/" + poa_sig.name, poa_sig),
    ], "zip-cp866")
    return _letter("letter", [cover], archive, [kit.sign("accountant_personal", cover)])


@case("letter-archive-rar4-cp866-names-nested")
def _letter_rar4_oem(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    doc = kit.pdf("Протокол общего собрания членов КПК.pdf")
    archive = kit.archive("Приложение.rar", [("Протоколы/" + doc.name, doc), ("Протоколы/" + doc.name + ".sig", kit.sign("head256", doc))], "rar4-cp866")
    return _letter("meeting_notice", [cover], archive, [kit.sign("head256", cover)])


@case("letter-macos-nfd-names")
def _letter_nfd(kit: Kit) -> tuple[dict[str, str], Files]:
    # macOS (Finder, Archive Utility, Safari) writes names decomposed: «й», «ё» as a
    # letter plus a combining mark.
    import unicodedata

    def nfd(name: str) -> str:
        return unicodedata.normalize("NFD", name)

    cover = kit.pdf(nfd("Отчёт об исполнении решений, май.pdf"))
    doc = kit.pdf(nfd("Приложение й ё.pdf"))
    archive = kit.archive(nfd("Приложения (ё).zip"), [(nfd("Папка й/") + doc.name, doc), (nfd("Папка й/") + doc.name + ".sig", kit.sign("head256", doc))])
    return _letter("disciplinary_report", [cover], archive, [kit.sign("head256", cover)])


@case("letter-cover-signature-only-in-the-archive-with-its-copy")
def _letter_sig_in_archive(kit: Kit) -> tuple[dict[str, str], Files]:
    # No signature part: the member packed the signed cover letter with its .sig as the
    # supporting archive (seed rule) and attached the PDF itself as the cover letter.
    cover = kit.pdf("Письмо.pdf")
    sig = kit.sign("head256", cover)
    return _letter("letter", [cover], kit.archive("Письмо.zip", [(cover.name, cover), (sig.name, sig)]))


@case("charter-pades-lta-dss-and-document-timestamp")
def _charter_lta(kit: Kit) -> tuple[dict[str, str], Files]:
    from tests.pki.doc_timestamps import add_dss_crls

    signed = kit.pades("head256", "signed.pdf")
    with_dss = add_dss_crls(signed, kit.folder / "dss.pdf", [kit.pki.crl("ca").read_bytes(), kit.pki.crl("root").read_bytes()])
    from tests.pki.doc_timestamps import doc_timestamp

    return _single("charter", doc_timestamp(kit.tsa, "tsa256", with_dss, kit.folder / "Устав.pdf"))


@case("report-acting-head-order-abbreviated-vrio-initials")
def _report_vrio(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    order = kit.order("Приказ № 12 от 09.01.2026.pdf", [
        'КПК "Тест"', "ПРИКАЗ № 12 от 09.01.2026 г.",
        "На период отпуска председателя правления с 12.01.2026 по 30.01.2026",
        "главного бухгалтера Петрову М.С. считать Вр.и.о. председателя правления.",
        "Председатель правления ____________ И.П. Иванов",
    ])
    return _report(kit, "OD_Q1", [
        (xml.name, xml), (xml.name + ".sig", kit.sign("accountant256", xml)),
        (order.name, order), (order.name + ".sig", kit.sign("head256", order)),
    ])


for _poa_signer in ("bank_head", "head512", *HEAD_LAYOUTS):
    def _poa_by(kit: Kit, signer: str = _poa_signer) -> tuple[dict[str, str], Files]:
        cover = kit.pdf("Письмо.pdf")
        poa, _ = kit.poa(PoaSpec())
        return _letter("letter", [cover], _supporting(kit, "accountant_personal"), [kit.sign("accountant_personal", cover)], [poa, kit.sign(signer, poa)])

    case(f"letter-representative-poa-signed-by-{_poa_signer}")(_poa_by)


@case("report-acting-head-personal-certificate-poa-as-part")
def _report_acting_poa_part(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit)
    order = kit.order()
    poa, poa_sig = kit.poa(PoaSpec(namespace="urn:fns:emchd:003"))
    fields, files = _report(kit, "OD_9M", [
        (xml.name, xml), (xml.name + ".sig", kit.sign("accountant_personal", xml)),
        (order.name, order), (order.name + ".sig", kit.sign("head256", order)),
    ])
    files["power_of_attorney"] = [poa, poa_sig]
    return fields, files


@case("letter-archive-deep-long-cyrillic-paths")
def _letter_deep_paths(kit: Kit) -> tuple[dict[str, str], Files]:
    # Each name well under 255 bytes; the whole path inside the archive far over it.
    folder = "Документы для СРО по запросу № 125 от 01.11.2026/Сведения о членах правления и ревизионной комиссии/"
    doc = kit.pdf("Выписка из протокола общего собрания членов кредитного кооператива от 15.03.2026.pdf")
    archive = kit.archive("Ответ на запрос № 125 от 01.11.2026 — приложения к письму.zip", [(folder + doc.name, doc), (folder + doc.name + ".sig", kit.sign("head256", doc))], "zip-windows")
    cover = kit.pdf("Ответ на запрос № 125 от 01.11.2026 о предоставлении сведений о членах правления.pdf")
    return _letter("information_request", [cover], archive, [kit.sign("head256", cover)])


@case("letter-names-with-punctuation")
def _letter_punctuation(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо №5 & прил. (1) [копия] 100% + О'Нил, «исх.» 01-02.pdf")
    doc = kit.pdf("Справка (1).pdf")
    archive = kit.archive("Приложение #1; ред. 2.zip", [(doc.name, doc), (doc.name + ".sig", kit.sign("head256", doc))])
    return _letter("letter", [cover], archive, [kit.sign("head256", cover)])


@case("letter-cover-name-near-the-limit")
def _letter_near_limit(kit: Kit) -> tuple[dict[str, str], Files]:
    # 125 Cyrillic letters + «.pdf» = 254 bytes: the name itself fits; its «.sig» is longer.
    cover = kit.pdf("Ж" * 125 + ".pdf")
    return _letter("letter", [cover], _supporting(kit), [kit.sign("head256", cover, "Письмо.pdf.sig")])


def _apple_double() -> bytes:
    """An AppleDouble header file (what macOS puts in ``__MACOSX/._name``): magic 0x00051607,
    version 2, a Finder-info entry and an extended-attributes entry (quarantine)."""
    import struct

    entries = [(9, 50, 32), (2, 82, 0)]
    header = struct.pack(">II16sH", 0x00051607, 0x00020000, b"Mac OS X        ", len(entries))
    header += b"".join(struct.pack(">III", *e) for e in entries)
    return header + bytes(50 - len(header)) + bytes(32) + b"com.apple.quarantine\x00" + b"0083;6565a1b2;Safari;"


@case("letter-macos-archive-utility-zip-with-macosx-folder")
def _letter_macosx(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    doc = kit.pdf("Справка.pdf")
    sig = kit.sign("head256", doc)
    ad = kit.file("ad", _apple_double())
    archive = kit.archive("Приложение.zip", [
        ("Приложение/" + doc.name, doc), ("Приложение/" + sig.name, sig),
        ("__MACOSX/Приложение/._" + doc.name, ad), ("__MACOSX/Приложение/._" + sig.name, ad),
    ])
    return _letter("letter", [cover], archive, [kit.sign("head256", cover)])


@case("letter-attachment-as-attached-cms-carrying-the-zip")
def _letter_attached_zip(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    doc = kit.pdf("Справка.pdf")
    archive = kit.archive("Приложение.zip", [(doc.name, doc)])
    return _letter("letter", [cover], kit.sign("head256", archive, "Приложение.zip.sig", attached=True), [kit.sign("head256", cover)])



@case("report-signature-name-differs-in-letter-case")
def _report_case_mismatch(kit: Kit) -> tuple[dict[str, str], Files]:
    pdf = kit.pdf("Скан.pdf")
    return _report(kit, "OD_Q1", [(pdf.name, pdf), ("Скан.PDF.sig", kit.sign("head256", pdf))])


@case("report-signature-named-without-the-document-extension")
def _report_stem_sig(kit: Kit) -> tuple[dict[str, str], Files]:
    xml = _report_xml(kit, "Отчет.xml")
    return _report(kit, "OD_Q1", [(xml.name, xml), ("Отчет.sig", kit.sign("head256", xml))])


@case("letter-archive-attached-signature-beside-its-document")
def _letter_attached_beside(kit: Kit) -> tuple[dict[str, str], Files]:
    # КриптоАРМ's default «присоединенная подпись», the original kept beside it.
    cover = kit.pdf("Письмо.pdf")
    doc = kit.pdf("Справка.pdf")
    archive = kit.archive("Приложение.zip", [(doc.name, doc), (doc.name + ".sig", kit.sign("head256", doc, attached=True))])
    return _letter("letter", [cover, ], archive, [kit.sign("head256", cover, attached=True)])


@case("letter-cover-with-attached-and-detached-signature-parts")
def _letter_two_sig_parts(kit: Kit) -> tuple[dict[str, str], Files]:
    cover = kit.pdf("Письмо.pdf")
    return _letter("letter", [cover], _supporting(kit), [kit.sign("head256", cover), kit.sign("head512", cover, "Письмо.pdf.p7s")])
