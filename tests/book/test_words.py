"""cnnbook.book.words: the figure and table words of the translated editions."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from cnnbook.book.words import (
    RUSSIAN,
    UntranslatedError,
    glue_key,
    latin_words,
    local_numbers,
    translate,
    translate_figure,
)
from cnnbook.core.data import CLASS_NAMES


def test_whole_texts_patterns_and_edges():
    assert translate("epoch") == "эпоха"
    assert translate("baseline train") == "baseline, обучение"
    assert translate("cat?\n(dog)") == "кошка?\n(собака)"
    assert translate(" Kept instead:") == " Оставили вместо этого:"
    assert translate("+0.3 [−0.1, +0.7] higher") == "+0.3 [−0.1, +0.7] выше"
    assert (
        translate("88.76%") == "88.76%" and translate("block1_conv1") == "block1_conv1"
    )
    assert translate("epoch", "en") == "epoch"


def test_an_unknown_word_is_named():
    with pytest.raises(UntranslatedError, match="'warmup steps'"):
        translate("warmup steps")
    with pytest.raises(ValueError, match="no translation table for language 'de'"):
        translate("epoch", "de")


def test_names_identifiers_and_math_are_not_words():
    assert latin_words("ECE of fast_short, Conv2D, $y^c$ and ReLU") == ["of", "and"]


def test_every_class_name_and_no_latin_left_in_the_table():
    assert all(name in RUSSIAN for name in CLASS_NAMES)
    assert [t for t in RUSSIAN.values() if latin_words(t)] == []


def test_a_figure_is_translated_then_restored():
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], label="baseline validation")
    ax.set(xlabel="epoch", title="cat")
    ax.legend()
    with translate_figure(fig) as translated:
        assert translated.axes[0].get_xlabel() == "эпоха"
        assert (
            translated.axes[0].get_legend().get_texts()[0].get_text()
            == "baseline, валидация"
        )
    assert ax.get_xlabel() == "epoch" and ax.get_title() == "cat"
    assert glue_key("fig_x", "ru") == "fig_x__ru"


def test_a_figure_with_an_untranslated_word_fails_naming_it():
    fig = Figure()
    fig.add_subplot().set(xlabel="epoch", ylabel="learning rate")
    with pytest.raises(UntranslatedError, match="'learning rate'"):
        with translate_figure(fig):
            pass
    assert fig.axes[0].get_ylabel() == "learning rate"


def test_numbers_the_russian_way() -> None:
    assert (
        local_numbers("50,000 images, 88.76 ± 0.32%", "ru")
        == "50\u00a0000 images, 88,76 ± 0,32%"
    )
    assert (
        local_numbers("3, 4 and 1,2; 0.5", "ru", decimals=False) == "3, 4 and 1,2; 0.5"
    )
    assert local_numbers("50,000", "en") == "50,000"
