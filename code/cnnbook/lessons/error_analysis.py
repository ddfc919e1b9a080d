"""Typical errors (chapter "Visualization"): confusion matrix, confused pairs, telling examples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from cnnbook.core.data import NUM_CLASSES


@dataclass(frozen=True)
class Examples:
    """Selected test examples: their indices, max confidence, predicted and true labels."""

    indices: np.ndarray
    confidences: np.ndarray
    predictions: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        """Number of selected examples."""
        return len(self.indices)


def _labels(values, n_classes: int, what: str) -> np.ndarray:
    """Flatten integer class labels and check they lie in [0, n_classes)."""
    values = np.asarray(values).reshape(-1)
    if values.size and (
        not np.issubdtype(values.dtype, np.integer)
        or values.min() < 0
        or values.max() >= n_classes
    ):
        raise ValueError(f"{what} must be integers in [0, {n_classes})")
    return values.astype(np.int64)


def confusion_matrix(
    labels: np.ndarray, predictions: np.ndarray, n_classes: int = NUM_CLASSES
) -> np.ndarray:
    """Counts (n_classes, n_classes): rows are true classes, columns predicted classes."""
    labels = _labels(labels, n_classes, "labels")
    predictions = _labels(predictions, n_classes, "predictions")
    if labels.shape != predictions.shape:
        raise ValueError(f"{labels.size} labels but {predictions.size} predictions")
    flat = np.bincount(
        labels * n_classes + predictions, minlength=n_classes * n_classes
    )
    return flat.reshape(n_classes, n_classes)


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall of each true class: diagonal / row sum (NaN for a class with no examples)."""
    cm = np.asarray(cm, dtype=np.float64)
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / totals, np.nan)


def most_confused_pairs(
    cm: np.ndarray, class_names: Sequence[str], k: int = 5
) -> list[tuple[str, str, int]]:
    """The k largest off-diagonal cells as (true name, predicted name, count), zeros left out."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or len(class_names) != cm.shape[0]:
        raise ValueError("cm must be square with one class name per row")
    off = cm.astype(np.int64).copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:k]  # ties keep row-major order
    pairs = [np.unravel_index(i, off.shape) for i in order]
    return [
        (class_names[t], class_names[p], int(off[t, p]))
        for t, p in pairs
        if off[t, p] > 0
    ]


def _select(
    probs: np.ndarray, labels: np.ndarray, k: int, wrong: bool, descending: bool
) -> Examples:
    """Up to k wrong (or right) predictions ordered by max confidence."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(probs) != np.size(labels):
        raise ValueError(
            f"expected (N, K) probabilities and N labels, got {probs.shape}, {np.shape(labels)}"
        )
    labels = _labels(labels, probs.shape[1], "labels")
    predictions, confidences = probs.argmax(axis=1), probs.max(axis=1)
    candidates = np.flatnonzero(
        (predictions != labels) if wrong else (predictions == labels)
    )
    key = -confidences[candidates] if descending else confidences[candidates]
    chosen = candidates[np.argsort(key, kind="stable")[:k]]
    return Examples(chosen, confidences[chosen], predictions[chosen], labels[chosen])


def most_confident_mistakes(
    probs: np.ndarray, labels: np.ndarray, k: int = 8
) -> Examples:
    """The k wrong predictions with the highest confidence, most confident first."""
    return _select(probs, labels, k, wrong=True, descending=True)


def least_confident_correct(
    probs: np.ndarray, labels: np.ndarray, k: int = 8
) -> Examples:
    """The k right predictions with the lowest confidence, least confident first."""
    return _select(probs, labels, k, wrong=False, descending=False)
