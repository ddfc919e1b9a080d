"""cnnbook.data: loading, validation of bad input, the restricted unpickler, split, fingerprint."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from cnnbook.core.data import (
    CLASS_NAMES,
    load_cifar10,
    load_from_folder,
    load_splits,
    safe_unpickle,
    stratified_split,
)
from cnnbook.core.exceptions import DataError


def test_loads_synthetic_folder_as_nhwc_uint8(cifar_folder: Path) -> None:
    data = load_from_folder(cifar_folder)
    assert data.x_train.shape == (100, 32, 32, 3) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (20, 32, 32, 3)
    assert data.class_names == CLASS_NAMES
    raw = pickle.loads((cifar_folder / "data_batch_1").read_bytes())
    flat = raw[b"data"][3]
    # channel-planar R, G, B rows: pixel (row 5, col 7) of image 3
    assert tuple(data.x_train[3, 5, 7]) == (
        flat[5 * 32 + 7],
        flat[1024 + 5 * 32 + 7],
        flat[2048 + 5 * 32 + 7],
    )
    assert list(data.y_train[:12]) == [i % 10 for i in range(12)]


def test_env_var_is_used(cifar_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIFAR10_DIR", str(cifar_folder))
    assert load_cifar10().x_train.shape[0] == 100


def test_explicit_path_wins_over_env(
    cifar_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "nowhere"))
    assert load_cifar10(cifar_folder).x_test.shape[0] == 20


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="folder not found"):
        load_from_folder(tmp_path / "absent")


def test_missing_batch_file(cifar_folder: Path) -> None:
    (cifar_folder / "data_batch_3").unlink()
    with pytest.raises(DataError, match="data_batch_3: batch file is missing"):
        load_from_folder(cifar_folder)


def test_corrupt_batch_file(cifar_folder: Path) -> None:
    path = cifar_folder / "test_batch"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError, match="test_batch: corrupt"):
        load_from_folder(cifar_folder)


def _rewrite(folder: Path, name: str, **changes) -> None:
    batch = pickle.loads((folder / name).read_bytes())
    batch.update({k.encode(): v for k, v in changes.items()})
    (folder / name).write_bytes(pickle.dumps(batch, protocol=2))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"data": np.zeros((20, 3000), np.uint8)}, "shape"),
        ({"data": np.zeros((20, 3072), np.float32)}, "uint8"),
        ({"labels": [0] * 19 + [10]}, "out of range"),
        ({"labels": [-1] + [0] * 19}, "out of range"),
        ({"labels": [0] * 5}, "need 20 labels"),
        ({"labels": [0.0] * 20}, "whole numbers"),
    ],
)
def test_malformed_batches_are_refused(
    cifar_folder: Path, changes: dict, message: str
) -> None:
    _rewrite(cifar_folder, "data_batch_2", **changes)
    with pytest.raises(DataError, match=message):
        load_from_folder(cifar_folder)


class _Payload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_restricted_unpickler_refuses_code_execution(
    cifar_folder: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    evil = pickle.dumps({b"data": _Payload(marker), b"labels": []}, protocol=2)
    pickle.loads(
        pickle.dumps(_Payload(tmp_path / "control"))
    )  # the payload really runs when unrestricted
    assert (tmp_path / "control").exists()
    (cifar_folder / "data_batch_1").write_bytes(evil)
    with pytest.raises(DataError, match="forbidden global"):
        load_from_folder(cifar_folder)
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError):
        safe_unpickle(evil)


def test_stratified_split_is_fixed_balanced_and_disjoint() -> None:
    labels = np.repeat(np.arange(10), 50)
    train, val = stratified_split(labels, val_size=100, seed=1)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 500
    assert np.all(np.bincount(labels[val]) == 10)
    again_train, again_val = stratified_split(labels, val_size=100, seed=1)
    assert np.array_equal(val, again_val) and np.array_equal(train, again_train)
    assert not np.array_equal(val, stratified_split(labels, val_size=100, seed=2)[1])


def test_load_splits_and_fingerprint(
    cifar_folder: Path, tmp_path: Path, write_cifar_folder
) -> None:
    splits = load_splits(cifar_folder, val_size=20)
    assert splits.x_train.shape[0] == 80 and splits.x_val.shape[0] == 20
    assert len(splits.fingerprint) == 64
    assert splits.fingerprint == load_splits(cifar_folder, val_size=20).fingerprint
    other = write_cifar_folder(tmp_path / "other", per_batch=20)
    _rewrite(other, "test_batch", labels=[(i + 1) % 10 for i in range(20)])
    assert load_splits(other, val_size=20).fingerprint != splits.fingerprint


def test_keras_fallback_when_no_path_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from keras.datasets import cifar10

    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    x = np.zeros((4, 32, 32, 3), np.uint8)
    monkeypatch.setattr(
        cifar10,
        "load_data",
        lambda: ((x, np.arange(4).reshape(-1, 1)), (x, np.ones((4, 1)))),
    )
    data = load_cifar10()
    assert data.y_train.tolist() == [0, 1, 2, 3] and data.y_test.dtype == np.int64


def test_failed_download_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from keras.datasets import cifar10

    def offline():
        raise Exception("URL fetch failure: no network")

    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.setattr(cifar10, "load_data", offline)
    with pytest.raises(DataError, match="set CIFAR10_DIR or pass --data-dir"):
        load_cifar10()
