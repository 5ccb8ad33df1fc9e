"""Writes normalised listings and rejected records to the lake, then merges them into DuckDB.

The scraper stores its rows through here too, so both sources land in one shape.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse.lake import load_batch, write_batch
from warehouse.sql_files import sql

_TS = pa.timestamp("us", tz="UTC")

LISTINGS_SCHEMA = pa.schema([
    ("source", pa.string()), ("listing_id", pa.string()), ("title", pa.string()), ("artist", pa.string()),
    ("artists", pa.list_(pa.string())), ("price", pa.float64()), ("currency", pa.string()),
    ("shipping_cost", pa.float64()), ("total_price", pa.float64()), ("condition", pa.string()),
    ("condition_raw", pa.string()), ("media_grade", pa.string()), ("media_grade_raw", pa.string()),
    ("sleeve_grade", pa.string()), ("sleeve_grade_raw", pa.string()), ("release_year", pa.int32()),
    ("sold", pa.bool_()), ("sold_at", _TS), ("query", pa.string()), ("location", pa.string()),
    ("image_urls", pa.list_(pa.string())), ("item_url", pa.string()), ("origin", pa.string()),
    ("record_hash", pa.string()), ("ingested_at", _TS), ("raw", pa.string()),
])

ERRORS_SCHEMA = pa.schema([
    ("error_id", pa.string()), ("source", pa.string()), ("origin", pa.string()), ("position", pa.int32()),
    ("reason", pa.string()), ("raw", pa.string()), ("recorded_at", _TS),
])


def error_row(*, source: str, origin: str, position: int | None, reason: str, raw: str | None,
              recorded_at: datetime | None = None) -> dict:
    """A scrape_errors row; its id depends only on where it came from and what it held."""
    key = f"{origin}\x1f{position}\x1f{raw}".encode("utf-8")
    return {
        "error_id": hashlib.sha256(key).hexdigest(),
        "source": source,
        "origin": origin,
        "position": position,
        "reason": reason,
        "raw": raw,
        "recorded_at": recorded_at or datetime.now(timezone.utc),
    }


def stored_hashes(con: duckdb.DuckDBPyConnection, source: str, listing_ids: list[str]) -> dict[str, str]:
    """record_hash of each given listing already in the warehouse."""
    if not listing_ids:
        return {}
    rows = con.execute(sql("listing_hashes"), {"source": source, "ids": listing_ids}).fetchall()
    return dict(rows)


def changes(con: duckdb.DuckDBPyConnection, source: str, hashes: dict[str, str]) -> dict[str, str]:
    """For each listing id with its record_hash: 'new', 'unchanged' or 'updated' against the warehouse."""
    stored = stored_hashes(con, source, list(hashes))
    return {listing_id: "new" if stored.get(listing_id) is None else
            "unchanged" if stored[listing_id] == record_hash else "updated"
            for listing_id, record_hash in hashes.items()}


def store_rows(con: duckdb.DuckDBPyConnection, lake_dir: Path, batch_id: str,
               listings: list[dict], errors: list[dict]) -> None:
    """Lake first (the record), then the warehouse; both keyed so a re-run replaces, never adds."""
    store_tables(con, lake_dir, batch_id, _columnar(listings, LISTINGS_SCHEMA) if listings else None,
                 _columnar(errors, ERRORS_SCHEMA) if errors else None)


def store_tables(con: duckdb.DuckDBPyConnection, lake_dir: Path, batch_id: str,
                 listings: pa.Table | None, errors: pa.Table | None) -> None:
    """store_rows for rows already in Arrow tables of LISTINGS_SCHEMA and ERRORS_SCHEMA."""
    if listings is not None and listings.num_rows:
        path = write_batch(lake_dir, "listings", batch_id, listings)
        load_batch(con, "listings", path)
    if errors is not None and errors.num_rows:
        path = write_batch(lake_dir, "scrape_errors", batch_id, errors)
        load_batch(con, "scrape_errors", path)


def _columnar(rows: list[dict], schema: pa.Schema) -> pa.Table:
    # Column by column is several times faster than Table.from_pylist on wide rows.
    return pa.table({f.name: pa.array([row[f.name] for row in rows], type=f.type) for f in schema}, schema=schema)
