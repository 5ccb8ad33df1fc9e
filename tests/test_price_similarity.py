"""cosine_similarity as a Python function and as SQL, and the comparables query on a real warehouse."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from soldsight.price import synthetic as syn
from warehouse.connection import connect
from warehouse.similarity import cosine_similarity, register_cosine_similarity
from warehouse.sql_files import sql
from warehouse.udfs import REGISTRARS, register_all

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def test_function_matches_definition():
    assert cosine_similarity([1, 0], [0, 1]) == pytest.approx(0.0)
    assert cosine_similarity([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert cosine_similarity([1, 0], [-1, 0]) == pytest.approx(-1.0)
    assert cosine_similarity(None, [1, 2]) is None
    assert np.isnan(cosine_similarity([0, 0], [1, 2]))
    with pytest.raises(ValueError):
        cosine_similarity([1, 2], [1, 2, 3])


def test_sql_agrees_with_function_on_arrays_and_lists():
    con = connect(":memory:")
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(1280).astype(np.float32), rng.standard_normal(1280).astype(np.float32)
    got_array = con.execute("SELECT cosine_similarity($a::FLOAT[1280], $b::FLOAT[1280])", {"a": a.tolist(), "b": b.tolist()}).fetchall()[0][0]
    got_list = con.execute("SELECT cosine_similarity($a::DOUBLE[], $b::FLOAT[])", {"a": a.tolist(), "b": b.tolist()}).fetchall()[0][0]
    assert got_array == pytest.approx(cosine_similarity(a, b), abs=1e-5)
    assert got_list == pytest.approx(cosine_similarity(a, b), abs=1e-5)
    assert con.execute("SELECT cosine_similarity([1, 2, 3], [1, 2, 4])").fetchall()[0][0] == pytest.approx(cosine_similarity([1, 2, 3], [1, 2, 4]), abs=1e-6)
    assert con.execute("SELECT cosine_similarity(NULL, [1.0, 2.0])").fetchall()[0][0] is None


def test_registering_twice_is_harmless_and_is_in_registrars():
    assert register_cosine_similarity in REGISTRARS
    con = connect(":memory:")
    register_all(con)
    register_cosine_similarity(con)
    assert con.execute("SELECT cosine_similarity([3.0, 4.0], [3.0, 4.0])").fetchall()[0][0] == pytest.approx(1.0)


def test_available_on_read_only_warehouse(settings):
    connect(settings.warehouse_path).close()
    con = connect(settings.warehouse_path, read_only=True)
    try:
        assert con.execute("SELECT cosine_similarity([1.0, 0.0], [1.0, 1.0])").fetchall()[0][0] == pytest.approx(2 ** -0.5, abs=1e-6)
    finally:
        con.close()


@pytest.fixture
def warehouse_with_vectors():
    con = connect(":memory:")
    listings, album = syn.listings_table(600, 60, seed=5, now=NOW)
    vectors, _ = syn.clustered_vectors(album, 60, 64, seed=6)
    syn.load(con, listings, vectors, "test-index")
    return con, listings, vectors


def comparables(con, query, **kw):
    params = dict(queries=[np.asarray(q).tolist() for q in np.atleast_2d(query)], index_id="test-index",
                  currency=None, days=None, now=NOW, exclude=None, k=10, candidates=10)
    params.update(kw)
    cur = con.execute(sql("comparables"), params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def test_comparables_are_exact_top_k(warehouse_with_vectors):
    con, listings, vectors = warehouse_with_vectors
    query = syn.unit(vectors[17] + 0.05)
    rows = comparables(con, query)
    ids = listings.column("listing_id").to_pylist()
    expected = [ids[i] for i in np.argsort(-(vectors @ query))[:10]]
    assert [r["listing_id"] for r in rows] == expected
    assert rows[0]["similarity"] >= rows[-1]["similarity"]
    assert {"title", "total_price", "currency", "sold_at", "image_path", "similarity"} <= set(rows[0])


def test_comparables_filters(warehouse_with_vectors):
    con, listings, vectors = warehouse_with_vectors
    query = vectors[17]
    best = comparables(con, query, k=1)[0]["listing_id"]
    assert best == listings.column("listing_id")[17].as_py()
    without = comparables(con, query, exclude=[best])
    assert best not in [r["listing_id"] for r in without]
    gbp = comparables(con, query, currency="GBP")
    assert gbp and all(r["currency"] == "GBP" for r in gbp)
    recent = comparables(con, query, days=30)
    assert recent and all(r["sold_at"] >= NOW - timedelta(days=30) for r in recent)


def test_comparables_only_sold_and_best_view_per_listing(warehouse_with_vectors):
    con, listings, vectors = warehouse_with_vectors
    query = vectors[40]
    target = listings.column("listing_id")[40].as_py()
    con.execute("UPDATE listings SET sold = false WHERE listing_id = ?", [target])
    assert target not in [r["listing_id"] for r in comparables(con, query)]
    con.execute("UPDATE listings SET sold = true WHERE listing_id = ?", [target])
    # A second, rotated view of the same listing must not make it appear twice.
    con.execute(
        "INSERT INTO price_index SELECT index_id, source, listing_id, sha256, 90, image_path, currency, sold_at, vector, indexed_at "
        "FROM price_index WHERE listing_id = ?", [target])
    rows = comparables(con, [query, vectors[41]], candidates=40)
    ids = [r["listing_id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert ids[0] in (target, listings.column("listing_id")[41].as_py())


def test_batch_comparables_equal_one_by_one(warehouse_with_vectors):
    from soldsight.price.search import comparables as single, comparables_batch

    con, listings, vectors = warehouse_with_vectors
    queries = [syn.unit(vectors[3] + 0.02), syn.unit(np.stack([vectors[50] + 0.03, vectors[51] - 0.03])), syn.unit(vectors[99] + 0.1)]
    batch = comparables_batch(con, queries, "test-index", k=7, now=NOW, currency="USD")
    for q, got in zip(queries, batch):
        want = single(con, q, "test-index", k=7, now=NOW, currency="USD")
        assert [r["listing_id"] for r in got] == [r["listing_id"] for r in want]
        assert [r["similarity"] for r in got] == pytest.approx([r["similarity"] for r in want])
