# %% [raw]
# # ASSIGNMENT CONFIG
# name: 04_calibration
# init_cell: true
# check_all_cell: false
# export_cell: false
# generate: true
# tests:
#   files: true

# %% [markdown]
# # Assignment 4 — Calibration: reliability bins, ECE, temperature scaling
#
# Chapter *Calibration*. Conventions (Guo et al. 2017): confidence = $\max_k p_k$, prediction =
# $\arg\max_k p_k$; `n_bins` equal-width bins on $[0, 1]$, bin $b$ = $(lo, hi]$ — closed on the
# right — and the first bin also holds confidence 0. Estimated time: 2 hours.

# %%
import numpy as np
from scipy.optimize import minimize_scalar

# %% [raw]
# # BEGIN QUESTION
# name: q1_reliability_bins
# points: [1, 2, 2]

# %% [markdown]
# **Question 1 (5 points).** `reliability_bins(probs, labels, n_bins=15)` returns three arrays of
# length `n_bins`: the number of predictions per bin, their mean confidence and their accuracy
# (`NaN` for an empty bin).

# %% [raw]
# # BEGIN SOLUTION

# %%
def reliability_bins(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15):
    """(counts, mean confidence, accuracy) per equal-width bin (lo, hi]; NaN in empty bins."""
    # BEGIN SOLUTION
    probs, labels = np.asarray(probs, dtype=np.float64), np.asarray(labels)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, weights=confidence, minlength=n_bins) / counts
        accuracy = np.bincount(index, weights=correct, minlength=n_bins) / counts
    return counts, mean_conf, accuracy
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
_counts, _conf, _acc = reliability_bins(np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([0, 0]), n_bins=2)
assert list(_counts) == [0, 2] and np.isnan(_conf[0]) and np.isclose(_acc[1], 0.5)

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare
from cnnbook.lessons import calibration as _ref
from cnnbook.core.metrics import softmax as _softmax
def _bins(p, l, n_bins=15):
    b = _ref.reliability_bins(p, l, n_bins)
    return b.counts, b.confidence, b.accuracy
_rng = np.random.default_rng(1)
_cases = []
for _n, _k, _scale, _bins_n in [(500, 10, 3.0, 15), (50, 3, 1.0, 10), (7, 10, 0.2, 15), (300, 2, 5.0, 1)]:
    _cases.append(((_softmax(_rng.normal(size=(_n, _k)) * _scale), _rng.integers(0, _k, _n)), dict(n_bins=_bins_n)))
compare(reliability_bins, _bins, _cases)

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare
from cnnbook.lessons import calibration as _ref
def _bins(p, l, n_bins=15):
    b = _ref.reliability_bins(p, l, n_bins)
    return b.counts, b.confidence, b.accuracy
_edge = np.array([[0.2, 0.8], [0.4, 0.6], [0.6, 0.4], [1.0, 0.0], [0.5, 0.5], [0.75, 0.25]])
compare(reliability_bins, _bins, [((_edge, np.array([0, 1, 0, 0, 1, 1])), dict(n_bins=5)),
                                  ((_edge, np.array([1, 1, 1, 0, 0, 0])), dict(n_bins=4))])

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2_ece
# points: [1, 2]

# %% [markdown]
# **Question 2 (3 points).** `expected_calibration_error(probs, labels, n_bins=15)`:
# $\mathrm{ECE} = \sum_b \frac{n_b}{N} \lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert$ over the non-empty bins.
# Use your `reliability_bins`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """The sample-weighted mean gap between accuracy and confidence over the bins."""
    # BEGIN SOLUTION
    counts, confidence, accuracy = reliability_bins(probs, labels, n_bins)
    filled = counts > 0
    return float(np.sum(counts[filled] * np.abs(accuracy[filled] - confidence[filled])) / counts.sum())
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert np.isclose(expected_calibration_error(np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([0, 1]), n_bins=10), 0.45)

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare, reference_in
from cnnbook.lessons import calibration as _ref
from cnnbook.core.metrics import softmax as _softmax
def _bins(p, l, n_bins=15):
    b = _ref.reliability_bins(p, l, n_bins)
    return b.counts, b.confidence, b.accuracy
_rng = np.random.default_rng(2)
_cases = [((_softmax(_rng.normal(size=(_n, 10)) * _s), _rng.integers(0, 10, _n)), dict(n_bins=_b))
          for _n, _s, _b in [(1000, 4.0, 15), (40, 1.0, 10), (200, 8.0, 20), (3, 2.0, 15)]]
with reference_in(expected_calibration_error, reliability_bins=_bins):
    compare(expected_calibration_error, _ref.expected_calibration_error, _cases)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3_temperature
# points: [1, 2, 1]

# %% [markdown]
# **Question 3 (4 points).** Temperature scaling: `fit_temperature(logits, labels)` returns the
# $T \in [0.05, 20]$ that minimizes the mean negative log-likelihood of
# $\mathrm{softmax}(z / T)$ on **validation** data (hint: `minimize_scalar` on $\log T$), and
# `apply_temperature(logits, T)` returns the calibrated probabilities.

# %% [raw]
# # BEGIN SOLUTION

# %%
def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of softmax(logits / T)."""
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-np.mean(logp[np.arange(len(labels)), labels]))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] minimizing the validation NLL."""
    # BEGIN SOLUTION
    logits, labels = np.asarray(logits, dtype=np.float64), np.asarray(labels)
    result = minimize_scalar(lambda log_t: _nll(logits, labels, np.exp(log_t)),
                             bounds=(np.log(0.05), np.log(20.0)), method="bounded", options={"xatol": 1e-8})
    return float(np.exp(result.x))
    # END SOLUTION


def apply_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Calibrated probabilities softmax(logits / T)."""
    # BEGIN SOLUTION
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert np.allclose(apply_temperature(np.array([[0.0, np.log(3.0)]]), 1.0), [[0.25, 0.75]])

# %%
# HIDDEN
import numpy as np
from cnnbook.lessons import calibration as _ref
_rng = np.random.default_rng(3)
for _scale, _noise in [(4.0, 1.0), (0.5, 0.2), (2.0, 3.0)]:
    _labels = _rng.integers(0, 10, 800)
    _logits = _rng.normal(size=(800, 10)) * _noise
    _logits[np.arange(800), _labels] += _scale
    _t, _expected = fit_temperature(_logits, _labels), _ref.fit_temperature(_logits, _labels)
    assert abs(np.log(_t / _expected)) < 2e-3, f"fit_temperature gave T={_t:.4f}, the NLL minimum is at T={_expected:.4f}"

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare
from cnnbook.lessons import calibration as _ref
_rng = np.random.default_rng(4)
compare(apply_temperature, _ref.apply_temperature, [((_rng.normal(size=(20, 10)) * 5, _t), {}) for _t in (0.5, 1.0, 2.7)])

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## On the book's model (not graded)
#
# Fit $T$ on the validation logits of the trained baseline and compare the ECE before and after on
# the test set (set `CIFAR10_DIR`). The autograder skips this cell.

# %% tags=["otter_ignore"]
from cnnbook.book.pages import logits as _book_logits, book_data

_data = book_data()
_t = fit_temperature(_book_logits("baseline", "val"), _data.y_val)
_test = _book_logits("baseline", "test")
print(f"T = {_t:.2f}; test ECE {expected_calibration_error(apply_temperature(_test, 1.0), _data.y_test):.3f} -> "
      f"{expected_calibration_error(apply_temperature(_test, _t), _data.y_test):.3f}")
