"""Batch normalization in NumPy, matching ``keras.layers.BatchNormalization`` (channels last).

Chapter "Regularization". In training mode each channel is normalized with the mean and the
*biased* variance (divide by m, not m - 1) of the current batch, taken over every axis but the
last; the layer then keeps exponential moving averages of those two statistics,
``moving = moving * momentum + batch * (1 - momentum)``, and uses them in inference mode.
Defaults are Keras's: ``epsilon = 1e-3``, ``momentum = 0.99``, moving mean 0, moving variance 1.
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-3
MOMENTUM = 0.99


def _check_params(x: np.ndarray, *per_channel: np.ndarray) -> None:
    """Raise a one-line ValueError unless every per-channel array has shape (C,) for x's C."""
    if x.ndim < 2:
        raise ValueError(
            f"x must have a batch axis and a channel axis; got shape {x.shape}"
        )
    channels = x.shape[-1]
    for p in per_channel:
        if np.shape(p) != (channels,):
            raise ValueError(
                f"per-channel parameters must have shape ({channels},); got {np.shape(p)}"
            )


def _normalize(
    x: np.ndarray, mean: np.ndarray, var: np.ndarray, gamma, beta, eps: float
) -> np.ndarray:
    """gamma * (x - mean) / sqrt(var + eps) + beta, broadcast over the last axis."""
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def batch_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and biased variance over all axes but the last."""
    x = np.asarray(x, dtype=np.float64)
    axes = tuple(range(x.ndim - 1))
    return x.mean(axis=axes), x.var(axis=axes)  # np.var is biased (ddof=0), like Keras


def batchnorm_train(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = EPSILON
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training-mode BatchNorm with the batch's statistics: (y, mean, var)."""
    x = np.asarray(x, dtype=np.float64)
    _check_params(x, gamma, beta)
    mean, var = batch_moments(x)
    return _normalize(x, mean, var, np.asarray(gamma), np.asarray(beta), eps), mean, var


def update_moving_stats(
    moving_mean: np.ndarray,
    moving_var: np.ndarray,
    batch_mean: np.ndarray,
    batch_var: np.ndarray,
    momentum: float = MOMENTUM,
) -> tuple[np.ndarray, np.ndarray]:
    """Keras's moving averages: moving * momentum + batch * (1 - momentum), mean and var."""
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    keep, learn = momentum, 1.0 - momentum
    new_mean = np.asarray(moving_mean) * keep + np.asarray(batch_mean) * learn
    new_var = np.asarray(moving_var) * keep + np.asarray(batch_var) * learn
    return new_mean, new_var


def batchnorm_inference(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    moving_mean: np.ndarray,
    moving_var: np.ndarray,
    eps: float = EPSILON,
) -> np.ndarray:
    """Inference-mode BatchNorm: normalize with the stored moving statistics."""
    x = np.asarray(x, dtype=np.float64)
    _check_params(x, gamma, beta, moving_mean, moving_var)
    mean, var = np.asarray(moving_mean), np.asarray(moving_var)
    return _normalize(x, mean, var, np.asarray(gamma), np.asarray(beta), eps)


class NumpyBatchNorm:
    """A stateful BatchNorm layer over C channels: train_step(x) learns statistics, infer(x) uses them."""

    def __init__(
        self,
        channels: int,
        gamma: np.ndarray | None = None,
        beta: np.ndarray | None = None,
        momentum: float = MOMENTUM,
        eps: float = EPSILON,
    ) -> None:
        """Keras's initial state: gamma 1, beta 0, moving mean 0, moving variance 1."""
        if channels < 1:
            raise ValueError(f"channels must be positive, got {channels}")
        self.gamma = (
            np.ones(channels) if gamma is None else np.asarray(gamma, dtype=np.float64)
        )
        self.beta = (
            np.zeros(channels) if beta is None else np.asarray(beta, dtype=np.float64)
        )
        self.moving_mean = np.zeros(channels)
        self.moving_var = np.ones(channels)
        self.momentum, self.eps = momentum, eps

    def train_step(self, x: np.ndarray) -> np.ndarray:
        """Normalize with the batch statistics and fold them into the moving averages."""
        y, mean, var = batchnorm_train(x, self.gamma, self.beta, self.eps)
        self.moving_mean, self.moving_var = update_moving_stats(
            self.moving_mean, self.moving_var, mean, var, self.momentum
        )
        return y

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Normalize with the moving statistics (the state is left unchanged)."""
        return batchnorm_inference(
            x, self.gamma, self.beta, self.moving_mean, self.moving_var, self.eps
        )
