"""tools/execute_chapters.py: chapters executed into Jupyter Book's cache are found by myst-nb's own lookup."""

from __future__ import annotations

from pathlib import Path

import execute_chapters  # tools/ (on sys.path: tests/conftest.py)

FRONT = (
    "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  display_name: Python 3\n"
    "  language: python\n  name: python3\n---\n\n"
)
CHAPTER = (
    FRONT
    + "# {title}\n\n:::{{note}}\nA note.\n:::\n\n```{{code-cell}} ipython3\n:tags: [remove-cell]\n"
    "x = {value}\nprint(x * 2)\n```\n\nText $x^2$.\n"
)


def _book(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    book.mkdir()
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: one\n  - file: plain\n"
    )
    (book / "intro.md").write_text(CHAPTER.format(title="Intro", value=1))
    (book / "one.md").write_text(CHAPTER.format(title="One", value=21))
    (book / "plain.md").write_text("# Not a notebook\n")
    return book


def _as_myst_nb_reads(path: Path):
    """The notebook myst-nb builds from a page inside Sphinx (its reader, the book's Markdown extensions)."""
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.read import create_nb_reader
    from myst_parser.config.main import MdParserConfig

    text = path.read_text()
    config = MdParserConfig(
        enable_extensions={
            "amsmath",
            "colon_fence",
            "dollarmath",
            "deflist",
            "substitution",
        }
    )
    return create_nb_reader(str(path), config, NbParserConfig(), text).read(text)


def test_executed_chapters_are_cache_hits_for_myst_nb(tmp_path: Path, capsys) -> None:
    from jupyter_cache import get_cache

    book = _book(tmp_path)
    assert [p.name for p in execute_chapters.chapters(book)] == ["intro.md", "one.md"]
    assert (
        execute_chapters.execute(tmp_path / "_build", timeout=120, book_dir=book) == 0
    )
    assert "2 of 2 chapters to execute" in capsys.readouterr().out
    cache = get_cache(str(tmp_path / "_build" / ".jupyter_cache"))
    for name, printed in (("intro", "2"), ("one", "42")):
        _, merged = cache.merge_match_into_notebook(
            _as_myst_nb_reads(book / f"{name}.md")
        )
        (cell,) = [c for c in merged.cells if c.cell_type == "code"]
        assert cell.outputs[0]["text"].strip() == printed
    assert (
        execute_chapters.execute(tmp_path / "_build", timeout=120, book_dir=book) == 0
    )
    assert "every chapter is cached" in capsys.readouterr().out  # nothing runs twice
    (book / "one.md").write_text(CHAPTER.format(title="One", value=5))
    assert (
        execute_chapters.execute(tmp_path / "_build", timeout=120, book_dir=book) == 0
    )
    assert (
        "1 of 2 chapters to execute" in capsys.readouterr().out
    )  # only the edited chapter


def test_a_failing_chapter_is_left_to_jupyter_book(tmp_path: Path, capsys) -> None:
    book = _book(tmp_path)
    (book / "one.md").write_text(CHAPTER.format(title="One", value="1 / 0"))
    assert (
        execute_chapters.execute(tmp_path / "_build", timeout=120, book_dir=book) == 1
    )
    assert "failed here, left to jupyter-book: one" in capsys.readouterr().out
