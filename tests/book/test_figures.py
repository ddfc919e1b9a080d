"""Every plot returns a Figure with the expected axes and artists, renders with Agg, shows nothing."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from cnnbook.book.pages import check_legible, figure_png

from cnnbook.book import figures as plots
from cnnbook.core.metrics import softmax

RNG = np.random.default_rng(0)
NAMES = [f"class{i}" for i in range(10)]


@pytest.fixture(autouse=True)
def _no_show(monkeypatch):
    """plt.show must never be called, and no figure may be left registered with pyplot."""

    def refuse(*args, **kwargs):
        raise AssertionError("plt.show() was called")

    monkeypatch.setattr(plt, "show", refuse)
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


def _render(fig) -> Figure:
    """Check the type, render as the book does and check the text is legible in the column."""
    assert isinstance(fig, Figure)
    check_legible("test figure", fig, figure_png(fig))  # raises when text < MIN_TEXT_PX
    return fig


def _probs(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    probs = softmax(RNG.normal(scale=3.0, size=(n, 10)))
    return probs, RNG.integers(0, 10, n)


def _history(name: str, best: int) -> dict:
    rows = [
        {
            "epoch": e,
            "loss": 2.0 / e,
            "accuracy": 0.5 + 0.04 * e,
            "val_loss": 2.1 / e + 0.01 * e,
            "val_accuracy": 0.45 + 0.03 * e,
            "learning_rate": 1e-3,
            "seconds": 1.0,
        }
        for e in range(1, 8)
    ]
    return {"model": name, "best_epoch": best, "epochs": rows}


def test_style_is_scoped():
    before = matplotlib.rcParams["axes.spines.top"]
    with plots.use_book_style():
        assert matplotlib.rcParams["axes.spines.top"] is False
    assert matplotlib.rcParams["axes.spines.top"] == before
    assert plots.series_colors(["dropout", "x", "baseline", "y"]) == [
        plots.PALETTE["dropout"],
        plots.EXTRA_COLORS[0],
        plots.PALETTE["baseline"],
        plots.EXTRA_COLORS[1],
    ]


def test_image_grid_titles_and_colors():
    images = RNG.integers(0, 256, size=(10, 32, 32, 3)).astype("uint8")
    labels, preds = np.arange(10), np.array([0, 1, 2, 9, 4, 5, 6, 7, 8, 3])
    fig = _render(
        plots.plot_image_grid(images, labels, NAMES, preds, np.full(10, 0.87), ncols=4)
    )
    assert len(fig.axes) == 10
    assert fig.axes[0].get_title() == "class0 87%"
    assert fig.axes[3].get_title() == "class9 87%\ntrue: class3"
    assert to_hex(fig.axes[3].title.get_color()) == to_hex(plots.WRONG)
    assert to_hex(fig.axes[0].title.get_color()) == to_hex(plots.RIGHT)
    plain = _render(
        plots.plot_image_grid(images[:3].astype("float32") / 255, labels=[1, 2, 3])
    )
    assert len(plain.axes) == 3 and plain.axes[2].get_title() == "3"


def test_training_curves_lines_and_best_marker():
    histories = {
        "baseline": _history("baseline", 5),
        "batchnorm": _history("batchnorm", 3),
    }
    fig = _render(plots.plot_training_curves(histories))
    assert len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert (
        len(loss_ax.get_lines()) == len(acc_ax.get_lines()) == 6
    )  # train, val, best dot per model
    train, val, best = loss_ax.get_lines()[:3]
    np.testing.assert_allclose(train.get_ydata(), [2.0 / e for e in range(1, 8)])
    assert val.get_linestyle() == "--" and train.get_linestyle() == "-"
    assert to_hex(train.get_color()) == plots.PALETTE["baseline"]
    np.testing.assert_allclose(best.get_xdata(), [5])
    np.testing.assert_allclose(best.get_ydata(), [2.1 / 5 + 0.05])
    np.testing.assert_allclose(acc_ax.get_lines()[5].get_ydata(), [0.45 + 0.09])


def test_heatmap_overlays():
    images = RNG.integers(0, 256, size=(3, 32, 32, 3)).astype("uint8")
    fig = _render(
        plots.plot_heatmap_overlays(
            images, RNG.uniform(size=(3, 8, 8)), titles=["a", "b", "c"]
        )
    )
    assert len(fig.axes) == 6
    bottom = fig.axes[3:]  # row-major: the second row
    assert all(len(ax.images) == 2 for ax in bottom)
    overlay = bottom[0].images[1]
    assert (
        overlay.get_cmap().name == plots.HEATMAP_CMAP != "jet"
        and overlay.get_alpha() == 0.5
    )
    assert overlay.get_extent() == [-0.5, 31.5, 31.5, -0.5]


def test_activation_maps_grid():
    maps = RNG.uniform(size=(1, 16, 16, 12))
    fig = _render(plots.plot_activation_maps(maps, n_channels=10, title="block1"))
    assert len(fig.axes) == 10
    np.testing.assert_allclose(fig.axes[4].images[0].get_array(), maps[0, ..., 4])
    assert len(plots.plot_activation_maps(maps[0, ..., :3]).axes) == 3


def test_confusion_matrix_normalized_values():
    cm = RNG.integers(0, 50, size=(10, 10))
    fig = _render(plots.plot_confusion_matrix(cm, NAMES))
    assert len(fig.axes) == 2  # matrix and colorbar
    ax = fig.axes[0]
    np.testing.assert_allclose(
        ax.images[0].get_array(), cm / cm.sum(axis=1, keepdims=True)
    )
    assert len(ax.texts) == 100
    counts = _render(plots.plot_confusion_matrix(cm, NAMES, normalize=False))
    assert counts.axes[0].texts[1].get_text() == str(cm[0, 1])


def test_gradient_norms_log_scale():
    norms = {"sigmoid": np.logspace(-1, -7, 8), "relu": np.full(8, 0.1)}
    fig = _render(plots.plot_gradient_norms(norms))
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 2
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), np.arange(1, 9))
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), norms["sigmoid"])


def test_filter_responses():
    image = RNG.uniform(size=(32, 32))
    responses = {
        "vertical edges": RNG.normal(size=(30, 30)),
        "blur": RNG.normal(size=(30, 30)),
    }
    fig = _render(plots.plot_filter_responses(image, responses))
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["input", "vertical edges", "blur"]
    low, high = fig.axes[1].images[0].get_clim()
    assert low == -high == -np.abs(responses["vertical edges"]).max()


def test_histograms_share_edges():
    values = {"correct": RNG.uniform(0.5, 1, 300), "wrong": RNG.uniform(0.2, 0.9, 100)}
    fig = _render(plots.plot_histograms(values, bins=20, xlabel="confidence"))
    (ax,) = fig.axes
    assert len(ax.patches) == 2 and ax.get_xlabel() == "confidence"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["correct", "wrong"]
    xs = [p.get_xy()[:, 0] for p in ax.patches]
    assert xs[0].min() == pytest.approx(xs[1].min()) and xs[0].max() == pytest.approx(
        xs[1].max()
    )


def test_heatmap_overlays_one_row_per_model():
    images = RNG.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    maps = {
        name: RNG.uniform(size=(4, 8, 8))
        for name in ("baseline", "dropout", "batchnorm")
    }
    fig = _render(plots.plot_heatmap_overlays(images, maps))
    assert len(fig.axes) == 16
    assert fig.axes[8].get_ylabel() == "dropout"  # row 2, first column
    np.testing.assert_allclose(fig.axes[13].images[1].get_array(), maps["batchnorm"][1])


def test_paired_values_scatter_with_diagonal():
    x = RNG.normal(size=20)
    fig = _render(
        plots.plot_paired_values({"mean": (x, 2 * x), "variance": (x**2, x**2)})
    )
    assert len(fig.axes) == 2
    np.testing.assert_allclose(
        fig.axes[0].collections[0].get_offsets(), np.c_[x, 2 * x]
    )
    diagonal = fig.axes[1].lines[0]
    np.testing.assert_array_equal(diagonal.get_xdata(), diagonal.get_ydata())
