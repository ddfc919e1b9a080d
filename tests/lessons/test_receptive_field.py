"""Receptive fields by the recurrence, checked against the input pixels a gradient actually reaches."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from cnnbook.core.backend import keras
from cnnbook.lessons.receptive_field import (
    Field,
    Window,
    model_windows,
    receptive_fields,
)


def _measured_field(model: keras.Model, size: int) -> int:
    """Width of the input region whose pixels change the centre output cell (all weights positive)."""
    x = tf.Variable(tf.ones((1, size, size, 1)))
    with tf.GradientTape() as tape:
        out = model(x)
        centre = out[0, out.shape[1] // 2, out.shape[2] // 2, 0]
    columns = np.flatnonzero(
        np.abs(tape.gradient(centre, x).numpy()[0, :, :, 0]).sum(0) > 0
    )
    return int(columns[-1] - columns[0] + 1)


@pytest.mark.parametrize(
    "layers",
    [
        [("conv", 3, 1, 1), ("conv", 3, 1, 1), ("pool", 2, 2, 1), ("conv", 3, 1, 1)],
        [("conv", 5, 2, 1), ("conv", 3, 1, 2), ("pool", 3, 3, 1)],
        [
            ("conv", 3, 1, 1),
            ("pool", 2, 2, 1),
            ("conv", 3, 1, 1),
            ("pool", 2, 2, 1),
            ("conv", 3, 1, 1),
        ],
    ],
)
def test_recurrence_matches_the_gradient_footprint(layers):
    inputs = keras.Input((64, 64, 1))
    x = inputs
    for i, (kind, k, s, d) in enumerate(layers):
        if kind == "conv":
            x = keras.layers.Conv2D(
                1,
                k,
                strides=s,
                dilation_rate=d,
                padding="valid",
                use_bias=False,
                kernel_initializer="ones",
                name=f"conv{i}",
            )(x)
        else:
            x = keras.layers.AveragePooling2D(k, strides=s, name=f"pool{i}")(x)
    model = keras.Model(inputs, x)
    fields = receptive_fields(model_windows(model))
    assert [f.name for f in fields] == [layer.name for layer in model.layers[1:]]
    assert fields[-1].size == _measured_field(model, 64)


def test_the_books_backbone_last_convolution_sees_32_pixels():
    fields = receptive_fields(
        [
            Window(n, 3) if n[0] == "c" else Window(n, 2, 2)
            for n in ["c11", "c12", "p1", "c21", "c22", "p2", "c31", "c32", "p3"]
        ]
    )
    assert [f.size for f in fields] == [3, 5, 6, 10, 14, 16, 24, 32, 36]
    assert [f.jump for f in fields] == [1, 1, 2, 2, 2, 4, 4, 4, 8]


def test_bad_window_is_refused():
    with pytest.raises(ValueError, match="layer bad"):
        receptive_fields([Window("bad", 0)])
    assert receptive_fields([]) == []
    assert receptive_fields([Window("c", 3, 1, 2)]) == [Field("c", 5, 1)]
