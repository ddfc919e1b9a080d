"""airbench94's network in Keras 3 (chapter "Putting it all together"): the book's fourth model, "fast".

airbench94 (Jordan 2024, arXiv 2404.00498; KellerJordan/cifar10-airbench) is a VGG-like net of
three blocks, like the book's backbone, made wider and built around BatchNorm. Each block is
conv 3x3 -> 2x2 max pool -> BatchNorm -> GELU -> conv 3x3 -> BatchNorm -> GELU. In front sits a
2x2 convolution whose weights are not learned but computed from the data: the eigenvectors of the
covariance of 2x2 image patches, scaled so that its outputs are decorrelated with unit variance
("whitening"). Behind the blocks: a global max pool, a linear layer without bias and a fixed
scale of 1/9. ``fast`` has the widths of airbench94 (64/256/256); ``fast_short`` those of
airbench93 (64/128/128). The flags of ``build_fast_model`` switch the tricks off one at a time for
the ablation (benchmarks/ablation.py). Every constant is in cnnbook.airbench.hyp.

Differences from the PyTorch original, and why:
* A global max pool instead of MaxPool2d(3): the same on the 3x3 map the whitened net ends with,
  and still a max over the whole map when the ablation removes the whitening (4x4 map).
* Without BatchNorm (ablation) the convolutions get a bias, which BatchNorm's offset replaces.
* GELU's tanh approximation instead of the exact (erf) one: 10% faster training on this CPU
  (845 vs 771 images/s for fast_short), the two curves differ by < 0.001.
* Images enter as uint8 and are scaled and normalized inside the model, as in the other models.
"""

from __future__ import annotations

import numpy as np

from cnnbook.airbench.hyp import (
    BN_EPSILON,
    BN_MOMENTUM,
    CIFAR_MEAN,
    CIFAR_STD,
    FAST_WIDTHS,
    LOGIT_SCALE,
    WHITEN_EPS,
    WHITEN_SIZE,
    FastRecipe,
)
from cnnbook.core.backend import keras
from cnnbook.core.data import NUM_CLASSES
from cnnbook.core.layers import FusedBatchNormalization, gelu
from cnnbook.core.models import build_model
from cnnbook.core.names import LOGITS_LAYER, PROBABILITIES_LAYER

layers = keras.layers

# PyTorch's default initialisation (kaiming_uniform, a=sqrt(5)): uniform in +-1/sqrt(fan_in).
TORCH_INIT = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1 / 3, "mode": "fan_in", "distribution": "uniform"},
}


def whitening_kernel(
    images: np.ndarray, size: int = WHITEN_SIZE, eps: float = WHITEN_EPS
) -> np.ndarray:
    """A (size, size, C, 2*size*size*C) kernel whitening the size x size patches.

    ``images``: normalized float images (N, H, W, C). Each output channel is one
    eigenvector of the patches' covariance divided by sqrt(eigenvalue + eps), largest
    first, then the same filters negated (so that a GELU after it keeps both signs)."""
    view = np.lib.stride_tricks.sliding_window_view
    windows = view(images, (size, size), axis=(1, 2))  # (N, H', W', C, size, size)
    n_features = size * size * images.shape[-1]
    patches = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, n_features)
    patches = patches.astype(np.float64)
    covariance = patches.T @ patches / len(patches)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    filters = eigenvectors[:, order] / np.sqrt(eigenvalues[order] + eps)
    kernel = np.concatenate([filters, -filters], axis=1)
    return kernel.reshape(size, size, images.shape[-1], -1).astype(np.float32)


def normalize_images(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32, scaled to [0, 1] and standardized per channel (as the model does)."""
    return (images.astype(np.float32) / 255 - np.float32(CIFAR_MEAN)) / np.float32(
        CIFAR_STD
    )


def _conv(filters: int, bias: bool, name: str) -> keras.layers.Layer:
    """A 3x3 'same' convolution with PyTorch's initialisation."""
    return layers.Conv2D(
        filters,
        3,
        padding="same",
        use_bias=bias,
        kernel_initializer=TORCH_INIT,
        name=name,
    )


def _norm_act(x, batchnorm: bool, name: str):
    """[BatchNorm without scale] -> GELU."""
    if batchnorm:
        x = FusedBatchNormalization(
            momentum=BN_MOMENTUM, epsilon=BN_EPSILON, scale=False, name=f"{name}_bn"
        )(x)
    return layers.Activation(gelu, name=f"{name}_gelu")(x)


def _conv_group(x, filters: int, batchnorm: bool, name: str):
    """conv -> pool -> norm -> GELU -> conv -> norm -> GELU (airbench's ConvGroup)."""
    x = _conv(filters, not batchnorm, f"{name}_conv1")(x)
    x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    x = _norm_act(x, batchnorm, f"{name}_1")
    x = _conv(filters, not batchnorm, f"{name}_conv2")(x)
    return _norm_act(x, batchnorm, f"{name}_2")


def build_fast_model(
    name: str = "fast",
    seed: int | None = None,
    *,
    widths: tuple[int, ...] | None = None,
    batchnorm: bool = True,
    whitening: bool = True,
) -> keras.Model:
    """Build (untrained) airbench's network; the whitening is set later from data."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    widths = widths or FAST_WIDTHS[name]
    inputs = keras.Input((32, 32, 3), name="image")
    # The input side stays float32: bfloat16's 8-bit mantissa would drown the
    # small-variance directions that whitening amplifies (up to 1/sqrt(eps) = 45x).
    x = layers.Rescaling(1.0 / 255, name="rescale", dtype="float32")(inputs)
    x = layers.Normalization(
        mean=CIFAR_MEAN,
        variance=np.square(CIFAR_STD),
        name="normalize",
        dtype="float32",
    )(x)
    if whitening:  # 2x2 'valid': 32x32 -> 31x31, 24 channels; kernel frozen
        x = layers.Conv2D(
            2 * 3 * WHITEN_SIZE**2, WHITEN_SIZE, name="whiten", dtype="float32"
        )(x)
        x = layers.Activation(gelu, name="whiten_gelu", dtype="float32")(x)
    for block, filters in enumerate(widths, start=1):
        x = _conv_group(x, filters, batchnorm, f"block{block}")
    x = layers.GlobalMaxPooling2D(name="pool")(x)
    x = layers.Dense(
        NUM_CLASSES, use_bias=False, kernel_initializer=TORCH_INIT, name="head"
    )(x)
    logits = layers.Rescaling(LOGIT_SCALE, name=LOGITS_LAYER)(x)
    probs = layers.Activation("softmax", dtype="float32", name=PROBABILITIES_LAYER)(
        logits
    )
    model = keras.Model(inputs, probs, name=name)
    identity_init(model)
    return model


def identity_init(model: keras.Model) -> None:
    """Make each 3x3 conv pass its inputs through in its first C_in filters (airbench's dirac
    init: an implicit residual connection at the start of training)."""
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D) and layer.kernel.shape[0] == 3:
            kernel = np.array(layer.kernel.numpy())
            n = min(
                kernel.shape[2], kernel.shape[3]
            )  # filters that copy an input channel
            kernel[..., :n] = 0.0
            kernel[1, 1, np.arange(n), np.arange(n)] = 1.0
            layer.kernel.assign(kernel)


def set_whitening(model: keras.Model, images: np.ndarray) -> None:
    """Compute the whitening layer's kernel from uint8 training images (bias left at zero)."""
    layer = model.get_layer("whiten")
    layer.kernel.assign(whitening_kernel(normalize_images(images)))
    layer.bias.assign(np.zeros(layer.bias.shape, np.float32))


def build_for(recipe: FastRecipe, seed: int | None = None) -> keras.Model:
    """The untrained model a recipe trains: the book's baseline (ablation step 0) or airbench's."""
    if recipe.model == "baseline":
        return build_model("baseline", seed=seed)
    return build_fast_model(
        recipe.model,
        seed=seed,
        widths=recipe.widths or None,
        batchnorm=recipe.batchnorm,
        whitening=recipe.whitening,
    )


def logits_view(model: keras.Model) -> keras.Model:
    """The same layers, ending at the logits (training and TTA need them, not the softmax)."""
    return keras.Model(model.inputs, model.get_layer(LOGITS_LAYER).output)
