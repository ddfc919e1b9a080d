"""The chapters' sources, before any build: included code exists and fits the page column."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
from page_report import MAX_LINE, PLUMBING  # noqa: E402  (tools/ on sys.path first)

INCLUDE = re.compile(
    r"```\{literalinclude\} (?P<path>\S+)\n(?P<options>(?::[^\n]*\n)*)"
)


def _includes() -> list[tuple[str, Path, str]]:
    """(chapter, file, function) for every `literalinclude` with `:pyobject:` in the chapters."""
    found = []
    for chapter in sorted(BOOK.glob("*.md")):
        for match in INCLUDE.finditer(chapter.read_text(encoding="utf-8")):
            obj = re.search(r":pyobject: (\S+)", match["options"])
            if obj:
                found.append((chapter.stem, (BOOK / match["path"]).resolve(), obj[1]))
    return found


def test_the_chapters_include_code() -> None:
    assert len(_includes()) >= 10


@pytest.mark.parametrize(
    "chapter,path,name", _includes(), ids=lambda v: str(getattr(v, "name", v))
)
def test_included_function_exists_and_fits_the_column(
    chapter: str, path: Path, name: str
) -> None:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    node = ast.parse(source)
    for part in name.split(
        "."
    ):  # "Trainer._step_body": a method, as Sphinx's :pyobject: allows
        node = next(
            (
                n
                for n in ast.walk(node)
                if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part
            ),
            None,
        )
        if node is None:
            break
    assert node is not None, f"{chapter}: {path.name} has no {name}"
    long = [
        f"{i + 1}: {len(lines[i])}"
        for i in range(node.lineno - 1, node.end_lineno)
        if len(lines[i]) > MAX_LINE
    ]
    assert not long, (
        f"{chapter}: {path.name}:{name} has lines over {MAX_LINE} characters: {long}"
    )


@pytest.mark.parametrize(
    "chapter",
    [
        p.stem
        for p in sorted(BOOK.glob("*.md"))
        if "{code-cell}" in p.read_text(encoding="utf-8")
    ],
)
def test_chapter_has_prerequisites_and_takeaways(chapter: str) -> None:
    text = (BOOK / f"{chapter}.md").read_text(encoding="utf-8")
    if chapter == "intro":
        return
    assert (
        ":::{admonition} Before you start" in text
        and ":::{admonition} Key takeaways" in text
    )


HIDDEN = {"remove-cell", "remove-input"}


def _visible_cells(chapter: Path) -> list[str]:
    """The sources of the code cells whose input the page shows."""
    import jupytext

    notebook = jupytext.read(chapter, fmt="md:myst")
    return [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and not HIDDEN & set(cell.metadata.get("tags", []))
    ]


@pytest.mark.parametrize("chapter", sorted(BOOK.glob("*.md")), ids=lambda p: p.stem)
def test_visible_cells_teach_and_fit_the_column(chapter: Path) -> None:
    cells = _visible_cells(chapter)
    assert not [c for c in cells if PLUMBING.search(c)], (
        f"{chapter.stem}: visible bookkeeping"
    )
    fenced = re.findall(
        r"```python\n(.*?)```", chapter.read_text(encoding="utf-8"), re.S
    )
    long = [
        line for c in cells + fenced for line in c.splitlines() if len(line) > MAX_LINE
    ]
    assert not long, f"{chapter.stem}: visible lines over {MAX_LINE} characters: {long}"
