"""The live explorer's files (page "Explore the networks"): the book's models and test images for
TensorFlow.js, and the Keras answers the browser's must match.

Why not the tensorflowjs converter: its Keras path reads Keras 2 (tf.keras HDF5/SavedModel)
models, not Keras 3 ``.keras`` archives, and installing it pins an older TensorFlow. The book's
models are plain chains of a dozen layer kinds, so each becomes a list of operations (``model.json``:
``layers``) and its weights the TF.js weights format (``weightsManifest`` and one little-endian
float32 ``.bin``), which ``tf.io.loadWeights`` reads; book/_static/explorer/explorer.js runs the
list with TF.js operations and takes Grad-CAM's gradients with ``tf.grad``. BatchNorm and
Normalization are exported as the per-channel affine map they compute at inference (scale, shift);
Dropout is the identity there and is left out.

``python -m cnnbook.book.explorer OUT [--reference REF]`` writes, for the build (tools: Makefile
``explorer``): ``OUT/images.bin`` (N x 32 x 32 x 3 uint8) and ``OUT/images.json`` (labels, which
images are the Visualization chapter's most confident mistakes, the page's words), and per
model ``OUT/<model>.json`` and ``OUT/<model>.weights.bin``; with ``--reference``, the Keras float32
probabilities, activation maps and Grad-CAM maps (cnnbook.lessons.gradcam) that `make check-site`
compares with the browser's (never published).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from cnnbook.book.pages import book_data, logits, trained_model
from cnnbook.book.words import LANGUAGES, translate
from cnnbook.core.backend import keras
from cnnbook.core.exceptions import CnnbookError
from cnnbook.core.files import atomic_path, atomic_write_json
from cnnbook.core.metrics import softmax
from cnnbook.core.names import LOGITS_LAYER, MODEL_NAMES
from cnnbook.lessons.calibration import fit_temperature
from cnnbook.lessons.error_analysis import most_confident_mistakes
from cnnbook.lessons.gradcam import grad_cam, last_conv_layer_name

EXPLORER_MODELS: tuple[str, ...] = MODEL_NAMES + ("fast",)  # the models the page offers
PER_CLASS = 10  # test images per class the page offers
N_MISTAKES = 10  # the Visualization chapter's most confident mistakes (fig-mistakes), all offered
N_ACTIVATION_CHECK = (
    50  # images whose every activation map the check compares (all: probabilities)
)
FORMAT = "cnnbook-explorer/1"
_ACTIVATIONS = {"relu": "relu", "gelu": "gelu_tanh", "linear": "linear"}


# Every word the page's script writes ({} is filled in by the script); the directive
# (book/_ext/explorer.py) hands them to the page in its language through cnnbook.book.words.
UI_WORDS: tuple[str, ...] = (
    "Model",
    "Choose a model to load it in your browser.",
    "Loading TensorFlow.js and the {} model…",
    "{} is ready ({} backend). Pick an image.",
    "Computed in {} ms.",
    "The explorer could not start: {}",
    "Test images",
    "marked: the Visualization chapter's most confident mistakes",
    "true class: {}",
    "Draw or upload",
    "Clear",
    "Use the drawing",
    "Upload an image",
    "Colour",
    "What the network gets (32 × 32)",
    "Probabilities",
    "without temperature",
    "with temperature T = {}",
    "Click a class for its Grad-CAM.",
    "Grad-CAM for the class {}",
    "predicted",
    "Activation maps",
    "Layer",
    "the {} channels with the largest mean activation of {}",
    "channel {}",
)


class ExportError(ValueError):
    """A model the explorer cannot run (a layer kind it does not know)."""


def _activation(layer: keras.layers.Layer) -> str:
    """The explorer's name of a layer's activation function ('relu', 'gelu_tanh', 'linear', 'softmax')."""
    function = getattr(layer, "activation", None)
    name = getattr(function, "__name__", str(function))
    if name == "softmax":
        return "softmax"
    if name == "gelu" and function.__module__.startswith("cnnbook"):
        return "gelu_tanh"  # cnnbook.core.layers.gelu: the tanh approximation
    if name in ("relu", "linear"):
        return _ACTIVATIONS[name]
    raise ExportError(
        f"layer {layer.name!r}: activation {name!r} is not one the explorer runs "
        f"({', '.join(_ACTIVATIONS)}, softmax)"
    )


def _affine(
    layer: keras.layers.Layer, weights: dict[str, np.ndarray]
) -> dict[str, Any]:
    """A BatchNormalization (inference) or Normalization layer as x * scale + shift per channel."""
    if isinstance(layer, keras.layers.BatchNormalization):
        mean = np.asarray(layer.moving_mean, np.float64)
        variance = np.asarray(layer.moving_variance, np.float64)
        gamma = np.asarray(layer.gamma, np.float64) if layer.scale else 1.0
        beta = np.asarray(layer.beta, np.float64) if layer.center else 0.0
        scale = gamma / np.sqrt(variance + layer.epsilon)
        shift = beta - mean * scale
    else:  # keras.layers.Normalization: (x - mean) / max(sqrt(variance), epsilon)
        mean = np.asarray(layer.mean, np.float64).reshape(-1)
        sd = np.maximum(
            np.sqrt(np.asarray(layer.variance, np.float64).reshape(-1)),
            keras.backend.epsilon(),
        )
        scale, shift = 1.0 / sd, -mean / sd
    channels = layer.output.shape[-1]
    weights[f"{layer.name}/scale"] = np.broadcast_to(scale, (channels,))
    weights[f"{layer.name}/shift"] = np.broadcast_to(shift, (channels,))
    return {
        "op": "affine",
        "scale": f"{layer.name}/scale",
        "shift": f"{layer.name}/shift",
    }


def _kernel_and_bias(
    layer: keras.layers.Layer, weights: dict[str, np.ndarray]
) -> dict[str, Any]:
    """The weight names of a Conv2D or Dense layer (its bias None when it has none)."""
    weights[f"{layer.name}/kernel"] = np.asarray(layer.kernel)
    bias = None
    if layer.use_bias:
        bias = f"{layer.name}/bias"
        weights[bias] = np.asarray(layer.bias)
    return {
        "kernel": f"{layer.name}/kernel",
        "bias": bias,
        "activation": _activation(layer),
    }


def _operation(
    layer: keras.layers.Layer, weights: dict[str, np.ndarray]
) -> dict[str, Any] | None:
    """One layer as the explorer's operation (None for the layers inference skips)."""
    L = keras.layers
    if isinstance(layer, (L.InputLayer, L.Dropout)):
        return None
    if isinstance(layer, L.Rescaling):
        return {
            "op": "scale",
            "scale": float(layer.scale),
            "offset": float(layer.offset),
        }
    if isinstance(layer, (L.BatchNormalization, L.Normalization)):
        return _affine(layer, weights)
    if isinstance(layer, L.Conv2D):
        if tuple(layer.dilation_rate) != (1, 1) or layer.groups != 1:
            raise ExportError(f"layer {layer.name!r}: dilated or grouped convolution")
        return {
            "op": "conv2d",
            "strides": list(layer.strides),
            "padding": layer.padding,
            **_kernel_and_bias(layer, weights),
        }
    if isinstance(layer, L.MaxPooling2D):
        return {
            "op": "maxpool",
            "size": list(layer.pool_size),
            "strides": list(layer.strides),
            "padding": layer.padding,
        }
    if isinstance(layer, L.GlobalMaxPooling2D):
        return {"op": "globalmaxpool"}
    if isinstance(layer, L.Flatten):
        return {"op": "flatten"}
    if isinstance(layer, L.Dense):
        return {"op": "dense", **_kernel_and_bias(layer, weights)}
    if isinstance(layer, L.Activation):
        return {"op": "activation", "activation": _activation(layer)}
    raise ExportError(
        f"layer {layer.name!r} ({type(layer).__name__}) is not one the explorer runs; "
        "add it to cnnbook.book.explorer and book/_static/explorer/explorer.js"
    )


def _check_chain(model: keras.Model) -> None:
    """Raise unless the model is a chain (each layer feeds the next) ending in softmax(logits)."""
    for previous, layer in zip(model.layers, model.layers[1:]):
        inbound = layer._inbound_nodes[0].input_tensors if layer._inbound_nodes else []
        if len(inbound) != 1 or inbound[0] is not previous.output:
            raise ExportError(
                f"model {model.name!r}: layer {layer.name!r} is not in a chain"
            )
    if (
        model.layers[-2].name != LOGITS_LAYER
        or _activation(model.layers[-1]) != "softmax"
    ):
        raise ExportError(
            f"model {model.name!r} must end with a {LOGITS_LAYER!r} layer and a softmax"
        )


def map_layers(model: keras.Model) -> list[str]:
    """The layers whose activation maps the page shows: every 4-D activation (ReLU, GELU)."""
    return [
        layer.name
        for layer in model.layers
        if isinstance(layer, keras.layers.Activation) and len(layer.output.shape) == 4
    ]


def model_spec(
    model: keras.Model, temperature: float
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The explorer's description of a model (operations up to the logits) and its weights."""
    _check_chain(model)
    weights: dict[str, np.ndarray] = {}
    layers = []
    for layer in model.layers[
        :-1
    ]:  # the softmax is the page's, with or without temperature
        operation = _operation(layer, weights)
        if operation is not None:
            layers.append({"name": layer.name, **operation})
    spec = {
        "format": FORMAT,
        "name": model.name,
        "layers": layers,
        "maps": map_layers(model),
        "gradcam_layer": last_conv_layer_name(model),
        "temperature": float(temperature),
    }
    return spec, weights


def write_model(
    folder: Path, name: str, spec: dict[str, Any], weights: dict[str, np.ndarray]
) -> None:
    """Write <name>.json (with its TF.js weights manifest) and <name>.weights.bin, atomically."""
    arrays = {k: np.ascontiguousarray(v, dtype="<f4") for k, v in weights.items()}
    binary = f"{name}.weights.bin"
    manifest = [
        {
            "paths": [binary],
            "weights": [
                {"name": k, "shape": list(a.shape), "dtype": "float32"}
                for k, a in arrays.items()
            ],
        }
    ]
    with atomic_path(folder / binary) as tmp:
        tmp.write_bytes(b"".join(a.tobytes() for a in arrays.values()))
    atomic_write_json(folder / f"{name}.json", {**spec, "weightsManifest": manifest})


def choose_images(
    labels: np.ndarray, mistakes: Sequence[int], per_class: int = PER_CLASS
) -> np.ndarray:
    """Test indices, per_class per class in class order: the chapter's mistakes of that class
    first, then the class's first test images."""
    chosen = []
    for c in range(int(labels.max()) + 1):
        own = [int(i) for i in mistakes if labels[i] == c]
        rest = [int(i) for i in np.flatnonzero(labels == c) if i not in own]
        chosen.extend((own + rest)[:per_class])
    return np.asarray(chosen, dtype=np.int64)


def chapter_mistakes(n: int = N_MISTAKES) -> np.ndarray:
    """The Visualization chapter's most confident mistakes (fig-mistakes): those of the most
    accurate of the three models, chosen as the chapter chooses them."""
    y = book_data().y_test
    probs = {name: softmax(logits(name, "test")) for name in MODEL_NAMES}
    best = sorted(MODEL_NAMES, key=lambda m: -np.mean(probs[m].argmax(1) == y))[0]
    return most_confident_mistakes(probs[best], y, k=n).indices


def temperature(name: str) -> float:
    """The temperature the Calibration chapter fits for a model (NLL on the validation split)."""
    return fit_temperature(logits(name, "val"), book_data().y_val)


def write_images(
    folder: Path,
    images: np.ndarray,
    info: dict[str, Any],
) -> None:
    """images.bin (the uint8 images in order) and images.json (what the page says about them)."""
    with atomic_path(folder / "images.bin") as tmp:
        tmp.write_bytes(np.ascontiguousarray(images, np.uint8).tobytes())
    atomic_write_json(
        folder / "images.json",
        {
            "format": FORMAT,
            "count": len(images),
            "size": list(images.shape[1:]),
            **info,
        },
    )


def image_info(indices: np.ndarray, mistakes: Sequence[int]) -> dict[str, Any]:
    """What the page shows of the offered test images (labels, which are the chapter's mistakes),
    the models it offers and its words."""
    data = book_data()
    return {
        "class_names": list(data.class_names),
        "labels": data.y_test[indices].tolist(),
        "test_index": indices.tolist(),
        "chapter_mistake": [bool(i in set(mistakes)) for i in indices],
        "models": list(EXPLORER_MODELS),
        "words": page_words(data.class_names),
    }


def page_words(class_names: Sequence[str]) -> dict[str, dict[str, str]]:
    """The page's words (UI_WORDS and the class names) in English and each translated language."""
    words = (*UI_WORDS, *class_names)
    return {lang: {w: translate(w, lang) for w in words} for lang in ("en", *LANGUAGES)}


def reference(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> dict:
    """The Keras float32 answers on the images: probabilities (T = 1), every map layer's
    activations on the first N_ACTIVATION_CHECK images, Grad-CAM for the predicted and true class."""
    names = map_layers(model)
    probe = keras.Model(
        model.inputs, [model.output] + [model.get_layer(n).output for n in names]
    )
    outputs = probe.predict(images, batch_size=100, verbose=0)
    some = images[:N_ACTIVATION_CHECK]
    maps = {n: np.asarray(a[: len(some)]) for n, a in zip(names, outputs[1:])}
    return {
        "probabilities": np.asarray(outputs[0]),
        **{f"map:{n}": a for n, a in maps.items()},
        "cam:predicted": grad_cam(model, images),
        "cam:true": grad_cam(model, images, labels),
    }


def write_reference(folder: Path, name: str, arrays: dict[str, np.ndarray]) -> None:
    """<name>.reference.bin (float32, in order) and <name>.reference.json (name, shape, offset)."""
    index, offset, chunks = [], 0, []
    for key, array in arrays.items():
        data = np.ascontiguousarray(array, dtype="<f4")
        index.append({"name": key, "shape": list(data.shape), "offset": offset})
        offset += data.nbytes
        chunks.append(data.tobytes())
    with atomic_path(folder / f"{name}.reference.bin") as tmp:
        tmp.write_bytes(b"".join(chunks))
    atomic_write_json(folder / f"{name}.reference.json", index)


def export(out: Path, reference_dir: Path | None = None) -> None:
    """Every file the explorer page needs into out (and the check's references into reference_dir)."""
    mistakes = chapter_mistakes()
    indices = choose_images(book_data().y_test, mistakes)
    images, labels = book_data().x_test[indices], book_data().y_test[indices]
    write_images(out, images, image_info(indices, mistakes))
    for name in EXPLORER_MODELS:
        model = trained_model(name)
        spec, weights = model_spec(model, temperature(name))
        write_model(out, name, spec, weights)
        if reference_dir is not None:
            write_reference(reference_dir, name, reference(model, images, labels))


def main(argv: list[str] | None = None) -> int:
    """Command line: python -m cnnbook.book.explorer OUT [--reference REF]."""
    parser = argparse.ArgumentParser(prog="python -m cnnbook.book.explorer")
    parser.add_argument("out", type=Path, help="folder for the page's files")
    parser.add_argument("--reference", type=Path, help="folder for the check's answers")
    args = parser.parse_args(argv)
    try:
        export(args.out, args.reference)
    except (ExportError, CnnbookError, OSError) as exc:
        print(f"explorer export: {exc}", file=sys.stderr)
        return 1
    print(f"explorer: {len(EXPLORER_MODELS)} models and their images in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
