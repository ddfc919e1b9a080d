"""cnnbook.lessons.uncertainty: the NumPy head against Keras, entropy against scipy, loops as references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cnnbook.core.metrics import model_logits, layer_outputs
from cnnbook.core.models import build_model
from cnnbook.lessons import uncertainty as un

RNG = np.random.default_rng(0)


def _head_of(model) -> un.DenseHead:
    """The Dropout model's head weights as a DenseHead."""
    (hk, hb), (lk, lb) = (
        model.get_layer("dense").get_weights(),
        model.get_layer("logits").get_weights(),
    )
    return un.DenseHead(hk, hb, lk, lb, rate=model.get_layer("dense_dropout").rate)


def test_deterministic_head_is_the_keras_model() -> None:
    model = build_model("dropout", seed=1)
    images = RNG.integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
    features = layer_outputs(model, images, "flatten")
    np.testing.assert_allclose(
        un.head_logits(_head_of(model), features, rng=None),
        model_logits(model, images),
        rtol=1e-4,
        atol=1e-4,
    )


def test_mc_dropout_matches_keras_dropout_on_average() -> None:
    from cnnbook.core.backend import keras

    model = build_model("dropout", seed=2)
    head = _head_of(model)
    features = RNG.normal(size=(3, head.hidden_kernel.shape[0])).astype("float32")
    ours = un.ensemble(un.mc_dropout_samples(head, features, samples=3000, seed=0))
    layers = [
        model.get_layer(n)
        for n in (
            "flatten_dropout",
            "dense",
            "dense_relu",
            "dense_dropout",
            "logits",
            "probabilities",
        )
    ]
    x = keras.ops.convert_to_tensor(np.repeat(features, 3000, axis=0))
    for layer in layers:
        x = layer(x, training=True) if "dropout" in layer.name else layer(x)
    theirs = np.asarray(x).reshape(3, 3000, -1).mean(axis=1)
    np.testing.assert_allclose(ours, theirs, atol=0.02)
    assert (
        un.mc_dropout_samples(head, features, 4, seed=1).std(axis=0).max() > 0
    )  # the passes differ


def test_entropy_and_mutual_information() -> None:
    p = RNG.dirichlet(np.ones(10), size=50)
    np.testing.assert_allclose(un.entropy(p), stats.entropy(p, axis=1), rtol=1e-10)
    same = np.stack([p] * 5)
    np.testing.assert_allclose(un.mutual_information(same), 0.0, atol=1e-12)
    differ = RNG.dirichlet(np.ones(10), size=(5, 50))
    assert np.all(un.mutual_information(differ) > 0)


def test_risk_coverage_against_a_loop() -> None:
    probs = RNG.dirichlet(np.ones(4), size=200)
    labels = RNG.integers(0, 4, size=200)
    coverage, accuracy = un.risk_coverage(probs, labels)
    confidence, right = probs.max(1), probs.argmax(1) == labels
    for k in (1, 17, 100, 200):
        top = np.argsort(-confidence, kind="stable")[:k]
        assert (
            accuracy[k - 1] == pytest.approx(right[top].mean())
            and coverage[k - 1] == k / 200
        )
    assert un.accuracy_at_coverage(probs, labels, 1.0) == pytest.approx(right.mean())
    with pytest.raises(ValueError, match="coverage"):
        un.accuracy_at_coverage(probs, labels, 0)


def test_confidence_facts_by_hand() -> None:
    probs = np.array(
        [
            [0.5, 0.5, 0.0],
            [0.55, 0.45, 0.0],
            [0.95, 0.05, 0.0],
            [0.02, 0.97, 0.01],
            [0.3, 0.3, 0.4],
        ]
    )
    labels = np.array([0, 1, 0, 0, 2])
    facts = un.confidence_facts(probs, labels)
    assert (facts.band_correct, facts.band_count) == (
        2,
        3,
    )  # 0.5 and 0.4 (right), 0.55 (wrong) in [0.4, 0.6)
    assert facts.band_confidence == pytest.approx((0.5 + 0.55 + 0.4) / 3)
    assert facts.confident_mistakes == 1 and facts.mistakes == 2  # the 0.97 mistake
    assert facts.confidence_when_right == pytest.approx((0.5 + 0.95 + 0.4) / 3)
    assert facts.confidence_when_wrong == pytest.approx((0.55 + 0.97) / 2)
