"""cnnbook.core.metrics: softmax, accuracy, cross-entropy and layer outputs against direct computations."""

from __future__ import annotations

import numpy as np
import pytest

from cnnbook.core import metrics as cal


def test_softmax_stable_and_matches_naive():
    z = np.array([[1.0, 2.0, 3.0], [1e4, 0.0, -1e4]])
    p = cal.softmax(z)
    naive = np.exp(z[0]) / np.exp(z[0]).sum()
    np.testing.assert_allclose(p[0], naive, rtol=1e-12)
    np.testing.assert_allclose(p[1], [1.0, 0.0, 0.0])
    assert np.all(np.isfinite(cal.log_softmax(z)))


def test_model_logits_match_log_of_probabilities():
    from cnnbook.core.backend import keras

    inputs = keras.Input((4,))
    logits = keras.layers.Dense(3, name="logits")(inputs)
    model = keras.Model(
        inputs, keras.layers.Activation("softmax", name="probabilities")(logits)
    )
    x = np.random.default_rng(0).normal(size=(7, 4)).astype("float32")
    z = cal.model_logits(model, x)
    w, b = model.get_layer("logits").get_weights()
    np.testing.assert_allclose(z, x @ w + b, rtol=1e-5, atol=1e-5)
    assert z.dtype == np.float64
    with pytest.raises(ValueError):
        cal.model_logits(
            keras.Model(inputs, keras.layers.Dense(2, name="other")(inputs)), x
        )


def test_layer_outputs_are_the_named_layer():
    from cnnbook.core.backend import keras

    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(5, activation="relu", name="hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="logits")(hidden))
    x = np.random.default_rng(1).normal(size=(6, 4)).astype("float32")
    w, b = model.get_layer("hidden").get_weights()
    np.testing.assert_allclose(
        cal.layer_outputs(model, x, "hidden"),
        np.maximum(x @ w + b, 0),
        rtol=1e-5,
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="no layer named"):
        cal.layer_outputs(model, x, "missing")
