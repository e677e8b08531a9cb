"""Genuine packages as members send them in 2026 (seeds/sro-cabinet-instruction.txt):
file names with spaces, «ё», upper-case extensions and ``.pdf.sig``; detached signatures in
DER, PEM and CryptoPro's bare base64 with CRLF; attached CMS; PAdES; ZIP with UTF-8 or
CP866 names (Russian Windows archivers set no UTF-8 flag); RAR4/RAR5; nested folders; МЧД
in UTF-8 or windows-1251, with or without a default namespace. Built with the test PKI's
primitives only; nothing here imports the code under test."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tests.pki import pdf as pdfs
from tests.pki.bank import BankPki
from tests.pki.builder import KPK_INNLE, TestPki
from tests.pki.doc_timestamps import doc_timestamp as stamp_document
from tests.pki.poa import PoaSpec, write_signed_poa
from tests.pki.textpdf import text_pdf
from tests.pki.tsa import TsaPki
from tests.validators.rar_builder import rar4_stored, rar5_stored

Encoding = Literal["der", "pem", "base64"]

ORDER_LINES = [
    'Кредитный потребительский кооператив "Тест"',
    "ПРИКАЗ от 10.01.2026 № 3",
    "О возложении исполнения обязанностей председателя правления",
    "В связи с отпуском председателя правления Иванова И. П.",
    "ПРИКАЗЫВАЮ: возложить исполнение обязанностей председателя правления",
    "на главного бухгалтера Петрову Марию Сергеевну с 13.01.2026 по 31.01.2026.",
    "Председатель правления И. П. Иванов",
]


class _Cp866Info(zipfile.ZipInfo):
    """An entry whose name is written in CP866 without the UTF-8 flag (WinRAR, 7-Zip and
    the Windows shell on a Russian system)."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("cp866"), self.flag_bits & ~0x800


def _rar4_oem(entries: list[tuple[str, bytes]]) -> bytes:
    """A RAR 4 archive (stored entries) whose names are in the OEM code page (CP866, no
    Unicode flag), as WinRAR 3/4 writes names that fit in it on a Russian system."""
    import struct
    import zlib

    def block(htype: int, flags: int, body: bytes) -> bytes:
        rest = struct.pack("<BHH", htype, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(rest) & 0xFFFF) + rest

    out = bytearray(b"Rar!\x1a\x07\x00") + block(0x73, 0, b"\0" * 6)
    dos_time = ((2026 - 1980) << 25) | (1 << 21) | (1 << 16)
    for name, data in entries:
        raw = name.replace("/", "\\").encode("cp866")
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 2, zlib.crc32(data), dos_time, 20, 0x30, len(raw), 0x20) + raw
        out += block(0x74, 0x8000, body) + data
    return bytes(out + block(0x7B, 0x4000, b""))


class _Unseekable:
    """A write-only stream without seek/tell: zipfile then writes data descriptors."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def write(self, data: bytes) -> int:
        return int(self.raw.write(data))

    def flush(self) -> None:
        self.raw.flush()


@dataclass
class Kit:
    """Signs and packs files in ``folder`` for one package."""

    pki: TestPki
    bank: BankPki
    tsa: TsaPki
    folder: Path
    counter: list[int] = field(default_factory=lambda: [0])

    def _fresh(self) -> Path:
        self.counter[0] += 1
        path = self.folder / f"w{self.counter[0]}"
        path.mkdir(parents=True)
        return path

    def pdf(self, name: str, text: str = "Документ кооператива") -> Path:
        return text_pdf(self._fresh() / name, [text, name])

    def file(self, name: str, content: bytes) -> Path:
        path = self._fresh() / name
        path.write_bytes(content)
        return path

    def sign(self, signer: str, content: Path, sig_name: str | None = None, *, encoding: Encoding = "der",
             attached: bool = False, timestamp: bool = False, signed_attributes: bool = True) -> Path:
        """A CMS signature of ``content`` named ``sig_name`` (default ``<name>.sig``) in a
        fresh folder (stored uploads have no neighbours)."""
        out = self._fresh() / (sig_name or content.name + ".sig")
        if signer.startswith("bank_"):
            self.bank.sign(signer, content, out)
        else:
            self.pki.sign(signer, content, out, encoding=encoding, attached=attached, signed_attributes=signed_attributes)
            if encoding == "base64":  # CryptoPro (cryptcp, КриптоАРМ) writes CRLF lines
                out.write_bytes(out.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        if timestamp:
            assert encoding == "der"
            token = self.tsa.token_by_openssl_ts("tsa256", self.tsa.signature_value(out))
            self.tsa.add_timestamp(out, token)
        return out

    def pades(self, signer: str, name: str, *, subfilter: str = "pades", doc_timestamp: bool = False) -> Path:
        """A PDF named ``name`` with an embedded signature (``pades``: ETSI.CAdES.detached;
        ``pkcs7``: adbe.pkcs7.detached as КриптоПро PDF writes), optionally followed by a
        document time-stamp revision (PAdES-LTA style)."""
        source = pdfs.make_pdf(self._fresh() / "unsigned.pdf", "Document of the cooperative")
        target = self._fresh() / name
        signed = pdfs.sign_pdf_gost(self.pki, signer, source, target, subfilter=subfilter)
        if not doc_timestamp:
            return signed
        stamped = self._fresh() / name
        return stamp_document(self.tsa, "tsa256", signed, stamped)

    def pdf_variant(self, name: str, variant: str) -> Path:
        """PDFs as office and scanner software write them: ``xref-stream`` (a
        cross-reference stream, PDF 1.5+), ``attachment`` (an embedded XML file, PDF/A-3
        style, with document info), ``revised`` (an incremental update before signing:
        the document was edited and saved again)."""
        from io import BytesIO

        import pypdf

        base = pdfs.make_pdf(self._fresh() / "base.pdf", "Document of the cooperative")
        path = self._fresh() / name
        if variant == "xref-stream":
            from pyhanko.pdf_utils.reader import PdfFileReader
            from pyhanko.pdf_utils.writer import copy_into_new_writer

            with open(base, "rb") as stream:
                writer = copy_into_new_writer(PdfFileReader(stream))
                writer.stream_xrefs = True
                out = BytesIO()
                writer.write(out)
            path.write_bytes(out.getvalue())
        elif variant == "attachment":
            writer = pypdf.PdfWriter(clone_from=str(base))
            writer.add_metadata({"/Title": "Письмо в СРО", "/Producer": "Microsoft® Word для Microsoft 365"})
            writer.add_attachment("Сведения.xml", '<?xml version="1.0" encoding="UTF-8"?><Сведения/>'.encode())
            writer.write(str(path))
        elif variant == "revised":
            writer = pypdf.PdfWriter(str(base), incremental=True)
            writer.add_metadata({"/Title": "Исправленная редакция"})
            writer.write(str(path))
        else:
            raise ValueError(variant)
        return path

    def pades_over(self, signer: str, source: Path, name: str) -> Path:
        """``source`` with an embedded PAdES signature of ``signer`` added (a further revision
        when it is signed already)."""
        return pdfs.sign_pdf_gost(self.pki, signer, source, self._fresh() / name, field=f"Signature{self.counter[0]}")

    def order(self, name: str = "Приказ о возложении обязанностей.pdf", lines: list[str] = ORDER_LINES) -> Path:
        return text_pdf(self._fresh() / name, lines)

    def statements(self, name: str = "Бухгалтерская отчетность 2025.xml") -> Path:
        text = f'<?xml version="1.0" encoding="windows-1251"?><Файл ИНН="{KPK_INNLE}"><Баланс ОКУД="0710001"/><ОФР ОКУД="0710002"/></Файл>'
        return self.file(name, text.encode("cp1251"))

    def poa(self, spec: PoaSpec) -> tuple[Path, Path]:
        return write_signed_poa(self.pki, self._fresh(), spec)

    def archive(self, name: str, entries: list[tuple[str, Path]], form: str = "zip") -> Path:
        """``entries`` (name in the archive, file) packed as ``form``: ``zip`` (UTF-8
        names), ``zip-cp866``, ``zip-windows`` (CP866 names, an entry for every folder,
        as Windows archivers write), ``zip-streamed`` (data descriptors after each entry,
        as streaming writers such as Java or macOS write), ``rar5``, ``rar4``."""
        path = self._fresh() / name
        if form.startswith("zip"):
            cp866 = form in ("zip-cp866", "zip-windows")
            target: Any = _Unseekable(open(path, "wb")) if form == "zip-streamed" else path  # noqa: SIM115 - closed below
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
                written: set[str] = set()
                for arcname, file in entries:
                    parts = arcname.split("/")[:-1]
                    for depth in range(1, len(parts) + 1) if form == "zip-windows" else ():
                        folder = "/".join(parts[:depth]) + "/"
                        if folder not in written:
                            written.add(folder)
                            out.writestr(_Cp866Info(folder), b"")
                    info = _Cp866Info(arcname) if cp866 else zipfile.ZipInfo(arcname)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    if form == "zip-streamed":
                        with out.open(info, "w") as stream:
                            stream.write(file.read_bytes())
                    else:
                        out.writestr(info, file.read_bytes())
            if form == "zip-streamed":
                target.raw.close()
        elif form == "rar5":
            folders = sorted({"/".join(n.split("/")[:i]) for n, _ in entries for i in range(1, n.count("/") + 1)})
            path.write_bytes(rar5_stored([(n, f.read_bytes()) for n, f in entries], directories=tuple(folders)))
        elif form == "rar4":
            path.write_bytes(rar4_stored([(n, f.read_bytes()) for n, f in entries]))
        elif form == "rar4-cp866":
            path.write_bytes(_rar4_oem([(n, f.read_bytes()) for n, f in entries]))
        else:
            raise ValueError(form)
        return path
