"""Lite0 on LiteRT (TensorFlow Lite's runtime, with XNNPACK): the engine for pricing, embedding and fits.

Why: pricing a photo runs Lite0 twice, the 224 px head for the global search and a block map for
re-ranking (block 4 at 224 px; block 7 at 448 px before session 18). On this 2-core machine TensorFlow took
22 and 32-46 ms a photo for the head and block 7, LiteRT 7 and 14-16 ms,
and `import ai_edge_litert` costs 0.12 s against TensorFlow's 5-9 s start-up (docs/embed.md).

TensorFlow converts the Keras network to .tflite files (export); `soldsight embed` or the price fit does
it once per weights file (soldsight.embed.load_batch_embedder), into SOLDSIGHT_HOME/models/litert/lite0-w<weights sha256[:12]>-f<FORMAT>/:
  head.tflite        uint8 [1,224,224,3] -> [1,7,7,1280], the head activations before pooling
  block<B>.tflite    uint8 [1,S,S,3], any square S -> the output of MBConv block B
  head+block<B>.tflite  uint8 [1,224,224,3] -> both of the above from one pass (block B lies on the head's
                     way, so the block map costs nothing more): pricing's search and re-ranking since session 19
The runtime itself never imports TensorFlow.
"""
from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from soldsight.embed import lite0
from soldsight.embed.map_embedder import MapEmbedder
from soldsight.embed.preprocess import DEFAULT_MAX_PIXELS

FORMAT = 1  # part of the directory name: bump it when the exported functions change
HEAD = "head.tflite"
THREADS = 2  # XNNPACK threads per call: the machines this runs on have 2 cores


def models_dir(home: Path) -> Path:
    return Path(home) / "models" / "litert" / f"lite0-w{lite0.file_sha256(lite0.weights_path())[:12]}-f{FORMAT}"


def block_file(block: int) -> str:
    return f"block{block}.tflite"


def head_block_file(block: int) -> str:
    return f"head+block{block}.tflite"


def _head_and_block(model, block: int):
    """One Keras model giving the head's map and block's map: the converter merges the layers the two share."""
    import keras

    inputs = keras.Input((lite0.INPUT_SIZE, lite0.INPUT_SIZE, 3))
    return keras.Model(inputs, [model(inputs), lite0.trunk(model, (block,))(inputs)])


def export(embedder, directory: Path, blocks=()) -> list[str]:
    """Convert a TensorFlow Lite0 embedder's head and the given blocks; returns the files written.

    Files already there are kept (their name fixes what they compute). Each is written to a temporary
    name and renamed, so a reader never sees half a file.
    """
    import tensorflow as tf

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model = embedder.network

    head = [1, lite0.INPUT_SIZE, lite0.INPUT_SIZE, 3]
    # Each network is built only when its file is missing.
    wanted = {HEAD: (lambda: model, head)}
    for block in blocks:
        wanted[block_file(block)] = (lambda b=block: lite0.trunk(model, (b,)), [1, None, None, 3])
        wanted[head_block_file(block)] = (lambda b=block: _head_and_block(model, b), head)
    written = []
    for name, (build, shape) in wanted.items():
        path = directory / name
        if path.exists():
            continue
        net = build()

        def fn(x, net=net):
            return net(tf.cast(x, tf.float32), training=False)

        traced = tf.function(fn, input_signature=[tf.TensorSpec(shape, tf.uint8)], autograph=False)
        data = tf.lite.TFLiteConverter.from_concrete_functions([traced.get_concrete_function()], traced).convert()
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        written.append(name)
    return written


def available(directory: Path, blocks=(), *, shared: bool = False) -> bool:
    """Whether the head, and each of the given blocks, has been exported into directory; with shared, also the
    head+block file of each (queries do without one: a directory converted before session 19 runs two passes)."""
    names = [HEAD, *map(block_file, blocks), *(map(head_block_file, blocks) if shared else ())]
    return all((Path(directory) / name).is_file() for name in names)


@contextmanager
def _quiet_native_stderr():
    """LiteRT announces its XNNPACK delegate on stderr from C++, where no log level reaches; commands
    that print JSON or tables should not carry it."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class LiteRTEmbedder(MapEmbedder):
    """The Embedder interface of soldsight.embed.map_embedder on LiteRT."""

    def __init__(self, directory: Path, pooling: str = "avg", max_pixels: int = DEFAULT_MAX_PIXELS):
        super().__init__(pooling, max_pixels)
        self.directory = Path(directory)
        self._interpreters: dict = {}
        self._lock = threading.Lock()  # an interpreter holds one input and one output: one call at a time

    def _interpreter(self, name: str, side: int):
        key = (name, side)
        if key not in self._interpreters:
            from ai_edge_litert.interpreter import Interpreter

            path = self.directory / name
            if not path.is_file():
                raise FileNotFoundError(f"no LiteRT model {path}: run `soldsight price --fit` to export it")
            with _quiet_native_stderr():
                it = Interpreter(model_path=str(path), num_threads=THREADS)
                inp = it.get_input_details()[0]["index"]
                if name != HEAD:
                    it.resize_tensor_input(inp, [1, side, side, 3])
                it.allocate_tensors()
            # The head's map first: the converter does not keep the order of a model's outputs, and no block
            # has as many channels as the head.
            outputs = sorted(it.get_output_details(), key=lambda d: -int(d["shape"][-1]))
            self._interpreters[key] = (it, inp, [d["index"] for d in outputs])
        return self._interpreters[key]

    def _run(self, name: str, images: np.ndarray) -> list[np.ndarray]:
        """Each output of the model, stacked over the images."""
        out = []
        with self._lock:
            for image in images:
                it, inp, outputs = self._interpreter(name, image.shape[0])
                it.set_tensor(inp, np.ascontiguousarray(image[None]))
                it.invoke()
                out.append([it.get_tensor(o)[0].copy() for o in outputs])
        if not out:
            return [np.zeros((0,), np.float32)]
        return [np.stack(maps).astype(np.float32, copy=False) for maps in zip(*out)]

    def _head_maps(self, images: np.ndarray) -> np.ndarray:
        return self._run(HEAD, images)[0]

    def _block_maps(self, images: np.ndarray, block: int) -> np.ndarray:
        return self._run(block_file(block), images)[0]

    def _head_and_block_maps(self, images: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
        if not (self.directory / head_block_file(block)).is_file():  # converted before session 19
            return super()._head_and_block_maps(images, block)
        head, local = self._run(head_block_file(block), images)
        return head, local
