"""Ingesting export files into a real DuckDB warehouse in a temporary home."""
import json
import subprocess
import sys

import duckdb
import pytest

from soldsight.cli import main
from soldsight.ingest.ingest import ingest_file
from warehouse.connection import connect
from tests.test_ingest_fields import full_record


def write_array(path, records):
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def write_ndjson(path, records):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def counts(settings):
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in ("listings", "scrape_errors", "ingested_files")}
    finally:
        con.close()


def mixed_records():
    return [
        full_record(ebay_id="1"),
        full_record(ebay_id="2", shipping_price="Free Economy Shipping. See details..."),
        {"input": {"keyword": "k", "count": 60, "condition": "Used"}, "error": "Parse error: Cannot read property 'href' of null"},
        full_record(ebay_id="3", price={"value": "n/a", "currency": "USD", "symbol": "$"}),
        full_record(ebay_id="1", title="relisted, newer"),
        42,
    ]


@pytest.mark.parametrize("writer", [write_array, write_ndjson])
def test_every_record_lands_exactly_once(settings, tmp_path, writer):
    records = mixed_records() if writer is write_array else mixed_records()[:5]
    path = writer(tmp_path / "export.json", records)
    con = connect(settings.warehouse_path)
    summary = ingest_file(con, settings.lake_dir, path)
    con.close()
    assert summary.records == len(records)
    assert summary.new + summary.updated + summary.duplicates + summary.error_count == len(records)
    assert (summary.new, summary.duplicates) == (2, 1)
    expected_errors = 3 if writer is write_array else 2
    assert summary.error_count == expected_errors
    assert counts(settings)["listings"] == 2 and counts(settings)["scrape_errors"] == expected_errors
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute("SELECT title FROM listings WHERE listing_id = '1'").fetchall() == [("relisted, newer",)]
    reasons = sorted(r for (r,) in con.execute("SELECT reason FROM scrape_errors").fetchall())
    assert any(r.startswith("price is not a number") for r in reasons)
    assert any(r.startswith("scraper error: Parse error") for r in reasons)
    con.close()
    assert (settings.lake_dir / "listings").is_dir() and list((settings.lake_dir / "listings").glob("*.parquet"))


def test_reingesting_changes_nothing(settings, tmp_path):
    path = write_array(tmp_path / "export.json", mixed_records())
    assert main(["ingest", str(path)]) == 0
    before = counts(settings)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    snapshot = con.execute("SELECT * FROM listings ORDER BY listing_id").fetchall()
    errors = con.execute("SELECT * FROM scrape_errors ORDER BY error_id").fetchall()
    con.close()
    assert main(["ingest", str(path)]) == 0
    assert main(["ingest", "--force", str(path)]) == 0
    assert counts(settings) == before
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute("SELECT * FROM listings ORDER BY listing_id").fetchall() == snapshot
    assert con.execute("SELECT * FROM scrape_errors ORDER BY error_id").fetchall() == errors
    con.close()


def test_forced_reingest_reports_duplicates(settings, tmp_path):
    path = write_array(tmp_path / "export.json", mixed_records())
    con = connect(settings.warehouse_path)
    ingest_file(con, settings.lake_dir, path)
    again = ingest_file(con, settings.lake_dir, path, force=True)
    con.close()
    assert (again.new, again.updated, again.duplicates) == (0, 0, 3)


def test_a_later_file_updates_a_listing(settings, tmp_path):
    first = write_array(tmp_path / "a.json", [full_record(ebay_id="7", price={"value": 10, "currency": "USD"})])
    second = write_ndjson(tmp_path / "b.ndjson", [full_record(ebay_id="7", price={"value": 12, "currency": "USD"}),
                                                  full_record(ebay_id="8")])
    con = connect(settings.warehouse_path)
    ingest_file(con, settings.lake_dir, first)
    summary = ingest_file(con, settings.lake_dir, second)
    assert (summary.new, summary.updated) == (1, 1)
    assert con.execute("SELECT price FROM listings WHERE listing_id = '7'").fetchall() == [(12.0,)]
    con.close()


@pytest.mark.parametrize("content, where", [
    ('[{"ebay_id": "1", "price": ', "line 1 column"),
    ('{"ebay_id": "1"}\n{"ebay_id": \n', "line 2"),
    ('{"ebay_id": "1"}\n[1, 2]\n', "line 2"),
    ('"just a string"', "line 1"),
    ("\x00\xff garbage", "byte 1: not UTF-8"),
    ("12345", "line 1"),
])
def test_a_broken_file_writes_nothing_and_names_the_position(settings, tmp_path, capsys, content, where):
    good = write_array(tmp_path / "good.json", [full_record(ebay_id="5")])
    broken = tmp_path / "broken.json"
    broken.write_text(content, encoding="latin-1")
    code = main(["ingest", str(broken), str(good)])
    out = capsys.readouterr().out
    assert code != 0
    assert "broken.json" in out and where in out and "nothing written" in out
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute("SELECT listing_id FROM listings").fetchall() == [("5",)]
    assert con.execute("SELECT count(*) FROM scrape_errors").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM ingested_files WHERE path LIKE '%broken.json'").fetchall() == [(0,)]
    con.close()
    assert not any("broken" in p.name for p in settings.lake_dir.rglob("*"))


def test_summary_lists_errors_by_reason(settings, tmp_path, capsys):
    path = write_array(tmp_path / "export.json", mixed_records())
    assert main(["ingest", str(path)]) == 0
    out = capsys.readouterr().out
    assert "6 records read, 2 listings new, 0 updated, 1 duplicates, 3 errors" in out
    assert "price is not a number" in out and "scraper error" in out


def test_sold_prices_view_has_the_analyst_columns(settings, tmp_path):
    path = write_array(tmp_path / "export.json", mixed_records())
    main(["ingest", str(path)])
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    columns = [c[0] for c in con.execute("DESCRIBE sold_prices").fetchall()]
    for needed in ("listing_id", "price", "shipping_cost", "total_price", "currency", "media_grade",
                   "sleeve_grade", "sold_at", "query"):
        assert needed in columns
    con.execute("SELECT 1").fetchall()
    con.close()
    con = connect(settings.warehouse_path)
    con.execute("UPDATE listings SET sold = false WHERE listing_id = '2'")
    assert con.execute("SELECT listing_id FROM sold_prices ORDER BY 1").fetchall() == [("1",)]
    con.close()


def test_missing_file_is_a_clear_error(settings, tmp_path, capsys):
    assert main(["ingest", str(tmp_path / "nope.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_nothing_is_written_outside_home(settings, tmp_path):
    path = write_array(tmp_path / "export.json", mixed_records())
    settings.home.mkdir(parents=True)
    before = set(tmp_path.iterdir())
    result = subprocess.run([sys.executable, "-m", "soldsight", "ingest", str(path)], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert set(tmp_path.iterdir()) == before
    assert settings.warehouse_path.is_file()


def test_a_line_separator_inside_a_string_stays_in_its_record(tmp_path):
    # U+2028/U+2029/U+0085 are legal raw inside JSON strings; ensure_ascii=False writes them as they are.
    records = [full_record(ebay_id="501", title="Side A\u2028Side B"), full_record(ebay_id="502", location="Paris\u0085FR"),
               full_record(ebay_id="503", title="one\u2029two")]
    path = tmp_path / "separators.ndjson"
    path.write_text("\r\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\r\n", encoding="utf-8")
    con = connect(tmp_path / "w.duckdb")
    summary = ingest_file(con, tmp_path / "lake", path)
    titles = dict(con.execute("SELECT listing_id, title FROM listings").fetchall())
    con.close()
    assert summary.failure is None and summary.new == 3 and summary.error_count == 0
    assert titles["501"] == "Side A\u2028Side B" and titles["503"] == "one\u2029two"
