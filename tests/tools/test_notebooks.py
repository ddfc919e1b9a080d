"""booktools.notebooks: the Colab notebooks are plain Jupyter, in sync with the chapters, and only the
reader edition holds the solutions."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from booktools.myst import EDITIONS, walk_directives
from booktools.notebooks import (
    METADATA_KEY,
    NAMES_CELL,
    NAMES_NOTE,
    SETUP_TAG,
    chapter_files,
    chapter_notebook,
    export_notebooks,
    load_book,
    notebook_path,
    notebook_text,
    book_languages,
    render_downloads,
    repository_url,
)

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = chapter_files(ROOT / "book")
LANGUAGES = book_languages(ROOT / "book")  # English, then each translated edition
BOOKS = {
    lang: load_book(ROOT / "book", ROOT / "_config.yml", lang) for lang in LANGUAGES
}
BOOK = BOOKS["en"]
RAW_MYST = re.compile(r"\{glue|\{cite|\{numref|\{ref\}|\{doc\}|\{eq\}|:::|```\{")
SOLUTION = re.compile(
    r"^> \*\*(Solution( to Exercise \d+)?|Решение( упражнения \d+)?)\*\*\n(>.*(\n|$))*",
    re.M,
)  # the reader's solution quote, in every language
CASES = [
    (chapter, edition, lang)
    for lang in LANGUAGES
    for chapter in CHAPTERS
    for edition in EDITIONS
]


def _ids(case: tuple[Path, str, str]) -> str:
    return f"{case[2]}-{case[0].stem}-{case[1]}"


def test_every_chapter_with_code_is_exported() -> None:
    assert {p.stem for p in CHAPTERS} >= {
        "architectures",
        "convolution",
        "regularization",
        "fast",
        "calibration",
        "visualization",
    }


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_committed_notebook_is_up_to_date(case: tuple[Path, str, str]) -> None:
    chapter, edition, lang = case
    committed = notebook_path(chapter, edition, lang)
    assert committed.is_file(), f"{committed} missing: run `make notebooks`"
    expected = notebook_text(chapter_notebook(BOOKS[lang], chapter, edition))
    assert committed.read_text() == expected, (
        f"{committed} is stale: run `make notebooks`"
    )


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_no_myst_left_in_markdown(case: tuple[Path, str, str]) -> None:
    notebook = nbformat.read(notebook_path(*case), as_version=4)
    nbformat.validate(notebook)
    raw = [
        (i, m.group(0))
        for i, c in enumerate(notebook.cells)
        if c.cell_type == "markdown"
        for m in RAW_MYST.finditer(c.source)
    ]
    assert not raw, f"raw MyST in {notebook_path(*case).name}: {raw[:5]}"


def _without_solutions(source: str) -> str:
    """A reader notebook's Markdown cell with its solution blockquotes (a bold "Solution..." title) removed."""
    return re.sub(r"\n{3,}", "\n\n", SOLUTION.sub("", source)).strip("\n")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_the_student_notebook_is_the_readers_without_the_solutions(
    chapter: Path, lang: str
) -> None:
    reader, student = (
        nbformat.read(notebook_path(chapter, edition, lang), as_version=4)
        for edition in EDITIONS
    )
    solutions = [
        d for d in walk_directives(chapter.read_text(), BOOK.md) if d.name == "solution"
    ]
    quotes = [
        m.group(0) for cell in reader.cells for m in SOLUTION.finditer(cell.source)
    ]
    assert len(quotes) == len(solutions) and all(
        len(quote.strip().splitlines()) > 2 for quote in quotes
    )
    assert not [m for cell in student.cells for m in SOLUTION.finditer(cell.source)]
    without = [
        (
            c.cell_type,
            _without_solutions(c.source) if c.cell_type == "markdown" else c.source,
        )
        for c in reader.cells
    ]
    assert [c for c in without if c[0] != "markdown" or c[1]] == [
        (c.cell_type, c.source) for c in student.cells
    ]


def test_repository_url_defined_once() -> None:
    url = repository_url(ROOT / "_config.yml")
    for chapter in CHAPTERS:
        setup = nbformat.read(notebook_path(chapter, "reader"), as_version=4).cells[0]
        assert (
            setup.metadata["tags"] == [SETUP_TAG]
            and f"git clone --depth 1 {url} " in setup.source
        )
    tracked = [p for p in (ROOT / "code").rglob("*.py")] + [
        ROOT / "README.md",
        *ROOT.glob("book/*.md"),
    ]
    assert not [p for p in tracked if url in p.read_text()], (
        "the repository URL is typed outside _config.yml"
    )


def _tiny_book(tmp_path: Path, chapter: str) -> Path:
    """A book folder with a _toc.yml, one chapter, a .bib file and a _config.yml."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: ch\n"
    )
    (book / "intro.md").write_text(
        "# Intro\n\n:::{figure} a.png\n:name: fig-zero\nA first figure.\n:::\n"
    )
    (book / "ch.md").write_text(chapter)
    (book / "references.bib").write_text(
        "@article{doe2020, author = {Doe, Jane and Roe, Rick}, title = {T},"
        " journal = {J}, year = {2020}}\n"
    )
    (tmp_path / "_config.yml").write_text(
        "repository:\n  url: https://github.com/someone/book.git\n"
        "parse:\n  myst_enable_extensions: [colon_fence, dollarmath]\n"
    )
    return book


CHAPTER = """\
(chapter-ch)=
# Chapter

Text with {glue:text}`acc` and {glue:text}`ratio:.1f`, after {cite}`doe2020`; see {numref}`fig-one`,
{doc}`intro` and {ref}`chapter-ch`.

```{code-cell} ipython3
x = 1
```

```{glue:figure} fig_one
:name: fig-one
:alt: A plot.

A caption with {glue:text}`acc`.
```

:::{exercise}
:label: ex-one
Compute it.
:::

:::{solution} ex-one
:class: dropdown
The secret answer is forty two.
:::
"""


@pytest.mark.parametrize("edition", EDITIONS)
def test_chapter_rendered_as_plain_markdown(tmp_path: Path, edition: str) -> None:
    book_dir = _tiny_book(tmp_path, CHAPTER)
    book = load_book(book_dir, tmp_path / "_config.yml")
    notebook = chapter_notebook(book, book_dir / "ch.md", edition)
    nbformat.validate(notebook)
    assert [c.cell_type for c in notebook.cells] == [
        "code",
        "markdown",
        "markdown",
        "code",
        "markdown",
        "markdown",
        "code",
    ]
    assert notebook.cells[0].metadata["tags"] == [SETUP_TAG]
    assert (
        "git clone --depth 1 https://github.com/someone/book.git book"
        in notebook.cells[0].source
    )
    assert (
        notebook.cells[1].source == NAMES_NOTE["en"]
        and notebook.cells[-1].source == NAMES_CELL
    )
    assert notebook.cells[3].source == "x = 1" and notebook.cells[3].outputs == []
    text = notebook.cells[2].source
    assert (
        "Text with ⟨acc⟩ and ⟨ratio⟩, after [Doe and Roe, 2020]; see Fig. 2,\n*Intro* and Chapter."
        in text
    )
    assert "(chapter-ch)=" not in text
    body = notebook.cells[4].source
    assert "*Fig. 2 (drawn by the code cell above): A caption with ⟨acc⟩.*" in body
    assert "> **Exercise 1**\n>\n> Compute it." in body
    assert ("forty two" in body) == (edition == "reader")
    assert notebook.cells[5].source.startswith(
        "## References\n\n- Doe and Roe (2020). Jane Doe and Rick Roe. T."
    )
    assert notebook.metadata[METADATA_KEY] == {
        "edition": edition
    }  # no value of any build


def test_literalinclude_and_admonition(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(
        "import os\n\n\ndef f(x):\n    return x + 1\n\n\ndef g():\n    pass\n"
    )
    chapter = (
        "# C\n\n```{code-cell} ipython3\n1\n```\n\n```{literalinclude} ../mod.py\n:pyobject: f\n```\n\n"
        "::::{admonition} Careful\n:class: note\nOuter text.\n:::{note}\nInner.\n:::\n::::\n"
    )
    book_dir = _tiny_book(tmp_path, chapter)
    text = (
        chapter_notebook(
            load_book(book_dir, tmp_path / "_config.yml"), book_dir / "ch.md"
        )
        .cells[-1]
        .source
    )
    assert "```python\ndef f(x):\n    return x + 1\n```" in text
    assert "> **Careful**\n>\n> Outer text.\n> > **Note**\n> >\n> > Inner." in text


@pytest.mark.parametrize(
    "chapter, message",
    [
        (
            "# C\n\n```{code-cell} ipython3\n1\n```\n\nSee {cite}`nobody1999`.\n",
            "'nobody1999' is not in the bib",
        ),
        (
            "# C\n\n```{code-cell} ipython3\n1\n```\n\n:::{note}\nnever closed\n",
            "unclosed ::: fence",
        ),
    ],
)
def test_bad_chapter_gives_one_line_error(
    tmp_path: Path, chapter: str, message: str
) -> None:
    book_dir = _tiny_book(tmp_path, chapter)
    with pytest.raises(ValueError, match=re.escape(message)):
        export_notebooks(book_dir, tmp_path / "_config.yml")


def test_committed_notebooks_hold_no_build_values(tmp_path: Path) -> None:
    book_dir = _tiny_book(tmp_path, CHAPTER)
    build = tmp_path / "_build" / "jupyter_execute"
    build.mkdir(parents=True)
    (build / "ch.glue.json").write_text(
        '{"acc": {"data": {"text/plain": "\'80.0%\'"}}}'
    )
    export_notebooks(book_dir, tmp_path / "_config.yml")
    for edition in EDITIONS:
        text = notebook_path(book_dir / "ch.md", edition).read_text()
        assert "⟨acc⟩" in text and "80.0%" not in text


def test_download_notebook_shows_the_build_values(tmp_path: Path) -> None:
    book_dir = _tiny_book(tmp_path, CHAPTER)
    build = tmp_path / "_build"
    (build / "jupyter_execute").mkdir(parents=True)
    (build / "html" / "_sources").mkdir(parents=True)
    (build / "jupyter_execute" / "ch.glue.json").write_text(
        '{"acc": {"data": {"text/plain": "\'80.0%\'"}}, '
        '"ratio": {"data": {"text/plain": "1.0"}}}'
    )
    executed = jupytext.reads((book_dir / "ch.md").read_text(), fmt="md:myst")
    for path in (
        build / "jupyter_execute" / "ch.ipynb",
        build / "html" / "_sources" / "ch.ipynb",
    ):
        nbformat.write(executed, path)
    render_downloads(book_dir, tmp_path / "_config.yml", build)
    text = (build / "html" / "_sources" / "ch.ipynb").read_text()
    assert "Text with 80.0% and 1.0" in text and "⟨" not in text
    (build / "jupyter_execute" / "ch.glue.json").write_text("{}")
    with pytest.raises(ValueError, match="glued value 'acc' is unknown"):
        render_downloads(book_dir, tmp_path / "_config.yml", build)


def test_repository_url_is_required(tmp_path: Path) -> None:
    (tmp_path / "_config.yml").write_text("title: x\n")
    with pytest.raises(ValueError, match="no repository url"):
        repository_url(tmp_path / "_config.yml")
