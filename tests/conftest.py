"""Shared fixtures: synthetic CIFAR-10 folders in the real pickle format, tiny splits."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# tools/*.py are scripts, not a package: the tests import them by name (tools/page_report.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from cnnbook.core.data import CLASS_NAMES, Splits, fingerprint  # noqa: E402


def _batch(n: int, seed: int) -> dict:
    """One synthetic batch dict in the CIFAR-10 python layout."""
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"synthetic",
        b"labels": [int(i % 10) for i in range(n)],
        b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(n)],
    }


def write_cifar_folder(folder: Path, per_batch: int = 20) -> Path:
    """Write data_batch_1..5, test_batch and batches.meta with synthetic content."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        (folder / name).write_bytes(pickle.dumps(_batch(per_batch, i), protocol=2))
    meta = {
        b"label_names": [c.encode() for c in CLASS_NAMES],
        b"num_cases_per_batch": per_batch,
    }
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return folder


@pytest.fixture(name="write_cifar_folder")
def write_cifar_folder_fixture():
    """The function that writes a synthetic CIFAR-10 folder (for tests that need more than one)."""
    return write_cifar_folder


@pytest.fixture
def cifar_folder(tmp_path: Path) -> Path:
    """A synthetic cifar-10-batches-py folder with 100 training and 20 test images."""
    return write_cifar_folder(tmp_path / "cifar-10-batches-py")


def make_tiny_splits() -> Splits:
    """Tiny random splits for smoke training (learnable: the label is the brightest channel)."""
    rng = np.random.default_rng(0)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.integers(0, 100, size=(n, 32, 32, 3), dtype=np.uint8)
        y = rng.integers(0, 3, size=n)
        x[np.arange(n), :, :, y] += 150
        return x, y.astype(np.int64)

    (xt, yt), (xv, yv), (xs, ys) = make(64), make(20), make(20)
    return Splits(xt, yt, xv, yv, xs, ys, CLASS_NAMES, fingerprint(xt, yt, xs, ys))


@pytest.fixture
def tiny_splits() -> Splits:
    """Tiny random splits for smoke training (learnable: the label is the brightest channel)."""
    return make_tiny_splits()


@pytest.fixture(scope="session")
def shared_tiny_splits() -> Splits:
    """The same tiny splits, built once for fixtures that outlive one test."""
    return make_tiny_splits()
