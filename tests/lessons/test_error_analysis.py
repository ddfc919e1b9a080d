"""Confusion matrix and example selection against hand-made cases and loop references."""

from __future__ import annotations

import numpy as np
import pytest

from cnnbook.lessons import error_analysis as errors

NAMES = ["cat", "dog", "frog"]


def test_confusion_matrix_by_hand():
    labels = np.array([0, 0, 1, 1, 1, 2])
    preds = np.array([0, 1, 1, 0, 0, 2])
    expected = np.array([[1, 1, 0], [2, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(
        errors.confusion_matrix(labels, preds, n_classes=3), expected
    )


def test_confusion_matrix_matches_loop_and_add_at():
    rng = np.random.default_rng(0)
    labels, preds = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    loop = np.zeros((10, 10), dtype=int)
    for t, p in zip(labels, preds):
        loop[t, p] += 1
    other = np.zeros((10, 10), dtype=int)
    np.add.at(other, (labels, preds), 1)
    cm = errors.confusion_matrix(labels, preds)
    np.testing.assert_array_equal(cm, loop)
    np.testing.assert_array_equal(cm, other)
    np.testing.assert_allclose(
        errors.per_class_accuracy(cm),
        [np.mean(preds[labels == c] == c) for c in range(10)],
    )


def test_confusion_matrix_rejects_bad_input():
    with pytest.raises(ValueError):
        errors.confusion_matrix(np.array([0, 3]), np.array([0, 1]), n_classes=3)
    with pytest.raises(ValueError):
        errors.confusion_matrix(np.array([0, 1]), np.array([0]), n_classes=3)


def test_per_class_accuracy_empty_class_is_nan():
    acc = errors.per_class_accuracy(np.array([[3, 1, 0], [0, 0, 0], [1, 1, 2]]))
    np.testing.assert_allclose(acc[[0, 2]], [0.75, 0.5])
    assert np.isnan(acc[1])


def test_most_confused_pairs_sorted_and_off_diagonal():
    cm = np.array([[50, 3, 7], [9, 40, 0], [7, 1, 60]])
    pairs = errors.most_confused_pairs(cm, NAMES, k=4)
    assert pairs == [
        ("dog", "cat", 9),
        ("cat", "frog", 7),
        ("frog", "cat", 7),
        ("cat", "dog", 3),
    ]
    assert (
        errors.most_confused_pairs(np.diag([5, 5, 5]), NAMES) == []
    )  # zeros are left out
    assert len(errors.most_confused_pairs(cm, NAMES, k=10)) == 5


def _probs() -> tuple[np.ndarray, np.ndarray]:
    probs = np.array(
        [
            [0.90, 0.05, 0.05],  # wrong (label 1), conf .90
            [0.40, 0.35, 0.25],  # right, conf .40
            [0.10, 0.20, 0.70],  # wrong (label 0), conf .70
            [0.20, 0.75, 0.05],  # right, conf .75
            [0.34, 0.33, 0.33],  # right, conf .34
            [0.05, 0.95, 0.00],
        ]
    )  # wrong (label 2), conf .95
    return probs, np.array([1, 0, 0, 1, 0, 2])


def test_most_confident_mistakes():
    ex = errors.most_confident_mistakes(*_probs(), k=2)
    np.testing.assert_array_equal(ex.indices, [5, 0])
    np.testing.assert_allclose(ex.confidences, [0.95, 0.90])
    np.testing.assert_array_equal(ex.predictions, [1, 0])
    np.testing.assert_array_equal(ex.labels, [2, 1])
    assert len(errors.most_confident_mistakes(*_probs(), k=8)) == 3


def test_least_confident_correct():
    ex = errors.least_confident_correct(*_probs(), k=8)
    np.testing.assert_array_equal(ex.indices, [4, 1, 3])
    np.testing.assert_allclose(ex.confidences, [0.34, 0.40, 0.75])
    np.testing.assert_array_equal(ex.predictions, ex.labels)


def test_selection_matches_brute_force():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(200, 10)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 10, 200)
    wrong = sorted(
        (i for i in range(200) if probs[i].argmax() != labels[i]),
        key=lambda i: -probs[i].max(),
    )
    right = sorted(
        (i for i in range(200) if probs[i].argmax() == labels[i]),
        key=lambda i: probs[i].max(),
    )
    np.testing.assert_array_equal(
        errors.most_confident_mistakes(probs, labels, k=8).indices, wrong[:8]
    )
    np.testing.assert_array_equal(
        errors.least_confident_correct(probs, labels, k=8).indices, right[:8]
    )
