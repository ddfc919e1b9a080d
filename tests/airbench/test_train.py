"""The fast recipe: schedule, airbench's decoupled hyper-parameters, the smoothed loss, one SGD
step against PyTorch's update rule written out, the lookahead, and a resumed run equal to an
uninterrupted one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnbook.core.backend import keras, tf
from cnnbook.core.data import Splits
from cnnbook.core.fast import build_fast_model
from cnnbook.core.fast_run import train_fast
from cnnbook.core.fast_train import (FastRecipe, Trainer, lookahead_decay, sgd_settings,
                                     smoothed_loss, total_steps, triangle)

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
    assert settings["lr"] * settings["wd_per_lr"] == pytest.approx(0.0153 * 1024 / scale)
    assert settings["lr_bias"] * settings["wd_per_lr_bias"] == pytest.approx(0.0153 * 1024 / scale)


def test_smoothed_loss_is_cross_entropy_against_the_mixed_target():
    logits = RNG.normal(size=(5, 10)).astype(np.float32)
    labels = RNG.integers(0, 10, size=5)
    target = np.full((5, 10), 0.2 / 10)
    target[np.arange(5), labels] += 0.8
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -(target * log_probs).sum(axis=1)
    assert float(smoothed_loss(labels, logits, 0.2, total=True)) == pytest.approx(expected.sum(), rel=1e-5)
    assert float(smoothed_loss(labels, logits, 0.2, total=False)) == pytest.approx(expected.mean(), rel=1e-5)


def test_lookahead_decay_rises_cubically_to_its_base():
    recipe = FastRecipe()
    assert lookahead_decay(0, 100, recipe) == 0
    assert lookahead_decay(100, 100, recipe) == pytest.approx(0.95 ** 5)
    assert lookahead_decay(50, 100, recipe) == pytest.approx(0.95 ** 5 / 8)


def test_total_steps_drop_the_partial_batch_and_round_the_epochs_up():
    assert total_steps(45000, FastRecipe(epochs=9.9)) == int(np.ceil(43 * 9.9))


def _tiny_trainer(recipe: FastRecipe) -> Trainer:
    """A small fast model in float32 with its trainer."""
    keras.mixed_precision.set_global_policy("float32")
    model = build_fast_model("fast_short", seed=0, widths=(4, 4, 4))
    return Trainer(model, recipe, steps=10)


def test_one_step_is_pytorch_nesterov_sgd_with_coupled_weight_decay():
    recipe = FastRecipe(batch_size=8)
    trainer = _tiny_trainer(recipe)
    images = tf.constant(RNG.integers(0, 256, size=(8, 32, 32, 3), dtype=np.uint8))
    labels = tf.constant(RNG.integers(0, 10, size=8))
    variable = trainer.model.get_layer("block1_conv1").kernel
    bias = trainer.model.get_layer("block1_1_bn").beta
    before = {v.path: v.numpy() for v in (variable, bias)}
    with tf.GradientTape() as tape:
        loss = smoothed_loss(labels, trainer.view(images, training=True), 0.2, total=True)
    grads = dict(zip((variable.path, bias.path), tape.gradient(loss, [variable, bias])))
    trainer.step_fn[False](images, labels, tf.constant(0.5))
    settings, mu = sgd_settings(recipe), recipe.momentum
    for v, lr, wd in ((variable, settings["lr"], settings["wd_per_lr"]),
                      (bias, settings["lr_bias"], settings["wd_per_lr_bias"])):
        g = grads[v.path].numpy() + wd * before[v.path]  # PyTorch: weight decay in the gradient
        buffer = g  # first step: the momentum buffer is the gradient
        expected = before[v.path] - 0.5 * lr * (g + mu * buffer)
        np.testing.assert_allclose(v.numpy(), expected, rtol=1e-4, atol=1e-7)


def test_lookahead_moves_the_weights_to_the_average():
    trainer = _tiny_trainer(FastRecipe())
    kernel = trainer.model.get_layer("head").kernel
    trainer.reset_average()
    start = kernel.numpy()
    kernel.assign(start + 1.0)
    trainer.lookahead_fn(tf.constant(0.75))
    np.testing.assert_allclose(kernel.numpy(), start + 0.25, rtol=1e-6)


def _splits(n: int = 96) -> Splits:
    """Random images and labels (training only needs the shapes to be right)."""
    x = RNG.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    y = RNG.integers(0, 10, size=n)
    return Splits(x, y, x[:16], y[:16], x[:16], y[:16], tuple("abcdefghij"), "synthetic")


class Stop(Exception):
    """Raised by the log after the first epoch: a kill right after the checkpoint."""


def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path: Path):
    recipe = FastRecipe("fast_short", epochs=2, batch_size=32, widths=(4, 8, 8),
                        whiten_bias_epochs=1, ema_start_epochs=1, ema_every=2,
                        mixed_precision=False)
    splits = _splits()
    whole = train_fast(recipe, splits, tmp_path / "a.npz", log=lambda line: None)

    def stop_after_first_epoch(line: str) -> None:
        if line.startswith("epoch   1"):
            raise Stop

    with pytest.raises(Stop):
        train_fast(recipe, splits, tmp_path / "b.npz", log=stop_after_first_epoch)
    with pytest.raises(Exception, match="--resume"):
        train_fast(recipe, splits, tmp_path / "b.npz", log=lambda line: None)
    resumed = train_fast(recipe, splits, tmp_path / "b.npz", resume=True, log=lambda line: None)
    for a, b in zip(whole["model"].get_weights(), resumed["model"].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert [r["loss"] for r in whole["history"]] == pytest.approx([r["loss"] for r in resumed["history"]])
