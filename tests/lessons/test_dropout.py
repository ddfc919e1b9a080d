"""Inverted dropout: statistics with a fixed seed, identity at inference, Keras's semantics."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnbook.lessons.dropout import dropout, dropout_mask

N = 200_000
# With n = 200 000 draws the dropped fraction has std sqrt(p(1-p)/n) < 0.0012: 0.005 is > 4 std.
FRACTION_TOL = 0.005
# The mean of x*mask/(1-p) for x = 1 has std sqrt(p/(1-p)/n) < 0.0023 for p <= 0.5: 0.01 is > 4 std.
MEAN_TOL = 0.01


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5])
def test_dropped_fraction_and_mean(rate):
    x = np.ones(N, dtype=np.float32)
    out, mask = dropout(
        x, rate, training=True, rng=np.random.default_rng(0), return_mask=True
    )
    assert abs(np.mean(out == 0) - rate) < FRACTION_TOL
    assert abs(out.mean() - 1.0) < MEAN_TOL
    np.testing.assert_allclose(
        out[mask], 1.0 / (1.0 - rate), rtol=1e-6
    )  # kept entries are scaled up
    np.testing.assert_array_equal(out[~mask], 0.0)


def test_output_is_x_times_mask_over_keep_probability():
    x = np.random.default_rng(1).normal(size=(4, 5, 6))
    out, mask = dropout(
        x, 0.25, training=True, rng=np.random.default_rng(2), return_mask=True
    )
    np.testing.assert_allclose(out, x * mask / 0.75)
    again = dropout(x, 0.25, training=True, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(out, again)  # same seed, same mask
    np.testing.assert_array_equal(
        dropout_mask(x.shape, 0.25, np.random.default_rng(2)), mask
    )


@pytest.mark.parametrize("rate", [0.0, 0.5, 0.9])
def test_identity_at_inference(rate):
    x = np.random.default_rng(3).normal(size=(3, 7))
    out, mask = dropout(
        x, rate, training=False, rng=np.random.default_rng(0), return_mask=True
    )
    np.testing.assert_array_equal(out, x)
    assert mask.all()
    np.testing.assert_array_equal(
        dropout(x, 0.0, training=True), x
    )  # rate 0 drops nothing


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_same_semantics_as_keras(rate):
    x = (
        np.random.default_rng(4).uniform(0.5, 2.0, size=(N,)).astype(np.float32)
    )  # no zeros in x
    keras_out = np.asarray(keras.layers.Dropout(rate, seed=7)(x, training=True))
    kept = keras_out != 0
    np.testing.assert_allclose(keras_out[kept], x[kept] / (1 - rate), rtol=1e-6)
    keras_zero = 1 - kept.mean()
    ours = dropout(x, rate, training=True, rng=np.random.default_rng(7))
    assert (
        abs(keras_zero - rate) < FRACTION_TOL
        and abs(np.mean(ours == 0) - rate) < FRACTION_TOL
    )
    assert (
        abs(keras_out.mean() - ours.mean()) < 2 * MEAN_TOL
    )  # both preserve the mean of x
    np.testing.assert_array_equal(
        np.asarray(keras.layers.Dropout(rate)(x, training=False)), x
    )


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5", True, None])
def test_invalid_rate_raises(rate):
    with pytest.raises(ValueError, match="rate"):
        dropout(np.ones(3), rate, training=True, rng=np.random.default_rng(0))


def test_keras_dropout_wrapper_is_the_keras_layer() -> None:
    from cnnbook.lessons.dropout import keras_dropout

    x = np.ones((50, 200), dtype=np.float32)
    out = keras_dropout(x, rate=0.25, seed=3)
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.75], rtol=1e-6)
    assert abs(np.mean(out == 0) - 0.25) < 0.02
    np.testing.assert_array_equal(keras_dropout(x, rate=0.25, training=False), x)
