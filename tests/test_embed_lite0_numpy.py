"""The numpy engine computes the same Lite0 maps as the Keras network, and pricing picks it only for a few photos."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from soldsight.embed.lite0_numpy import NumpyEmbedder


@pytest.fixture(scope="module")
def numpy_embedder():
    return NumpyEmbedder()


def photos(side: int, n: int = 2) -> np.ndarray:
    """Smooth colour fields with edges: closer to photos than noise, so the deep maps are not all zero."""
    rng = np.random.default_rng(side)
    yy, xx = np.mgrid[0:side, 0:side] / side
    out = []
    for _ in range(n):
        f = rng.uniform(1, 6, 3)
        img = np.stack([np.sin(f[c] * (xx + rng.uniform()) * 3 + f[(c + 1) % 3] * yy * 2) for c in range(3)], -1)
        img[side // 3:side // 2, side // 4:side // 2] = rng.uniform(-1, 1, 3)
        out.append(((img + 1) * 127.5).clip(0, 255).astype(np.uint8))
    return np.stack(out)


def test_head_map_matches_keras(numpy_embedder, lite0_embedder):
    images = photos(224)
    want = lite0_embedder.feature_map(images)
    got = numpy_embedder.feature_map(images)
    assert got.shape == want.shape == (2, 7, 7, 1280) and got.dtype == np.float32
    assert want.max() > 1  # a map of zeros would match anything
    np.testing.assert_allclose(got, want, atol=2e-4)


@pytest.mark.parametrize("side", [448, 200])  # 200: odd map sides, where SAME padding is uneven
def test_block_maps_match_keras(numpy_embedder, lite0_embedder, side):
    images = photos(side)
    for block in (4, 7, 10):  # 4: re-ranking's local features since session 18
        want = lite0_embedder.local_map(images, block)
        got = numpy_embedder.local_map(images, block)
        assert got.shape == want.shape
        assert np.abs(want).max() > 1
        np.testing.assert_allclose(got, want, atol=2e-4 * np.abs(want).max())


def test_same_model_id_and_input_checks(numpy_embedder, lite0_embedder):
    assert numpy_embedder.model_id == lite0_embedder.model_id
    with pytest.raises(ValueError, match="uint8"):
        numpy_embedder.feature_map(np.zeros((1, 224, 224, 3), np.float32))
    with pytest.raises(ValueError, match="224"):
        numpy_embedder.feature_map(np.zeros((1, 448, 448, 3), np.uint8))
    assert numpy_embedder.feature_map(np.zeros((0, 224, 224, 3), np.uint8)).shape == (0, 7, 7, 1280)


def test_query_embedder_choice(lite0_embedder, tmp_path):
    from soldsight.embed import load_query_embedder
    from soldsight.embed.embedder import Embedder
    from soldsight.settings import Settings

    built = Settings(home=tmp_path)  # the session built the TensorFlow embedder for these settings
    assert load_query_embedder(built, 1) is lite0_embedder
    other = replace(built, embed_batch_size=3)  # for these it did not
    assert isinstance(load_query_embedder(other, other.numpy_engine_photos), NumpyEmbedder)
    assert load_query_embedder(other, 1) is load_query_embedder(other, 2)  # built once per process
    assert isinstance(load_query_embedder(replace(other, numpy_engine_photos=0), 1), Embedder)


@pytest.mark.parametrize("pooling", ["avg", "gem"])
def test_embed_batch_matches_keras(lite0_embedder, tmp_path, pooling):
    from soldsight.embed import load_embedder
    from soldsight.settings import Settings

    keras_side = load_embedder(Settings(home=tmp_path), pooling=pooling)  # shares the session's network
    numpy_side = NumpyEmbedder(pooling)
    images = photos(224, 3)
    want, got = keras_side.embed_batch(images), numpy_side.embed_batch(images)
    assert got.shape == want.shape == (3, 1280) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(got, want, atol=2e-6)
    assert numpy_side.model_id == keras_side.model_id


def test_cold_vector_command_runs_without_tensorflow(lite0_embedder, tmp_path):
    """`soldsight vector` in a new process prints the vector indexing would store, without starting TensorFlow."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from PIL import Image

    photo = tmp_path / "sleeve.jpg"
    Image.fromarray(photos(300, 1)[0]).save(photo, quality=90)
    script = ("import json, sys\nfrom soldsight import cli\nrc = cli.main(['vector', sys.argv[1], '--with-id'])\n"
              "print(json.dumps({'rc': rc, 'tensorflow': 'tensorflow' in sys.modules}))")
    env = {**os.environ, "SOLDSIGHT_HOME": str(tmp_path / "home")}
    run = subprocess.run([sys.executable, "-c", script, str(photo)], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], timeout=300, check=False)
    lines = run.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"rc": 0, "tensorflow": False}, run.stderr[-2000:]
    printed = json.loads(lines[-2])
    assert printed["model_id"] == lite0_embedder.model_id
    want = lite0_embedder.embed_batch(lite0_embedder.preprocess(photo)[None])[0]
    np.testing.assert_allclose(printed["vector"], want, atol=2e-6)
