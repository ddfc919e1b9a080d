"""After `make book` (which runs these): the notebooks show the figure and exercise numbers the built pages
show, and the download notebooks the build's outputs. (The committed notebooks carry no build values, so
they cannot disagree with a build: booktools.notebooks.) Skipped in `make test` until a build exists."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from booktools.notebooks import chapter_files, load_book

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build"
HTML = BUILD / "html"
CHAPTERS = chapter_files(ROOT / "book")

pytestmark = pytest.mark.skipif(
    not (BUILD / "jupyter_execute").is_dir() or not (HTML / "index.html").is_file(),
    reason="book not built: run `make book` (it runs these checks)",
)


def _caption_numbers(page: Path) -> dict[str, int]:
    """Figure id -> the number its caption shows in one built page."""
    text = page.read_text(encoding="utf-8")
    found = re.findall(
        r'<figure[^>]*id="([^"]+)"[^>]*>.*?caption-number">Fig\. (\d+)',
        text,
        flags=re.S,
    )
    return {name: int(number) for name, number in found}


def test_figure_numbers_are_the_books() -> None:
    index = load_book(ROOT / "book", ROOT / "_config.yml").index
    shown = {
        name: n
        for page in HTML.glob("*.html")
        for name, n in _caption_numbers(page).items()
    }
    assert shown, "no numbered figure found in the built pages"
    assert {name: index.figures.get(name) for name in shown} == shown


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_download_notebooks_are_plain_jupyter_with_outputs(chapter: Path) -> None:
    notebook = nbformat.read(HTML / "_sources" / f"{chapter.stem}.ipynb", as_version=4)
    raw = [
        m.group(0)
        for c in notebook.cells
        if c.cell_type == "markdown"
        for m in re.finditer(
            r"\{glue|\{cite|\{numref|\{ref\}|\{doc\}|:::|```\{", c.source
        )
    ]
    assert not raw, (
        f"{chapter.stem}: raw MyST in the download notebook: {raw[:5]} (make book rewrites them)"
    )
    executed = nbformat.read(
        BUILD / "jupyter_execute" / f"{chapter.stem}.ipynb", as_version=4
    )

    def outputs(nb: nbformat.NotebookNode) -> list:
        return [c.outputs for c in nb.cells if c.cell_type == "code"]

    assert outputs(notebook) == outputs(executed), (
        f"{chapter.stem}: the download lost the outputs"
    )
