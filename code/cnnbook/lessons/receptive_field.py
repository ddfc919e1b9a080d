"""Receptive fields: how much of the input one output cell of each layer can see.

Chapter "Convolution math" (and "What the network looks at": a Grad-CAM cell of the last 8x8 map
sees almost the whole image). Along one axis, a layer with kernel k, stride s and dilation d turns
the receptive field r and the jump j (input pixels between neighbouring cells) of its input into

    r_out = r + d (k - 1) j,        j_out = j s

starting from r = j = 1 at the image (Araujo et al., Distill 2019).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # keras only for reading a model's layers
    import keras


@dataclass(frozen=True)
class Window:
    """One spatial layer's sliding window along one axis: kernel size, stride, dilation."""

    name: str
    kernel: int
    stride: int = 1
    dilation: int = 1


@dataclass(frozen=True)
class Field:
    """What one output cell of a layer sees: receptive field and jump, in input pixels."""

    name: str
    size: int
    jump: int


def receptive_fields(windows: Iterable[Window]) -> list[Field]:
    """The receptive field and jump after each layer, first layer first."""
    size, jump, fields = 1, 1, []
    for w in windows:
        if min(w.kernel, w.stride, w.dilation) < 1:
            raise ValueError(
                f"layer {w.name}: kernel, stride and dilation must be >= 1, got {w}"
            )
        size += w.dilation * (w.kernel - 1) * jump
        jump *= w.stride
        fields.append(Field(w.name, size, jump))
    return fields


def _first(value: int | tuple[int, ...]) -> int:
    """The first axis of a Keras size argument (an int or a per-axis tuple)."""
    return int(value[0]) if isinstance(value, (tuple, list)) else int(value)


def model_windows(model: keras.Model) -> list[Window]:
    """The sliding windows of a Keras model's convolution and pooling layers, in order."""
    windows = []
    for layer in model.layers:
        config = layer.get_config()
        if "kernel_size" in config:  # Conv2D and friends
            windows.append(
                Window(
                    layer.name,
                    _first(config["kernel_size"]),
                    _first(config["strides"]),
                    _first(config.get("dilation_rate", 1)),
                )
            )
        elif "pool_size" in config:  # MaxPooling2D / AveragePooling2D
            windows.append(
                Window(
                    layer.name,
                    _first(config["pool_size"]),
                    _first(config["strides"] or config["pool_size"]),
                )
            )
    return windows
