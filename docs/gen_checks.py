"""Write the generated tables of ``docs/checks.md`` from the code.

Two blocks of ``docs/checks.md``, each between its marker lines, are generated:

* the document catalogue (``validators/catalogue.py``): document types with their upload
  slots, report kinds, regulation kinds;
* every finding code of :data:`validators.checks.CATALOGUE`, in catalogue order, with its
  default severity, the decision that severity leads to with the default ``[decision]``
  settings, and the Russian message and remedy exactly as members and staff read them.

Edit the code, then run

    .venv/bin/python docs/gen_checks.py          # rewrite the table in docs/checks.md
    .venv/bin/python docs/gen_checks.py --check  # exit 1 when the table is out of date

``tests/test_docs.py`` fails when the committed table differs from the catalogue.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from gateway.config import DecisionConfig  # noqa: E402
from validators.catalogue import DOC_TYPES, REGULATION_KINDS, REPORT_KINDS, DocType  # noqa: E402
from validators.checks import CATALOGUE, Entry  # noqa: E402

__all__ = ["CHECKS_MD", "markers", "render_table", "render_catalogue", "updated", "main"]

CHECKS_MD = REPO / "docs" / "checks.md"

_DEFAULTS = DecisionConfig()
"""The default ``[decision]`` mapping: severity -> decision."""


def _cell(text: str) -> str:
    """Text as one Markdown table cell: no line breaks, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def render_table(catalogue: Mapping[str, Entry] = CATALOGUE) -> str:
    """The Markdown table of every finding code of ``catalogue``."""
    lines = [
        f"{len(catalogue)} codes, in catalogue order.",
        "",
        "| code | severity | default decision | message (`message_ru`) | remedy (`remedy_ru`) |",
        "|---|---|---|---|---|",
    ]
    for code, entry in catalogue.items():
        severity = entry.severity.value
        lines.append(
            f"| `{code}` | {severity} | {getattr(_DEFAULTS, severity)} | {_cell(entry.message_ru)} | {_cell(entry.remedy_ru)} |"
        )
    return "\n".join(lines)


def render_catalogue(doc_types: Mapping[str, DocType] = DOC_TYPES) -> str:
    """The document types with their upload slots, then the report and regulation kinds."""
    lines = ["| `doc_type` | Russian name | upload slots (file kinds by content) |", "|---|---|---|"]
    for code, doc_type in doc_types.items():
        slots = "; ".join(
            f"`{slot.value}`: {' or '.join(sorted(rule.kinds))}{'' if rule.required else ' (optional)'}" for slot, rule in doc_type.slots.items()
        )
        lines.append(f"| `{code}` | {_cell(doc_type.name_ru)} | {slots} |")
    lines += ["", "| `report_kind` | Russian name | report file name |", "|---|---|---|"]
    lines += [f"| `{code}` | {_cell(name)} | `PPP_{part}.zip` |" for code, (name, part) in REPORT_KINDS.items()]
    lines += ["", "| `regulation_kind` | Russian name |", "|---|---|"]
    lines += [f"| `{code}` | {_cell(name)} |" for code, name in REGULATION_KINDS.items()]
    return "\n".join(lines)


def markers(block: str) -> tuple[str, str]:
    """The first and last line around a generated block of checks.md."""
    return f"<!-- BEGIN GENERATED: {block} (python docs/gen_checks.py) -->", f"<!-- END GENERATED: {block} -->"


def _replace(text: str, block: str, content: str) -> str:
    begin, end = markers(block)
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"{CHECKS_MD.name}: the markers {begin!r} and {end!r} are missing")
    return text[: start + len(begin)] + "\n" + content + "\n" + text[stop:]


def updated(text: str, catalogue: Mapping[str, Entry] = CATALOGUE, doc_types: Mapping[str, DocType] = DOC_TYPES) -> str:
    """``text`` (the content of checks.md) with both generated blocks replaced."""
    text = _replace(text, "document catalogue", render_catalogue(doc_types))
    return _replace(text, "finding codes", render_table(catalogue))


def main(argv: list[str]) -> int:
    """Rewrite the table (no arguments) or only compare it (``--check``)."""
    text = CHECKS_MD.read_text(encoding="utf-8")
    fresh = updated(text)
    if "--check" in argv:
        if fresh != text:
            print(f"{CHECKS_MD}: the finding table is out of date; run python docs/gen_checks.py", file=sys.stderr)
            return 1
        return 0
    if fresh != text:
        CHECKS_MD.write_text(fresh, encoding="utf-8")
        print(f"{CHECKS_MD}: table rewritten ({len(CATALOGUE)} codes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
