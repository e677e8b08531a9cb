"""Red team: a program in a supporting archive that libmagic calls text. The rule «only
documents in an archive; programs and scripts are refused» (``file.not_document``) went by
content alone, so a VBScript, JScript, PowerShell or ``.cmd`` script (all "text/plain"), an
HTA or WSF ("text/html"), a Windows shortcut ``.lnk``, an internet shortcut ``.url``, a
compiled help file ``.chm`` or a registry file — signed by the member — were accepted and
forwarded: an SRO employee who unpacks the archive and double-clicks runs them. A name
with an extension Windows runs, opens in a script host or mounts is now never a document
(an NTFS stream suffix, trailing dots and spaces dropped, as Windows drops them);
shortcuts and CHM are refused by content too. Plain text, XML, HTML and SVG stay documents (a browser sandboxes them)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.pki.builder import TestPki
from tests.validators.packages import codes, letter, report_package, signed_entries, validate, verdict, zip_of
from validators.catalogue import Slot
from validators.trust import TrustStore

SHORTCUT = struct.pack("<I16s", 0x4C, bytes.fromhex("0114020000000000c000000000000046")) + bytes(60)
CHM = b"ITSF\x03\x00\x00\x00`\x00\x00\x00\x01\x00\x00\x00" + bytes(80)
RUNNABLE = {
    "Справка.vbs": b'CreateObject("WScript.Shell").Run "calc"\n',
    "Справка.js": b'new ActiveXObject("WScript.Shell").Run("calc");\n',
    "Справка.ps1": b"Start-Process calc\n",
    "Справка.cmd": b"start calc\n",
    "Справка.hta": b'<html><script language="vbscript">CreateObject("WScript.Shell").Run "calc"</script></html>',
    "Справка.wsf": b'<job><script language="JScript">WScript.Echo(1)</script></job>',
    "Справка.url": b"[InternetShortcut]\nURL=file://server/share/x.exe\n",
    "Справка.lnk": SHORTCUT,
    "Справка.chm": CHM,
    "Справка.reg": b"Windows Registry Editor Version 5.00\n\n[HKEY_CURRENT_USER\\Software\\x]\n",
    "Справка.VBS": b'CreateObject("WScript.Shell").Run "calc"\n',
    "Справка.vbs.": b'CreateObject("WScript.Shell").Run "calc"\n',
    "Справка.txt.js ": b'new ActiveXObject("WScript.Shell").Run("calc");\n',
    "Справка.vbs::$DATA": b'CreateObject("WScript.Shell").Run "calc"\n',
}


def _letter_with(pki: TestPki, store: TrustStore, tmp_path: Path, name: str, data: bytes) -> tuple[str, set[str]]:
    attachment = zip_of(tmp_path / "Приложение.zip", signed_entries(pki, tmp_path, name, data))
    result = letter(store, pki, tmp_path, attachment)
    return verdict(result), codes(result)


@pytest.mark.parametrize("name", list(RUNNABLE))
def test_a_signed_script_or_shortcut_in_a_letters_archive_is_refused(pki: TestPki, store: TrustStore, tmp_path: Path, name: str) -> None:
    decision, found = _letter_with(pki, store, tmp_path, name, RUNNABLE[name])
    assert decision == "rejected" and "file.not_document" in found


def test_a_signed_script_in_a_report_archive_is_refused(pki: TestPki, store: TrustStore, tmp_path: Path) -> None:
    extra = signed_entries(pki, tmp_path, "Макрос.vbs", RUNNABLE["Справка.vbs"])
    package = report_package(pki, tmp_path, extra=extra)
    result = validate(store, tmp_path, "report", [(Slot.DOCUMENT, package)], report_kind="OD_Q1")
    assert verdict(result) == "rejected" and "file.not_document" in codes(result)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("Справка.txt", b"plain text\n"),
        ("Справка.xml", "<?xml version='1.0'?><Справка/>".encode()),
        ("Справка.html", b"<html><body>Saved page</body></html>"),
        ("Справка.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>'),
        ("Справка.js.txt", b"text named after a script, ending in .txt\n"),
    ],
    ids=["txt", "xml", "html", "svg", "js-then-txt"],
)
def test_control_documents_whose_content_is_text_stay_accepted(pki: TestPki, store: TrustStore, tmp_path: Path, name: str, data: bytes) -> None:
    assert _letter_with(pki, store, tmp_path, name, data) == ("accepted", set())
