"""What a reader gets on each built page: visible code cells (teaching / total), the longest
visible code line, included code blocks, figures and the weight of the page's images.

Run after `make book`:  .venv/bin/python tools/page_report.py [_build/html]

A visible cell counts as bookkeeping when it calls the glue or table helpers (the same rule as
tests/book/test_html.py); every other visible cell shows code the chapter teaches.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import unquote

from bs4 import BeautifulSoup

# The rules the book's tests apply (tests/book/test_html.py after a build, test_chapters.py before).
MAX_LINE = 88  # characters: a visible code line longer than this scrolls sideways in the column
PLUMBING = re.compile(
    r"\b(glue_values|glue_figure|markdown_table|glue)\("
)  # bookkeeping calls


def visible_code(soup: BeautifulSoup) -> tuple[list[str], list[str]]:
    """A built page's visible code cells, and its code blocks outside cells (included code,
    solutions)."""
    cells = [pre.get_text() for pre in soup.select("div.cell div.cell_input pre")]
    blocks = [
        pre.get_text()
        for pre in soup.select("div.highlight-python pre")
        if not pre.find_parent("div", class_="cell")
    ]
    return cells, blocks


def image_bytes(page: Path, soup: BeautifulSoup) -> int:
    """Bytes of the distinct images a built page shows in its main content."""
    images = {img["src"] for img in soup.select("main img") if img.get("src")}
    return sum(
        (page.parent / unquote(src)).stat().st_size
        for src in images
        if (page.parent / unquote(src)).is_file()
    )


def page_row(page: Path) -> dict[str, object]:
    """The reader-facing numbers of one built page."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    cells, blocks = visible_code(soup)
    lines = [len(line) for code in cells + blocks for line in code.splitlines()]
    weight = image_bytes(page, soup)
    return {
        "page": page.stem,
        "teaching": sum(not PLUMBING.search(c) for c in cells),
        "cells": len(cells),
        "included": len(blocks),
        "longest": max(lines, default=0),
        "figures": len(soup.select("main figure img")),
        "KiB": round(weight / 1024),
    }


def main() -> int:
    """Print one Markdown table row per chapter page."""
    html = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")
    pages = [
        p
        for p in sorted(html.glob("*.html"))
        if p.stem not in ("genindex", "search", "index")
    ]
    if not pages:
        print(f"no built pages in {html}: run `make book` first", file=sys.stderr)
        return 1
    print(
        "| page | visible code cells (teaching / total) | included code blocks | longest visible "
        "line | figures | image KiB |\n|---|---|---|---|---|---|"
    )
    for row in map(page_row, pages):
        print(
            f"| {row['page']} | {row['teaching']} / {row['cells']} | {row['included']} | "
            f"{row['longest']} | {row['figures']} | {row['KiB']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
