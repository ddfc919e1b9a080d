"""Calibration metrics and temperature scaling against hand computations and plain-loop references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnnbook.lessons import calibration as cal


def _loop_ece_mce(
    probs: np.ndarray, labels: np.ndarray, n_bins: int
) -> tuple[float, float]:
    """Reference ECE/MCE written as the textbook double loop, bins (lo, hi] with 0 in the first."""
    n = len(labels)
    ece, mce = 0.0, 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        members = []
        for i in range(n):
            conf = max(probs[i])
            if (lo < conf <= hi) or (b == 0 and conf == 0.0):
                members.append(i)
        if not members:
            continue
        acc = sum(int(np.argmax(probs[i]) == labels[i]) for i in members) / len(members)
        conf = sum(max(probs[i]) for i in members) / len(members)
        ece += len(members) / n * abs(acc - conf)
        mce = max(mce, abs(acc - conf))
    return ece, mce


def _tiny() -> tuple[np.ndarray, np.ndarray]:
    """Four two-class samples: confidences 0.9, 0.8 (one wrong), 0.6, 0.7 (both right)."""
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    labels = np.array([0, 0, 0, 1])
    return probs, labels


def test_reliability_bins_tiny_by_hand():
    probs, labels = _tiny()
    bins = cal.reliability_bins(probs, labels, n_bins=4)  # edges 0, .25, .5, .75, 1
    np.testing.assert_allclose(bins.edges, [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(
        bins.counts, [0, 0, 2, 2]
    )  # {0.6, 0.7} and {0.9, 0.8}
    np.testing.assert_allclose(bins.confidence[2:], [0.65, 0.85])
    np.testing.assert_allclose(bins.accuracy[2:], [1.0, 0.5])
    assert np.isnan(bins.confidence[0]) and np.isnan(bins.accuracy[1])


def test_ece_mce_tiny_by_hand():
    probs, labels = _tiny()
    # bin 3 (.5, .75]: conf .65, acc 1 -> gap .35; bin 4 (.75, 1]: conf .85, acc .5 -> gap .35
    assert cal.expected_calibration_error(probs, labels, n_bins=4) == pytest.approx(
        0.35
    )
    assert cal.maximum_calibration_error(
        probs, labels, n_bins=4, min_count=1
    ) == pytest.approx(0.35)
    assert math.isnan(
        cal.maximum_calibration_error(probs, labels, n_bins=4)
    )  # no bin holds 50
    # one bin: conf .75, acc .75 -> perfectly calibrated on average
    assert cal.expected_calibration_error(probs, labels, n_bins=1) == pytest.approx(
        0.0, abs=1e-12
    )


def test_bin_edges_are_right_closed():
    probs = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])
    bins = cal.reliability_bins(probs, np.array([0, 0, 1]), n_bins=2)
    np.testing.assert_array_equal(
        bins.counts, [1, 2]
    )  # 0.5 -> [0, .5]; 1.0 twice -> (.5, 1]
    zero = cal.reliability_bins(np.array([[0.0, 0.0]]), np.array([1]), n_bins=3)
    np.testing.assert_array_equal(
        zero.counts, [1, 0, 0]
    )  # confidence 0 lands in the first bin


def test_ece_mce_match_loop_reference():
    rng = np.random.default_rng(0)
    probs = cal.softmax(rng.normal(scale=2.0, size=(300, 10)))
    labels = rng.integers(0, 10, size=300)
    for n_bins in (1, 7, 15):
        ece, mce = _loop_ece_mce(probs, labels, n_bins)
        assert cal.expected_calibration_error(probs, labels, n_bins) == pytest.approx(
            ece, abs=1e-12
        )
        assert cal.maximum_calibration_error(
            probs, labels, n_bins, min_count=1
        ) == pytest.approx(mce, abs=1e-12)
    bins = cal.reliability_bins(probs, labels, 15)
    assert bins.counts.sum() == 300


def test_nll_brier_accuracy_closed_forms():
    probs, labels = _tiny()
    assert cal.negative_log_likelihood(probs, labels) == pytest.approx(
        -(math.log(0.9) + math.log(0.2) + math.log(0.6) + math.log(0.7)) / 4
    )
    # per sample: 2*(1-p_true)^2 for two classes
    expected = np.mean([2 * 0.1**2, 2 * 0.8**2, 2 * 0.4**2, 2 * 0.3**2])
    assert cal.brier_score(probs, labels) == pytest.approx(expected)
    assert cal.accuracy(probs, labels) == pytest.approx(0.75)
    uniform = np.full((5, 10), 0.1)
    assert cal.brier_score(uniform, np.zeros(5, dtype=int)) == pytest.approx(
        0.9**2 + 9 * 0.1**2
    )
    assert cal.negative_log_likelihood(
        uniform, np.zeros(5, dtype=int)
    ) == pytest.approx(math.log(10))
    worst = np.eye(3)[[1, 2]]
    assert cal.brier_score(worst, np.array([0, 0])) == pytest.approx(2.0)


def test_report_and_confidence_histogram():
    probs, labels = _tiny()
    report = cal.calibration_report(probs, labels, n_bins=4)
    assert set(report) == {"accuracy", "mean_confidence", "ece", "mce", "nll", "brier"}
    assert report["mean_confidence"] == pytest.approx(0.75)
    assert report["ece"] == pytest.approx(0.35)
    hist = cal.confidence_histogram(probs, labels)
    np.testing.assert_allclose(hist["correct"], [0.9, 0.6, 0.7])
    np.testing.assert_allclose(hist["wrong"], [0.8])


def test_invalid_inputs_raise():
    with pytest.raises(ValueError):
        cal.reliability_bins(np.ones((3, 2)) / 2, np.array([0, 1]))
    with pytest.raises(ValueError):
        cal.brier_score(np.ones((2, 2)) / 2, np.array([0, 2]))
    with pytest.raises(ValueError):
        cal.apply_temperature(np.zeros((1, 3)), 0.0)


def _synthetic(
    t_true: float, n: int = 20000, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Logits z and labels drawn from softmax(z / t_true): the NLL optimum is near t_true."""
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=4.0, size=(n, 10))
    p = cal.softmax(z / t_true)
    labels = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return z, labels


@pytest.mark.parametrize("t_true", [0.5, 2.5])
def test_fit_temperature_recovers_known_t(t_true):
    z, labels = _synthetic(t_true)
    t = cal.fit_temperature(z, labels)
    assert t == pytest.approx(t_true, rel=0.04)


def test_fit_temperature_is_nll_minimum_and_keeps_accuracy():
    z, labels = _synthetic(2.0, n=3000, seed=3)
    t = cal.fit_temperature(z, labels)

    def nll(temp: float) -> float:
        return cal.negative_log_likelihood(cal.apply_temperature(z, temp), labels)

    assert nll(t) <= nll(1.0) + 1e-12
    grid = np.exp(np.linspace(math.log(0.05), math.log(20), 400))
    assert nll(t) <= min(nll(g) for g in grid) + 1e-9  # independent brute-force grid
    assert cal.accuracy(cal.apply_temperature(z, t), labels) == cal.accuracy(
        cal.softmax(z), labels
    )


def test_fit_temperature_robust_to_huge_logits():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(500, 10)) * 1e4
    labels = np.where(rng.random(500) < 0.7, z.argmax(axis=1), rng.integers(0, 10, 500))
    t = cal.fit_temperature(z, labels)
    assert math.isfinite(t) and t > 0
    p = cal.apply_temperature(z, t)
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(axis=1), 1.0)
    nll_fit = -np.mean(cal.log_softmax(z / t)[np.arange(500), labels])
    nll_raw = -np.mean(cal.log_softmax(z)[np.arange(500), labels])
    assert math.isfinite(nll_fit) and nll_fit < nll_raw
    assert t == pytest.approx(
        cal.T_BOUNDS[1], rel=1e-3
    )  # overconfident beyond the search range


def test_fit_temperature_separable_hits_lower_bound():
    z = np.array([[5.0, 0.0], [0.0, 5.0], [3.0, 1.0]])
    t = cal.fit_temperature(z, np.array([0, 1, 0]))
    assert t == pytest.approx(cal.T_BOUNDS[0], rel=1e-3) and t > 0
