"""Diagrams drawn by code (chapters "Architectures", "Convolution math", "What the network looks at"):
the backbone's layers, a kernel sliding over an input, and the Grad-CAM pipeline.

Each function returns a matplotlib Figure in the book's style, sized for the page column.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from cnnbook.book.figures import COLUMN_IN, EXTRA_COLORS, PALETTE, _styled

BOX = {
    "boxstyle": "round,pad=0.02,rounding_size=0.04",
    "linewidth": 1.0,
    "edgecolor": "black",
}


def _blank(
    width: float, height: float, xlim: tuple[float, float], ylim: tuple[float, float]
):
    """A figure with one axis-free axes spanning the given data limits."""
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.subplots()
    ax.set(xlim=xlim, ylim=ylim, aspect="equal")
    ax.axis("off")
    return fig, ax


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], **kwargs) -> None:
    """A simple arrow between two points."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=10,
            linewidth=1.0,
            color=kwargs.pop("color", "black"),
            **kwargs,
        )
    )


@_styled
def plot_backbone(stages: Sequence[tuple[str, int, int]]) -> Figure:
    """The backbone as boxes, left to right: (label, spatial size, channels) per stage.

    Box height follows the spatial size, box width the logarithm of the channel count, so the
    picture shows the maps shrinking while the channels grow."""
    widths = [0.45 + 0.15 * np.log2(max(c, 1)) for _, _, c in stages]
    gap, x = 0.4, 0.0
    fig, ax = _blank(
        COLUMN_IN, 2.8, (-0.1, sum(widths) + gap * (len(stages) - 1) + 0.1), (-1.7, 2.5)
    )
    for (label, size, channels), w in zip(stages, widths):
        h = 0.4 + 1.6 * size / 32
        color = PALETTE["baseline"] if size > 1 else PALETTE["dropout"]
        ax.add_patch(
            FancyBboxPatch((x, -h / 2), w, h, facecolor=color, alpha=0.35, **BOX)
        )
        shape = f"{size}×{size}\n×{channels}" if size > 1 else f"{channels}"
        ax.text(x + w / 2, h / 2 + 0.12, shape, ha="center", va="bottom", fontsize=8)
        ax.text(x + w / 2, -1.25, label, ha="center", va="top", fontsize=8)
        if x > 0:
            _arrow(ax, (x - gap + 0.05, 0), (x - 0.05, 0))
        x += w + gap
    return fig


@_styled
def plot_sliding_window(
    height: int = 5, width: int = 6, kernel: int = 3, at: tuple[int, int] = (1, 2)
) -> Figure:
    """A kernel over an input grid and the one output cell it produces ('valid', stride 1)."""
    out_h, out_w = height - kernel + 1, width - kernel + 1
    fig, ax = _blank(
        COLUMN_IN * 0.8, 2.4, (-0.5, width + out_w + 3.5), (-0.8, height + 0.9)
    )
    for offset, (rows, cols, title) in (
        (0, (height, width, "input x")),
        (width + 3, (out_h, out_w, "output y")),
    ):
        top = height - (height - rows) / 2
        for i in range(rows):
            for j in range(cols):
                ax.add_patch(
                    Rectangle(
                        (offset + j, top - i - 1),
                        1,
                        1,
                        facecolor="white",
                        edgecolor="grey",
                        linewidth=0.8,
                    )
                )
        ax.text(
            offset + cols / 2, top + 0.25, title, ha="center", va="bottom", fontsize=9
        )
    i, j = at
    window = Rectangle(
        (j, height - i - kernel),
        kernel,
        kernel,
        facecolor=EXTRA_COLORS[1],
        alpha=0.45,
        edgecolor="black",
        linewidth=1.6,
    )
    ax.add_patch(window)
    out_top = height - (height - out_h) / 2
    target = (width + 3 + j, out_top - i - 1)
    ax.add_patch(
        Rectangle(
            target,
            1,
            1,
            facecolor=EXTRA_COLORS[1],
            alpha=0.8,
            edgecolor="black",
            linewidth=1.6,
        )
    )
    _arrow(ax, (j + kernel, height - i - kernel / 2), (target[0], target[1] + 0.5))
    ax.text(
        width + 1.5,
        height - i - kernel / 2 + 0.55,
        "Σ w·x + b",
        ha="center",
        fontsize=9,
    )
    return fig


@_styled
def plot_gradcam_pipeline() -> Figure:
    """Grad-CAM as a flow: forward to the feature maps and the class score, gradient back,
    averaged into channel weights, weighted sum, ReLU, heatmap."""
    fig, ax = _blank(COLUMN_IN, 2.7, (-0.15, 9.75), (-0.2, 4.2))
    boxes = {
        "image": (0.0, 2.6, "image"),
        "convs": (2.55, 2.6, "convolutions"),
        "A": (5.1, 2.6, "feature maps\nA (8×8×K)"),
        "score": (7.65, 2.6, "dense layers\nscore $y^c$"),
        "alpha": (7.65, 0.2, "$\\alpha_k$ = mean of\n$\\partial y^c/\\partial A^k$"),
        "sum": (5.1, 0.2, "ReLU($\\sum_k \\alpha_k A^k$)"),
        "map": (2.55, 0.2, "heatmap\n(upsampled)"),
    }
    width, height = 1.9, 1.3
    for key, (x, y, text) in boxes.items():
        color = (
            EXTRA_COLORS[0] if key in ("alpha", "sum", "map") else PALETTE["baseline"]
        )
        ax.add_patch(
            FancyBboxPatch((x, y), width, height, facecolor=color, alpha=0.3, **BOX)
        )
        ax.text(
            x + width / 2, y + height / 2, text, ha="center", va="center", fontsize=8
        )
    mid = height / 2
    for a, b in (("image", "convs"), ("convs", "A"), ("A", "score")):
        _arrow(
            ax,
            (boxes[a][0] + width, boxes[a][1] + mid),
            (boxes[b][0], boxes[b][1] + mid),
        )
    _arrow(
        ax,
        (boxes["score"][0] + width / 2, boxes["score"][1]),
        (boxes["alpha"][0] + width / 2, boxes["alpha"][1] + height),
        color=PALETTE["dropout"],
    )
    ax.text(
        boxes["score"][0] + width / 2 + 0.1,
        2.05,
        "gradient",
        fontsize=8,
        color=PALETTE["dropout"],
    )
    _arrow(
        ax,
        (boxes["alpha"][0], boxes["alpha"][1] + mid),
        (boxes["sum"][0] + width, boxes["sum"][1] + mid),
    )
    _arrow(
        ax,
        (boxes["A"][0] + width / 2, boxes["A"][1]),
        (boxes["sum"][0] + width / 2, boxes["sum"][1] + height),
    )
    _arrow(
        ax,
        (boxes["sum"][0], boxes["sum"][1] + mid),
        (boxes["map"][0] + width, boxes["map"][1] + mid),
    )
    return fig
