"""Activations and derivatives against TensorFlow, and the vanishing-gradient experiment."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tensorflow as tf

from cnnbook.lessons.activations import (
    ACTIVATIONS,
    build_deep_stack,
    gradient_flow_experiment,
    gradient_norms_by_depth,
)

TF_FUNCS = {"relu": tf.nn.relu, "sigmoid": tf.math.sigmoid, "tanh": tf.math.tanh}
POINTS = np.array([-800.0, -30.0, -3.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 2.0, 30.0, 800.0])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_values_match_tensorflow(name):
    fn, _ = ACTIVATIONS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings for large |x|
        got = fn(POINTS)
    np.testing.assert_allclose(
        got, TF_FUNCS[name](tf.constant(POINTS)).numpy(), rtol=1e-12, atol=1e-300
    )


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_derivatives_match_gradient_tape(name):
    _, grad = ACTIVATIONS[name]
    x = tf.constant(POINTS)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = TF_FUNCS[name](x)
    want = tape.gradient(y, x).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = grad(POINTS)
    np.testing.assert_allclose(
        got, want, rtol=1e-10, atol=1e-15
    )  # TF loses digits where s(x) ~ 1


def test_sigmoid_grad_is_accurate_in_the_tails():
    exact = (
        np.exp(-np.abs(POINTS)) / (1 + np.exp(-np.abs(POINTS))) ** 2
    )  # s'(x) = e^-|x| / (1 + e^-|x|)^2
    np.testing.assert_allclose(
        ACTIVATIONS["sigmoid"][1](POINTS), exact, rtol=1e-12, atol=0
    )


def test_known_values():
    relu, relu_grad = ACTIVATIONS["relu"]
    sigmoid, sigmoid_grad = ACTIVATIONS["sigmoid"]
    np.testing.assert_array_equal(relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(
        relu_grad(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 1.0]
    )
    assert sigmoid(np.array(0.0)) == 0.5 and sigmoid_grad(np.array(0.0)) == 0.25
    assert ACTIVATIONS["tanh"][1](np.array(0.0)) == 1.0


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """A small random float batch (16 images of 8x8x3)."""
    return np.random.default_rng(1).random((16, 8, 8, 3)).astype(np.float32)


def test_sigmoid_gradients_vanish_relu_ones_do_not(images):
    norms = gradient_flow_experiment(images, depth=10, seed=0)
    sig, relu = norms["sigmoid"], norms["relu"]
    assert sig.shape == relu.shape == (10,)
    assert np.all(np.isfinite(sig)) and np.all(sig > 0) and np.all(relu > 0)
    assert sig[0] < 1e-3 * sig[-1]  # orders of magnitude smaller at the first layer
    assert sig[0] < 1e-3 * relu[0]
    assert 0.1 < relu[0] / relu[-1] < 10  # ReLU keeps the same order of magnitude


def _numpy_norms(
    model, x: np.ndarray, y: np.ndarray, activation: str, depth: int
) -> np.ndarray:
    """Backpropagation by hand in NumPy through the same weights (the independent reference)."""
    fn, grad = ACTIVATIONS[activation]
    weights = [model.get_layer(f"hidden{i + 1}").get_weights() for i in range(depth)]
    head_w, head_b = model.get_layer("head").get_weights()
    inputs, pre = [x.reshape(len(x), -1).astype(np.float64)], []
    for w, b in weights:
        pre.append(inputs[-1] @ w + b)
        inputs.append(fn(pre[-1]))
    logits = inputs[-1] @ head_w + head_b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = (
        (p - np.eye(10)[y]) / len(x) @ head_w.T
    )  # dL/d(output of the last hidden layer)
    norms = []
    for i in reversed(range(depth)):
        delta = delta * grad(pre[i])
        norms.append(np.linalg.norm(inputs[i].T @ delta))
        delta = delta @ weights[i][0].T
    return np.array(norms[::-1])


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
def test_norms_match_numpy_backprop(images, activation):
    labels = np.arange(len(images)) % 10
    got = gradient_norms_by_depth(
        activation, images, depth=3, width=16, seed=5, labels=labels
    )
    model = build_deep_stack(
        images.shape[1:], activation, depth=3, width=16, seed=5
    )  # same seeded init
    np.testing.assert_allclose(
        got, _numpy_norms(model, images, labels, activation, 3), rtol=1e-4
    )


def test_random_labels_are_reproducible_and_uint8_is_scaled(images):
    a = gradient_norms_by_depth("relu", images, depth=2, width=8, seed=3)
    b = gradient_norms_by_depth("relu", images, depth=2, width=8, seed=3)
    np.testing.assert_array_equal(a, b)
    pixels = np.random.default_rng(2).integers(0, 256, (4, 4, 4, 3), dtype=np.uint8)
    np.testing.assert_allclose(
        gradient_norms_by_depth("tanh", pixels, depth=2, width=8, labels=[0, 1, 2, 3]),
        gradient_norms_by_depth(
            "tanh",
            pixels.astype(np.float32) / 255,
            depth=2,
            width=8,
            labels=[0, 1, 2, 3],
        ),
        rtol=1e-6,
    )


def test_bad_arguments_raise(images):
    with pytest.raises(ValueError, match="unknown activation"):
        gradient_flow_experiment(images, activations=("swish",))
    with pytest.raises(ValueError, match="labels"):
        gradient_norms_by_depth(
            "relu", images, depth=2, labels=np.full(len(images), 10)
        )
    with pytest.raises(ValueError, match="depth"):
        gradient_norms_by_depth("relu", images, depth=0)


def test_batchnorm_stack_puts_batchnorm_before_each_activation_and_keeps_gradients_alive():
    from cnnbook.lessons.activations import build_deep_stack, gradient_norms_by_depth

    model = build_deep_stack(
        (4, 4, 3), "sigmoid", depth=3, width=8, seed=0, batchnorm=True
    )
    kinds = [type(layer).__name__ for layer in model.layers[2:-1]]
    assert kinds == ["Dense", "BatchNormalization", "Activation"] * 3
    x = np.random.default_rng(0).integers(0, 256, size=(64, 8, 8, 3), dtype=np.uint8)
    plain = gradient_norms_by_depth("sigmoid", x, depth=12, width=32)
    normed = gradient_norms_by_depth("sigmoid", x, depth=12, width=32, batchnorm=True)
    assert plain[1] / plain[-1] < 1e-3  # vanishes without BatchNorm
    assert normed[1] / normed[-1] > 100 * plain[1] / plain[-1]  # far less with it
