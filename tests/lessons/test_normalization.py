"""NumPy BatchNorm against keras.layers.BatchNormalization in both modes and its moving statistics."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnbook.lessons.normalization import (
    EPSILON,
    MOMENTUM,
    NumpyBatchNorm,
    batchnorm_inference,
    batchnorm_train,
    update_moving_stats,
)

SHAPES = [(6, 5, 4, 3), (8, 7)]  # a 4-D conv activation and a 2-D dense one
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _batches(shape: tuple[int, ...], count: int, seed: int) -> list[np.ndarray]:
    """Float32 batches with per-channel offsets and scales (so the statistics matter)."""
    rng = np.random.default_rng(seed)
    channels = shape[-1]
    shift, scale = rng.uniform(-3, 3, channels), rng.uniform(0.5, 3, channels)
    return [
        (rng.normal(size=shape) * scale + shift).astype(np.float32)
        for _ in range(count)
    ]


def _keras_layer(channels: int, ndim: int, momentum: float, seed: int):
    """A built Keras BatchNormalization with non-trivial gamma and beta; returns (layer, gamma, beta)."""
    rng = np.random.default_rng(seed)
    gamma, beta = rng.uniform(0.5, 2.0, channels), rng.uniform(-1.0, 1.0, channels)
    layer = keras.layers.BatchNormalization(momentum=momentum)
    layer.build((None,) * (ndim - 1) + (channels,))
    layer.gamma.assign(gamma.astype(np.float32))
    layer.beta.assign(beta.astype(np.float32))
    return (
        layer,
        gamma.astype(np.float32).astype(np.float64),
        beta.astype(np.float32).astype(np.float64),
    )


def test_defaults_equal_keras():
    layer = keras.layers.BatchNormalization()
    assert layer.epsilon == EPSILON and layer.momentum == MOMENTUM


@pytest.mark.parametrize("shape", SHAPES)
def test_train_mode_matches_keras(shape):
    (x,) = _batches(shape, 1, seed=0)
    layer, gamma, beta = _keras_layer(shape[-1], len(shape), MOMENTUM, seed=1)
    y, mean, var = batchnorm_train(x, gamma, beta)
    np.testing.assert_allclose(y, np.asarray(layer(x, training=True)), **TOL)
    axes = tuple(range(len(shape) - 1))
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(axis=axes), **TOL)


@pytest.mark.parametrize("momentum", [MOMENTUM, 0.5])
@pytest.mark.parametrize("shape", SHAPES)
def test_moving_stats_and_inference_match_keras(shape, momentum):
    batches = _batches(shape, 5, seed=2)
    layer, gamma, beta = _keras_layer(shape[-1], len(shape), momentum, seed=3)
    bn = NumpyBatchNorm(shape[-1], gamma=gamma, beta=beta, momentum=momentum)
    for x in batches:
        np.testing.assert_allclose(
            bn.train_step(x), np.asarray(layer(x, training=True)), **TOL
        )
    np.testing.assert_allclose(bn.moving_mean, np.asarray(layer.moving_mean), **TOL)
    np.testing.assert_allclose(bn.moving_var, np.asarray(layer.moving_variance), **TOL)
    test_x = _batches(shape, 1, seed=4)[0]
    want = np.asarray(layer(test_x, training=False))
    np.testing.assert_allclose(bn.infer(test_x), want, **TOL)
    y = batchnorm_inference(test_x, gamma, beta, bn.moving_mean, bn.moving_var)
    np.testing.assert_allclose(y, want, **TOL)


def test_keras_moving_variance_is_the_biased_one():
    (x,) = _batches((4, 3), 1, seed=5)  # small batch: m/(m-1) = 4/3 would show
    layer = keras.layers.BatchNormalization(momentum=0.0)  # moving stats = last batch's
    layer(x, training=True)
    np.testing.assert_allclose(
        np.asarray(layer.moving_variance), x.astype(np.float64).var(axis=0), **TOL
    )
    assert not np.allclose(
        np.asarray(layer.moving_variance),
        x.astype(np.float64).var(axis=0, ddof=1),
        **TOL,
    )
    _, _, var = batchnorm_train(x, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(var, x.astype(np.float64).var(axis=0), rtol=1e-12)


def test_hand_worked_example():
    x = np.array([[1.0], [3.0]])  # mean 2, biased variance 1
    y, mean, var = batchnorm_train(x, gamma=np.array([2.0]), beta=np.array([0.5]))
    np.testing.assert_allclose(
        y[:, 0], [0.5 - 2 / np.sqrt(1 + 1e-3), 0.5 + 2 / np.sqrt(1 + 1e-3)]
    )
    assert mean[0] == 2.0 and var[0] == 1.0
    new_mean, new_var = update_moving_stats(
        np.array([0.0]), np.array([1.0]), mean, var, momentum=0.9
    )
    np.testing.assert_allclose([new_mean[0], new_var[0]], [0.2, 1.0])
    y = batchnorm_inference(
        x, np.ones(1), np.zeros(1), np.array([1.0]), np.array([4.0]), eps=1e-12
    )
    np.testing.assert_allclose(y[:, 0], [0.0, 1.0])  # (x - 1) / 2


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="shape"):
        batchnorm_train(np.zeros((4, 3)), np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="batch axis"):
        batchnorm_train(np.zeros(3), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="momentum"):
        update_moving_stats(
            np.zeros(1), np.ones(1), np.zeros(1), np.ones(1), momentum=1.5
        )
    with pytest.raises(ValueError, match="eps"):
        batchnorm_inference(
            np.zeros((2, 1)), np.ones(1), np.zeros(1), np.zeros(1), np.ones(1), eps=0.0
        )
