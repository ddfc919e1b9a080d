"""book/_ext/explorer.py in a small Sphinx build: with the export, the page gets the explorer, its
script and the exported files under _static/; without it (no Node.js), one line in the page's
language says what to install, and no script is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnnbook.book.explorer import UI_WORDS, page_words
from cnnbook.book.words import translate

PAGE = "# Explore\n\nSome text.\n\n```{explorer}\n```\n"


def build(tmp_path: Path, exported: bool, language: str = "en") -> str:
    """Build a one-page project in tmp_path/repo/book; its index.html."""
    from io import StringIO

    from sphinx.application import Sphinx

    src = tmp_path / "repo" / "book"
    src.mkdir(parents=True)
    (src / "index.md").write_text(PAGE, encoding="utf-8")
    if exported:
        static = tmp_path / "repo" / "_build" / "explorer" / "static"
        (static / "tfjs").mkdir(parents=True)
        (static / "explorer-data").mkdir()
        for name in ("tf.min.js", "tf-backend-wasm.min.js"):
            (static / "tfjs" / name).write_text("// TF.js", encoding="utf-8")
        info = {"models": ["baseline"], "words": page_words(["cat"])}
        (static / "explorer-data" / "images.json").write_text(
            json.dumps(info), encoding="utf-8"
        )
    out = tmp_path / "out"
    app = Sphinx(
        str(src), None, str(out), str(tmp_path / "doctrees"), "html",
        confoverrides={"extensions": ["myst_parser", "explorer"], "language": language},
        status=None, warning=StringIO(), freshenv=True,
    )  # fmt: skip
    app.build()
    return (out / "index.html").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def extension_path(monkeypatch):
    monkeypatch.syspath_prepend(
        str(Path(__file__).resolve().parents[2] / "book" / "_ext")
    )


def test_with_the_export_the_page_has_the_explorer(tmp_path: Path) -> None:
    page = build(tmp_path, exported=True)
    assert 'class="cnn-explorer"' in page and "explorer/explorer.js" in page
    assert '"Probabilities"' in page  # the page's words, for the script
    assert (tmp_path / "out" / "_static" / "explorer-data" / "images.json").is_file()
    assert (tmp_path / "out" / "_static" / "tfjs" / "tf.min.js").is_file()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_without_the_export_one_line_says_what_to_install(
    tmp_path: Path, language
) -> None:
    from explorer import MISSING

    page = build(tmp_path, exported=False, language=language)
    assert translate(MISSING, language) in page
    assert "explorer/explorer.js" not in page and 'class="cnn-explorer"' not in page


def test_the_page_words_are_the_exporters() -> None:
    assert set(page_words([])["ru"]) == set(UI_WORDS)
