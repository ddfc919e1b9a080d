"""Every figure a figure test builds must also render in each translated edition (cnnbook.book.words)."""

from __future__ import annotations

import gc

import pytest
from matplotlib.figure import Figure

from cnnbook.book.words import LANGUAGES, translate_figure


def _figures() -> dict[int, Figure]:
    """The live matplotlib figures, by id."""
    return {id(o): o for o in gc.get_objects() if isinstance(o, Figure)}


@pytest.fixture(autouse=True)
def every_figure_translates(request):
    """After a test of a figure module, each figure it built translates into every language."""
    if not request.module.__name__.endswith(("_figures", "diagrams")):
        yield
        return
    before = set(_figures())
    yield
    for key, figure in _figures().items():
        if key not in before:
            for language in LANGUAGES:
                with translate_figure(figure, language):
                    pass
