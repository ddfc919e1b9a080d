"""The calibration chapter's figures: reliability diagrams, MC dropout, shift, risk-coverage.

Same style and colours as cnnbook.book.figures; every function returns a Figure sized for the page.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from cnnbook.book.figures import (
    COLUMN_IN,
    PALETTE,
    RIGHT,
    WRONG,
    _styled,
    series_colors,
)
from cnnbook.lessons import calibration


def _draw_reliability(
    ax_hist, ax_rel, probs: np.ndarray, labels: np.ndarray, n_bins: int, color: str
) -> None:
    """Guo et al. (2017) Fig. 1 on two axes: confidence histogram, then reliability diagram."""
    bins = calibration.reliability_bins(probs, labels, n_bins)
    report = calibration.calibration_report(probs, labels, n_bins)
    centers, width = (bins.edges[:-1] + bins.edges[1:]) / 2, 1.0 / n_bins
    ax_hist.bar(
        centers,
        bins.counts / bins.counts.sum(),
        width=width,
        color=color,
        edgecolor="black",
    )
    ax_hist.axvline(report["accuracy"], color="black", linestyle="--", label="Accuracy")
    ax_hist.axvline(
        report["mean_confidence"], color="grey", linestyle=":", label="Avg. confidence"
    )
    ax_hist.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax_hist.set_ylabel("% of samples")
    ax_hist.legend(loc="upper left")
    acc, conf = np.nan_to_num(bins.accuracy), np.nan_to_num(bins.confidence)
    ax_rel.bar(
        centers, acc, width=width, color=color, edgecolor="black", label="Outputs"
    )
    ax_rel.bar(
        centers,
        conf - acc,
        bottom=acc,
        width=width,
        color=WRONG,
        alpha=0.3,
        edgecolor=WRONG,
        hatch="//",
        label="Gap",
    )
    ax_rel.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax_rel.text(
        0.96,
        0.04,
        f"ECE = {100 * report['ece']:.2f}%",
        transform=ax_rel.transAxes,
        ha="right",
        va="bottom",
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9},
    )
    ax_rel.set(xlim=(0, 1), ylim=(0, 1), xlabel="Confidence", ylabel="Accuracy")
    ax_rel.legend(loc="upper left")


@_styled
def plot_reliability_diagram(
    probs: np.ndarray,
    labels: np.ndarray,
    n_bins: int = calibration.N_BINS,
    title: str | None = None,
    color: str = PALETTE["baseline"],
) -> Figure:
    """Confidence histogram over a reliability diagram with gaps and ECE (Guo et al. 2017, Fig. 1)."""
    fig = Figure(figsize=(3.6, 5.2), layout="constrained")
    ax_hist, ax_rel = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2.2]}
    )
    _draw_reliability(ax_hist, ax_rel, probs, labels, n_bins, color)
    if title:
        ax_hist.set_title(title)
    return fig


@_styled
def plot_reliability_comparison(
    prob_dict: Mapping[str, np.ndarray],
    labels: np.ndarray,
    n_bins: int = calibration.N_BINS,
) -> Figure:
    """One reliability column (histogram over diagram) per model, in the model's colour."""
    fig = Figure(
        figsize=(min(3.3 * len(prob_dict), COLUMN_IN), 4.6), layout="constrained"
    )
    axes = fig.subplots(
        2,
        len(prob_dict),
        squeeze=False,
        sharex=True,
        sharey="row",
        gridspec_kw={"height_ratios": [1, 2.2]},
    )
    for col, ((name, probs), color) in enumerate(
        zip(prob_dict.items(), series_colors(list(prob_dict)))
    ):
        _draw_reliability(axes[0, col], axes[1, col], probs, labels, n_bins, color)
        axes[0, col].set_title(name)
        if col:  # one legend per row is enough
            for ax in axes[:, col]:
                ax.get_legend().remove()
    return fig


@_styled
def plot_risk_coverage(curves: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> Figure:
    """Accuracy of the answered inputs against the fraction answered (most confident first)."""
    fig = Figure(figsize=(6.2, 3.2), layout="constrained")
    ax = fig.subplots()
    for (name, (coverage, accuracy)), color in zip(
        curves.items(), series_colors(list(curves))
    ):
        ax.plot(coverage, accuracy, color=color, label=name)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(
        xlabel="coverage (share of test images answered, most confident first)",
        ylabel="accuracy on the answered",
        xlim=(0, 1),
    )
    ax.legend(loc="lower left")
    return fig


@_styled
def plot_mc_dropout(
    samples: Sequence[int],
    scores: Mapping[str, Sequence[float]],
    mutual_info: Mapping[str, np.ndarray],
) -> Figure:
    """Left: a score (ECE, NLL...) against the number of MC samples; right: MI on right vs wrong."""
    fig = Figure(figsize=(6.6, 2.9), layout="constrained")
    left, right = fig.subplots(1, 2)
    for (name, values), color in zip(
        scores.items(), series_colors([f"extra{i}" for i in range(len(scores))])
    ):
        left.plot(samples, values, "o-", color=color, label=name)
    left.set(xscale="log", xlabel="MC samples T", ylabel="value on the test set")
    left.legend(loc="best")
    bins = np.linspace(0, max(float(np.max(v)) for v in mutual_info.values()), 40)
    for (name, values), color in zip(mutual_info.items(), (RIGHT, WRONG)):
        right.hist(values, bins=bins, density=True, alpha=0.55, color=color, label=name)
    right.set(xlabel="mutual information (nats)", ylabel="density")
    right.legend(loc="upper right")
    return fig


@_styled
def plot_shift(
    severities: Sequence[int],
    results: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]],
) -> Figure:
    """Accuracy (top) and ECE (bottom) against severity, one column per corruption, one line per method.

    results[corruption][method] = {"accuracy": [...], "ece": [...]} with one value per severity
    (severity 0 = the clean test set).
    """
    corruptions = list(results)
    fig = Figure(figsize=(6.6, 4.4), layout="constrained")
    axes = fig.subplots(2, len(corruptions), sharex=True, sharey="row", squeeze=False)
    for col, corruption in enumerate(corruptions):
        methods = results[corruption]
        for (method, values), color in zip(
            methods.items(), series_colors([f"extra{i}" for i in range(len(methods))])
        ):
            axes[0, col].plot(
                severities, values["accuracy"], "o-", color=color, label=method
            )
            axes[1, col].plot(
                severities, values["ece"], "o-", color=color, label=method
            )
        axes[0, col].set_title(corruption)
        axes[1, col].set_xlabel("severity")
    for row, label in enumerate(("accuracy", "ECE")):
        axes[row, 0].set_ylabel(label)
        axes[row, 0].yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[0, 0].legend(loc="lower left", fontsize=7)
    return fig
