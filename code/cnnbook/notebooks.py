"""The chapters as real Jupyter notebooks (book/<chapter>.ipynb) for Colab, with a set-up cell.

The book's chapters are MyST Markdown; Colab opens only .ipynb. `python -m cnnbook notebooks`
converts every chapter listed in book/_toc.yml and prepends a cell that, on Colab only, clones the
repository (for the package and best_models/) and installs it. The book's launch button links to
these files; `tests/test_notebooks.py` fails when they are out of date.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat

SETUP_TAG = "colab-setup"
SETUP_TEMPLATE = """\
# Set-up for Google Colab: the book's package and trained models come from its repository.
# Running locally (after `make book` or `pip install -e .`), this cell does nothing.
import os, sys
if "google.colab" in sys.modules and not os.path.isdir("{name}"):
    !git clone --depth 1 {url} {name}
    %pip install --quiet -e {name} myst-nb
    sys.path.insert(0, os.path.abspath("{name}/code"))
    os.chdir("{name}")"""


def repository_url(config_file: str | os.PathLike) -> str:
    """The `repository: url:` entry of the book's _config.yml."""
    match = re.search(r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:\s*(\S+)", Path(config_file).read_text(), re.M)
    if not match:
        raise ValueError(f"{config_file}: no repository url (repository: url: ...)")
    return match.group(1)


def chapter_files(book_dir: str | os.PathLike) -> list[Path]:
    """The Markdown chapters named in book/_toc.yml that contain code cells."""
    book_dir = Path(book_dir)
    names = re.findall(r"(?:root|file):\s*(\S+)", (book_dir / "_toc.yml").read_text())
    paths = [book_dir / f"{name}.md" for name in names]
    return [p for p in paths if "{code-cell}" in p.read_text()]


def chapter_notebook(markdown: str, repo_url: str) -> nbformat.NotebookNode:
    """One chapter as a notebook: its cells, without outputs, after a Colab set-up cell."""
    from myst_nb.core.read import read_myst_markdown_notebook

    notebook = read_myst_markdown_notebook(markdown)
    name = repo_url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    setup = nbformat.v4.new_code_cell(SETUP_TEMPLATE.format(url=repo_url, name=name),
                                      metadata={"tags": [SETUP_TAG]})
    notebook.cells.insert(0, setup)
    notebook.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}, "colab": {"provenance": []}}
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"
    return notebook


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """Deterministic .ipynb text (so regenerated files only differ when a chapter changed)."""
    return nbformat.writes(notebook) + "\n"


def export_notebooks(book_dir: str | os.PathLike, config_file: str | os.PathLike) -> list[Path]:
    """Write book/<chapter>.ipynb for every chapter; return the paths written."""
    from cnnbook.files import atomic_write_text

    url = repository_url(config_file)
    written = []
    for chapter in chapter_files(book_dir):
        target = chapter.with_suffix(".ipynb")
        atomic_write_text(target, notebook_text(chapter_notebook(chapter.read_text(), url)))
        written.append(target)
    return written
