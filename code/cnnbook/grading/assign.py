"""Build an assignment: jupytext master source -> master .ipynb -> ``otter assign`` -> student + autograder.

Layout of the (git-ignored) build folder, per assignment::

    <build>/<name>/master/<name>.ipynb                 the master notebook (solutions + all tests)
    <build>/<name>/student/<name>.ipynb, tests/        what students get: no solutions, public tests only
    <build>/<name>/autograder/<name>-autograder.zip    every test, hidden ones included (for grading)
    <build>/<name>/autograder/<name>.ipynb             the solution notebook (no test cells)

The build is written beside the old one and swapped in when complete, so an interrupted build never
leaves half an assignment behind.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from pathlib import Path

import jupytext
import nbformat

from cnnbook.grading.paths import (
    SOURCES_DIR,
    GradingError,
    autograder_zip,
    build_dir,
    source_file,
    student_notebook,
)
from cnnbook.grading.tests import hidden_cases, read_autograder_tests

KERNELSPEC = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}
SOLUTION_MARKERS = ("# BEGIN SOLUTION", "# END SOLUTION", "# SOLUTION")
METADATA_KEY = "cnnbook"  # notebook metadata {"cnnbook": {"assignment": name}} names the assignment


def master_notebook(name: str, sources: Path = SOURCES_DIR) -> nbformat.NotebookNode:
    """The master notebook of an assignment, read from its py:percent source (in `sources`: another
    language's copy of the same master, booktools.translation)."""
    notebook = jupytext.read(source_file(name, sources), fmt="py:percent")
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata.pop("jupytext", None)
    notebook.metadata[METADATA_KEY] = {"assignment": name}
    return notebook


def _run_otter_assign(master: Path, result: Path) -> None:
    """``otter assign --no-run-tests --no-pdfs`` in-process, its chatter captured."""
    from otter.assign import main as otter_assign

    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            otter_assign(str(master), str(result), no_pdfs=True, no_run_tests=True)
    except (
        Exception
    ) as exc:  # otter raises plain exceptions for a malformed master notebook
        raise GradingError(
            f"{master.name}: otter assign failed ({type(exc).__name__}: {exc})"
        ) from None


def _name_zip(autograder: Path, name: str) -> None:
    """Rename otter's time-stamped autograder zip to <name>-autograder.zip."""
    zips = sorted(autograder.glob(f"{name}-autograder_*.zip"))
    if len(zips) != 1:
        raise GradingError(
            f"{autograder}: expected one autograder zip from otter assign, found {len(zips)}"
        )
    zips[0].rename(autograder / f"{name}-autograder.zip")


def check_student_files(name: str, build: Path | None = None) -> None:
    """Raise GradingError if a solution marker or any hidden test's code appears in a student file."""
    student_dir = student_notebook(name, build).parent
    texts = [
        p.read_text(encoding="utf-8", errors="replace")
        for p in student_dir.rglob("*")
        if p.is_file()
    ]
    if any(marker in text for text in texts for marker in SOLUTION_MARKERS):
        raise GradingError(
            f"{name}: a solution is left in the student notebook (is every solution cell "
            "between raw '# BEGIN SOLUTION' and '# END SOLUTION' cells?)"
        )
    for question, code in hidden_cases(
        read_autograder_tests(autograder_zip(name, build))
    ):
        body = "\n".join(
            line[4:] for line in code.splitlines() if line.startswith((">>> ", "... "))
        )
        lines = [
            line.strip()
            for line in body.splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
        if any(lines and all(line in text for line in lines) for text in texts):
            raise GradingError(
                f"{name}: a hidden test of {question} appears in the student files"
            )


def build_assignment(
    name: str, build: Path | None = None, sources: Path = SOURCES_DIR
) -> Path:
    """Generate the student notebook and the autograder zip of one assignment; return its folder."""
    target = build_dir(build) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=target.parent)
    )
    try:
        master = staging / "master" / f"{name}.ipynb"
        master.parent.mkdir()
        nbformat.write(master_notebook(name, sources), master)
        _run_otter_assign(master, staging / "dist")
        for part in ("student", "autograder"):
            (staging / "dist" / part).rename(staging / part)
        (staging / "dist").rmdir()
        _name_zip(staging / "autograder", name)
        _swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    check_student_files(name, build)
    return target


def _swap_in(staging: Path, target: Path) -> None:
    """Replace target with the finished staging folder (the old build is removed after the rename)."""
    old = target.with_name(f".{target.name}.old.tmp")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
