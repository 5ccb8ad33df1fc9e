"""The warehouse itself: migrations, the single-writer wait, and lake loads."""
import os
import subprocess
import sys
import textwrap
import time

import duckdb
import pyarrow as pa
import pytest

from warehouse.connection import WarehouseBusy, connect
from warehouse.lake import load_pending, write_batch
from warehouse.migrate import current_version, migrate, schema_files


def test_migrations_apply_once_in_order(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    newest = schema_files()[-1][0]
    assert current_version(con) == newest
    assert migrate(con) == []  # nothing left to apply
    versions = [v for (v,) in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
    assert versions == [v for v, _, _ in schema_files()]
    con.close()
    assert migrate(connect(path)) == []


def test_an_old_warehouse_is_migrated_forward(tmp_path):
    from warehouse.sql_files import sql, statements

    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute(sql("schema_version_table"))
    version, name, first = schema_files()[0]
    for stmt in statements(first.read_text()):
        con.execute(stmt)
    con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, name])
    con.execute("INSERT INTO scrape_errors VALUES ('kept', 'ebay', 'f', 0, 'r', '{}', now())")
    con.close()
    con = connect(path)
    assert current_version(con) == schema_files()[-1][0]
    assert con.execute("SELECT error_id FROM scrape_errors").fetchall() == [("kept",)]
    con.close()


def _warehouse_at_version(path, newest: int) -> duckdb.DuckDBPyConnection:
    """A warehouse file made by the schema files up to `newest` only, as an older soldsight left it."""
    from warehouse.sql_files import sql, statements

    con = duckdb.connect(str(path))
    con.execute(sql("schema_version_table"))
    for version, name, file in schema_files():
        if version <= newest:
            for stmt in statements(file.read_text()):
                con.execute(stmt)
            con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, name])
    return con


def test_price_vectors_are_stored_uncompressed_and_an_index_of_version_6_keeps_its_rows(tmp_path):
    # Decoding ALPRD-compressed floats was most of a one-photo scan (docs/price.md, session 17).
    path = tmp_path / "w.duckdb"
    con = _warehouse_at_version(path, 6)
    rows = [("ix", "ebay", f"L{i}", f"s{i}", 0, f"images/{i}.jpg", "USD", None, [i / 7, 0.25, -1.5, 3.0])
            for i in range(3000)]
    con.executemany("INSERT INTO price_index VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())", rows)
    con.execute("CHECKPOINT")
    stored = "SELECT DISTINCT compression FROM pragma_storage_info('price_index') WHERE column_name = 'vector'"
    assert "Uncompressed" not in {c for (c,) in con.execute(stored).fetchall()}  # DuckDB's default compresses them
    before = con.execute("SELECT * EXCLUDE (indexed_at) FROM price_index ORDER BY listing_id").fetchall()
    con.close()
    con = connect(path)
    con.execute("CHECKPOINT")
    assert con.execute("SELECT * EXCLUDE (indexed_at) FROM price_index ORDER BY listing_id").fetchall() == before
    assert {c for (c,) in con.execute(stored).fetchall()} <= {"Uncompressed", "Constant"}
    with pytest.raises(duckdb.ConstraintException):  # the key came along
        con.execute("INSERT INTO price_index SELECT * FROM price_index LIMIT 1")
    con.close()


def test_a_warehouse_of_version_7_gets_its_listings_words_when_migrated(tmp_path):
    # The name search looks words up in listing_words; a warehouse fitted before it must not search an empty table.
    path = tmp_path / "w.duckdb"
    con = _warehouse_at_version(path, 7)
    for listing_id, title, artist in (("L1", "Hidden Fever - Nina Castell/Quartet LP", "Nina Castell Quartet"),
                                      ("L2", "Lot of 2: Rare! Vinyl", None)):
        con.execute("INSERT INTO listings BY NAME SELECT 'ebay' AS source, ? AS listing_id, ? AS title, ? AS artist, "
                    "true AS sold, 'f' AS origin, 'h' AS record_hash, now() AS ingested_at, '{}'::JSON AS raw",
                    [listing_id, title, artist])
    con.close()
    con = connect(path)
    words = con.execute("SELECT listing_id, word FROM listing_words ORDER BY listing_id, word").fetchall()
    assert words == [("L1", w) for w in sorted({"hidden", "fever", "nina", "castell", "quartet"})] + [
        ("L2", "lot"), ("L2", "rare!"), ("L2", "vinyl")]  # 'of', '2:' and 'LP' are too short
    con.close()


def test_a_second_writer_waits_for_the_first(tmp_path):
    path = tmp_path / "w.duckdb"
    connect(path).close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, time, sys
        con = duckdb.connect({str(path)!r})
        print("held", flush=True)
        time.sleep(2.0)
        con.execute("CREATE TABLE made_by_holder AS SELECT 1 AS x")
        con.close()
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    con = connect(path, lock_timeout=30)  # waits instead of failing
    assert con.execute("SELECT x FROM made_by_holder").fetchall() == [(1,)]
    con.close()
    holder.wait(timeout=10)


def test_a_writer_that_never_lets_go_gives_a_clear_error(tmp_path):
    path = tmp_path / "w.duckdb"
    connect(path).close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, time
        con = duckdb.connect({str(path)!r})
        print("held", flush=True)
        time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match="held by another process"):
            connect(path, lock_timeout=1.0)
        assert time.monotonic() - started < 25
    finally:
        holder.kill()
        holder.wait()


def test_lake_files_load_once(settings):
    con = connect(settings.warehouse_path)
    rows = pa.table({
        "error_id": ["a", "b"], "source": ["ebay", "ebay"], "origin": ["f", "f"], "position": pa.array([0, 1], pa.int32()),
        "reason": ["r1", "r2"], "raw": ["{}", "{}"],
        "recorded_at": pa.array([0, 0], pa.timestamp("us", tz="UTC")),
    })
    write_batch(settings.lake_dir, "scrape_errors", "batch1", rows)
    assert load_pending(con, settings.lake_dir, ["scrape_errors"]) == {"scrape_errors": 2}
    assert load_pending(con, settings.lake_dir, ["scrape_errors"]) == {}
    assert con.execute("SELECT count(*) FROM scrape_errors").fetchall() == [(2,)]
    assert not list((settings.lake_dir / "scrape_errors").glob(".*tmp*"))
    con.close()


def test_temp_files_of_killed_writers_are_swept(settings):
    import subprocess

    folder = settings.lake_dir / "scrape_errors"
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = folder / f".old.parquet.tmp-{dead.pid}"
    orphan.write_bytes(b"half a parquet file")
    live = folder / f".other.parquet.tmp-{os.getpid()}"  # a writer still running keeps its file
    live.write_bytes(b"in progress")
    rows = pa.table({"error_id": ["a"], "source": ["ebay"], "origin": ["f"], "position": pa.array([0], pa.int32()),
                     "reason": ["r"], "raw": ["{}"], "recorded_at": pa.array([0], pa.timestamp("us", tz="UTC"))})
    write_batch(settings.lake_dir, "scrape_errors", "batch1", rows)
    assert not orphan.exists() and live.exists()
