"""The backtest identifies each held-out listing photo as a priced photo is identified: re-ranked by geometry."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from soldsight.price.backtest import reranked, run_backtest
from warehouse.connection import open_warehouse

W = 0.02  # similarity per inlier, as IndexConfig.rerank_weight


def _features(rng, k=60, c=40):
    desc = rng.normal(size=(k, c)).astype(np.float32)
    desc /= np.linalg.norm(desc, axis=1, keepdims=True)
    return desc, rng.uniform(0.1, 0.9, size=(k, 2)).astype(np.float32)


def _comp(listing_id, similarity, image_path):
    return {"listing_id": listing_id, "similarity": similarity, "image_path": image_path}


def test_held_out_photos_are_re_ranked_from_the_stored_local_features():
    rng = np.random.default_rng(3)
    desc, pos = _features(rng)
    # image path -> (unit descriptors, cell centres), as LocalStore.get returns them
    store = {"held.jpg": (desc, pos),
             "same.jpg": (desc, pos * 0.8 + 0.05),  # the held-out sleeve again, nearer and shifted
             "other.jpg": _features(rng)}
    rows = [{"listing_id": "H", "image_path": "held.jpg"}]
    comps = [[_comp("A", 0.60, "other.jpg"), _comp("B", 0.40, "same.jpg"), _comp("C", 0.35, "gone.jpg"),
              _comp("D", 0.30, "same.jpg")]]
    [got] = reranked(rows, comps, store, weight=W, top=3)
    assert [c["listing_id"] for c in got] == ["B", "A", "C", "D"]  # D is past `top`: left as it was
    inliers = {c["listing_id"]: c.get("inliers") for c in got}
    assert inliers["B"] == len(desc) and inliers["A"] < 10 and inliers["C"] == 0 and inliers["D"] is None
    assert "inliers" not in comps[0][1]  # the caller's comparables are not changed
    unknown = [{"listing_id": "H", "image_path": "not-stored.jpg"}]
    assert reranked(unknown, comps, store, weight=W, top=3) == comps  # no features of its own: global order
    assert reranked(rows, comps, None, weight=W, top=3) == comps  # a fit without local features
    assert reranked(rows, comps, store, weight=W, top=0) == comps  # re-ranking turned off


def test_the_backtest_re_ranks_as_pricing_does_and_says_so(price_fitted):
    settings, _ = price_fitted
    ranked = run_backtest(settings)
    global_only = run_backtest(replace(settings, rerank_top=0))
    assert ranked["model"]["identifiable"] == global_only["model"]["identifiable"] > 0
    assert ranked["model"]["top1"] > global_only["model"]["top1"]
    # The price does not depend on the comparables' order (only on which photos abstain).
    same_abstentions = run_backtest(replace(settings, confident_inliers=0))
    assert same_abstentions["model"]["top1"] == ranked["model"]["top1"]
    assert same_abstentions["model"]["mdape"] == global_only["model"]["mdape"]
    with open_warehouse(settings, read_only=True) as con:
        said = dict(con.execute("SELECT run_id, json_extract(params, '$.rerank_top')::INTEGER FROM backtest_results "
                                "WHERE method = 'model'").fetchall())
    assert said[ranked["run_id"]] == 20 and said[global_only["run_id"]] == 0
