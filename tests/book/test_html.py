"""Checks on the built book (_build/html): chapters, figures, no error output, working links.

`make book` runs these right after the build; in `make test` they are skipped until a build exists.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import page_report  # tools/page_report.py (tests/conftest.py puts tools/ on the path)

HTML = Path(__file__).resolve().parents[2] / "_build" / "html"
# chapter -> minimum number of numbered figures it must show
CHAPTERS = {
    "intro": 0,
    "architectures": 2,
    "convolution": 4,
    "regularization": 3,
    "fast": 3,
    "calibration": 2,
    "visualization": 9,
    "references": 0,
}

pytestmark = pytest.mark.skipif(
    not (HTML / "index.html").is_file(),
    reason="book not built: run `make book` (it runs these checks)",
)


class _Page(HTMLParser):
    """Collects links, ids, figure images and output blocks of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.figure_images = 0
        self.classes: list[str] = []
        self._in_figure = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("link", "script") and (a.get("href") or a.get("src")):
            self.links.append(a.get("href") or a.get("src"))
        self.classes.extend((a.get("class") or "").split())
        if tag == "figure" or (
            tag == "div" and "figure" in (a.get("class") or "").split()
        ):
            self._in_figure += 1
        if tag == "img" and self._in_figure:
            self.figure_images += 1


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_exists_with_figures(chapter: str) -> None:
    path = HTML / f"{chapter}.html"
    assert path.is_file(), f"{path} missing"
    page = _parse(path)
    assert page.figure_images >= CHAPTERS[chapter], (
        f"{chapter}: {page.figure_images} figures"
    )
    text = path.read_text(encoding="utf-8")
    if CHAPTERS[chapter]:
        assert re.search(r"Fig\. \d+", text), f"{chapter}: figures are not numbered"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_error_or_stderr_output(chapter: str) -> None:
    text = (HTML / f"{chapter}.html").read_text(encoding="utf-8")
    page = _parse(HTML / f"{chapter}.html")
    assert "Traceback" not in text
    for bad in ("stderr", "traceback", "error"):
        assert not [
            c
            for c in page.classes
            if c == bad or c.endswith(f"-{bad}") and c.startswith("output")
        ], bad
    for noise in (
        "oneDNN",
        "cuda_",
        "absl::",
        "WARNING:",
        "UserWarning",
        "DeprecationWarning",
        "━━━",
    ):
        assert noise not in text, f"{chapter}: '{noise}' in the page"


def test_internal_links_resolve() -> None:
    broken = []
    pages = {p: _parse(p) for p in HTML.rglob("*.html") if "_static" not in p.parts}
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if (
                parts.scheme
                or parts.netloc
                or link.startswith(("mailto:", "javascript:"))
            ):
                continue
            target = (
                (path.parent / unquote(parts.path)).resolve() if parts.path else path
            )
            if not target.exists():
                broken.append(f"{path.name}: {link}")
            elif parts.fragment and target.suffix == ".html" and target in pages:
                if parts.fragment not in pages[target].ids:
                    broken.append(f"{path.name}: {link} (no such anchor)")
    assert not broken, broken[:20]


def test_chapter_notebooks_downloadable() -> None:
    for chapter in (
        "architectures",
        "convolution",
        "regularization",
        "calibration",
        "visualization",
    ):
        assert (HTML / "_sources" / f"{chapter}.ipynb").is_file(), chapter


# --- What a reader sees: the visible code teaches, fits the column, and the images are light. ---

MAX_PAGE_IMAGES_KIB = 800


def _soup(chapter: str):
    """A built chapter, parsed."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(
        (HTML / f"{chapter}.html").read_text(encoding="utf-8"), "html.parser"
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_visible_code_teaches_and_fits_the_column(chapter: str) -> None:
    cells, blocks = page_report.visible_code(_soup(chapter))
    plumbing = [c for c in cells if page_report.PLUMBING.search(c)]
    assert not plumbing, (
        f"{chapter}: visible cells doing bookkeeping (hide them): {plumbing}"
    )
    limit = page_report.MAX_LINE
    long = [
        line
        for code in cells + blocks
        for line in code.splitlines()
        if len(line) > limit
    ]
    assert not long, f"{chapter}: visible code lines over {limit} characters: {long}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_page_images_stay_light(chapter: str) -> None:
    total = page_report.image_bytes(HTML / f"{chapter}.html", _soup(chapter))
    assert total <= MAX_PAGE_IMAGES_KIB * 1024, (
        f"{chapter}: {total / 1024:.0f} KiB of images"
    )
