"""Grad-CAM against the closed-form CAM, gradients against finite differences, and sanity checks."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnbook.lessons import gradcam as vis
from cnnbook.core.metrics import layer_outputs, model_logits
from cnnbook.core.models import build_model

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 1, size=(4, 8, 8, 3)).astype("float32")


def _cam_model(head: str, seed: int = 0) -> keras.Model:
    """conv(ReLU) -> global average pooling -> Dense(10) scores, with three ways to end in softmax."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv")(
        inputs
    )
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    if head == "dense_softmax":
        return keras.Model(
            inputs, keras.layers.Dense(10, activation="softmax", name="fc")(x)
        )
    scores = keras.layers.Dense(10, name="logits" if head == "logits" else "fc")(x)
    return keras.Model(
        inputs, keras.layers.Activation("softmax", name="probabilities")(scores)
    )


def _closed_form_cam(
    model: keras.Model, images: np.ndarray, classes: np.ndarray
) -> np.ndarray:
    """CAM of Zhou et al. 2016: ReLU(sum_k w_k^c A^k), normalized by its maximum."""
    a = layer_outputs(model, images, "conv").astype(np.float64)
    w = model.layers[
        -1 if isinstance(model.layers[-1], keras.layers.Dense) else -2
    ].get_weights()[0]
    cam = np.maximum(np.einsum("nhwk,kn->nhw", a, w[:, classes]), 0)
    return cam / cam.max(axis=(1, 2), keepdims=True)


@pytest.mark.parametrize("head", ["logits", "activation_softmax", "dense_softmax"])
def test_grad_cam_equals_closed_form_cam(head):
    model = _cam_model(head)
    predicted = model.predict(IMAGES, verbose=0).argmax(axis=1)
    np.testing.assert_allclose(
        vis.grad_cam(model, IMAGES),
        _closed_form_cam(model, IMAGES, predicted),
        atol=1e-5,
    )
    chosen = np.array([3, 0, 9, 5])
    np.testing.assert_allclose(
        vis.grad_cam(model, IMAGES, class_index=chosen, batch_size=3),
        _closed_form_cam(model, IMAGES, chosen),
        atol=1e-5,
    )


def test_gradients_are_of_the_pre_softmax_score():
    model = _cam_model("dense_softmax")
    _, grads = vis.score_gradients(model, IMAGES, class_index=2, layer_name="conv")
    w = model.layers[-1].get_weights()[0]
    expected = np.broadcast_to(
        w[:, 2] / 64.0, grads.shape
    )  # d y^c / d A^k_ij = w_k^c / (h w)
    np.testing.assert_allclose(grads, expected, rtol=1e-5, atol=1e-8)


def _fd_model() -> tuple[keras.Model, list]:
    """A float64 model with a smooth (tanh) non-linear head after the probed layer "conv"."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((6, 6, 2), dtype="float64")
    a = keras.layers.Conv2D(3, 3, padding="same", name="conv", dtype="float64")(inputs)
    head = [
        keras.layers.Activation("tanh", dtype="float64"),
        keras.layers.Conv2D(2, 3, activation="tanh", dtype="float64"),
        keras.layers.Flatten(dtype="float64"),
        keras.layers.Dense(10, name="logits", dtype="float64"),
    ]
    x = a
    for layer in head:
        x = layer(x)
    return keras.Model(
        inputs, keras.layers.Activation("softmax", dtype="float64")(x)
    ), head


def test_score_gradients_match_finite_differences():
    model, head = _fd_model()
    images = RNG.normal(size=(2, 6, 6, 2))

    def score(a: np.ndarray, n: int, c: int) -> float:
        x = a
        for layer in head:
            x = layer(x)
        return float(np.asarray(x)[n, c])

    a, grads = vis.score_gradients(model, images, class_index=7, layer_name="conv")
    eps = 1e-6
    for n, i, j, k in [
        (0, 0, 0, 0),
        (0, 2, 3, 1),
        (1, 5, 5, 2),
        (1, 3, 1, 0),
        (0, 4, 2, 2),
    ]:
        plus, minus = a.copy(), a.copy()
        plus[n, i, j, k] += eps
        minus[n, i, j, k] -= eps
        fd = (score(plus, n, 7) - score(minus, n, 7)) / (2 * eps)
        assert grads[n, i, j, k] == pytest.approx(fd, rel=1e-6, abs=1e-9)
    assert np.abs(grads).max() > 1e-3  # not trivially zero


def _clear_pool_maxima(a: np.ndarray, margin: float) -> np.ndarray:
    """Mask of positive 2x2-window maxima that beat the runner-up by ``margin`` (no max-pool kinks)."""
    n, h, w, k = a.shape
    r = a.reshape(n, h // 2, 2, w // 2, 2, k)
    top = r.max(axis=(2, 4), keepdims=True)
    runner_up = np.where(r == top, -np.inf, r).max(axis=(2, 4), keepdims=True)
    return ((r == top) & (top - runner_up > margin) & (top > 0)).reshape(a.shape)


def test_grad_cam_on_book_architecture_matches_directional_derivative():
    model = build_model("baseline", seed=0)
    images = RNG.integers(0, 256, size=(2, 32, 32, 3)).astype("uint8")
    layer = vis.last_conv_layer_name(model)
    assert (
        layer == "block3_2_relu"
        and vis.last_conv_layer_name(model, rectified=False) == "block3_2_conv"
    )
    maps = vis.grad_cam(model, images)
    assert (
        maps.shape == (2, 8, 8)
        and maps.min() >= 0
        and np.allclose(maps.max(axis=(1, 2)), 1.0)
    )
    a, grads = vis.score_gradients(model, images, class_index=4, layer_name=layer)
    np.testing.assert_allclose(
        a, layer_outputs(model, images, layer), rtol=1e-5, atol=1e-6
    )
    w1, b1 = model.get_layer("dense").get_weights()
    w2, b2 = model.get_layer("logits").get_weights()

    def score(x: np.ndarray) -> np.ndarray:
        """The model's tail in float64 numpy: 2x2 max-pool, flatten, dense, ReLU, logit 4."""
        n, h, w, k = x.shape
        pooled = x.reshape(n, h // 2, 2, w // 2, 2, k).max(axis=(2, 4)).reshape(n, -1)
        return (np.maximum(pooled @ w1 + b1, 0) @ w2 + b2)[:, 4]

    np.testing.assert_allclose(
        score(a), model_logits(model, images)[:, 4], rtol=1e-4, atol=1e-5
    )
    direction = RNG.normal(size=a.shape) * 1e-6 * _clear_pool_maxima(a, margin=1e-4)
    change = score(a + direction) - score(a - direction)
    predicted_change = 2 * np.sum(grads * direction, axis=(1, 2, 3))
    np.testing.assert_allclose(change, predicted_change, rtol=1e-4)


def test_grad_cam_on_batchnorm_model():
    model = build_model("batchnorm", seed=0)
    assert vis.last_conv_layer_name(model) == "block3_2_relu"
    maps = vis.grad_cam(
        model, RNG.integers(0, 256, size=(2, 32, 32, 3)).astype("uint8"), class_index=1
    )
    assert maps.shape == (2, 8, 8) and np.all((maps >= 0) & (maps <= 1))


def test_all_zero_map_stays_zero_and_bad_inputs_raise():
    model = _cam_model("logits")
    w, b = model.get_layer("logits").get_weights()
    model.get_layer("logits").set_weights(
        [-np.abs(w), b]
    )  # every score decreases with A >= 0
    assert np.all(vis.grad_cam(model, IMAGES, class_index=0) == 0.0)
    with pytest.raises(ValueError):
        vis.grad_cam(model, IMAGES, class_index=10)
    inputs = keras.Input((8, 8, 3))
    plain = keras.Model(
        inputs,
        keras.layers.Dense(3)(
            keras.layers.Flatten()(keras.layers.Conv2D(2, 3, name="conv")(inputs))
        ),
    )
    with pytest.raises(ValueError):
        vis.grad_cam(plain, IMAGES)


def test_activation_maps_match_pointwise_conv():
    keras.utils.set_random_seed(2)
    inputs = keras.Input((5, 5, 3))
    model = keras.Model(
        inputs, keras.layers.Conv2D(4, 1, activation="relu", name="pw")(inputs)
    )
    w, b = model.get_layer("pw").get_weights()
    x = RNG.normal(size=(3, 5, 5, 3)).astype("float32")
    expected = np.maximum(np.einsum("nhwc,ck->nhwk", x, w[0, 0]) + b, 0)
    np.testing.assert_allclose(
        layer_outputs(model, x, "pw"), expected, rtol=1e-5, atol=1e-6
    )


def test_upsample_heatmap_is_half_pixel_bilinear():
    row = np.array([[0.0, 1.0], [0.0, 1.0]])
    up = vis.upsample_heatmap(row, size=(4, 4))
    np.testing.assert_allclose(up, np.tile([0.0, 0.25, 0.75, 1.0], (4, 1)), atol=1e-6)
    batch = vis.upsample_heatmap(np.stack([row, np.full((2, 2), 0.3)]), size=(32, 32))
    assert batch.shape == (2, 32, 32)
    np.testing.assert_allclose(batch[1], 0.3, atol=1e-6)


def test_randomize_weights_is_seeded_and_changes_maps():
    model = _cam_model("logits", seed=0)
    original = [w.copy() for w in model.get_weights()]
    rand_a, rand_b = (
        vis.randomize_weights(model, seed=3),
        vis.randomize_weights(model, seed=3),
    )
    other = vis.randomize_weights(model, seed=4)
    assert [layer.name for layer in rand_a.layers[1:]] == [
        layer.name for layer in model.layers[1:]
    ]
    for w0, wa, wb, wo in zip(
        model.get_weights(),
        rand_a.get_weights(),
        rand_b.get_weights(),
        other.get_weights(),
    ):
        np.testing.assert_array_equal(wa, wb)
        if w0.ndim > 1:  # kernels (biases re-initialize to zero)
            assert not np.allclose(wa, w0) and not np.allclose(wa, wo)
    for w0, w in zip(original, model.get_weights()):
        np.testing.assert_array_equal(w0, w)  # the original is untouched
    images = RNG.uniform(0, 1, size=(8, 8, 8, 3)).astype("float32")
    before = vis.grad_cam(model, images, class_index=0)
    after = vis.grad_cam(rand_a, images, class_index=0)
    corr = np.corrcoef(before.ravel(), after.ravel())[0, 1]
    assert corr < 0.9 or np.mean(np.abs(before - after)) > 0.2


def test_heatmap_correlation_matches_numpy_corrcoef():
    rng = np.random.default_rng(5)
    a, b = rng.uniform(size=(3, 6, 6)), rng.uniform(size=(3, 6, 6))
    b[1] = 2 * a[1] + 1
    expected = [np.corrcoef(a[i].ravel(), b[i].ravel())[0, 1] for i in range(3)]
    np.testing.assert_allclose(vis.heatmap_correlation(a, b), expected)
    assert vis.heatmap_correlation(a[1:2], b[1:2])[0] == pytest.approx(1.0)
    assert np.isnan(vis.heatmap_correlation(np.zeros((1, 4, 4)), a[:1, :4, :4])[0])
