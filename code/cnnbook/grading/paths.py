"""Where the assignment sources live and where their generated versions go (git-ignored)."""

from __future__ import annotations

import os
from pathlib import Path

from cnnbook.core.exceptions import CnnbookError
from cnnbook.core.files import REPOSITORY_ROOT

SOURCES_DIR = REPOSITORY_ROOT / "assignments"
BUILD_VARIABLE = "CNNBOOK_ASSIGNMENTS_BUILD"  # tests build into a temporary folder
GRADING_VARIABLE = "CNNBOOK_GRADING"  # set to "1" in the kernel that runs a submission
SOURCE_SUFFIX = ".py"  # jupytext py:percent master notebooks


class GradingError(CnnbookError):
    """A grading command cannot run: unknown assignment, missing build, bad option."""


def build_dir(path: str | os.PathLike | None = None) -> Path:
    """The build folder: path if given, else $CNNBOOK_ASSIGNMENTS_BUILD, else _build/assignments."""
    if path is not None:
        return Path(path)
    return Path(
        os.environ.get(BUILD_VARIABLE, REPOSITORY_ROOT / "_build" / "assignments")
    )


def assignment_names(sources: Path = SOURCES_DIR) -> list[str]:
    """Names of every assignment source (assignments/NN_name.py), in order."""
    return sorted(p.stem for p in sources.glob(f"[0-9][0-9]_*{SOURCE_SUFFIX}"))


def source_file(name: str, sources: Path = SOURCES_DIR) -> Path:
    """The master source of an assignment; a one-line error naming the choices if it is unknown."""
    path = sources / f"{name}{SOURCE_SUFFIX}"
    if not path.is_file():
        raise GradingError(
            f"unknown assignment {name!r}: choose one of {', '.join(assignment_names(sources))}"
        )
    return path


def student_notebook(name: str, build: Path | None = None) -> Path:
    """The generated student notebook of an assignment."""
    return build_dir(build) / name / "student" / f"{name}.ipynb"


def autograder_zip(name: str, build: Path | None = None) -> Path:
    """The generated autograder zip of an assignment (hidden and public tests)."""
    return build_dir(build) / name / "autograder" / f"{name}-autograder.zip"


def solution_notebook(name: str, build: Path | None = None) -> Path:
    """The solution notebook otter writes next to the autograder (the master without test cells)."""
    return build_dir(build) / name / "autograder" / f"{name}.ipynb"
