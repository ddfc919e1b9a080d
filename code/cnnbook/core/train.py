"""Training (chapter "Architectures"): the recipe of cnnbook.core.recipe, one checkpoint per epoch,
a resume that reproduces the uninterrupted run bit for bit, and the final files written through the store.

Each epoch ends by writing one file, ``<checkpoint-dir>/<model>/checkpoint.npz``, renamed into place:
every model variable (weights, BatchNorm statistics, Dropout's random-generator state), the optimizer's
variables, the best weights so far and the progress (history, schedule counters, recipe, data
fingerprint). A kill at any moment leaves either the previous epoch's checkpoint or the new one.
The shuffle order of epoch k is a function of (seed, k) only, so a resumed run sees the same batches.
A lock file in the model's checkpoint folder keeps a second run out.
"""

from __future__ import annotations

import io
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
from cnnbook.core.exceptions import CheckpointError
from cnnbook.core.files import REPOSITORY_ROOT, atomic_path, exclusive_lock, fault_point, remove_stale_temporaries
from cnnbook.core.metrics import accuracy, model_logits, negative_log_likelihood, softmax
from cnnbook.core.models import build_model
from cnnbook.core.names import run_name
from cnnbook.core.precision import cpu_description
from cnnbook.core.recipe import TrainConfig

DEFAULT_CHECKPOINT_DIR = REPOSITORY_ROOT / "checkpoints"
CHECKPOINT_NAME = "checkpoint.npz"
LOCK_NAME = "train.lock"
CHECKPOINT_FORMAT = 1

def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffle order of one epoch: a permutation of range(n) that depends only on (seed, epoch)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, order: np.ndarray | None = None) -> tf.data.Dataset:
    """An in-memory tf.data pipeline over x[order], y[order] (all of it in order if None), batched."""
    if order is not None:
        x, y = x[order], y[order]
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def compile_model(model: keras.Model, learning_rate: float) -> None:
    """Compile with Adam, sparse cross-entropy on the softmax output, and accuracy."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def _new_state(name: str, config: TrainConfig, splits: Splits) -> dict[str, Any]:
    """The progress of a run before its first epoch, with what a resume must match."""
    return {"format": CHECKPOINT_FORMAT, "model": name, "config": asdict(config),
            "data_fingerprint": splits.fingerprint, "n_train": len(splits.x_train), "n_val": len(splits.x_val),
            "epochs_done": 0, "best_val_accuracy": -1.0, "best_epoch": 0, "es_wait": 0,
            "best_val_loss": float("inf"), "lr_wait": 0, "learning_rate": config.learning_rate,
            "history": []}


def _schedule_after_epoch(state: dict[str, Any], row: dict[str, float],
                          config: TrainConfig) -> bool:
    """Record an epoch: early stopping on val accuracy, LR decay on val loss.

    Returns True when the epoch is a new best (its weights are kept)."""
    state["history"].append(row)
    state["epochs_done"] = row["epoch"]
    improved = row["val_accuracy"] > state["best_val_accuracy"]
    if improved:
        state.update(best_val_accuracy=row["val_accuracy"], best_epoch=row["epoch"],
                     es_wait=0)
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


def _finished(state: dict[str, Any], config: TrainConfig) -> bool:
    """Whether the run has used its epochs or stopped early."""
    return state["epochs_done"] >= config.epochs or state["es_wait"] >= config.early_stopping_patience


def _write_checkpoint(path: Path, model: keras.Model, best: list[np.ndarray], state: dict[str, Any]) -> None:
    """One file for the epoch: all model and optimizer variables, the best weights, the progress."""
    arrays = {f"model_{i}": np.asarray(v.numpy()) for i, v in enumerate(model.variables)}
    arrays |= {f"optimizer_{i}": np.asarray(v.numpy()) for i, v in enumerate(model.optimizer.variables)}
    arrays |= {f"best_{i}": w for i, w in enumerate(best)}
    arrays["state"] = np.array(json.dumps(state))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with atomic_path(path) as tmp:
        fault_point("checkpoint-started", state["epochs_done"])
        tmp.write_bytes(buffer.getvalue())
        fault_point("checkpoint-before-rename", state["epochs_done"])


def _read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The progress and arrays of a checkpoint file, or a CheckpointError saying what to do."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        state = json.loads(str(arrays.pop("state")))
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError("unknown checkpoint format")
    except Exception as exc:  # np.load raises many types (EOFError, BadZipFile, ValueError, ...)
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(exc).__name__}); "
                              "rerun with --fresh to discard it and start over") from None
    return state, arrays


def _check_same_run(path: Path, state: dict[str, Any], expected: dict[str, Any]) -> None:
    """Refuse to resume a checkpoint made with another recipe, model, split or data set."""
    keys = ("model", "config", "data_fingerprint", "n_train", "n_val")
    differ = [key for key in keys if state.get(key) != expected[key]]
    if differ:
        if "config" in differ:
            fields = [f for f in expected["config"] if state.get("config", {}).get(f) != expected["config"][f]]
            differ[differ.index("config")] = "recipe (" + ", ".join(fields) + ")"
        raise CheckpointError(f"{path}: made with another {', '.join(differ)} than this run; rerun with the "
                              "same options and data, or with --fresh to discard it")


def _restore(model: keras.Model, arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Put the checkpoint's variables into a compiled model and its optimizer; return the best weights."""
    model.optimizer.build(model.trainable_variables)
    targets = {"model": model.variables, "optimizer": model.optimizer.variables}
    for prefix, variables in targets.items():
        saved = sorted((k for k in arrays if k.startswith(prefix + "_")), key=lambda k: int(k.split("_")[1]))
        if len(saved) != len(variables):
            raise CheckpointError(f"checkpoint holds {len(saved)} {prefix} variables, the model has "
                                  f"{len(variables)}; rerun with --fresh")
        for variable, key in zip(variables, saved):
            variable.assign(arrays[key])
    return [arrays[k] for k in sorted((k for k in arrays if k.startswith("best_")), key=lambda k: int(k[5:]))]


def _float32_copy(name: str, weights: list[np.ndarray]) -> keras.Model:
    """The best weights in a float32 model (portable to CPUs without bfloat16)."""
    keras.mixed_precision.set_global_policy("float32")
    model = build_model(name)
    model.set_weights(weights)
    return model


def _epoch_row(epoch: int, logs: dict[str, float], learning_rate: float, seconds: float) -> dict[str, float]:
    """One history row (the store's HISTORY_COLUMNS) from Keras's logs."""
    return {"epoch": epoch, "loss": float(logs["loss"]), "accuracy": float(logs["accuracy"]),
            "val_loss": float(logs["val_loss"]), "val_accuracy": float(logs["val_accuracy"]),
            "learning_rate": learning_rate, "seconds": seconds}


def _check_splits(splits: Splits) -> None:
    """Refuse splits that cannot train or validate."""
    for part in ("train", "val"):
        if len(getattr(splits, f"x_{part}")) == 0:
            raise ValueError(f"the {part} split holds no images; check the data and --val-size")


def _start(name: str, config: TrainConfig, splits: Splits, path: Path, resume: bool,
           fresh: bool) -> tuple[keras.Model, dict[str, Any], list[np.ndarray]]:
    """A compiled model with its progress and best weights: fresh, or restored from the checkpoint."""
    state = _new_state(name, config, splits)
    if path.exists() and fresh:
        path.unlink()
    if path.exists() and not resume:
        raise CheckpointError(f"{path}: a checkpoint of an unfinished run exists; pass --resume to continue "
                              "it or --fresh to discard it")
    keras.utils.set_random_seed(config.seed)
    model = build_model(name, seed=config.seed)
    compile_model(model, config.learning_rate)
    if not path.exists():
        return model, state, model.get_weights()
    saved, arrays = _read_checkpoint(path)
    _check_same_run(path, saved, state)
    best = _restore(model, arrays)
    return model, saved, best


def train_model(name: str, splits: Splits, config: TrainConfig = TrainConfig(),
                out_dir: str | os.PathLike | None = None,
                checkpoint_root: str | os.PathLike = DEFAULT_CHECKPOINT_DIR, resume: bool = False,
                fresh: bool = False, log: Callable[[str], None] = print,
                verbose: int | str = "auto") -> dict[str, Any]:
    """Train one model and store the run (model, history, manifest entry) in out_dir; return the entry.

    The run is stored as run_name(name, config.seed): the model's own name for the default seed.
    """
    _check_splits(splits)
    run = run_name(name, config.seed)
    out_dir, folder = store.writable_folder(out_dir), Path(checkpoint_root) / run
    path = folder / CHECKPOINT_NAME
    with exclusive_lock(folder / LOCK_NAME, f"training {run!r}"):
        remove_stale_temporaries(folder)
        keras.mixed_precision.set_global_policy("mixed_bfloat16" if config.mixed_precision else "float32")
        try:
            model, state, best = _start(name, config, splits, path, resume, fresh)
            if state["epochs_done"]:
                log(f"[{run}] resuming after epoch {state['epochs_done']}")
            validation = make_dataset(splits.x_val, splits.y_val, 1000)
            while not _finished(state, config):
                epoch = state["epochs_done"]
                model.optimizer.learning_rate.assign(state["learning_rate"])
                order = epoch_order(len(splits.x_train), config.seed, epoch)
                started = time.perf_counter()
                fit = model.fit(make_dataset(splits.x_train, splits.y_train, config.batch_size, order),
                                validation_data=validation, initial_epoch=epoch, epochs=epoch + 1,
                                shuffle=False, verbose=verbose)
                logs = {key: values[-1] for key, values in fit.history.items()}
                row = _epoch_row(epoch + 1, logs, state["learning_rate"], time.perf_counter() - started)
                if _schedule_after_epoch(state, row, config):
                    best = model.get_weights()
                _write_checkpoint(path, model, best, state)
                fault_point("epoch-committed", epoch + 1)
                log(f"epoch {row['epoch']:3d}  loss {row['loss']:.4f}  acc {row['accuracy']:.4f}  "
                    f"val_loss {row['val_loss']:.4f}  val_acc {row['val_accuracy']:.4f}  "
                    f"lr {row['learning_rate']:.1e}  {row['seconds']:.1f}s")
        finally:
            keras.mixed_precision.set_global_policy("float32")
        entry = _write_results(run, _float32_copy(name, best), state, splits, config, out_dir)
        path.unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    return entry


def _write_results(run: str, model: keras.Model, state: dict[str, Any], splits: Splits,
                   config: TrainConfig, out_dir: Path) -> dict[str, Any]:
    """Evaluate the final model, then store it with its history, manifest entry and logits (one
    pass over the validation and test images serves both)."""
    logits = plain_logits(model, splits)
    val_probs, test_probs = softmax(logits["val_tta0"]), softmax(logits["test_tta0"])
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
        "cpu": cpu_description(),  # the machine the minutes and images/s were measured on
    }
    document = store.history_document(run, state["best_epoch"], history)
    store.save_trained(out_dir, run, model, document, entry)
    store.save_predictions(out_dir, run, logits, np.float32)
    return store.manifest_entry(out_dir, run)  # with the logits file's checksum


def plain_logits(model: keras.Model, splits: Splits) -> dict[str, np.ndarray]:
    """A run's validation and test logits ("val_tta0", "test_tta0"), stored beside it: the book's pages
    are computed from them, so every CPU shows the same numbers (cnnbook.book.pages.logits)."""
    return {"val_tta0": model_logits(model, splits.x_val), "test_tta0": model_logits(model, splits.x_test)}


def store_logits(run: str, splits: Splits, folder: str | os.PathLike | None = None) -> None:
    """Compute and store the plain logits of an already stored run (see plain_logits)."""
    folder = store.models_dir(folder)
    store.save_predictions(folder, run, plain_logits(store.load_trained(run, folder), splits), np.float32)
