"""The convolution chapter's figures: activations and their slopes, learned first-layer kernels,
a kernel's loss while it is learned, receptive fields on an image.

Same style and colours as cnnbook.book.figures; every function returns a Figure sized for the page.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnbook.book.figures import (
    COLUMN_IN,
    EXTRA_COLORS,
    _show_image,
    _styled,
    series_colors,
)
from cnnbook.lessons.activations import ACTIVATIONS
from cnnbook.lessons.receptive_field import Field


@_styled
def plot_activations_and_slopes(
    names: Sequence[str] = ("sigmoid", "tanh", "relu"),
) -> Figure:
    """Each activation (left) and its derivative (right) on [-5, 5]: the sigmoid's slope <= 1/4."""
    z = np.linspace(-5, 5, 401)
    fig = Figure(figsize=(COLUMN_IN, 2.6), layout="constrained")
    left, right = fig.subplots(1, 2, sharex=True)
    for name, color in zip(names, EXTRA_COLORS):
        function, slope = ACTIVATIONS[name]
        left.plot(z, function(z), color=color, label=name)
        right.plot(z, slope(z), color=color, label=f"{name}′")
    right.axhline(0.25, color="grey", linestyle=":", linewidth=1)
    right.annotate(
        "1/4", (-5, 0.25), xytext=(0, 3), textcoords="offset points", color="grey"
    )
    left.set(xlabel="z", ylabel="activation", ylim=(-1.1, 2.1))
    right.set(xlabel="z", ylabel="derivative", ylim=(-0.05, 1.1))
    left.legend(loc="upper left")
    right.legend(loc="upper left")
    return fig


def _kernel_tile(kernel: np.ndarray) -> np.ndarray:
    """A (k, k, 3) kernel as an RGB image: each kernel stretched to [0, 1], 0.5 = zero weight."""
    limit = float(np.max(np.abs(kernel))) or 1.0
    return 0.5 + 0.5 * kernel / limit


@_styled
def plot_first_layer_kernels(
    kernels: Mapping[str, np.ndarray], per_row: int = 16
) -> Figure:
    """The first convolution's kernels (kh, kw, 3, C) of each model as RGB tiles, one block per model."""
    blocks = {
        name: np.moveaxis(np.asarray(k, dtype=np.float64), -1, 0)
        for name, k in kernels.items()
    }
    rows_per_model = max(int(np.ceil(len(k) / per_row)) for k in blocks.values())
    fig = Figure(
        figsize=(COLUMN_IN, 0.5 + 0.45 * rows_per_model * len(blocks)),
        layout="constrained",
    )
    subfigs = np.atleast_1d(fig.subfigures(len(blocks), 1))
    for subfig, (name, tiles) in zip(subfigs, blocks.items()):
        axes = subfig.subplots(rows_per_model, per_row, squeeze=False)
        for ax, tile in zip(axes.ravel(), list(tiles) + [None] * axes.size):
            if tile is None:
                ax.remove()
                continue
            _show_image(ax, _kernel_tile(tile))
        subfig.suptitle(name, fontsize=9)
    return fig


@_styled
def plot_loss_curve(losses: np.ndarray, ylabel: str = "mean squared error") -> Figure:
    """Loss per gradient-descent step on a log axis (learning a kernel from examples)."""
    fig = Figure(figsize=(4.2, 2.4), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(1, len(losses) + 1), losses, color=series_colors(["loss"])[0])
    ax.set(yscale="log", xlabel="gradient-descent step", ylabel=ylabel)
    return fig


@_styled
def plot_receptive_fields(
    image: np.ndarray, fields: Sequence[Field], centre: tuple[int, int]
) -> Figure:
    """An image with the square each listed layer's cell sees around a pixel (clipped at the border)."""
    fig = Figure(figsize=(3.2, 3.2), layout="constrained")
    ax = fig.subplots()
    _show_image(ax, image)
    for field, color in zip(fields, EXTRA_COLORS):
        half = field.size / 2
        ax.add_patch(
            Rectangle(
                (centre[1] - half, centre[0] - half),
                field.size,
                field.size,
                fill=False,
                edgecolor=color,
                linewidth=2,
                label=f"{field.name}: {field.size}×{field.size}",
            )
        )
    ax.set(xlim=(-0.5, image.shape[1] - 0.5), ylim=(image.shape[0] - 0.5, -0.5))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncols=1)
    return fig
