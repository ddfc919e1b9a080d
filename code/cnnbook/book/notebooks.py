"""The chapters as real Jupyter notebooks (book/<chapter>.ipynb) for the Colab button (every chapter).

The book's chapters are MyST Markdown; Colab opens only .ipynb. `make notebooks` (this module run as a
script) converts every chapter listed in book/_toc.yml with jupytext, the standard MyST <-> ipynb
converter, and prepends a cell that, on Colab only, clones the repository (for the package and
best_models/) and installs it. `tests/book/test_notebooks.py` fails when the files are out of date.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterator

import jupytext
import nbformat
import yaml

from cnnbook.core.files import REPOSITORY_ROOT, atomic_write_text

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


def _read_yaml(path: str | os.PathLike) -> Any:
    """A YAML file's content, with a one-line error naming the file when it is not valid YAML."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None


def repository_url(config_file: str | os.PathLike) -> str:
    """The `repository: url:` entry of the book's _config.yml."""
    config = _read_yaml(config_file) or {}
    url = (config.get("repository") or {}).get("url") if isinstance(config, dict) else None
    if not url:
        raise ValueError(f"{config_file}: no repository url (repository: url: ...)")
    return str(url)


def _toc_files(entry: Any) -> Iterator[str]:
    """Every `root:` and `file:` of a _toc.yml structure, in order."""
    if isinstance(entry, dict):
        for key in ("root", "file"):
            if key in entry:
                yield str(entry[key])
        for value in entry.values():
            if isinstance(value, (list, dict)):
                yield from _toc_files(value)
    elif isinstance(entry, list):
        for item in entry:
            yield from _toc_files(item)


def chapter_files(book_dir: str | os.PathLike) -> list[Path]:
    """The Markdown chapters named in book/_toc.yml that contain code cells."""
    book_dir = Path(book_dir)
    paths = [book_dir / f"{name}.md" for name in _toc_files(_read_yaml(book_dir / "_toc.yml"))]
    return [p for p in paths if "{code-cell}" in p.read_text(encoding="utf-8")]


def chapter_notebook(markdown: str, repo_url: str) -> nbformat.NotebookNode:
    """One chapter as a notebook: its cells, without outputs, after a Colab set-up cell."""
    notebook = jupytext.reads(markdown, fmt="md:myst")
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
    url = repository_url(config_file)
    written = []
    for chapter in chapter_files(book_dir):
        target = chapter.with_suffix(".ipynb")
        atomic_write_text(target, notebook_text(chapter_notebook(chapter.read_text(encoding="utf-8"), url)))
        written.append(target)
    return written


def main() -> int:
    """`make notebooks`: regenerate the Colab notebooks of the repository's book."""
    try:
        paths = export_notebooks(REPOSITORY_ROOT / "book", REPOSITORY_ROOT / "_config.yml")
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {path.relative_to(REPOSITORY_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
