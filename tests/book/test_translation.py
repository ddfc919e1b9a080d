"""The translated editions' catalogues (booktools.translation) and the Sphinx extension that uses them
(book/_ext/languages.py): every sentence translated, the same markup, and a sentence the catalogue
does not translate fails a translated build, naming it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from booktools import translation

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import languages  # noqa: E402  (book/_ext, a Sphinx extension)


def test_the_book_catalogues_are_complete() -> None:
    problems = translation.check()
    assert not problems, "\n".join(map(str, problems[:10]))


def _copy(tmp_path: Path) -> Path:
    """A copy of the Russian catalogues, for seeded breakage."""
    target = tmp_path / "locales"
    shutil.copytree(translation.LOCALES, target, ignore=shutil.ignore_patterns("*.mo"))
    return target


def _edit(po: Path, change) -> str:
    """Apply change(message) to the first message with a glue role; that message's English."""
    with po.open("rb") as f:
        catalog = read_po(f)
    message = next(m for m in catalog if m.id and "{glue:text}" in m.id)
    change(message)
    with po.open("wb") as f:
        write_po(f, catalog)
    return message.id


@pytest.mark.parametrize(
    "breakage, what",
    [
        (lambda m: setattr(m, "string", ""), "untranslated"),
        (lambda m: m.flags.add("fuzzy"), "fuzzy"),
        (
            lambda m: setattr(m, "string", m.string.replace("{glue:text}`", "`", 1)),
            "markup differs",
        ),
    ],
    ids=["untranslated", "fuzzy", "glue-key-lost"],
)
def test_a_seeded_breakage_is_named(tmp_path: Path, breakage, what: str) -> None:
    locales = _copy(tmp_path)
    english = _edit(locales / "ru" / "LC_MESSAGES" / "regularization.po", breakage)
    problems = translation.check(("ru",), locales)
    assert [p.what.split(" (")[0] for p in problems] == [what]
    assert problems[0].page == "regularization" and english[:60] in str(problems[0])


def test_markup_targets_and_wordless_messages() -> None:
    english = "Epoch {glue:text}`n` of {numref}`fig-x`, see {doc}`fast` and $p$."
    russian = "Эпоха {glue:text}`n` из {numref}`fig-x`, см. {doc}`главу <fast>` и $p$."
    assert translation.role_targets(english) == translation.role_targets(russian)
    assert translation.role_targets("{glue:text}`m`") != translation.role_targets(
        "{glue:text}`n`"
    )
    assert not translation.needs_words("\n\\hat{x} = \\frac{x - \\mu}{\\sigma}\n")
    assert translation.needs_words("The mean $\\mu$ of a batch.")


def test_a_translation_glues_from_its_page() -> None:
    text = "Точность — {glue:text}`acc`, {glue:text}`t:.2f`, {glue:text}`/x.md::k:s`."
    assert languages._pending_glue(text, "/fast.md") == (
        "Точность — {glue:text}`/fast.md::acc:s`, {glue:text}`/fast.md::t:.2f`, "
        "{glue:text}`/x.md::k:s`."
    )


def _mini_book(tmp_path: Path, translated: str) -> Path:
    """A two-sentence Sphinx project in MyST whose Russian catalogue translates only `translated`."""
    src = tmp_path / "src"
    (src / "locales" / "ru" / "LC_MESSAGES").mkdir(parents=True)
    (src / "index.md").write_text(
        "# Title\n\nThe first sentence.\n\nThe second sentence.\n\n```{glue:figure} fig_a\n```\n",
        encoding="utf-8",
    )
    entries = {"Title": "Заголовок", translated: "Переведённое предложение."}
    (src / "locales" / "ru" / "LC_MESSAGES" / "index.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        + "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items()),
        encoding="utf-8",
    )
    return src


def test_a_sentence_left_in_english_fails_the_translated_build(tmp_path: Path) -> None:
    from io import StringIO

    from sphinx.application import Sphinx

    src = _mini_book(tmp_path, "The first sentence.")
    warnings = StringIO()
    sources = {}
    app = Sphinx(
        str(src), None, str(tmp_path / "out"), str(tmp_path / "doctrees"), "html",
        confoverrides={"extensions": ["myst_parser", "languages"], "language": "ru",
                       "locale_dirs": ["locales"], "gettext_compact": False},
        status=None, warning=warnings, freshenv=True,
    )  # fmt: skip
    app.connect(
        "source-read",
        lambda app, doc, source: sources.setdefault(doc, source[0]),
        priority=900,
    )
    app.build()
    log = warnings.getvalue()
    assert "untranslated in 'ru': 'The second sentence.'" in log
    assert "The first sentence." not in log
    assert (
        "{glue:figure} fig_a__ru" in sources["index"]
    )  # the figure in its Russian rendering
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "Переведённое предложение." in page and 'lang="ru"' in page


SOURCE = """# Title

:::{admonition} Before you start
:class: note
- the first item;
- the second
  item.
:::

```{code-cell} ipython3
print("Title")
```

```{glue:figure} fig_a
:name: fig-a
:alt: An alt text.

A caption with {glue:text}`n`.
```

A last paragraph.
"""
MESSAGES = {
    "Title": "Заголовок",
    "Before you start": "Прежде чем начать",
    "the first item;": "первый пункт;",
    "the second item.": "второй пункт.",
    "An alt text.": "Описание рисунка.",
    "A caption with {glue:text}`n`.": "Подпись с {glue:text}`n`.",
    "A last paragraph.": "Последний абзац.",
}


def _md():
    from booktools.editions import read_config
    from booktools.myst import markdown_parser

    return markdown_parser(
        read_config(ROOT / "_config.yml")["parse"]["myst_enable_extensions"]
    )


def test_a_chapter_source_is_translated_block_by_block() -> None:
    text, missing = translation.translate_source(SOURCE, MESSAGES, _md())
    assert missing == []
    assert text.splitlines()[:6] == [
        "# Заголовок", "", ":::{admonition} Прежде чем начать", ":class: note",
        "- первый пункт;", "- второй пункт.",
    ]  # fmt: skip
    assert 'print("Title")' in text and ":alt: Описание рисунка." in text
    assert "Подпись с {glue:text}`n`." in text and text.endswith("Последний абзац.\n")


def test_a_sentence_missing_from_the_catalogue_is_named() -> None:
    messages = {k: v for k, v in MESSAGES.items() if k != "A last paragraph."}
    text, missing = translation.translate_source(SOURCE, messages, _md())
    assert missing == ["A last paragraph."] and "A last paragraph." in text


def test_a_glued_value_alone_has_no_words() -> None:
    assert not translation.needs_words("{glue:text}`baseline_band_confidence`")
    assert translation.needs_words("{glue:text}`a` of {glue:text}`b`")


MASTER = """# %% [raw]
# # ASSIGNMENT CONFIG
# name: 01_tiny

# %% [markdown]
# # Assignment 1 — Tiny
#
# Write `f(x)`, which returns $x + 1$.

# %%
def f(x):
    return x + 1  # SOLUTION
"""


def test_an_assignment_master_is_handed_out_translated(tmp_path: Path) -> None:
    master = tmp_path / "01_tiny.py"
    master.write_text(MASTER, encoding="utf-8")
    folder = tmp_path / "locales" / "ru" / "LC_MESSAGES" / translation.ASSIGNMENT_DOMAIN
    folder.mkdir(parents=True)
    messages = translation.assignment_messages(master, _md())
    assert messages == ["Assignment 1 — Tiny", "Write `f(x)`, which returns $x + 1$."]
    (folder / "01_tiny.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Assignment 1 — Tiny"\nmsgstr "Задание 1 — крошечное"\n\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="not translated into ru: 'Write `f"):
        translation.translated_master(master, "ru", _md(), tmp_path / "locales")
    with (folder / "01_tiny.po").open("a", encoding="utf-8") as f:
        f.write(
            'msgid "Write `f(x)`, which returns $x + 1$."\nmsgstr "Напишите `f(x)`: она возвращает $x + 1$."\n'
        )
    text = translation.translated_master(master, "ru", _md(), tmp_path / "locales")
    assert "# # Задание 1 — крошечное" in text and "# Напишите `f(x)`" in text
    assert (
        "# name: 01_tiny" in text and "    return x + 1  # SOLUTION" in text
    )  # config and code as they are
