"""The product documentation in ``docs/`` stays true to the code it describes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from validators.catalogue import DOC_TYPES
from validators.checks import CATALOGUE, Entry, Severity

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_checks", DOCS / "gen_checks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checks_md_generated_tables_match_the_catalogue() -> None:
    text = (DOCS / "checks.md").read_text(encoding="utf-8")
    assert _generator().updated(text) == text, "docs/checks.md is out of date: run .venv/bin/python docs/gen_checks.py"


def test_checks_md_lists_every_finding_code_with_its_russian_texts() -> None:
    text = (DOCS / "checks.md").read_text(encoding="utf-8")
    for code, entry in CATALOGUE.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{code}` |")), None)
        assert row is not None, code
        assert f"| {entry.severity.value} |" in row
        assert " ".join(entry.message_ru.split()) in row


def test_a_new_catalogue_code_makes_the_committed_table_out_of_date() -> None:
    generator = _generator()
    text = (DOCS / "checks.md").read_text(encoding="utf-8")
    grown = {**CATALOGUE, "docs.example": Entry(Severity.WARNING, "Пример.", "Ничего.")}
    changed = {**CATALOGUE, "file.empty": Entry(Severity.FIXABLE, CATALOGUE["file.empty"].message_ru, CATALOGUE["file.empty"].remedy_ru)}
    assert generator.updated(text, grown) != text
    assert generator.updated(text, changed) != text
    assert "| `docs.example` | warning | accepted | Пример. | Ничего. |" in generator.render_table(grown)


def test_a_new_document_type_makes_the_committed_catalogue_out_of_date() -> None:
    generator = _generator()
    text = (DOCS / "checks.md").read_text(encoding="utf-8")
    fewer = {code: doc for code, doc in DOC_TYPES.items() if code != "charter"}
    assert generator.updated(text, CATALOGUE, fewer) != text


def test_docs_link_only_to_files_and_anchors_that_exist() -> None:
    pages = {page.name: page.read_text(encoding="utf-8") for page in DOCS.glob("*.md")}
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, text in [*pages.items(), ("README.md", readme)]:
        base = REPO if name == "README.md" else DOCS
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            page = (base / path) if path else (base / name)
            assert page.exists(), f"{name}: link to missing {target}"
            if anchor and page.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)
                slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}
                assert anchor in slugs, f"{name}: no heading for #{anchor} in {page.name}"


def test_readme_sends_newcomers_to_docs_not_to_the_shared_spec() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "../shared/SPEC.md" not in readme
    for page in ("docs/checks.md", "docs/api.md", "docs/configuration.md", "docs/operations.md"):
        assert page in readme


def _webhook_example() -> dict[str, object]:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    marker = text.index("<!-- example: webhook-verify")
    block = re.search(r"```python\n(.*?)```", text[marker:], re.S)
    assert block is not None
    namespace: dict[str, object] = {}
    exec(compile(block.group(1), "docs/api.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace


def test_api_md_webhook_example_accepts_what_the_gateway_signs_and_nothing_else() -> None:
    import json
    import time

    from gateway.http.webhooks import signature

    verify = _webhook_example()["verify_gateway_callback"]
    secret = "s" * 32
    body = json.dumps({"event_id": "evt-1", "kind": "decision", "status": "accepted"}, ensure_ascii=False, sort_keys=True).encode()
    now = str(int(time.time()))
    headers = {"X-Gateway-Timestamp": now, "X-Gateway-Signature": signature(secret, now, body)}
    assert verify(secret, headers, body)  # type: ignore[operator]
    assert not verify(secret, headers, body.replace(b"accepted", b"rejected"))  # type: ignore[operator]
    assert not verify("t" * 32, headers, body)  # type: ignore[operator]
    old = str(int(time.time()) - 3600)
    assert not verify(secret, {"X-Gateway-Timestamp": old, "X-Gateway-Signature": signature(secret, old, body)}, body)  # type: ignore[operator]
