"""Photo embeddings: EfficientNet-Lite0 ported to Keras (default) and keras.applications backbones.

Public interface (TensorFlow loads only when a model is built):
    load_embedder(settings, model=None, pooling="avg") -> Embedder (.model_id, .dim, .embed_batch,
        .feature_map, .preprocess)
    preprocess(image_or_path) -> uint8 [224,224,3]
    embed_pending(settings, ...) -> EmbedReport   (the `soldsight embed` step)
"""
from __future__ import annotations

import os
from functools import lru_cache

# TensorFlow's C++ start-up chatter would drown the CLI's output; real errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from soldsight.embed.preprocess import PREPROCESS_VERSION, ImageRejected, preprocess


def load_embedder(settings, model=None, pooling="avg", **kwargs):
    from soldsight.embed.embedder import load_embedder as _load
    from soldsight.embed.lean_import import without_keras_extras

    with without_keras_extras():  # TensorFlow and Keras are first imported here
        return _load(settings, model, pooling, **kwargs)


def load_query_embedder(settings, photos: int, model: str | None = None, pooling: str = "avg"):
    """The embedder for `photos` photos in an interactive command or a price run.

    For lite0, LiteRT (soldsight.embed.litert_engine) when the price fit has exported its models: 2-3x faster
    than TensorFlow per photo and no start-up. Otherwise TensorFlow's, unless a few photos would wait for
    its start-up (5-9 s): the numpy engine (soldsight.embed.lite0_numpy) computes the same maps with no
    start-up but 4-5x slower per photo, so it serves calls of at most settings.numpy_engine_photos photos,
    in processes that have not built the TensorFlow embedder already.
    """
    from soldsight.embed.embedder import built_embedder

    name = (model or settings.model).lower()
    if name == "lite0" and settings.litert:
        from soldsight.embed.litert_engine import available, models_dir

        directory = models_dir(settings.home)
        if available(directory):
            return _litert_embedder(directory, pooling, settings.max_image_pixels)
    built = built_embedder(settings, name, pooling)
    if built is not None or name != "lite0" or photos > settings.numpy_engine_photos:
        return built or load_embedder(settings, name, pooling)
    return _numpy_embedder(pooling, settings.max_image_pixels)


@lru_cache(maxsize=8)
def _litert_embedder(directory, pooling: str, max_pixels: int):
    """One per models directory and pooling, kept for the process: its interpreters are built on first use."""
    from soldsight.embed.litert_engine import LiteRTEmbedder

    return LiteRTEmbedder(directory, pooling, max_pixels)


@lru_cache(maxsize=4)
def _numpy_embedder(pooling: str, max_pixels: int):
    """Built once per process, like the TensorFlow embedders; one network serves both poolings."""
    from soldsight.embed.lite0_numpy import NumpyEmbedder

    return NumpyEmbedder(pooling, _numpy_network(), max_pixels)


@lru_cache(maxsize=1)
def _numpy_network():
    from soldsight.embed.lite0_numpy import NumpyLite0

    return NumpyLite0()


def embed_pending(settings, embedder=None, **kwargs):
    from soldsight.embed.pending import embed_pending as _embed

    return _embed(settings, embedder, **kwargs)


__all__ = ["PREPROCESS_VERSION", "ImageRejected", "embed_pending", "load_embedder", "load_query_embedder", "preprocess"]
