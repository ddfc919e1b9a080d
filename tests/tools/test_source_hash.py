"""tools/source_hash.py: the key of `make book`'s cache changes with what the outputs depend on, and only with that."""

from __future__ import annotations

from pathlib import Path

import source_hash  # tools/ (on sys.path: tests/conftest.py)


def _repository(root: Path) -> Path:
    for name, text in {
        "code/cnnbook/core/models.py": "x = 1\n",
        "best_models/m.keras": "weights",
        "book/_ext/ext.py": "",
        "book/_static/cnnbook.css": "",
        "book/intro.md": "# Intro\n",
        "benchmarks/results/r.json": "{}",
        "requirements.txt": "numpy==2\n",
        "_config.yml": "title: t\n",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_key_follows_code_models_environment_and_data(
    tmp_path: Path, write_cifar_folder
) -> None:
    root = _repository(tmp_path / "repo")
    data, other = (
        write_cifar_folder(tmp_path / "a"),
        write_cifar_folder(tmp_path / "b", per_batch=30),
    )
    key = source_hash.source_hash(root, data)
    assert source_hash.source_hash(root, data) == key
    assert source_hash.source_hash(root, other) != key
    for name in (
        "code/cnnbook/core/models.py",
        "best_models/m.keras",
        "requirements.txt",
        "_config.yml",
    ):
        path = root / name
        original = path.read_text()
        path.write_text(original + "# changed\n")
        assert source_hash.source_hash(root, data) != key, name
        path.write_text(original)
    assert source_hash.source_hash(root, data) == key


def test_temporaries_locks_bytecode_and_chapters_do_not_count(
    tmp_path: Path, write_cifar_folder
) -> None:
    root = _repository(tmp_path / "repo")
    data = write_cifar_folder(tmp_path / "a")
    key = source_hash.source_hash(root, data)
    (root / "best_models" / ".m.keras.abcd1234.tmp.keras").write_bytes(
        b"left by a kill"
    )
    (root / "best_models" / ".models.lock").write_text("")
    (root / "code" / "cnnbook" / "core" / "__pycache__").mkdir()
    (
        root / "code" / "cnnbook" / "core" / "__pycache__" / "models.cpython-311.pyc"
    ).write_bytes(b"\0")
    (root / "book" / "intro.md").write_text(
        "# Intro, edited\n"
    )  # the execution cache handles chapters
    assert source_hash.source_hash(root, data) == key
