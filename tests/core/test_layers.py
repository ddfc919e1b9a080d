"""FusedBatchNormalization against keras.layers.BatchNormalization: outputs, gradients, moving
statistics, float32 and mixed bfloat16, saving and safe-mode loading."""

from __future__ import annotations

import os

import numpy as np
import pytest

from cnnbook.core.backend import keras, tf
from cnnbook.core.layers import FusedBatchNormalization
from cnnbook.core.precision import bfloat16_support

RNG = np.random.default_rng(0)


def _pair(**options) -> tuple[keras.layers.Layer, keras.layers.Layer]:
    """A stock and a fused layer with the same options and the same (random) weights."""
    stock = keras.layers.BatchNormalization(**options)
    fused = FusedBatchNormalization(**options)
    shape = (8, 6, 5, 4)
    stock.build(shape)
    fused.build(shape)
    weights = [RNG.normal(size=w.shape).astype("float32") for w in stock.weights]
    weights[-1] = np.abs(weights[-1]) + 0.5  # a variance is positive
    stock.set_weights(weights)
    fused.set_weights(weights)
    return stock, fused


@pytest.mark.parametrize(
    "options", [{}, {"scale": False}, {"center": False, "momentum": 0.9}]
)
@pytest.mark.parametrize("training", [True, False])
def test_same_outputs_gradients_and_moving_statistics_as_keras(options, training):
    stock, fused = _pair(**options)
    x = tf.constant(RNG.normal(2.0, 3.0, size=(8, 6, 5, 4)).astype("float32"))
    weights = tf.constant(
        RNG.normal(size=(8, 6, 5, 4)).astype("float32")
    )  # a generic loss
    results = []
    for layer in (stock, fused):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=training)
            loss = tf.reduce_sum(y * weights)
        grads = tape.gradient(loss, [x] + layer.trainable_weights)
        results.append(
            (y.numpy(), [g.numpy() for g in grads], [w.numpy() for w in layer.weights])
        )
    (y1, g1, w1), (y2, g2, w2) = results
    np.testing.assert_allclose(y2, y1, rtol=1e-5, atol=1e-5)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4)
    for a, b in zip(w1, w2):  # moving mean and (biased) variance updated alike
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(
    not bfloat16_support()[0] and bool(os.environ.get("ONEDNN_MAX_CPU_ISA")),
    reason="ONEDNN_MAX_CPU_ISA keeps oneDNN from bfloat16 kernels (an emulated AVX2 machine)",
)
def test_mixed_bfloat16_matches_within_bfloat16_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        stock, fused = _pair()
        x = tf.constant(RNG.normal(size=(8, 6, 5, 4)), dtype="bfloat16")
        y1, y2 = stock(x, training=True), fused(x, training=True)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert y2.dtype == tf.bfloat16
    np.testing.assert_allclose(np.float32(y2), np.float32(y1), atol=0.05)
    np.testing.assert_allclose(
        fused.moving_mean.numpy(), stock.moving_mean.numpy(), atol=1e-2
    )


def test_two_dimensional_inputs_use_the_stock_path():
    stock = keras.layers.BatchNormalization()
    fused = FusedBatchNormalization()
    x = tf.constant(RNG.normal(size=(16, 3)).astype("float32"))
    np.testing.assert_allclose(
        fused(x, training=True).numpy(), stock(x, training=True).numpy(), atol=1e-6
    )


def test_saved_model_loads_in_safe_mode(tmp_path):
    inputs = keras.Input((6, 5, 4))
    model = keras.Model(inputs, FusedBatchNormalization(name="bn")(inputs))
    model.get_layer("bn").set_weights(
        [
            np.full(4, 2.0, "float32"),
            np.ones(4, "float32"),
            np.zeros(4, "float32"),
            np.ones(4, "float32"),
        ]
    )
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded.get_layer("bn"), FusedBatchNormalization)
    x = RNG.normal(size=(2, 6, 5, 4)).astype("float32")
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)
