"""Training throughput (images/second) per model, float32 vs mixed bfloat16, on synthetic CIFAR-sized data.

Run:  .venv/bin/python benchmarks/bench_training.py [--steps 40] [--repeats 3] [--batch-size 128]
      [--models baseline batchnorm fast_short fast]

Each repeat runs model.fit for `--steps` optimizer steps on an in-memory tf.data pipeline (the one
training uses) and times the steady state: from the end of step `--warmup` to the end of the last
step, read by a callback (tracing, pipeline start-up and fit's own set-up are excluded). The median
over `--repeats` is reported with the bfloat16/float32 ratio, each model's achieved FLOP/s
(training_flops_per_image x images/s) as a fraction of the machine's matmul peak in the same
precision, and its images/s (in the precision `cnnbook train` chooses here) relative to the
baseline. The first line names the CPU and that choice with its reason. Random pixels and labels:
the cost of a step does not
depend on the values. The fast models are timed through their own training step (batch 1,024, so a quarter of the
steps: the same number of images). Close other CPU-heavy programs first: the machine has 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from cnnbook.core.backend import keras  # TensorFlow, imported quietly

from cnnbook.airbench.hyp import FAST_RECIPES
from cnnbook.airbench.net import build_fast_model
from cnnbook.airbench.train import AirbenchSession
from cnnbook.core.data import CLASS_NAMES, Splits
from cnnbook.core.engine import epoch_order
from cnnbook.core.models import build_model
from cnnbook.core.names import ALL_MODELS, FAST_MODELS
from cnnbook.core.train import compile_model, make_dataset


class StepClock(keras.callbacks.Callback):
    """Records the wall-clock time at the end of every training step."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def on_train_batch_end(self, batch, logs=None) -> None:  # noqa: D102
        self.times.append(time.perf_counter())


def images_per_second(
    name: str, policy: str, steps: int, warmup: int, repeats: int, batch_size: int
) -> list[float]:
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


def fast_images_per_second(
    name: str, policy: str, steps: int, warmup: int, repeats: int
) -> list[float]:
    """The same for a fast model: its own training step (cnnbook.airbench.train), batch 1024."""
    keras.mixed_precision.set_global_policy(policy)
    recipe = FAST_RECIPES[name]
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(recipe.batch_size, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, size=recipe.batch_size)
    session = AirbenchSession(
        recipe, Splits(x, y, x[:10], y[:10], x[:10], y[:10], CLASS_NAMES, "synthetic")
    )
    factor = np.float32(0.5)
    rates = []
    for _ in range(repeats):
        times = []
        for _ in range(steps):
            loss, _ = session.step_fn[False](x, y, factor)
            float(loss)  # wait for the step
            times.append(time.perf_counter())
        rates.append(
            (steps - 1 - warmup) * recipe.batch_size / (times[-1] - times[warmup])
        )
    keras.mixed_precision.set_global_policy("float32")
    return rates


def matmul_peak(dtype: str = "bfloat16", n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a large square matrix product in `dtype`: the machine's practical peak."""
    import tensorflow as tf  # through the backend above: already imported, quietly

    a = tf.random.normal((n, n), dtype="float32")
    a = tf.cast(a, dtype)
    product = tf.function(lambda x: tf.linalg.matmul(x, x))
    product(a).numpy()  # trace and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        product(a).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times)


def training_flops_per_image(name: str) -> float:
    """Multiply-adds of one forward pass (convolutions and dense layers) x 2 FLOPs x 3 (forward,
    and the two products of the backward pass): the arithmetic of one training image."""
    model = (
        build_fast_model(name, seed=0)
        if name in FAST_MODELS
        else build_model(name, seed=0)
    )
    macs = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, _ = layer.kernel.shape
            macs += h * w * kh * kw * c_in * c_out
        elif isinstance(layer, keras.layers.Dense):
            macs += layer.kernel.shape[0] * layer.kernel.shape[1]
    return 3 * 2 * macs


def _peak(dtype: str) -> float:
    """The best matmul FLOP/s over three square sizes in dtype."""
    return max(matmul_peak(dtype, n) for n in (1024, 2048, 4096))


def main() -> None:
    """Measure and print the table: float32 and mixed bfloat16 side by side, and the policy
    `cnnbook train` would choose here (cnnbook.core.precision) with its reason."""
    from cnnbook.core.precision import (
        bfloat16_support,
        choose_precision,
        cpu_description,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument(
        "--warmup", type=int, default=10, help="steps excluded from the timing"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--models", nargs="+", default=list(ALL_MODELS), choices=ALL_MODELS
    )
    parser.add_argument(
        "--bf16-only", action="store_true", help="skip the float32 runs"
    )
    args = parser.parse_args()
    if args.steps <= args.warmup + 1:
        parser.error("--steps must exceed --warmup + 1")
    chosen = choose_precision("auto")
    print(
        f"CPU: {cpu_description()}; cnnbook train would use {chosen.policy} ({chosen.reason})"
    )
    print(
        f"training images/second (steady state), median of {args.repeats} runs of {args.steps} steps "
        f"(first {args.warmup} not timed), batch {args.batch_size}"
    )
    # oneDNN capped below bfloat16 (ONEDNN_MAX_CPU_ISA=AVX2 on an AVX-512 machine) aborts the process on a
    # bfloat16 kernel instead of emulating it, as a real AVX2 CPU does: only float32 is measured then.
    bf16_runs = bfloat16_support()[0] or not os.environ.get("ONEDNN_MAX_CPU_ISA")
    if not bf16_runs:
        print(f"bf16: not measured ({bfloat16_support()[1]})")
    peaks = {
        "float32": _peak("float32"),
        "mixed_bfloat16": _peak("bfloat16") if bf16_runs else float("nan"),
    }
    print(
        f"matmul peak (best of square products of size 1024, 2048, 4096; median of 5 each): "
        f"float32 {peaks['float32'] / 1e12:.3f} TFLOP/s, bf16 {peaks['mixed_bfloat16'] / 1e12:.3f} TFLOP/s"
    )
    print(
        f"{'model':>10} {'float32':>10} {'bf16 mixed':>11} {'ratio':>7} {'f32 of peak':>12} "
        f"{'bf16 of peak':>13} {'vs baseline':>12}"
    )
    rates = {}
    for name in args.models:

        def median_rate(policy: str) -> float:
            if (
                name in FAST_MODELS
            ):  # batch 1024: a quarter of the steps, as many images
                return statistics.median(
                    fast_images_per_second(
                        name,
                        policy,
                        max(args.steps // 4, args.warmup // 4 + 3),
                        args.warmup // 4,
                        args.repeats,
                    )
                )
            return statistics.median(
                images_per_second(
                    name, policy, args.steps, args.warmup, args.repeats, args.batch_size
                )
            )

        f32 = float("nan") if args.bf16_only else median_rate("float32")
        bf16 = median_rate("mixed_bfloat16") if bf16_runs else float("nan")
        rates[name] = rate = bf16 if chosen.mixed else f32
        flops = training_flops_per_image(name)
        relative = f"{rate / rates['baseline']:.2f}x" if "baseline" in rates else "-"
        print(
            f"{name:>10} {f32:10.0f} {bf16:11.0f} {bf16 / f32:6.2f}x {f32 * flops / peaks['float32']:12.0%} "
            f"{bf16 * flops / peaks['mixed_bfloat16']:13.0%} {relative:>12}"
        )


if __name__ == "__main__":
    main()
