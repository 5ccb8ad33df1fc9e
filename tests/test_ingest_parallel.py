"""The fast ingest path (batch normaliser, worker processes) gives exactly what the plain path gives."""
import json
import subprocess
import sys
from datetime import datetime, timezone

import duckdb
import pytest

from soldsight.ingest import pieces
from soldsight.ingest.batch import LISTING_FIELDS, normalise_batch
from soldsight.ingest.ingest import ingest_file
from soldsight.ingest.normalise import RecordError, normalise_record, raw_json
from soldsight.ingest.store import LISTINGS_SCHEMA
from warehouse.connection import connect
from tests.test_ingest_fields import full_record

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

ODD_VALUES = [None, "", "  ", 5, 5.5, True, {"a": 1}, ["x"], "Free", "US $1,234.50 x", "£3", "C $4.00",
              "May 6, 2024 16:11:12 PDT", "May  06, 2024 16:11:12 PDT", "May 06, 2024 24:11:12 PDT",
              "Feb 30, 2024 10:00:00 UTC", "May 06, 2024 16:11:12 XYZT", "2024-05-06 10:00:00", "Jul 20, 2026",
              " May 06, 2024\u00a016:11:12 PDT ", "May 06, 2024 16:11:60 PDT", "May 06, 2024 16:11:12 ACST",
              "2024-05-06T10:00:00+02:00", "Near Mint (NM or M-)", "1977", "1977.0", "Unknown", "  Used ",
              "a, b,, c", "x\u00a0y", "\u00e9t\u00e9 \U0001f3b5"]
FIELDS = ["title", "shipping_price", "condition", "artist", "record_grading", "sleeve_grading", "release_year",
          "sold_date", "image_url", "full_description_url", "input", "location"]
ODD_PRICES = [{"value": "12.50", "currency": "USD"}, {"value": 3, "symbol": "£"}, {"value": 3, "currency": "XXX"},
              {"value": True, "currency": "USD"}, {"value": 4, "currency": None, "symbol": "C $"}, 7, None,
              {"value": -1, "currency": "USD"}, {"value": 2.5}]
ODD_IDS = [123, "00123", "12a", "", True, "\uff11\uff12"]


def odd_records(n: int) -> list:
    """Listings (a third repeated, some changed) with every odd field value, bad records and failed scrapes."""
    records = []
    for i in range(n):
        record = full_record(ebay_id=str(1000 + i % (2 * n // 3)), title=f"Album {i}",
                             sold_date=f"May {i % 28 + 1:02d}, 2024 {i % 24:02d}:{i % 60:02d}:{i % 59:02d} PDT")
        record[FIELDS[i % len(FIELDS)]] = ODD_VALUES[i % len(ODD_VALUES)]
        if i % 11 == 0:
            record["price"] = ODD_PRICES[i % len(ODD_PRICES)]
        if i % 17 == 0:
            record["ebay_id"] = ODD_IDS[i % len(ODD_IDS)]
        if i % 23 == 0:
            record = {"input": {"keyword": "k"}, "error": f"Crawler error {i}"}
        records.append(record)
    return records


def write_ndjson(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_batch_fields_are_the_listings_schema():
    assert list(LISTING_FIELDS) == LISTINGS_SCHEMA.names


def test_batch_rows_are_normalise_record_rows():
    records = odd_records(600) + [42, "text", None, [1]]
    table, errors = normalise_batch(((r, None) for r in records), origin="x", ingested_at=NOW, schema=LISTINGS_SCHEMA)
    expected_rows, expected_errors = [], []
    for position, record in enumerate(records):
        try:
            expected_rows.append(normalise_record(record, origin="x", ingested_at=NOW))
        except RecordError as exc:
            expected_errors.append((position, str(exc), raw_json(record)))
    assert errors == expected_errors
    assert table.to_pylist() == expected_rows
    assert len(errors) > 40 and table.num_rows > 400


@pytest.mark.parametrize("workers", [2, 3])
def test_pieces_give_the_serial_rows_errors_and_positions(tmp_path, monkeypatch, workers):
    monkeypatch.setattr(pieces, "PARALLEL_MIN_BYTES", 0)
    path = write_ndjson(tmp_path / "odd.ndjson", odd_records(900))
    data = path.read_bytes()
    serial = pieces.read_normalised(path, data, origin="o", ingested_at=NOW, schema=LISTINGS_SCHEMA, workers=1)
    monkeypatch.setattr(pieces, "_serial", None)  # the pieces must not fall back to reading serially
    parallel = pieces.read_normalised(path, data, origin="o", ingested_at=NOW, schema=LISTINGS_SCHEMA,
                                      workers=workers)
    assert last_per_listing(parallel[0]).equals(last_per_listing(serial[0]))
    assert parallel[1:] == serial[1:]
    assert [position for position, _, _ in serial[1]][-1] > 600  # errors in the last piece keep file positions


def last_per_listing(table):
    """What ingest keeps: one row per listing, where first seen, holding its last record."""
    latest = {}
    for index, listing_id in enumerate(table.column("listing_id").to_pylist()):
        latest[listing_id] = index
    return table.take(list(latest.values()))


def warehouse_rows(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return (con.execute("SELECT * EXCLUDE (ingested_at) FROM listings ORDER BY listing_id").fetchall(),
                con.execute("SELECT * EXCLUDE (recorded_at) FROM scrape_errors ORDER BY error_id").fetchall())
    finally:
        con.close()


def test_parallel_ingest_stores_and_counts_as_serial(tmp_path, monkeypatch):
    monkeypatch.setattr(pieces, "PARALLEL_MIN_BYTES", 0)
    first = write_ndjson(tmp_path / "first.ndjson", odd_records(900))
    second = write_ndjson(tmp_path / "second.ndjson", odd_records(700)[::-1])  # updates and duplicates
    outcome = {}
    for workers in (1, 2):
        con = connect(tmp_path / f"w{workers}.duckdb")
        summaries = [ingest_file(con, tmp_path / f"lake{workers}", f, workers=workers) for f in (first, second)]
        con.close()
        outcome[workers] = ([(s.records, s.new, s.updated, s.duplicates, s.errors) for s in summaries],
                            warehouse_rows(tmp_path / f"w{workers}.duckdb"))
    assert outcome[2] == outcome[1]
    assert outcome[1][0][1][2] > 0  # the second file did update listings


@pytest.mark.parametrize("damage", ["cut line", "bad utf-8", "not an object"])
def test_a_broken_piece_fails_as_the_serial_read_does(tmp_path, monkeypatch, damage):
    monkeypatch.setattr(pieces, "PARALLEL_MIN_BYTES", 0)
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in odd_records(600)]
    lines[500] = {"cut line": lines[500][:-4], "bad utf-8": b"\xff", "not an object": b"[1, 2]"}[damage]
    path = tmp_path / "broken.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    failures = []
    for workers in (1, 2):
        con = connect(tmp_path / f"w{workers}.duckdb")
        failures.append(ingest_file(con, tmp_path / "lake", path, workers=workers).failure)
        con.close()
    assert failures[0] and failures[1] == failures[0]
    assert not (tmp_path / "lake").exists()


def test_ingest_does_not_import_pandas(tmp_path):
    path = write_ndjson(tmp_path / "a.ndjson", odd_records(50))
    code = ("import sys; from pathlib import Path; from warehouse.connection import connect; "
            "from soldsight.ingest.ingest import ingest_file; "
            f"ingest_file(connect(Path({str(tmp_path)!r}) / 'w.duckdb'), Path({str(tmp_path)!r}) / 'lake', {str(path)!r}); "
            "print('pandas' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"  # pandas costs 0.65 CPU-s to import, on every ingest


def test_a_failed_worker_means_a_serial_read_not_a_wrong_one(tmp_path, monkeypatch):
    monkeypatch.setattr(pieces, "PARALLEL_MIN_BYTES", 0)
    path = write_ndjson(tmp_path / "odd.ndjson", odd_records(300))
    data = path.read_bytes()
    serial = pieces.read_normalised(path, data, origin="o", ingested_at=NOW, schema=LISTINGS_SCHEMA, workers=1)
    monkeypatch.setattr(pieces, "_BOOT", "import sys; sys.exit(3)")
    parallel = pieces.read_normalised(path, data, origin="o", ingested_at=NOW, schema=LISTINGS_SCHEMA, workers=2)
    assert last_per_listing(parallel[0]).equals(last_per_listing(serial[0])) and parallel[1:] == serial[1:]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_broken_file_is_named_before_a_record_can_crash(tmp_path, monkeypatch, workers):
    # A record that once crashed normalise_record (a numeric currency) must not hide a broken line later.
    monkeypatch.setattr(pieces, "PARALLEL_MIN_BYTES", 0)
    lines = [json.dumps(r, ensure_ascii=False) for r in odd_records(600)]
    lines[10] = json.dumps(full_record(price={"value": 3, "currency": 5}))
    crashing = write_ndjson(tmp_path / "crash.ndjson", [json.loads(line) for line in lines])
    lines[500] = lines[500][:-4]
    broken = tmp_path / "broken.ndjson"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    con = connect(tmp_path / "w.duckdb")
    assert "broken.ndjson: line 501" in ingest_file(con, tmp_path / "lake", broken, workers=workers).failure
    summary = ingest_file(con, tmp_path / "lake", crashing, workers=workers)
    assert summary.failure is None and summary.errors["unknown currency"] >= 1
    reasons = con.execute("SELECT reason FROM scrape_errors WHERE origin LIKE '%crash.ndjson' AND position = 10").fetchall()
    assert reasons == [("unknown currency: {'value': 3, 'currency': 5}",)]
    con.close()
