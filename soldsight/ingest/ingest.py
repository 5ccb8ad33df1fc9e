"""Ingest export files: read, normalise, sort each record into listings or errors, store."""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from soldsight.ingest import columns
from soldsight.ingest.dates import to_micros
from soldsight.ingest.normalise import SOURCE
from soldsight.ingest.pieces import read_normalised
from soldsight.ingest.read_export import ExportFormatError
from soldsight.ingest.store import ERRORS_SCHEMA, LISTINGS_SCHEMA, changes, error_row, store_tables
from warehouse.sql_files import sql


@dataclass
class FileSummary:
    path: str
    sha256: str = ""
    records: int = 0
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    errors: Counter = field(default_factory=Counter)
    already_ingested: bool = False
    failure: str | None = None  # the whole file was rejected; nothing written

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def reason_category(reason: str) -> str:
    return reason.split(":", 1)[0]


def ingest_file(con: duckdb.DuckDBPyConnection, lake_dir: Path, path: Path | str, *, force: bool = False,
                workers: int | None = None) -> FileSummary:
    """Ingest one export. A file already ingested (same bytes) is skipped unless force.

    Every record ends as exactly one of: new, updated, duplicate (identical to what is
    stored, or superseded by a later record of the same listing in the file), or error.
    The lake batch holds the file's latest record of every listing; the warehouse merge
    leaves unchanged listings untouched. A large NDJSON file is read on `workers` processes
    (default: one per idle core) with the same outcome as one process.
    """
    path = Path(path)
    data = path.read_bytes()
    summary = FileSummary(path=str(path), sha256=hashlib.sha256(data).hexdigest())
    if not force and con.execute(sql("file_ingested"), {"sha256": summary.sha256}).fetchall()[0][0]:
        summary.already_ingested = True
        return summary
    origin = f"export:{path.name}"
    now = datetime.now(timezone.utc)
    try:
        table, rejected, summary.records = read_normalised(path, data, origin=origin, ingested_at=now,
                                                           schema=LISTINGS_SCHEMA, workers=workers)
    except ExportFormatError as exc:
        summary.failure = str(exc)
        return summary
    errors = [error_row(source=SOURCE, origin=origin, position=position, reason=reason, raw=raw, recorded_at=now)
              for position, reason, raw in rejected]
    errors_table = columns.table({**{name: [row[name] for row in errors] for name in ERRORS_SCHEMA.names},
                                  "recorded_at": [to_micros(now)] * len(errors)}, ERRORS_SCHEMA)
    summary.errors.update(reason_category(reason) for _, reason, _ in rejected)

    # The file's last record of each listing wins; the lake keeps the listings in order of first sight.
    latest: dict[str, int] = {}
    for index, listing_id in enumerate(table.column("listing_id").to_pylist()):
        latest[listing_id] = index
    summary.duplicates += summary.records - len(rejected) - len(latest)  # superseded by a later record
    if len(latest) < table.num_rows:
        table = table.take(columns.numbers(list(latest.values()), pa.int64()))
    counts = Counter(changes(con, SOURCE, dict(zip(latest, table.column("record_hash").to_pylist()))).values())
    summary.new += counts["new"]
    summary.duplicates += counts["unchanged"]   # identical to the stored listing
    summary.updated += counts["updated"]

    store_tables(con, lake_dir, f"export-{summary.sha256[:20]}", table, errors_table)
    con.execute(sql("record_ingested_file"), {
        "sha256": summary.sha256, "path": str(path), "records": summary.records,
        "listings": len(latest), "errors": summary.error_count,
    })
    return summary


def export_files(paths: list[Path | str]) -> list[Path]:
    """The files named, with folders expanded to their *.json / *.ndjson / *.jsonl files."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(q for q in p.iterdir() if q.suffix.lower() in (".json", ".ndjson", ".jsonl")))
        else:
            found.append(p)
    return found
