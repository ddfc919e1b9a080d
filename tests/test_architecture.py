"""The package's shape: layers kept (lint-imports), no import cycle, NumPy lessons without TensorFlow."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
# The lessons (and the core modules they use) that are plain NumPy: importing them must not start TensorFlow.
TENSORFLOW_FREE = [
    "cnnbook",
    "cnnbook.core.data",
    "cnnbook.core.metrics",
    "cnnbook.core.store",
    "cnnbook.core.recipe",
    "cnnbook.cli",
    "cnnbook.lessons.convolution",
    "cnnbook.lessons.activations",
    "cnnbook.lessons.normalization",
    "cnnbook.lessons.dropout",
    "cnnbook.lessons.calibration",
    "cnnbook.lessons.error_analysis",
    "cnnbook.airbench.hyp",
]


@pytest.mark.parametrize("module", TENSORFLOW_FREE)
def test_module_imports_without_tensorflow(module: str) -> None:
    code = (
        f"import sys, {module}; heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules); "
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", (
        f"importing {module} imported {result.stdout.strip()}"
    )


def test_no_import_cycle() -> None:
    graph = grimp.build_graph("cnnbook")
    modules = sorted(graph.modules)
    cycles = [
        (a, b)
        for a, b in itertools.combinations(modules, 2)
        if graph.chain_exists(a, b)
        and graph.chain_exists(b, a)
        and not (a.startswith(b + ".") or b.startswith(a + "."))
    ]
    assert cycles == []


def _lint(
    folder: Path, append_to_dropout: str = "", module: str = "lessons/dropout.py"
) -> subprocess.CompletedProcess:
    """Run lint-imports with the project's contracts on a copy of the package (one module optionally edited)."""
    shutil.copytree(
        ROOT / "code",
        folder / "code",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    with open(folder / "code" / "cnnbook" / module, "a", encoding="utf-8") as edited:
        edited.write(append_to_dropout)
    lint = Path(sys.executable).with_name("lint-imports")
    env = {"PYTHONPATH": str(folder / "code"), "PATH": str(lint.parent)}
    return subprocess.run(
        [str(lint), "--no-cache"], cwd=folder, capture_output=True, text=True, env=env
    )


def test_layer_contracts_are_kept_and_a_violation_fails(tmp_path: Path) -> None:
    kept = _lint(tmp_path / "kept")
    assert kept.returncode == 0, kept.stdout[-2000:]
    broken = _lint(
        tmp_path / "broken", "\nfrom cnnbook.book import figures  # noqa: E402,F401\n"
    )
    assert broken.returncode != 0
    assert (
        "BROKEN" in broken.stdout
        and "cnnbook.lessons.dropout -> cnnbook.book.figures" in broken.stdout
    )


@pytest.mark.parametrize(
    "module", ["core/outputs.py", "core/precision.py", "lessons/gradcam.py"]
)
def test_tensorflow_contract_names_packages_and_catches_a_new_module(
    tmp_path: Path, module: str
) -> None:
    broken = _lint(
        tmp_path / "broken", "\nimport tensorflow  # noqa: E402,F401\n", module
    )
    assert broken.returncode != 0
    shown = broken.stdout.replace("\n", " ")
    assert (
        "TensorFlow and Keras are imported only through cnnbook.core.backend BROKEN"
        in shown
    )


def test_core_never_imports_the_airbench_port(tmp_path: Path) -> None:
    broken = _lint(
        tmp_path / "broken",
        "\nfrom cnnbook.airbench import hyp  # noqa: E402,F401\n",
        "core/models.py",
    )
    assert broken.returncode != 0
    assert "cnnbook.core.models -> cnnbook.airbench.hyp" in broken.stdout
