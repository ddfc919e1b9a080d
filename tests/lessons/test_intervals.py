"""cnnbook.lessons.intervals against scipy.stats and against synthetic data with a known answer."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from scipy import stats

from cnnbook.lessons import intervals as iv

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    "only_a, only_b", [(0, 0), (3, 0), (10, 12), (40, 61), (7, 7), (150, 120)]
)
def test_mcnemar_is_the_binomial_test_on_discordant_pairs(
    only_a: int, only_b: int
) -> None:
    both, neither = 500, 80
    a = np.array([1] * only_a + [0] * only_b + [1] * both + [0] * neither, bool)
    b = np.array([0] * only_a + [1] * only_b + [1] * both + [0] * neither, bool)
    result = iv.mcnemar_exact(a, b)
    assert (result.only_first, result.only_second) == (only_a, only_b)
    expected = (
        stats.binomtest(only_a, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    )
    assert result.p_value == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (50, 100), (731, 1000), (20, 20)])
def test_wilson_interval_matches_scipy(k: int, n: int) -> None:
    ours = iv.proportion_interval(k, n)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert ours.estimate == pytest.approx(k / n)
    assert (ours.low, ours.high) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert math.isnan(iv.proportion_interval(0, 0).estimate)


def test_normal_quantile_matches_scipy() -> None:
    for q in (0.5, 0.9, 0.975, 0.995):
        assert iv._normal_quantile(q) == pytest.approx(stats.norm.ppf(q), abs=1e-9)


def test_bootstrap_interval_agrees_with_scipy_percentile_bootstrap() -> None:
    x = RNG.normal(1.0, 2.0, size=300)
    ours = iv.bootstrap_interval(np.mean, x, n_bootstrap=4000, seed=1)
    theirs = stats.bootstrap(
        (x,), np.mean, n_resamples=4000, method="percentile", random_state=1
    )
    assert ours.estimate == pytest.approx(x.mean())
    assert ours.low == pytest.approx(theirs.confidence_interval.low, abs=0.05)
    assert ours.high == pytest.approx(theirs.confidence_interval.high, abs=0.05)


def test_bootstrap_interval_covers_the_true_accuracy_about_95_percent_of_the_time() -> (
    None
):
    true_p, n, trials = 0.7, 400, 300
    covered = 0
    for trial in range(trials):
        correct = RNG.random(n) < true_p
        covered += iv.bootstrap_interval(
            np.mean, correct.astype(float), n_bootstrap=400, seed=trial
        ).covers(true_p)
    assert (
        0.90 <= covered / trials <= 0.99
    )  # nominal 0.95; binomial noise on 300 trials is ~1.3 points


def test_paired_difference_cancels_shared_difficulty() -> None:
    difficulty = RNG.random(2000)
    a = (difficulty < 0.80).astype(float)
    b = ((difficulty < 0.78) | (RNG.random(2000) < 0.01)).astype(float)
    paired = iv.paired_difference(np.mean, (a,), (b,), seed=2)
    separate = [iv.bootstrap_interval(np.mean, v, seed=s) for s, v in enumerate((a, b))]
    assert paired.estimate == pytest.approx(a.mean() - b.mean())
    assert paired.high - paired.low < 0.5 * (separate[0].high - separate[0].low)
    same = iv.paired_difference(np.mean, (a,), (a,))
    assert (same.low, same.estimate, same.high) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="same items"):
        iv.paired_difference(np.mean, (a,), (b[:10],))


def test_verdict_reads_the_interval() -> None:
    assert iv.verdict(iv.Interval(-0.02, -0.03, -0.01)) == "lower"
    assert iv.verdict(iv.Interval(0.02, 0.01, 0.03)) == "higher"
    assert iv.verdict(iv.Interval(0.01, -0.01, 0.03)) == "indistinguishable"
    assert iv.Interval(0.7712, 0.763, 0.779).format(100, 1, "%") == "77.1% [76.3, 77.9]"


def test_mean_and_sd_across_seeds() -> None:
    values = [0.771, 0.768, 0.775]
    mean, sd = iv.mean_and_sd(values)
    assert mean == pytest.approx(statistics.mean(values)) and sd == pytest.approx(
        statistics.stdev(values)
    )
    assert math.isnan(iv.mean_and_sd([0.5])[1])


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="level"):
        iv.bootstrap_interval(np.mean, np.ones(3), level=95)
    with pytest.raises(ValueError, match="same length"):
        iv.bootstrap_interval(lambda a, b: 0.0, np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="equal-length"):
        iv.mcnemar_exact(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="successes"):
        iv.proportion_interval(5, 3)


@pytest.mark.parametrize(
    "first, second",
    [
        ([0.9075, 0.9098, 0.9094], [0.9088, 0.9061, 0.9102]),
        ([1.0, 2.0, 4.0, 8.0], [3.0, 3.5]),
        ([0.5, 0.52], [0.41, 0.47, 0.43, 0.44, 0.40]),
    ],
)
def test_seed_difference_is_welchs_interval(first: list, second: list) -> None:
    ours = iv.seed_difference(first, second)
    welch = stats.ttest_ind(first, second, equal_var=False).confidence_interval(0.95)
    assert ours.estimate == pytest.approx(np.mean(first) - np.mean(second))
    assert (ours.low, ours.high) == pytest.approx((welch.low, welch.high), rel=1e-10)


def test_seed_difference_reads_a_clear_shift_and_refuses_one_run() -> None:
    assert (
        iv.verdict(iv.seed_difference([0.90, 0.91, 0.905], [0.80, 0.81, 0.805]))
        == "higher"
    )
    assert (
        iv.verdict(iv.seed_difference([0.90, 0.91], [0.905, 0.90]))
        == "indistinguishable"
    )
    same = iv.seed_difference([0.9, 0.9], [0.9, 0.9])
    assert (same.low, same.high) == (0.0, 0.0)
    with pytest.raises(ValueError, match="at least two runs"):
        iv.seed_difference([0.9], [0.9, 0.91])
