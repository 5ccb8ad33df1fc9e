"""The stored local features of indexed photos: strongest cells, the on-disk store, reuse across refits."""
from __future__ import annotations

import numpy as np

from soldsight.price.local_store import LocalStore, build_store, remove_others
from soldsight.price.verify import cell_centres, local_features, strongest_cells

RECIPE = {"embed_model_id": "m", "block": 7, "size": 64, "keep": 5}


def fake_map(seed: int, side: int = 4, channels: int = 6) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (side, side, channels)).astype(np.float32)


def counting(maps: dict, calls: list):
    """compute() for build_store over in-memory maps; a path with no map is an unreadable photo."""
    def compute(part):
        calls.extend(part)
        return [None if maps.get(p) is None else (*strongest_cells(maps[p], RECIPE["keep"]), 4) for p in part]
    return compute


def test_strongest_cells_keeps_the_most_active_cells_as_unit_vectors():
    fmap = fake_map(1)
    fmap[2, 3] *= 10  # cell 11
    fmap[0, 1] *= 8   # cell 1
    desc, where = strongest_cells(fmap, 2)
    assert where.tolist() == [1, 11]
    assert np.allclose(np.linalg.norm(desc, axis=1), 1)
    assert np.allclose(desc[1], fmap[2, 3] / np.linalg.norm(fmap[2, 3]))
    assert cell_centres(where, 4).tolist() == [[0.375, 0.125], [0.875, 0.625]]
    full, pos = local_features(fmap, keep=16)
    assert full.shape == (16, 6) and pos.shape == (16, 2)


def test_store_round_trip_leaves_out_unreadable_photos(tmp_path):
    maps = {"images/a.jpg": fake_map(1), "images/b.jpg": fake_map(2), "images/broken.jpg": None}
    calls: list = []
    name, summary = build_store(tmp_path, RECIPE, list(maps), counting(maps, calls))
    assert summary == {"photos": 2, "computed": 2, "reused": 0, "unreadable": 1}
    store = LocalStore(tmp_path / name)
    assert len(store) == 2 and "images/broken.jpg" not in store and store.get("images/broken.jpg") is None
    desc, pos = store.get("images/b.jpg")
    want_desc, want_where = strongest_cells(maps["images/b.jpg"], RECIPE["keep"])
    assert np.abs(desc - want_desc).max() < 1 / 127          # int8 on disk
    assert np.array_equal(pos, cell_centres(want_where, 4))
    assert not list(tmp_path.glob(".*tmp*"))                 # written under a temporary name, then renamed


def test_refit_reuses_stored_rows_and_removes_old_stores(tmp_path):
    maps = {"images/a.jpg": fake_map(1), "images/b.jpg": fake_map(2)}
    calls: list = []
    first, _ = build_store(tmp_path, RECIPE, list(maps), counting(maps, calls))
    maps["images/c.jpg"] = fake_map(3)
    calls.clear()
    second, summary = build_store(tmp_path, RECIPE, list(maps), counting(maps, calls), LocalStore(tmp_path / first))
    assert calls == ["images/c.jpg"] and summary["computed"] == 1 and summary["reused"] == 2
    a_then, a_now = LocalStore(tmp_path / first).get("images/a.jpg"), LocalStore(tmp_path / second).get("images/a.jpg")
    assert np.array_equal(a_then[0], a_now[0]) and np.array_equal(a_then[1], a_now[1])
    # The same photos again: the same store, nothing computed.
    calls.clear()
    again, summary = build_store(tmp_path, RECIPE, list(maps), counting(maps, calls), LocalStore(tmp_path / second))
    assert again == second and calls == [] and summary["computed"] == 0
    # Another recipe (here another K) never reuses rows made under the first.
    calls.clear()
    build_store(tmp_path, {**RECIPE, "keep": 4}, list(maps), counting(maps, calls), LocalStore(tmp_path / second))
    assert sorted(calls) == sorted(maps)
    assert remove_others(tmp_path, second) == 2
    assert [d.name for d in tmp_path.iterdir()] == [second]


def test_open_is_none_for_a_missing_or_unnamed_store(tmp_path):
    assert LocalStore.open(tmp_path, None) is None
    assert LocalStore.open(tmp_path, "models/local-gone") is None
