"""Many photos in one call: priced batch by batch, each batch finished beside the next one's index scan."""
from __future__ import annotations

import threading

import pytest

from soldsight.price import batch
from soldsight.price.service import price_photos
from tests.fixtures.price import answers_file, own_home
from warehouse.connection import open_warehouse


def test_many_photos_are_priced_batch_by_batch(price_fitted, price_world, lite0_embedder, tmp_path):
    """SOLDSIGHT_PRICE_BATCH photos at a time: the answers of one big batch, in order; each batch stored before
    its answers come out; a photo read only when its batch is next (so memory stays flat for any number)."""
    import shutil

    from soldsight.price.service import iter_prices

    small = own_home(price_fitted[0], tmp_path, price_batch=2)
    originals = [price_world / a["photo"] for a in answers_file(price_world)[:5]]
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    late = [tmp_path / f"late{i}{p.suffix}" for i, p in enumerate(originals[3:])]  # written only after the first answer
    photos = [originals[0], bad, originals[1], originals[2], *late]  # batches: [0, bad] [1, 2] [late 0, late 1]
    whole = price_photos(small, [*photos[:4], *originals[3:]], embedder=lite0_embedder, store=False, batch=100)

    stream = iter_prices(small, photos, embedder=lite0_embedder)
    first = next(stream)
    with open_warehouse(small) as con:
        assert con.execute("SELECT count(*) FROM price_suggestions").fetchall()[0][0] == 2  # the first batch
    for src, dst in zip(originals[3:], late):
        shutil.copy(src, dst)
    got = [first, *stream]

    def same(a):
        return {k: v for k, v in a.items() if k != "photo"}

    assert [a["photo"] for a in got] == [str(p) for p in photos]
    assert got[1]["status"] == "error" and got[-1]["status"] != "error"
    assert [same(a) for a in got] == [same(a) for a in whole]
    with open_warehouse(small) as con:
        assert con.execute("SELECT count(*) FROM price_suggestions").fetchall()[0][0] == len(photos)


def test_a_batch_is_finished_beside_the_next_batchs_index_scan(price_fitted, price_world, lite0_embedder, tmp_path,
                                                                monkeypatch):
    """A batch's re-ranking, pricing and storing run on another thread after the next batch's CNN pass, while
    its index scan runs; the last batch's on the caller's. The answers are those of one big batch, all stored."""
    small = own_home(price_fitted[0], tmp_path, price_batch=2)
    photos = [price_world / a["photo"] for a in answers_file(price_world)[:5]]  # batches [0, 1] [2, 3] [4]
    whole = price_photos(small, photos, embedder=lite0_embedder, store=False, batch=100)
    events = []

    def spy(name, fn):
        def called(*args, **kwargs):
            events.append((name, "start", threading.current_thread() is threading.main_thread()))
            out = fn(*args, **kwargs)
            events.append((name, "end", None))
            return out
        return called

    cnn = ("query_vectors_and_features", "query_vectors", "query_features")  # the photos' CNN passes
    for name in (*cnn, "_search", "_verify"):
        monkeypatch.setattr(batch, name, spy(name, getattr(batch, name)))
    got = price_photos(small, photos, embedder=lite0_embedder)
    assert [{**a, "photo": None} for a in got] == [{**a, "photo": None} for a in whole]
    with open_warehouse(small) as con:  # stored through the second half's own connection
        assert con.execute("SELECT count(*) FROM price_suggestions").fetchall()[0][0] == len(photos)

    def at(name, what, n):
        return [i for i, e in enumerate(events) if e[:2] == (name, what)][n]

    assert [e[2] for e in events if e[:2] == ("_verify", "start")] == [False, False, True]
    for n in (0, 1):  # within the next batch's search, after its CNN passes
        assert at("_search", "start", n + 1) < at("_verify", "start", n)
        assert at("_verify", "end", n) < at("_search", "end", n + 1)
    for n in range(3):
        assert not any(e[0] in cnn for e in events[at("_verify", "start", n):at("_verify", "end", n)])


def test_an_error_in_a_batchs_second_half_is_raised(price_fitted, price_world, lite0_embedder, tmp_path, monkeypatch):
    small = own_home(price_fitted[0], tmp_path, price_batch=2)
    photos = [price_world / a["photo"] for a in answers_file(price_world)[:3]]

    def broken(*args, **kwargs):
        raise RuntimeError("pricing broke")

    monkeypatch.setattr(batch, "price_one", broken)
    with pytest.raises(RuntimeError, match="pricing broke"):
        price_photos(small, photos, embedder=lite0_embedder, store=False)
