"""The test run itself: a missing corpus is an error unless explicitly allowed, and a
hanging test fails alone (pytest-timeout)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ALLOW_NO_CORPUS, REPO, corpus_missing_problem


def test_missing_corpus_is_a_problem_unless_allowed(tmp_path: Path) -> None:
    assert corpus_missing_problem(tmp_path, {}) is not None
    assert "GATEWAY_ALLOW_NO_CORPUS=1" in str(corpus_missing_problem(tmp_path, {}))
    assert corpus_missing_problem(tmp_path, {ALLOW_NO_CORPUS: "1"}) is None
    assert corpus_missing_problem(tmp_path, {ALLOW_NO_CORPUS: "0"}) is not None
    (tmp_path / "MANIFEST.md").write_text("corpus", encoding="utf-8")
    assert corpus_missing_problem(tmp_path, {}) is None


def _pytest(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != ALLOW_NO_CORPUS} | env,
    )


def test_a_run_without_the_corpus_is_an_error_not_a_skip(tmp_path: Path) -> None:
    this = "tests/test_infrastructure.py::test_missing_corpus_is_a_problem_unless_allowed"
    refused = _pytest(tmp_path, this, env={"GATEWAY_CORPUS": str(tmp_path / "nowhere")})
    assert refused.returncode == 4 and "shared corpus is missing" in refused.stderr, (refused.returncode, refused.stderr[-1000:])
    allowed = _pytest(tmp_path, this, env={"GATEWAY_CORPUS": str(tmp_path / "nowhere"), ALLOW_NO_CORPUS: "1"})
    assert allowed.returncode == 0, allowed.stdout[-1000:]


def test_every_test_has_a_timeout(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert float(pytestconfig.getini("timeout")) == 120


def test_a_hanging_test_fails_alone(tmp_path: Path) -> None:
    (tmp_path / "test_hang.py").write_text(
        "import time\n\ndef test_hangs():\n    time.sleep(60)\n\ndef test_next():\n    pass\n", encoding="utf-8"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=1", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "1 failed, 1 passed" in run.stdout, run.stdout[-2000:]
    assert "Timeout" in run.stdout


def test_no_test_module_imports_another_test_module() -> None:
    """Shared helpers live in ``tests/servers``, ``tests/pki``, helper modules and
    ``conftest.py``: importing a test module from another runs its module-level set-up
    twice and ties unrelated tests together."""
    import ast

    offenders = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            offenders += [f"{path.relative_to(REPO)}:{node.lineno} {n}" for n in names if n.startswith("tests.") and n.rsplit(".", 1)[-1].startswith("test_")]
    assert offenders == []
