"""The Parquet lake is the record; each batch is written atomically, then loaded into DuckDB."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.sql_files import sql, statements


def write_batch(lake_dir: Path, table: str, batch_id: str, rows: pa.Table) -> Path:
    """Write rows to lake/<table>/<batch_id>.parquet via a temp file and rename.

    The same batch_id overwrites the same file, so re-running a step never adds a copy.
    """
    folder = Path(lake_dir) / table
    folder.mkdir(parents=True, exist_ok=True)
    sweep_orphans(folder)
    final = folder / f"{batch_id}.parquet"
    tmp = folder / f".{batch_id}.parquet.tmp-{os.getpid()}"
    pq.write_table(rows, tmp, compression="zstd")
    os.replace(tmp, final)
    return final


def sweep_orphans(folder: Path) -> list[Path]:
    """Remove temp files left by writers that were killed mid-write (their process is gone)."""
    removed = []
    for tmp in folder.glob(".*.parquet.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_batch(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> int:
    """Merge one lake file into its table with warehouse/sql/load_<table>.sql, in one transaction.

    The load file reads `read_parquet($path)` and must be an idempotent merge on the table key.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        for stmt in statements(sql(f"load_{table}")):
            con.execute(stmt, {"path": str(path)} if "$path" in stmt else None)
        digest = _sha256(path)
        rows = pq.ParquetFile(path).metadata.num_rows
        con.execute(sql("record_lake_file"), {"table_name": table, "path": str(path), "sha256": digest, "rows": rows})
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return rows


def load_pending(con: duckdb.DuckDBPyConnection, lake_dir: Path, tables: list[str]) -> dict[str, int]:
    """Load every lake file whose content is not loaded yet, for the given tables in order."""
    loaded: dict[str, int] = {}
    for table in tables:
        folder = Path(lake_dir) / table
        for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
            known = con.execute(sql("lake_file_loaded"), {"path": str(path), "sha256": _sha256(path)}).fetchall()
            if known[0][0]:
                continue
            loaded[table] = loaded.get(table, 0) + load_batch(con, table, path)
    return loaded


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
