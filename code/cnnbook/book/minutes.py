"""How fast the fast models train, per CPU: the port's step against the original airbench's, the
stored runs' minutes and their optimizer steps at each benchmark's steady speed (chapter "Putting
it all together"; the README copies the minutes table)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from cnnbook.airbench.hyp import FAST_RECIPES
from cnnbook.airbench.train import steps_minutes
from cnnbook.core.files import REPOSITORY_ROOT
from cnnbook.core.names import model_of

SPEED_RESULTS = (
    REPOSITORY_ROOT / "benchmarks" / "results"
)  # airbench_speed*.json, one per CPU
HEADER = [
    "CPU (2 cores)",
    "precision",
    "fast: whole runs",
    "fast: its steps",
    "fast_short: whole runs",
    "fast_short: its steps",
]
SPEED_HEADER = [
    "CPU (2 cores)",
    "precision",
    "port: images/s",
    "original: images/s",
    "port / original",
    "port: share of peak",
    "original: share of peak",
]
Key = tuple[str, str]  # (CPU, precision)


def cpu_label(description: str, isa_cap: str | None = None) -> str:
    """'Intel(R) Xeon(R) Processor, 2 cores, bfloat16' -> 'Intel Xeon' (', AVX2 only' if capped)."""
    name = description.split(",")[0].replace("(R)", "").replace(" Processor", "")
    return f"{name.strip()}, {isa_cap} only" if isa_cap else name.strip()


def _share(fraction: float) -> str:
    """0.726 -> '73%' (a share of the CPU's peak)."""
    return f"{100 * fraction:.0f}%"


def _precision(mixed: bool) -> str:
    """The precision's name in the table."""
    return "mixed bfloat16" if mixed else "float32"


def measured_minutes(
    entries: dict[str, dict[str, Any]],
) -> dict[Key, dict[str, list[float]]]:
    """Every stored run of the fast models in minutes, by the CPU its manifest entry records."""
    measured: dict[Key, dict[str, list[float]]] = {}
    for run, entry in entries.items():
        if model_of(run) in FAST_RECIPES and "cpu" in entry:
            key = (
                cpu_label(entry["cpu"]),
                _precision(entry["config"]["mixed_precision"]),
            )
            measured.setdefault(key, {}).setdefault(model_of(run), []).append(
                entry["train_seconds"] / 60
            )
    return measured


def read_benchmarks(paths: Iterable[Path] | None = None) -> dict[Key, dict[str, float]]:
    """Each benchmark's rates (benchmarks/bench_airbench.py), by CPU and precision, capped CPUs last."""
    paths = (
        sorted(SPEED_RESULTS.glob("airbench_speed*.json")) if paths is None else paths
    )
    benchmarks: dict[Key, dict[str, float]] = {}
    for path in paths:
        bench = json.loads(Path(path).read_text(encoding="utf-8"))
        cpu = cpu_label(bench["cpu"], bench.get("onednn_max_cpu_isa"))
        for precision, rates in bench["precisions"].items():
            benchmarks[(cpu, _precision(precision == "bfloat16"))] = rates
    # each CPU's precisions together, a CPU limited to fewer instructions after the CPU itself
    order = sorted(benchmarks, key=lambda key: (key[0].endswith(" only"), key))
    return {key: benchmarks[key] for key in order}


# which benchmark rate times each fast model's steps (benchmarks/bench_airbench.py writes both)
RATE_OF = {
    "fast": "port_images_per_second",
    "fast_short": "port_short_images_per_second",
}


def steps_minutes_at(
    entries: dict[str, dict[str, Any]], rates: dict[str, float]
) -> dict[str, float]:
    """Each fast model's stored optimizer steps, in minutes, at one benchmark row's steady speeds."""
    return {
        model: steps_minutes(
            entries[model]["n_train"], FAST_RECIPES[model], rates[rate]
        )
        for model, rate in RATE_OF.items()
        if rate in rates
    }


def estimated_minutes(
    entries: dict[str, dict[str, Any]], benchmarks: dict[Key, dict[str, float]]
) -> dict[Key, dict[str, float]]:
    """The stored runs' optimizer steps at each CPU's benchmarked steady speed, in the precision
    `cnnbook train` picks there (mixed bfloat16 where it was measured, else float32)."""
    estimated: dict[Key, dict[str, float]] = {}
    for cpu in dict.fromkeys(cpu for cpu, _ in benchmarks):
        key = (cpu, _precision(True))
        key = key if key in benchmarks else (cpu, _precision(False))
        estimated[key] = steps_minutes_at(entries, benchmarks[key])
    return estimated


def speed_table(
    benchmarks: dict[Key, dict[str, float]],
) -> tuple[list[str], list[list[str]]]:
    """Header and rows: per CPU and precision, the port's and the original's training images per
    second, their ratio and each one's share of the CPU's measured matmul peak."""
    rows = []
    for key, rates in benchmarks.items():
        has_reference = "reference_images_per_second" in rates
        rows.append([
            *key,
            f"{rates['port_images_per_second']:.0f}",
            f"{rates['reference_images_per_second']:.0f}" if has_reference else "–",
            f"{rates['ratio']:.2f}" if has_reference else "–",
            _share(rates["port_fraction_of_peak"]),
            _share(rates["reference_fraction_of_peak"]) if has_reference else "–",
        ])  # fmt: skip
    return SPEED_HEADER, rows


def minutes_table(
    measured: dict[Key, dict[str, list[float]]], estimated: dict[Key, dict[str, float]]
) -> tuple[list[str], list[list[str]]]:
    """Header and rows: per CPU and precision, each model's runs (minutes, comma-separated) and the
    benchmark's minutes for its steps; '–' where there is none."""
    rows = []
    for key in dict.fromkeys([*measured, *estimated]):
        row = list(key)
        for model in FAST_RECIPES:
            runs = sorted(measured.get(key, {}).get(model, []))
            steps = estimated.get(key, {}).get(model)
            row += [
                ", ".join(f"{m:.1f}" for m in runs) or "–",
                "–" if steps is None else f"{steps:.1f}",
            ]
        rows.append(row)
    return HEADER, rows
