"""The calibration chapter's figures: reliability diagrams, risk-coverage, MC dropout, shift."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from cnnbook.book.pages import check_legible, figure_png

from cnnbook.book import calibration_figures as plots
from cnnbook.core.metrics import accuracy, softmax
from cnnbook.lessons import calibration
from cnnbook.lessons.uncertainty import risk_coverage

RNG = np.random.default_rng(0)


def _render(fig) -> Figure:
    """Check the type, render as the book does and check the text is legible in the column."""
    assert isinstance(fig, Figure)
    check_legible("test figure", fig, figure_png(fig))  # raises when text < MIN_TEXT_PX
    return fig


def _probs(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    return softmax(RNG.normal(scale=3.0, size=(n, 10))), RNG.integers(0, 10, n)


def test_reliability_diagram_matches_bins():
    probs, labels = _probs()
    fig = _render(
        plots.plot_reliability_diagram(probs, labels, n_bins=10, title="baseline")
    )
    assert len(fig.axes) == 2
    ax_hist, ax_rel = fig.axes
    bins = calibration.reliability_bins(probs, labels, 10)
    heights = [p.get_height() for p in ax_hist.containers[0]]
    np.testing.assert_allclose(heights, bins.counts / len(labels))
    assert len(ax_hist.get_lines()) == 2  # accuracy and average confidence
    np.testing.assert_allclose(
        ax_hist.get_lines()[0].get_xdata(), accuracy(probs, labels)
    )
    outputs, gaps = ax_rel.containers
    assert len(outputs) == len(gaps) == 10
    np.testing.assert_allclose(
        [p.get_height() for p in outputs], np.nan_to_num(bins.accuracy)
    )
    np.testing.assert_allclose(
        [p.get_y() + p.get_height() for p in gaps], np.nan_to_num(bins.confidence)
    )
    ece = calibration.expected_calibration_error(probs, labels, 10)
    assert f"ECE = {100 * ece:.2f}%" in [t.get_text() for t in ax_rel.texts]


def test_reliability_comparison_one_column_per_model():
    probs, labels = _probs()
    fig = _render(
        plots.plot_reliability_comparison(
            {
                "baseline": probs,
                "dropout": probs**0.5 / (probs**0.5).sum(1, keepdims=True),
            },
            labels,
        )
    )
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["baseline", "dropout"]


def test_risk_coverage_draws_each_curve():
    probs, labels = _probs()
    curve = risk_coverage(probs, labels)
    fig = _render(plots.plot_risk_coverage({"baseline": curve, "ensemble": curve}))
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_ydata(), curve[1])


def test_mc_dropout_and_shift_panels():
    fig = _render(
        plots.plot_mc_dropout(
            [1, 10, 100],
            {"ECE": [0.1, 0.05, 0.04], "NLL": [0.9, 0.8, 0.78]},
            {"right": RNG.uniform(0, 0.1, 50), "wrong": RNG.uniform(0, 0.3, 50)},
        )
    )
    assert len(fig.axes) == 2 and len(fig.axes[0].get_lines()) == 2
    results = {
        c: {
            m: {"accuracy": [0.8, 0.7, 0.6, 0.5], "ece": [0.1, 0.15, 0.2, 0.3]}
            for m in ("a", "b")
        }
        for c in ("noise", "blur", "contrast")
    }
    fig = _render(plots.plot_shift([0, 1, 2, 3], results))
    assert len(fig.axes) == 6 and [ax.get_title() for ax in fig.axes[:3]] == [
        "noise",
        "blur",
        "contrast",
    ]
    np.testing.assert_allclose(
        fig.axes[3].get_lines()[1].get_ydata(), [0.1, 0.15, 0.2, 0.3]
    )
