"""The same book on every CPU: the chapter cells whose values round-off could change (tagged
`numeric-check`) show and glue the same text under two numeric paths of this machine.

Each path runs the tagged cells of a chapter in a fresh Python process (IPython's shell, as a kernel
would) and records every cell's displayed result and every glued value. The other path changes every
library's arithmetic kernels: TensorFlow without oneDNN (TF_ENABLE_ONEDNN_OPTS=0) and capped at AVX2
where oneDNN runs, OpenBLAS's Haswell (AVX2) kernels instead of the ones it picks for this CPU, and
NumPy without its AVX-512 loops. A value printed with digits that only one path produces fails here,
as `eig_ratio` and `bn_diff_training` did between an AVX-512 and an AVX2 machine (issue 17).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = ("convolution", "regularization", "fast")
TAG = "numeric-check"
DATA = Path(
    os.environ.get("CIFAR10_DIR")
    or Path.home() / ".keras" / "datasets" / "cifar-10-batches-py"
)

PROBE = r"""
import contextlib, io, json, sys
import jupytext
from IPython.core.interactiveshell import InteractiveShell

chapter, tag, out = sys.argv[1:4]
shell = InteractiveShell.instance()
shell.run_cell("import matplotlib; matplotlib.use('Agg')")
shown = []
for cell in jupytext.read(chapter, fmt="md:myst").cells:
    if cell.cell_type != "code" or tag not in cell.metadata.get("tags", []):
        continue
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = shell.run_cell(cell.source, store_history=True)
    result.raise_error()
    shown.append([printed.getvalue(), "" if result.result is None else repr(result.result)])
from cnnbook.book.pages import GLUED
json.dump({"shown": shown, "glued": GLUED}, open(out, "w"))
"""


def _numpy_avx512() -> str:
    """NumPy's AVX-512 dispatch targets that this CPU has (disabling absent ones is an error)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # NumPy < 2
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return " ".join(
        f
        for f in __cpu_dispatch__
        if f.startswith("AVX512") and __cpu_features__.get(f)
    )


def other_path() -> dict[str, str]:
    """The environment of the second numeric path."""
    env = {
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "OPENBLAS_CORETYPE": "Haswell",
    }
    if features := _numpy_avx512():
        env["NPY_DISABLE_CPU_FEATURES"] = features
    return env


def run_tagged_cells(chapter: str, env: dict[str, str], out: Path) -> dict:
    """What the chapter's tagged cells show and glue, run under env."""
    paths = (
        "TF_ENABLE_ONEDNN_OPTS",
        "ONEDNN_MAX_CPU_ISA",
        "OPENBLAS_CORETYPE",
        "NPY_DISABLE_CPU_FEATURES",
    )
    base = {k: v for k, v in os.environ.items() if k not in paths}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(ROOT / "book" / f"{chapter}.md"),
            TAG,
            str(out),
        ],
        cwd=ROOT / "book",
        env=base | env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        f"{chapter}: the tagged cells failed under {env}: {done.stderr[-2000:]}"
    )
    return json.loads(out.read_text())


def test_tagged_cells_exist() -> None:
    import jupytext

    for chapter in CHAPTERS:
        cells = jupytext.read(ROOT / "book" / f"{chapter}.md", fmt="md:myst").cells
        assert any(TAG in c.metadata.get("tags", []) for c in cells), (
            f"{chapter}: no cell tagged {TAG}"
        )


@pytest.mark.skipif(
    not (DATA / "data_batch_1").is_file(), reason="needs CIFAR-10: set CIFAR10_DIR"
)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_round_off_never_reaches_the_page_as_digits(
    chapter: str, tmp_path: Path
) -> None:
    default = run_tagged_cells(chapter, {}, tmp_path / "default.json")
    other = run_tagged_cells(chapter, other_path(), tmp_path / "other.json")
    assert default["glued"], f"{chapter}: the tagged cells glued nothing"
    differ = {
        k: (v, other["glued"].get(k))
        for k, v in default["glued"].items()
        if other["glued"].get(k) != v
    }
    assert not differ, f"{chapter}: glued text depends on the numeric path: {differ}"
    assert len(default["shown"]) == len(other["shown"])
    for (printed, shown), (printed_other, shown_other) in zip(
        default["shown"], other["shown"]
    ):
        assert (printed, shown) == (printed_other, shown_other), (
            f"{chapter}: a cell shows other digits"
        )
