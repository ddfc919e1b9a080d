"""Command line: `python -m cnnbook train | info | evaluate | store-logits | clear-cache` (errors: one line,
exit code 1).

Only what a command needs is imported when it runs: `--help` and `info` never import TensorFlow.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
from typing import Callable

from cnnbook.core.data import NUM_CLASSES, VAL_SIZE
from cnnbook.core.exceptions import CnnbookError
from cnnbook.core.names import ALL_MODELS, FAST_MODELS, run_name
from cnnbook.core.precision import PRECISIONS, choose_precision
from cnnbook.core.recipe import TrainConfig
from cnnbook.core.store import models_dir, writable_folder

EVALUATE_TOLERANCE = 0.001  # 0.1 percentage points


def _model_names(choice: str) -> list[str]:
    """Expand 'all' into every model (the same five for train, evaluate and store-logits)."""
    return list(ALL_MODELS) if choice == "all" else [choice]


def _whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= minimum, else a one-line usage error naming the value."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"{value} is too small: use a whole number >= {minimum}"
            )
        return value

    return parse


def _validation_size(text: str) -> int:
    """An argparse type for --val-size: a positive multiple of the number of classes."""
    value = _whole_number(NUM_CLASSES)(text)
    if value % NUM_CLASSES:
        raise argparse.ArgumentTypeError(
            f"{value} is not a multiple of the {NUM_CLASSES} classes "
            "(the split takes as many images from every class)"
        )
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that reads data or models."""
    parser.add_argument(
        "--models-dir",
        default=None,
        help="folder with the trained models and manifest.json (default: best_models/)",
    )


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    """The --data-dir option."""
    parser.add_argument(
        "--data-dir",
        default=None,
        help="cifar-10-batches-py folder (default: $CIFAR10_DIR, else keras download)",
    )


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 1, like every other error."""

    def error(self, message: str) -> None:  # noqa: D102
        print(f"error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(1)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its three sub-commands."""
    parser = _OneLineParser(prog="python -m cnnbook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train",
        help="train models and write best_models/",
        description="Train with the shared recipe; checkpoints every epoch.",
    )
    train.add_argument(
        "--model",
        choices=[*ALL_MODELS, "all"],
        required=True,
        help="all = every model (baseline, dropout, batchnorm, fast, fast_short, in this order); "
        "fast and fast_short use airbench's recipe",
    )
    restart = train.add_mutually_exclusive_group()
    restart.add_argument(
        "--resume", action="store_true", help="continue from the last checkpoint"
    )
    restart.add_argument(
        "--fresh",
        action="store_true",
        help="discard an unfinished run's checkpoint first",
    )
    train.add_argument(
        "--epochs",
        type=_whole_number(1),
        default=None,
        help=f"maximum number of epochs of the shared recipe (default {TrainConfig.epochs}); "
        "fast and fast_short train airbench's fixed schedule and refuse it",
    )
    precision = train.add_mutually_exclusive_group()
    precision.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="auto (default): mixed bfloat16 where the CPU has bfloat16 instructions, "
        "else float32; the choice and its reason are printed",
    )
    precision.add_argument(
        "--float32",
        action="store_const",
        const="float32",
        dest="precision",
        help="the same as --precision float32",
    )
    train.add_argument(
        "--seed",
        type=_whole_number(0),
        default=TrainConfig.seed,
        help="seed of the weight initialisation and the shuffle order (the split is fixed)",
    )
    train.add_argument(
        "--checkpoint-dir", default=None, help="where per-epoch checkpoints go"
    )
    train.add_argument(
        "--val-size",
        type=_validation_size,
        default=VAL_SIZE,
        help="validation images carved from the training set (multiple of 10)",
    )
    _add_data_dir(train)
    _add_common(train)
    info = commands.add_parser(
        "info", help="print the manifest of the trained models as a table"
    )
    _add_common(info)
    evaluate = commands.add_parser(
        "evaluate", help="re-evaluate saved models on the test set"
    )
    evaluate.add_argument("--model", choices=[*ALL_MODELS, "all"], default="all")
    _add_data_dir(evaluate)
    _add_common(evaluate)
    logits = commands.add_parser(
        "store-logits",
        help="recompute the stored logits beside every stored run",
        description="Recompute and store <run>.predictions.npz (validation and test "
        "logits, with TTA for the fast models, checksummed in the manifest) "
        "for every stored run; training stores them too.",
    )
    _add_data_dir(logits)
    _add_common(logits)
    commands.add_parser(
        "clear-cache",
        help="delete the stored model outputs the book reuses (.cache/outputs)",
        description="Delete every stored model output (cnnbook.core.outputs); "
        "the next build computes them again.",
    )
    return parser


def log(message: str) -> None:
    """Print a progress line at once, also when stdout is a file (a training log)."""
    print(message, flush=True)


def recipe_for(name: str, seed: int, mixed_precision: bool, epochs: int | None = None):
    """The training recipe of a model: airbench's for fast and fast_short (cnnbook.airbench.hyp), the
    shared one (cnnbook.core.recipe) for the three compared models."""
    if name in FAST_MODELS:
        from dataclasses import replace

        from cnnbook.airbench.hyp import FAST_RECIPES
        from cnnbook.airbench.train import AirbenchRecipe

        if epochs is not None:
            raise CnnbookError(
                f"--epochs does not apply to {name}: it trains airbench's fixed schedule "
                "(cnnbook.airbench.hyp.FAST_RECIPES); leave --epochs out"
            )
        return AirbenchRecipe(
            replace(FAST_RECIPES[name], seed=seed, mixed_precision=mixed_precision)
        )
    from cnnbook.core.train import SharedRecipe

    config = TrainConfig(
        epochs=epochs or TrainConfig.epochs, seed=seed, mixed_precision=mixed_precision
    )
    return SharedRecipe(name, config, verbose=2 if not sys.stdout.isatty() else "auto")


def run_train(args: argparse.Namespace) -> int:
    """Train the chosen models one after the other, every one through the same engine."""
    from cnnbook.core.data import load_splits
    from cnnbook.core.engine import DEFAULT_CHECKPOINT_DIR, train

    names = _model_names(args.model)
    precision = choose_precision(args.precision)
    recipes = [
        recipe_for(name, args.seed, precision.mixed, args.epochs) for name in names
    ]  # refused before data
    log(f"precision: {precision.policy} ({precision.reason})")
    out_dir = writable_folder(args.models_dir)  # before the data and hours of training
    splits = load_splits(args.data_dir, val_size=args.val_size)
    for recipe in recipes:
        run = run_name(recipe.model, args.seed)
        log(
            f"[{run}] training on {len(splits.x_train)} images, validating on {len(splits.x_val)}"
        )
        entry = train(
            recipe,
            splits,
            out_dir,
            Path(args.checkpoint_dir or DEFAULT_CHECKPOINT_DIR),
            resume=args.resume,
            fresh=args.fresh,
            log=log,
        )
        tta = (
            f", with TTA {entry['test_accuracy_tta']:.4f}"
            if "test_accuracy_tta" in entry
            else ""
        )
        log(
            f"[{run}] test accuracy {entry['test_accuracy']:.4f}{tta} after {entry['epochs_run']} epochs "
            f"({entry['train_seconds'] / 60:.1f} min)"
        )
    return 0


def format_table(rows: list[list[str]], header: list[str]) -> str:
    """A plain fixed-width text table."""
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    lines = [
        "  ".join(str(x).rjust(w) for x, w in zip(line, widths))
        for line in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_info(args: argparse.Namespace) -> int:
    """Print every stored run as a table, then each model's mean ± sd across its seeds."""
    from cnnbook.core.names import model_of
    from cnnbook.core.store import read_manifest

    folder = models_dir(args.models_dir)
    manifest = read_manifest(folder)
    if not manifest:
        raise CnnbookError(
            f"{folder}: no trained models (manifest.json missing); run `make train`"
        )
    header = [
        "run",
        "seed",
        "params",
        "epochs",
        "best",
        "val acc",
        "test acc",
        "TTA acc",
        "test loss",
        "minutes",
        "img/s",
    ]
    rows = [
        [
            run,
            e.get("seed", "?"),
            f"{e['params']:,}",
            e["epochs_run"],
            e["best_epoch"],
            f"{e['val_accuracy']:.4f}",
            f"{e['test_accuracy']:.4f}",
            _tta(e),
            f"{e['test_loss']:.4f}",
            f"{e['train_seconds'] / 60:.1f}",
            f"{e['images_per_second']:.0f}",
        ]
        for run, e in manifest.items()
    ]
    print(format_table(rows, header))
    summary = []
    for model in dict.fromkeys(model_of(run) for run in manifest):
        entries = [e for run, e in manifest.items() if model_of(run) == model]
        summary.append(
            [
                model,
                len(entries),
                *(
                    _mean_sd([e[key] for e in entries])
                    for key in ("val_accuracy", "test_accuracy", "test_loss")
                ),
                _mean_sd([e["test_accuracy_tta"] for e in entries])
                if all("test_accuracy_tta" in e for e in entries)
                else "-",
            ]
        )
    print("\nacross seeds (mean ± sample sd)")
    print(
        format_table(
            summary, ["model", "runs", "val acc", "test acc", "test loss", "TTA acc"]
        )
    )
    for line in _reference_lines(manifest):
        print(line)
    first = next(iter(manifest.values()))
    print(
        f"\nTensorFlow {first.get('tensorflow_version', '?')}, Keras {first.get('keras_version', '?')}, "
        f"data fingerprint {first['data_fingerprint'][:16]}…"
    )
    return 0


def _reference_lines(manifest: dict) -> list[str]:
    """The original airbench94 on the same data beside the stored fast runs (issue 21), or nothing."""
    from cnnbook.airbench.reference import (
        REFERENCE_RESULTS,
        SAME_DATA,
        read_reference,
        same_data_runs,
        tta_accuracies,
    )
    from cnnbook.core.files import REPOSITORY_ROOT
    from cnnbook.lessons.intervals import seed_difference, verdict

    reference = read_reference()
    if reference is None:
        return []
    theirs = tta_accuracies(reference)
    ours = [
        e["test_accuracy_tta"] for e in same_data_runs(manifest, reference).values()
    ]
    if not ours:
        return []
    setting = reference["settings"][SAME_DATA]
    lines = [
        f"\nthe original airbench94 on the same {setting['train_images']:,} images and "
        f"{setting['epochs']:g} epochs ({REFERENCE_RESULTS.relative_to(REPOSITORY_ROOT)})",
        format_table(
            [
                ["airbench94 (PyTorch)", len(theirs), _mean_sd(theirs)],
                ["fast (this port)", len(ours), _mean_sd(ours)],
            ],
            ["", "runs", "TTA acc"],
        ),
    ]
    if len(ours) > 1 and len(theirs) > 1:
        difference = seed_difference(ours, theirs)
        lines.append(
            f"fast - airbench94: {difference.estimate * 100:+.2f} points, 95% interval "
            f"[{difference.low * 100:+.2f}, {difference.high * 100:+.2f}] "
            f"(Welch, {len(ours)} and {len(theirs)} runs): {verdict(difference)}"
        )
    return lines


def _tta(entry: dict) -> str:
    """The test accuracy with test-time augmentation, or '-' for a model evaluated without it."""
    return f"{entry['test_accuracy_tta']:.4f}" if "test_accuracy_tta" in entry else "-"


def _mean_sd(values: list[float]) -> str:
    """'0.7712 ± 0.0031' over runs ('± n/a' for a single run)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return f"{mean:.4f} ± n/a"
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{mean:.4f} ± {sd:.4f}"


def run_evaluate(args: argparse.Namespace) -> int:
    """Re-evaluate every stored run of the chosen models on the test set; compare with the manifest."""
    from cnnbook.core.data import data_fingerprint, load_cifar10
    from cnnbook.core.metrics import (
        accuracy,
        negative_log_likelihood,
        predict_probabilities,
        softmax,
    )
    from cnnbook.core.store import load_trained, read_manifest, runs

    folder = models_dir(args.models_dir)
    manifest = read_manifest(folder)
    data = load_cifar10(args.data_dir)
    names = _model_names(args.model)
    chosen = [run for name in names for run in runs(folder, name)]
    missing = [name for name in names if not runs(folder, name)]
    if missing and args.model != "all" or not chosen:
        raise CnnbookError(
            f"{folder}: no trained model {(missing or [args.model])[0]!r} in the manifest; "
            "run `make train`"
        )
    rows, all_match = [], True
    for run in chosen:
        model, entry = load_trained(run, folder), manifest[run]
        if (
            "test_accuracy_tta" in entry
        ):  # the fast models: also with test-time augmentation
            from cnnbook.airbench.augment import plain_and_tta_logits

            plain, tta = plain_and_tta_logits(model, data.x_test, entry["tta_level"])
            probs = softmax(plain)
        else:
            probs = predict_probabilities(model, data.x_test)
        measured, loss = (
            accuracy(probs, data.y_test),
            negative_log_likelihood(probs, data.y_test),
        )
        checks = [(entry["test_accuracy"], measured)]
        if "test_accuracy_tta" in entry:
            checks.append(
                (
                    entry["test_accuracy_tta"],
                    float((tta.argmax(1) == data.y_test).mean()),
                )
            )
        match = all(abs(m - e) <= EVALUATE_TOLERANCE for e, m in checks)
        all_match &= match
        tta_cells = (
            [f"{checks[1][0]:.4f}", f"{checks[1][1]:.4f}"]
            if len(checks) > 1
            else ["-", "-"]
        )
        rows.append(
            [
                run,
                f"{checks[0][0]:.4f}",
                f"{measured:.4f}",
                *tta_cells,
                f"{loss:.4f}",
                "yes" if match else "NO",
            ]
        )
    print(
        format_table(
            rows,
            [
                "run",
                "manifest acc",
                "measured acc",
                "manifest TTA",
                "measured TTA",
                "loss",
                "matches",
            ],
        )
    )
    if data_fingerprint(data) != manifest[chosen[0]]["data_fingerprint"]:
        print(
            "note: this copy of CIFAR-10 differs from the one the models were trained on"
        )
    return 0 if all_match else 1


def run_store_logits(args: argparse.Namespace) -> int:
    """Recompute and store the logits of every stored run (plain, and with TTA for the fast models),
    each on the split it was trained with (its manifest's n_val)."""
    from cnnbook.core.data import load_splits
    from cnnbook.core.engine import store_logits
    from cnnbook.core.names import model_of
    from cnnbook.core.store import read_manifest

    folder = models_dir(args.models_dir)
    manifest = read_manifest(folder)
    if not manifest:
        raise CnnbookError(
            f"{folder}: no trained model (manifest.json missing); run `make train`"
        )
    splits = {}
    for run, entry in manifest.items():
        n_val = entry["n_val"]
        if n_val not in splits:
            splits[n_val] = load_splits(args.data_dir, val_size=n_val)
        store_logits(
            recipe_for(model_of(run), entry["seed"], mixed_precision=False),
            splits[n_val],
            folder,
        )
        log(f"stored {run}.predictions.npz")
    return 0


def run_clear_cache(args: argparse.Namespace) -> int:
    """Delete the store of model outputs; say where it was and how many files it held."""
    from cnnbook.core.outputs import clear_outputs

    folder, count = clear_outputs()
    print(f"removed {count} stored outputs from {folder}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    handlers = {
        "train": run_train,
        "info": run_info,
        "evaluate": run_evaluate,
        "clear-cache": run_clear_cache,
        "store-logits": run_store_logits,
    }
    try:
        return handlers[args.command](args)
    except BrokenPipeError:  # the reader went away (`info | head`): nothing left to say
        sys.stderr.close()
        return 0
    except (CnnbookError, ValueError, OSError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted: rerun with --resume to continue from the last checkpoint",
            file=sys.stderr,
        )
        return 1
    except (
        Exception
    ) as exc:  # a bug or a case not foreseen: still one line, never a traceback
        print(
            f"error: unexpected {type(exc).__name__}: {_one_line(exc)} (please report it)",
            file=sys.stderr,
        )
        return 1


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__
