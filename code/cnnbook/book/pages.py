"""What the pages share (every chapter): data and trained models loaded once per kernel, histories, glue."""

from __future__ import annotations

import functools
import io
import math
from typing import Any, Mapping, Sequence

import numpy as np
import PIL.Image
from matplotlib.figure import Figure

from cnnbook.book.figures import COLUMN_PX, MIN_TEXT_PX, SAVE_DPI, displayed_text_px
from cnnbook.book.words import LANGUAGES, glue_key, translate_figure
from cnnbook.core import store
from cnnbook.core.backend import keras
from cnnbook.core.data import Splits, load_splits
from cnnbook.airbench.augment import evaluate_with_tta
from cnnbook.core.files import REPOSITORY_ROOT
from cnnbook.core.metrics import model_logits, softmax
from cnnbook.core.names import MODEL_NAMES
from cnnbook.core.outputs import stored_outputs
from cnnbook.core.store import history_column
from cnnbook.lessons.intervals import mean_and_sd
from cnnbook.lessons.uncertainty import DenseHead


@functools.lru_cache(maxsize=1)
def book_data() -> Splits:
    """The train / validation / test splits (from $CIFAR10_DIR or keras), loaded once per kernel."""
    return load_splits()


@functools.lru_cache(maxsize=None)
def trained_model(name: str) -> keras.Model:
    """A trained model (a run: "dropout", "dropout.seed43") from best_models/, verified, loaded once per kernel."""
    return store.load_trained(name)


def trained_models() -> dict[str, keras.Model]:
    """All three trained models by name."""
    return {name: trained_model(name) for name in MODEL_NAMES}


def manifest() -> dict[str, dict[str, Any]]:
    """The manifest entries of the primary run of each model, the runs every figure uses."""
    entries = store.read_manifest(store.models_dir())
    return {name: entries[name] for name in MODEL_NAMES if name in entries}


def manifest_runs() -> dict[str, dict[str, Any]]:
    """The manifest entries of every stored run, the seeds included (the across-seed spreads)."""
    return store.read_manifest(store.models_dir())


def histories() -> dict[str, dict[str, Any]]:
    """The training history of every model, checksum-verified."""
    return {name: store.read_history(name) for name in MODEL_NAMES}


@functools.lru_cache(maxsize=None)
def logits(name: str, split: str, tta: int = 0) -> np.ndarray:
    """Pre-softmax outputs of a trained run on the 'val' or 'test' split, with test-time
    augmentation of level ``tta`` (cnnbook.airbench.augment). Every run stores its plain logits beside
    the model (checksummed in the manifest, the fast runs their TTA ones too): the same numbers on
    every CPU; anything else comes from the store of outputs (cnnbook.core.outputs)."""
    images = {"val": book_data().x_val, "test": book_data().x_test}[split]
    stored = store.read_predictions(name)
    if stored is not None and f"{split}_tta{tta}" in stored:
        _check_stored(name, split)
        return stored[f"{split}_tta{tta}"]
    if not tta:
        return stored_outputs(
            name, "logits", images, lambda x: model_logits(trained_model(name), x)
        )
    return stored_outputs(
        name,
        f"logits-tta{tta}",
        images,
        lambda x: evaluate_with_tta(trained_model(name), x, tta),
        modules=("cnnbook.airbench.augment",),
    )


@functools.lru_cache(maxsize=None)
def _check_stored(name: str, split: str, n: int = 200) -> None:
    """Raise unless the model reproduces its stored (plain) logits on the first n images of the split
    (once per kernel and split, whatever TTA level is asked for)."""
    images = {"val": book_data().x_val, "test": book_data().x_test}[split]
    plain = store.read_predictions(name)[f"{split}_tta0"]
    fresh = model_logits(trained_model(name), images[:n])
    if len(plain) != len(images) or not np.allclose(
        plain[:n], fresh, atol=0.02, rtol=0.01
    ):
        raise ValueError(
            f"{name}.predictions.npz does not match the model {name!r}; recompute it "
            "with `python -m cnnbook store-logits`"
        )


@functools.lru_cache(maxsize=None)
def _probe(name: str, layer: str) -> keras.Model:
    """A model from the input of a trained model to one of its layers, built once per kernel."""
    return keras.Model(
        trained_model(name).inputs, trained_model(name).get_layer(layer).output
    )


def outputs_on(name: str, images: np.ndarray, layer: str) -> np.ndarray:
    """Outputs of one layer of a trained model on any images (computed once: cnnbook.core.outputs)."""
    return stored_outputs(
        name,
        f"layer:{layer}",
        images,
        lambda x: np.asarray(_probe(name, layer).predict(x, batch_size=500, verbose=0)),
    )


@functools.lru_cache(maxsize=None)
def features(name: str, split: str, layer: str) -> np.ndarray:
    """Outputs of one layer of a trained model on the 'val' or 'test' split, computed once per kernel."""
    return outputs_on(
        name, {"val": book_data().x_val, "test": book_data().x_test}[split], layer
    )


def dense_head(name: str) -> DenseHead:
    """The Dropout head of a trained model (Dropout -> Dense -> ReLU -> Dropout -> logits) as NumPy arrays."""
    model = trained_model(name)
    (kernel, bias), (logits_kernel, logits_bias) = (
        model.get_layer(n).get_weights() for n in ("dense", "logits")
    )
    return DenseHead(
        *(
            np.asarray(w, np.float32)
            for w in (kernel, bias, logits_kernel, logits_bias)
        ),
        rate=model.get_layer("dense_dropout").rate,
    )


def probabilities(name: str, split: str, tta: int = 0) -> np.ndarray:
    """Softmax probabilities of a trained model on the 'val' or 'test' split (TTA level tta)."""
    return softmax(logits(name, split, tta))


ABLATION_RESULTS = REPOSITORY_ROOT / "benchmarks" / "results" / "ablation.json"


def ablation() -> tuple[list[dict[str, Any]], dict[int, np.ndarray]]:
    """The ablation's steps (benchmarks/ablation.py) and each step's validation probabilities."""
    import json

    steps = json.loads(ABLATION_RESULTS.read_text(encoding="utf-8"))["steps"]
    with np.load(ABLATION_RESULTS.with_name("ablation_probabilities.npz")) as npz:
        probs = {int(key[4:]): npz[key].astype(np.float64) for key in npz.files}
    return steps, probs


def epochs_to_reach(history: Mapping[str, Any], val_accuracy: float) -> int | None:
    """The first epoch whose validation accuracy reaches the level, or None (speed of convergence)."""
    reached = np.flatnonzero(history_column(history, "val_accuracy") >= val_accuracy)
    return int(reached[0]) + 1 if reached.size else None


def generalization_gap(history: Mapping[str, Any]) -> float:
    """Train minus validation accuracy at the best epoch (overfitting, chapter "Architectures")."""
    row = history["epochs"][history["best_epoch"] - 1]
    return float(row["accuracy"] - row["val_accuracy"])


def correct_examples_per_class(
    labels: np.ndarray, predictions: Mapping[str, np.ndarray], classes: list[int]
) -> np.ndarray:
    """For each class, the first image of that class that every model classifies correctly."""
    all_right = np.all([p == labels for p in predictions.values()], axis=0)
    picks = [np.flatnonzero(all_right & (labels == c)) for c in classes]
    missing = [c for c, p in zip(classes, picks) if p.size == 0]
    if missing:
        raise ValueError(
            f"no image of classes {missing} is classified correctly by every model"
        )
    return np.array([p[0] for p in picks])


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def roundoff_bound(value: float, floor: int = -5) -> str:
    """A float32 round-off difference as the power of ten it stays below, with 3x to spare:
    1.2e-05 -> '10⁻⁴'; never below 10^floor.

    Its digits depend on the CPU's instruction set and the library's code path; its order of
    magnitude does not, so the page shows only that (chapters Convolution and Regularization). The
    floor is there because one path may add in the same order as the reference (a difference of
    exactly 0) where another leaves 1e-6: both read "below 10⁻⁵"."""
    value = abs(float(value))
    exponent = max(math.ceil(math.log10(3 * value)), floor) if value > 0 else floor
    return "10" + str(exponent).translate(SUPERSCRIPT)


def significant(value: float, digits: int = 2) -> str:
    """A number rounded to its leading digits, with thousands separators: 81,234.5 -> '81,000'."""
    if value == 0:
        return "0"
    places = digits - 1 - math.floor(math.log10(abs(value)))
    rounded = round(float(value), places)
    return f"{rounded:,.{max(places, 0)}f}"


def percent(value: float, digits: int = 1) -> str:
    """0.7712 -> '77.1%'."""
    return f"{100 * value:.{digits}f}%"


def mean_sd_text(values: Sequence[float], scale: float = 100, digits: int = 1) -> str:
    """Values over seeds as 'mean ± sd' (sample sd), both multiplied by scale: '77.1 ± 0.4'."""
    mean, sd = mean_and_sd(values)
    return f"{mean * scale:.{digits}f} ± {sd * scale:.{digits}f}"


def tried_first_note(tried: Sequence[Any], closing: str):
    """The note "What we tried first": each setting tried, its outcome and what was kept instead."""
    from IPython.display import Markdown

    lines = [
        f"- **{t.setting}**: {t.outcome}. *Kept instead:* {t.decision}." for t in tried
    ]
    return Markdown(
        ":::{admonition} What we tried first\n:class: note\n"
        + "\n".join(lines)
        + f"\n\n{closing}\n:::"
    )


def format_report(report: Mapping[str, float]) -> dict[str, str]:
    """A calibration report as text: rates as percentages, NLL and Brier with 3 decimals."""
    rates = {"accuracy": 1, "mean_confidence": 1, "ece": 2, "mce": 1}
    return {
        key: percent(value, rates[key]) if key in rates else f"{value:.3f}"
        for key, value in report.items()
    }


GLUED: dict[
    str, str
] = {}  # every value glued in this kernel, for glued_table (the Colab notebooks)


def glue_values(values: Mapping[str, Any]) -> None:
    """Glue each value (already formatted as text) for the prose, without displaying it."""
    from myst_nb import glue

    for key, value in values.items():
        text = value if isinstance(value, str) else str(value)
        GLUED[key] = text
        glue(key, text, display=False)


def glued_table():
    """The values glued so far, as a table: what a notebook's ⟨name⟩ stands for (every chapter's last cell)."""
    return markdown_table(
        ["name", "value"],
        [[f"⟨{key}⟩", text.replace("|", "\\|")] for key, text in GLUED.items()],
    )


def figure_png(figure: Figure, dpi: int = SAVE_DPI) -> bytes:
    """A Figure rendered to PNG bytes (tight bounding box), reduced to a 256-colour palette."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    image = (
        PIL.Image.open(buffer)
        .convert("RGB")
        .quantize(256, method=PIL.Image.Quantize.MEDIANCUT)
    )
    compact = io.BytesIO()
    image.save(compact, format="png", optimize=True)
    return compact.getvalue()


def check_legible(key: str, figure: Figure, png: bytes) -> None:
    """Raise unless the figure's smallest text is >= MIN_TEXT_PX once shown in the page column."""
    width = PIL.Image.open(io.BytesIO(png)).width
    smallest = displayed_text_px(figure, width)
    if smallest < MIN_TEXT_PX:
        raise ValueError(
            f"figure {key!r}: its smallest text is {smallest:.1f} px in the {COLUMN_PX}-px "
            f"column (PNG {width} px wide); make it narrower or its text larger "
            f"(>= {MIN_TEXT_PX:g} px)"
        )


def glue_figure(key: str, figure: Figure) -> None:
    """Glue a figure as a PNG for a numbered {glue:figure}, after checking its text is legible; it
    also shows as the cell's output, which the book removes and a notebook reader (Colab) sees. Each
    translated edition gets the same figure with its words from cnnbook.book.words (not displayed)."""
    from IPython.display import Image
    from myst_nb import glue

    png = figure_png(figure)
    check_legible(key, figure, png)
    glue(key, Image(data=png, format="png"), display=True)
    for (
        language
    ) in LANGUAGES:  # the same figure with its words translated, for that edition
        with translate_figure(figure, language):
            png = figure_png(figure)
            check_legible(glue_key(key, language), figure, png)
        glue(glue_key(key, language), Image(data=png, format="png"), display=False)


def markdown_table(header: list[str], rows: list[list[Any]]):
    """A Markdown table that myst-nb renders as a real table in the page."""
    from IPython.display import Markdown

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return Markdown("\n".join(lines))
