"""The diagrams: the right boxes and labels, legible in the book's column."""

from __future__ import annotations

from matplotlib.patches import FancyBboxPatch, Rectangle

from cnnbook.book import diagrams
from cnnbook.book.pages import check_legible, figure_png


def _legible(fig) -> list[str]:
    """Render as the book does, check the text is legible in the column; return every text."""
    check_legible("test diagram", fig, figure_png(fig))
    return [t.get_text() for t in fig.axes[0].texts]


def test_backbone_one_box_per_stage_taller_for_larger_maps():
    stages = [
        ("input", 32, 3),
        ("block 1", 32, 32),
        ("pool", 16, 32),
        ("dense", 1, 128),
    ]
    fig = diagrams.plot_backbone(stages)
    texts = _legible(fig)
    boxes = [p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == 4 and "32×32\n×3" in texts and "dense" in texts
    heights = [b.get_height() for b in boxes]
    assert heights[0] == heights[1] > heights[2] > heights[3]


def test_sliding_window_highlights_a_kernel_and_its_output_cell():
    fig = diagrams.plot_sliding_window(height=5, width=6, kernel=3)
    _legible(fig)
    cells = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(cells) == 5 * 6 + 3 * 4 + 2  # both grids, the window, the output cell
    assert any(p.get_width() == 3 and p.get_height() == 3 for p in cells)


def test_gradcam_pipeline_names_every_step():
    texts = _legible(diagrams.plot_gradcam_pipeline())
    joined = " ".join(texts)
    for word in (
        "image",
        "feature maps",
        "score",
        "mean of",
        "ReLU",
        "heatmap",
        "gradient",
    ):
        assert word in joined
