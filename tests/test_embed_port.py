"""The Keras port of EfficientNet-Lite0 and the embedder interface the price step codes against."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from soldsight.embed.preprocess import PREPROCESS_VERSION


@pytest.fixture(scope="module")
def samples(lite0_embedder):
    from sklearn.datasets import load_sample_image

    # The ImageNet evaluation crop: the centred 224/256 of the short side, resized to 224.
    return np.stack([lite0_embedder.preprocess(load_sample_image(name), crop_fraction=224 / 256)
                     for name in ("china.jpg", "flower.jpg")])


def test_sample_photos_get_their_imagenet_classes(lite0_embedder, samples):
    probs = lite0_embedder.classify(samples)
    top1 = probs.argmax(axis=1)
    print("top-1", top1.tolist(), "p", probs.max(axis=1).round(3).tolist())
    assert top1.tolist() == [698, 985]  # palace, daisy
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_folded_batch_norm_computes_the_same_network(lite0_embedder, samples):
    from soldsight.embed import lite0

    folded = lite0_embedder._classifier  # the session's network, batch norms folded
    plain = lite0.pretrained(with_top=True, fold_bn=False)  # the one extra build: the reference
    x = samples.astype(np.float32)
    (f1, l1), (f2, l2) = folded(x, training=False), plain(x, training=False)
    assert len(folded.layers) < len(plain.layers)
    np.testing.assert_allclose(np.asarray(f1), np.asarray(f2), atol=1e-3)
    np.testing.assert_allclose(np.asarray(l1), np.asarray(l2), atol=1e-3)


def test_embed_batch_is_unit_length_float32_and_matches_the_pooled_feature_map(lite0_embedder, samples):
    vectors = lite0_embedder.embed_batch(samples)
    assert vectors.dtype == np.float32 and vectors.shape == (2, 1280) and lite0_embedder.dim == 1280
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    fmap = lite0_embedder.feature_map(samples)
    assert fmap.shape == (2, 7, 7, 1280) and fmap.dtype == np.float32
    assert fmap.min() >= 0.0 and fmap.max() <= 6.0  # ReLU6 activations
    pooled = fmap.mean(axis=(1, 2))
    np.testing.assert_allclose(pooled / np.linalg.norm(pooled, axis=1, keepdims=True), vectors, atol=1e-5)
    # Batching does not change a photo's vector, and different photos differ.
    np.testing.assert_allclose(lite0_embedder.embed_batch(samples[1:]), vectors[1:], atol=1e-5)
    assert float(vectors[0] @ vectors[1]) < 0.9
    assert lite0_embedder.embed_batch(np.zeros((0, 224, 224, 3), np.uint8)).shape == (0, 1280)
    with pytest.raises(ValueError):
        lite0_embedder.embed_batch(samples.astype(np.float32))


def test_model_id_names_weights_preprocessing_and_pooling(lite0_embedder, samples, settings):
    from soldsight.embed import load_embedder
    from soldsight.embed.embedder import model_id_for
    from soldsight.embed.lite0 import file_sha256, weights_path

    assert lite0_embedder.model_id == f"lite0-w{file_sha256(weights_path())[:12]}-p{PREPROCESS_VERSION}-avg"
    assert model_id_for(settings) == lite0_embedder.model_id
    assert load_embedder(settings) is lite0_embedder  # built once per process
    gem = load_embedder(settings, pooling="gem")
    assert gem.model_id.endswith("-gem3") and gem.model_id != lite0_embedder.model_id
    assert gem._model is lite0_embedder._model  # one network per process, whatever the pooling
    g = gem.embed_batch(samples)
    fmap = lite0_embedder.feature_map(samples).astype(np.float64)
    expected = np.mean(np.maximum(fmap, 1e-6) ** 3, axis=(1, 2)) ** (1 / 3)
    np.testing.assert_allclose(g, expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-4)


def test_keras_backbone_offline_without_weights_says_how_to_provide_them(settings):
    from soldsight.embed.embedder import WeightsUnavailable, load_embedder

    with pytest.raises(WeightsUnavailable) as err:
        load_embedder(settings, "resnet50", online=False)  # online=False: tests never touch the network
    message = str(err.value)
    assert "SOLDSIGHT_MODEL_WEIGHTS" in message
    assert str(settings.models_dir / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5") in message
    assert "https://storage.googleapis.com/" in message


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside keras' save_weights
def test_keras_backbone_loads_a_local_weights_file(settings, tmp_path):
    import keras

    from soldsight.embed.embedder import load_embedder

    # No ImageNet file offline: save a randomly initialised MobileNetV3Large and load it the way a user's file is.
    source = keras.applications.MobileNetV3Large(input_shape=(224, 224, 3), include_top=False, weights=None)
    weights = tmp_path / "mnv3.weights.h5"
    source.save_weights(weights)
    emb = load_embedder(dataclasses.replace(settings, model_weights=weights), "mobilenetv3large", online=False)
    assert emb.dim == 960 and emb.model_id.startswith("mobilenetv3large-w")
    x = np.random.default_rng(0).integers(0, 256, (3, 224, 224, 3), dtype=np.uint8)
    v = emb.embed_batch(x)
    assert v.shape == (3, 960)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    pooled = np.asarray(source(x.astype(np.float32), training=False)).mean(axis=(1, 2))
    np.testing.assert_allclose(v, pooled / np.linalg.norm(pooled, axis=1, keepdims=True), atol=1e-4)
