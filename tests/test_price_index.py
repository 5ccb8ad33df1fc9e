"""index_rows builds the price_index rows without a warehouse: one per (listing, photo, rotation)."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
from PIL import Image

from soldsight.price.index import IndexConfig, index_rows
from soldsight.price.projection import IDENTITY


def test_rows_per_listing_photo_and_rotation(lite0_embedder, tmp_path):
    from soldsight.settings import Settings

    settings = Settings(home=tmp_path)
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        Image.fromarray(rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)).save(tmp_path / f"{name}.png")
    (tmp_path / "broken.jpg").write_bytes(b"not a photo")
    sold = datetime(2026, 11, 1, tzinfo=timezone.utc)

    def source(listing, sha, path):
        return {"source": "ebay", "listing_id": listing, "sha256": sha, "path": path, "currency": "USD", "sold_at": sold}

    sources = [source("L1", "sa", "a.png"), source("L2", "sa", "a.png"),  # one photo file, two listings
               source("L3", "sb", "b.png"), source("L4", "sx", "broken.jpg")]
    config = IndexConfig(embed_model_id=lite0_embedder.model_id, index_rotations=(0, 90))
    table, summary = index_rows(settings, sources, lite0_embedder, config, IDENTITY)
    assert summary["rows"] == table.num_rows == 3 * 2
    assert summary["photos"] == 2 and summary["unreadable"] == 1 and summary["listings"] == 4
    rows = table.to_pylist()
    assert sorted((r["listing_id"], r["rotation"]) for r in rows) == [(x, rot) for x in ("L1", "L2", "L3") for rot in (0, 90)]
    vec = {(r["listing_id"], r["rotation"]): np.array(r["vector"]) for r in rows}
    assert len(vec[("L1", 0)]) == lite0_embedder.dim
    np.testing.assert_allclose(np.linalg.norm(vec[("L3", 90)]), 1, atol=1e-5)
    np.testing.assert_array_equal(vec[("L1", 0)], vec[("L2", 0)])   # the same file is embedded once
    assert not np.allclose(vec[("L1", 0)], vec[("L1", 90)])         # the turned view is another vector
    assert not np.allclose(vec[("L1", 0)], vec[("L3", 0)])
