"""The one training engine (chapters "Architectures" and "Putting it all together"): every recipe, the
shared one (cnnbook.core.train) and airbench's (cnnbook.airbench.train), trains through ``train``.

A recipe supplies the model, its optimizer step and its schedule, as a ``Session`` that trains one
epoch at a time; the engine owns the rest, the same for every model:

* one checkpoint file per epoch, ``<checkpoint-dir>/<run>/checkpoint.npz``, written atomically: every
  array the session needs to continue (model, optimizer and schedule variables), the progress (history,
  counters) and what a resume must match (model, recipe, data fingerprint, split sizes); a kill at any
  moment leaves the previous epoch's checkpoint or the new one, and a resume continues bit for bit;
* a lock in the run's checkpoint folder (a second run on it is refused), stale temporaries removed;
* an unreadable or foreign checkpoint is one line (``CheckpointError``) saying what to do;
* the precision policy (mixed bfloat16 or float32) set for the run and reset after it;
* one progress line per epoch; the final float32 model, its history, manifest entry and logits stored.

Resume is bit-identical because an epoch's batches depend only on (seed, epoch) and TensorFlow runs one
op at a time (cnnbook.core.backend): with two ops in flight at once, a multi-core CPU made two
identical runs of airbench's step end with different weights.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

import numpy as np

from cnnbook.core import store
from cnnbook.core.backend import keras, tf
from cnnbook.core.data import Splits
from cnnbook.core.exceptions import CheckpointError
from cnnbook.core.files import (
    REPOSITORY_ROOT,
    atomic_path,
    exclusive_lock,
    fault_point,
    remove_stale_temporaries,
)
from cnnbook.core.metrics import accuracy, negative_log_likelihood, softmax
from cnnbook.core.names import run_name
from cnnbook.core.precision import cpu_description

DEFAULT_CHECKPOINT_DIR = REPOSITORY_ROOT / "checkpoints"
CHECKPOINT_NAME = "checkpoint.npz"
LOCK_NAME = "train.lock"
CHECKPOINT_FORMAT = (
    2  # 2: one format for every recipe (1 was the shared recipe's alone)
)
MATCHED = (
    "model",
    "recipe",
    "data_fingerprint",
    "n_train",
    "n_val",
)  # what a resume must share


class Session(Protocol):
    """A recipe's run in progress: the engine calls it once per epoch."""

    def initial_state(self) -> dict[str, Any]:
        """The schedule's counters before the first epoch (progress["session"], checkpointed)."""

    def train_epoch(self, epoch: int, progress: dict[str, Any]) -> dict[str, float]:
        """Train one epoch; return its loss, accuracy, val_loss, val_accuracy, learning_rate, images."""

    def end_epoch(self, progress: dict[str, Any], row: dict[str, float]) -> None:
        """Update the schedule's counters in progress["session"] after an epoch."""

    def finished(self, progress: dict[str, Any]) -> bool:
        """Whether the run is over."""

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array a resume needs (model, optimizer and schedule variables), by name."""

    def load(self, arrays: dict[str, np.ndarray]) -> None:
        """Put a checkpoint's arrays back (the inverse of ``arrays``)."""

    def final_weights(self) -> list[np.ndarray]:
        """The weights the run ends with (the best epoch's, or the last)."""


class Recipe(Protocol):
    """A training recipe: its record, its session and how its model is evaluated."""

    model: str
    seed: int
    mixed_precision: bool
    tta_level: int

    def record(self) -> dict[str, Any]:
        """The recipe as JSON (the manifest's "config"; a resume must match it)."""

    def check(self, splits: Splits) -> None:
        """Refuse splits the recipe cannot train on (ValueError naming what to change)."""

    def start(self, splits: Splits) -> Session:
        """The session before its first epoch (called under the run's precision policy and seed)."""

    def build(self) -> keras.Model:
        """The untrained model, float32 (the final weights go into it)."""

    def logits(self, model: keras.Model, splits: Splits) -> dict[str, np.ndarray]:
        """Validation and test logits, plain ("val_tta0") and with the recipe's TTA ("val_tta2")."""


def epoch_order(n: int, seed: int, epoch: int, stream: int = 0) -> np.ndarray:
    """The shuffle order of one epoch: a permutation of range(n) that depends only on (seed, epoch)."""
    key = [seed, epoch] if stream == 0 else [seed, epoch, stream]
    return np.random.default_rng(key).permutation(n)


@contextmanager
def precision_policy(mixed: bool) -> Iterator[None]:
    """Keras' global dtype policy for the block: mixed bfloat16 or float32; float32 again after it."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if mixed else "float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def new_progress(recipe: Recipe, splits: Splits) -> dict[str, Any]:
    """The progress of a run before its first epoch, with what a resume must match."""
    record = json.loads(
        json.dumps(recipe.record())
    )  # as a checkpoint gives it back (tuples become lists)
    return {
        "format": CHECKPOINT_FORMAT,
        "model": recipe.model,
        "recipe": record,
        "data_fingerprint": splits.fingerprint,
        "n_train": len(splits.x_train),
        "n_val": len(splits.x_val),
        "epochs_done": 0,
        "images_seen": 0,
        "setup_seconds": 0.0,
        "history": [],
        "session": {},
    }


def write_checkpoint(
    path: Path, arrays: dict[str, np.ndarray], progress: dict[str, Any]
) -> None:
    """One file for the epoch: the session's arrays and the progress, renamed into place."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, progress=np.array(json.dumps(progress)))
    with atomic_path(path) as tmp:
        fault_point("checkpoint-started", progress["epochs_done"])
        tmp.write_bytes(buffer.getvalue())
        fault_point("checkpoint-before-rename", progress["epochs_done"])


def read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The progress and arrays of a checkpoint file, or a CheckpointError saying what to do."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        progress = json.loads(str(arrays.pop("progress")))
        if (
            not isinstance(progress, dict)
            or progress.get("format") != CHECKPOINT_FORMAT
        ):
            raise ValueError("unknown checkpoint format")
    except Exception as exc:  # np.load raises many types (EOFError, BadZipFile, KeyError, ValueError, ...)
        raise CheckpointError(
            f"{path}: unreadable checkpoint ({type(exc).__name__}); "
            "rerun with --fresh to discard it and start over"
        ) from None
    return progress, arrays


def check_same_run(path: Path, saved: dict[str, Any], expected: dict[str, Any]) -> None:
    """Refuse to resume a checkpoint made with another model, recipe, split or data set."""
    differ = [key for key in MATCHED if saved.get(key) != expected[key]]
    if "recipe" in differ:
        fields = [
            f
            for f in expected["recipe"]
            if saved.get("recipe", {}).get(f) != expected["recipe"][f]
        ]
        differ[differ.index("recipe")] = "recipe (" + ", ".join(fields) + ")"
    if differ:
        raise CheckpointError(
            f"{path}: made with another {', '.join(differ)} than this run; rerun with the "
            "same options and data, or with --fresh to discard it"
        )


def variable_arrays(prefix: str, variables: list) -> dict[str, np.ndarray]:
    """Variables as numbered arrays ("model_0", ...) for a checkpoint (a session's ``arrays``)."""
    return {f"{prefix}_{i}": np.asarray(v.numpy()) for i, v in enumerate(variables)}


def load_variables(prefix: str, variables: list, arrays: dict[str, np.ndarray]) -> None:
    """Assign a checkpoint's numbered arrays to the variables, refusing a count that differs."""
    saved = sorted(
        (k for k in arrays if k.rsplit("_", 1)[0] == prefix),
        key=lambda k: int(k.rsplit("_", 1)[1]),
    )
    if len(saved) != len(variables):
        raise CheckpointError(
            f"checkpoint holds {len(saved)} {prefix} variables, the run has {len(variables)}; "
            "rerun with --fresh"
        )
    for variable, key in zip(variables, saved):
        variable.assign(arrays[key])


def _check_splits(recipe: Recipe, splits: Splits) -> None:
    """Refuse splits that cannot train or validate."""
    for part in ("train", "val"):
        if len(getattr(splits, f"x_{part}")) == 0:
            raise ValueError(
                f"the {part} split holds no images; check the data and --val-size"
            )
    recipe.check(splits)


def _start(
    recipe: Recipe, splits: Splits, path: Path | None, resume: bool, fresh: bool
) -> tuple[Session, dict[str, Any]]:
    """The session with its progress: fresh, or restored from the checkpoint at path (if any)."""
    if path is not None and path.exists() and fresh:
        path.unlink()
    if path is not None and path.exists() and not resume:
        raise CheckpointError(
            f"{path}: a checkpoint of an unfinished run exists; pass --resume to continue "
            "it or --fresh to discard it"
        )
    progress = new_progress(recipe, splits)
    saved = arrays = None
    if (
        path is not None and path.exists()
    ):  # read before the (minutes of) set-up: a bad one is refused at once
        saved, arrays = read_checkpoint(path)
        check_same_run(path, saved, progress)
    keras.utils.set_random_seed(recipe.seed)
    started = time.perf_counter()
    session = recipe.start(splits)
    progress["setup_seconds"] = time.perf_counter() - started
    progress["session"] = session.initial_state()
    if saved is None:
        return session, progress
    session.load(arrays)
    return session, saved


def epoch_line(row: dict[str, float]) -> str:
    """The progress line of one epoch (every recipe)."""
    return (
        f"epoch {row['epoch']:3d}  loss {row['loss']:.4f}  acc {row['accuracy']:.4f}  "
        f"val_loss {row['val_loss']:.4f}  val_acc {row['val_accuracy']:.4f}  "
        f"lr {row['learning_rate']:.2e}  {row['seconds']:.1f}s"
    )


def run_epochs(
    recipe: Recipe,
    splits: Splits,
    path: Path | None = None,
    resume: bool = False,
    fresh: bool = False,
    log: Callable[[str], None] = print,
) -> tuple[keras.Model, dict[str, Any]]:
    """Train a recipe to its end, checkpointing every epoch to path (None: no checkpoint, e.g. a
    benchmark); return the float32 model and the progress. The caller holds the folder's lock."""
    _check_splits(recipe, splits)
    with precision_policy(recipe.mixed_precision):
        session, progress = _start(recipe, splits, path, resume, fresh)
        if progress["epochs_done"]:
            log(
                f"[{run_name(recipe.model, recipe.seed)}] resuming after epoch {progress['epochs_done']}"
            )
        while not session.finished(progress):
            epoch, started = progress["epochs_done"], time.perf_counter()
            trained = session.train_epoch(epoch, progress)
            row = {
                "epoch": epoch + 1,
                **trained,
                "seconds": time.perf_counter() - started,
            }
            progress["images_seen"] += int(row.pop("images"))
            progress["history"].append(row)
            progress["epochs_done"] = epoch + 1
            session.end_epoch(progress, row)
            if path is not None:
                write_checkpoint(path, session.arrays(), progress)
                fault_point("epoch-committed", epoch + 1)
            log(epoch_line(row))
        weights = session.final_weights()
    model = recipe.build()
    model.set_weights(weights)
    return model, progress


def train(
    recipe: Recipe,
    splits: Splits,
    out_dir: str | os.PathLike | None = None,
    checkpoint_root: str | os.PathLike = DEFAULT_CHECKPOINT_DIR,
    resume: bool = False,
    fresh: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train one run of a recipe and store it (model, history, manifest entry, logits) in out_dir as
    run_name(model, seed); return its manifest entry."""
    run = run_name(recipe.model, recipe.seed)
    out_dir, folder = store.writable_folder(out_dir), Path(checkpoint_root) / run
    path = folder / CHECKPOINT_NAME
    with exclusive_lock(folder / LOCK_NAME, f"training {run!r}"):
        remove_stale_temporaries(folder)
        model, progress = run_epochs(recipe, splits, path, resume, fresh, log)
        entry = write_results(run, recipe, model, progress, splits, out_dir)
        path.unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    return entry


def _scores(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Accuracy and negative log-likelihood of logits."""
    probabilities = softmax(logits)
    return accuracy(probabilities, labels), negative_log_likelihood(
        probabilities, labels
    )


def write_results(
    run: str,
    recipe: Recipe,
    model: keras.Model,
    progress: dict[str, Any],
    splits: Splits,
    out_dir: Path,
) -> dict[str, Any]:
    """Evaluate the final model once, then store it with its history, manifest entry and logits."""
    started = time.perf_counter()
    logits = recipe.logits(model, splits)
    evaluate_seconds = time.perf_counter() - started
    history = progress["history"]
    train_seconds = float(
        progress["setup_seconds"] + sum(row["seconds"] for row in history)
    )
    (val_acc, val_loss), (test_acc, test_loss) = (
        _scores(logits[f"{s}_tta0"], getattr(splits, f"y_{s}")) for s in ("val", "test")
    )
    best_epoch = int(progress["session"].get("best_epoch", len(history)))
    entry = {
        "params": int(model.count_params()),
        "trainable_params": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "val_accuracy": val_acc,
        "val_loss": val_loss,
        "test_accuracy": test_acc,
        "test_loss": test_loss,
    }
    if recipe.tta_level:
        level = recipe.tta_level
        (val_tta, _), (test_tta, test_loss_tta) = (
            _scores(logits[f"{s}_tta{level}"], getattr(splits, f"y_{s}"))
            for s in ("val", "test")
        )
        entry |= {
            "val_accuracy_tta": val_tta,
            "test_accuracy_tta": test_tta,
            "test_loss_tta": test_loss_tta,
            "tta_level": level,
        }
    entry |= {
        "train_seconds": train_seconds,
        "evaluate_seconds": evaluate_seconds,
        "images_per_second": progress["images_seen"] / max(train_seconds, 1e-9),
        "seed": recipe.seed,
        "config": progress["recipe"],
        "n_train": len(splits.x_train),
        "n_val": len(splits.x_val),
        "n_test": len(splits.x_test),
        "data_fingerprint": splits.fingerprint,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_description(),  # the machine the minutes and images/s were measured on
    }
    store.save_trained(
        out_dir, run, model, store.history_document(run, best_epoch, history), entry
    )
    store.save_predictions(out_dir, run, logits, np.float32)
    return store.manifest_entry(out_dir, run)  # with the logits file's checksum


def store_logits(
    recipe: Recipe, splits: Splits, folder: str | os.PathLike | None = None
) -> None:
    """Compute and store the logits of an already stored run of the recipe (``python -m cnnbook
    store-logits``): the same ``recipe.logits`` training stores."""
    folder = store.models_dir(folder)
    model = store.load_trained(run_name(recipe.model, recipe.seed), folder)
    store.save_predictions(
        folder,
        run_name(recipe.model, recipe.seed),
        recipe.logits(model, splits),
        np.float32,
    )
