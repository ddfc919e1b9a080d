"""The store of trained models, best_models/: its paths, manifest, histories, checksums and verified loading.

Layout (one owner: every other module goes through these functions)::

    best_models/manifest.json           {"format": 1, "models": {run: entry}}
    best_models/<run>.keras             the float32 model (Keras 3, loads in safe mode)
    best_models/<run>.history.json      {"model": run, "best_epoch": k, "epochs": [row, ...]}

A run is one training of a model with one seed (cnnbook.core.names): "dropout" is the primary run
the book's figures use, "dropout.seed43" another seed of the same model.

Every entry's ``files`` maps each file name to its sha256; reading a model or a history checks it.
Used by training (writing), the CLI (info, evaluate) and the book's pages (reading).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from cnnbook.core.exceptions import ModelFileError
from cnnbook.core.files import (
    REPOSITORY_ROOT,
    atomic_path,
    atomic_write_json,
    exclusive_lock,
    fault_point,
    remove_stale_temporaries,
    sha256_file,
)
from cnnbook.core.names import ALL_MODELS, model_of

if (
    TYPE_CHECKING
):  # Keras is imported only to load or save a model: `cnnbook info` needs no TensorFlow
    import keras

DEFAULT_MODELS_DIR = REPOSITORY_ROOT / "best_models"
MODELS_DIR_VARIABLE = "CNNBOOK_MODELS_DIR"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
LOCK_NAME = ".manifest.lock"
# What every manifest entry must hold (the CLI and the book read these), and of which type.
ENTRY_FIELDS: dict[str, tuple[type, ...]] = {
    "params": (int,),
    "epochs_run": (int,),
    "best_epoch": (int,),
    "val_accuracy": (int, float),
    "test_accuracy": (int, float),
    "test_loss": (int, float),
    "train_seconds": (int, float),
    "images_per_second": (int, float),
    "data_fingerprint": (str,),
    "files": (dict,),
}
# One row per epoch of a history file, in this order.
HISTORY_COLUMNS: tuple[str, ...] = (
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "learning_rate",
    "seconds",
)


def models_dir(path: str | os.PathLike | None = None) -> Path:
    """The store's folder: path if given, else $CNNBOOK_MODELS_DIR, else the repository's best_models/."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get(MODELS_DIR_VARIABLE, DEFAULT_MODELS_DIR))


def writable_folder(folder: str | os.PathLike | None) -> Path:
    """The store's folder, created if needed; a clear error if it is a file or cannot be written."""
    folder = models_dir(folder)
    if folder.exists() and not folder.is_dir():
        raise ModelFileError(
            f"{folder}: is a file, not a folder; choose a folder for the trained models"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelFileError(
            f"{folder}: cannot create the models folder ({exc.strerror})"
        ) from None
    if not os.access(folder, os.W_OK):
        raise ModelFileError(
            f"{folder}: the models folder is not writable; choose another one"
        )
    return folder


def model_file(folder: str | os.PathLike, name: str) -> Path:
    """Where model ``name`` is stored."""
    return Path(folder) / f"{name}.keras"


def history_file(folder: str | os.PathLike, name: str) -> Path:
    """Where the training history of model ``name`` is stored."""
    return Path(folder) / f"{name}.history.json"


def predictions_file(folder: str | os.PathLike, name: str) -> Path:
    """Where the stored logits of model ``name`` are (the fast models: with and without TTA)."""
    return Path(folder) / f"{name}.predictions.npz"


def _entry_problem(entry: Any) -> str | None:
    """What is wrong with one manifest entry, or None."""
    if not isinstance(entry, dict):
        return f"must be an object, got {type(entry).__name__}"
    for field, types in ENTRY_FIELDS.items():
        if field not in entry:
            return f"has no {field!r}"
        value = entry[field]
        if isinstance(value, bool) or not isinstance(value, types):
            return f"{field!r} must be {' or '.join(t.__name__ for t in types)}, got {value!r}"
    return None


def read_manifest(folder: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The per-model entries of folder/manifest.json, validated (empty if the file does not exist)."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return {}
    fix = "restore it from git or retrain with `make train`"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(
            f"{path}: unreadable manifest ({type(exc).__name__}); {fix}"
        ) from None
    models = document.get("models") if isinstance(document, dict) else None
    if not isinstance(models, dict):
        raise ModelFileError(
            f'{path}: expected {{"models": {{name: entry}}}}, got {str(document)[:60]}; {fix}'
        )
    for name, entry in models.items():
        problem = _entry_problem(entry)
        if problem:
            raise ModelFileError(
                f"{path}: the entry of model {name!r} {problem}; {fix}"
            )
    return dict(models)


def update_manifest(
    folder: str | os.PathLike, name: str, entry: dict[str, Any]
) -> None:
    """Set one model's entry in folder/manifest.json, atomically, keeping the others (book order)."""
    with exclusive_lock(Path(folder) / LOCK_NAME, "writing the manifest", wait=True):
        _update_manifest_locked(folder, name, entry)


def _update_manifest_locked(
    folder: str | os.PathLike, name: str, entry: dict[str, Any]
) -> None:
    """update_manifest's read-modify-write; the caller holds the store's lock."""
    problem = _entry_problem(entry)
    if problem:
        raise ValueError(f"manifest entry of {name!r} {problem}")
    model_of(name)
    models = read_manifest(folder)
    models[name] = entry
    models = dict(sorted(models.items(), key=lambda item: _run_order(item[0], item[1])))
    atomic_write_json(
        Path(folder) / MANIFEST_NAME, {"format": MANIFEST_FORMAT, "models": models}
    )


def _run_order(run: str, entry: dict[str, Any]) -> tuple[int, int, int]:
    """Book order: by model, the primary run first, then by seed."""
    model = model_of(run)
    return ALL_MODELS.index(model), int(run != model), int(entry.get("seed", 0))


def runs(folder: str | os.PathLike | None, model: str) -> list[str]:
    """The stored runs of one model, primary run first, then by seed."""
    return [run for run in read_manifest(models_dir(folder)) if model_of(run) == model]


def manifest_entry(folder: str | os.PathLike, name: str) -> dict[str, Any]:
    """The manifest entry of one model, or a clear error saying how to get it."""
    entry = read_manifest(folder).get(name)
    if entry is None:
        raise ModelFileError(
            f"{Path(folder) / MANIFEST_NAME}: no entry for model {name!r}; run `make train`"
        )
    return entry


def verify_file(path: str | os.PathLike, expected_sha256: str) -> None:
    """Raise ModelFileError unless the file exists and its sha256 matches the manifest."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(
            f"{path}: model file is missing; run `make train` or restore it from git"
        )
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise ModelFileError(
            f"{path}: sha256 {actual[:12]}… does not match the manifest ({expected_sha256[:12]}…); "
            "it was modified, or a training run stopped before recording it (rerun that `train` with "
            "--resume); otherwise restore it from git"
        )


def _verified(folder: Path, name: str, path: Path) -> Path:
    """path, after checking it against the sha256 that model name's manifest entry records for it."""
    files = manifest_entry(folder, name)["files"]
    if not isinstance(files.get(path.name), str):
        raise ModelFileError(
            f"{folder / MANIFEST_NAME}: no checksum for {path.name}; retrain with `make train`"
        )
    verify_file(path, files[path.name])
    return path


def load_trained(name: str, folder: str | os.PathLike | None = None) -> keras.Model:
    """A trained model, after checking its sha256 against the manifest (Keras safe mode on)."""
    from cnnbook.core.backend import keras
    import cnnbook.core.layers  # noqa: F401  (registers FusedBatchNormalization for loading)

    model_of(name)
    folder = models_dir(folder)
    path = _verified(folder, name, model_file(folder, name))
    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except (
        Exception
    ) as exc:  # Keras raises many types for a damaged archive or an unknown class
        reason = (
            str(exc).strip().splitlines()[0][:120]
            if str(exc).strip()
            else type(exc).__name__
        )
        raise ModelFileError(
            f"{path}: not a loadable Keras model ({reason}); "
            "retrain it with `make train` or restore it from git"
        ) from None


def history_document(
    name: str, best_epoch: int, rows: Sequence[Mapping[str, float]]
) -> dict[str, Any]:
    """A history file's content: the model, its best epoch and one row of HISTORY_COLUMNS per epoch."""
    return {
        "model": name,
        "best_epoch": int(best_epoch),
        "epochs": [{column: row[column] for column in HISTORY_COLUMNS} for row in rows],
    }


def history_column(history: Mapping[str, Any], column: str) -> np.ndarray:
    """One column of HISTORY_COLUMNS (loss, val_accuracy, seconds, ...) of a history, one value per epoch."""
    if column not in HISTORY_COLUMNS:
        raise ValueError(
            f"unknown history column {column!r}: choose one of {', '.join(HISTORY_COLUMNS)}"
        )
    return np.array([row[column] for row in history["epochs"]])


def read_history(name: str, folder: str | os.PathLike | None = None) -> dict[str, Any]:
    """The training history of a stored model, after checking its sha256 against the manifest."""
    model_of(name)
    folder = models_dir(folder)
    path = _verified(folder, name, history_file(folder, name))
    return json.loads(path.read_text(encoding="utf-8"))


def save_trained(
    folder: str | os.PathLike,
    name: str,
    model: keras.Model,
    history: dict[str, Any],
    entry: dict[str, Any],
) -> dict[str, Any]:
    """Write the model and its history atomically, then its manifest entry with their sha256."""
    folder = Path(folder)
    model_path, history_path = model_file(folder, name), history_file(folder, name)
    with exclusive_lock(folder / LOCK_NAME, f"storing model {name!r}", wait=True):
        remove_stale_temporaries(folder, model_path.name)
        remove_stale_temporaries(folder, history_path.name)
        with atomic_path(model_path) as tmp:
            model.save(tmp)
        atomic_write_json(history_path, history)
        fault_point("stored-before-manifest", len(history["epochs"]))
        entry = {
            **entry,
            "files": {
                model_path.name: sha256_file(model_path),
                history_path.name: sha256_file(history_path),
            },
        }
        _update_manifest_locked(folder, name, entry)
    return entry


def save_predictions(
    folder: str | os.PathLike,
    name: str,
    arrays: Mapping[str, np.ndarray],
    dtype: type = np.float32,
) -> None:
    """Store a run's logits (float32; "test_tta0" plain, "test_tta2" with TTA) beside the model;
    checksum in its entry."""
    folder = Path(folder)
    path = predictions_file(folder, name)
    with exclusive_lock(
        folder / LOCK_NAME, f"storing the predictions of {name!r}", wait=True
    ):
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, **{key: np.asarray(a, dtype) for key, a in arrays.items()}
        )
        with atomic_path(path) as tmp:
            tmp.write_bytes(buffer.getvalue())
        entry = manifest_entry(folder, name)
        entry = {**entry, "files": {**entry["files"], path.name: sha256_file(path)}}
        _update_manifest_locked(folder, name, entry)


def read_predictions(
    name: str, folder: str | os.PathLike | None = None
) -> dict[str, np.ndarray] | None:
    """A run's stored logits as float64 arrays after checking the sha256, or None if it has none."""
    folder = models_dir(folder)
    path = predictions_file(folder, name)
    if path.name not in manifest_entry(folder, name)["files"]:
        return None
    with np.load(_verified(folder, name, path), allow_pickle=False) as npz:
        return {key: npz[key].astype(np.float64) for key in npz.files}
