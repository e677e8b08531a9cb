"""The layout of ``gateway/`` reads as floors, and imports only run downwards:
app/cli → http → pipeline → delivery → trust → store/render/config. A module that imports a
floor above its own (even inside a function) fails here, with the line that does it."""

from __future__ import annotations

import ast
from pathlib import Path

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"

#: The floor of each part of the package, top first; a module may import its own floor or lower.
FLOORS: list[tuple[int, tuple[str, ...]]] = [
    (5, ("gateway.app", "gateway.cli", "gateway.entry", "gateway.verifyd", "gateway.__main__")),
    (4, ("gateway.http", "gateway.keys")),
    (3, ("gateway.pipeline",)),
    (2, ("gateway.delivery",)),
    (1, ("gateway.trust",)),
    (0, ("gateway.store", "gateway.render", "gateway.config", "gateway.moscow", "gateway.messages_ru", "gateway.webhook_targets")),
]


def _floor(module: str) -> int:
    for floor, prefixes in FLOORS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return floor
    raise AssertionError(f"{module} is on no floor: add it to FLOORS")


def _module_of(path: Path) -> str:
    parts = path.relative_to(GATEWAY.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gateway"):
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("gateway")]
    return found


def test_every_gateway_module_imports_only_its_own_floor_or_lower() -> None:
    upward = []
    for path in sorted(GATEWAY.rglob("*.py")):
        module = _module_of(path)
        if module == "gateway":
            continue  # the empty package marker
        own = _floor(module)
        for line, imported in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if imported != "gateway" and _floor(imported) > own:
                upward.append(f"{path.relative_to(GATEWAY.parent)}:{line} imports {imported}")
    assert upward == []


def test_the_floor_check_sees_an_upward_import() -> None:
    tree = ast.parse("def f():\n    from gateway.pipeline.worker import Pipeline\n")
    assert [_floor(m) for _, m in _imports(tree)] == [3] and _floor("gateway.store.db") == 0


#: Modules that may run SQL: the store, and the few that own a table of their own.
SQL_OWNERS = (
    "gateway/store/",
    "gateway/delivery/outbox.py",  # the outbox table: leases, retries, dead letters
    "gateway/delivery/registry/local.py",  # the stand-in registry's own database file
    "validators/revocation_cache.py",  # the CRL/OCSP cache's own database file
)
_SQL_CALLS = {"execute", "executemany", "executescript", "query"}


def _sql_calls(tree: ast.AST) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SQL_CALLS
    ]


def test_sql_runs_only_in_the_store_and_in_the_modules_owning_their_tables() -> None:
    root = GATEWAY.parent
    outside = []
    for package in ("gateway", "validators"):
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative.startswith(SQL_OWNERS):
                continue
            outside += [f"{relative}:{line}" for line in _sql_calls(ast.parse(path.read_text(encoding="utf-8")))]
    assert outside == []


def test_the_sql_check_sees_a_query_and_an_execute() -> None:
    tree = ast.parse("def f(db, c):\n    db.query('SELECT 1')\n    c.execute('DELETE FROM outbox')\n")
    assert _sql_calls(tree) == [2, 3]
