"""Shared fixtures: every assignment built once (otter assign) into a temporary folder, and a grader."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import nbformat
import pytest

from cnnbook.grading.assign import build_assignment
from cnnbook.grading.grade import Limits, grade_submission
from cnnbook.grading.paths import (
    BUILD_VARIABLE,
    assignment_names,
    solution_notebook,
    student_notebook,
)
from cnnbook.grading.report import GradeReport

FAST = Limits(cell=120.0, question=60.0)


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All assignments built once per session into a temporary build folder (set as the default)."""
    folder = tmp_path_factory.mktemp("assignments")
    previous = os.environ.get(BUILD_VARIABLE)
    os.environ[BUILD_VARIABLE] = str(folder)
    for name in assignment_names():
        build_assignment(name, folder)
    yield folder
    if previous is None:
        os.environ.pop(BUILD_VARIABLE, None)
    else:
        os.environ[BUILD_VARIABLE] = previous


def _edited_solution(
    build: Path, name: str, edits: list[tuple[str, str]], target: Path
) -> Path:
    """The solution notebook with each (old, new) text replaced once in its code (each must be found)."""
    notebook = nbformat.read(solution_notebook(name, build), as_version=4)
    for old, new in edits:
        cells = [c for c in notebook.cells if c.cell_type == "code" and old in c.source]
        assert len(cells) == 1, (
            f"{name}: the edit {old!r} matches {len(cells)} code cells"
        )
        cells[0].source = cells[0].source.replace(old, new, 1)
    nbformat.write(notebook, target)
    return target


@pytest.fixture
def edited_solution() -> Callable[[Path, str, list[tuple[str, str]], Path], Path]:
    """edited_solution(build, name, edits, target) -> the solution notebook with the edits, at target."""
    return _edited_solution


def _notebook_with_cells(name: str, sources: list[str], target: Path) -> Path:
    """A notebook of the given code cells, claiming to be assignment `name`."""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in sources]
    )
    notebook.metadata["cnnbook"] = {"assignment": name}
    target.write_text(json.dumps(notebook), encoding="utf-8")
    return target


@pytest.fixture
def grade(build: Path) -> Callable[..., GradeReport]:
    """grade(path, name=None, limits=FAST) -> GradeReport, against the session's build."""

    def run(path: Path, name: str | None = None, limits: Limits = FAST) -> GradeReport:
        return grade_submission(path, name, limits=limits)

    return run


@pytest.fixture
def student(build: Path) -> Callable[[str], Path]:
    """The generated student notebook of an assignment."""
    return lambda name: student_notebook(name, build)


@pytest.fixture
def notebook_with_cells() -> Callable[[str, list[str], Path], Path]:
    """notebook_with_cells(name, sources, target) -> a notebook of those code cells for assignment name."""
    return _notebook_with_cells
