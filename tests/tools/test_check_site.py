"""tools/check_site.py: its text checks catch the defects they are for, and pass clean text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import check_site  # tools/ (on sys.path: tests/conftest.py)


def _raw(text: str) -> bool:
    return any(re.search(p, text, re.M) for p in check_site.RAW_MARKUP)


@pytest.mark.parametrize(
    "text",
    [
        "| version | max |difference| to tf.nn.conv2d |\n|—|—|",
        "| a | b |\n| --- | --- |",
        "see {glue:text}`x`",
        "{cite}`guo2017`",
        ":::{solution} ex-1",
        "```{code-cell} ipython3",
    ],
)
def test_raw_markup_is_caught(text: str) -> None:
    assert _raw(text)


def test_rendered_prose_passes() -> None:
    assert not _raw(
        "The ECE falls from 11.3% to 1.2% (a change of −10.1 points [−10.8, −9.4])."
    )
    assert not re.search(
        check_site.RAW_MATH, "costs $5 and $6 dollars"
    )  # prices are not math
    assert not re.search(check_site.RAW_MATH, "a list [1, 2] (or a tuple)")


@pytest.mark.parametrize(
    "text",
    [
        "with $\\hat{x} = x$ left raw",
        "the pages show \\(T>0\\) raw",
        "\\[ W = V\\,(\\Lambda + \\epsilon I)^{-1/2} \\]",
    ],
)
def test_unrendered_math_is_caught(text: str) -> None:
    assert re.search(check_site.RAW_MATH, text)


@pytest.mark.parametrize(
    "alt, bad",
    [
        (
            "_images/e748102ce73b0d63165c7cbcae26526c6d3bd0a604a04db7d0163a39d802d809.png",
            True,
        ),  # noqa: E501  (one case per line)
        ("figure.png", True),
        ("A confusion matrix of the studied model.", False),
    ],
)
def test_file_names_are_not_alt_text(alt: str, bad: bool) -> None:
    assert bool(check_site.FILE_NAME_ALT.search(alt)) is bad


def test_without_chromium_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(check_site, "CHROMIUM", "/nonexistent/chromium")
    assert check_site.main() == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install chromium chromium-driver" in err


# A page as Sphinx + myst-nb write it: the chapter in a tex2jax_ignore section, formulas in .math
# elements, MathJax served with the book. Without the `window.MathJax` configuration (the breakage of
# issue 17: the page's script list lost it), MathJax loads and renders nothing.
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">{config}
<script defer="defer" src="mathjax/tex-mml-chtml.js"></script></head><body><main>
<section class="tex2jax_ignore mathjax_ignore" id="chapter"><h1>Formulas</h1>
<p>Inline <span class="math notranslate nohighlight">\\(T&gt;0\\)</span> and
<span class="math notranslate nohighlight">\\(p = \\operatorname{{softmax}}(z / T)\\)</span>.</p>
<div class="math notranslate nohighlight">\\[ W = V\\,(\\Lambda + \\epsilon I)^{{-1/2}} V^\\top \\]</div>
</section></main></body></html>"""
HAS_CHROMIUM = Path(check_site.CHROMIUM).exists() and Path(check_site.DRIVER).exists()


def _config_script() -> str:
    """The configuration Sphinx writes for MathJax 3 with myst-parser's classes (the build's own)."""
    import json

    from myst_parser.config.main import MdParserConfig

    config = {"options": {"processHtmlClass": MdParserConfig().mathjax_classes}}
    return f"<script>window.MathJax = {json.dumps(config)}</script>"


@pytest.fixture(scope="module")
def browser():
    if not HAS_CHROMIUM:
        pytest.skip("needs Debian's chromium and chromium-driver")
    driver = check_site._browser()
    yield driver
    driver.quit()


@pytest.mark.parametrize(
    "broken", [False, True], ids=["configured", "configuration-removed"]
)
def test_math_check_fails_on_unrendered_formulas(
    browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: bool
) -> None:
    (tmp_path / "mathjax").symlink_to(check_site.ROOT / "book" / "_static" / "mathjax")
    (tmp_path / "page.html").write_text(
        PAGE.format(config="" if broken else _config_script()), encoding="utf-8"
    )
    monkeypatch.setattr(check_site, "SHOTS", tmp_path)
    server, base = check_site._serve(tmp_path)
    try:
        problems = check_site._page_problems(browser, f"{base}/page.html", "page")
    finally:
        server.shutdown()
    if broken:
        assert any("3 of 3 formulas not rendered" in p for p in problems), problems
        assert any("unrendered math" in p for p in problems), problems
    else:
        assert problems == []


# The translated editions (issue 19): the Latin share of the prose, the interface's words, the switcher.
RUSSIAN_PROSE = (
    "Сеть учится на обучающей выборке, а качество измеряется на тестовой; модель baseline "
    "и модель с дропаутом сравниваются по точности и ECE"
)


def test_latin_share_counts_words_but_not_names() -> None:
    share, latin = check_site.latin_share(RUSSIAN_PROSE + " (fast_short, Grad-CAM).")
    assert share == 0 and latin == []
    share, latin = check_site.latin_share(
        RUSSIAN_PROSE + ", and this sentence was left in English."
    )
    assert share > check_site.MAX_LATIN_SHARE and latin[:3] == [
        "and",
        "this",
        "sentence",
    ]


def test_interface_words_are_caught() -> None:
    assert (
        check_site.interface_words(["Поиск по книге…", "Colab", ".ipynb", "Ctrl"]) == []
    )
    assert check_site.interface_words(["Search this book...", "Наверх"]) == [
        "Search",
        "book",
        "this",
    ]


TWO_LANGUAGES = """<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"></head><body>
<div class="bd-header-article"><nav class="language-switcher">
<a class="language-switcher-link" href="{other}" hreflang="{to}" lang="{to}">{name}</a></nav>
<button title="{button}">x</button></div>
<main><article><h1>{title}</h1><p>{prose}</p></article></main></body></html>"""


def _two_language_site(
    root: Path, russian_prose: str, back: str = "../page.html"
) -> None:
    """page.html (English) and ru/page.html linking to each other, the Russian page's prose given."""
    (root / "ru").mkdir()
    (root / "page.html").write_text(
        TWO_LANGUAGES.format(lang="en", other="ru/page.html", to="ru", name="Русский",
                             button="Search", title="Page", prose="English prose."),
        encoding="utf-8",
    )  # fmt: skip
    (root / "ru" / "page.html").write_text(
        TWO_LANGUAGES.format(lang="ru", other=back, to="en", name="English",
                             button="Поиск", title="Страница", prose=russian_prose),
        encoding="utf-8",
    )  # fmt: skip


@pytest.mark.parametrize(
    "prose, back, found",
    [
        (RUSSIAN_PROSE, "../page.html", []),
        (RUSSIAN_PROSE + ", and this whole sentence was left in English by mistake", "../page.html",
         ["of the prose's words in Latin script"]),
        (RUSSIAN_PROSE, "../other.html", ["the switcher to 'en' leads to"]),
    ],
    ids=["translated", "english-left", "switcher-broken"],
)  # fmt: skip
def test_a_translated_page_is_checked(
    browser, tmp_path: Path, prose: str, back: str, found: list[str]
) -> None:
    _two_language_site(tmp_path, prose, back)
    server, base = check_site._serve(tmp_path)
    try:
        browser.get(f"{base}/ru/page.html")
        problems = check_site._translation_problems(
            browser, f"{base}/ru/page.html", "ru"
        )
    finally:
        server.shutdown()
    assert len(problems) == len(found) and all(
        f in p for f, p in zip(found, problems)
    ), problems
