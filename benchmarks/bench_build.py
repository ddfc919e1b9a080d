"""How long the README's commands take on this machine: builds, tests and evaluation (README, intro page).

Run from the repository root, after the venv exists (`make test` once), nothing else CPU-heavy running:

    .venv/bin/python benchmarks/bench_build.py [--only NAME ...] [--output PATH]

Each scenario runs once, or --repeat N times in turn (the median kept; a build takes minutes), and
is timed from the outside, wall clock:

  cold      rm -rf _build .cache/outputs, then `make book`: a fresh clone (no stored model outputs)
  clean     rm -rf _build, then `make book`: the stored outputs reused
  noop      `make book` again, nothing changed (both languages: the Russian edition is read afresh)
  noop_en   the same with LANGUAGES= (the English edition alone): noop - noop_en is what the
            translated editions add to a warm build (issue 19: at most 90 s)
  chapter   one code cell of book/regularization.md edited, `make book` (only that chapter runs)
  figure    one figure function edited (code/cnnbook/book/figures.py), `make book`: _build is
            cleared, every chapter runs, no model output is recomputed
  test      `make test`
  evaluate  `python -m cnnbook evaluate --model all`

Every edit is undone afterwards. The results, with the CPU (cnnbook.core.precision.cpu_description)
and ONEDNN_MAX_CPU_ISA when set (an AVX-512 machine made to behave like an AVX2 one), go to
benchmarks/results/build_times.json, which the intro page reads.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "benchmarks" / "results" / "build_times.json"
CHAPTER_EDIT = (
    ROOT / "book" / "regularization.md",
    "x, rate = np.ones((100, 1000)), 0.5\n",
    "x, rate = np.ones((100, 1000)), 0.5  # edited by bench_build\n",
)
FIGURE_EDIT = (
    ROOT / "code" / "cnnbook" / "book" / "figures.py",
    '    """Loss and accuracy per epoch: train solid, validation dashed, a dot at the best epoch."""\n',
    '    """Loss and accuracy per epoch: train solid, validation dashed, a dot at the best epoch."""\n'
    "    # edited by bench_build\n",
)


def _run(command: list[str]) -> tuple[float, int]:
    """Wall-clock seconds and exit code of a command run in the repository root, output discarded."""
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - started, done.returncode


def _edited(edit: tuple[Path, str, str], command: list[str]) -> tuple[float, int]:
    """Run command with one line of a file changed; the file is restored whatever happens."""
    path, old, new = edit
    original = path.read_text(encoding="utf-8")
    if old not in original:
        raise SystemExit(
            f"bench_build: {path.relative_to(ROOT)} no longer holds the line it edits; update the script"
        )
    try:
        path.write_text(original.replace(old, new, 1), encoding="utf-8")
        return _run(command)
    finally:
        path.write_text(original, encoding="utf-8")


def scenarios() -> dict:
    """Name -> a function that runs the scenario and returns (seconds, exit code)."""
    book, python = ["make", "book"], str(ROOT / ".venv" / "bin" / "python")

    def cold():
        shutil.rmtree(ROOT / "_build", ignore_errors=True)
        shutil.rmtree(ROOT / ".cache" / "outputs", ignore_errors=True)
        return _run(book)

    def clean():
        shutil.rmtree(ROOT / "_build", ignore_errors=True)
        return _run(book)

    return {
        "cold": cold,
        "clean": clean,
        "noop": lambda: _run(book),
        "noop_en": lambda: _run([*book, "LANGUAGES="]),
        "chapter": lambda: _edited(CHAPTER_EDIT, book),
        "figure": lambda: _edited(FIGURE_EDIT, book),
        "test": lambda: _run(["make", "test"]),
        "evaluate": lambda: _run(
            [python, "-m", "cnnbook", "evaluate", "--model", "all"]
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios in order, print one line each, write the results file."""
    sys.path.insert(0, str(ROOT / "code"))
    from cnnbook.core.files import atomic_write_text
    from cnnbook.core.precision import cpu_description

    known = scenarios()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(known), default=list(known))
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each scenario, in turn (the median is kept)",
    )
    args = parser.parse_args(argv)
    machine = {
        "cpu": cpu_description(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", ""),
    }
    print(
        f"bench_build on {machine['cpu']}"
        + (
            f", ONEDNN_MAX_CPU_ISA={machine['onednn_max_cpu_isa']}"
            if machine["onednn_max_cpu_isa"]
            else ""
        ),
        flush=True,
    )
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in args.only}
    for _ in range(
        args.repeat
    ):  # the scenarios in turn, so that a slow spell hits them alike
        for name in args.only:
            seconds, code = known[name]()
            runs[name].append((seconds, code))
            print(
                f"{name:>9}: {seconds:7.1f} s{'' if code == 0 else f'  (exit code {code})'}",
                flush=True,
            )
    results = {
        name: {
            "seconds": round(statistics.median(s for s, _ in done), 1),
            "exit_code": max(c for _, c in done),
        }
        | ({"all": [round(s, 1) for s, _ in done]} if len(done) > 1 else {})
        for name, done in runs.items()
    }
    document = {
        "machine": machine,
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs": args.repeat,
        "scenarios": results,
    }
    atomic_write_text(args.output, json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0 if all(r["exit_code"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
