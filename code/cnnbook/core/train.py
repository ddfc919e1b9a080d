"""Training (chapter "Architectures"): the recipe of cnnbook.core.recipe, per-epoch checkpoints,
--resume, and the final files written through the store."""


from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from cnnbook.core import store
from cnnbook.core.backend import keras, tf
from cnnbook.core.data import Splits
from cnnbook.core.files import REPOSITORY_ROOT, atomic_path, atomic_write_json
from cnnbook.core.metrics import accuracy, negative_log_likelihood, predict_probabilities
from cnnbook.core.models import build_model
from cnnbook.core.recipe import TrainConfig

DEFAULT_CHECKPOINT_DIR = REPOSITORY_ROOT / "checkpoints"


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int) -> tf.data.Dataset:
    """An in-memory tf.data pipeline: reshuffled every epoch, batched, prefetched."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def compile_model(model: keras.Model, learning_rate: float) -> None:
    """Compile with Adam, sparse cross-entropy on the softmax output, and accuracy."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def _new_state(config: TrainConfig) -> dict[str, Any]:
    """The resumable training state before the first epoch."""
    return {"epochs_done": 0, "best_val_accuracy": -1.0, "best_epoch": 0, "es_wait": 0,
            "best_val_loss": float("inf"), "lr_wait": 0, "learning_rate": config.learning_rate,
            "history": []}


class ResumableSchedule(keras.callbacks.Callback):
    """Early stopping (val accuracy, best weights kept) + LR reduction (val loss) + checkpoints."""

    def __init__(self, config: TrainConfig, state: dict[str, Any], checkpoint_dir: Path,
                 log: Callable[[str], None]):
        super().__init__()
        self.config, self.state, self.dir, self.log = config, state, checkpoint_dir, log
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:  # noqa: D102
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs=None) -> None:  # noqa: D102
        seconds = time.perf_counter() - self._started
        st, cfg = self.state, self.config
        row = {"epoch": epoch + 1, "loss": float(logs["loss"]), "accuracy": float(logs["accuracy"]),
               "val_loss": float(logs["val_loss"]), "val_accuracy": float(logs["val_accuracy"]),
               "learning_rate": st["learning_rate"], "seconds": seconds}
        st["history"].append(row)
        if row["val_accuracy"] > st["best_val_accuracy"]:
            st.update(best_val_accuracy=row["val_accuracy"], best_epoch=epoch + 1, es_wait=0)
            with atomic_path(self.dir / "best.weights.h5") as tmp:
                self.model.save_weights(tmp)
        else:
            st["es_wait"] += 1
        if row["val_loss"] < st["best_val_loss"]:
            st.update(best_val_loss=row["val_loss"], lr_wait=0)
        else:
            st["lr_wait"] += 1
            if st["lr_wait"] >= cfg.lr_patience and st["learning_rate"] > cfg.min_lr:
                st["learning_rate"] = max(st["learning_rate"] * cfg.lr_factor, cfg.min_lr)
                self.model.optimizer.learning_rate.assign(st["learning_rate"])
                st["lr_wait"] = 0
        st["epochs_done"] = epoch + 1
        if st["es_wait"] >= cfg.early_stopping_patience:
            self.model.stop_training = True
        with atomic_path(self.dir / "last.keras") as tmp:
            self.model.save(tmp)
        atomic_write_json(self.dir / "state.json", st)
        self.log(f"epoch {epoch + 1:3d}  loss {row['loss']:.4f}  acc {row['accuracy']:.4f}  "
                 f"val_loss {row['val_loss']:.4f}  val_acc {row['val_accuracy']:.4f}  "
                 f"lr {row['learning_rate']:.1e}  {seconds:.1f}s")


def _start_or_resume(name: str, config: TrainConfig, checkpoint_dir: Path,
                     resume: bool) -> tuple[keras.Model, dict[str, Any]]:
    """A fresh compiled model and state, or the last checkpoint's when resuming."""
    state_file = checkpoint_dir / "state.json"
    if resume and state_file.is_file() and (checkpoint_dir / "last.keras").is_file():
        state = json.loads(state_file.read_text())
        model = keras.models.load_model(checkpoint_dir / "last.keras", safe_mode=True)
        model.optimizer.learning_rate.assign(state["learning_rate"])
        return model, state
    if checkpoint_dir.exists():
        shutil.rmtree(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True)
    model = build_model(name, seed=config.seed)
    compile_model(model, config.learning_rate)
    return model, _new_state(config)


def _float32_copy(name: str, weights_file: Path) -> keras.Model:
    """The best weights in a float32 model (portable to CPUs without bfloat16)."""
    keras.mixed_precision.set_global_policy("float32")
    model = build_model(name)
    model.load_weights(weights_file)
    return model


def train_model(name: str, splits: Splits, config: TrainConfig = TrainConfig(),
                out_dir: str | os.PathLike | None = None,
                checkpoint_root: str | os.PathLike = DEFAULT_CHECKPOINT_DIR, resume: bool = False,
                log: Callable[[str], None] = print, verbose: int | str = "auto",
                extra_callbacks: list[keras.callbacks.Callback] | None = None) -> dict[str, Any]:
    """Train one model and store it (model, history, manifest entry) in out_dir; return the entry."""
    out_dir, checkpoint_dir = store.models_dir(out_dir), Path(checkpoint_root) / name
    keras.utils.set_random_seed(config.seed)
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if config.mixed_precision else "float32")
    try:
        model, state = _start_or_resume(name, config, checkpoint_dir, resume)
        if state["epochs_done"]:
            log(f"[{name}] resuming after epoch {state['epochs_done']}")
        already_stopped = state["es_wait"] >= config.early_stopping_patience
        if state["epochs_done"] < config.epochs and not already_stopped:
            schedule = ResumableSchedule(config, state, checkpoint_dir, log)
            model.fit(make_dataset(splits.x_train, splits.y_train, config.batch_size, True, config.seed),
                      validation_data=make_dataset(splits.x_val, splits.y_val, 1000, False, 0),
                      epochs=config.epochs, initial_epoch=state["epochs_done"],
                      callbacks=[schedule, *(extra_callbacks or [])], shuffle=False, verbose=verbose)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    final = _float32_copy(name, checkpoint_dir / "best.weights.h5")
    entry = _write_results(name, final, state, splits, config, out_dir)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return entry


def _write_results(name: str, model: keras.Model, state: dict[str, Any], splits: Splits,
                   config: TrainConfig, out_dir: Path) -> dict[str, Any]:
    """Evaluate the final model, then store it with its history and manifest entry."""
    val_probs = predict_probabilities(model, splits.x_val)
    test_probs = predict_probabilities(model, splits.x_test)
    history = state["history"]
    train_seconds = float(sum(row["seconds"] for row in history))
    entry = {
        "params": int(model.count_params()),
        "trainable_params": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "epochs_run": len(history), "best_epoch": state["best_epoch"],
        "val_accuracy": accuracy(val_probs, splits.y_val),
        "val_loss": negative_log_likelihood(val_probs, splits.y_val),
        "test_accuracy": accuracy(test_probs, splits.y_test),
        "test_loss": negative_log_likelihood(test_probs, splits.y_test),
        "train_seconds": train_seconds,
        "images_per_second": len(splits.x_train) * len(history) / max(train_seconds, 1e-9),
        "seed": config.seed, "config": asdict(config),
        "n_train": len(splits.x_train), "n_val": len(splits.x_val), "n_test": len(splits.x_test),
        "data_fingerprint": splits.fingerprint,
        "tensorflow_version": tf.__version__, "keras_version": keras.__version__,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    document = store.history_document(name, state["best_epoch"], history)
    return store.save_trained(out_dir, name, model, document, entry)
