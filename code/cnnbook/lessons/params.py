"""Parameter counting by formula, layer by layer (chapter "Architectures").

The counts come from the formulas below applied to each layer's configuration (kernel size,
filters, units, use_bias, input channels), never from Keras's ``count_params`` - the tests
compare the two. Formulas:

* Conv2D: ``kh·kw·C_in·C_out`` weights (``C_in / groups`` with grouped convolution) ``+ C_out`` biases;
* Dense: ``n_in·n_out + n_out``;
* BatchNormalization over C channels: ``2C`` trainable (gamma, beta) and ``2C`` non-trainable
  (moving mean, moving variance), which the optimizer never touches;
* Dropout, pooling, Flatten, Rescaling, Activation, InputLayer: no parameters.
"""

from __future__ import annotations

from typing import Any

from cnnbook.core.backend import keras

_ZERO_PARAM_TYPES: tuple[type, ...] = (
    keras.layers.InputLayer,
    keras.layers.Rescaling,
    keras.layers.Activation,
    keras.layers.Flatten,
    keras.layers.Dropout,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalAveragePooling2D,
)


def conv2d_params(
    kh: int, kw: int, c_in: int, c_out: int, use_bias: bool = True
) -> int:
    """Weights of a Conv2D layer: kh·kw·C_in·C_out (+ C_out biases)."""
    return kh * kw * c_in * c_out + (c_out if use_bias else 0)


def dense_params(n_in: int, n_out: int, use_bias: bool = True) -> int:
    """Weights of a Dense layer: n_in·n_out (+ n_out biases)."""
    return n_in * n_out + (n_out if use_bias else 0)


def batchnorm_params(
    channels: int, center: bool = True, scale: bool = True
) -> tuple[int, int]:
    """(trainable, non-trainable) of BatchNorm: (2C gamma+beta, 2C moving mean+variance)."""
    return channels * (int(center) + int(scale)), 2 * channels


def _input_shape(layer: keras.layers.Layer) -> tuple:
    """The shape the (built) layer was called on, batch axis included."""
    config = layer.get_build_config() or {}
    if "input_shape" in config:
        return tuple(config["input_shape"])
    return tuple(layer.input.shape)


def _output_shape(layer: keras.layers.Layer) -> tuple:
    """The layer's output shape, batch axis included."""
    try:
        return tuple(layer.output.shape)
    except (AttributeError, ValueError):
        return tuple(layer.compute_output_shape(_input_shape(layer)))


def _conv2d_row(layer: keras.layers.Conv2D) -> tuple[str, int, int]:
    """(formula, trainable, non-trainable) of a Conv2D layer from its config."""
    cfg = layer.get_config()
    kh, kw = cfg["kernel_size"]
    axis = -1 if cfg["data_format"] == "channels_last" else 1
    c_in = _input_shape(layer)[axis] // cfg["groups"]
    c_out, bias = cfg["filters"], cfg["use_bias"]
    formula = f"{kh}·{kw}·{c_in}·{c_out}" + (f" + {c_out}" if bias else "")
    return formula, conv2d_params(kh, kw, c_in, c_out, bias), 0


def _dense_row(layer: keras.layers.Dense) -> tuple[str, int, int]:
    """(formula, trainable, non-trainable) of a Dense layer from its config."""
    cfg = layer.get_config()
    n_in, n_out, bias = _input_shape(layer)[-1], cfg["units"], cfg["use_bias"]
    formula = f"{n_in}·{n_out}" + (f" + {n_out}" if bias else "")
    return formula, dense_params(n_in, n_out, bias), 0


def _batchnorm_row(layer: keras.layers.BatchNormalization) -> tuple[str, int, int]:
    """(formula, trainable, non-trainable) of a BatchNormalization layer from its config."""
    cfg = layer.get_config()
    channels = _input_shape(layer)[cfg["axis"]]
    trainable, frozen = batchnorm_params(channels, cfg["center"], cfg["scale"])
    factor = int(cfg["center"]) + int(cfg["scale"])
    return (
        f"{factor}·{channels} (γ, β) + 2·{channels} (moving μ, σ²)",
        trainable,
        frozen,
    )


def layer_counts(layer: keras.layers.Layer) -> tuple[str, int, int]:
    """(formula, trainable, non-trainable) for one layer; ValueError for unsupported types."""
    if isinstance(layer, keras.layers.Conv2D):
        formula, trainable, frozen = _conv2d_row(layer)
    elif isinstance(layer, keras.layers.Dense):
        formula, trainable, frozen = _dense_row(layer)
    elif isinstance(layer, keras.layers.BatchNormalization):
        formula, trainable, frozen = _batchnorm_row(layer)
    elif isinstance(layer, _ZERO_PARAM_TYPES):
        return "0", 0, 0
    else:
        raise ValueError(
            f"layer {layer.name!r}: unsupported layer type {type(layer).__name__} for formula counting "
            "(supported: Conv2D, Dense, BatchNormalization, and parameter-free layers)"
        )
    if not layer.trainable:  # a frozen layer's weights all count as non-trainable
        return formula, 0, trainable + frozen
    return formula, trainable, frozen


def layer_param_table(model: keras.Model) -> list[dict[str, Any]]:
    """One row per layer: name, type, output_shape, formula, trainable, non_trainable."""
    rows = []
    for layer in model.layers:
        formula, trainable, frozen = layer_counts(layer)
        rows.append(
            {
                "name": layer.name,
                "type": type(layer).__name__,
                "output_shape": _output_shape(layer),
                "formula": formula,
                "trainable": trainable,
                "non_trainable": frozen,
            }
        )
    return rows


def count_model_params(model: keras.Model) -> dict[str, int]:
    """Model totals from the formulas: {'total', 'trainable', 'non_trainable'}."""
    rows = layer_param_table(model)
    trainable = sum(r["trainable"] for r in rows)
    frozen = sum(r["non_trainable"] for r in rows)
    return {
        "total": trainable + frozen,
        "trainable": trainable,
        "non_trainable": frozen,
    }
