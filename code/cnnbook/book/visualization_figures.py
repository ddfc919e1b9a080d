"""The visualization chapter's figures: activation maps across models, deletion curves.

Same style and colours as cnnbook.book.figures; every function returns a Figure sized for the page.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from cnnbook.book.figures import COLUMN_IN, _styled, series_colors
from cnnbook.lessons.intervals import Interval


@_styled
def plot_activation_maps_by_model(
    maps: Mapping[str, np.ndarray], n_channels: int = 8
) -> Figure:
    """One row per model: its first n_channels feature maps (h, w, C) of the same image."""
    cell = COLUMN_IN / n_channels
    fig = Figure(figsize=(COLUMN_IN, (cell + 0.1) * len(maps)), layout="constrained")
    axes = fig.subplots(len(maps), n_channels, squeeze=False)
    for row, (name, values) in zip(axes, maps.items()):
        values = np.asarray(values)
        values = values[0] if values.ndim == 4 else values
        for k, ax in enumerate(row):
            ax.imshow(values[..., k], cmap="viridis")
            ax.set(xticks=[], yticks=[])
            ax.grid(False)
            if k == 0:
                ax.set_ylabel(name)
            if name == next(iter(maps)):
                ax.set_title(f"channel {k}", fontsize=8)
    return fig


@_styled
def plot_deletion_curves(
    fractions: Sequence[float], curves: Mapping[str, Mapping[str, Sequence[Interval]]]
) -> Figure:
    """Accuracy as pixels are deleted: Grad-CAM order solid, random order dashed, 95% bands."""
    fig = Figure(figsize=(COLUMN_IN * 0.75, 3.0), layout="constrained")
    ax = fig.subplots()
    x = 100 * np.asarray(fractions, dtype=np.float64)
    for (name, by_order), color in zip(curves.items(), series_colors(list(curves))):
        for order, style in (("Grad-CAM", "-"), ("random", "--")):
            points = by_order[order]
            mean = [p.estimate for p in points]
            ax.plot(
                x,
                mean,
                style,
                color=color,
                marker="o",
                markersize=3,
                label=f"{name}, {order}",
            )
            ax.fill_between(
                x,
                [p.low for p in points],
                [p.high for p in points],
                color=color,
                alpha=0.15,
            )
    ax.set(xlabel="pixels deleted (%)", ylabel="still correct", ylim=(0, 1.02))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.legend(loc="lower left", fontsize=8, ncols=2)
    return fig
