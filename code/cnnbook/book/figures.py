"""The book's figures in one style (every chapter): each function returns a matplotlib Figure, shows nothing.

Figures are built with ``matplotlib.figure.Figure`` (not pyplot), so nothing is registered with
pyplot, nothing needs closing and a notebook displays a figure exactly once, as a cell's value.
Each model keeps its colour everywhere (``PALETTE``); other series take ``EXTRA_COLORS`` in turn.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
from typing import Callable, Mapping, Sequence

import matplotlib
import matplotlib.text
import numpy as np
from matplotlib import cycler
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from cnnbook.core.store import history_column

PALETTE: dict[str, str] = {
    "baseline": "#0072b2",
    "dropout": "#e69f00",
    "batchnorm": "#009e73",
}
EXTRA_COLORS: tuple[str, ...] = (
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#000000",
    "#999999",
)
RIGHT, WRONG = "#1b7837", "#c0392b"
HEATMAP_CMAP = (
    "inferno"  # perceptually uniform and colour-blind safe (not the rainbow "jet")
)
COLUMN_PX = 672  # the width of the book's text column in CSS pixels (sphinx-book-theme, desktop)
SAVE_DPI = 150  # the PNG resolution of every figure in the book (pages.figure_png)
COLUMN_IN = 6.72  # a figure this wide (inches) fills the column exactly at SAVE_DPI / 1.5 scaling
MIN_TEXT_PX = (
    9.0  # the smallest text a reader should have to read, at the displayed size
)
STYLE: dict[str, object] = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "image.interpolation": "nearest",
    "axes.prop_cycle": cycler(color=list(PALETTE.values()) + list(EXTRA_COLORS)),
}


def use_book_style() -> contextlib.AbstractContextManager:
    """Context manager applying the book's rcParams (STYLE)."""
    return matplotlib.rc_context(STYLE)


def _styled(func: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a figure-building function inside the book style."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> Figure:
        with use_book_style():
            return func(*args, **kwargs)

    return wrapper


def series_colors(names: Sequence[str]) -> list[str]:
    """Model names get their PALETTE colour, anything else the next unused EXTRA_COLORS entry."""
    extra = itertools.cycle(EXTRA_COLORS)
    return [PALETTE[name] if name in PALETTE else next(extra) for name in names]


def displayed_text_px(fig: Figure, png_width_px: int, dpi: int = SAVE_DPI) -> float:
    """Height in CSS pixels of the figure's smallest text once the PNG is shown in the column."""
    scale = min(1.0, COLUMN_PX / png_width_px)  # a wider PNG is shrunk to the column
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(matplotlib.text.Text)
        if t.get_visible() and t.get_text().strip()
    ]
    return min(sizes, default=float("inf")) * dpi / 72 * scale


def _grid(
    n: int, ncols: int, cell: tuple[float, float], **kwargs
) -> tuple[Figure, list]:
    """A constrained-layout figure with exactly n axes on ncols columns, never wider than the column."""
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    width = min(cell[0], COLUMN_IN / ncols)
    fig = Figure(
        figsize=(width * ncols, cell[1] * width / cell[0] * nrows), layout="constrained"
    )
    axes = list(fig.subplots(nrows, ncols, squeeze=False, **kwargs).ravel())
    for ax in axes[n:]:
        ax.remove()
    return fig, axes[:n]


def _show_image(ax, image: np.ndarray, **kwargs) -> None:
    """imshow for uint8/float RGB or grayscale images, without ticks or grid."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if (
        image.dtype != np.uint8
    ):  # floats in [0, 1], or in [0, 255] when larger values occur
        image = image.astype(np.float64)
        image = np.clip(image / 255.0 if image.max() > 1.0 else image, 0.0, 1.0)
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.spines[["left", "bottom"]].set_visible(False)  # an image needs no axis lines


@_styled
def plot_image_grid(
    images: np.ndarray,
    labels=None,
    class_names: Sequence[str] | None = None,
    predictions=None,
    confidences=None,
    ncols: int = 8,
) -> Figure:
    """Images with their label, or prediction (confidence) and true label in red when wrong."""
    name = (
        (lambda c: class_names[int(c)])
        if class_names is not None
        else (lambda c: str(int(c)))
    )
    fig, axes = _grid(
        len(images), ncols, (1.3, 1.6 if predictions is not None else 1.45)
    )
    for i, ax in enumerate(axes):
        _show_image(ax, images[i])
        title, color = "", "black"
        if predictions is not None:
            title = name(predictions[i]) + (
                f" {confidences[i]:.0%}" if confidences is not None else ""
            )
            if labels is not None and int(labels[i]) != int(predictions[i]):
                title, color = f"{title}\ntrue: {name(labels[i])}", WRONG
            elif labels is not None:
                color = RIGHT
        elif labels is not None:
            title = name(labels[i])
        ax.set_title(title, color=color, fontsize=8)
    return fig


@_styled
def plot_training_curves(histories: Mapping[str, dict]) -> Figure:
    """Loss and accuracy per epoch: train solid, validation dashed, a dot at the best epoch."""
    fig = Figure(figsize=(COLUMN_IN, 3.0), layout="constrained")
    axes = fig.subplots(1, 2)
    for (name, history), color in zip(
        histories.items(), series_colors(list(histories))
    ):
        epochs = history_column(history, "epoch")
        best = np.flatnonzero(epochs == history.get("best_epoch", -1))
        for ax, key in zip(axes, ("loss", "accuracy")):
            ax.plot(
                epochs, history_column(history, key), color=color, label=f"{name} train"
            )
            val = history_column(history, f"val_{key}")
            ax.plot(
                epochs, val, color=color, linestyle="--", label=f"{name} validation"
            )
            if best.size:
                ax.plot(
                    epochs[best],
                    val[best],
                    "o",
                    color=color,
                    markeredgecolor="black",
                    markersize=6,
                )
    for ax, key in zip(axes, ("loss (cross-entropy)", "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
    axes[1].legend(loc="best")
    return fig


@_styled
def plot_heatmap_overlays(
    images: np.ndarray,
    heatmaps: np.ndarray | Mapping[str, np.ndarray],
    titles: Sequence[str] | None = None,
    alpha: float = 0.5,
) -> Figure:
    """Each image (top row) and, below it, the image under each heatmap (HEATMAP_CMAP).

    ``heatmaps`` is one (N, h, w) array, or a mapping {row label: (N, h, w)} for one overlay row
    per model (chapter "Visualization": the same images across the three models).
    """
    rows = dict(heatmaps) if isinstance(heatmaps, Mapping) else {"": heatmaps}
    n = len(images)
    cell = min(1.5, COLUMN_IN / n)
    fig = Figure(
        figsize=(cell * n, (cell + 0.2) * (1 + len(rows))), layout="constrained"
    )
    axes = fig.subplots(1 + len(rows), n, squeeze=False)
    for i in range(n):
        h, w = np.asarray(images[i]).shape[:2]
        _show_image(axes[0, i], images[i])
        if titles is not None:
            axes[0, i].set_title(titles[i], fontsize=8)
        for r, (label, maps) in enumerate(rows.items(), start=1):
            _show_image(axes[r, i], images[i])
            axes[r, i].imshow(
                maps[i],
                cmap=HEATMAP_CMAP,
                alpha=alpha,
                vmin=0,
                vmax=1,
                interpolation="bilinear",
                extent=(-0.5, w - 0.5, h - 0.5, -0.5),
            )
            if label and i == 0:
                axes[r, i].set_ylabel(label, fontsize=8)
    return fig


@_styled
def plot_activation_maps(
    maps: np.ndarray, n_channels: int = 8, title: str | None = None, ncols: int = 8
) -> Figure:
    """The first n_channels feature maps (h, w, C) of one image, each on its own colour scale."""
    maps = np.asarray(maps)
    maps = maps[0] if maps.ndim == 4 else maps
    n = min(n_channels, maps.shape[-1])
    fig, axes = _grid(n, ncols, (1.2, 1.3))
    for k, ax in enumerate(axes):
        ax.imshow(maps[..., k], cmap="viridis")
        ax.set(xticks=[], yticks=[], title=f"channel {k}")
        ax.grid(False)
    if title:
        fig.suptitle(title)
    return fig


@_styled
def plot_confusion_matrix(
    cm: np.ndarray, class_names: Sequence[str], normalize: bool = True
) -> Figure:
    """Confusion matrix (rows true, columns predicted), row-normalized to % by default."""
    cm = np.asarray(cm, dtype=np.float64)
    rows = cm.sum(axis=1, keepdims=True)
    values = (
        np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0) if normalize else cm
    )
    fig = Figure(figsize=(5.6, 4.8), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(image, ax=ax, format=PercentFormatter(1.0) if normalize else None)
    for (t, p), v in np.ndenumerate(values):
        text = f"{100 * v:.0f}" if normalize else f"{int(v)}"
        ax.text(
            p,
            t,
            text,
            ha="center",
            va="center",
            fontsize=7.5,
            color="white" if v > 0.5 * values.max() else "black",
        )
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set(xlabel="predicted class", ylabel="true class")
    ax.grid(False)
    return fig


@_styled
def plot_gradient_norms(
    norms: Mapping[str, np.ndarray], title: str | None = None
) -> Figure:
    """Gradient norm per layer (log scale), one line per activation function or model."""
    fig = Figure(figsize=(5.5, 3.5), layout="constrained")
    ax = fig.subplots()
    for (name, values), color in zip(norms.items(), series_colors(list(norms))):
        values = np.asarray(values, dtype=np.float64)
        ax.plot(
            np.arange(1, len(values) + 1), values, marker="o", color=color, label=name
        )
    ax.set_yscale("log")
    ax.set(xlabel="layer (input → output)", ylabel="gradient norm")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


@_styled
def plot_filter_responses(
    image: np.ndarray, responses: Mapping[str, np.ndarray]
) -> Figure:
    """The input image, then each filter's response map on a symmetric red-blue scale."""
    fig, axes = _grid(1 + len(responses), 1 + len(responses), (2.0, 2.3))
    _show_image(axes[0], image)
    axes[0].set_title("input")
    for ax, (name, response) in zip(axes[1:], responses.items()):
        response = np.asarray(response, dtype=np.float64)
        limit = float(np.max(np.abs(response))) or 1.0
        ax.imshow(response, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set(xticks=[], yticks=[], title=name)
        ax.grid(False)
    return fig


@_styled
def plot_histograms(
    values: Mapping[str, np.ndarray],
    bins: int = 50,
    xlabel: str = "value",
    title: str | None = None,
    density: bool = True,
) -> Figure:
    """Overlaid histograms on shared bin edges (activations with/without BatchNorm, confidences)."""
    arrays = {
        name: np.asarray(v, dtype=np.float64).ravel() for name, v in values.items()
    }
    finite = np.concatenate([v[np.isfinite(v)] for v in arrays.values()])
    edges = np.histogram_bin_edges(finite, bins=bins)
    fig = Figure(figsize=(5.5, 3.5), layout="constrained")
    ax = fig.subplots()
    for (name, v), color in zip(arrays.items(), series_colors(list(arrays))):
        ax.hist(
            v[np.isfinite(v)],
            bins=edges,
            density=density,
            histtype="stepfilled",
            alpha=0.35,
            color=color,
            edgecolor=color,
            linewidth=1.5,
            label=name,
        )
    ax.set(xlabel=xlabel, ylabel="density" if density else "count")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


@_styled
def plot_paired_values(
    pairs: Mapping[str, tuple[np.ndarray, np.ndarray]],
    xlabel: str = "measured",
    ylabel: str = "stored",
) -> Figure:
    """One scatter panel per entry with the diagonal y = x (moving vs population statistics)."""
    width = min(3.2, COLUMN_IN / len(pairs))
    fig = Figure(figsize=(width * len(pairs), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(pairs), squeeze=False)[0])
    for ax, (name, (x, y)) in zip(axes, pairs.items()):
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        ax.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1)
        ax.scatter(x, y, s=12, alpha=0.7)
        ax.set(title=name, xlabel=xlabel, ylabel=ylabel)
    return fig
