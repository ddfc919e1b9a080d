"""CIFAR-10 loading: safe unpickling, validation, the fixed train/val split and a data fingerprint (all chapters)."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnbook.core.exceptions import DataError

CLASS_NAMES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
NUM_CLASSES = len(CLASS_NAMES)
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
VAL_SIZE = 5000
SPLIT_SEED = 2024
ENV_VAR = "CIFAR10_DIR"

# The only globals a CIFAR-10 python batch refers to (numpy 1 and numpy 2 spellings; _codecs.encode
# is how protocol-2 pickles written by Python 3 store bytes, and only converts text to bytes).
_ALLOWED_GLOBALS = {
    ("_codecs", "encode"),
    (
        "__builtin__",
        "bytes",
    ),  # how protocol 2 stores an empty byte string (a batch with no images)
    ("builtins", "bytes"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class ForbiddenGlobal(pickle.UnpicklingError):
    """A pickle asked for a global outside the CIFAR-10 allow-list (possible code execution)."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that admits only the numpy globals a CIFAR-10 batch needs."""

    def find_class(self, module: str, name: str):  # noqa: D102 - see class docstring
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise ForbiddenGlobal(f"forbidden global {module}.{name}")


def safe_unpickle(data: bytes) -> object:
    """Unpickle CIFAR-10 bytes with the restricted unpickler (bytes keys, as the format needs)."""
    return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()


@dataclass(frozen=True)
class CifarData:
    """The whole data set: uint8 NHWC images, int64 labels and the class names."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = CLASS_NAMES


@dataclass(frozen=True)
class Splits:
    """Train / validation / test arrays; validation is carved from the 50,000 training images."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    fingerprint: str


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch file into (N, 32, 32, 3) uint8 images and int64 labels, validating it."""
    if not path.is_file():
        raise DataError(f"{path}: batch file is missing")
    try:
        batch = safe_unpickle(path.read_bytes())
    except ForbiddenGlobal as exc:
        raise DataError(
            f"{path}: refused to unpickle ({exc}); not a genuine CIFAR-10 file"
        ) from None
    except Exception as exc:  # truncated or garbage files raise many exception types
        raise DataError(
            f"{path}: corrupt batch file ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DataError(
            f"{path}: not a CIFAR-10 batch (expected a dict with b'data' and b'labels')"
        )
    data, labels = batch[b"data"], np.asarray(batch[b"labels"])
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        raise DataError(
            f"{path}: b'data' must be a uint8 array, got {getattr(data, 'dtype', type(data))}"
        )
    if data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{path}: b'data' must have shape (N, 3072), got {data.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"{path}: labels must be whole numbers 0..9, got {labels.dtype} values"
        )
    if labels.shape != (data.shape[0],):
        raise DataError(
            f"{path}: need {data.shape[0]} labels (one per image), got shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(
            f"{path}: labels out of range 0..9 (min {labels.min()}, max {labels.max()})"
        )
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int64)


def _read_class_names(folder: Path) -> tuple[str, ...]:
    """Read class names from batches.meta if present, else use the standard ones."""
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        return CLASS_NAMES
    try:
        meta = safe_unpickle(meta_path.read_bytes())
        names = tuple(n.decode() for n in meta[b"label_names"])
    except Exception as exc:
        raise DataError(
            f"{meta_path}: corrupt metadata file ({type(exc).__name__})"
        ) from None
    if len(names) != NUM_CLASSES:
        raise DataError(
            f"{meta_path}: expected {NUM_CLASSES} class names, got {len(names)}"
        )
    return names


def load_from_folder(folder: str | os.PathLike) -> CifarData:
    """Load CIFAR-10 from a `cifar-10-batches-py` folder (python layout)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(
            f"{folder}: CIFAR-10 folder not found (set {ENV_VAR} or pass --data-dir)"
        )
    train = [_read_batch(folder / name) for name in TRAIN_FILES]
    x_test, y_test = _read_batch(folder / TEST_FILE)
    if sum(len(x) for x, _ in train) == 0 or len(x_test) == 0:
        raise DataError(
            f"{folder}: the training or the test batches hold no images; not a usable CIFAR-10 copy"
        )
    return CifarData(
        x_train=np.concatenate([x for x, _ in train]),
        y_train=np.concatenate([y for _, y in train]),
        x_test=x_test,
        y_test=y_test,
        class_names=_read_class_names(folder),
    )


def _load_with_keras() -> CifarData:
    """Download (first time) and load CIFAR-10 through keras.datasets."""
    from cnnbook.core.backend import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as exc:  # keras raises a bare Exception when the download fails
        raise DataError(
            f"could not get CIFAR-10 through keras.datasets ({type(exc).__name__}: {exc}); "
            f"set {ENV_VAR} or pass --data-dir"
        ) from None
    return CifarData(
        x_train,
        y_train.reshape(-1).astype(np.int64),
        x_test,
        y_test.reshape(-1).astype(np.int64),
    )


def load_cifar10(data_dir: str | os.PathLike | None = None) -> CifarData:
    """Load CIFAR-10 from data_dir, else $CIFAR10_DIR, else keras.datasets (downloads when online)."""
    if data_dir is not None:
        return load_from_folder(data_dir)
    if os.environ.get(ENV_VAR):
        return load_from_folder(os.environ[ENV_VAR])
    return _load_with_keras()


def stratified_split(
    labels: np.ndarray, val_size: int = VAL_SIZE, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) with val_size images drawn evenly from every class, reproducibly."""
    classes = np.unique(labels)
    missing = sorted(set(range(NUM_CLASSES)) - set(classes.tolist()))
    if missing:
        raise DataError(
            f"the training images hold no {', '.join(CLASS_NAMES[c] for c in missing)}: "
            f"the data is incomplete (CIFAR-10 has {NUM_CLASSES} classes)"
        )
    if val_size < NUM_CLASSES or val_size % NUM_CLASSES:
        raise ValueError(
            f"val_size {val_size} must be a positive multiple of the {NUM_CLASSES} classes"
        )
    per_class = val_size // len(classes)
    rng = np.random.default_rng(seed)
    val_parts = []
    for c in classes:
        members = np.flatnonzero(labels == c)
        if len(members) <= per_class:
            raise ValueError(
                f"class {c} has {len(members)} images, need more than {per_class}"
            )
        val_parts.append(rng.choice(members, size=per_class, replace=False))
    val_idx = np.sort(np.concatenate(val_parts))
    train_idx = np.setdiff1d(np.arange(len(labels)), val_idx)
    return train_idx, val_idx


def fingerprint(*arrays: np.ndarray) -> str:
    """sha256 over the shapes, dtypes and bytes of the arrays (recorded with each trained model)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def load_splits(
    data_dir: str | os.PathLike | None = None,
    val_size: int = VAL_SIZE,
    seed: int = SPLIT_SEED,
) -> Splits:
    """Load CIFAR-10 and split it into the book's fixed train / validation / test sets."""
    data = load_cifar10(data_dir)
    train_idx, val_idx = stratified_split(data.y_train, val_size, seed)
    return Splits(
        x_train=data.x_train[train_idx],
        y_train=data.y_train[train_idx],
        x_val=data.x_train[val_idx],
        y_val=data.y_train[val_idx],
        x_test=data.x_test,
        y_test=data.y_test,
        class_names=data.class_names,
        fingerprint=data_fingerprint(data),
    )


def data_fingerprint(data: CifarData) -> str:
    """The fingerprint of a whole data set (train and test arrays, in their order)."""
    return fingerprint(data.x_train, data.y_train, data.x_test, data.y_test)
