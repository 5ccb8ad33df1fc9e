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


def load_query_embedder(settings, photos: int, model: str | None = None, pooling: str = "avg", blocks=()):
    """The embedder for `photos` photos in an interactive command or a price run.

    For lite0, LiteRT (soldsight.embed.litert_engine) when the head and the given block maps have been
    converted (by the price fit or `soldsight embed`): 2-3x faster than TensorFlow per photo and no
    start-up. Otherwise TensorFlow's, unless a few photos would wait for
    its start-up (5-9 s): the numpy engine (soldsight.embed.lite0_numpy) computes the same maps with no
    start-up but 4-5x slower per photo, so it serves calls of at most settings.numpy_engine_photos photos,
    in processes that have not built the TensorFlow embedder already.
    """
    from soldsight.embed.embedder import built_embedder

    name = (model or settings.model).lower()
    converted = _converted(settings, name, pooling, blocks)
    if converted is not None:
        return converted
    built = built_embedder(settings, name, pooling)
    if built is not None or name != "lite0" or photos > settings.numpy_engine_photos:
        return built or load_embedder(settings, name, pooling)
    return _numpy_embedder(pooling, settings.max_image_pixels)


def load_batch_embedder(settings, model: str | None = None, pooling: str = "avg", *, blocks=(), embedder=None):
    """The embedder for batch passes (`soldsight embed`, the price fit), and the LiteRT files written this time.

    A TensorFlow Lite0 network (embedder, or load_embedder's) is converted for LiteRT once per weights file
    (soldsight.embed.litert_engine; blocks: the block maps to convert besides the head), and the passes run on
    the conversion: the same maps, 2-3x faster. When the files are there already and no embedder is given,
    TensorFlow is not loaded at all. Other backbones, SOLDSIGHT_LITERT=0, or a stand-in embedder: as given.
    """
    from soldsight.embed.embedder import Embedder
    from soldsight.embed.litert_engine import export, models_dir

    name = (model or settings.model).lower()
    if embedder is None:
        # A directory converted before the head+block files were made gets them now: TensorFlow loads once.
        converted = _converted(settings, name, pooling, blocks, shared=True)
        if converted is not None:
            return converted, []
        embedder = load_embedder(settings, name, pooling)
    if not isinstance(embedder, Embedder) or embedder.name != "lite0":
        return embedder, []
    written = export(embedder, models_dir(settings.home), blocks)  # also with LiteRT off: queries may use it later
    converted = _converted(settings, name, embedder.pooling, blocks)
    return (embedder if converted is None else converted), written


def _converted(settings, name: str, pooling: str, blocks, shared: bool = False) -> object | None:
    """The LiteRT engine, if it serves this backbone and settings and its head and blocks (with shared, their
    head+block files too) have been converted."""
    if name != "lite0" or not settings.litert:
        return None
    from soldsight.embed.litert_engine import available, models_dir

    directory = models_dir(settings.home)
    if not available(directory, blocks, shared=shared):
        return None
    return _litert_embedder(directory, pooling, settings.max_image_pixels)


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


__all__ = ["PREPROCESS_VERSION", "ImageRejected", "embed_pending", "load_batch_embedder", "load_embedder",
           "load_query_embedder", "preprocess"]
