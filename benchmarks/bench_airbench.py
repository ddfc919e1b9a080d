"""The port's training speed against the original airbench94 on the same CPU (issue 21).

Run from the repository root, nothing else CPU-heavy running:

    .venv/bin/python benchmarks/bench_airbench.py [--reference PATH [--reference-python PY]]
        [--steps 12] [--warmup 2] [--repeats 3] [--output PATH]

The port: `fast`'s own training step (cnnbook.airbench.train, batch 1,024, random pixels: a step's
cost does not depend on the values), timed as benchmarks/bench_training.py times it. The reference:
given --reference, a local copy of KellerJordan/cifar10-airbench's legacy/airbench94.py adapted to
the CPU (its device, precision and timer; never committed: the PyPI package `airbench` hard-codes
CUDA), run by PY (an interpreter with PyTorch, e.g. a separate venv with `pip install torch==2.13.0`)
in a subprocess with two threads: its make_net(), its loss, Nesterov SGD on its parameters, batch
1,024, the same number of steps. Both in float32 and, where the CPU has bfloat16, in mixed
bfloat16 (Keras's mixed_bfloat16 policy; torch.autocast). Without --reference it says so and times
the port alone.

Printed and written to benchmarks/results/airbench_speed.json: images/second (median of the
repeats, steady state after --warmup steps), the port/reference ratio, and each as a fraction of
the CPU's matmul peak in that precision (bench_training's measurement, TensorFlow's oneDNN),
using the network's training FLOPs per image (bench_training.training_flops_per_image: both nets
have the same layers); also fast_short's images/second and what the two speeds make of the stored
runs' training steps in minutes (cnnbook.book.minutes.steps_minutes_at). With ONEDNN_MAX_CPU_ISA=AVX2
(an AVX2 CPU's instructions on a newer one; bfloat16 is then not timed) the value is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_training  # noqa: E402  (benchmarks/: the port's step timing, FLOPs, matmul peak)

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "benchmarks" / "results" / "airbench_speed.json"
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
# What the local copy changes in legacy/airbench94.py to run on a CPU (written into the results):
REFERENCE_CHANGES = (
    "make_net: no .half().cuda() (float32 weights, channels_last kept, BatchNorm float as before)",
    "CifarLoader: images .float() instead of .half(), torch.load to the CPU, train.pt/test.pt "
    "written from this machine's CIFAR-10 copy (torchvision is not installed)",
    "T.Normalize replaced by (x - CIFAR_MEAN) / CIFAR_STD on the same constants",
    "mixed bfloat16: the forward pass and loss under torch.autocast('cpu', torch.bfloat16)",
    "torch.cuda.Event timers replaced by time.perf_counter; torch.set_num_threads(2)",
)
# Run by the reference's interpreter: its network and loss, timed steps; prints a JSON list of rates.
REFERENCE_STEPS = r"""
import importlib.util, json, sys, time
import torch
path, precision, steps, warmup, repeats = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
torch.set_num_threads(2)
spec = importlib.util.spec_from_file_location("airbench_reference", path)
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
batch = 1024
torch.manual_seed(0)
x = torch.randn(batch, 3, 32, 32).to(memory_format=torch.channels_last)
y = torch.randint(0, 10, (batch,))
model = ref.make_net()
loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=ref.hyp["opt"]["label_smoothing"], reduction="none")
params = [p for p in model.parameters() if p.requires_grad]
optimizer = torch.optim.SGD(params, lr=1e-3, momentum=0.85, nesterov=True, weight_decay=1e-4)
model.train()
rates = []
for _ in range(repeats):
    times = []
    for _ in range(steps):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            loss = loss_fn(model(x).float(), y).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter())
    rates.append((steps - 1 - warmup) * batch / (times[-1] - times[warmup]))
print(json.dumps(rates))
"""


def reference_rates(
    path: Path, python: str, precision: str, steps: int, warmup: int, repeats: int
) -> list[float]:
    """The reference's training images/second, one per repeat (its own interpreter, 2 threads)."""
    result = subprocess.run(
        [
            python,
            "-c",
            REFERENCE_STEPS,
            str(path),
            precision,
            str(steps),
            str(warmup),
            str(repeats),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "2"},
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"bench_airbench: the reference failed ({python}): {last}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Measure both, print the table, write the JSON."""
    from cnnbook.book.minutes import steps_minutes_at
    from cnnbook.core.files import atomic_write_text
    from cnnbook.core.store import read_manifest
    from cnnbook.core.precision import bfloat16_support, cpu_description, cpu_flags

    parser = argparse.ArgumentParser(prog="bench_airbench.py")
    parser.add_argument(
        "--reference", type=Path, help="airbench94.py adapted to the CPU"
    )
    parser.add_argument("--reference-python", default=sys.executable)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if args.reference is not None and not args.reference.is_file():
        print(f"bench_airbench: {args.reference} is not a file", file=sys.stderr)
        return 1
    if args.reference is None:
        print("bench_airbench: no --reference given: timing the port alone")
    precisions = ["float32"] + (["bfloat16"] if bfloat16_support()[0] else [])
    flops = bench_training.training_flops_per_image("fast")
    rows = {}
    for precision in precisions:
        peak = bench_training._peak(precision)
        port = statistics.median(
            bench_training.fast_images_per_second(
                "fast", POLICIES[precision], args.steps, args.warmup, args.repeats
            )
        )
        row = {"peak_flops": peak, "port_images_per_second": port,
               "port_fraction_of_peak": port * flops / peak}  # fmt: skip
        if args.reference is not None:
            ref = statistics.median(
                reference_rates(args.reference, args.reference_python, precision,
                                args.steps, args.warmup, args.repeats)
            )  # fmt: skip
            row.update(reference_images_per_second=ref, ratio=port / ref,
                       reference_fraction_of_peak=ref * flops / peak)  # fmt: skip
        short = statistics.median(
            bench_training.fast_images_per_second(
                "fast_short", POLICIES[precision], args.steps, args.warmup, args.repeats
            )
        )
        row["port_short_images_per_second"] = short  # for fast_short's minutes
        rows[precision] = row
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_description(),
        "cpu_flags": sorted(f for f in cpu_flags() if f.startswith(("avx", "amx", "fma"))),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),  # an emulated older CPU
        "aten_cpu_capability": os.environ.get("ATEN_CPU_CAPABILITY"),  # PyTorch's own kernels
        "training_flops_per_image": flops,
        "steps": args.steps, "warmup": args.warmup, "repeats": args.repeats,
        "reference": "KellerJordan/cifar10-airbench legacy/airbench94.py, adapted to the CPU"
        if args.reference else None,
        "reference_changes": list(REFERENCE_CHANGES) if args.reference else [],
        "precisions": rows,
    }  # fmt: skip
    print(
        f"bench_airbench on {result['cpu']}; training images/s, median of {args.repeats}"
    )
    print(
        "precision  peak GFLOP/s  port img/s (of peak)  reference img/s (of peak)  ratio"
    )
    for precision, r in rows.items():
        ref = (
            f"{r['reference_images_per_second']:>8.0f} ({r['reference_fraction_of_peak']:.0%})"
            f"  {r['ratio']:.2f}"
            if "ratio" in r
            else "-"
        )
        print(
            f"{precision:<10} {r['peak_flops'] / 1e9:>12.0f}  {r['port_images_per_second']:>8.0f} "
            f"({r['port_fraction_of_peak']:.0%})        {ref}"
        )
    manifest = read_manifest(ROOT / "best_models")
    for precision, r in rows.items():
        minutes = steps_minutes_at(manifest, r)
        print(
            f"{precision}: at these speeds the training steps of fast take {minutes['fast']:.1f} "
            f"min, of fast_short {minutes['fast_short']:.1f} min"
        )
    atomic_write_text(args.output, json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
