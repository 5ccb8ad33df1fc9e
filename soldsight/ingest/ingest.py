"""Ingest export files: read, normalise, sort each record into listings or errors, store."""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from soldsight.ingest.normalise import SOURCE, RecordError, normalise_record, raw_json
from soldsight.ingest.read_export import ExportFormatError, read_records
from soldsight.ingest.store import error_row, store_rows, stored_hashes
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


def ingest_file(con: duckdb.DuckDBPyConnection, lake_dir: Path, path: Path | str, *, force: bool = False) -> FileSummary:
    """Ingest one export. A file already ingested (same bytes) is skipped unless force.

    Every record ends as exactly one of: new, updated, duplicate (identical to what is
    stored, or superseded by a later record of the same listing in the file), or error.
    The lake batch holds the file's latest record of every listing; the warehouse merge
    leaves unchanged listings untouched.
    """
    path = Path(path)
    data = path.read_bytes()
    summary = FileSummary(path=str(path), sha256=hashlib.sha256(data).hexdigest())
    if not force and con.execute(sql("file_ingested"), {"sha256": summary.sha256}).fetchall()[0][0]:
        summary.already_ingested = True
        return summary
    try:
        records = read_records(path, data)
    except ExportFormatError as exc:
        summary.failure = str(exc)
        return summary

    origin = f"export:{path.name}"
    now = datetime.now(timezone.utc)
    summary.records = len(records)
    rows, errors = [], []
    for position, (record, raw) in enumerate(records):
        raw = raw if raw is not None else raw_json(record)
        try:
            rows.append(normalise_record(record, origin=origin, ingested_at=now, raw=raw))
        except RecordError as exc:
            errors.append(error_row(source=SOURCE, origin=origin, position=position, reason=str(exc), raw=raw, recorded_at=now))
            summary.errors[reason_category(str(exc))] += 1

    latest: dict[str, dict] = {}
    for row in rows:
        if row["listing_id"] in latest:
            summary.duplicates += 1  # an earlier record of this listing, superseded by a later one
        latest[row["listing_id"]] = row
    stored = stored_hashes(con, SOURCE, list(latest))
    for listing_id, row in latest.items():
        previous = stored.get(listing_id)
        if previous is None:
            summary.new += 1
        elif previous == row["record_hash"]:
            summary.duplicates += 1
        else:
            summary.updated += 1

    store_rows(con, lake_dir, f"export-{summary.sha256[:20]}", list(latest.values()), errors)
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
