"""The fast model: the whitening kernel whitens (checked through TensorFlow's convolution), the
identity initialisation passes inputs through, the tanh GELU is close to x * Phi(x), parameter
counts follow the formula, and a saved model loads in safe mode."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from cnnbook.core.backend import keras, tf
from cnnbook.airbench.hyp import BN_EPSILON, CIFAR_MEAN, CIFAR_STD
from cnnbook.airbench.net import (
    build_fast_model,
    normalize_images,
    set_whitening,
    whitening_kernel,
)
from cnnbook.core.layers import gelu

RNG = np.random.default_rng(0)


def _correlated_images(n: int = 200) -> np.ndarray:
    """Smooth random images: neighbouring pixels and channels strongly correlated."""
    base = RNG.normal(size=(n, 9, 9, 1))
    smooth = (
        base[:, :-1, :-1] + base[:, 1:, :-1] + base[:, :-1, 1:] + base[:, 1:, 1:]
    ) / 2
    colour = smooth * np.array([1.0, 0.8, 0.6]) + 0.3 * RNG.normal(size=(n, 8, 8, 3))
    return colour.astype(np.float32)


def test_whitening_kernel_makes_patch_features_uncorrelated_with_unit_variance():
    images = _correlated_images()
    kernel = whitening_kernel(images, eps=1e-12)
    assert kernel.shape == (2, 2, 3, 24)
    out = tf.nn.conv2d(images, kernel[..., :12], strides=1, padding="VALID").numpy()
    features = out.reshape(-1, 12).astype(np.float64)
    covariance = features.T @ features / len(features)
    np.testing.assert_allclose(covariance, np.eye(12), atol=1e-3)
    np.testing.assert_array_equal(kernel[..., 12:], -kernel[..., :12])


def test_whitening_orders_filters_by_decreasing_variance_before_scaling():
    images = _correlated_images()
    kernel = whitening_kernel(
        images, eps=1.0
    )  # a large eps keeps the variances visible
    out = tf.nn.conv2d(images, kernel[..., :12], strides=1, padding="VALID").numpy()
    variances = (out.reshape(-1, 12) ** 2).mean(axis=0)
    assert np.all(np.diff(variances) < 1e-6)


def test_normalize_images_matches_the_published_statistics():
    x = np.array([[[[0, 128, 255]]]], dtype=np.uint8)
    expected = (np.array([0, 128, 255]) / 255 - np.array(CIFAR_MEAN)) / np.array(
        CIFAR_STD
    )
    np.testing.assert_allclose(normalize_images(x)[0, 0, 0], expected, rtol=1e-5)


def test_normalize_images_is_what_the_model_computes_first():
    model = build_fast_model("fast_short", seed=0, widths=(8, 8, 8))
    first = keras.Model(model.inputs, model.get_layer("normalize").output)
    x = RNG.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(
        first.predict(x, verbose=0), normalize_images(x), atol=1e-5
    )


def test_tanh_gelu_is_within_a_thousandth_of_the_exact_one():
    x = np.linspace(-6, 6, 1001).astype(np.float32)
    exact = x * norm.cdf(x)
    assert np.max(np.abs(np.asarray(gelu(x)) - exact)) < 1e-3


def test_identity_initialisation_passes_the_inputs_through():
    model = build_fast_model("fast_short", seed=0, widths=(8, 16, 16))
    conv = model.get_layer("block2_conv1")  # 8 channels in, 16 out
    x = RNG.normal(size=(2, 5, 5, 8)).astype(np.float32)
    y = conv(x).numpy()
    np.testing.assert_allclose(y[..., :8], x, atol=1e-6)
    assert np.abs(y[..., 8:]).max() > 0


def _expected_params(widths: tuple[int, ...], whitening: bool = True) -> int:
    """Trainable parameters by formula: conv kernels, BatchNorm offsets, whitening bias, head."""
    c_in, total = (24, 24) if whitening else (3, 0)
    for width in widths:
        total += 9 * c_in * width + 9 * width * width + 2 * width
        c_in = width
    return total + widths[-1] * 10


@pytest.mark.parametrize("name", ["fast", "fast_short"])
def test_parameter_counts_follow_the_formula(name):
    model = build_fast_model(name, seed=0)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    whiten_kernel = (
        2 * 2 * 3 * 24
    )  # trainable as a Keras weight, frozen by the training loop
    widths = {"fast": (64, 256, 256), "fast_short": (64, 128, 128)}[name]
    assert trainable - whiten_kernel == _expected_params(widths)
    assert model.output_shape == (None, 10)
    assert model.get_layer("logits").output.shape == (None, 10)


def test_set_whitening_then_save_and_load_in_safe_mode(tmp_path):
    images = RNG.integers(0, 256, size=(40, 32, 32, 3), dtype=np.uint8)
    model = build_fast_model("fast_short", seed=0, widths=(8, 8, 8))
    set_whitening(model, images)
    np.testing.assert_allclose(
        model.get_layer("whiten").kernel.numpy(),
        whitening_kernel(normalize_images(images)),
        rtol=1e-5,
    )
    path = tmp_path / "fast.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        loaded.predict(images[:4], verbose=0),
        model.predict(images[:4], verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


def test_batchnorm_uses_airbenchs_epsilon_of_1e12():
    """TensorFlow's fused kernel honours epsilon = 1e-12 (no clamp to 1e-5): a channel of variance
    1e-8 normalizes to unit variance, which an epsilon of 1e-5 would shrink 30-fold."""
    model = build_fast_model("fast_short", seed=0, widths=(4, 4, 4))
    layer = model.get_layer("block1_1_bn")
    assert layer.epsilon == BN_EPSILON == 1e-12
    x = tf.constant(RNG.normal(size=(8, 4, 4, 4)).astype(np.float32) * 1e-4)
    y = layer(x, training=True).numpy()
    assert np.std(y, axis=(0, 1, 2)) == pytest.approx(np.ones(4), rel=1e-3)
