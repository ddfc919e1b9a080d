"""Where the BatchNorm model's extra training time goes, layer by layer (chapter "Regularization").

Run:  .venv/bin/python benchmarks/bench_batchnorm.py [--steps 30] [--repeats 5] [--out FILE]

Times steady-state training steps (mixed bfloat16, as training does; synthetic data, see
bench_training.py) of the baseline, the BatchNorm model with Keras' own BatchNormalization layer,
the same model with cnnbook.core.layers.FusedBatchNormalization (TensorFlow's fused kernel; what
build_model now uses), and the Keras-layer model with one BatchNorm layer at a time replaced by an
identity. The cost of layer k is the time per image of the Keras-layer model minus that of the
model without layer k. Variants are timed in
turn within each repeat, so that a slow phase of the shared machine hits them all; medians are
reported. The results go to benchmarks/results/batchnorm_cost.json (written atomically), which
the book reads.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
from pathlib import Path

import numpy as np
from bench_training import StepClock

from cnnbook.core.backend import keras, tf
from cnnbook.core.files import atomic_write_text
from cnnbook.core.layers import FusedBatchNormalization
from cnnbook.core.models import build_model
from cnnbook.core.engine import epoch_order
from cnnbook.core.train import compile_model, make_dataset

RESULTS = Path(__file__).resolve().parent / "results" / "batchnorm_cost.json"


def without_layer(model: keras.Model, name: str) -> keras.Model:
    """A copy of the model whose layer `name` is an identity (same weights elsewhere)."""

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        if layer.name == name:
            return keras.layers.Lambda(
                lambda t: t, name=name
            )  # accepts the mask argument
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(model, clone_function=clone)


def with_keras_batchnorm(model: keras.Model) -> keras.Model:
    """A copy of the model with Keras' own BatchNormalization instead of the fused layer."""

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        kind = (
            keras.layers.BatchNormalization
            if isinstance(layer, FusedBatchNormalization)
            else layer.__class__
        )
        return kind.from_config(layer.get_config())

    return keras.models.clone_model(model, clone_function=clone)


def one_pass(model: keras.Model, dataset, warmup: int, batch_size: int) -> float:
    """Seconds per image over one steady-state pass of model.fit."""
    clock = StepClock()
    model.fit(dataset, epochs=1, verbose=0, shuffle=False, callbacks=[clock])
    return (clock.times[-1] - clock.times[warmup]) / (
        (len(clock.times) - 1 - warmup) * batch_size
    )


def measure(steps: int, warmup: int, repeats: int, batch_size: int) -> dict:
    """Median seconds per image of every variant, and the per-layer costs."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    rng = np.random.default_rng(0)
    n = steps * batch_size
    x = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, size=n)
    dataset = make_dataset(x, y, batch_size, epoch_order(n, seed=0, epoch=0))
    fused = build_model("batchnorm", seed=0)
    full = with_keras_batchnorm(fused)
    bn_layers = [
        layer.name
        for layer in full.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    sizes = {
        layer.name: int(np.prod(layer.output.shape[1:]))
        for layer in full.layers
        if layer.name in bn_layers
    }
    variants = {
        "baseline": build_model("baseline", seed=0),
        "batchnorm": full,
        "batchnorm, fused": fused,
    }
    variants |= {f"without {name}": without_layer(full, name) for name in bn_layers}
    for model in variants.values():
        compile_model(model, 1e-3)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, model in variants.items():
            times[name].append(one_pass(model, dataset, warmup, batch_size))
    keras.mixed_precision.set_global_policy("float32")
    median = {name: statistics.median(t) for name, t in times.items()}
    return {
        "seconds_per_image": median,
        "runs": times,
        "bn_layers": bn_layers,
        "activations_per_image": sizes,
        "layer_cost": {
            n: median["batchnorm"] - median[f"without {n}"] for n in bn_layers
        },
    }


def main() -> None:
    """Measure, print the table and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.steps <= args.warmup + 1 or args.repeats < 1:
        parser.error("need --steps > --warmup + 1 and --repeats >= 1")
    result = measure(args.steps, args.warmup, args.repeats, args.batch_size)
    result["setup"] = {
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "batch_size": args.batch_size,
        "policy": "mixed_bfloat16",
        "tensorflow": tf.__version__,
        "machine": platform.machine(),
        "cpus": len(os.sched_getaffinity(0)),
        "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }
    per_image = result["seconds_per_image"]
    print(f"{'variant':28} {'images/s':>9}")
    for name, seconds in per_image.items():
        print(f"{name:28} {1 / seconds:9.0f}")
    extra = per_image["batchnorm"] - per_image["baseline"]
    print(
        f"\nBatchNorm model: {per_image['batchnorm'] / per_image['baseline']:.2f}x the baseline's"
        f" time per image with Keras' layer, {per_image['batchnorm, fused'] / per_image['baseline']:.2f}x"
        f" with the fused one"
    )
    for name, cost in result["layer_cost"].items():
        print(
            f"  {name:12} {result['activations_per_image'][name]:7,} values/image"
            f"  {cost / extra:6.1%} of the extra time"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
