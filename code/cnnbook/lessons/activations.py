"""Activation functions and their derivatives in NumPy, and a vanishing-gradient experiment.

Chapter "Convolution math" (why ReLU): the NumPy functions give the formulas; the experiment
builds a deep plain stack of Dense layers and measures, with ``tf.GradientTape``, how large the
loss gradient is at each layer's kernel. With sigmoid (whose slope is at most 1/4) the gradient
shrinks by a roughly constant factor per layer on its way back, so the first layers barely
learn; with ReLU it stays of the same order between layers of the same shape. (The first layer
always stands apart: its kernel has one row per input pixel, 3,072 for CIFAR-10 instead of the
width, so its gradient norm is larger even when each entry is of the same size.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from cnnbook.core.data import NUM_CLASSES

if TYPE_CHECKING:  # keras is imported lazily: the NumPy functions need no TensorFlow
    import keras

ArrayFn = Callable[[np.ndarray], np.ndarray]


def relu(x: np.ndarray) -> np.ndarray:
    """ReLU: max(x, 0)."""
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def relu_grad(x: np.ndarray) -> np.ndarray:
    """ReLU's derivative: 1 where x > 0, else 0 (0 at x = 0, as TensorFlow takes it)."""
    return (np.asarray(x) > 0).astype(np.float64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid 1/(1+e^-x), computed without overflow for large |x|."""
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_grad(x: np.ndarray) -> np.ndarray:
    """Sigmoid's derivative: s(x)(1 - s(x)) = s(x)s(-x), at most 1/4 (at x = 0)."""
    x = np.asarray(x, dtype=np.float64)
    return sigmoid(x) * sigmoid(
        -x
    )  # s(-x) avoids the cancellation in 1 - s(x) for large x


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent."""
    return np.tanh(np.asarray(x, dtype=np.float64))


def tanh_grad(x: np.ndarray) -> np.ndarray:
    """Tanh's derivative: 1 - tanh(x)^2, at most 1 (at x = 0)."""
    return 1.0 - tanh(x) ** 2


# name -> (function, derivative); the names are also Keras activation names.
ACTIVATIONS: dict[str, tuple[ArrayFn, ArrayFn]] = {
    "relu": (relu, relu_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
}


def _check_activation(name: str) -> None:
    """Raise a one-line ValueError for an activation not in ACTIVATIONS."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {name!r}: choose one of {', '.join(ACTIVATIONS)}"
        )


def _as_inputs(images: np.ndarray) -> np.ndarray:
    """float32 batch: uint8 pixels scaled to [0, 1], other numbers kept as they are."""
    images = np.asarray(images)
    if images.ndim < 2 or images.shape[0] == 0:
        raise ValueError(
            f"images must be a non-empty batch (N, ...); got shape {images.shape}"
        )
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32)


def _labels_for(n: int, labels: np.ndarray | None, seed: int) -> np.ndarray:
    """The given integer labels (checked), or n random class indices drawn with seed."""
    if labels is None:
        return np.random.default_rng(seed).integers(0, NUM_CLASSES, size=n)
    labels = np.asarray(labels).reshape(-1)
    if labels.shape != (n,) or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(
            f"labels must be {n} integers in [0, {NUM_CLASSES}); got shape {labels.shape}"
        )
    return labels.astype(np.int64)


def build_deep_stack(
    input_shape: tuple[int, ...],
    activation: str,
    depth: int,
    width: int,
    seed: int,
    batchnorm: bool = False,
) -> keras.Model:
    """Flatten -> depth x Dense(width) [-> BatchNorm] -> activation (Glorot, seeded) -> softmax.

    With ``batchnorm`` (chapter "Regularization": BatchNorm and gradient flow) every hidden Dense
    is followed by BatchNormalization before its activation, as in the book's BatchNorm model."""
    from cnnbook.core.backend import keras

    _check_activation(activation)
    if depth < 1 or width < 1:
        raise ValueError(
            f"depth and width must be positive, got depth={depth}, width={width}"
        )
    inputs = keras.Input(input_shape)
    x = keras.layers.Flatten()(inputs)
    for i in range(depth):
        init = keras.initializers.GlorotUniform(seed=seed * 1000 + i)
        x = keras.layers.Dense(width, kernel_initializer=init, name=f"hidden{i + 1}")(x)
        if batchnorm:
            x = keras.layers.BatchNormalization(name=f"hidden{i + 1}_bn")(x)
        x = keras.layers.Activation(activation, name=f"hidden{i + 1}_{activation}")(x)
    head_init = keras.initializers.GlorotUniform(seed=seed * 1000 + depth)
    outputs = keras.layers.Dense(
        NUM_CLASSES, activation="softmax", kernel_initializer=head_init, name="head"
    )(x)
    return keras.Model(
        inputs, outputs, name=f"deep_{activation}{'_bn' if batchnorm else ''}"
    )


def gradient_norms_by_depth(
    activation: str,
    images: np.ndarray,
    depth: int = 15,
    width: int = 64,
    seed: int = 0,
    labels: np.ndarray | None = None,
    batchnorm: bool = False,
) -> np.ndarray:
    """L2 norm of d(loss)/d(kernel) for each hidden layer, first layer first; shape (depth,)."""
    from cnnbook.core.backend import keras, tf

    x = _as_inputs(images)
    y = _labels_for(len(x), labels, seed)
    model = build_deep_stack(x.shape[1:], activation, depth, width, seed, batchnorm)
    kernels = [model.get_layer(f"hidden{i + 1}").kernel for i in range(depth)]
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        loss = loss_fn(tf.constant(y), model(tf.constant(x), training=True))
    grads = tape.gradient(loss, kernels)
    return np.array([float(tf.norm(g)) for g in grads], dtype=np.float64)


def gradient_flow_experiment(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    depth: int = 15,
    activations: tuple[str, ...] = ("sigmoid", "relu"),
    seed: int = 0,
    width: int = 64,
) -> dict[str, np.ndarray]:
    """Per-layer gradient norms for each activation on the same batch, labels and seed."""
    for name in activations:
        _check_activation(name)
    return {
        name: gradient_norms_by_depth(
            name, images, depth=depth, width=width, seed=seed, labels=labels
        )
        for name in activations
    }
