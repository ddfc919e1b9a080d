"""Uncertainty that comes from the regularizer, and what confidence is good for (chapter "Calibration").

* **MC dropout** (Gal & Ghahramani 2016): keep Dropout on at test time and average T stochastic
  forward passes. In the book's Dropout model both Dropout layers sit in the dense head, so the
  convolutional features are computed once and only the head is sampled - in NumPy, with the
  chapter "Regularization"'s own ``dropout``.
* **Deep ensembles** (Lakshminarayanan et al. 2017): average the probabilities of independently
  trained networks.
* **Entropy and mutual information**: the predictive entropy H[mean_t p_t] is the total uncertainty;
  the mutual information H[mean_t p_t] - mean_t H[p_t] is the part on which the samples disagree
  (the model's, "epistemic", uncertainty).
* **Selective prediction**: answer only the most confident fraction of inputs; the risk-coverage
  curve shows what the confidence is worth as a ranking.
* The summaries of the "verdict" on the claim that regularized models are more honest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnbook.core.metrics import check_scores, softmax
from cnnbook.lessons.dropout import dropout

LOG_FLOOR = 1e-12


@dataclass(frozen=True)
class DenseHead:
    """The Dropout model's head: Dropout -> Dense(ReLU) -> Dropout -> Dense -> softmax."""

    hidden_kernel: np.ndarray  # (features, hidden)
    hidden_bias: np.ndarray  # (hidden,)
    logits_kernel: np.ndarray  # (hidden, classes)
    logits_bias: np.ndarray  # (classes,)
    rate: float


def head_logits(
    head: DenseHead, features: np.ndarray, rng: np.random.Generator | None
) -> np.ndarray:
    """The head's logits; with a generator one stochastic pass (both Dropouts on)."""
    x = np.asarray(features, dtype=np.float32)  # float32 like the model (3x faster)
    if rng is not None:
        x = dropout(x, head.rate, training=True, rng=rng)
    hidden = np.maximum(x @ head.hidden_kernel + head.hidden_bias, 0.0)
    if rng is not None:
        hidden = dropout(hidden, head.rate, training=True, rng=rng)
    return hidden @ head.logits_kernel + head.logits_bias


def mc_dropout_samples(
    head: DenseHead, features: np.ndarray, samples: int, seed: int = 0
) -> np.ndarray:
    """(samples, N, classes) softmax probabilities of `samples` stochastic passes through the head."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    rng = np.random.default_rng(seed)
    return np.stack([softmax(head_logits(head, features, rng)) for _ in range(samples)])


def ensemble(probabilities: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """The members' (or MC samples') probabilities averaged: the predictive distribution."""
    stacked = np.asarray(probabilities, dtype=np.float64)
    if stacked.ndim != 3:
        raise ValueError(f"expected (members, N, classes), got shape {stacked.shape}")
    return stacked.mean(axis=0)


def entropy(probs: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row of probabilities."""
    p = np.asarray(probs, dtype=np.float64)
    return -np.sum(p * np.log(np.clip(p, LOG_FLOOR, 1.0)), axis=-1)


def mutual_information(samples: np.ndarray) -> np.ndarray:
    """H[mean of samples] - mean of H[sample], per input: how much the stochastic passes disagree."""
    samples = np.asarray(samples, dtype=np.float64)
    return entropy(samples.mean(axis=0)) - entropy(samples).mean(axis=0)


def risk_coverage(
    probs: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Coverage k/N and the accuracy on the k most confident inputs, for k = 1..N."""
    probs, labels = check_scores(probs, labels)
    order = np.argsort(-probs.max(axis=1), kind="stable")
    correct = (probs.argmax(axis=1) == labels)[order]
    k = np.arange(1, len(labels) + 1)
    return k / len(labels), np.cumsum(correct) / k


def accuracy_at_coverage(
    probs: np.ndarray, labels: np.ndarray, coverage: float
) -> float:
    """Accuracy when only the most confident `coverage` fraction of inputs is answered."""
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1], got {coverage}")
    covered, accuracy = risk_coverage(probs, labels)
    return float(accuracy[int(np.ceil(coverage * len(covered))) - 1])


@dataclass(frozen=True)
class ConfidenceFacts:
    """What the claim "regularized models are more honest" can be checked against, for one model."""

    band_correct: int  # right predictions among those made with confidence in the band
    band_count: int  # predictions made with confidence in the band
    band_confidence: float  # their mean confidence (what a calibrated model's band accuracy would be)
    confidence_when_right: float
    confidence_when_wrong: float
    confident_mistakes: int  # mistakes made with confidence above `high`
    mistakes: int


def confidence_facts(
    probs: np.ndarray,
    labels: np.ndarray,
    band: tuple[float, float] = (0.4, 0.6),
    high: float = 0.9,
) -> ConfidenceFacts:
    """Accuracy in a confidence band, mean confidence when right and wrong, confident mistakes."""
    probs, labels = check_scores(probs, labels)
    confidence = probs.max(axis=1)
    right = probs.argmax(axis=1) == labels
    in_band = (confidence >= band[0]) & (confidence < band[1])
    return ConfidenceFacts(
        int(np.sum(right & in_band)),
        int(np.sum(in_band)),
        float(confidence[in_band].mean()) if in_band.any() else float("nan"),
        float(confidence[right].mean()),
        float(confidence[~right].mean()),
        int(np.sum(~right & (confidence > high))),
        int(np.sum(~right)),
    )
