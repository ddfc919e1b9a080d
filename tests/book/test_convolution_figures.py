"""The convolution chapter's figures: right artists, legible in the book's column."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from cnnbook.book import convolution_figures as plots
from cnnbook.book.pages import check_legible, figure_png
from cnnbook.lessons.activations import sigmoid_grad
from cnnbook.lessons.receptive_field import Field

RNG = np.random.default_rng(0)


def _render(fig) -> Figure:
    """Check the type, render as the book does and check the text is legible in the column."""
    assert isinstance(fig, Figure)
    check_legible("test figure", fig, figure_png(fig))  # raises when text < MIN_TEXT_PX
    return fig


def test_activations_and_slopes_plot_the_formulas():
    fig = _render(plots.plot_activations_and_slopes(("sigmoid", "relu")))
    left, right = fig.axes
    assert len(left.get_lines()) == 2
    z, slope = right.get_lines()[0].get_data()
    np.testing.assert_allclose(slope, sigmoid_grad(z))
    assert max(slope) <= 0.25


def test_first_layer_kernels_one_tile_per_kernel_scaled_around_grey():
    kernels = {"a": RNG.normal(size=(3, 3, 3, 32)), "b": RNG.normal(size=(3, 3, 3, 20))}
    fig = _render(plots.plot_first_layer_kernels(kernels, per_row=16))
    tiles = [ax.images[0].get_array() for ax in fig.axes]
    assert len(tiles) == 52
    first = kernels["a"][..., 0]
    np.testing.assert_allclose(tiles[0], 0.5 + 0.5 * first / np.abs(first).max())


def test_loss_curve_and_receptive_fields():
    fig = _render(plots.plot_loss_curve(np.geomspace(1, 1e-6, 50)))
    assert fig.axes[0].get_yscale() == "log"
    image = RNG.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    fig = _render(
        plots.plot_receptive_fields(
            image, [Field("a", 3, 1), Field("b", 32, 4)], (16, 16)
        )
    )
    sizes = [p.get_width() for p in fig.axes[0].patches]
    assert sizes == [3, 32]
