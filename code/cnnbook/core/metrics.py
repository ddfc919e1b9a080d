"""Predictions and the headline metrics: softmax, accuracy, cross-entropy, outputs of a named layer.

Used by training (the manifest's figures), the CLI (evaluate), the calibration lesson and the pages.
Keras is imported inside the two functions that run a model, so that the NumPy metrics (and the
lessons built on them) import without TensorFlow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cnnbook.core.names import LOGITS_LAYER

if TYPE_CHECKING:
    import keras

NLL_FLOOR = 1e-12


def check_scores(
    probs: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (N, K) score matrix and N integer labels in range; return them as arrays."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1)
    if probs.ndim != 2 or probs.shape[0] != labels.shape[0] or probs.shape[0] == 0:
        raise ValueError(
            f"expected (N, K) scores and N labels, got {probs.shape} and {labels.shape}"
        )
    if (
        not np.issubdtype(labels.dtype, np.integer)
        or labels.min() < 0
        or labels.max() >= probs.shape[1]
    ):
        raise ValueError(f"labels must be integers in [0, {probs.shape[1]})")
    return probs, labels.astype(np.int64)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax along the last axis (float64)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax along the last axis (float64)."""
    return np.exp(log_softmax(logits))


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy."""
    probs, labels = check_scores(probs, labels)
    return float(np.mean(probs.argmax(axis=1) == labels))


def negative_log_likelihood(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log p(true class), with p floored at 1e-12 (the loss reported in the manifest)."""
    probs, labels = check_scores(probs, labels)
    true_class = np.clip(probs[np.arange(len(labels)), labels], NLL_FLOOR, 1.0)
    return float(-np.mean(np.log(true_class)))


def layer_outputs(
    model: keras.Model, images: np.ndarray, layer_name: str, batch_size: int = 500
) -> np.ndarray:
    """Outputs of the layer ``layer_name`` (activation maps, logits) for a batch of images, silently."""
    from cnnbook.core.backend import keras

    try:
        layer = model.get_layer(layer_name)
    except ValueError as exc:
        raise ValueError(
            f"model {model.name!r} has no layer named {layer_name!r}"
        ) from exc
    probe = keras.Model(model.inputs, layer.output)
    return np.asarray(probe.predict(images, batch_size=batch_size, verbose=0))


def model_logits(
    model: keras.Model, images: np.ndarray, batch_size: int = 500
) -> np.ndarray:
    """Pre-softmax scores (N, 10) as float64 from the model's "logits" layer."""
    return np.asarray(
        layer_outputs(model, images, LOGITS_LAYER, batch_size), dtype=np.float64
    )


def predict_probabilities(
    model: keras.Model, images: np.ndarray, batch_size: int = 500
) -> np.ndarray:
    """Class probabilities (N, 10) as float64 for a batch of uint8 images, silently."""
    return np.asarray(
        model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64
    )
