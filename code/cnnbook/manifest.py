"""best_models/manifest.json: reading, updating and checksum verification of trained models."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cnnbook.exceptions import ModelFileError
from cnnbook.files import atomic_write_json, sha256_file

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1


def read_manifest(folder: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The per-model entries of folder/manifest.json (empty if the file does not exist)."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return dict(document["models"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path}: unreadable manifest ({type(exc).__name__}); retrain with `make train`") from None


def update_manifest(folder: str | os.PathLike, name: str, entry: dict[str, Any]) -> None:
    """Set one model's entry in folder/manifest.json, atomically, keeping the others."""
    from cnnbook.models import MODEL_NAMES

    models = read_manifest(folder)
    models[name] = entry
    order = {n: i for i, n in enumerate(MODEL_NAMES)}
    models = dict(sorted(models.items(), key=lambda item: order.get(item[0], len(order))))
    atomic_write_json(Path(folder) / MANIFEST_NAME, {"format": MANIFEST_FORMAT, "models": models})


def verify_file(path: str | os.PathLike, expected_sha256: str) -> None:
    """Raise ModelFileError unless the file exists and its sha256 matches the manifest."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: model file is missing; run `make train` or restore it from git")
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise ModelFileError(
            f"{path}: sha256 {actual[:12]}… does not match the manifest ({expected_sha256[:12]}…); "
            "the file was modified — restore it from git or retrain"
        )
