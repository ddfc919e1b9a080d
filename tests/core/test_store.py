"""cnnbook.core.store: one owner of best_models/ — paths, manifest, verified histories."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cnnbook.core import store
from cnnbook.core.exceptions import ModelFileError
from cnnbook.core.files import atomic_write_json, sha256_file

ENTRY = {
    "params": 1,
    "epochs_run": 3,
    "best_epoch": 3,
    "val_accuracy": 0.7,
    "test_accuracy": 0.7,
    "test_loss": 0.9,
    "train_seconds": 36.0,
    "images_per_second": 100.0,
    "data_fingerprint": "f",
    "files": {},
}
ROWS = [
    {
        "epoch": e,
        "loss": 1.0 / e,
        "accuracy": 0.5,
        "val_loss": 1.1,
        "val_accuracy": 0.4 + e / 10,
        "learning_rate": 1e-3,
        "seconds": 10.0 + e,
        "extra": "dropped",
    }
    for e in (1, 2, 3)
]


def _stored_history(folder: Path) -> Path:
    """A history for 'baseline' written and recorded in the manifest as training does."""
    path = store.history_file(folder, "baseline")
    atomic_write_json(path, store.history_document("baseline", 3, ROWS))
    store.update_manifest(
        folder, "baseline", {**ENTRY, "files": {path.name: sha256_file(path)}}
    )
    return path


def test_history_round_trip_keeps_the_defined_columns(tmp_path: Path) -> None:
    _stored_history(tmp_path)
    history = store.read_history("baseline", tmp_path)
    assert history["best_epoch"] == 3 and list(history["epochs"][0]) == list(
        store.HISTORY_COLUMNS
    )
    np.testing.assert_allclose(
        store.history_column(history, "val_accuracy"), [0.5, 0.6, 0.7]
    )
    with pytest.raises(ValueError, match="unknown history column 'acc'"):
        store.history_column(history, "acc")


def test_tampered_history_is_refused(tmp_path: Path) -> None:
    path = _stored_history(tmp_path)
    document = json.loads(path.read_text())
    document["best_epoch"] = 1
    path.write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match="does not match the manifest"):
        store.read_history("baseline", tmp_path)


def test_history_without_checksum_is_refused(tmp_path: Path) -> None:
    _stored_history(tmp_path)
    store.update_manifest(tmp_path, "baseline", ENTRY)
    with pytest.raises(ModelFileError, match="no checksum for baseline.history.json"):
        store.read_history("baseline", tmp_path)


def test_manifest_keeps_book_order_and_models_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("batchnorm", "baseline", "dropout"):
        store.update_manifest(tmp_path, name, ENTRY)
    assert list(store.read_manifest(tmp_path)) == ["baseline", "dropout", "batchnorm"]
    monkeypatch.setenv(store.MODELS_DIR_VARIABLE, str(tmp_path))
    assert store.models_dir() == tmp_path and store.models_dir("x") == Path("x")
    monkeypatch.delenv(store.MODELS_DIR_VARIABLE)
    assert store.models_dir() == store.DEFAULT_MODELS_DIR
    assert (
        store.DEFAULT_MODELS_DIR / store.MANIFEST_NAME
    ).is_file()  # the repository's own store


def test_unreadable_manifest_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / store.MANIFEST_NAME).write_text("{not json")
    with pytest.raises(ModelFileError, match="unreadable manifest"):
        store.read_manifest(tmp_path)


def test_runs_of_a_model_primary_first_then_by_seed(tmp_path: Path) -> None:
    for run, seed in (
        ("dropout.seed44", 44),
        ("baseline", 42),
        ("dropout", 42),
        ("dropout.seed43", 43),
    ):
        store.update_manifest(tmp_path, run, {**ENTRY, "seed": seed})
    assert store.runs(tmp_path, "dropout") == [
        "dropout",
        "dropout.seed43",
        "dropout.seed44",
    ]
    assert list(store.read_manifest(tmp_path)) == [
        "baseline",
        "dropout",
        "dropout.seed43",
        "dropout.seed44",
    ]
    with pytest.raises(ValueError, match="unknown run 'dropout.seedX'"):
        store.update_manifest(tmp_path, "dropout.seedX", ENTRY)


def test_run_names() -> None:
    from cnnbook.core.names import DEFAULT_SEED, model_of, run_name

    assert (
        run_name("dropout", DEFAULT_SEED) == "dropout"
        and run_name("dropout", 43) == "dropout.seed43"
    )
    assert (
        model_of("dropout.seed43") == "dropout" and model_of("batchnorm") == "batchnorm"
    )
    for bad in ("resnet", "dropout.seed042", "dropout.seed42", "dropout.seed"):
        with pytest.raises(ValueError):
            model_of(bad)


def test_predictions_round_trip_checksum_and_absence(tmp_path: Path) -> None:
    store.update_manifest(tmp_path, "fast", ENTRY)
    assert store.read_predictions("fast", tmp_path) is None
    logits = {
        "test_tta0": np.arange(20.0).reshape(2, 10),
        "test_tta2": np.ones((2, 10)),
    }
    store.save_predictions(tmp_path, "fast", logits)
    back = store.read_predictions("fast", tmp_path)
    assert set(back) == set(logits)
    np.testing.assert_allclose(back["test_tta0"], logits["test_tta0"], rtol=1e-3)
    assert (
        store.manifest_entry(tmp_path, "fast")["params"] == ENTRY["params"]
    )  # entry kept
    store.predictions_file(tmp_path, "fast").write_bytes(b"changed")
    with pytest.raises(ModelFileError, match="does not match the manifest"):
        store.read_predictions("fast", tmp_path)


def test_fast_runs_sort_after_the_compared_models(tmp_path: Path) -> None:
    for run in ("fast_short.seed43", "fast", "batchnorm", "fast_short", "baseline"):
        store.update_manifest(
            tmp_path, run, {**ENTRY, "seed": 43 if "seed" in run else 42}
        )
    assert list(store.read_manifest(tmp_path)) == [
        "baseline",
        "batchnorm",
        "fast",
        "fast_short",
        "fast_short.seed43",
    ]
