"""Calibration (chapter "Calibration"): reliability bins, ECE/MCE, NLL, Brier and temperature scaling.

Conventions (Guo et al. 2017, "On Calibration of Modern Neural Networks"):

* confidence = max_k p_k, prediction = argmax_k p_k;
* ``n_bins`` equal-width bins on [0, 1], bin b = (lo, hi], the first bin also contains 0;
* ECE = sum_b (n_b / N) |acc_b - conf_b|, MCE = max of |acc_b - conf_b| over the bins holding at
  least ``min_count`` predictions (MIN_BIN_COUNT, so that a bin of one image cannot decide it);
* Brier score (multi-class, Brier 1950) = mean over samples of sum over classes of (p_k - y_k)^2,
  with y the one-hot label: 0 is perfect, 2 the worst possible (not divided by the class count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnnbook.core.metrics import (
    accuracy,
    check_scores,
    log_softmax,
    negative_log_likelihood,
    softmax,
)

N_BINS = 15  # equal-width bins of every reliability diagram, ECE and MCE in the book
MIN_BIN_COUNT = (
    50  # the MCE ignores bins with fewer predictions (0.5% of the 10,000 test images)
)
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


def reliability_bins(
    probs: np.ndarray, labels: np.ndarray, n_bins: int = N_BINS
) -> ReliabilityBins:
    """Equal-width bins (lo, hi] on the top confidence: count, confidence, accuracy."""
    probs, labels = check_scores(probs, labels)
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.searchsorted(edges, confidence, side="left") - 1  # bins are (lo, hi]
    index = np.clip(index, 0, n_bins - 1)  # a confidence of 0 joins the first bin
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, weights=confidence, minlength=n_bins) / counts
        accuracy_ = np.bincount(index, weights=correct, minlength=n_bins) / counts
    return ReliabilityBins(edges, counts, mean_conf, accuracy_)


def expected_calibration_error(
    probs: np.ndarray, labels: np.ndarray, n_bins: int = N_BINS
) -> float:
    """ECE: the sample-weighted mean of |accuracy - confidence| over the bins."""
    bins = reliability_bins(probs, labels, n_bins)
    filled = bins.counts > 0
    return float(np.sum(bins.counts[filled] * bins.gaps[filled]) / bins.counts.sum())


def maximum_calibration_error(
    probs: np.ndarray,
    labels: np.ndarray,
    n_bins: int = N_BINS,
    min_count: int = MIN_BIN_COUNT,
) -> float:
    """MCE: the largest |accuracy - confidence| over the bins holding at least min_count predictions.

    A bin of one or two images has an accuracy of 0 or 1 by chance; the book ignores bins with fewer
    than MIN_BIN_COUNT predictions (NaN if no bin is that full). min_count=1 gives the textbook MCE.
    """
    bins = reliability_bins(probs, labels, n_bins)
    full = bins.counts >= max(min_count, 1)
    return float(np.max(bins.gaps[full])) if full.any() else float("nan")


def brier_score(probs: np.ndarray, labels: np.ndarray) -> float:
    """Multi-class Brier score: mean over samples of sum_k (p_k - onehot_k)^2, in [0, 2]."""
    probs, labels = check_scores(probs, labels)
    onehot = np.eye(probs.shape[1])[labels]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def calibration_report(
    probs: np.ndarray, labels: np.ndarray, n_bins: int = N_BINS
) -> dict[str, float]:
    """All headline numbers: accuracy, mean_confidence, ece, mce, nll, brier."""
    probs, labels = check_scores(probs, labels)
    return {
        "accuracy": accuracy(probs, labels),
        "mean_confidence": float(np.mean(probs.max(axis=1))),
        "ece": expected_calibration_error(probs, labels, n_bins),
        "mce": maximum_calibration_error(probs, labels, n_bins),
        "nll": negative_log_likelihood(probs, labels),
        "brier": brier_score(probs, labels),
    }


def confidence_histogram(
    probs: np.ndarray, labels: np.ndarray
) -> dict[str, np.ndarray]:
    """Max confidences split into {"correct": ..., "wrong": ...} predictions."""
    probs, labels = check_scores(probs, labels)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    return {"correct": confidence[correct], "wrong": confidence[~correct]}


def _nll_at_log_t(logits: np.ndarray, labels: np.ndarray, log_t: float) -> float:
    """Mean NLL of softmax(logits / T) at T = exp(log_t)."""
    logp = log_softmax(logits / math.exp(log_t))
    return float(-np.mean(logp[np.arange(len(labels)), labels]))


def fit_temperature(
    logits: np.ndarray,
    labels: np.ndarray,
    bounds: tuple[float, float] = T_BOUNDS,
    tol: float = 1e-7,
) -> float:
    """Temperature T > 0 minimizing the NLL of softmax(logits / T), by golden section.

    NLL is convex in 1/T, hence unimodal in log T, so a golden-section search on
    [log lo, log hi] converges to the minimum (or to a bound if it lies outside).
    """
    logits, labels = check_scores(logits, labels)
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
    candidates = [a, b, (a + b) / 2]
    best = min(candidates, key=lambda log_t: _nll_at_log_t(logits, labels, log_t))
    return float(math.exp(best))


def apply_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Calibrated probabilities softmax(logits / T); T > 0 leaves the argmax unchanged."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return softmax(np.asarray(logits, dtype=np.float64) / temperature)
