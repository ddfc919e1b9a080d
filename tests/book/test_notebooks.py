"""cnnbook.notebooks: the Colab notebooks are real notebooks, in sync with the chapters."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from cnnbook.book.notebooks import (SETUP_TAG, chapter_files, chapter_notebook, notebook_text,
                               repository_url)

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = chapter_files(ROOT / "book")


def test_every_chapter_with_code_is_exported() -> None:
    assert {p.stem for p in CHAPTERS} >= {"architectures", "convolution", "regularization", "calibration",
                                         "visualization"}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_committed_notebook_is_up_to_date(chapter: Path) -> None:
    expected = notebook_text(chapter_notebook(chapter.read_text(), repository_url(ROOT / "_config.yml")))
    committed = chapter.with_suffix(".ipynb")
    assert committed.is_file(), f"{committed} missing: run `make notebooks`"
    assert committed.read_text() == expected, f"{committed} is stale: run `make notebooks`"


def test_notebook_structure() -> None:
    markdown = "# Title\n\nSome text.\n\n```{code-cell} ipython3\nx = 1\n```\n\nMore text.\n"
    notebook = chapter_notebook(markdown, "https://github.com/someone/book.git")
    nbformat.validate(notebook)
    kinds = [c.cell_type for c in notebook.cells]
    assert kinds == ["code", "markdown", "code", "markdown"]
    assert notebook.cells[0].metadata["tags"] == [SETUP_TAG]
    assert "git clone --depth 1 https://github.com/someone/book.git book" in notebook.cells[0].source
    assert notebook.cells[2].source == "x = 1" and notebook.cells[2].outputs == []


def test_repository_url_is_required(tmp_path: Path) -> None:
    (tmp_path / "_config.yml").write_text("title: x\n")
    with pytest.raises(ValueError, match="no repository url"):
        repository_url(tmp_path / "_config.yml")
