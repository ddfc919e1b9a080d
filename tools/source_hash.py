"""The key that decides whether `make book` may reuse _build: a sha256 of everything the book's outputs
depend on besides its own pages.

That is the package (code/), the trained models and their stored outputs (best_models/), the book's
Sphinx extension and stylesheet, the benchmark results the chapters quote, the pinned environment
(requirements.txt), the book's configuration (_config.yml) and the CIFAR-10 files it reads. When the
key changes, the execution cache and the HTML are stale and `make book` starts from a clean _build.
Temporary files of interrupted writes (.name.XXXX.tmp...), lock files and bytecode are not content.

Usage: python tools/source_hash.py [DATA_DIR]   (default $CIFAR10_DIR, else Keras' download folder)
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("code", "best_models", "book/_ext", "benchmarks/results")
FILES = ("book/_static/cnnbook.css", "requirements.txt", "_config.yml")


def _is_content(path: Path) -> bool:
    """False for bytecode, build metadata, temporaries of interrupted writes (cnnbook.core.files names
    them .<target>.<random>.tmp<suffixes>) and lock files."""
    from cnnbook.core.files import TEMPORARY_MARK

    parts = set(path.parts)
    temporary = path.name.startswith(".") and TEMPORARY_MARK in path.name
    return not (
        "__pycache__" in parts
        or any(p.endswith(".egg-info") for p in parts)
        or temporary
        or path.name.endswith(".lock")
    )


def default_data_dir() -> Path:
    """Where the book reads CIFAR-10 from when no folder is given."""
    return Path(
        os.environ.get("CIFAR10_DIR")
        or Path.home() / ".keras" / "datasets" / "cifar-10-batches-py"
    )


def inputs(root: Path = ROOT, data_dir: Path | None = None) -> list[Path]:
    """Every file the key covers, sorted."""
    found = [
        p
        for folder in FOLDERS
        for p in (root / folder).rglob("*")
        if p.is_file() and _is_content(p)
    ]
    found += [root / name for name in FILES if (root / name).is_file()]
    data = default_data_dir() if data_dir is None else Path(data_dir)
    if data.is_dir():
        found += [p for p in data.iterdir() if p.is_file()]
    return sorted(found, key=lambda p: str(p))


def source_hash(root: Path = ROOT, data_dir: Path | None = None) -> str:
    """sha256 over each input's path (relative to the repository, or the data folder's name) and content."""
    digest = hashlib.sha256()
    for path in inputs(root, data_dir):
        name = (
            path.relative_to(root)
            if path.is_relative_to(root)
            else Path("data") / path.name
        )
        digest.update(
            f"{name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode()
        )
    return digest.hexdigest()


if __name__ == "__main__":
    print(source_hash(ROOT, Path(sys.argv[1]) if len(sys.argv) > 1 else None))
