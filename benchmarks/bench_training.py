"""Training throughput (images/second) per model, float32 vs mixed bfloat16, on synthetic CIFAR-sized data.

Run:  .venv/bin/python benchmarks/bench_training.py [--steps 40] [--repeats 3] [--batch-size 128]

Each measurement times `--steps` optimizer steps of model.fit on an in-memory tf.data pipeline
(the one training uses) after one warm-up pass that traces the graph; the median over `--repeats`
is reported with the bfloat16/float32 ratio. Random pixels and labels: the cost of a step does not
depend on the values. Close other CPU-heavy programs first: the machine has 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import cnnbook  # noqa: F401  (quiet TensorFlow set-up)
import keras

from cnnbook.models import MODEL_NAMES, build_model
from cnnbook.train import compile_model, make_dataset


def images_per_second(name: str, policy: str, steps: int, repeats: int, batch_size: int) -> list[float]:
    """Throughputs of `repeats` timed passes of `steps` training steps."""
    keras.mixed_precision.set_global_policy(policy)
    rng = np.random.default_rng(0)
    n = steps * batch_size
    x = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, size=n)
    model = build_model(name, seed=0)
    compile_model(model, 1e-3)
    dataset = make_dataset(x, y, batch_size, shuffle=True, seed=0)
    model.fit(dataset, epochs=1, verbose=0, shuffle=False)  # warm-up: tracing and oneDNN set-up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(dataset, epochs=1, verbose=0, shuffle=False)
        rates.append(n / (time.perf_counter() - start))
    keras.mixed_precision.set_global_policy("float32")
    return rates


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--models", nargs="+", default=list(MODEL_NAMES), choices=MODEL_NAMES)
    args = parser.parse_args()
    print(f"training images/second, median of {args.repeats} x {args.steps} steps of batch {args.batch_size}")
    print(f"{'model':>10} {'float32':>10} {'bf16 mixed':>11} {'ratio':>7}")
    for name in args.models:
        f32 = statistics.median(images_per_second(name, "float32", args.steps, args.repeats, args.batch_size))
        bf16 = statistics.median(images_per_second(name, "mixed_bfloat16", args.steps, args.repeats,
                                                   args.batch_size))
        print(f"{name:>10} {f32:10.0f} {bf16:11.0f} {bf16 / f32:6.2f}x")


if __name__ == "__main__":
    main()
