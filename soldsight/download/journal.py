"""Result rows on their way to the warehouse: a line-per-row journal plus Parquet batches in the lake.

Each row is appended to the journal as soon as its file is stored, so a SIGKILL loses no finished
download; every few seconds the rows become one lake batch merged into `images`, and the journal
segment is dropped. At the next start, leftover journal segments are merged first (idempotent).
"""
from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse.lake import load_batch, write_batch

TABLE = "images"
_TS = pa.timestamp("us", tz="UTC")
IMAGES_SCHEMA = pa.schema([
    ("source", pa.string()), ("listing_id", pa.string()), ("url", pa.string()), ("status", pa.string()),
    ("error", pa.string()), ("detail", pa.string()), ("permanent", pa.bool_()), ("attempts", pa.int32()),
    ("sha256", pa.string()), ("path", pa.string()), ("width", pa.int32()), ("height", pa.int32()),
    ("format", pa.string()), ("bytes", pa.int64()), ("fetched_url", pa.string()), ("http_status", pa.int32()),
    ("proxy", pa.string()), ("elapsed_ms", pa.float64()), ("fetched_at", _TS),
])
COLUMNS = IMAGES_SCHEMA.names


def journal_dir(home: Path) -> Path:
    return Path(home) / "journal"


def _to_table(rows: list[dict]) -> pa.Table:
    latest = {(r["source"], r["listing_id"], r["url"]): r for r in rows}   # one row per key in a batch
    clean = []
    for r in latest.values():
        row = {c: r.get(c) for c in COLUMNS}
        if isinstance(row["fetched_at"], str):
            row["fetched_at"] = datetime.fromisoformat(row["fetched_at"])
        clean.append(row)
    return pa.Table.from_pylist(clean, schema=IMAGES_SCHEMA)


def store_batch(con: duckdb.DuckDBPyConnection, lake_dir: Path, batch_id: str, rows: list[dict]) -> int:
    if not rows:
        return 0
    path = write_batch(lake_dir, TABLE, batch_id, _to_table(rows))
    return load_batch(con, TABLE, path)


def recover(con: duckdb.DuckDBPyConnection, home: Path, lake_dir: Path) -> int:
    """Merge the rows of journal segments a killed run left; returns how many rows."""
    folder = journal_dir(home)
    total = 0
    for path in sorted(folder.glob("images-*.jsonl")) if folder.is_dir() else []:
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue   # the last line may be cut short by the kill; that download is redone
        # Named after the killed run's own batch, so a rebuild from the lake replays it in time order.
        total += store_batch(con, lake_dir, path.stem.removeprefix("images-") + "-recovered", rows)
        path.unlink()
    return total


class ResultWriter:
    """Journals rows from any thread at once; the owning thread flushes them to the warehouse.

    submit() appends to the journal segment and to the pending rows under one lock, and flush()
    swaps both under that lock, so every row in a segment is in the batch that deletes it.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, home: Path, lake_dir: Path, run_id: str,
                 every: int = 50, interval: float = 2.0):
        self.con, self.lake_dir, self.run_id = con, lake_dir, run_id
        self.every, self.interval = every, interval
        self.folder = journal_dir(home)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.rows: list[dict] = []
        self.seq = 0
        self.written = 0
        self._last_flush = time.monotonic()
        self._segment, self._path = self._open_segment()

    def _open_segment(self):
        path = self.folder / f"images-{self.run_id}-{self.seq:05d}.jsonl"
        return open(path, "a", encoding="utf-8"), path

    def submit(self, rows: list[dict]) -> None:
        """Make rows durable against a kill now (one write), and queue them for the next flush."""
        text = "".join(json.dumps(r, default=_json_default, separators=(",", ":")) + "\n" for r in rows)
        with self._lock:
            self._segment.write(text)
            self._segment.flush()
            self.rows.extend(rows)

    add = submit

    def due(self) -> bool:
        return len(self.rows) >= self.every or (
            bool(self.rows) and time.monotonic() - self._last_flush >= self.interval)

    def tick(self) -> None:
        if self.due():
            self.flush()

    def flush(self) -> None:
        """Merge pending rows into the warehouse (owning thread only), then drop their journal segment."""
        self._last_flush = time.monotonic()
        with self._lock:
            if not self.rows:
                return
            rows, self.rows = self.rows, []
            old_segment, old_path = self._segment, self._path
            self.seq += 1
            self._segment, self._path = self._open_segment()
        old_segment.close()
        self.written += store_batch(self.con, self.lake_dir, f"{self.run_id}-{self.seq - 1:05d}", rows)
        os.unlink(old_path)   # its rows are in the warehouse now

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._segment.close()
            if self._path.exists() and self._path.stat().st_size == 0:
                self._path.unlink()


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def new_run_id() -> str:
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{os.getpid()}"
