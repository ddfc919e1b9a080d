"""Parameter formulas against Keras's own counts for the book's three models."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnbook.core.models import build_model
from cnnbook.core.names import MODEL_NAMES
from cnnbook.lessons.params import (
    batchnorm_params,
    conv2d_params,
    count_model_params,
    dense_params,
    layer_param_table,
)


def _size(weights) -> int:
    """Number of scalars in a list of Keras variables."""
    return int(sum(np.prod(w.shape) for w in weights))


@pytest.fixture(scope="module")
def models() -> dict[str, keras.Model]:
    """The three (untrained) book models."""
    return {name: build_model(name) for name in MODEL_NAMES}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_each_layer_matches_keras(models, name):
    model = models[name]
    rows = layer_param_table(model)
    assert [r["name"] for r in rows] == [layer.name for layer in model.layers]
    for row, layer in zip(rows, model.layers):
        assert row["trainable"] + row["non_trainable"] == layer.count_params(), (
            layer.name
        )
        assert row["trainable"] == _size(layer.trainable_weights), layer.name
        assert row["non_trainable"] == _size(layer.non_trainable_weights), layer.name
        assert row["type"] == type(layer).__name__
        assert row["output_shape"] == tuple(layer.output.shape)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_totals_match_keras(models, name):
    model = models[name]
    counts = count_model_params(model)
    assert counts["total"] == model.count_params()
    assert counts["trainable"] == _size(model.trainable_weights)
    assert counts["non_trainable"] == _size(model.non_trainable_weights)
    assert counts["non_trainable"] == (
        0 if name != "batchnorm" else 2 * (2 * (32 + 64 + 128) + 128)
    )


def test_hand_worked_formulas():
    assert conv2d_params(3, 3, 3, 32) == 896  # 3·3·3·32 + 32
    assert conv2d_params(3, 3, 32, 64, use_bias=False) == 18432
    assert dense_params(2048, 128) == 262272
    assert dense_params(128, 10) == 1290
    assert batchnorm_params(32) == (64, 64)
    layer = keras.layers.Conv2D(32, 3)
    layer.build((None, 32, 32, 3))
    assert layer.count_params() == 896


def test_formula_strings(models):
    rows = {r["name"]: r for r in layer_param_table(models["baseline"])}
    assert rows["block1_1_conv"]["formula"] == "3·3·3·32 + 32"
    assert rows["block2_1_conv"]["formula"] == "3·3·32·64 + 64"
    assert rows["dense"]["formula"] == "2048·128 + 128"
    assert rows["block1_1_conv"]["output_shape"] == (None, 32, 32, 32)
    assert rows["flatten"]["formula"] == "0" and rows["flatten"]["trainable"] == 0
    bn_rows = {r["name"]: r for r in layer_param_table(models["batchnorm"])}
    assert bn_rows["block1_1_conv"]["formula"] == "3·3·3·32"
    assert (
        bn_rows["block1_1_bn"]["trainable"],
        bn_rows["block1_1_bn"]["non_trainable"],
    ) == (64, 64)


def test_other_configurations_match_keras():
    inputs = keras.Input((10, 12, 4))
    x = keras.layers.Conv2D(6, (2, 5), strides=2, groups=2, name="grouped")(inputs)
    x = keras.layers.BatchNormalization(center=False, name="bn_scale_only")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    frozen = keras.layers.Dense(3, name="frozen")
    outputs = frozen(x)
    frozen.trainable = False
    model = keras.Model(inputs, outputs)
    counts = count_model_params(model)
    assert counts["total"] == model.count_params()
    assert counts["trainable"] == _size(model.trainable_weights)
    assert counts["non_trainable"] == _size(model.non_trainable_weights)


def test_unsupported_layer_raises():
    inputs = keras.Input((8, 3))
    model = keras.Model(inputs, keras.layers.Conv1D(4, 3, name="c1")(inputs))
    with pytest.raises(ValueError, match="unsupported layer type Conv1D"):
        layer_param_table(model)
