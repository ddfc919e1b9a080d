"""cnnbook.book: the helpers the chapters share."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnbook.book.pages import (
    check_legible,
    correct_examples_per_class,
    epochs_to_reach,
    figure_png,
    format_report,
    generalization_gap,
    history_column,
    markdown_table,
    mean_sd_text,
    percent,
    tried_first_note,
)

HISTORY = {
    "best_epoch": 2,
    "epochs": [
        {
            "epoch": 1,
            "accuracy": 0.50,
            "val_accuracy": 0.45,
            "val_loss": 1.5,
            "seconds": 10.0,
        },
        {
            "epoch": 2,
            "accuracy": 0.80,
            "val_accuracy": 0.70,
            "val_loss": 1.1,
            "seconds": 12.0,
        },
        {
            "epoch": 3,
            "accuracy": 0.95,
            "val_accuracy": 0.69,
            "val_loss": 1.3,
            "seconds": 11.0,
        },
    ],
}


def test_history_helpers() -> None:
    np.testing.assert_allclose(history_column(HISTORY, "seconds"), [10, 12, 11])
    assert epochs_to_reach(HISTORY, 0.70) == 2
    assert epochs_to_reach(HISTORY, 0.60) == 2
    assert epochs_to_reach(HISTORY, 0.45) == 1
    assert epochs_to_reach(HISTORY, 0.99) is None
    assert generalization_gap(HISTORY) == pytest.approx(0.10)


def test_correct_examples_per_class() -> None:
    labels = np.array([0, 1, 0, 1, 2, 2])
    predictions = {"a": np.array([1, 1, 0, 1, 2, 2]), "b": np.array([0, 0, 0, 1, 1, 2])}
    np.testing.assert_array_equal(
        correct_examples_per_class(labels, predictions, [0, 1, 2]), [2, 3, 5]
    )
    with pytest.raises(ValueError, match=r"classes \[3\]"):
        correct_examples_per_class(labels, predictions, [3])


def test_markdown_table_and_percent() -> None:
    table = markdown_table(
        ["model", "acc"], [["baseline", percent(0.7712)], ["dropout", percent(0.8, 0)]]
    )
    assert table.data.splitlines() == [
        "| model | acc |",
        "|---|---|",
        "| baseline | 77.1% |",
        "| dropout | 80% |",
    ]


def test_mean_sd_text() -> None:
    assert mean_sd_text([0.771, 0.775, 0.779]) == "77.5 ± 0.4"
    assert mean_sd_text([14, 16, 21], scale=1, digits=0) == "17 ± 4"


def test_tried_first_note() -> None:
    from types import SimpleNamespace

    tried = [SimpleNamespace(setting="lr 1e-2", outcome="it diverged", decision="1e-3")]
    assert tried_first_note(tried, "Not rerun.").data.splitlines() == [
        ":::{admonition} What we tried first",
        ":class: note",
        "- **lr 1e-2**: it diverged. *Kept instead:* 1e-3.",
        "",
        "Not rerun.",
        ":::",
    ]


def test_figure_png_is_a_png_of_the_figure() -> None:
    figure = Figure(figsize=(2, 1))
    figure.subplots().plot([0, 1], [0, 1])
    data = figure_png(figure, dpi=50)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = (
        int.from_bytes(data[16:20], "big"),
        int.from_bytes(data[20:24], "big"),
    )
    assert (
        60 <= width <= 110 and 30 <= height <= 70
    )  # 100 x 50 px, trimmed or padded by the tight box


def test_check_legible_refuses_small_text_and_accepts_column_width() -> None:
    wide = Figure(figsize=(20, 2))
    wide.subplots().set_title("tiny once shrunk", fontsize=8)
    with pytest.raises(ValueError, match=r"'wide'.*smallest text is [0-9.]+ px"):
        check_legible("wide", wide, figure_png(wide))
    fitting = Figure(figsize=(6.5, 2))
    fitting.subplots().set_title("readable", fontsize=8)
    check_legible(
        "fitting", fitting, figure_png(fitting)
    )  # 8 pt at ~1,000 px shown at 672: ~11 px


def test_format_report() -> None:
    report = {
        "accuracy": 0.7707,
        "mean_confidence": 0.88391,
        "ece": 0.11321,
        "mce": 0.228,
        "nll": 0.87219,
        "brier": 0.3512,
    }
    assert format_report(report) == {
        "accuracy": "77.1%",
        "mean_confidence": "88.4%",
        "ece": "11.32%",
        "mce": "22.8%",
        "nll": "0.872",
        "brier": "0.351",
    }


def test_logits_are_computed_once_and_shared_through_the_store(
    monkeypatch, tmp_path
) -> None:
    from cnnbook.book import pages
    from cnnbook.core import outputs
    from cnnbook.core.backend import keras

    splits = pages.Splits.__new__(pages.Splits)  # only x_test and fingerprint are read
    object.__setattr__(splits, "x_test", np.zeros((4, 32, 32, 3), np.uint8))
    object.__setattr__(splits, "x_val", np.zeros((2, 32, 32, 3), np.uint8))
    object.__setattr__(splits, "fingerprint", "f" * 64)
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(
        inputs, keras.layers.Dense(10, name="logits")(keras.layers.Flatten()(inputs))
    )
    seen = []
    monkeypatch.setenv(outputs.ENV_VAR, str(tmp_path))
    monkeypatch.setattr(pages, "book_data", lambda: splits)
    monkeypatch.setattr(pages, "trained_model", lambda name: model)
    monkeypatch.setattr(
        pages,
        "model_logits",
        lambda m, images: (
            seen.append(len(images))
            or np.asarray(m.predict(images, verbose=0), np.float64)
        ),
    )
    monkeypatch.setattr(
        pages.store,
        "read_manifest",
        lambda folder: {"m": {"files": {"m.keras": "a" * 64}}},
    )
    pages.logits.cache_clear()
    first = pages.logits("m", "test")
    pages.logits.cache_clear()  # a new kernel (the next chapter), or a build after `rm -rf _build`
    second = pages.logits("m", "test")
    pages.logits.cache_clear()
    np.testing.assert_array_equal(first, second)
    assert seen == [4, 4] and first.shape == (
        4,
        10,
    )  # computed, then only verified on a sample (<= 32)
    assert [p.name.split("-")[:2] for p in tmp_path.iterdir()] == [["m", "logits"]]


def test_stored_logits_are_used_after_the_model_reproduces_them(monkeypatch) -> None:
    from cnnbook.book import pages
    from cnnbook.core.backend import keras

    splits = pages.Splits.__new__(pages.Splits)
    object.__setattr__(
        splits, "x_test", np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3))
    )
    object.__setattr__(splits, "x_val", np.zeros((2, 32, 32, 3), np.uint8))
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(
        inputs, keras.layers.Dense(10, name="logits")(keras.layers.Flatten()(inputs))
    )
    plain = np.asarray(model.predict(splits.x_test, verbose=0), np.float64)
    stored = {"test_tta0": plain, "test_tta2": plain + 1.0}
    monkeypatch.setattr(pages, "book_data", lambda: splits)
    monkeypatch.setattr(pages, "trained_model", lambda name: model)
    monkeypatch.setattr(pages.store, "read_predictions", lambda name: stored)
    pages.logits.cache_clear()
    pages._check_stored.cache_clear()
    np.testing.assert_array_equal(pages.logits("m", "test", 2), plain + 1.0)
    np.testing.assert_array_equal(
        pages.logits("m", "test"), plain
    )  # the check is not run twice
    stored["test_tta0"] = plain + 5.0  # logits of another model
    pages.logits.cache_clear()
    pages._check_stored.cache_clear()  # a new kernel: the check runs again
    with pytest.raises(ValueError, match="does not match the model"):
        pages.logits("m", "test", 2)
    pages.logits.cache_clear()
