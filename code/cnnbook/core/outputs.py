"""The store of model outputs: what a trained run computes on a set of images, computed once (every chapter).

A chapter asks for, e.g., the flatten-layer features of the Dropout model on 2,000 blurred test
images. Computing them costs seconds to minutes on a laptop's CPU; the answer depends only on the
model file, the images, the code that computes it and the library versions. So the answer is kept
in a folder outside _build (``.cache/outputs/`` in the repository, or $CNNBOOK_OUTPUTS), under a
key made of all four, and survives ``rm -rf _build`` and edits to unrelated code. Before a stored
answer is used, the model recomputes it on the first few images and must agree (to round-off): a
stale or corrupt file is recomputed, never trusted. ``python -m cnnbook clear-cache`` empties it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import json
import os
import shutil
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from cnnbook.core import store
from cnnbook.core.files import REPOSITORY_ROOT, atomic_path

ENV_VAR = "CNNBOOK_OUTPUTS"
SAMPLE = 32  # images recomputed to verify a stored answer before it is used
# The code every output depends on: the model's layers and how the book runs a model.
BASE_MODULES = (
    "cnnbook.core.layers",
    "cnnbook.core.models",
    "cnnbook.airbench.net",
    "cnnbook.core.metrics",
    "cnnbook.core.outputs",
)


def outputs_dir() -> Path:
    """Where stored outputs live: $CNNBOOK_OUTPUTS, else .cache/outputs in the repository."""
    return Path(os.environ.get(ENV_VAR) or REPOSITORY_ROOT / ".cache" / "outputs")


def _versions() -> dict[str, str]:
    """The versions of the libraries that compute outputs."""
    from cnnbook.core.backend import keras, tf

    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def code_fingerprint(modules: Iterable[str] = ()) -> str:
    """sha256 of the source of the modules an output is computed by (BASE_MODULES always) and the library versions."""
    return _code_fingerprint(tuple(sorted({*BASE_MODULES, *modules})))


@functools.lru_cache(maxsize=None)
def _code_fingerprint(modules: tuple[str, ...]) -> str:
    """code_fingerprint for a sorted tuple of module names, computed once per process."""
    digest = hashlib.sha256(json.dumps(_versions(), sort_keys=True).encode())
    for name in modules:
        digest.update(
            name.encode()
            + b"\0"
            + inspect.getsource(importlib.import_module(name)).encode()
        )
    return digest.hexdigest()


def images_fingerprint(images: np.ndarray) -> str:
    """sha256 of an image array's shape, dtype and bytes."""
    images = np.ascontiguousarray(images)
    digest = hashlib.sha256(f"{images.shape}|{images.dtype}".encode())
    digest.update(images.tobytes())
    return digest.hexdigest()


def output_key(
    run: str, what: str, images: np.ndarray, modules: Iterable[str] = ()
) -> str:
    """The key of one output: the model file's sha256 (manifest), the images, the code and versions."""
    entry = store.manifest_entry(store.models_dir(), run)
    parts = {
        "run": run,
        "model": entry["files"][f"{run}.keras"],
        "what": what,
        "images": images_fingerprint(images),
        "code": code_fingerprint(modules),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _agrees(stored: np.ndarray, fresh: np.ndarray) -> bool:
    """True when a stored answer matches a fresh computation up to round-off of another numeric path."""
    scale = max(1.0, float(np.abs(fresh).max(initial=0.0)))
    return stored.shape[1:] == fresh.shape[1:] and np.allclose(
        stored[: len(fresh)], fresh, rtol=1e-3, atol=1e-4 * scale
    )


def stored_outputs(
    run: str,
    what: str,
    images: np.ndarray,
    compute: Callable[[np.ndarray], np.ndarray],
    modules: Iterable[str] = (),
) -> np.ndarray:
    """compute(images) for a trained run, from the store when a verified answer is there, else computed
    and stored. ``what`` names the output (e.g. "layer:flatten"); ``modules`` the code beyond BASE_MODULES."""
    path = (
        outputs_dir()
        / f"{run}-{what.replace(':', '_')}-{output_key(run, what, images, modules)[:32]}.npy"
    )
    if path.is_file():
        try:
            values = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            values = None  # a corrupt file: computed again below
        if (
            values is not None
            and len(values) == len(images)
            and _agrees(values, compute(images[:SAMPLE]))
        ):
            return values
    values = np.asarray(compute(images))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, values)
    except OSError:  # a read-only checkout still builds, only slower
        pass
    return values


def clear_outputs() -> tuple[Path, int]:
    """Delete every stored output; return the folder and how many files it held."""
    folder = outputs_dir()
    count = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
    shutil.rmtree(folder, ignore_errors=True)
    return folder, count
