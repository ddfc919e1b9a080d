"""The student edition (`make book-student`, which runs these): no solution text anywhere in the built
site — pages, search index, sources, notebooks. Skipped until that build exists; the configuration
tests always run."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from booktools.editions import STUDENT_BOOK_PATH, main, read_config, student_config
from booktools.myst import markdown_parser, walk_directives

ROOT = Path(__file__).resolve().parents[2]
MIN_PHRASE_WORDS = 4
MIN_CODE_CHARS = 20
STUDENT = ROOT / "_build" / "student" / "_build" / "html"
READER = ROOT / "_build" / "html"
TRANSLATED = (
    "ru",
)  # the translated editions, built into READER/<lang> and STUDENT/<lang>
TEXT_SUFFIXES = {
    ".html",
    ".js",
    ".txt",
    ".md",
    ".ipynb",
    ".json",
    ".inv",
    ".css",
    ".py",
    "",
}
built = pytest.mark.skipif(
    not (STUDENT / "index.html").is_file(),
    reason="student edition not built: run `make book-student` (it runs these checks)",
)


# The leak probes, used only by these tests: each solution's phrases that appear nowhere else in the book.
def normalize(text: str) -> str:
    """Text as compared for leaks: typographic quotes and dashes plain (Sphinx's smartquotes), one space."""
    for fancy, plain in (
        ("’", "'"),
        ("‘", "'"),
        ("“", '"'),
        ("”", '"'),
        ("–", "--"),
        ("—", "---"),
        ("…", "..."),
    ):
        text = text.replace(fancy, plain)
    return " ".join(text.split())


def _plain_words(text: str) -> str:
    """A solution's prose without math, code, roles or Markdown marks: words and punctuation."""
    text = re.sub(r"```.*?```", " . ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\{[\w:-]+\}", " . ", text, flags=re.S)
    return re.sub(r"[*_>#|]", " ", text)


def _code_lines(text: str) -> list[str]:
    """Lines of a solution's code (fenced blocks and inline code) long enough to be its own."""
    fenced = [
        line
        for block in re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
        for line in block.splitlines()
    ]
    inline = re.findall(
        r"(?<!`)`([^`\n]+)`(?!`)", re.sub(r"```.*?```", "", text, flags=re.S)
    )
    return [
        normalize(line)
        for line in fenced + inline
        if len(line.strip()) >= MIN_CODE_CHARS
    ]


def solution_phrases(text: str) -> list[str]:
    """Runs of at least MIN_PHRASE_WORDS plain words and long code lines of a solution: what would show if it leaked."""
    runs = [normalize(run) for run in re.split(r"[^\w\s'’-]+", _plain_words(text))]
    return [p for p in runs if len(p.split()) >= MIN_PHRASE_WORDS] + _code_lines(text)


def book_solutions(book_dir: Path) -> dict[str, list[str]]:
    """Every solution of the book (exercise label -> its phrases that appear nowhere else in the book)."""
    md = markdown_parser(
        read_config(ROOT / "_config.yml")["parse"]["myst_enable_extensions"]
    )
    texts = [
        chapter.read_text(encoding="utf-8") for chapter in sorted(book_dir.glob("*.md"))
    ]
    solutions = [
        {
            d.argument: d.body.strip()
            for d in walk_directives(text, md)
            if d.name == "solution"
        }
        for text in texts
    ]
    rest = list(texts)  # each chapter without its solutions
    for number, found in enumerate(solutions):
        for body in found.values():
            rest[number] = rest[number].replace(body, "")
    elsewhere = normalize(" ".join(_plain_words(t) for t in rest)) + normalize(
        " ".join(rest)
    )
    return {
        label: [p for p in solution_phrases(body) if p not in elsewhere]
        for found in solutions
        for label, body in found.items()
    }


def translated_solutions(book_dir: Path, language: str) -> dict[str, list[str]]:
    """Every solution's phrases in a translated edition: from the translations of the catalogue
    messages that are sentences of that solution, those that appear in no other translation."""
    from babel.messages.pofile import read_po

    md = markdown_parser(
        read_config(ROOT / "_config.yml")["parse"]["myst_enable_extensions"]
    )
    found, used, rest = {}, set(), []
    for chapter in sorted(book_dir.glob("*.md")):
        po = book_dir / "locales" / language / "LC_MESSAGES" / f"{chapter.stem}.po"
        if not po.is_file():
            continue
        with po.open("rb") as f:
            messages = [
                (normalize(m.id), m.string) for m in read_po(f) if m.id and m.string
            ]
        for d in walk_directives(chapter.read_text(encoding="utf-8"), md):
            if d.name == "solution":
                body = normalize(d.body)
                mine = [(e, s) for e, s in messages if e in body]
                used.update(e for e, _ in mine)
                found[d.argument] = [p for _, s in mine for p in solution_phrases(s)]
        rest += [s for e, s in messages if e not in used]
    elsewhere = normalize(" ".join(_plain_words(s) for s in rest)) + normalize(
        " ".join(rest)
    )
    return {
        label: [p for p in phrases if p not in elsewhere]
        for label, phrases in found.items()
    }


def _site_text(folder: Path) -> dict[Path, str]:
    """Every text file of a built site, tags stripped and entities decoded, normalized."""
    texts = {}
    for path in folder.rglob("*"):
        if (
            path.is_file()
            and path.suffix in TEXT_SUFFIXES
            and "_static" not in path.relative_to(folder).parts[:1]
        ):
            raw = path.read_text(encoding="utf-8", errors="replace")
            texts[path] = normalize(html.unescape(re.sub(r"<[^>]+>", "", raw)))
    return texts


@built
def test_no_solution_text_in_the_student_site() -> None:
    site = _site_text(STUDENT)  # the translated editions (STUDENT/ru/) included
    probes = {
        label: list(phrases) for label, phrases in book_solutions(ROOT / "book").items()
    }
    for language in TRANSLATED:
        for label, phrases in translated_solutions(ROOT / "book", language).items():
            probes[label] = probes.get(label, []) + phrases
    leaks = [
        f"{label}: {phrase!r} in {path.relative_to(STUDENT)}"
        for label, phrases in probes.items()
        for phrase in phrases
        for path, text in site.items()
        if phrase in text
    ]
    assert not leaks, leaks[:10]


@built
def test_the_probes_find_the_solutions_in_the_reader_site() -> None:
    if not (READER / "index.html").is_file():
        pytest.skip("reader edition not built")
    pages = " ".join(
        text for path, text in _site_text(READER).items() if path.suffix == ".html"
    )
    missing = [
        label
        for label, phrases in book_solutions(ROOT / "book").items()
        if not phrases or not any(p in pages for p in phrases)
    ]
    assert not missing, (
        f"solutions the probes cannot find even in the reader edition: {missing}"
    )
    for language in TRANSLATED:
        pages = " ".join(
            text
            for path, text in _site_text(READER / language).items()
            if path.suffix == ".html"
        )
        missing = [
            label
            for label, phrases in translated_solutions(ROOT / "book", language).items()
            if not phrases or not any(p in pages for p in phrases)
        ]
        assert not missing, f"{language}: the probes miss these solutions: {missing}"


@built
def test_no_sources_no_download_notebooks_and_exercises_still_there() -> None:
    assert not (STUDENT / "_sources").exists()
    assert not list(STUDENT.rglob("*.ipynb"))
    page = (STUDENT / "convolution.html").read_text(encoding="utf-8")
    assert "Exercise" in page and "Solution" not in re.sub(r"<[^>]+>", "", page)
    assert "download-source-button" not in page and "_sources/" not in page
    assert (
        f"/{STUDENT_BOOK_PATH}/convolution.ipynb" in page
    )  # the Colab button opens the student notebook
    for language in TRANSLATED:
        text = re.sub(
            r"<[^>]+>",
            "",
            (STUDENT / language / "convolution.html").read_text(encoding="utf-8"),
        )
        assert "Упражнение" in text and "Решение" not in text


def test_student_config_is_derived_from_the_readers(tmp_path: Path) -> None:
    config = read_config(ROOT / "_config.yml")
    student = student_config(config, ROOT, tmp_path / "cache")
    assert student["sphinx"]["config"]["hide_solutions"] is True
    assert student["sphinx"]["config"]["html_copy_source"] is False
    assert (
        student["sphinx"]["config"]["html_theme_options"]["use_download_button"]
        is False
    )
    assert student["sphinx"]["recursive_update"] is True
    assert student["execute"]["cache"] == str((tmp_path / "cache").resolve())
    assert student["repository"]["path_to_book"] == STUDENT_BOOK_PATH
    assert all(
        Path(p).is_absolute() for p in student["sphinx"]["local_extensions"].values()
    )
    unchanged = {k for k in config if student[k] == config[k]}
    assert unchanged >= {
        "bibtex_bibfiles",
        "parse",
        "launch_buttons",
        "exclude_patterns",
    }
    assert (
        config.get("sphinx", {}).get("config", {}).get("hide_solutions") is not True
    )  # reader edition untouched


def test_config_without_sphinx_exercise_is_refused() -> None:
    with pytest.raises(ValueError, match="sphinx_exercise is not in"):
        student_config({"sphinx": {"extra_extensions": []}}, ROOT, ROOT / "cache")


def test_editions_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([]) == 1 and "usage" in capsys.readouterr().err
    assert main([str(tmp_path / "student.yml"), "--student"]) == 0
    assert "hide_solutions: true" in (tmp_path / "student.yml").read_text()
