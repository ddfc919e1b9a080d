"""One generated notebook (the light intro chapter) runs end to end in a fresh kernel, as a reader would run it."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "book" / "intro.ipynb"
DATA = Path(
    os.environ.get("CIFAR10_DIR")
    or Path.home() / ".keras" / "datasets" / "cifar-10-batches-py"
)


@pytest.mark.skipif(
    not (DATA / "data_batch_1").is_file(),
    reason="CIFAR-10 not found offline: set CIFAR10_DIR to run the intro notebook",
)
def test_intro_notebook_runs_end_to_end() -> None:
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    ).execute()
    outputs = [
        o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
    ]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = "\n".join(str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    assert "| model | parameters | epochs | test accuracy |" in shown
