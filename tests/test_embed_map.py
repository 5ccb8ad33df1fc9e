"""The map's PCA and drawing, without TensorFlow or a warehouse."""
from __future__ import annotations

import numpy as np
from PIL import Image

from soldsight.commands.map import draw, pca_2d


def test_pca_puts_the_main_spread_on_the_first_axis():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.05, (30, 64))
    b = rng.normal(0, 0.05, (30, 64))
    b[:, 7] += 3.0  # two groups apart along one direction
    points, variance = pca_2d(np.vstack([a, b]))
    assert points.shape == (60, 2)
    assert variance[0] > 0.8 and variance[0] >= variance[1] and variance.sum() <= 1.0 + 1e-9
    assert (np.sign(points[:30, 0]) != np.sign(points[30:, 0][0])).all()  # PC1 separates the groups
    assert (np.sign(points[30:, 0]) == np.sign(points[30:, 0][0])).all()


def test_pca_of_a_single_point_still_gives_two_coordinates():
    points, variance = pca_2d(np.ones((1, 8)))
    assert points.shape == (1, 2) and variance.shape == (2,)


def test_many_labels_draw_the_top_ones_and_an_other_group(tmp_path):
    rng = np.random.default_rng(1)
    labels = [f"query {i % 20}" for i in range(200)]
    points = rng.normal(size=(200, 2))
    out = tmp_path / "sub" / "map.png"
    draw(points, labels, np.array([0.3, 0.2]), "title", out, top=5)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size[0] > 800
        pixels = np.asarray(im.convert("RGB")).reshape(-1, 3)
    # The grey of the 'other' group is drawn.
    assert (np.abs(pixels.astype(int) - (200, 200, 200)).max(axis=1) <= 3).sum() > 100


def test_map_on_an_empty_warehouse_says_what_to_do(settings, tmp_path, capsys):
    from soldsight.cli import main

    assert main(["map", "--out", str(tmp_path / "m.png")]) == 1
    assert "run `soldsight embed` first" in capsys.readouterr().err
    assert not (tmp_path / "m.png").exists()
