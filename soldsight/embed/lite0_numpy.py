"""EfficientNet-Lite0 inference in numpy alone: the same function as the Keras network of soldsight.embed.lite0.

Why a second engine: `import tensorflow` plus building and tracing the network costs 5-9 s on a 2-core
machine, before the first photo. A process that prices one or a few photos (the `price` command) runs
the network here instead, in a fraction of a second, on the same weights with the batch norms folded
the same way; tests check both engines give the same maps. Batches (embedding, fits, many photos)
stay on TensorFlow, which is several times faster per photo once loaded.
"""
from __future__ import annotations

import numpy as np

from soldsight.embed import lite0
from soldsight.embed.legacy_pth import read_state_dict
from soldsight.embed.map_embedder import MapEmbedder
from soldsight.embed.preprocess import DEFAULT_MAX_PIXELS


def _folded(state: dict, conv: str, depthwise: bool) -> tuple[np.ndarray, np.ndarray]:
    """A convolution with the batch norm after it folded in: (kernel, bias).

    Kernels come out as [kh,kw,C] for depthwise, [kh*kw*Cin, Cout] otherwise (rows in (dy, dx, cin) order).
    """
    kernel = state[conv + ".weight"].astype(np.float32)
    bn = lite0.bn_name_for(conv)
    gamma, beta, mean, var = (state[bn + s].astype(np.float32) for s in (".weight", ".bias", ".running_mean", ".running_var"))
    scale = gamma / np.sqrt(var + np.float32(lite0.BN_EPSILON))
    bias = (beta - mean * scale).astype(np.float32)
    if depthwise:  # (C, 1, kh, kw) -> (kh, kw, C)
        return np.ascontiguousarray(kernel[:, 0].transpose(1, 2, 0) * scale), bias
    cout = kernel.shape[0]
    hwio = kernel.transpose(2, 3, 1, 0) * scale  # OIHW -> (kh, kw, Cin, Cout)
    return np.ascontiguousarray(hwio.reshape(-1, cout)), bias


def _same_pad(x: np.ndarray, kernel: int, stride: int) -> tuple[np.ndarray, int]:
    """TensorFlow's SAME padding (the extra row/column goes bottom/right), and the output side."""
    n = x.shape[0]
    out = -(-n // stride)
    total = max((out - 1) * stride + kernel - n, 0)
    before = total // 2
    return np.pad(x, ((before, total - before), (before, total - before), (0, 0))), out


def _relu6(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 6.0, out=x)


def _pointwise(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    h, w, c = x.shape
    y = x.reshape(-1, c) @ kernel
    y += bias
    return y.reshape(h, w, -1)


def _depthwise(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    k = kernel.shape[0]
    xp, out = _same_pad(x, k, stride)
    span = (out - 1) * stride + 1
    acc = np.empty((out, out, x.shape[2]), np.float32)
    acc[...] = bias
    term = np.empty_like(acc)
    for dy in range(k):
        for dx in range(k):
            np.multiply(xp[dy:dy + span:stride, dx:dx + span:stride], kernel[dy, dx], out=term)
            acc += term
    return acc


def _stem(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    xp, out = _same_pad(x, 3, 2)
    span = (out - 1) * 2 + 1
    cols = np.concatenate([xp[dy:dy + span:2, dx:dx + span:2] for dy in range(3) for dx in range(3)], axis=2)
    return _pointwise(cols, kernel, bias)


class NumpyLite0:
    """Lite0 up to its head (or up to one MBConv block) for uint8 RGB images of any square size."""

    def __init__(self, state: dict | None = None):
        state = read_state_dict(lite0.weights_path()) if state is None else state
        self.stem = _folded(state, "_conv_stem", False)
        self.head = _folded(state, "_conv_head", False)
        self.blocks = []
        for i, kernel, stride, expand, cin, cout in lite0.block_specs():
            p = f"_blocks.{i}."
            self.blocks.append({
                "expand": _folded(state, p + "_expand_conv", False) if expand != 1 else None,
                "depthwise": _folded(state, p + "_depthwise_conv", True), "stride": stride,
                "project": _folded(state, p + "_project_conv", False), "residual": stride == 1 and cin == cout,
            })

    def one(self, image: np.ndarray, upto_block: int | None = None) -> np.ndarray:
        """uint8 [S,S,3] -> the head activations [S/32,S/32,1280], or the output of block upto_block."""
        # The port's normalisation, (x - 127) / 128, as the Keras network's Rescaling layer computes it.
        x = image.astype(np.float32) * np.float32(1 / 128) + np.float32(-127 / 128)
        x = _relu6(_stem(x, *self.stem))
        for i, b in enumerate(self.blocks):
            h = _relu6(_pointwise(x, *b["expand"])) if b["expand"] is not None else x
            h = _relu6(_depthwise(h, *b["depthwise"], b["stride"]))
            h = _pointwise(h, *b["project"])
            if b["residual"]:
                h += x
            x = h
            if i == upto_block:
                return x
        return _relu6(_pointwise(x, *self.head))

    def run(self, images: np.ndarray, upto_block: int | None = None) -> np.ndarray:
        """uint8 [N,S,S,3] -> float32 maps [N,...], one photo at a time (its activations stay in cache)."""
        return np.stack([self.one(im, upto_block) for im in images]) if len(images) else np.zeros((0,), np.float32)


class NumpyEmbedder(MapEmbedder):
    """The Embedder interface of soldsight.embed.map_embedder on NumpyLite0."""

    def __init__(self, pooling: str = "avg", net: NumpyLite0 | None = None, max_pixels: int = DEFAULT_MAX_PIXELS):
        super().__init__(pooling, max_pixels)
        self._net = net or NumpyLite0()

    def _head_maps(self, images: np.ndarray) -> np.ndarray:
        return self._net.run(images)

    def _block_maps(self, images: np.ndarray, block: int) -> np.ndarray:
        return self._net.run(images, block)
