"""The visualization chapter's figures: right artists, legible in the book's column."""

from __future__ import annotations

import numpy as np

from cnnbook.book import visualization_figures as plots
from cnnbook.book.pages import check_legible, figure_png
from cnnbook.lessons.intervals import Interval

RNG = np.random.default_rng(0)


def _legible(fig) -> None:
    """Render as the book does and check the text is legible in the column."""
    check_legible("test figure", fig, figure_png(fig))


def test_activation_maps_by_model_one_row_per_model():
    maps = {"a": RNG.random((1, 8, 8, 16)), "b": RNG.random((8, 8, 16))}
    fig = plots.plot_activation_maps_by_model(maps, n_channels=6)
    _legible(fig)
    assert len(fig.axes) == 12
    np.testing.assert_array_equal(fig.axes[7].images[0].get_array(), maps["b"][..., 1])
    assert fig.axes[6].get_ylabel() == "b"


def test_deletion_curves_two_lines_and_a_band_per_model():
    fractions = [0.0, 0.1, 0.5]
    point = [Interval(0.9, 0.8, 0.95), Interval(0.6, 0.5, 0.7), Interval(0.2, 0.1, 0.3)]
    fig = plots.plot_deletion_curves(
        fractions, {"m": {"Grad-CAM": point, "random": point[::-1]}}
    )
    _legible(fig)
    ax = fig.axes[0]
    assert [line.get_linestyle() for line in ax.get_lines()] == ["-", "--"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.9, 0.6, 0.2])
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [0, 10, 50])
    assert len(ax.collections) == 2
