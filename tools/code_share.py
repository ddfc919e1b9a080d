"""How much of each chapter's code the page removes: non-blank code-cell lines in all, in cells
tagged remove-cell or remove-input, in hide-input cells (one click away), and the removed share.

Usage: python tools/code_share.py [BOOK_DIR]   (default book/; reads every *.md with code cells)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REMOVED = {"remove-cell", "remove-input"}
HIDDEN = "hide-input"


def code_lines(source: str) -> int:
    """The number of non-blank lines of a cell's source."""
    return sum(1 for line in source.splitlines() if line.strip())


def chapter_counts(path: Path) -> dict[str, int]:
    """One chapter's non-blank code lines: total, removed from the page, and behind a click."""
    import jupytext

    notebook = jupytext.read(path, fmt="md:myst")
    counts = {"total": 0, "removed": 0, "hidden": 0}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        lines = code_lines(cell.source)
        tags = set(cell.metadata.get("tags", []))
        counts["total"] += lines
        counts["removed"] += lines if tags & REMOVED else 0
        counts["hidden"] += lines if HIDDEN in tags else 0
    return counts


def share(removed: int, total: int) -> str:
    """The removed share as a percentage, '-' for a chapter without code."""
    return f"{100 * removed / total:.0f}%" if total else "-"


def main(argv: list[str] | None = None) -> int:
    """Print a Markdown table: one row per chapter with code, then the total."""
    args = sys.argv[1:] if argv is None else argv
    book = Path(args[0]) if args else ROOT / "book"
    rows = {
        path.stem: chapter_counts(path)
        for path in sorted(book.glob("*.md"))
        if "{code-cell}" in path.read_text(encoding="utf-8")
    }
    print(
        "| chapter | code lines | removed | hide-input | removed share |\n|---|---|---|---|---|"
    )
    for name, c in [
        *rows.items(),
        (
            "total",
            {
                key: sum(r[key] for r in rows.values())
                for key in ("total", "removed", "hidden")
            },
        ),
    ]:
        print(
            f"| {name} | {c['total']} | {c['removed']} | {c['hidden']} | "
            f"{share(c['removed'], c['total'])} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
