"""The book's three CNNs on one shared VGG-style backbone (chapters "Architectures", "Regularization").

Backbone (chapter "Architectures"): three blocks of two 3x3 convolutions (32, 64, 128 filters,
'same' padding, ReLU) each followed by 2x2 max pooling, then Flatten, Dense(128, ReLU) and
Dense(10) logits followed by a float32 softmax. Why this backbone: it is the classic small VGG
design (stacked 3x3 convolutions, doubling widths) that students meet first; at ~39 M multiply-adds
per image it trains in ~20 s per epoch on a 2-core CPU with bfloat16, so all three models train
in under an hour, and without data augmentation it still reaches 77-79% test accuracy. Images
enter as raw uint8 pixels: the Rescaling layer is part of the model, so the book and the CLI never
have to repeat the preprocessing. The variants differ only where they must:

* ``baseline``  - nothing else;
* ``dropout``   - Dropout(p=0.5) on the flattened features and after the hidden dense layer, i.e.
  on the inputs of both fully connected layers, where 48% of the parameters sit and co-adaptation
  is strongest (Srivastava et al., 2014). Dropout after every pooling block as well underfit
  (cnnbook.core.recipe.TRIED_FIRST): the convolutions are few, spatially correlated and already
  regularized by weight sharing;
* ``batchnorm`` - BatchNormalization between every conv / hidden dense layer and its ReLU
  (those layers then drop their bias, which BatchNorm's beta makes redundant).
"""

from __future__ import annotations

from cnnbook.core.backend import keras
from cnnbook.core.data import NUM_CLASSES
from cnnbook.core.layers import FusedBatchNormalization
from cnnbook.core.names import (
    LOGITS_LAYER,
    MODEL_NAMES,
    PROBABILITIES_LAYER,
    check_model_name,
)

layers = keras.layers

BLOCK_FILTERS: tuple[int, ...] = (32, 64, 128)
DENSE_UNITS = 128
DROPOUT_RATE = 0.5
INPUT_SHAPE = (32, 32, 3)


def _conv_unit(x, filters: int, batchnorm: bool, name: str):
    """Conv 3x3 'same' -> [BatchNorm] -> ReLU."""
    x = layers.Conv2D(
        filters, 3, padding="same", use_bias=not batchnorm, name=f"{name}_conv"
    )(x)
    if batchnorm:
        x = FusedBatchNormalization(name=f"{name}_bn")(x)  # TF's fused kernel
    return layers.Activation("relu", name=f"{name}_relu")(x)


def build_model(name: str, seed: int | None = None) -> keras.Model:
    """Build (untrained) one of the book's models: baseline, dropout or batchnorm."""
    check_model_name(name)
    if name not in MODEL_NAMES:
        raise ValueError(f"{name!r} is built by cnnbook.airbench.net.build_fast_model")
    if seed is not None:
        keras.utils.set_random_seed(seed)
    batchnorm, dropout = name == "batchnorm", name == "dropout"
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for block, filters in enumerate(BLOCK_FILTERS, start=1):
        x = _conv_unit(x, filters, batchnorm, f"block{block}_1")
        x = _conv_unit(x, filters, batchnorm, f"block{block}_2")
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    if dropout:
        x = layers.Dropout(DROPOUT_RATE, name="flatten_dropout")(x)
    x = layers.Dense(DENSE_UNITS, use_bias=not batchnorm, name="dense")(x)
    if batchnorm:
        x = layers.BatchNormalization(name="dense_bn")(x)
    x = layers.Activation("relu", name="dense_relu")(x)
    if dropout:
        x = layers.Dropout(DROPOUT_RATE, name="dense_dropout")(x)
    logits = layers.Dense(NUM_CLASSES, name=LOGITS_LAYER)(x)
    probs = layers.Activation("softmax", dtype="float32", name=PROBABILITIES_LAYER)(
        logits
    )
    return keras.Model(inputs, probs, name=name)
