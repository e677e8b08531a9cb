"""Validation of a new member list CSV before it replaces the current one.

Every problem is reported with its line, in Russian; nothing is replaced unless the whole
file is good: the header, register numbers (digits, no duplicates, leading zeros ignored),
ОГРН and ИНН check digits, duplicate ОГРН/ИНН, the status and an email address.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from gateway import messages_ru as text
from gateway.store.files import write_atomically
from validators.identifiers import inn_valid, ogrn_valid

__all__ = ["validate_members_csv", "replace_members_csv", "COLUMNS", "MAX_CSV_BYTES"]

COLUMNS = ("number", "ogrn", "inn", "name", "email", "head", "status")
MAX_CSV_BYTES = 2 << 20
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def validate_members_csv(data: bytes) -> tuple[int, list[str]]:
    """(number of members, problems in Russian); the file is usable only without problems."""
    if len(data) > MAX_CSV_BYTES:
        return 0, [text.MEMBERS_CSV_TOO_LARGE.format(limit=text.size_ru(MAX_CSV_BYTES))]
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return 0, [text.MEMBERS_CSV_NOT_UTF8]
    reader = csv.DictReader(io.StringIO(decoded, newline=""))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        return 0, [text.MEMBERS_CSV_HEADER.format(columns=",".join(COLUMNS))]
    problems: list[str] = []
    numbers: dict[str, int] = {}
    ogrns: dict[str, int] = {}
    inns: dict[str, int] = {}
    count = 0
    try:
        for line, row in enumerate(reader, start=2):
            count += 1
            values = {k: (row.get(k) or "").strip() for k in COLUMNS}
            number = values["number"]
            if not number.isascii() or not number.isdigit():
                problems.append(text.MEMBERS_CSV_NUMBER_DIGITS.format(line=line, number=number))
            else:
                key = str(int(number))
                if key in numbers:
                    problems.append(text.MEMBERS_CSV_NUMBER_DUPLICATE.format(line=line, number=number, first=numbers[key]))
                numbers.setdefault(key, line)
            if not ogrn_valid(values["ogrn"]):
                problems.append(text.MEMBERS_CSV_OGRN_INVALID.format(line=line, ogrn=values["ogrn"]))
            elif values["ogrn"] in ogrns:
                problems.append(text.MEMBERS_CSV_OGRN_DUPLICATE.format(line=line, ogrn=values["ogrn"], first=ogrns[values["ogrn"]]))
            ogrns.setdefault(values["ogrn"], line)
            if not inn_valid(values["inn"]):
                problems.append(text.MEMBERS_CSV_INN_INVALID.format(line=line, inn=values["inn"]))
            elif values["inn"] in inns:
                problems.append(text.MEMBERS_CSV_INN_DUPLICATE.format(line=line, inn=values["inn"], first=inns[values["inn"]]))
            inns.setdefault(values["inn"], line)
            if not values["name"]:
                problems.append(text.MEMBERS_CSV_NAME_MISSING.format(line=line))
            if values["email"] and not _EMAIL.match(values["email"]):
                problems.append(text.MEMBERS_CSV_EMAIL_INVALID.format(line=line, email=values["email"]))
            if values["status"] not in ("active", "excluded"):
                problems.append(text.MEMBERS_CSV_STATUS.format(line=line))
    except csv.Error as exc:
        problems.append(text.MEMBERS_CSV_BROKEN.format(error=exc))
    if count == 0 and not problems:
        problems.append(text.MEMBERS_CSV_EMPTY)
    return count, problems


def replace_members_csv(target: Path, data: bytes) -> None:
    """Write the new list beside the old one and swap it in atomically (the old one is kept
    as ``<name>.previous``)."""
    if target.exists():
        previous = target.with_name(target.name + ".previous")
        write_atomically(previous, target.read_bytes())
    write_atomically(target, data)
