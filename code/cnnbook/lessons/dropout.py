"""Inverted dropout in NumPy, with the semantics of ``keras.layers.Dropout``.

Chapter "Regularization". In training each entry is kept with probability ``1 - rate`` and
the kept ones are scaled by ``1 / (1 - rate)``, so every entry keeps its expected value; at
inference the layer is the identity (no rescaling needed, which is the point of "inverted").
"""

from __future__ import annotations

import numpy as np


def _check_rate(rate: float) -> None:
    """Raise a one-line ValueError unless 0 <= rate < 1."""
    if isinstance(rate, bool) or not isinstance(
        rate, (int, float, np.floating, np.integer)
    ):
        raise ValueError(f"dropout rate must be a number in [0, 1), got {rate!r}")
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"dropout rate must be in [0, 1), got {rate}")


def dropout_mask(
    shape: tuple[int, ...], rate: float, rng: np.random.Generator
) -> np.ndarray:
    """Boolean keep-mask: each entry True (kept) with probability 1 - rate."""
    _check_rate(rate)
    return rng.random(shape) >= rate


def dropout(
    x: np.ndarray,
    rate: float,
    training: bool,
    rng: np.random.Generator | None = None,
    *,
    return_mask: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Inverted dropout: x * mask / (1 - rate) in training, x unchanged at inference."""
    _check_rate(rate)
    x = np.asarray(x)
    if not training or rate == 0:  # inference: the identity
        mask = np.ones(x.shape, dtype=bool)
        out = x.astype(np.result_type(x.dtype, np.float32), copy=True)
    else:
        rng = np.random.default_rng() if rng is None else rng
        mask = dropout_mask(x.shape, rate, rng)  # kept with probability 1 - rate
        out = x * mask / (1.0 - rate)  # inverted: the kept entries are scaled up
    return (out, mask) if return_mask else out


def keras_dropout(
    x: np.ndarray, rate: float, seed: int = 0, training: bool = True
) -> np.ndarray:
    """keras.layers.Dropout applied to x: the reference our NumPy version is compared with."""
    from cnnbook.core.backend import keras

    return np.asarray(keras.layers.Dropout(rate, seed=seed)(x, training=training))
