"""What the engines besides TensorFlow share: the Embedder interface that pricing, `soldsight vector`,
`soldsight embed` and the price fit use.

An engine (soldsight.embed.lite0_numpy, soldsight.embed.litert_engine) supplies Lite0's head map and its
block maps; preprocessing, pooling and normalisation are the TensorFlow Embedder's, so the model_id is the
same and its vectors search an index that TensorFlow built.
"""
from __future__ import annotations

import numpy as np

from soldsight.embed import lite0
from soldsight.embed.preprocess import DEFAULT_MAX_PIXELS, preprocess


class MapEmbedder:
    name = "lite0"
    dim = lite0.HEAD_CHANNELS
    batch_size = 8  # photos per embed_batch call in `soldsight embed` (the engines run them one at a time)

    def __init__(self, pooling: str = "avg", max_pixels: int = DEFAULT_MAX_PIXELS):
        from soldsight.embed.embedder import POOLINGS, make_model_id

        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
        self.pooling = pooling
        self.max_pixels = max_pixels
        self.weights_sha256 = lite0.file_sha256(lite0.weights_path())
        self.model_id = make_model_id(self.name, self.weights_sha256, pooling)

    def _head_maps(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _block_maps(self, images: np.ndarray, block: int) -> np.ndarray:
        raise NotImplementedError

    def _head_and_block_maps(self, images: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
        return self._head_maps(images), self._block_maps(images, block)

    def preprocess(self, source, **kwargs) -> np.ndarray:
        """The indexing/query policy of soldsight.embed.preprocess, with this embedder's pixel limit."""
        kwargs.setdefault("max_pixels", self.max_pixels)
        return preprocess(source, **kwargs)

    def embed_batch(self, images: np.ndarray) -> np.ndarray:
        """uint8 [N,224,224,3] -> float32 [N,1280], pooled and L2-normalised as the TensorFlow engine does."""
        from soldsight.embed.embedder import GEM_P

        fmap = self.feature_map(images)
        if self.pooling == "gem":
            pooled = np.mean(np.maximum(fmap, np.float32(1e-6)) ** np.float32(GEM_P), axis=(1, 2)) ** np.float32(1 / GEM_P)
        else:
            pooled = fmap.mean(axis=(1, 2))
        # tf.math.l2_normalize's epsilon (1e-30) bounds the squared norm
        norm = np.sqrt(np.maximum(np.sum(pooled * pooled, axis=1, keepdims=True), np.float32(1e-30)))
        return (pooled / norm).astype(np.float32)

    @staticmethod
    def _check(images, square_any: bool) -> np.ndarray:
        images = np.asarray(images)
        size_ok = images.ndim == 4 and images.shape[1] == images.shape[2] and images.shape[3] == 3
        if images.dtype != np.uint8 or not size_ok or (not square_any and images.shape[1] != lite0.INPUT_SIZE):
            raise ValueError(f"expected uint8 [N,{'S,S' if square_any else '224,224'},3], got {images.dtype} {images.shape}")
        return images

    def feature_map(self, images: np.ndarray) -> np.ndarray:
        """uint8 [N,224,224,3] -> float32 [N,7,7,1280], the head activations before pooling."""
        images = self._check(images, False)
        return self._head_maps(images) if len(images) else np.zeros((0, 7, 7, self.dim), np.float32)

    def local_map(self, images: np.ndarray, block: int = 10) -> np.ndarray:
        """uint8 [N,S,S,3] -> float32 [N,h,w,c], the output of MBConv block `block`."""
        images = self._check(images, True)
        return self._block_maps(images, block)

    def feature_and_local_maps(self, images: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
        """uint8 [N,224,224,3] -> (feature_map(images), local_map(images, block)), from one pass where the engine
        has the two in one model (LiteRT's head+block files)."""
        images = self._check(images, False)
        if not len(images):
            return self.feature_map(images), self.local_map(images, block)
        return self._head_and_block_maps(images, block)
