"""Read a submitted notebook defensively: what to run, and which assignment it claims to be."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

IGNORE_TAG = "otter_ignore"  # cells the autograder skips (student-only steps such as full training)
MAX_BYTES = (
    50 * 2**20
)  # a notebook larger than this is refused (outputs full of images, or garbage)
# Otter's student scaffolding: it needs the public tests folder, which the grading kernel does not see.
_SCAFFOLD = re.compile(
    r"^\s*(import otter\s*|grader\s*=\s*otter\.Notebook\(.*\)\s*|"
    r"grader\.(check|check_all|export|to_pdf)\(.*\)\s*;?\s*)$"
)


class SubmissionError(ValueError):
    """The file is not a gradable notebook; the message is one line for the score report."""


@dataclass(frozen=True)
class Submission:
    """The code cells to execute, in order, and the assignment named in the notebook's metadata."""

    cells: tuple[str, ...]
    assignment: str | None


def _read_json(path: Path) -> dict:
    """The notebook's JSON, or a SubmissionError saying why it is not."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SubmissionError(
                f"{path.name} is larger than {MAX_BYTES // 2**20} MiB"
            )
        document = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError(
            f"{path.name} is not a notebook: not UTF-8 text"
        ) from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            f"{path.name} is not a notebook: invalid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    except RecursionError:
        raise SubmissionError(
            f"{path.name} is not a notebook: JSON nested too deeply"
        ) from None
    if not isinstance(document, dict) or "cells" not in document:
        raise SubmissionError(f"{path.name} is JSON but not a notebook (no 'cells')")
    return document


def _notebook(document: dict, name: str) -> nbformat.NotebookNode:
    """The document as an nbformat v4 notebook, validated."""
    try:
        notebook = nbformat.reads(json.dumps(document), as_version=4)
        nbformat.validate(notebook)
    except Exception as exc:  # nbformat raises several types for a malformed notebook
        first = (
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        )
        raise SubmissionError(
            f"{name} is not a valid notebook ({first[:160]})"
        ) from None
    return notebook


def strip_scaffolding(source: str) -> str:
    """The cell's source without otter's `import otter`, `grader = ...` and `grader.check(...)` lines."""
    return "\n".join(line for line in source.splitlines() if not _SCAFFOLD.match(line))


def read_submission(path: Path) -> Submission:
    """Parse and validate a submission; SubmissionError (one line) if it is not a gradable notebook."""
    notebook = _notebook(_read_json(path), path.name)
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or IGNORE_TAG in cell.get("metadata", {}).get(
            "tags", []
        ):
            continue
        source = strip_scaffolding(cell.source)
        if source.strip():
            cells.append(source)
    meta = notebook.metadata.get("cnnbook", {})
    assignment = meta.get("assignment") if isinstance(meta, dict) else None
    return Submission(tuple(cells), assignment if isinstance(assignment, str) else None)
