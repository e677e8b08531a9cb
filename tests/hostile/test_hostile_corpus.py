"""The hostile corpus (tests/hostile/corpus.py) through the gateway's own entry points.

Every item goes through :func:`gateway.pipeline.worker.run_validation` (what the server runs) with
a real configuration, member list and trust store. Per item: the expected codes are among
the findings, the decision matches, nothing became ``processing.error`` (a validator
crash), the package was judged within :data:`MAX_SECONDS` and :data:`MAX_TRACED_BYTES` of
traced Python memory, and nothing was written outside the scratch folder. A sample of the
items also goes through the real HTTP server. Items whose expectation the product does not
meet yet are strict xfails carrying the bug (see ``Item.bug`` in the corpus).
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config import Config, LimitsConfig, MailConfig, ServerConfig, StorageConfig, VerificationConfig
from gateway.pipeline.worker import PackageRequest, run_validation
from gateway.store.files import safe_name
from tests.hostile.corpus import MEMBER, Item, build_corpus, item_notes
from tests.pki.builder import HEAD_EMAIL, KPK_INNLE, KPK_NAME, KPK_OGRN, TestPki
from validators.catalogue import Slot
from validators.checks import CATALOGUE
from validators.members import MemberList
from validators.package import UploadedFile
from validators.signatures.verify import VerificationPolicy
from validators.trust import TrustStore, load_trust_store

ClientFactory = Callable[..., Awaitable[TestClient]]

MAX_SECONDS = 20.0
MAX_TRACED_BYTES = 200 << 20
MIN_ITEMS = 60
HEAD = "Иванов Иван Петрович"

NOTES = item_notes()
"""Item name -> bug note (None: must pass); known without building the files."""

#: Sent through the HTTP server: one or two of each family.
HTTP_SAMPLE = (
    "bomb-flat-1g-lying-size",
    "bomb-nested-3",
    "path-parent",
    "path-backslash-parent-2",
    "link-symlink",
    "enc-aes-method-99",
    "name-component-300-bytes",
    "corrupt-zip-cut-in-central-directory",
    "poly-zip-with-pdf-header-as-report",
    "poly-pdf-with-zip-appended-in-pdf-slot",
    "pdf-encrypted",
    "pdf-active-javascript-openaction-signed",
    "cms-nesting-10000",
    "cms-in-zip-certificate",
)

_timings: dict[str, float] = {}
_peaks: dict[str, int] = {}


def _members_csv(path: Path) -> Path:
    path.write_text(
        "number,ogrn,inn,name,email,head,status\n"
        f'{MEMBER},{KPK_OGRN},{KPK_INNLE},"{KPK_NAME}",{HEAD_EMAIL},{HEAD},active\n',
        encoding="utf-8",
    )
    return path


def _config(pki: TestPki, folder: Path) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    return Config(
        server=ServerConfig(max_request_bytes=64 << 20),
        verification=VerificationConfig(trust_dir=pki.trust_dir),
        storage=StorageConfig(data_dir=folder / "var", members_csv=_members_csv(folder / "members.csv")),
        limits=LimitsConfig(),
        mail=MailConfig(eml_dir=folder / "mail"),
    )


@pytest.fixture(scope="module")
def corpus_items(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Item]:
    items = build_corpus(pki, tmp_path_factory.mktemp("hostile-corpus"))
    assert [i.name for i in items] == list(NOTES), "the corpus must declare the same items with and without a PKI"
    return {item.name: item for item in items}


@pytest.fixture(scope="module")
def trust(pki: TestPki) -> TrustStore:
    loaded = load_trust_store(pki.trust_dir)
    assert not loaded.problems, loaded.problems
    return loaded


def _params() -> list[Any]:
    return [
        pytest.param(name, id=name, marks=[pytest.mark.xfail(strict=True, reason=note)] if note else [])
        for name, note in NOTES.items()
    ]


def _tree(root: Path, skip: Path | None = None) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of everything below ``root`` (``skip`` and below excluded)."""
    listing: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root):
        if skip is not None:
            dirs[:] = [d for d in dirs if Path(folder, d) != skip]
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            listing[str(path.relative_to(root))] = (info.st_size if name in files else 0, info.st_mtime_ns if name in files else 0)
    return listing


def _codes(report: dict[str, Any]) -> set[str]:
    return {check["code"] for check in report["checks"]}


def _uploads(item: Item) -> list[UploadedFile]:
    # The name as the HTTP layer stores it (reduced to one printable part).
    return [UploadedFile(Slot(slot), safe_name(name, "file"), path) for slot, name, path in item.files]


@pytest.mark.parametrize("name", _params())
def test_hostile_item_is_judged_safely(
    name: str, corpus_items: dict[str, Item], pki: TestPki, trust: TrustStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = corpus_items[name]
    config = _config(pki, tmp_path / "config")
    members = MemberList(config.storage.members_csv)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # Whatever uses the system temp folder (tempfile, and unar/lsar through TMPDIR) writes
    # here during the call, where it can be seen.
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    monkeypatch.setenv("TMPDIR", str(system_temp))
    request = PackageRequest(
        member=MEMBER, doc_type=item.doc_type, report_kind=item.report_kind, regulation_kind=None, files=_uploads(item)
    )
    inputs = sorted({path.parent for _, _, path in item.files})
    before = _tree(tmp_path, skip=scratch)
    inputs_before = {folder: _tree(folder) for folder in inputs}

    tracemalloc.start()
    started = time.monotonic()
    try:
        decision, typed = run_validation(request, config, members, trust, VerificationPolicy(), scratch)
        report = typed.to_json()
    finally:
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    _timings[name] = elapsed
    _peaks[name] = peak

    codes = _codes(report)
    summary = [(c["code"], c["file"], c["detail"][:200]) for c in report["checks"]]
    print(f"{name}: {report['decision']} {sorted(codes)} {elapsed:.2f} s, peak {peak / 2**20:.1f} MiB")
    assert "processing.error" not in codes, f"the validator crashed: {summary}"
    assert codes <= set(CATALOGUE), codes - set(CATALOGUE)
    assert item.expected_codes <= codes, f"missing {sorted(item.expected_codes - codes)}; found {summary}"
    assert report["decision"] == decision.value == item.expected_decision, summary
    assert elapsed < MAX_SECONDS, f"{elapsed:.1f} s"
    assert peak < MAX_TRACED_BYTES, f"peak traced memory {peak / 2**20:.0f} MiB"
    assert list(scratch.iterdir()) == [], "the package's work folder was left behind"
    assert _tree(tmp_path, skip=scratch) == before, "something was written outside the scratch folder"
    assert {folder: _tree(folder) for folder in inputs} == inputs_before, "an input file was changed"


# --- through the HTTP server -------------------------------------------------------------------


async def _submit(client: TestClient, item: Item) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("member", MEMBER)
    form.add_field("doc_type", item.doc_type)
    if item.report_kind:
        form.add_field("report_kind", item.report_kind)
    for slot, name, path in item.files:
        form.add_field(slot, path.read_bytes(), filename=name)
    return await client.post("/api/v1/submissions", data=form)


async def _decided(client: TestClient, submission_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = await client.get(f"/api/v1/submissions/{submission_id}/report")
        assert response.status < 500, await response.text()
        if response.status == 200:
            return await response.json()
        assert response.status == 202, await response.text()
        await asyncio.sleep(0.1)
    raise AssertionError(f"no decision for {submission_id} within 60 s")


async def test_sample_through_the_http_server(
    aiohttp_client: ClientFactory, corpus_items: dict[str, Item], pki: TestPki, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await aiohttp_client(create_app(_config(pki, tmp_path)))
    sample = [corpus_items[name] for name in HTTP_SAMPLE if name in corpus_items]
    assert len(sample) >= 10
    for item in sample:
        response = await _submit(client, item)
        assert response.status == 202, (item.name, response.status, await response.text())
        report = await _decided(client, (await response.json())["id"])
        codes = _codes(report)
        assert "processing.error" not in codes, (item.name, report["checks"])
        assert item.expected_codes <= codes, (item.name, report["checks"])
        assert report["decision"] == item.expected_decision, (item.name, report["checks"])
    assert "Traceback" not in caplog.text
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


# --- summary -----------------------------------------------------------------------------------


def test_corpus_size_and_timings() -> None:
    families: dict[str, int] = {}
    for name in NOTES:
        families[name.split("-", 1)[0]] = families.get(name.split("-", 1)[0], 0) + 1
    print(f"\nhostile corpus: {len(NOTES)} items; families: {families}")
    print(f"known bugs (strict xfail): {sum(1 for note in NOTES.values() if note)}")
    if _timings:
        ordered = sorted(_timings.items(), key=lambda kv: kv[1])
        print("fastest:", ", ".join(f"{n} {t:.3f}s" for n, t in ordered[:3]))
        print("slowest:", ", ".join(f"{n} {t:.2f}s" for n, t in ordered[-5:]))
        heaviest = sorted(_peaks.items(), key=lambda kv: kv[1])[-3:]
        print("largest traced peaks:", ", ".join(f"{n} {p / 2**20:.1f} MiB" for n, p in heaviest))
    assert len(NOTES) >= MIN_ITEMS
