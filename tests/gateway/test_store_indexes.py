"""The queries of every validation find their rows by index, whatever the size of the store."""

from __future__ import annotations

from pathlib import Path

from gateway.store.db import Database


def test_streebog_lookups_by_sha256_use_an_index_not_a_scan_of_every_file(tmp_path: Path) -> None:
    # At every validation the recorded Streebog digest of each file is looked up, and the
    # one computed recorded, by the file's SHA-256.
    database = Database(tmp_path / "gateway.sqlite3")
    try:
        for sql in (
            "SELECT streebog256 FROM files WHERE sha256 = ? AND streebog256 IS NOT NULL LIMIT 1",
            "UPDATE files SET streebog256 = ? WHERE sha256 = ? AND streebog256 IS NULL",
        ):
            plan = " ".join(str(row["detail"]) for row in database.query("EXPLAIN QUERY PLAN " + sql, *(["x"] * sql.count("?"))))
            assert "USING INDEX files_sha256" in plan, plan
    finally:
        database.close()
