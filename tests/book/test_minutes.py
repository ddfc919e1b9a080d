"""cnnbook.book.minutes: the fast models' minutes per CPU, and the README's copy of the table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cnnbook.airbench.hyp import FAST_RECIPES
from cnnbook.airbench.train import total_steps
from cnnbook.book import minutes as mn
from cnnbook.core.files import REPOSITORY_ROOT
from cnnbook.core.store import read_manifest


def _run(model: str, cpu: str, seconds: float, mixed: bool = True) -> dict:
    return {"cpu": cpu, "train_seconds": seconds, "n_train": 45000,
            "config": {"model": model, "mixed_precision": mixed}}  # fmt: skip


def test_cpu_labels_drop_the_trademarks_and_name_a_cap() -> None:
    assert mn.cpu_label("Intel(R) Xeon(R) Processor, 2 cores, bfloat16") == "Intel Xeon"
    assert mn.cpu_label("AMD EPYC, 2 cores, no bfloat16") == "AMD EPYC"
    assert mn.cpu_label("AMD EPYC, 2 cores, bfloat16", "AVX2") == "AMD EPYC, AVX2 only"


def test_runs_group_by_cpu_and_steps_follow_the_benchmark(tmp_path: Path) -> None:
    entries = {
        "fast": _run("fast", "AMD EPYC, 2 cores, bfloat16", 1800),
        "fast.seed43": _run(
            "fast", "Intel(R) Xeon(R) Processor, 2 cores, bfloat16", 2000
        ),
        "fast_short": _run("fast_short", "AMD EPYC, 2 cores, bfloat16", 600),
        "baseline": _run(
            "baseline", "AMD EPYC, 2 cores, bfloat16", 500
        ),  # not a fast model
    }
    measured = mn.measured_minutes(entries)
    assert measured == {("AMD EPYC", "mixed bfloat16"): {"fast": [30.0], "fast_short": [10.0]},
                        ("Intel Xeon", "mixed bfloat16"): {"fast": [2000 / 60]}}  # fmt: skip
    bench = tmp_path / "airbench_speed_avx2.json"
    bench.write_text(json.dumps({
        "cpu": "Intel(R) Xeon(R) Processor, 2 cores, bfloat16", "onednn_max_cpu_isa": "AVX2",
        "precisions": {"float32": {"port_images_per_second": 100.0,
                                   "port_short_images_per_second": 300.0}}}))  # fmt: skip
    estimated = mn.estimated_minutes(entries, mn.read_benchmarks([bench]))
    steps = total_steps(45000, FAST_RECIPES["fast"])
    assert estimated[("Intel Xeon, AVX2 only", "float32")]["fast"] == pytest.approx(
        steps * 1024 / 100 / 60
    )
    header, rows = mn.minutes_table(measured, estimated)
    assert header == mn.HEADER and [r[:2] for r in rows] == [
        ["AMD EPYC", "mixed bfloat16"], ["Intel Xeon", "mixed bfloat16"],
        ["Intel Xeon, AVX2 only", "float32"]]  # fmt: skip
    assert rows[0][2:] == ["30.0", "–", "10.0", "–"] and rows[1][4:] == ["–", "–"]
    assert rows[2][2] == "–" and float(rows[2][3]) == pytest.approx(
        steps * 1024 / 6000, abs=0.05
    )


def test_the_readme_copies_the_table_of_the_stored_runs_and_benchmarks() -> None:
    """The README's minutes table is the chapter's (a stale copy fails here)."""
    entries = read_manifest(REPOSITORY_ROOT / "best_models")
    header, rows = mn.minutes_table(
        mn.measured_minutes(entries),
        mn.estimated_minutes(entries, mn.read_benchmarks()),
    )
    readme = (REPOSITORY_ROOT / "README.md").read_text(encoding="utf-8")
    expected = [
        "| " + " | ".join(header) + " |",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]
    found = [
        line
        for line in readme.splitlines()
        if re.match(r"\| (CPU \(2 cores\)|AMD|Intel)", line)
    ]
    assert found == expected


def test_benchmarks_read_by_cpu_and_precision_and_tabulated(tmp_path: Path) -> None:
    """Both precisions of a benchmark; an AVX2-capped one; no reference gives dashes."""
    both = {"port_images_per_second": 800.0, "reference_images_per_second": 400.0, "ratio": 2.0,
            "port_fraction_of_peak": 0.726, "reference_fraction_of_peak": 0.363}  # fmt: skip
    alone = {"port_images_per_second": 120.4, "port_fraction_of_peak": 0.5}
    (tmp_path / "airbench_speed.json").write_text(json.dumps({
        "cpu": "AMD EPYC, 2 cores, bfloat16",
        "precisions": {"float32": alone, "bfloat16": both}}))  # fmt: skip
    (tmp_path / "airbench_speed_avx2.json").write_text(json.dumps({
        "cpu": "AMD EPYC, 2 cores, bfloat16", "onednn_max_cpu_isa": "AVX2",
        "precisions": {"float32": alone}}))  # fmt: skip
    benchmarks = mn.read_benchmarks(sorted(tmp_path.glob("*.json")))
    assert list(benchmarks) == [("AMD EPYC", "float32"), ("AMD EPYC", "mixed bfloat16"),
                                ("AMD EPYC, AVX2 only", "float32")]  # fmt: skip
    header, rows = mn.speed_table(benchmarks)
    assert header == mn.SPEED_HEADER and len(rows[0]) == len(header)
    assert rows[1][2:] == ["800", "400", "2.00", "73%", "36%"]
    assert rows[0][2:] == ["120", "–", "–", "50%", "–"]
    entries = {m: {"n_train": 45000} for m in FAST_RECIPES}
    estimated = mn.estimated_minutes(
        entries, benchmarks
    )  # bfloat16 where it was measured
    assert list(estimated) == [
        ("AMD EPYC", "mixed bfloat16"),
        ("AMD EPYC, AVX2 only", "float32"),
    ]
    steps = total_steps(45000, FAST_RECIPES["fast"])
    assert estimated[("AMD EPYC", "mixed bfloat16")]["fast"] == pytest.approx(
        steps * 1024 / 800 / 60
    )
