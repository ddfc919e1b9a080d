"""The road from the book's baseline to fast_short, one trick at a time (chapter "Putting it all together").

Run:  .venv/bin/python benchmarks/ablation.py [--steps 0 1 ...] [--fresh]

Each step adds one trick to the step before and trains once (seed 42, the fast_short budget of
10 epochs on the 45,000 training images) through the training engine (cnnbook.core.engine.run_epochs); the validation
split (5,000 images) measures it. The step "+ lookahead" is the stored fast_short model itself
(trained by `python -m cnnbook train --model fast_short`), and "+ TTA" evaluates that model with
test-time augmentation; nothing is trained twice. Results go to benchmarks/results/ablation.json
(accuracy, ECE, NLL, training minutes per step) and ablation_probabilities.npz (each step's
validation probabilities, float16, for the chapter's intervals), written atomically after every
step; a step already in the file is skipped unless --fresh. Test accuracy is not used here.
Run it alone: the minutes are wall-clock on a 2-core machine.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from cnnbook.airbench.augment import evaluate_with_tta
from cnnbook.airbench.hyp import ABLATION, ABLATION_START, FAST_RECIPES, FastRecipe
from cnnbook.airbench.train import AirbenchRecipe
from cnnbook.core import engine, store
from cnnbook.core.data import load_splits
from cnnbook.core.files import atomic_path, atomic_write_text, exclusive_lock
from cnnbook.core.metrics import accuracy, negative_log_likelihood, softmax
from cnnbook.lessons.calibration import expected_calibration_error

RESULTS = Path(__file__).resolve().parent / "results" / "ablation.json"
PROBABILITIES = RESULTS.with_name("ablation_probabilities.npz")
CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints" / "ablation"

FINAL = FAST_RECIPES["fast_short"]
START, STEPS = (
    ABLATION_START,
    ABLATION,
)  # the road, in cnnbook.airbench.hyp with the other numbers


def recipe_of(step: int) -> FastRecipe:
    """The recipe of a step: the start with every change up to and including this step."""
    recipe = START
    for _, change in STEPS[: step + 1]:
        recipe = replace(recipe, **(change or {}))
    return recipe


def measure(step: int, splits) -> tuple[dict, np.ndarray]:
    """Train (or load) the step's model; its validation scores, minutes and probabilities."""
    if STEPS[step][1] is not None:
        recipe, checkpoint = (
            recipe_of(step),
            CHECKPOINTS / f"step{step}" / engine.CHECKPOINT_NAME,
        )
        with exclusive_lock(
            checkpoint.with_name(engine.LOCK_NAME), f"ablation step {step}"
        ):
            model, progress = engine.run_epochs(
                AirbenchRecipe(recipe), splits, checkpoint, resume=True
            )
            checkpoint.unlink(missing_ok=True)
        seconds = progress["setup_seconds"] + sum(
            row["seconds"] for row in progress["history"]
        )
        config = asdict(recipe)
    else:
        model = store.load_trained("fast_short")
        entry = store.manifest_entry(store.models_dir(None), "fast_short")
        seconds, config = entry["train_seconds"], entry["config"]
    tta = FINAL.tta_level if step == len(STEPS) - 1 else 0
    started = time.perf_counter()
    probs = softmax(evaluate_with_tta(model, splits.x_val, tta))
    labels = splits.y_val
    row = {
        "step": step,
        "trick": STEPS[step][0],
        "val_accuracy": accuracy(probs, labels),
        "ece": expected_calibration_error(probs, labels),
        "nll": negative_log_likelihood(probs, labels),
        "train_minutes": seconds / 60,
        "eval_seconds": time.perf_counter() - started,
        "tta_level": tta,
        "config": config,
    }
    return row, probs


def _write(rows: dict[int, dict], probabilities: dict[int, np.ndarray]) -> None:
    """Both results files, atomically."""
    ordered = [rows[k] for k in sorted(rows)]
    atomic_write_text(
        RESULTS, json.dumps({"steps": ordered, "n_val": 5000}, indent=1) + "\n"
    )
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, **{f"step{k}": v.astype(np.float16) for k, v in probabilities.items()}
    )
    with atomic_path(PROBABILITIES) as tmp:
        tmp.write_bytes(buffer.getvalue())


def main() -> None:
    """Measure the chosen steps (default: all missing ones), saving after each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="*", default=list(range(len(STEPS))))
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="redo the chosen steps even if already measured",
    )
    args = parser.parse_args()
    rows: dict[int, dict] = {}
    probabilities: dict[int, np.ndarray] = {}
    if RESULTS.exists():  # --fresh redoes the chosen steps and keeps the others
        rows = {row["step"]: row for row in json.loads(RESULTS.read_text())["steps"]}
        with np.load(PROBABILITIES) as npz:
            probabilities = {int(k[4:]): npz[k].astype(np.float64) for k in npz.files}
    splits = load_splits()
    for step in args.steps:
        if step in rows and not args.fresh:
            continue
        rows[step], probabilities[step] = measure(step, splits)
        _write(rows, probabilities)
        print(
            f"step {step}: {rows[step]['trick']:50s} val acc {rows[step]['val_accuracy']:.4f} "
            f"ECE {rows[step]['ece']:.4f}  {rows[step]['train_minutes']:.1f} min",
            flush=True,
        )


if __name__ == "__main__":
    main()
