"""Photo embeddings: EfficientNet-Lite0 ported to Keras (default) and keras.applications backbones.

Public interface (TensorFlow loads only when a model is built):
    load_embedder(settings, model=None, pooling="avg") -> Embedder (.model_id, .dim, .embed_batch,
        .feature_map, .preprocess)
    preprocess(image_or_path) -> uint8 [224,224,3]
    embed_pending(settings, ...) -> EmbedReport   (the `soldsight embed` step)
"""
from __future__ import annotations

import os

# TensorFlow's C++ start-up chatter would drown the CLI's output; real errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from soldsight.embed.preprocess import PREPROCESS_VERSION, ImageRejected, preprocess


def load_embedder(settings, model=None, pooling="avg", **kwargs):
    from soldsight.embed.embedder import load_embedder as _load
    from soldsight.embed.lean_import import without_keras_extras

    with without_keras_extras():  # TensorFlow and Keras are first imported here
        return _load(settings, model, pooling, **kwargs)


def embed_pending(settings, embedder=None, **kwargs):
    from soldsight.embed.pending import embed_pending as _embed

    return _embed(settings, embedder, **kwargs)


__all__ = ["PREPROCESS_VERSION", "ImageRejected", "embed_pending", "load_embedder", "preprocess"]
