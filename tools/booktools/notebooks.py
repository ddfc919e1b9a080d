"""The chapters as plain Jupyter notebooks for the Colab button: book/<chapter>.ipynb (reader edition,
with the solutions) and book/student/<chapter>.ipynb (student edition, without).

`make notebooks` (this module run as a script) reads every chapter of book/_toc.yml (sphinx-external-toc)
that has code with jupytext, renders its MyST as plain Markdown (the PlainMarkdown preprocessor of nbconvert,
with booktools.myst: glued values as numbers, citations as text with a reference list, admonitions and
exercises as blockquotes) and prepends a cell (ColabSetup) that, on Colab only, clones the repository of
_config.yml's `repository: url:` and installs it.

The committed notebooks carry no value of a build: a glued number appears by name, as ⟨name⟩, and
the notebook's last cell lists every value its code glued (cnnbook.book.pages.glued_table). So a
committed notebook is a function of its chapter alone: it cannot disagree with a build made on
another CPU, and `make notebooks` needs no build (tests/tools/test_notebooks.py checks the committed
files are fresh). The site's download button gives the executed chapter instead, with the build's
values written in (`render_downloads`, run by `make book`).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from markdown_it import MarkdownIt
from nbconvert.preprocessors import Preprocessor
from sphinx_external_toc.parsing import MalformedError, parse_toc_yaml
from traitlets import Instance, Unicode
from yaml import YAMLError

from booktools.citations import Bibliography, read_bibliography
from booktools.editions import read_config
from booktools.myst import (
    EDITIONS,
    BookIndex,
    Context,
    convert_text,
    index_chapter,
    markdown_parser,
    word,
)
from booktools.translation import LANGUAGES, LOCALES, catalogue, translate_source
from cnnbook.core.files import REPOSITORY_ROOT, atomic_write_text

SETUP_TAG = "colab-setup"
METADATA_KEY = "cnnbook"
STUDENT_DIR = "student"
SETUP_TEMPLATE = """\
# Set-up for Google Colab: the book's package and trained models come from its repository.
# Running locally (after `make book` or `pip install -e .`), this cell does nothing.
import os
import sys
if "google.colab" in sys.modules and not os.path.isdir("{name}"):
    !git clone --depth 1 {url} {name}
    %pip install --quiet -e {name} myst-nb
    sys.path.insert(0, os.path.abspath("{name}/code"))
    os.chdir("{name}")"""
NAMES_NOTE = {
    "en": "*A number that the book's text takes from the code appears here by name, as ⟨name⟩: "
    "run the notebook, and its last cell lists every such value.*",
    "ru": "*Число, которое текст книги берёт из кода, показано здесь по имени, как ⟨имя⟩: "
    "выполните ноутбук, и его последняя ячейка перечислит все такие значения.*",
}
NAMES_CELL = "from cnnbook.book.pages import glued_table\n\nglued_table()  # every value the text names as ⟨name⟩"


@dataclass(frozen=True)
class Book:
    """What every chapter's conversion shares: the repository URL, the references, the cross-references."""

    book_dir: Path
    url: str
    bibliography: Bibliography
    index: BookIndex
    md: MarkdownIt  # myst-parser's parser with _config.yml's extensions
    language: str = (
        "en"  # a translated edition's: its chapters through book/locales' catalogues
    )

    @property
    def locales(self) -> Path:
        """The book's gettext catalogues (book/locales)."""
        return self.book_dir / LOCALES.name

    def text(self, chapter: Path) -> str:
        """A chapter's MyST text in the book's language; a sentence the catalogue lacks is an error."""
        text = chapter.read_text(encoding="utf-8")
        if self.language == "en":
            return text
        translated, missing = translate_source(
            text, catalogue(chapter.stem, self.language, self.locales), self.md
        )
        if missing:
            raise ValueError(
                f"{chapter.name}: {len(missing)} sentence(s) not translated into {self.language}, "
                f"e.g. {missing[0][:80]!r}: run `make locale` and translate them"
            )
        return translated


def repository_url(config_file: str | os.PathLike) -> str:
    """The `repository: url:` entry of the book's _config.yml (the Colab set-up cell clones it)."""
    url = (read_config(Path(config_file)).get("repository") or {}).get("url")
    if not url:
        raise ValueError(f"{config_file}: no repository url (repository: url: ...)")
    return str(url)


def toc_documents(book_dir: str | os.PathLike) -> list[Path]:
    """Every Markdown page of book/_toc.yml in reading order, read by sphinx-external-toc as Jupyter Book does."""
    try:
        return [
            Path(book_dir) / f"{name}.md"
            for name in parse_toc_yaml(Path(book_dir) / "_toc.yml")
        ]
    except (MalformedError, YAMLError) as exc:
        raise ValueError(f"{Path(book_dir) / '_toc.yml'}: {exc}") from None


def chapter_files(book_dir: str | os.PathLike) -> list[Path]:
    """The Markdown chapters named in book/_toc.yml that contain code cells."""
    return [
        p
        for p in toc_documents(book_dir)
        if "{code-cell}" in p.read_text(encoding="utf-8")
    ]


def load_book(
    book_dir: str | os.PathLike, config_file: str | os.PathLike, language: str = "en"
) -> Book:
    """The repository URL, bibliography, MyST parser and book-wide figure/exercise numbers of a book
    (in a translated edition, its chapters' titles are the translated ones)."""
    config = read_config(Path(config_file))
    md = markdown_parser(
        (config.get("parse") or {}).get("myst_enable_extensions") or []
    )
    book_dir, index = Path(book_dir), BookIndex()
    bibfiles = config.get("bibtex_bibfiles") or ["references.bib"]
    book = Book(
        book_dir,
        repository_url(config_file),
        read_bibliography(book_dir / bibfiles[0]),
        index,
        md,
        language,
    )
    for page in toc_documents(book_dir):
        index_chapter(page.stem, book.text(page), index, md)
    return book


def book_languages(book_dir: str | os.PathLike) -> tuple[str, ...]:
    """English and each translated language whose catalogues the book has (book/locales/<lang>)."""
    locales = Path(book_dir) / LOCALES.name
    return ("en", *(lang for lang in LANGUAGES if (locales / lang).is_dir()))


def notebook_path(chapter: Path, edition: str, language: str = "en") -> Path:
    """book/<chapter>.ipynb (reader) or book/student/<chapter>.ipynb (student); a translated edition's
    under book/locales/<lang>/notebooks/ (its Colab buttons: booktools.editions)."""
    if edition not in EDITIONS:
        raise ValueError(
            f"unknown edition {edition!r}: choose one of {', '.join(EDITIONS)}"
        )
    folder = (
        chapter.parent
        if language == "en"
        else translated_notebooks(chapter.parent, language)
    )
    folder = folder if edition == "reader" else folder / STUDENT_DIR
    return folder / f"{chapter.stem}.ipynb"


def translated_notebooks(book_dir: Path, language: str) -> Path:
    """Where a translated edition's Colab notebooks live: book/locales/<lang>/notebooks."""
    return book_dir / LOCALES.name / language / "notebooks"


def build_glue(build_dir: Path, name: str) -> dict[str, str]:
    """The text values a build glued in one chapter (_build/jupyter_execute/<name>.glue.json), else {}."""
    path = build_dir / "jupyter_execute" / f"{name}.glue.json"
    if not path.is_file():
        return {}
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise ValueError(
            f"{path}: not valid JSON; rebuild the book with `make book`"
        ) from None
    return {
        key: out["data"]["text/plain"]
        for key, out in outputs.items()
        if "text/plain" in out.get("data", {}) and not set(out["data"]) - {"text/plain"}
    }


class PlainMarkdown(Preprocessor):
    """Every Markdown cell as plain Markdown, empty ones dropped, the references appended: both notebook kinds."""

    ctx = Instance(Context)

    def preprocess_cell(
        self, cell: Any, resources: dict, index: int
    ) -> tuple[Any, dict]:
        """One Markdown cell rendered by booktools.myst."""
        if cell.cell_type == "markdown":
            cell.source = convert_text(cell.source, self.ctx)
        return cell, resources

    def preprocess(
        self, nb: nbformat.NotebookNode, resources: dict
    ) -> tuple[nbformat.NotebookNode, dict]:
        """Every cell rendered, then the empty Markdown cells dropped and the reference list added."""
        nb, resources = super().preprocess(nb, resources)
        nb.cells = [
            c for c in nb.cells if c.cell_type != "markdown" or c.source.strip()
        ]
        if self.ctx.cited:
            nb.cells.append(
                nbformat.v4.new_markdown_cell(
                    self.ctx.bibliography.reference_list(
                        self.ctx.cited, word("References", self.ctx.language)
                    )
                )
            )
        return nb, resources


class ColabSetup(Preprocessor):
    """The Colab set-up cell first, the glued names' note and table, metadata and ids: the committed notebooks."""

    url = Unicode()
    ctx = Instance(Context)

    def preprocess(
        self, nb: nbformat.NotebookNode, resources: dict
    ) -> tuple[nbformat.NotebookNode, dict]:
        """The set-up cell clones the repository at url (its name from the URL) and installs it."""
        name = self.url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        nb.cells.insert(
            0,
            nbformat.v4.new_code_cell(
                SETUP_TEMPLATE.format(url=self.url, name=name),
                metadata={"tags": [SETUP_TAG]},
            ),
        )
        if self.ctx.glued:
            nb.cells.insert(
                1, nbformat.v4.new_markdown_cell(NAMES_NOTE[self.ctx.language])
            )
            nb.cells.append(nbformat.v4.new_code_cell(NAMES_CELL))
        nb.metadata = {
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
            "colab": {"provenance": []},
            METADATA_KEY: {"edition": self.ctx.edition}
            | ({"language": self.ctx.language} if self.ctx.language != "en" else {}),
        }
        for index, cell in enumerate(nb.cells):
            cell["id"] = f"cell-{index}"
        return nb, resources


def _plain(
    notebook: nbformat.NotebookNode, ctx: Context, chapter: Path
) -> nbformat.NotebookNode:
    """PlainMarkdown applied, its errors naming the chapter."""
    try:
        return PlainMarkdown(ctx=ctx).preprocess(notebook, {})[0]
    except ValueError as exc:
        raise ValueError(f"{chapter.name}: {exc}") from None


def chapter_notebook(
    book: Book, chapter: Path, edition: str = "reader"
) -> nbformat.NotebookNode:
    """One chapter as a Colab notebook of one edition, glued values by name (export_notebooks, the tests)."""
    ctx = Context(
        None, book.bibliography, book.index, book.md, chapter.parent, edition,
        language=book.language,
    )  # fmt: skip
    notebook = _plain(jupytext.reads(book.text(chapter), fmt="md:myst"), ctx, chapter)
    return ColabSetup(url=book.url, ctx=ctx).preprocess(notebook, {})[0]


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """Deterministic .ipynb text, so regenerated files only differ when a chapter changed (both notebook kinds)."""
    return nbformat.writes(notebook) + "\n"


def export_notebooks(
    book_dir: str | os.PathLike, config_file: str | os.PathLike
) -> list[Path]:
    """`make notebooks`: write both editions' Colab notebooks of every chapter, in every language;
    return the paths written."""
    written = []
    for language in book_languages(book_dir):
        book = load_book(book_dir, config_file, language)
        for chapter in chapter_files(book_dir):
            for edition in EDITIONS:
                target = notebook_path(chapter, edition, language)
                atomic_write_text(
                    target, notebook_text(chapter_notebook(book, chapter, edition))
                )
                written.append(target)
    return written


def render_downloads(
    book_dir: str | os.PathLike,
    config_file: str | os.PathLike,
    build_dir: str | os.PathLike,
) -> list[Path]:
    """`make book`: the site's download notebooks (html/_sources and html/<lang>/_sources, the executed
    chapters) in plain Markdown, each language's sentences from its catalogue."""
    build_dir = Path(build_dir)
    written = []
    for language in book_languages(book_dir):
        book = load_book(book_dir, config_file, language)
        site = build_dir / "html" / ("" if language == "en" else language)
        for chapter in chapter_files(book_dir):
            target = site / "_sources" / f"{chapter.stem}.ipynb"
            executed = build_dir / "jupyter_execute" / f"{chapter.stem}.ipynb"
            if not (target.is_file() and executed.is_file()):
                continue
            notebook = nbformat.reads(
                executed.read_text(encoding="utf-8"), as_version=4
            )
            for cell in notebook.cells:
                if cell.cell_type == "markdown" and language != "en":
                    cell.source = _translated_cell(book, chapter, cell.source)
            ctx = Context(
                build_glue(build_dir, chapter.stem),
                book.bibliography,
                book.index,
                book.md,
                chapter.parent,
                language=language,
            )
            atomic_write_text(target, notebook_text(_plain(notebook, ctx, chapter)))
            written.append(target)
    return written


def _translated_cell(book: Book, chapter: Path, source: str) -> str:
    """One Markdown cell of an executed chapter in the book's language."""
    translated, missing = translate_source(
        source, catalogue(chapter.stem, book.language, book.locales), book.md
    )
    if missing:
        raise ValueError(
            f"{chapter.name}: not translated into {book.language}: {missing[0][:80]!r}"
        )
    return translated


def main(argv: list[str] | None = None) -> int:
    """`make notebooks` (no build needed) and, with --downloads, `make book`: write the notebooks."""
    args = sys.argv[1:] if argv is None else argv
    root, build = REPOSITORY_ROOT, REPOSITORY_ROOT / "_build"
    try:
        if args == ["--downloads"]:
            paths = render_downloads(root / "book", root / "_config.yml", build)
        elif not args:
            paths = export_notebooks(root / "book", root / "_config.yml")
        else:
            raise ValueError(
                f"unknown arguments {' '.join(args)}: use none, or --downloads"
            )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
