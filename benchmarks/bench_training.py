"""Training throughput (images/second) per model, float32 vs mixed bfloat16, on synthetic CIFAR-sized data.

Run:  .venv/bin/python benchmarks/bench_training.py [--steps 40] [--repeats 3] [--batch-size 128]

Each repeat runs model.fit for `--steps` optimizer steps on an in-memory tf.data pipeline (the one
training uses) and times the steady state: from the end of step `--warmup` to the end of the last
step, read by a callback (tracing, pipeline start-up and fit's own set-up are excluded). The median
over `--repeats` is reported with the bfloat16/float32 ratio. Random pixels and labels: the cost of a step does not
depend on the values. Close other CPU-heavy programs first: the machine has 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cnnbook.core.backend import keras  # TensorFlow, imported quietly

from cnnbook.core.models import build_model
from cnnbook.core.names import MODEL_NAMES
from cnnbook.core.train import compile_model, epoch_order, make_dataset


class StepClock(keras.callbacks.Callback):
    """Records the wall-clock time at the end of every training step."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def on_train_batch_end(self, batch, logs=None) -> None:  # noqa: D102
        self.times.append(time.perf_counter())


def images_per_second(name: str, policy: str, steps: int, warmup: int, repeats: int,
                      batch_size: int) -> list[float]:
    """Steady-state throughputs of `repeats` passes of `steps` training steps."""
    keras.mixed_precision.set_global_policy(policy)
    rng = np.random.default_rng(0)
    n = steps * batch_size
    x = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, size=n)
    model = build_model(name, seed=0)
    compile_model(model, 1e-3)
    dataset = make_dataset(x, y, batch_size, epoch_order(len(x), seed=0, epoch=0))
    rates = []
    for _ in range(repeats):
        clock = StepClock()
        model.fit(dataset, epochs=1, verbose=0, shuffle=False, callbacks=[clock])
        timed_steps = len(clock.times) - 1 - warmup
        rates.append(timed_steps * batch_size / (clock.times[-1] - clock.times[warmup]))
    keras.mixed_precision.set_global_policy("float32")
    return rates


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10, help="steps excluded from the timing")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--models", nargs="+", default=list(MODEL_NAMES), choices=MODEL_NAMES)
    args = parser.parse_args()
    if args.steps <= args.warmup + 1:
        parser.error("--steps must exceed --warmup + 1")
    print(f"training images/second (steady state), median of {args.repeats} runs of {args.steps} steps "
          f"(first {args.warmup} not timed), batch {args.batch_size}")
    print(f"{'model':>10} {'float32':>10} {'bf16 mixed':>11} {'ratio':>7}")
    for name in args.models:
        f32, bf16 = (statistics.median(images_per_second(name, policy, args.steps, args.warmup, args.repeats,
                                                         args.batch_size))
                     for policy in ("float32", "mixed_bfloat16"))
        print(f"{name:>10} {f32:10.0f} {bf16:11.0f} {bf16 / f32:6.2f}x")


if __name__ == "__main__":
    main()
