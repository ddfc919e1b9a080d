"""Grad-CAM and its sanity check (chapter "Visualization"): where a trained CNN looks.

Grad-CAM (Selvaraju et al. 2017) for class c and feature maps A^k of a convolutional layer:
alpha_k^c = mean_{i,j} d y^c / d A^k_{ij} and L^c = ReLU(sum_k alpha_k^c A^k), where y^c is the
score *before* the softmax. The maps returned here are divided by their maximum (all-zero stays 0).
The model-randomization test of Adebayo et al. 2018 ("Sanity Checks for Saliency Maps") compares
maps of a trained model with those of a re-initialized copy: a faithful method must change.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from cnnbook.core.backend import keras, tf
from cnnbook.core.names import LOGITS_LAYER

_RECTIFIERS = (
    keras.layers.BatchNormalization,
    keras.layers.Activation,
    keras.layers.ReLU,
)


def last_conv_layer_name(model: keras.Model, rectified: bool = True) -> str:
    """Name of the last Conv2D layer; with ``rectified``, of the BatchNorm/ReLU right after it."""
    layers = model.layers
    convs = [
        i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Conv2D)
    ]
    if not convs:
        raise ValueError(f"model {model.name!r} has no Conv2D layer")
    i = convs[-1]
    while rectified and i + 1 < len(layers) and isinstance(layers[i + 1], _RECTIFIERS):
        nxt = layers[i + 1]
        if _is_softmax(getattr(nxt, "activation", None)) or len(nxt.output.shape) != 4:
            break
        i += 1
    return layers[i].name


def _is_softmax(activation) -> bool:
    """Whether a Keras activation function is the softmax."""
    return (
        activation is keras.activations.softmax
        or getattr(activation, "__name__", "") == "softmax"
    )


def _score_model(model: keras.Model, layer_name: str) -> tuple[keras.Model, Callable]:
    """A model image -> (feature maps, pre-softmax input) and the function giving the scores."""
    features = model.get_layer(layer_name).output
    names = {layer.name for layer in model.layers}
    if LOGITS_LAYER in names:
        return keras.Model(
            model.inputs, [features, model.get_layer(LOGITS_LAYER).output]
        ), tf.identity
    last = model.layers[-1]
    if isinstance(last, keras.layers.Softmax) or (
        isinstance(last, keras.layers.Activation) and _is_softmax(last.activation)
    ):
        return keras.Model(model.inputs, [features, last.input]), tf.identity
    if isinstance(last, keras.layers.Dense) and _is_softmax(last.activation):

        def dense_scores(x):
            z = tf.matmul(x, tf.cast(last.kernel, x.dtype))
            return z + tf.cast(last.bias, x.dtype) if last.use_bias else z

        return keras.Model(model.inputs, [features, last.input]), dense_scores
    raise ValueError(
        f"model {model.name!r}: no {LOGITS_LAYER!r} layer and no final softmax to undo"
    )


def _class_vector(class_index, scores: tf.Tensor) -> tf.Tensor:
    """Per-sample class indices: the argmax of the scores, one int for all, or one per sample."""
    n, k = scores.shape
    if class_index is None:
        return tf.argmax(scores, axis=1, output_type=tf.int32)
    classes = np.broadcast_to(np.asarray(class_index, dtype=np.int64), (n,))
    if classes.min() < 0 or classes.max() >= k:
        raise ValueError(f"class_index must be in [0, {k})")
    return tf.constant(classes, dtype=tf.int32)


def _batch_gradients(
    probe: keras.Model, head: Callable, images: np.ndarray, class_index, input_dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Feature maps A and d y^c / d A for one batch (inference mode)."""
    x = tf.convert_to_tensor(np.asarray(images), dtype=input_dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        features, pre = probe(x, training=False)
        scores = head(pre)
        classes = _class_vector(class_index, scores)
        target = tf.reduce_sum(tf.gather(scores, classes, axis=1, batch_dims=1))
    grads = tape.gradient(target, features)
    return np.asarray(features, dtype=np.float64), np.asarray(grads, dtype=np.float64)


def score_gradients(
    model: keras.Model,
    images: np.ndarray,
    class_index=None,
    layer_name: str | None = None,
    batch_size: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Feature maps A (N,h,w,K) of a layer and the gradients d y^c / d A of the pre-softmax score."""
    layer_name = layer_name or last_conv_layer_name(model)
    probe, head = _score_model(model, layer_name)
    images = np.asarray(images)
    per_sample = class_index is not None and np.ndim(class_index) > 0
    feats, grads = [], []
    for start in range(0, len(images), batch_size):
        stop = start + batch_size
        cls = np.asarray(class_index)[start:stop] if per_sample else class_index
        a, g = _batch_gradients(
            probe, head, images[start:stop], cls, model.inputs[0].dtype
        )
        feats.append(a)
        grads.append(g)
    return np.concatenate(feats), np.concatenate(grads)


def grad_cam(
    model: keras.Model,
    images: np.ndarray,
    class_index=None,
    layer_name: str | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Grad-CAM heatmaps (N, h, w) in [0, 1]; class_index None means the predicted class."""
    feats, grads = score_gradients(model, images, class_index, layer_name, batch_size)
    if feats.ndim != 4:
        raise ValueError(
            f"Grad-CAM needs 4-D feature maps, layer gives shape {feats.shape}"
        )
    alpha = grads.mean(axis=(1, 2))  # (N, K)
    cam = np.maximum(np.einsum("nhwk,nk->nhw", feats, alpha), 0.0)
    peak = cam.max(axis=(1, 2), keepdims=True)
    return np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)


def heatmap_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation between paired heatmaps (N, h, w) -> (N,); NaN where a map is constant."""
    a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    norm = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, (a * b).sum(1) / norm, np.nan)


def upsample_heatmap(heatmap: np.ndarray, size: Sequence[int] = (32, 32)) -> np.ndarray:
    """Bilinear resize of one (h, w) map or a batch (N, h, w) to ``size`` (tf.image.resize)."""
    maps = np.asarray(heatmap, dtype=np.float32)
    single = maps.ndim == 2
    batch = maps[None] if single else maps
    out = tf.image.resize(batch[..., None], tuple(size), method="bilinear").numpy()[
        ..., 0
    ]
    return out[0] if single else out


def randomize_weights(model: keras.Model, seed: int = 0) -> keras.Model:
    """A clone with all weights freshly initialized from seeded initializers (model randomization)."""
    rng = np.random.default_rng(seed)

    def clone_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        for key, value in config.items():
            if (
                key.endswith("_initializer")
                and isinstance(value, dict)
                and "seed" in value.get("config", {})
            ):
                config[key] = {
                    **value,
                    "config": {**value["config"], "seed": int(rng.integers(2**31 - 1))},
                }
        return layer.__class__.from_config(config)

    return keras.models.clone_model(model, clone_function=clone_layer)
