"""airbench's training (cnnbook.airbench.train): the schedule, the decoupled hyper-parameters, the
smoothed loss, the SGD rule over a whole schedule against PyTorch's rule written out in NumPy, and the
lookahead's timing and arithmetic. Kill and resume: tests/core/test_faults.py (every recipe)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnbook.airbench.hyp import FastRecipe
from cnnbook.airbench.train import (
    AirbenchSession,
    NesterovSGD,
    lookahead_decays,
    sgd_settings,
    smoothed_loss,
    total_steps,
    triangle,
)
from cnnbook.core.backend import keras, tf
from cnnbook.core.data import Splits

RNG = np.random.default_rng(0)


def test_triangle_rises_linearly_to_one_then_falls():
    schedule = triangle(100)
    assert len(schedule) == 101
    assert schedule[0] == pytest.approx(0.2) and schedule[23] == pytest.approx(1.0)
    assert schedule[100] == pytest.approx(0.07)
    assert schedule[10] == pytest.approx(0.2 + 0.8 * 10 / 23)
    assert schedule[60] == pytest.approx(1.0 - 0.93 * 37 / 77)


def test_sgd_settings_are_airbench_numbers():
    settings = sgd_settings(FastRecipe())
    scale = 1024 * (1 + 1 / (1 - 0.85))
    assert settings["lr"] == pytest.approx(11.5 / scale)
    assert settings["lr_bias"] == pytest.approx(64 * 11.5 / scale)
    assert settings["lr"] * settings["wd_per_lr"] == pytest.approx(
        0.0153 * 1024 / scale
    )
    assert settings["lr_bias"] * settings["wd_per_lr_bias"] == pytest.approx(
        0.0153 * 1024 / scale
    )


def test_smoothed_loss_is_cross_entropy_against_the_mixed_target():
    logits = RNG.normal(size=(5, 10)).astype(np.float32)
    labels = RNG.integers(0, 10, size=5)
    target = np.full((5, 10), 0.2 / 10)
    target[np.arange(5), labels] += 0.8
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -(target * log_probs).sum(axis=1)
    assert float(smoothed_loss(labels, logits, 0.2, total=True)) == pytest.approx(
        expected.sum(), rel=1e-5
    )
    assert float(smoothed_loss(labels, logits, 0.2, total=False)) == pytest.approx(
        expected.mean(), rel=1e-5
    )


def test_lookahead_decays_rise_cubically_to_their_base():
    decays = lookahead_decays(100, FastRecipe())
    assert len(decays) == 101 and decays[0] == 0
    assert decays[100] == pytest.approx(0.95**5)
    assert decays[50] == pytest.approx(0.95**5 / 8)


def test_total_steps_drop_the_partial_batch_and_round_the_epochs_up():
    assert total_steps(45000, FastRecipe(epochs=9.9)) == int(np.ceil(43 * 9.9))


def _pytorch_nesterov(
    weights: np.ndarray,
    grads: list[np.ndarray],
    lrs: np.ndarray,
    momentum: float,
    weight_decay: float,
) -> list[np.ndarray]:
    """torch.optim.SGD(nesterov=True) as its documentation states it, step by step, in float64."""
    w, buffer, path = weights.astype(np.float64), None, []
    for g, lr in zip(grads, lrs):
        g = g + weight_decay * w
        buffer = g.copy() if buffer is None else momentum * buffer + g
        w = w - lr * (g + momentum * buffer)
        path.append(w.copy())
    return path


def test_the_sgd_rule_is_pytorchs_over_a_whole_schedule():
    steps, lr, wd, mu = 60, 0.05, 0.3, 0.85
    factors = triangle(steps)[
        :steps
    ]  # a learning rate that changes every step, as in a run
    start = RNG.normal(size=(3, 4)).astype(np.float32)
    grads = [RNG.normal(size=(3, 4)).astype(np.float32) for _ in range(steps)]
    weight = tf.Variable(start)
    sgd = NesterovSGD({"all": ([weight], lr, wd)}, mu)
    ours = []
    for g, factor in zip(grads, factors):
        sgd.apply("all", [tf.constant(g)], tf.constant(factor, "float32"))
        ours.append(weight.numpy().copy())
    reference = _pytorch_nesterov(start, grads, lr * factors, mu, wd)
    for step, (a, b) in enumerate(zip(ours, reference)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"step {step}")


def test_keras_sgd_is_not_that_rule_once_the_learning_rate_changes():
    """Why NesterovSGD exists: Keras' SGD keeps lr x velocity (the deviation it removed)."""
    steps, lr, mu = 60, 0.05, 0.85
    factors = triangle(steps)[:steps]
    start = RNG.normal(size=(3, 4)).astype(np.float32)
    grads = [RNG.normal(size=(3, 4)).astype(np.float32) for _ in range(steps)]
    weight = tf.Variable(start)
    keras_sgd = keras.optimizers.SGD(lr, momentum=mu, nesterov=True)
    for g, factor in zip(grads, factors):
        keras_sgd.learning_rate.assign(lr * factor)
        keras_sgd.apply_gradients([(tf.constant(g), weight)])
    reference = _pytorch_nesterov(start, grads, lr * factors, mu, 0.0)[-1]
    assert np.max(np.abs(weight.numpy() - reference)) > 1e-3


def _splits(n: int = 64) -> Splits:
    """Random images and labels (the session only needs the shapes to be right)."""
    x = RNG.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    y = RNG.integers(0, 10, size=n)
    return Splits(
        x, y, x[:16], y[:16], x[:16], y[:16], tuple("abcdefghij"), "synthetic"
    )


def _tiny_session(**change) -> AirbenchSession:
    """A small fast_short session in float32."""
    keras.mixed_precision.set_global_policy("float32")
    recipe = FastRecipe(
        "fast_short",
        epochs=3,
        batch_size=16,
        widths=(4, 4, 4),
        mixed_precision=False,
        **change,
    )
    return AirbenchSession(recipe, _splits())


def test_lookahead_every_fifth_step_and_the_average_once_after_the_last():
    session = _tiny_session()
    calls = []
    session.lookahead_fn = lambda decay: calls.append(float(decay))
    for step in range(1, session.steps + 1):
        session._maybe_lookahead(step)
    fifth = [s for s in range(1, session.steps + 1) if s % 5 == 0]
    expected = [float(np.float32(session.decays[s])) for s in fifth] + [1.0]
    assert session.steps == 12 and calls == pytest.approx(expected)


def test_lookahead_moves_the_average_then_copies_it_into_the_weights():
    session = _tiny_session()
    kernel = session.model.get_layer("head").kernel
    start = kernel.numpy()
    kernel.assign(start + 1.0)
    session.lookahead_fn(
        tf.constant(0.75)
    )  # the average (the start) moves 1/4 of the way
    np.testing.assert_allclose(kernel.numpy(), start + 0.25, rtol=1e-6)
    kernel.assign(start + 5.0)
    session.lookahead_fn(tf.constant(1.0))  # decay 1: the weights become the average
    np.testing.assert_allclose(kernel.numpy(), start + 0.25, rtol=1e-6)


def test_one_epoch_steps_every_group_and_reports_its_images():
    session = _tiny_session()
    progress = {"session": session.initial_state()}
    before = [v.numpy().copy() for v in session.model.trainable_variables]
    row = session.train_epoch(0, progress)
    assert progress["session"]["steps_done"] == 4 and row["images"] == 64
    moved = [
        not np.array_equal(b, v.numpy())
        for b, v in zip(before, session.model.trainable_variables)
    ]
    frozen = [
        v.path.endswith("whiten/kernel") for v in session.model.trainable_variables
    ]
    assert all(
        m != f for m, f in zip(moved, frozen)
    )  # everything trains but the whitening kernel
