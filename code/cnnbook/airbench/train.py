"""airbench94's training, step for step, as a session of the training engine (chapter "Putting it
all together"); the numbers are in cnnbook.airbench.hyp.

One run: fit the whitening on 5,000 training images; then every epoch takes a new augmentation of the
training images (cnnbook.airbench.augment) in a new order, and every batch of 1,024 is one step:

1. the summed cross-entropy with label smoothing 0.2 and its gradients;
2. Nesterov SGD as PyTorch runs it (``NesterovSGD``): weight decay added to the gradient, BatchNorm
   offsets at 64x the learning rate, the whitening bias only in the first 3 epochs, the learning
   rate scaled by a triangle (0.2 -> 1 at 23% of the steps -> 0.07);
3. every 5th step, lookahead: the moving average of the weights (started at the first step's
   weights) takes (1 - decay) of the way to them and the weights become the average, where
   decay = 0.95^5 x (step / steps)^3; after the last step the weights become the average.

airbench's steps, kept step for step (tests/airbench/test_train.py runs a whole schedule against an
independent NumPy transcription of PyTorch's rule):
* Keras' SGD keeps lr x velocity, PyTorch's the velocity; with the learning rate changing every step
  the two differ (by 2.9% per step at the schedule's ends), so the step is written out here.
* Keras optimizers have no parameter groups: one rule, three groups of variables.
* Keras' sparse cross-entropy has no label smoothing: labels are one-hot encoded first.
* Mixed bfloat16 instead of float16 (CPUs have bfloat16 units; no loss scaling needed).
The one difference left: airbench's average starts from the weights before the whitening is set; ours
from those after it (the first update keeps 9e-7 of the start, so the two averages agree to 1e-6).
The ablation (benchmarks/ablation.py) swaps the SGD for the book's Adam(1e-3), batch 128, mean loss.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cnnbook.airbench.augment import (
    epoch_images,
    logits_in_batches,
    predictions,
    random_flips,
)
from cnnbook.airbench.hyp import WHITENING_IMAGES, FastRecipe
from cnnbook.airbench.net import build_for, logits_view, set_whitening
from cnnbook.core import engine
from cnnbook.core.backend import keras, tf
from cnnbook.core.data import Splits
from cnnbook.core.metrics import accuracy, negative_log_likelihood, softmax


def total_steps(n_images: int, recipe: FastRecipe) -> int:
    """Optimizer steps of a run: full batches per epoch (no partial one) x epochs."""
    return math.ceil((n_images // recipe.batch_size) * recipe.epochs)


def steps_minutes(n_images: int, recipe: FastRecipe, images_per_second: float) -> float:
    """Minutes a run's optimizer steps take at a steady speed (the validation after each epoch and
    the final TTA not included; chapter "Putting it all together", benchmarks/bench_airbench.py)."""
    return total_steps(n_images, recipe) * recipe.batch_size / images_per_second / 60


def triangle(
    steps: int, start: float = 0.2, peak: float = 0.23, end: float = 0.07
) -> np.ndarray:
    """The learning-rate factor of each step 0..steps: start, 1 at peak*steps, end."""
    top = int(peak * steps)
    return np.interp(np.arange(steps + 1), [0, top, steps], [start, 1.0, end])


def lookahead_decays(steps: int, recipe: FastRecipe) -> np.ndarray:
    """What a lookahead update at step 0..steps keeps of the average (rises to 0.95^5)."""
    base = recipe.ema_decay_base**recipe.ema_every
    return base * (np.arange(steps + 1) / steps) ** recipe.ema_decay_power


def sgd_settings(recipe: FastRecipe) -> dict[str, float]:
    """airbench's decoupled hyper-parameters as SGD's lr and per-group weight decay."""
    kilostep = 1024 * (1 + 1 / (1 - recipe.momentum))  # Nesterov's steps are larger
    lr = recipe.learning_rate / kilostep
    wd = recipe.weight_decay * recipe.batch_size / kilostep
    lr_bias = lr * recipe.bias_scaler
    return {
        "lr": lr,
        "lr_bias": lr_bias,
        "wd_per_lr": wd / lr,
        "wd_per_lr_bias": wd / lr_bias,
    }


def smoothed_loss(labels, logits, smoothing: float, total: bool):
    """Cross-entropy against one-hot labels mixed with the uniform; summed or mean."""
    onehot = tf.one_hot(labels, tf.shape(logits)[-1])
    losses = keras.losses.categorical_crossentropy(
        onehot, logits, from_logits=True, label_smoothing=smoothing
    )
    return tf.reduce_sum(losses) if total else tf.reduce_mean(losses)


class NesterovSGD:
    """torch.optim.SGD(momentum, nesterov=True, weight_decay) over parameter groups,
    written out because Keras' SGD keeps lr x velocity (module docstring). Per step:
    g += wd * w;  v = momentum * v + g;  w -= lr * factor * (g + momentum * v)."""

    def __init__(
        self, groups: dict[str, tuple[list, float, float]], momentum: float
    ) -> None:
        self.groups, self.momentum = (
            groups,
            momentum,
        )  # name -> (variables, lr, weight decay per lr)
        self.velocity = {
            name: [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
            for name, (variables, _, _) in groups.items()
        }

    @property
    def variables(self) -> list:
        """The velocities (checkpointed)."""
        return [v for velocities in self.velocity.values() for v in velocities]

    def apply(self, name: str, grads: list, factor) -> None:
        """One step of the group's variables."""
        variables, lr, wd = self.groups[name]
        for w, v, g in zip(variables, self.velocity[name], grads):
            g = g + wd * w
            v.assign(self.momentum * v + g)
            w.assign_sub(lr * factor * (g + self.momentum * v))


class AirbenchSession:
    """One run of airbench's recipe: model, optimizer, lookahead average, schedule."""

    def __init__(self, recipe: FastRecipe, splits: Splits) -> None:
        self.recipe, self.splits = recipe, splits
        self.model = build_for(recipe, seed=recipe.seed)
        if recipe.whitening and recipe.model != "baseline":
            set_whitening(self.model, splits.x_train[:WHITENING_IMAGES])
        self.view = logits_view(self.model)
        self.steps = total_steps(len(splits.x_train), recipe)
        self.factors = (
            triangle(self.steps)
            if recipe.optimizer == "sgd"
            else np.ones(self.steps + 1)
        )
        self.decays = lookahead_decays(self.steps, recipe)
        self.flipped = (
            random_flips(splits.x_train, recipe.seed) if recipe.flip else splits.x_train
        )
        self.validate = logits_in_batches(self.view)
        self._build_optimizer()
        self.floats = [
            v
            for v in self.model.variables
            if v.dtype in ("float32", "float16", "bfloat16")
        ]
        self.average = [
            tf.Variable(tf.cast(v, "float32"), trainable=False) for v in self.floats
        ]
        # autograph=False: no tensor-dependent Python control flow here, and autograph
        # would re-read the source file when a function is first traced, hours into a run.
        self.step_fn = {
            bias: tf.function(self._step(bias), autograph=False)
            for bias in (True, False)
        }
        self.lookahead_fn = tf.function(self._lookahead, autograph=False)

    def _build_optimizer(self) -> None:
        """Three groups (BatchNorm offsets, whitening bias, the rest) under one rule."""
        trainable = [
            v for v in self.model.trainable_variables if "whiten" not in v.path
        ]
        self.groups = {
            "bias": [v for v in trainable if "_bn" in v.path],  # BatchNorm offsets
            "other": [v for v in trainable if "_bn" not in v.path],
            "whiten_bias": [
                v
                for v in self.model.trainable_variables
                if v.path.endswith("whiten/bias")
            ],
        }
        if self.recipe.optimizer == "sgd":
            sgd = sgd_settings(self.recipe)
            self.sgd = NesterovSGD(
                {
                    "other": (self.groups["other"], sgd["lr"], sgd["wd_per_lr"]),
                    "bias": (
                        self.groups["bias"],
                        sgd["lr_bias"],
                        sgd["wd_per_lr_bias"],
                    ),
                    "whiten_bias": (
                        self.groups["whiten_bias"],
                        sgd["lr"],
                        sgd["wd_per_lr"],
                    ),
                },
                self.recipe.momentum,
            )
            self.optimizer_variables = self.sgd.variables
        else:
            self.adam = keras.optimizers.Adam(1e-3)
            self.adam.build([v for group in self.groups.values() for v in group])
            self.optimizer_variables = list(self.adam.variables)

    def _step(self, train_whiten_bias: bool):
        """The compiled training step: loss, gradients, one SGD step of every group."""
        names = ["other", "bias"] + (["whiten_bias"] if train_whiten_bias else [])
        variables = [v for name in names for v in self.groups[name]]

        def step(images, labels, factor):
            with tf.GradientTape() as tape:
                logits = tf.cast(self.view(images, training=True), "float32")
                loss = smoothed_loss(
                    labels,
                    logits,
                    self.recipe.label_smoothing,
                    self.recipe.optimizer == "sgd",
                )
            grads = tape.gradient(loss, variables)
            if self.recipe.optimizer == "adam":
                self.adam.apply_gradients(zip(grads, variables))
            else:
                start = 0
                for name in names:
                    count = len(self.groups[name])
                    self.sgd.apply(name, grads[start : start + count], factor)
                    start += count
            right = tf.argmax(logits, -1) == tf.cast(labels, "int64")
            return loss, tf.reduce_sum(tf.cast(right, "float32"))

        return step

    def _lookahead(self, decay):
        """Move the average (1 - decay) of the way to the weights, then copy it in."""
        for average, variable in zip(self.average, self.floats):
            average.assign(
                average + (1.0 - decay) * (tf.cast(variable, "float32") - average)
            )
            variable.assign(tf.cast(average, variable.dtype))

    def initial_state(self) -> dict[str, Any]:
        """Steps done (the schedule's clock)."""
        return {"steps_done": 0}

    def train_epoch(self, epoch: int, progress: dict[str, Any]) -> dict[str, float]:
        """One epoch of steps (the last may stop early: a run is ``steps`` steps)."""
        recipe, state, labels = self.recipe, progress["session"], self.splits.y_train
        images = epoch_images(
            self.flipped, epoch, recipe.seed, recipe.translate, recipe.flip
        )
        order = engine.epoch_order(len(images), recipe.seed, epoch, stream=1)
        step_fn = self.step_fn[epoch < recipe.whiten_bias_epochs and recipe.whitening]
        loss_sum = correct = seen = batches = 0.0
        for batch in range(len(images) // recipe.batch_size):
            if state["steps_done"] >= self.steps:
                break
            index = order[batch * recipe.batch_size : (batch + 1) * recipe.batch_size]
            factor = tf.constant(self.factors[state["steps_done"]], "float32")
            loss, right = step_fn(
                tf.constant(images[index]), tf.constant(labels[index]), factor
            )
            state["steps_done"] += 1
            loss_sum, correct = loss_sum + float(loss), correct + float(right)
            seen, batches = seen + len(index), batches + 1
            self._maybe_lookahead(state["steps_done"])
        val_probabilities = softmax(self.validate(self.splits.x_val))
        return {
            "loss": loss_sum / (seen if recipe.optimizer == "sgd" else batches),
            "accuracy": correct / seen,
            "val_loss": negative_log_likelihood(val_probabilities, self.splits.y_val),
            "val_accuracy": accuracy(val_probabilities, self.splits.y_val),
            "learning_rate": float(self.factors[state["steps_done"]]),
            "images": int(seen),
        }

    def _maybe_lookahead(self, step: int) -> None:
        """airbench's lookahead: every ema_every steps, and once more after the last."""
        if not self.recipe.lookahead:
            return
        if step % self.recipe.ema_every == 0:
            self.lookahead_fn(tf.constant(self.decays[step], "float32"))
        if step == self.steps:
            self.lookahead_fn(tf.constant(1.0))  # the weights become the average

    def end_epoch(self, progress: dict[str, Any], row: dict[str, float]) -> None:
        """A fixed schedule: nothing to decide after an epoch."""

    def finished(self, progress: dict[str, Any]) -> bool:
        """Whether every step of the schedule is done."""
        return progress["session"]["steps_done"] >= self.steps

    def arrays(self) -> dict[str, np.ndarray]:
        """Model, optimizer and lookahead variables."""
        return (
            engine.variable_arrays("model", self.model.variables)
            | engine.variable_arrays("optimizer", self.optimizer_variables)
            | engine.variable_arrays("average", self.average)
        )

    def load(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what ``arrays`` wrote."""
        engine.load_variables("model", self.model.variables, arrays)
        engine.load_variables("optimizer", self.optimizer_variables, arrays)
        engine.load_variables("average", self.average, arrays)

    def final_weights(self) -> list[np.ndarray]:
        """The last step's weights (airbench keeps no best epoch)."""
        return self.model.get_weights()


@dataclass(frozen=True)
class AirbenchRecipe:
    """airbench's recipe for the training engine (its numbers: a FastRecipe)."""

    hyp: FastRecipe

    @property
    def model(self) -> str:
        """The model trained: fast, fast_short (or the ablation's baseline)."""
        return self.hyp.model

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self.hyp.seed

    @property
    def mixed_precision(self) -> bool:
        """Mixed bfloat16 compute (else float32)."""
        return self.hyp.mixed_precision

    @property
    def tta_level(self) -> int:
        """The test-time augmentation the manifest reports."""
        return self.hyp.tta_level

    def record(self) -> dict[str, Any]:
        """The FastRecipe as JSON."""
        return asdict(self.hyp)

    def check(self, splits: Splits) -> None:
        """At least one full batch."""
        if len(splits.x_train) < self.hyp.batch_size:
            raise ValueError(
                f"the training split holds {len(splits.x_train)} images, fewer than one batch of "
                f"{self.hyp.batch_size}; use more data or a smaller batch"
            )

    def start(self, splits: Splits) -> AirbenchSession:
        """The network (whitening fitted), optimizer and average, before the first step."""
        return AirbenchSession(self.hyp, splits)

    def build(self) -> keras.Model:
        """The untrained float32 model."""
        return build_for(self.hyp)

    def logits(self, model: keras.Model, splits: Splits) -> dict[str, np.ndarray]:
        """Validation and test logits, plain and with TTA."""
        return predictions(model, splits.x_val, splits.x_test, self.hyp.tta_level)
