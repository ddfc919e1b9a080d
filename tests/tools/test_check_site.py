"""tools/check_site.py: its text checks catch the defects they are for, and pass clean text."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("check_site", Path(__file__).resolve().parents[2] / "tools" / "check_site.py")
check_site = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(check_site)


def _raw(text: str) -> bool:
    return any(re.search(p, text, re.M) for p in check_site.RAW_MARKUP)


@pytest.mark.parametrize("text", ["| version | max |difference| to tf.nn.conv2d |\n|—|—|",
                                  "| a | b |\n| --- | --- |", "see {glue:text}`x`", "{cite}`guo2017`",
                                  ":::{solution} ex-1", "```{code-cell} ipython3"])
def test_raw_markup_is_caught(text: str) -> None:
    assert _raw(text)


def test_rendered_prose_passes() -> None:
    assert not _raw("The ECE falls from 11.3% to 1.2% (a change of −10.1 points [−10.8, −9.4]).")
    assert not re.search(check_site.RAW_MATH, "costs $5 and $6 dollars")  # prices are not math


def test_unrendered_math_is_caught() -> None:
    assert re.search(check_site.RAW_MATH, "with $\\hat{x} = x$ left raw")


@pytest.mark.parametrize("alt, bad", [("_images/e748102ce73b0d63165c7cbcae26526c6d3bd0a604a04db7d0163a39d802d809.png", True),
                                      ("figure.png", True), ("A confusion matrix of the studied model.", False)])
def test_file_names_are_not_alt_text(alt: str, bad: bool) -> None:
    assert bool(check_site.FILE_NAME_ALT.search(alt)) is bad


def test_without_chromium_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(check_site, "CHROMIUM", "/nonexistent/chromium")
    assert check_site.main() == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install chromium chromium-driver" in err
