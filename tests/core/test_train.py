"""cnnbook.core.train: a smoke training writes a valid manifest, the schedule is the documented one,
tampering is refused (faults and resume: test_faults.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cnnbook.core.data import Splits
from cnnbook.core.exceptions import ModelFileError
from cnnbook.core.files import sha256_file, stale_temporaries
from cnnbook.core.metrics import (
    accuracy,
    negative_log_likelihood,
    predict_probabilities,
)
from cnnbook.core.store import load_trained, read_manifest
from cnnbook.core.train import TrainConfig, train_model

TINY = TrainConfig(epochs=1, batch_size=16, mixed_precision=False)


def _quiet(_: str) -> None:
    pass


def test_one_epoch_smoke_training_writes_valid_manifest(
    tiny_splits: Splits, tmp_path: Path
) -> None:
    entry = train_model(
        "batchnorm",
        tiny_splits,
        TINY,
        out_dir=tmp_path / "models",
        checkpoint_root=tmp_path / "ckpt",
        log=_quiet,
        verbose=0,
    )
    manifest = read_manifest(tmp_path / "models")
    assert manifest["batchnorm"] == json.loads(json.dumps(entry))
    assert entry["epochs_run"] == 1 and entry["best_epoch"] == 1
    assert (
        entry["params"] == 552_298
        and entry["data_fingerprint"] == tiny_splits.fingerprint
    )
    for name, digest in entry["files"].items():
        assert sha256_file(tmp_path / "models" / name) == digest
    history = json.loads((tmp_path / "models" / "batchnorm.history.json").read_text())
    assert [row["epoch"] for row in history["epochs"]] == [1]
    model = load_trained("batchnorm", tmp_path / "models")
    probs = predict_probabilities(model, tiny_splits.x_test)
    assert accuracy(probs, tiny_splits.y_test) == pytest.approx(entry["test_accuracy"])
    assert negative_log_likelihood(probs, tiny_splits.y_test) == pytest.approx(
        entry["test_loss"]
    )
    assert model.get_layer("block1_1_conv").dtype_policy.name == "float32"
    assert not (tmp_path / "ckpt" / "batchnorm").exists()
    assert (
        stale_temporaries(tmp_path / "models") == []
    )  # no temporary files left behind


def test_tampered_model_is_refused(tiny_splits: Splits, tmp_path: Path) -> None:
    train_model(
        "baseline",
        tiny_splits,
        TINY,
        out_dir=tmp_path,
        checkpoint_root=tmp_path / "ckpt",
        log=_quiet,
        verbose=0,
    )
    path = tmp_path / "baseline.keras"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="does not match the manifest"):
        load_trained("baseline", tmp_path)
    path.unlink()
    with pytest.raises(ModelFileError, match="model file is missing"):
        load_trained("baseline", tmp_path)


def test_unknown_model_in_manifest_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no entry for model 'dropout'"):
        load_trained("dropout", tmp_path)


def test_learning_rate_schedule_and_early_stopping(
    tiny_splits: Splits, tmp_path: Path
) -> None:
    # constant labels-independent data: validation accuracy cannot keep improving, so it must stop early
    rng = np.random.default_rng(1)
    noise = Splits(
        tiny_splits.x_train,
        rng.permutation(tiny_splits.y_train),
        tiny_splits.x_val,
        tiny_splits.y_val,
        tiny_splits.x_test,
        tiny_splits.y_test,
        tiny_splits.class_names,
        "x",
    )
    config = TrainConfig(
        epochs=30,
        batch_size=16,
        learning_rate=1e-3,
        lr_patience=1,
        early_stopping_patience=2,
        mixed_precision=False,
    )
    entry = train_model(
        "baseline",
        noise,
        config,
        out_dir=tmp_path,
        checkpoint_root=tmp_path / "c",
        log=_quiet,
        verbose=0,
    )
    history = json.loads((tmp_path / "baseline.history.json").read_text())["epochs"]
    assert entry["epochs_run"] < 30
    assert entry["epochs_run"] - entry["best_epoch"] == 2
    best = max(history, key=lambda row: row["val_accuracy"])
    assert best["epoch"] == entry["best_epoch"]
    assert entry["val_accuracy"] == pytest.approx(best["val_accuracy"], abs=1e-6)
    learning_rate, best_loss, wait = (
        1e-3,
        float("inf"),
        0,
    )  # replay the documented schedule
    for row in history:
        assert row["learning_rate"] == pytest.approx(learning_rate)
        if row["val_loss"] < best_loss:
            best_loss, wait = row["val_loss"], 0
        else:
            wait += 1
            if wait >= config.lr_patience:
                learning_rate, wait = (
                    max(learning_rate * config.lr_factor, config.min_lr),
                    0,
                )
