"""One run of the fast recipe, start to finish (chapter "Putting it all together").

Used by ``python -m cnnbook train --model fast`` (the run is stored in best_models/ like the
other models) and by benchmarks/ablation.py (the run is measured, not stored). Each epoch ends
with one checkpoint file (every model, optimizer and lookahead variable plus the progress), so
``--resume`` continues a killed run with the same batches: an epoch's order, translations and
flips depend only on (seed, epoch).
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from cnnbook.core.augment import epoch_images, random_flips, tta_logits
from cnnbook.core.backend import keras, tf
from cnnbook.core.data import Splits
from cnnbook.core.exceptions import CheckpointError
from cnnbook.core.fast import build_fast_model, set_whitening
from cnnbook.core.fast_train import FastRecipe, Trainer, lookahead_decay, total_steps, triangle
from cnnbook.core.files import atomic_path
from cnnbook.core.metrics import log_softmax
from cnnbook.core.models import build_model
from cnnbook.core.precision import cpu_description

WHITENING_IMAGES = 5000  # airbench fits the whitening on the first 5,000 training images


def build_for(recipe: FastRecipe, seed: int | None = None) -> keras.Model:
    """The untrained model a recipe trains: the book's baseline (ablation step 0) or airbench's."""
    if recipe.model == "baseline":
        return build_model("baseline", seed=seed)
    return build_fast_model(recipe.model, seed=seed, widths=recipe.widths or None,
                            batchnorm=recipe.batchnorm, whitening=recipe.whitening)


def logits_in_batches(view: keras.Model, batch_size: int = 1000) -> Callable[[np.ndarray], np.ndarray]:
    """A function images -> float64 logits, running the (logits) model in inference mode."""
    forward = tf.function(lambda x: tf.cast(view(x, training=False), "float32"),
                          autograph=False)

    def logits_of(images: np.ndarray) -> np.ndarray:
        parts = [forward(tf.constant(images[i:i + batch_size])).numpy()
                 for i in range(0, len(images), batch_size)]
        return np.concatenate(parts).astype(np.float64)
    return logits_of


def _variable_groups(trainer: Trainer) -> dict[str, list]:
    """Every variable a checkpoint holds: the model's, the lookahead's, each optimizer's."""
    groups = {"model": list(trainer.model.variables), "average": list(trainer.average)}
    groups |= {f"opt-{key}": list(opt.variables) for key, opt in trainer.optimizers.items()}
    return groups


def _save(path: Path, trainer: Trainer, state: dict[str, Any]) -> None:
    """Write every variable of the run and its progress to one file, atomically."""
    arrays = {f"{group}|{i}": np.asarray(v.numpy())
              for group, vs in _variable_groups(trainer).items() for i, v in enumerate(vs)}
    arrays["state"] = np.array(json.dumps(state))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def _restore(path: Path, trainer: Trainer, recipe: FastRecipe) -> dict[str, Any]:
    """Load a checkpoint into the trainer; refuse one made with another recipe."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    state = json.loads(str(arrays.pop("state")))
    if state.get("recipe") != json.loads(json.dumps(asdict(recipe))):
        raise CheckpointError(f"{path}: made with another recipe; rerun with --fresh")
    for group, vs in _variable_groups(trainer).items():
        for i, v in enumerate(vs):
            v.assign(arrays[f"{group}|{i}"])
    return state


def train_fast(recipe: FastRecipe, splits: Splits, checkpoint: Path | None = None,
               resume: bool = False, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train one model with the recipe; return the float32 model, its history and timings."""
    if len(splits.x_train) < recipe.batch_size:
        raise ValueError(f"the training split holds {len(splits.x_train)} images, fewer than one "
                         f"batch of {recipe.batch_size}; use more data or a smaller batch")
    policy = "mixed_bfloat16" if recipe.mixed_precision else "float32"
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(recipe.seed)
        model = build_for(recipe, seed=recipe.seed)
        started = time.perf_counter()
        if recipe.whitening and recipe.model != "baseline":
            set_whitening(model, splits.x_train[:WHITENING_IMAGES])
        setup_seconds = time.perf_counter() - started
        steps = total_steps(len(splits.x_train), recipe)
        trainer = Trainer(model, recipe, steps)
        state = {"recipe": asdict(recipe), "epochs_done": 0, "steps_done": 0, "average_on": False,
                 "history": [], "setup_seconds": setup_seconds}
        if checkpoint is not None and checkpoint.exists():
            if not resume:
                raise CheckpointError(f"{checkpoint}: an unfinished run exists; pass --resume "
                                      "to continue it or --fresh to discard it")
            state = _restore(checkpoint, trainer, recipe)
            log(f"resuming after epoch {state['epochs_done']}")
        _epochs(trainer, recipe, splits, state, steps, checkpoint, log)
        weights = model.get_weights()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    final = build_for(recipe)
    final.set_weights(weights)
    return {"model": final, "history": state["history"], "steps": steps,
            "train_seconds": state["setup_seconds"] + sum(r["seconds"] for r in state["history"])}


def _epochs(trainer: Trainer, recipe: FastRecipe, splits: Splits, state: dict[str, Any],
            steps: int, checkpoint: Path | None, log: Callable[[str], None]) -> None:
    """The epoch loop: augment, step through the batches, lookahead, validate, checkpoint."""
    schedule = triangle(steps) if recipe.optimizer == "sgd" else np.ones(steps + 1)
    flipped = random_flips(splits.x_train, recipe.seed) if recipe.flip else splits.x_train
    validate = logits_in_batches(trainer.view)
    per_epoch = len(splits.x_train) // recipe.batch_size
    while state["steps_done"] < steps:
        epoch, started = state["epochs_done"], time.perf_counter()
        images = epoch_images(flipped, epoch, recipe.seed, recipe.translate, recipe.flip)
        order = np.random.default_rng([recipe.seed, epoch, 1]).permutation(len(images))
        loss_sum = correct = seen = batches = 0.0
        for batch in range(per_epoch):
            if state["steps_done"] >= steps:
                break
            index = order[batch * recipe.batch_size:(batch + 1) * recipe.batch_size]
            step_fn = trainer.step_fn[epoch < recipe.whiten_bias_epochs and recipe.whitening]
            loss, right = step_fn(tf.constant(images[index]), tf.constant(splits.y_train[index]),
                                  tf.constant(schedule[state["steps_done"]], "float32"))
            state["steps_done"] += 1
            loss_sum, correct, seen = loss_sum + float(loss), correct + float(right), seen + len(index)
            batches += 1
            _maybe_lookahead(trainer, recipe, state, epoch, steps)
        if state["average_on"]:
            trainer.lookahead_fn(tf.constant(1.0))  # end of epoch: the weights become the average
        seconds = time.perf_counter() - started
        mean_loss = loss_sum / seen if recipe.optimizer == "sgd" else loss_sum / batches
        row = {"epoch": epoch + 1, "loss": mean_loss, "accuracy": correct / seen,
               **_validation(validate, splits), "learning_rate": float(schedule[state["steps_done"]]),
               "seconds": seconds}
        state["history"].append(row)
        state["epochs_done"] = epoch + 1
        if checkpoint is not None:
            _save(checkpoint, trainer, state)
        log(f"epoch {row['epoch']:3d}  loss {row['loss']:.4f}  acc {row['accuracy']:.4f}  "
            f"val_acc {row['val_accuracy']:.4f}  {seconds:.1f}s")


def _maybe_lookahead(trainer: Trainer, recipe: FastRecipe, state: dict[str, Any], epoch: int,
                     steps: int) -> None:
    """Every ema_every steps from epoch ema_start_epochs: start, or update, the average."""
    due = state["steps_done"] % recipe.ema_every == 0
    if not (recipe.lookahead and epoch >= recipe.ema_start_epochs and due):
        return
    if not state["average_on"]:
        trainer.reset_average()
        state["average_on"] = True
    else:
        decay = lookahead_decay(state["steps_done"], steps, recipe)
        trainer.lookahead_fn(tf.constant(decay, "float32"))


def _validation(validate: Callable[[np.ndarray], np.ndarray], splits: Splits) -> dict[str, float]:
    """Validation loss (plain cross-entropy) and accuracy of the current weights."""
    accuracy, loss = _scores(validate(splits.x_val), splits.y_val)
    return {"val_loss": loss, "val_accuracy": accuracy}


def evaluate_with_tta(model: keras.Model, images: np.ndarray, level: int) -> np.ndarray:
    """Logits of a trained model with test-time augmentation of the given level."""
    return plain_and_tta_logits(model, images, level)[1]


def plain_and_tta_logits(model: keras.Model, images: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    """The plain logits and those with TTA, in one pass over the views: the plain ones are the TTA's
    identity view, kept as it goes by, not computed a second time (evaluate, the stored predictions)."""
    from cnnbook.core.fast_train import logits_view

    forward, kept = logits_in_batches(logits_view(model)), {}

    def logits_of(views: np.ndarray) -> np.ndarray:
        out = forward(views)
        if views is images:
            kept["plain"] = out
        return out
    tta = tta_logits(logits_of, images, level)
    return kept["plain"], tta


def _scores(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Accuracy and cross-entropy of float64 logits."""
    log_probs = log_softmax(logits)
    return (float((logits.argmax(1) == labels).mean()),
            float(-log_probs[np.arange(len(labels)), labels].mean()))


def train_fast_model(name: str, splits: Splits, seed: int, out_dir: Path, checkpoint_root: Path,
                     resume: bool = False, fresh: bool = False,
                     log: Callable[[str], None] = print, mixed_precision: bool = True) -> dict[str, Any]:
    """Train ``fast`` or ``fast_short`` and store it (model, history, manifest entry with TTA), in
    mixed bfloat16 or float32 (cnnbook.core.precision chooses by the CPU)."""
    from datetime import datetime, timezone

    from cnnbook.core import store
    from cnnbook.core.fast_train import FAST_RECIPES
    from cnnbook.core.names import run_name

    run = run_name(name, seed)
    recipe = replace(FAST_RECIPES[name].with_seed(seed), mixed_precision=mixed_precision)
    checkpoint = Path(checkpoint_root) / run / "fast-checkpoint.npz"
    if fresh:
        checkpoint.unlink(missing_ok=True)
    result = train_fast(recipe, splits, checkpoint, resume, log)
    model = result["model"]
    started = time.perf_counter()
    logits = predictions(model, splits, recipe.tta_level)
    tta = recipe.tta_level
    val_plain, test_plain, val_tta, test_tta = (
        _scores(logits[f"{split}_tta{level}"], getattr(splits, f"y_{split}"))
        for level, split in ((0, "val"), (0, "test"), (tta, "val"), (tta, "test")))
    history = result["history"]
    entry = {"params": int(model.count_params()),
             "trainable_params": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
             "epochs_run": len(history), "best_epoch": len(history),
             "val_accuracy": val_plain[0], "val_loss": val_plain[1],
             "test_accuracy": test_plain[0], "test_loss": test_plain[1],
             "val_accuracy_tta": val_tta[0], "test_accuracy_tta": test_tta[0],
             "test_loss_tta": test_tta[1], "tta_level": recipe.tta_level,
             "train_seconds": result["train_seconds"],
             "evaluate_seconds": time.perf_counter() - started,
             "images_per_second": result["steps"] * recipe.batch_size / result["train_seconds"],
             "seed": seed, "config": asdict(recipe), "n_train": len(splits.x_train),
             "n_val": len(splits.x_val), "n_test": len(splits.x_test),
             "data_fingerprint": splits.fingerprint, "tensorflow_version": tf.__version__,
             "keras_version": keras.__version__,
             "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "cpu": cpu_description()}  # the machine the minutes and images/s were measured on
    document = store.history_document(run, len(history), history)
    entry = store.save_trained(store.writable_folder(out_dir), run, model, document, entry)
    store.save_predictions(out_dir, run, logits)
    checkpoint.unlink(missing_ok=True)
    return entry


def predictions(model: keras.Model, splits: Splits, level: int) -> dict[str, np.ndarray]:
    """Validation and test logits without and with TTA ("val_tta0", "test_tta2", ...): what the
    manifest's figures and the book's pages are computed from (stored beside the model)."""
    stored = {}
    for split in ("val", "test"):
        plain, tta = plain_and_tta_logits(model, getattr(splits, f"x_{split}"), level)
        stored |= {f"{split}_tta0": plain, f"{split}_tta{level}": tta}
    return stored


def store_predictions(run: str, splits: Splits, folder: Path | None = None) -> None:
    """Compute and store the predictions of an already stored fast run (see predictions)."""
    from cnnbook.core import store

    entry = store.manifest_entry(store.models_dir(folder), run)
    model = store.load_trained(run, folder)
    store.save_predictions(store.models_dir(folder), run, predictions(model, splits, entry["tta_level"]))
