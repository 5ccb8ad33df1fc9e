"""Loads an embedding backbone once and embeds uint8 batches through one compiled tf.function.

The stable interface (the price helper codes against it):
    emb = load_embedder(settings, model=None, pooling="avg")
    emb.model_id, emb.dim, emb.name, emb.pooling
    model_id_for(settings, model=None, pooling="avg") -> the same id, cheaply (no TensorFlow)
    emb.preprocess(image_or_path) -> uint8 [224,224,3]
    emb.embed_batch(uint8 [N,224,224,3]) -> float32 [N,dim], each row L2-normalised
    emb.feature_map(uint8 [N,224,224,3]) -> float32 [N,7,7,dim], the activations before pooling
    emb.local_map(uint8 [N,S,S,3], block=10) -> float32 [N,S/16,S/16,112], an intermediate map (Lite0 only)
    emb.feature_and_local_maps(uint8 [N,224,224,3], block) -> both maps of the same images (Lite0 only)
TensorFlow is imported inside functions only, so the CLI stays quick to start.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from soldsight.embed import lite0
from soldsight.embed.preprocess import DEFAULT_MAX_PIXELS, PREPROCESS_VERSION, SIZE, preprocess as _preprocess
from soldsight.settings import Settings

POOLINGS = ("avg", "gem")
GEM_P = 3.0


@dataclass(frozen=True)
class KerasApp:
    """A keras.applications backbone and where its ImageNet no-top weights live."""

    constructor: str
    dim: int
    file_name: str
    url: str
    caffe_preprocessing: bool = False  # ResNet50 wants BGR minus the ImageNet mean; the others take 0-255 RGB


KERAS_APPS = {
    "mobilenetv3large": KerasApp(
        "MobileNetV3Large", 960, "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
        "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
    ),
    "efficientnetb0": KerasApp(
        "EfficientNetB0", 1280, "efficientnetb0_notop.h5",
        "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5",
    ),
    "resnet50": KerasApp(
        "ResNet50", 2048, "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        caffe_preprocessing=True,
    ),
}
MODELS = ("lite0", *KERAS_APPS)


class WeightsUnavailable(RuntimeError):
    """No weights for a backbone: offline and no local file."""


def make_model_id(name: str, weights_sha256: str, pooling: str = "avg") -> str:
    """Anything that changes the vectors changes the id: weights, preprocessing version, pooling."""
    pool_tag = "avg" if pooling == "avg" else f"gem{GEM_P:g}"
    return f"{name}-w{weights_sha256[:12]}-p{PREPROCESS_VERSION}-{pool_tag}"


def model_id_for(settings: Settings, model: str | None = None, pooling: str = "avg") -> str:
    """The model_id load_embedder would give, without TensorFlow and without downloading anything.

    Raises WeightsUnavailable for a keras.applications backbone with no local weights file.
    """
    name = (model or settings.model).lower()
    if name == "lite0":
        return make_model_id(name, lite0.file_sha256(lite0.weights_path()), pooling)
    if name not in KERAS_APPS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return make_model_id(name, lite0.file_sha256(resolve_weights(settings, name, online=False)), pooling)


class Embedder:
    """One backbone, built once; call embed_batch as often as you like."""

    def __init__(self, name: str, features_model, dim: int, weights_sha256: str, pooling: str = "avg",
                 *, caffe_preprocessing: bool = False, classifier=None, batch_size: int = 32,
                 max_pixels: int = DEFAULT_MAX_PIXELS):
        import tensorflow as tf

        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
        self.name, self.dim, self.pooling = name, dim, pooling
        self.weights_sha256 = weights_sha256
        self.batch_size = batch_size
        self.max_pixels = max_pixels
        self.model_id = make_model_id(name, weights_sha256, pooling)
        self._model = features_model
        self._classifier = classifier
        self._local: dict = {}  # block -> tf.function over a trunk of the network (local_map)
        spec = [tf.TensorSpec([None, SIZE, SIZE, 3], tf.uint8)]

        def features(images):
            x = tf.cast(images, tf.float32)
            if caffe_preprocessing:
                x = x[..., ::-1] - tf.constant([103.939, 116.779, 123.68])
            return features_model(x, training=False)

        def pool(fmap):
            if pooling == "gem":
                pooled = tf.reduce_mean(tf.maximum(fmap, 1e-6) ** GEM_P, axis=[1, 2]) ** (1.0 / GEM_P)
            else:
                pooled = tf.reduce_mean(fmap, axis=[1, 2])
            # epsilon bounds the squared norm; tiny so that even weak activations come out unit length
            return tf.math.l2_normalize(pooled, axis=1, epsilon=1e-30)

        # One traced network serves embed_batch and feature_map: pricing, which needs only the map, then
        # pays for one trace at start-up, not two (~1.2 s each). autograph=False: these functions have no
        # Python control flow to convert, and converting Keras' call graph cost ~0.5 s per trace.
        self._features = tf.function(features, input_signature=spec, autograph=False)
        pool_fn = tf.function(pool, input_signature=[tf.TensorSpec(None, tf.float32)], autograph=False)
        self._embed = lambda images: pool_fn(self._features(images))
        # Trace now (one trace serves every batch size), so the first real batch is not charged for it.
        self._embed(tf.zeros([1, SIZE, SIZE, 3], tf.uint8))
        if classifier is not None:
            self._classify = tf.function(lambda images: tf.nn.softmax(classifier(tf.cast(images, tf.float32), training=False)[1]),
                                         input_signature=spec, autograph=False)

    @property
    def network(self):
        """The Keras model behind feature_map (float 0-255 RGB in), e.g. to convert for LiteRT."""
        return self._model

    def preprocess(self, source, **kwargs) -> np.ndarray:
        """The indexing/query policy of soldsight.embed.preprocess, with this embedder's pixel limit."""
        kwargs.setdefault("max_pixels", self.max_pixels)
        return _preprocess(source, **kwargs)

    def _run(self, fn, images: np.ndarray, width: tuple) -> np.ndarray:
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (SIZE, SIZE, 3):
            raise ValueError(f"expected uint8 [N,{SIZE},{SIZE},3], got {images.dtype} {images.shape}")
        if len(images) == 0:
            return np.zeros((0, *width), np.float32)
        parts = [fn(images[i:i + self.batch_size]).numpy() for i in range(0, len(images), self.batch_size)]
        return np.concatenate(parts).astype(np.float32, copy=False)

    def embed_batch(self, images: np.ndarray) -> np.ndarray:
        """uint8 [N,224,224,3] -> float32 [N,dim], L2-normalised rows."""
        return self._run(self._embed, images, (self.dim,))

    def feature_map(self, images: np.ndarray) -> np.ndarray:
        """uint8 [N,224,224,3] -> float32 [N,7,7,dim], the head activations before pooling."""
        return self._run(self._features, images, (7, 7, self.dim))

    def feature_and_local_maps(self, images: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
        """(feature_map(images), local_map(images, block)): the engines' interface; here two passes."""
        return self.feature_map(images), self.local_map(images, block)

    def local_map(self, images: np.ndarray, block: int = 10) -> np.ndarray:
        """uint8 [N,S,S,3] (any square S) -> float32 [N,h,w,c], the output of Lite0 MBConv block `block`.

        For local features (soldsight.price.verify): a finer map than the 7x7 head, from the same weights.
        Built on first use, so embed_batch and feature_map are untouched and cold starts that never
        ask for it pay nothing.
        """
        import tensorflow as tf

        if self.name != "lite0":
            raise NotImplementedError(f"local_map is defined for lite0, not {self.name}")
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] != images.shape[2]:
            raise ValueError(f"expected uint8 [N,S,S,3], got {images.dtype} {images.shape}")
        if block not in self._local:
            trunk = lite0.trunk(self._model, (block,))
            self._local[block] = tf.function(lambda x: trunk(tf.cast(x, tf.float32), training=False),
                                             input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)],
                                             autograph=False)
        fn = self._local[block]
        # One photo per call: at 448 px its activations alone fill the cache (2026-12-01, 2 cores:
        # 33 ms a photo one at a time, 44 in pairs, 66 in batches of 32).
        parts = [fn(images[i:i + 1]).numpy() for i in range(len(images))]
        return np.concatenate(parts).astype(np.float32, copy=False)

    def classify(self, images: np.ndarray) -> np.ndarray:
        """ImageNet class probabilities [N,1000] (Lite0 only; for sanity checks)."""
        if self._classifier is None:
            raise NotImplementedError(f"{self.name} is loaded without its ImageNet classifier")
        return self._run(self._classify, images, (1000,))

    def embed_paths(self, paths) -> np.ndarray:
        """Convenience for a few photos: preprocess each, then one embed_batch."""
        return self.embed_batch(np.stack([self.preprocess(p) for p in paths]))


def load_embedder(settings: Settings, model: str | None = None, pooling: str = "avg",
                  *, online: bool | None = None) -> Embedder:
    """Build the backbone named by model (default settings.model) with its weights, once.

    The network is built once per process and shared by every pooling; online=None probes the
    weights host, pass False to forbid any download (tests do).
    """
    name = (model or settings.model).lower()
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
    net_key, key = _keys(settings, name, pooling)
    if key not in _EMBEDDERS:
        if net_key not in _NETWORKS:
            _NETWORKS[net_key] = _build_network(settings, name, online)
        network = _NETWORKS[net_key]
        _EMBEDDERS[key] = Embedder(name, network["features"], network["dim"], network["sha256"], pooling,
                                   caffe_preprocessing=network["caffe"], classifier=network["classifier"],
                                   batch_size=settings.embed_batch_size, max_pixels=settings.max_image_pixels)
    return _EMBEDDERS[key]


def built_embedder(settings: Settings, model: str | None = None, pooling: str = "avg") -> Embedder | None:
    """The embedder load_embedder would return if this process has built it already, else None."""
    return _EMBEDDERS.get(_keys(settings, (model or settings.model).lower(), pooling)[1])


def _keys(settings: Settings, name: str, pooling: str) -> tuple[tuple, tuple]:
    net_key = (name,) if name == "lite0" else (name, settings.model_weights, settings.models_dir)
    return net_key, (*net_key, pooling, settings.embed_batch_size, settings.max_image_pixels)


# What a process has built: networks by backbone and weights, embedders by everything that shapes them.
_NETWORKS: dict[tuple, dict] = {}
_EMBEDDERS: dict[tuple, Embedder] = {}


def _build_network(settings: Settings, name: str, online: bool | None) -> dict:
    if name == "lite0":
        import keras

        full = lite0.pretrained(with_top=True)
        features = keras.Model(full.inputs, full.outputs[0], name="efficientnet_lite0_features")
        return {"features": features, "classifier": full, "dim": lite0.HEAD_CHANNELS,
                "sha256": lite0.file_sha256(lite0.weights_path()), "caffe": False}
    app = KERAS_APPS[name]
    weights = resolve_weights(settings, name, online=online)  # before TensorFlow: a missing file fails fast
    import keras

    kwargs = dict(input_shape=(SIZE, SIZE, 3), include_top=False, weights=str(weights), pooling=None)
    if name == "mobilenetv3large":
        kwargs["include_preprocessing"] = True
    backbone = getattr(keras.applications, app.constructor)(**kwargs)
    return {"features": backbone, "classifier": None, "dim": app.dim,
            "sha256": lite0.file_sha256(Path(weights)), "caffe": app.caffe_preprocessing}


def resolve_weights(settings: Settings, name: str, *, online: bool | None = None) -> Path:
    """A local no-top weights file for a keras.applications backbone, downloading it into models_dir if online."""
    app = KERAS_APPS[name]
    if settings.model_weights is not None:
        path = Path(settings.model_weights)
        if not path.is_file():
            raise WeightsUnavailable(f"SOLDSIGHT_MODEL_WEIGHTS={path} does not exist")
        return path
    local = settings.models_dir / app.file_name
    if local.is_file():
        return local
    if online is None:
        online = _weights_host_reachable(app.url)
    if not online:
        raise WeightsUnavailable(
            f"no ImageNet weights for {name}: this machine is offline and no local file was given. "
            f"On a machine with internet, download {app.url} and then either put it at {local} "
            f"or set SOLDSIGHT_MODEL_WEIGHTS to its path. (The default model, lite0, needs no download.)"
        )
    import keras

    # The same file keras.applications(weights="imagenet") fetches, but kept inside SOLDSIGHT_HOME.
    local.parent.mkdir(parents=True, exist_ok=True)
    return Path(keras.utils.get_file(app.file_name, app.url, cache_dir=str(local.parent), cache_subdir="."))


def _weights_host_reachable(url: str, timeout: float = 3.0) -> bool:
    host = url.split("/")[2]
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False
