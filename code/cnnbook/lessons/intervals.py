"""How sure is a difference? Bootstrap intervals, McNemar's exact test, paired comparisons (chapters
"Architectures", "Regularization", "Calibration", "Visualization").

A test set of n images gives every metric a sampling error: an accuracy of 0.79 on 10,000 images has
a standard error of sqrt(0.79 * 0.21 / 10000) = 0.4 points. The tools here put that error on every
number the book compares:

* ``bootstrap_interval`` - resample the n test images with replacement, recompute the metric, and
  take the 2.5% and 97.5% quantiles (percentile bootstrap, Efron & Tibshirani 1993);
* ``paired_difference`` - the same, for metric(A) - metric(B) on the *same* resampled images, which
  cancels the images' shared difficulty and is far tighter than two separate intervals;
* ``mcnemar_exact`` - whether two classifiers' accuracies differ: only the images on which exactly
  one of them is right carry information; under "no difference" each of those goes either way with
  probability 1/2 (a binomial test on the discordant pairs, McNemar 1947);
* ``proportion_interval`` - the Wilson score interval for a fraction (Wilson 1927);
* ``seed_difference`` - mean(A) - mean(B) over independent training runs (seeds), Welch's t interval
  (Welch 1947): for comparing two recipes rather than two trained networks;
* ``verdict`` - "lower", "higher" or "indistinguishable" from the interval of a difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

LEVEL = 0.95
N_BOOTSTRAP = 1000

Metric = Callable[..., float]


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval [low, high]."""

    estimate: float
    low: float
    high: float

    def covers(self, value: float) -> bool:
        """Whether value lies inside the interval."""
        return self.low <= value <= self.high

    def format(self, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
        """'77.1% [76.3, 77.9]'-style text, every number multiplied by scale."""
        return (
            f"{self.estimate * scale:.{digits}f}{unit} "
            f"[{self.low * scale:.{digits}f}, {self.high * scale:.{digits}f}]"
        )


def _check_level(level: float) -> None:
    """Refuse a confidence level outside (0, 1)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")


def bootstrap_indices(
    n: int, n_bootstrap: int = N_BOOTSTRAP, seed: int = 0
) -> np.ndarray:
    """(n_bootstrap, n) indices drawn with replacement: one resampled test set per row."""
    if n < 1 or n_bootstrap < 1:
        raise ValueError(
            f"need at least one item and one resample, got n={n}, n_bootstrap={n_bootstrap}"
        )
    return np.random.default_rng(seed).integers(0, n, size=(n_bootstrap, n))


def bootstrap_interval(
    metric: Metric,
    *arrays: np.ndarray,
    level: float = LEVEL,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> Interval:
    """Percentile-bootstrap interval of metric(*arrays); the arrays are resampled together, by row."""
    _check_level(level)
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(
            f"arrays must have the same length, got {[len(a) for a in arrays]}"
        )
    samples = [
        metric(*(a[rows] for a in arrays))
        for rows in bootstrap_indices(n, n_bootstrap, seed)
    ]
    low, high = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(metric(*arrays)), float(low), float(high))


def paired_difference(
    metric: Metric,
    first: tuple[np.ndarray, ...],
    second: tuple[np.ndarray, ...],
    level: float = LEVEL,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> Interval:
    """Interval of metric(*first) - metric(*second), both evaluated on the same resampled items."""
    _check_level(level)
    n = len(first[0])
    if any(len(a) != n for a in (*first, *second)):
        raise ValueError(
            "a paired comparison needs the same items (rows) on both sides"
        )
    diffs = [
        metric(*(a[rows] for a in first)) - metric(*(a[rows] for a in second))
        for rows in bootstrap_indices(n, n_bootstrap, seed)
    ]
    low, high = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(metric(*first) - metric(*second)), float(low), float(high))


@dataclass(frozen=True)
class McNemar:
    """Discordant pairs (only A right, only B right) and the exact two-sided p-value."""

    only_first: int
    only_second: int
    p_value: float


def mcnemar_exact(first_correct: np.ndarray, second_correct: np.ndarray) -> McNemar:
    """McNemar's exact test: do two classifiers, scored on the same items, differ in accuracy?"""
    a, b = np.asarray(first_correct, bool), np.asarray(second_correct, bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"need two equal-length 1-D arrays of right/wrong, got {a.shape} and {b.shape}"
        )
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n, k = only_a + only_b, min(only_a, only_b)
    # P(X <= k) for X ~ Binomial(n, 1/2), doubled for two sides (capped at 1; n = 0 gives 1).
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n if n else 1.0
    return McNemar(only_a, only_b, min(1.0, 2 * tail))


def proportion_interval(successes: int, trials: int, level: float = LEVEL) -> Interval:
    """Wilson score interval for a fraction successes / trials (NaN interval for no trials)."""
    _check_level(level)
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if trials == 0:
        return Interval(math.nan, math.nan, math.nan)
    z = _normal_quantile((1 + level) / 2)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (
        z
        * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials**2))
        / (1 + z * z / trials)
    )
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def _normal_quantile(q: float) -> float:
    """Inverse of the standard normal CDF (bisection on math.erf, exact to 1e-12)."""
    low, high = -10.0, 10.0
    for _ in range(100):
        mid = (low + high) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < q:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def seed_difference(
    first: list[float] | np.ndarray,
    second: list[float] | np.ndarray,
    level: float = LEVEL,
) -> Interval:
    """mean(first) - mean(second) over independent runs with Welch's t interval (chapter "Putting it
    all together": the port's seeds against the original airbench's)."""
    from scipy import stats  # only the t quantile; the formula is written out below

    _check_level(level)
    a, b = (np.asarray(v, dtype=np.float64) for v in (first, second))
    if a.size < 2 or b.size < 2:
        raise ValueError(
            f"need at least two runs on each side, got {a.size} and {b.size}"
        )
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    difference = float(a.mean() - b.mean())
    if va + vb == 0:
        return Interval(difference, difference, difference)
    # Welch-Satterthwaite degrees of freedom
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * math.sqrt(va + vb)
    return Interval(difference, difference - half, difference + half)


def verdict(
    difference: Interval, lower_is: str = "lower", higher_is: str = "higher"
) -> str:
    """How a difference reads: 'indistinguishable' when its interval covers zero."""
    if difference.covers(0.0):
        return "indistinguishable"
    return lower_is if difference.estimate < 0 else higher_is


def mean_and_sd(values: list[float] | np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) across runs (seeds); sd is NaN for one run."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("need at least one value")
    return float(values.mean()), float(
        values.std(ddof=1)
    ) if values.size > 1 else math.nan
