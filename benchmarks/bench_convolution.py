"""Time three 2-D convolutions on CIFAR-sized images: NumPy loop, NumPy vectorized, tf.nn.conv2d.

Chapter "Convolution math". Run ``python benchmarks/bench_convolution.py [--repeats 5]``.
A small batch (``--loop-batch``, default 8) is timed with all three implementations; a larger
one (``--batch``, default 128) without the loop, which would take minutes. Filters are
3x3x3x32, 'same' padding, stride 1. Each timing is the median of ``--repeats`` runs.

The vectorized NumPy version spends its time in a BLAS matrix product, so its speed depends on
the BLAS build and on thread settings such as ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``
(and TensorFlow's on ``TF_NUM_INTRAOP_THREADS``); set them before starting Python to compare
fairly.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np

from cnnbook.core.backend import tf  # TensorFlow, imported quietly
from cnnbook.lessons.convolution import conv2d, conv2d_loop


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of fn() over repeats calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_batch(
    batch: int, repeats: int, with_loop: bool, seed: int = 0
) -> dict[str, float]:
    """Median seconds of each implementation on one random batch of 32x32x3 images."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 32, 32, 3), dtype=np.float32)
    w = rng.normal(size=(3, 3, 3, 32)).astype(np.float32)
    x_tf, w_tf = tf.constant(x), tf.constant(w)
    tf.nn.conv2d(x_tf, w_tf, 1, "SAME").numpy()  # warm-up: first call builds kernels
    results = {}
    if with_loop:
        results["loop"] = median_seconds(
            lambda: conv2d_loop(x, w, padding="same"), repeats
        )
    results["vectorized"] = median_seconds(
        lambda: conv2d(x, w, padding="same"), repeats
    )
    results["tf.nn.conv2d"] = median_seconds(
        lambda: tf.nn.conv2d(x_tf, w_tf, 1, "SAME").numpy(), repeats
    )
    return results


def format_table(rows: list[tuple[int, dict[str, float]]]) -> str:
    """A plain-text table of median seconds and speed-up ratios."""
    lines = [
        f"{'batch':>6} {'loop s':>10} {'vector s':>10} {'tf s':>10} {'loop/vector':>12} {'vector/tf':>10}"
    ]
    for batch, r in rows:
        loop = f"{r['loop']:10.4f}" if "loop" in r else f"{'-':>10}"
        ratio = f"{r['loop'] / r['vectorized']:11.1f}x" if "loop" in r else f"{'-':>12}"
        lines.append(
            f"{batch:>6} {loop} {r['vectorized']:10.4f} {r['tf.nn.conv2d']:10.4f} {ratio}"
            f" {r['vectorized'] / r['tf.nn.conv2d']:9.1f}x"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, time both batches and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed runs per implementation (median)"
    )
    parser.add_argument(
        "--loop-batch",
        type=int,
        default=8,
        help="images in the batch the loop also runs",
    )
    parser.add_argument(
        "--batch", type=int, default=128, help="images in the larger batch (no loop)"
    )
    args = parser.parse_args(argv)
    if min(args.repeats, args.loop_batch, args.batch) < 1:
        parser.error("--repeats, --loop-batch and --batch must be positive")
    rows = [
        (args.loop_batch, time_batch(args.loop_batch, args.repeats, with_loop=True)),
        (args.batch, time_batch(args.batch, args.repeats, with_loop=False)),
    ]
    print(
        "2-D convolution, 32x32x3 images, 3x3x3x32 filters, 'same' padding, median seconds"
    )
    print(format_table(rows))


if __name__ == "__main__":
    main()
