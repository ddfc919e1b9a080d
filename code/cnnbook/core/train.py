"""The shared recipe as a session of the training engine (chapter "Architectures"): Adam, the
learning rate halved on a validation-loss plateau, early stopping on validation accuracy with the
best epoch's weights kept (the recipe's numbers: cnnbook.core.recipe.TrainConfig).

Every epoch is one ``model.fit`` over the training images in the order ``epoch_order(n, seed, epoch)``;
cnnbook.core.engine checkpoints, resumes, locks and stores the run.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from cnnbook.core import engine
from cnnbook.core.backend import keras, tf
from cnnbook.core.data import Splits
from cnnbook.core.metrics import model_logits
from cnnbook.core.models import build_model
from cnnbook.core.recipe import TrainConfig


def make_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, order: np.ndarray | None = None
) -> tf.data.Dataset:
    """An in-memory tf.data pipeline over x[order], y[order] (all of it in order if None), batched."""
    if order is not None:
        x, y = x[order], y[order]
    return (
        tf.data.Dataset.from_tensor_slices((x, y))
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def compile_model(model: keras.Model, learning_rate: float) -> None:
    """Compile with Adam, sparse cross-entropy on the softmax output, and accuracy."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def schedule_after_epoch(
    state: dict[str, Any], row: dict[str, float], config: TrainConfig
) -> bool:
    """Early stopping on val accuracy, LR decay on val loss; True for a new best."""
    improved = row["val_accuracy"] > state["best_val_accuracy"]
    if improved:
        state.update(
            best_val_accuracy=row["val_accuracy"], best_epoch=row["epoch"], es_wait=0
        )
    else:
        state["es_wait"] += 1
    if row["val_loss"] < state["best_val_loss"]:
        state.update(best_val_loss=row["val_loss"], lr_wait=0)
    else:
        state["lr_wait"] += 1
        lr = state["learning_rate"]
        if state["lr_wait"] >= config.lr_patience and lr > config.min_lr:
            state["learning_rate"] = max(lr * config.lr_factor, config.min_lr)
            state["lr_wait"] = 0
    return improved


class SharedSession:
    """One run of the shared recipe: the model, its best weights so far, the schedule."""

    def __init__(
        self, name: str, config: TrainConfig, splits: Splits, verbose: int | str
    ) -> None:
        self.config, self.splits, self.verbose = config, splits, verbose
        self.model = build_model(name, seed=config.seed)
        compile_model(self.model, config.learning_rate)
        self.model.optimizer.build(self.model.trainable_variables)
        self.best = self.model.get_weights()
        self.validation = make_dataset(splits.x_val, splits.y_val, 1000)

    def initial_state(self) -> dict[str, Any]:
        """The schedule's counters before the first epoch."""
        return {
            "best_val_accuracy": -1.0,
            "best_epoch": 0,
            "es_wait": 0,
            "best_val_loss": float("inf"),
            "lr_wait": 0,
            "learning_rate": self.config.learning_rate,
        }

    def train_epoch(self, epoch: int, progress: dict[str, Any]) -> dict[str, float]:
        """One model.fit epoch at the schedule's learning rate, validated."""
        state = progress["session"]
        self.model.optimizer.learning_rate.assign(state["learning_rate"])
        order = engine.epoch_order(len(self.splits.x_train), self.config.seed, epoch)
        data = make_dataset(
            self.splits.x_train, self.splits.y_train, self.config.batch_size, order
        )
        fit = self.model.fit(
            data,
            validation_data=self.validation,
            initial_epoch=epoch,
            epochs=epoch + 1,
            shuffle=False,
            verbose=self.verbose,
        )
        logs = {key: float(values[-1]) for key, values in fit.history.items()}
        return {
            "loss": logs["loss"],
            "accuracy": logs["accuracy"],
            "val_loss": logs["val_loss"],
            "val_accuracy": logs["val_accuracy"],
            "learning_rate": state["learning_rate"],
            "images": len(self.splits.x_train),
        }

    def end_epoch(self, progress: dict[str, Any], row: dict[str, float]) -> None:
        """Plateau and early-stopping counters; keep the weights of a new best epoch."""
        if schedule_after_epoch(progress["session"], row, self.config):
            self.best = self.model.get_weights()

    def finished(self, progress: dict[str, Any]) -> bool:
        """All epochs used, or no new best validation accuracy for the patience."""
        state = progress["session"]
        return (
            progress["epochs_done"] >= self.config.epochs
            or state.get("es_wait", 0) >= self.config.early_stopping_patience
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Model and optimizer variables and the best weights."""
        return (
            engine.variable_arrays("model", self.model.variables)
            | engine.variable_arrays("optimizer", self.model.optimizer.variables)
            | {f"best_{i}": w for i, w in enumerate(self.best)}
        )

    def load(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what ``arrays`` wrote."""
        engine.load_variables("model", self.model.variables, arrays)
        engine.load_variables("optimizer", self.model.optimizer.variables, arrays)
        self.best = [
            arrays[k]
            for k in sorted(
                (k for k in arrays if k.startswith("best_")), key=lambda k: int(k[5:])
            )
        ]

    def final_weights(self) -> list[np.ndarray]:
        """The best epoch's weights (early stopping restores them)."""
        return self.best


@dataclass(frozen=True)
class SharedRecipe:
    """The shared recipe for one of the three compared models (the engine's Recipe)."""

    model: str
    config: TrainConfig = TrainConfig()
    verbose: int | str = 0
    tta_level: int = 0

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self.config.seed

    @property
    def mixed_precision(self) -> bool:
        """Mixed bfloat16 compute (else float32)."""
        return self.config.mixed_precision

    def record(self) -> dict[str, Any]:
        """The TrainConfig as JSON."""
        return asdict(self.config)

    def check(self, splits: Splits) -> None:
        """Any non-empty split trains."""

    def start(self, splits: Splits) -> SharedSession:
        """A compiled model before its first epoch."""
        return SharedSession(self.model, self.config, splits, self.verbose)

    def build(self) -> keras.Model:
        """The untrained float32 model."""
        return build_model(self.model)

    def logits(self, model: keras.Model, splits: Splits) -> dict[str, np.ndarray]:
        """The plain validation and test logits (the pages are computed from them)."""
        return {
            "val_tta0": model_logits(model, splits.x_val),
            "test_tta0": model_logits(model, splits.x_test),
        }


def train_model(
    name: str,
    splits: Splits,
    config: TrainConfig = TrainConfig(),
    out_dir: str | os.PathLike | None = None,
    checkpoint_root: str | os.PathLike = engine.DEFAULT_CHECKPOINT_DIR,
    resume: bool = False,
    fresh: bool = False,
    log: Callable[[str], None] = print,
    verbose: int | str = "auto",
) -> dict[str, Any]:
    """Train one of the three models with the shared recipe, store it, return its entry."""
    return engine.train(
        SharedRecipe(name, config, verbose),
        splits,
        out_dir,
        Path(checkpoint_root),
        resume,
        fresh,
        log,
    )
