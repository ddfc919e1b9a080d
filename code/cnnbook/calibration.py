"""Calibration (chapter "Calibration"): reliability bins, ECE/MCE, NLL, Brier and temperature scaling.

Conventions (Guo et al. 2017, "On Calibration of Modern Neural Networks"):

* confidence = max_k p_k, prediction = argmax_k p_k;
* ``n_bins`` equal-width bins on [0, 1], bin b = (lo, hi], the first bin also contains 0;
* ECE = sum_b (n_b / N) |acc_b - conf_b|, MCE = max over non-empty bins of |acc_b - conf_b|;
* Brier score (multi-class, Brier 1950) = mean over samples of sum over classes of (p_k - y_k)^2,
  with y the one-hot label: 0 is perfect, 2 the worst possible (not divided by the class count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NLL_FLOOR = 1e-12
T_BOUNDS: tuple[float, float] = (0.05, 20.0)


@dataclass(frozen=True)
class ReliabilityBins:
    """Per-bin statistics of a reliability diagram; empty bins hold NaN confidence/accuracy."""

    edges: np.ndarray  # (n_bins + 1,) bin edges on [0, 1]
    counts: np.ndarray  # (n_bins,) number of samples per bin
    confidence: np.ndarray  # (n_bins,) mean max-probability per bin
    accuracy: np.ndarray  # (n_bins,) fraction of correct predictions per bin

    @property
    def gaps(self) -> np.ndarray:
        """|accuracy - confidence| per bin (NaN for empty bins)."""
        return np.abs(self.accuracy - self.confidence)


def _check(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (N, K) score matrix and N integer labels in range; return them as arrays."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1)
    if probs.ndim != 2 or probs.shape[0] != labels.shape[0] or probs.shape[0] == 0:
        raise ValueError(f"expected (N, K) scores and N labels, got {probs.shape} and {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= probs.shape[1]:
        raise ValueError(f"labels must be integers in [0, {probs.shape[1]})")
    return probs, labels.astype(np.int64)


def reliability_bins(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> ReliabilityBins:
    """Equal-width bins (lo, hi] on the max confidence, with count, mean confidence, accuracy."""
    probs, labels = _check(probs, labels)
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, weights=confidence, minlength=n_bins) / counts
        accuracy_ = np.bincount(index, weights=correct, minlength=n_bins) / counts
    return ReliabilityBins(edges, counts, mean_conf, accuracy_)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """ECE: the sample-weighted mean of |accuracy - confidence| over the bins."""
    bins = reliability_bins(probs, labels, n_bins)
    filled = bins.counts > 0
    return float(np.sum(bins.counts[filled] * bins.gaps[filled]) / bins.counts.sum())


def maximum_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """MCE: the largest |accuracy - confidence| over the non-empty bins."""
    bins = reliability_bins(probs, labels, n_bins)
    return float(np.max(bins.gaps[bins.counts > 0]))


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy."""
    probs, labels = _check(probs, labels)
    return float(np.mean(probs.argmax(axis=1) == labels))


def negative_log_likelihood(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log p(true class), with p floored at 1e-12 (the loss reported in the manifest)."""
    probs, labels = _check(probs, labels)
    true_class = np.clip(probs[np.arange(len(labels)), labels], NLL_FLOOR, 1.0)
    return float(-np.mean(np.log(true_class)))


def brier_score(probs: np.ndarray, labels: np.ndarray) -> float:
    """Multi-class Brier score: mean over samples of sum_k (p_k - onehot_k)^2, in [0, 2]."""
    probs, labels = _check(probs, labels)
    onehot = np.eye(probs.shape[1])[labels]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def calibration_report(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> dict[str, float]:
    """All headline numbers: accuracy, mean_confidence, ece, mce, nll, brier."""
    probs, labels = _check(probs, labels)
    return {
        "accuracy": accuracy(probs, labels),
        "mean_confidence": float(np.mean(probs.max(axis=1))),
        "ece": expected_calibration_error(probs, labels, n_bins),
        "mce": maximum_calibration_error(probs, labels, n_bins),
        "nll": negative_log_likelihood(probs, labels),
        "brier": brier_score(probs, labels),
    }


def confidence_histogram(probs: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Max confidences split into {"correct": ..., "wrong": ...} predictions."""
    probs, labels = _check(probs, labels)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    return {"correct": confidence[correct], "wrong": confidence[~correct]}


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax along the last axis (float64)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax along the last axis (float64)."""
    return np.exp(log_softmax(logits))


def _nll_at_log_t(logits: np.ndarray, labels: np.ndarray, log_t: float) -> float:
    """Mean NLL of softmax(logits / T) at T = exp(log_t)."""
    logp = log_softmax(logits / math.exp(log_t))
    return float(-np.mean(logp[np.arange(len(labels)), labels]))


def fit_temperature(logits: np.ndarray, labels: np.ndarray,
                    bounds: tuple[float, float] = T_BOUNDS, tol: float = 1e-7) -> float:
    """Temperature T > 0 minimizing the NLL of softmax(logits / T) (golden section on log T).

    NLL is convex in 1/T, hence unimodal in log T, so the golden-section search on
    [log lo, log hi] converges to the minimum (or to a bound when the optimum lies outside).
    """
    logits, labels = _check(logits, labels)
    if not np.all(np.isfinite(logits)):
        raise ValueError("logits must be finite")
    if not 0 < bounds[0] < bounds[1]:
        raise ValueError("bounds must satisfy 0 < lo < hi")
    a, b = math.log(bounds[0]), math.log(bounds[1])
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = _nll_at_log_t(logits, labels, c), _nll_at_log_t(logits, labels, d)
    while b - a > tol:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = _nll_at_log_t(logits, labels, c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = _nll_at_log_t(logits, labels, d)
    candidates = [(a, _nll_at_log_t(logits, labels, a)), (b, _nll_at_log_t(logits, labels, b)),
                  ((a + b) / 2, _nll_at_log_t(logits, labels, (a + b) / 2))]
    return float(math.exp(min(candidates, key=lambda pair: pair[1])[0]))


def apply_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Calibrated probabilities softmax(logits / T); T > 0 leaves the argmax unchanged."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return softmax(np.asarray(logits, dtype=np.float64) / temperature)


def model_logits(model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Pre-softmax scores (N, 10) as float64 from the model's "logits" layer, silently."""
    import keras

    from cnnbook.models import LOGITS_LAYER

    try:
        layer = model.get_layer(LOGITS_LAYER)
    except ValueError as exc:
        raise ValueError(f"model {model.name!r} has no layer named {LOGITS_LAYER!r}") from exc
    head = keras.Model(model.inputs, layer.output)
    return np.asarray(head.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64)
