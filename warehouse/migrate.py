"""Applies the numbered schema files in warehouse/sql/schema/ once each, in order."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from warehouse.sql_files import SQL_DIR, sql, statements

SCHEMA_DIR = SQL_DIR / "schema"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def schema_files() -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted(SCHEMA_DIR.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise ValueError(f"schema file {path.name} must be named NNN_name.sql")
        found.append((int(m.group(1)), m.group(2), path))
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise ValueError(f"two schema files share a version: {versions}")
    return found


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(sql("schema_version_table"))
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()
    return int(row[0][0])


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Bring the warehouse to the newest schema; returns the versions applied now."""
    applied = []
    have = current_version(con)
    for version, name, path in schema_files():
        if version <= have:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for stmt in statements(path.read_text(encoding="utf-8")):
                con.execute(stmt)
            con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied
