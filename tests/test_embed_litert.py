"""LiteRT runs the same Lite0 maps as the Keras network it was converted from, without TensorFlow."""
from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from soldsight.embed.litert_engine import (HEAD, LiteRTEmbedder, available, block_file, export, head_block_file,
                                           models_dir)
from tests.test_embed_lite0_numpy import photos


@pytest.fixture(scope="module")
def litert_dir(lite0_embedder, tmp_path_factory):
    directory = tmp_path_factory.mktemp("litert")
    # Block 4: re-ranking's local features since session 18; 7 and 10: earlier fits and the experiments.
    want = [HEAD, *map(block_file, (4, 7, 10)), *map(head_block_file, (4, 7, 10))]
    assert sorted(export(lite0_embedder, directory, (4, 7, 10))) == sorted(want)
    assert export(lite0_embedder, directory, (7,)) == []  # files already there are kept
    return directory


def test_head_map_matches_keras(litert_dir, lite0_embedder):
    images = photos(224)
    want, got = lite0_embedder.feature_map(images), LiteRTEmbedder(litert_dir).feature_map(images)
    assert got.shape == want.shape == (2, 7, 7, 1280) and got.dtype == np.float32
    assert want.max() > 1
    np.testing.assert_allclose(got, want, atol=2e-4)


@pytest.mark.parametrize("side", [448, 200])
def test_block_maps_match_keras(litert_dir, lite0_embedder, side):
    images = photos(side)
    engine = LiteRTEmbedder(litert_dir)
    for block in (4, 7, 10):
        want, got = lite0_embedder.local_map(images, block), engine.local_map(images, block)
        assert got.shape == want.shape and np.abs(want).max() > 1
        np.testing.assert_allclose(got, want, atol=2e-4 * np.abs(want).max())


def test_head_and_block_maps_from_one_pass(litert_dir, lite0_embedder, tmp_path):
    """Pricing's search and re-ranking read one pass of the head+block model: the maps of the two models."""
    images = photos(224)
    engine = LiteRTEmbedder(litert_dir)
    head, local = engine.feature_and_local_maps(images, 4)
    assert (head_block_file(4), 224) in engine._interpreters
    assert np.array_equal(head, engine.feature_map(images)) and np.array_equal(local, engine.local_map(images, 4))
    want_head, want_local = lite0_embedder.feature_and_local_maps(images, 4)
    assert local.shape == want_local.shape == (2, 28, 28, 40)
    np.testing.assert_allclose(head, want_head, atol=2e-4)
    np.testing.assert_allclose(local, want_local, atol=2e-4 * np.abs(want_local).max())
    # Converted before the head+block files: the same maps, from two passes.
    for name in (HEAD, block_file(4)):
        shutil.copy(litert_dir / name, tmp_path)
    assert available(tmp_path, (4,)) and not available(tmp_path, (4,), shared=True)
    two = LiteRTEmbedder(tmp_path).feature_and_local_maps(images, 4)
    assert np.array_equal(two[0], head) and np.array_equal(two[1], local)


@pytest.mark.parametrize("pooling", ["avg", "gem"])
def test_embed_batch_matches_keras(litert_dir, lite0_embedder, tmp_path, pooling):
    from soldsight.embed import load_embedder
    from soldsight.settings import Settings

    keras_side = load_embedder(Settings(home=tmp_path), pooling=pooling)
    engine = LiteRTEmbedder(litert_dir, pooling)
    images = photos(224, 3)
    np.testing.assert_allclose(engine.embed_batch(images), keras_side.embed_batch(images), atol=2e-6)
    assert engine.model_id == keras_side.model_id


def test_input_checks_and_a_block_never_exported(litert_dir):
    engine = LiteRTEmbedder(litert_dir)
    with pytest.raises(ValueError, match="uint8"):
        engine.feature_map(np.zeros((1, 224, 224, 3), np.float32))
    with pytest.raises(ValueError, match="224"):
        engine.feature_map(np.zeros((1, 448, 448, 3), np.uint8))
    assert engine.feature_map(np.zeros((0, 224, 224, 3), np.uint8)).shape == (0, 7, 7, 1280)
    with pytest.raises(FileNotFoundError, match="soldsight price --fit"):
        engine.local_map(photos(224, 1), 9)


def test_query_embedder_prefers_litert_once_exported(litert_dir, lite0_embedder, tmp_path):
    from soldsight.embed import load_query_embedder
    from soldsight.embed.embedder import WeightsUnavailable
    from soldsight.settings import Settings

    settings = Settings(home=tmp_path)
    assert not isinstance(load_query_embedder(settings, 1), LiteRTEmbedder)  # nothing exported yet
    models_dir(tmp_path).mkdir(parents=True)
    shutil.copy(litert_dir / HEAD, models_dir(tmp_path))  # what an embed run converts: the head only
    assert isinstance(load_query_embedder(settings, 1), LiteRTEmbedder)  # enough for `soldsight vector`
    assert not isinstance(load_query_embedder(settings, 1, blocks=(7,)), LiteRTEmbedder)  # not for pricing
    shutil.copytree(litert_dir, models_dir(tmp_path), dirs_exist_ok=True)
    assert isinstance(load_query_embedder(settings, 1, blocks=(7,)), LiteRTEmbedder)
    engine = load_query_embedder(settings, 1)  # even though this process has built TensorFlow's
    assert isinstance(engine, LiteRTEmbedder) and engine is load_query_embedder(settings, 500)
    assert load_query_embedder(settings, 1, pooling="gem").pooling == "gem"
    assert not isinstance(load_query_embedder(replace(settings, litert=False), 1), LiteRTEmbedder)
    with pytest.raises(WeightsUnavailable):  # another backbone is never served by Lite0's files
        load_query_embedder(settings, 1, model="efficientnetb0")


def test_runtime_imports_no_tensorflow_and_prints_nothing(litert_dir):
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = ("import json, sys\nimport numpy as np\nfrom soldsight.embed.litert_engine import LiteRTEmbedder\n"
              "m = LiteRTEmbedder(sys.argv[1]).local_map(np.zeros((1, 448, 448, 3), np.uint8), 7)\n"
              "print(json.dumps({'shape': list(m.shape), 'tensorflow': 'tensorflow' in sys.modules}))")
    run = subprocess.run([sys.executable, "-c", script, str(litert_dir)], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1], check=False)
    assert json.loads(run.stdout) == {"shape": [1, 28, 28, 80], "tensorflow": False}, run.stderr[-2000:]
    assert run.stderr == ""


def test_batch_passes_run_on_litert_once_exported(lite0_embedder, tmp_path):
    """`soldsight embed` and the price fit: converted once, then LiteRT, with no TensorFlow needed after that."""
    from soldsight.embed import load_batch_embedder
    from soldsight.settings import Settings

    settings = Settings(home=tmp_path)
    network, written = load_batch_embedder(settings, blocks=(7,), embedder=lite0_embedder)
    assert isinstance(network, LiteRTEmbedder) and written == [HEAD, block_file(7), head_block_file(7)]
    assert network.model_id == lite0_embedder.model_id and network.weights_sha256 == lite0_embedder.weights_sha256
    network, written = load_batch_embedder(settings, blocks=(7,))  # e.g. a refit: TensorFlow not needed
    assert isinstance(network, LiteRTEmbedder) and written == []
    (models_dir(tmp_path) / head_block_file(7)).unlink()  # converted before session 19: the next fit adds it
    assert load_batch_embedder(settings, blocks=(7,))[1] == [head_block_file(7)]
    assert load_batch_embedder(settings, pooling="gem")[0].pooling == "gem"
    assert load_batch_embedder(replace(settings, litert=False), embedder=lite0_embedder) == (lite0_embedder, [])
    stand_in = type("StandIn", (), {"name": "lite0", "model_id": "x", "dim": 1280})()  # e.g. a test's probe
    assert load_batch_embedder(settings, embedder=stand_in) == (stand_in, [])
