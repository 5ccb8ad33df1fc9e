"""Geometric verification: the affine RANSAC, the local feature map, and re-ranking on real photos."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

from soldsight.price.verify import affine_inliers, local_features, mutual_matches, rerank


def test_affine_inliers_counts_the_points_one_map_explains():
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, (60, 2)).astype(np.float32)
    A = np.array([[0.8, 0.1], [-0.15, 0.9]], np.float32)
    q = p @ A + np.float32([0.05, 0.1])
    q[40:] = rng.uniform(0, 1, (20, 2))  # a third are wrong matches
    assert 38 <= affine_inliers(p, q, np.random.default_rng(0)) <= 45
    # Pure noise agrees with no single map on many points.
    assert affine_inliers(p, rng.uniform(0, 1, (60, 2)).astype(np.float32), np.random.default_rng(0)) < 15
    assert affine_inliers(p[:3], q[:3], np.random.default_rng(0)) == 0


def test_mirror_image_is_not_a_plausible_sleeve_map():
    rng = np.random.default_rng(2)
    p = rng.uniform(0, 1, (50, 2)).astype(np.float32)
    mirrored = p * np.float32([-1, 1]) + np.float32([1, 0])
    assert affine_inliers(p, mirrored, np.random.default_rng(0)) < 10


def test_mutual_matches_are_mutual():
    a, _ = local_features(np.random.default_rng(3).uniform(0, 1, (4, 4, 8)).astype(np.float32))
    i, j = mutual_matches(a, a[::-1])
    assert len(i) == len(a) and np.array_equal(j, len(a) - 1 - i)


def test_local_map_is_the_network_block_output(lite0_embedder):
    import keras

    x = np.random.default_rng(4).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
    # One input, not the list of one: called with a bare tensor, a list-input model warns on every call.
    inner = keras.Model(lite0_embedder._model.inputs[0], lite0_embedder._model.get_layer("_blocks.7.add").output)
    want = inner(x.astype(np.float32)).numpy()
    got = lite0_embedder.local_map(x, 7)
    assert got.shape == (2, 14, 14, 80)
    assert np.allclose(got, want, atol=1e-4)
    assert lite0_embedder.local_map(x[:1].repeat(2, 1).repeat(2, 2), 7).shape == (1, 28, 28, 80)


def test_rerank_prefers_the_photo_that_verifies(lite0_embedder, price_world, tmp_path):
    from world.generate import load_answers

    query = Image.open(price_world / load_answers(price_world)[0]["photo"]).convert("RGB")
    # The same photo seen smaller and shifted verifies; a flipped, shuffled version of it does not.
    same = Image.new("RGB", query.size, (90, 120, 90))
    same.paste(query.resize((query.width * 3 // 4, query.height * 3 // 4)), (query.width // 8, query.height // 6))
    same.save(tmp_path / "same.png")
    arr = np.asarray(ImageOps.flip(query))
    tiles = [np.hsplit(row, 4) for row in np.vsplit(arr[: arr.shape[0] // 4 * 4, : arr.shape[1] // 4 * 4], 4)]
    order = np.random.default_rng(5).permutation(16)
    shuffled = np.vstack([np.hstack([tiles[k // 4][k % 4] for k in order[r * 4:(r + 1) * 4]]) for r in range(4)])
    Image.fromarray(shuffled).save(tmp_path / "other.png")
    comps = [{"listing_id": "other", "similarity": 0.80, "image_path": "other.png"},
             {"listing_id": "same", "similarity": 0.79, "image_path": "same.png"},
             {"listing_id": "gone", "similarity": 0.78, "image_path": "missing.png"},
             {"listing_id": "tail", "similarity": 0.50, "image_path": "other.png"}]
    got = rerank(lite0_embedder, query, comps, tmp_path, 40_000_000, top=3)
    assert [c["listing_id"] for c in got] == ["same", "other", "gone", "tail"]
    assert got[0]["inliers"] > got[1]["inliers"] and got[2]["inliers"] == 0 and "inliers" not in got[3]


def test_local_features_read_the_global_views_centre_square_unless_a_fit_letterboxed():
    import json

    import pytest

    from soldsight.price.index import IndexConfig
    from soldsight.price.verify import framed, letterbox
    from soldsight.price.views import views

    im = Image.fromarray(np.random.default_rng(5).integers(0, 256, (300, 500, 3), dtype=np.uint8))
    # The same pixels the global search embeds, so one CNN pass could serve both.
    assert np.array_equal(framed(im, 224, "centre"), views(im, "full")[0])
    assert np.array_equal(framed(im, 224, "letterbox"), letterbox(im, 224))
    with pytest.raises(ValueError, match="unknown local-feature frame"):
        framed(im, 224, "stretch")
    config = IndexConfig()
    assert (config.rerank_block, config.rerank_size, config.rerank_frame) == (4, 224, "centre")
    assert IndexConfig.from_json(config.to_json()).rerank_frame == "centre"
    # A model fitted before frames were recorded letterboxed its photos: its stored cells keep meaning that.
    old = {k: v for k, v in json.loads(config.to_json()).items() if k != "rerank_frame"}
    assert IndexConfig.from_json(json.dumps({**old, "rerank_block": 7, "rerank_size": 448})).rerank_frame == "letterbox"


def test_one_pass_gives_the_search_vectors_and_the_local_features(lite0_embedder):
    """With the default config, pricing embeds each photo once for both: the same numbers as the two ways apart."""
    from dataclasses import replace

    from soldsight.price.index import IndexConfig
    from soldsight.price.projection import Projection
    from soldsight.price.search import one_window, query_vectors, query_vectors_and_features
    from soldsight.price.verify import query_features

    rng = np.random.default_rng(6)
    photos = [Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)) for shape in ((300, 500, 3), (420, 260, 3))]
    config = IndexConfig()
    assert one_window(config)
    for other in (dict(view_set="crops5"), dict(query_rotations=(0, 90)), dict(rerank_frame="letterbox"),
                  dict(rerank_size=448)):
        assert not one_window(replace(config, **other)), other
    projection = Projection(name="lw16", mean=rng.normal(size=1280).astype(np.float32),
                            matrix=rng.normal(size=(1280, 16)).astype(np.float32))
    vectors, local = query_vectors_and_features(lite0_embedder, photos, config, projection)
    want_vectors = query_vectors(lite0_embedder, photos, config, projection)
    want_local = query_features(lite0_embedder, photos, config.rerank_block, config.rerank_size, config.rerank_frame)
    assert [v.shape for v in vectors] == [(1, 16), (1, 16)]
    for got, want in zip(vectors, want_vectors):
        np.testing.assert_allclose(got, want, atol=1e-5)
    for (desc, pos), (want_desc, want_pos) in zip(local, want_local):
        np.testing.assert_allclose(desc, want_desc, atol=1e-5)
        assert np.array_equal(pos, want_pos)
