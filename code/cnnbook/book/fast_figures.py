"""The figures of chapter "Putting it all together": whitening, the ablation, accuracy per minute.

Same style and colours as cnnbook.book.figures; every function returns a Figure sized for the page.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from cnnbook.book.figures import COLUMN_IN, _styled, series_colors
from cnnbook.core.store import history_column
from cnnbook.lessons.intervals import Interval


@_styled
def plot_correlations(matrices: Mapping[str, np.ndarray]) -> Figure:
    """Side by side, the absolute correlation matrices of patch features (0 white .. 1 dark)."""
    fig = Figure(
        figsize=(COLUMN_IN, COLUMN_IN / len(matrices) * 0.9), layout="constrained"
    )
    axes = fig.subplots(1, len(matrices))
    for ax, (title, matrix) in zip(axes, matrices.items()):
        image = ax.imshow(np.abs(matrix), vmin=0, vmax=1, cmap="Greys")
        ax.set_title(title)
        ax.set_xlabel("feature")
        ax.grid(False)
    axes[0].set_ylabel("feature")
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="|correlation|")
    return fig


@_styled
def plot_ablation(
    tricks: Sequence[str], accuracy: Sequence[Interval], ece: Sequence[Interval]
) -> Figure:
    """One row per cumulative step: validation accuracy and ECE with their 95% intervals."""
    fig = Figure(figsize=(COLUMN_IN, 0.32 * len(tricks) + 1.0), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))
    rows = np.arange(len(tricks))[::-1]
    for ax, values, label, scale in (
        (axes[0], accuracy, "validation accuracy (%)", 100),
        (axes[1], ece, "ECE (%)", 100),
    ):
        estimate = np.array([v.estimate for v in values]) * scale
        errors = (
            np.array([[v.estimate - v.low, v.high - v.estimate] for v in values]).T
            * scale
        )
        ax.errorbar(
            estimate,
            rows,
            xerr=errors,
            fmt="o",
            color=series_colors(["fast"])[0],
            capsize=2,
        )
        ax.set_xlabel(label)
    axes[0].set_yticks(rows, tricks)
    return fig


@_styled
def plot_accuracy_per_minute(histories: Mapping[str, dict]) -> Figure:
    """Validation accuracy after each epoch against the training minutes spent so far."""
    fig = Figure(figsize=(COLUMN_IN, 3.0), layout="constrained")
    ax = fig.subplots()
    for (name, history), color in zip(
        histories.items(), series_colors(list(histories))
    ):
        minutes = np.cumsum(history_column(history, "seconds")) / 60
        ax.plot(
            minutes,
            100 * history_column(history, "val_accuracy"),
            "o-",
            color=color,
            markersize=3,
            label=name,
        )
    ax.set(xlabel="training minutes (2-core CPU)", ylabel="validation accuracy (%)")
    ax.legend(loc="lower right")
    return fig
