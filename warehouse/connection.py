"""Opens the warehouse file: waits for another writer, migrates the schema, registers UDFs."""
from __future__ import annotations

import random
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from soldsight.settings import Settings
from warehouse.migrate import migrate
from warehouse.udfs import register_all


class WarehouseBusy(RuntimeError):
    """Another process held the warehouse for longer than the lock timeout."""


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


def connect(path: Path | str, *, read_only: bool = False, lock_timeout: float = 120.0) -> duckdb.DuckDBPyConnection:
    """A connection to the DuckDB file at path, schema migrated and UDFs registered.

    DuckDB allows one writing process per file. A second process waits here, with
    backoff and jitter, rather than failing: a price run during a refresh just queues.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only and path.exists())
            break
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc) or time.monotonic() >= deadline:
                if _is_lock_conflict(exc):
                    raise WarehouseBusy(
                        f"warehouse {path} is held by another process for over {lock_timeout:.0f}s"
                    ) from None
                raise
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())) * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 2.0)
    if not read_only:
        migrate(con)
    register_all(con)
    return con


@contextmanager
def open_warehouse(settings: Settings, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Hold the warehouse only for the with-block, so other processes get their turn."""
    con = connect(settings.warehouse_path, read_only=read_only, lock_timeout=settings.lock_timeout)
    try:
        yield con
    finally:
        con.close()
