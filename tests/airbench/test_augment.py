"""Training augmentation (flips, reflection-padded shifts) and test-time augmentation, checked
against explicit constructions of each view."""

from __future__ import annotations

import numpy as np
import pytest

from cnnbook.airbench.augment import (
    epoch_images,
    random_flips,
    random_translate,
    tta_logits,
)

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(64, 8, 8, 3), dtype=np.uint8)


def _reflect_pad(image: np.ndarray, pad: int) -> np.ndarray:
    """Reflection padding written out index by index (no np.pad)."""
    h, w = image.shape[:2]

    def source(i: int, n: int) -> int:
        i = abs(i)
        return 2 * (n - 1) - i if i >= n else i

    return np.array(
        [
            [image[source(y - pad, h), source(x - pad, w)] for x in range(w + 2 * pad)]
            for y in range(h + 2 * pad)
        ]
    )


def test_every_translated_image_is_a_window_of_its_reflection_padded_self():
    out = random_translate(IMAGES, 2, np.random.default_rng(1))
    seen = set()
    for image, shifted in zip(IMAGES, out):
        padded = _reflect_pad(image, 2)
        windows = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if np.array_equal(padded[dy : dy + 8, dx : dx + 8], shifted)
        ]
        assert windows, "not a window of the padded image"
        seen.add(windows[0])
    assert len(seen) > 12  # many different shifts are drawn


def test_no_translation_is_the_identity():
    assert np.array_equal(random_translate(IMAGES, 0, np.random.default_rng(1)), IMAGES)


def test_random_flips_mirror_about_half_of_the_images():
    flipped = random_flips(IMAGES, seed=3)
    same = [np.array_equal(a, b) for a, b in zip(flipped, IMAGES)]
    mirrored = [np.array_equal(a, b[:, ::-1]) for a, b in zip(flipped, IMAGES)]
    assert all(s or m for s, m in zip(same, mirrored))
    assert 16 < sum(mirrored) < 48
    assert np.array_equal(flipped, random_flips(IMAGES, seed=3))


def test_odd_epochs_mirror_all_images():
    even = epoch_images(IMAGES, 2, seed=0, translate=0, flip=True)
    odd = epoch_images(IMAGES, 3, seed=0, translate=0, flip=True)
    assert np.array_equal(even, IMAGES)
    assert np.array_equal(odd, IMAGES[:, :, ::-1])
    assert np.array_equal(epoch_images(IMAGES, 3, 0, 0, flip=False), IMAGES)


def _score(x: np.ndarray) -> np.ndarray:
    """A deterministic, position-dependent 'model': logits from fixed random weights."""
    weights = np.random.default_rng(5).normal(size=(x[0].size, 4))
    return x.reshape(len(x), -1).astype(np.float64) @ weights


def test_tta_levels_average_the_views_with_their_weights():
    x = IMAGES[:6]
    mirror = x[:, :, ::-1]
    padded = np.stack([_reflect_pad(image, 1) for image in x])
    a, b = padded[:, :8, :8], padded[:, 2:, 2:]
    views = {
        "x": _score(x),
        "m": _score(mirror),
        "a": _score(a),
        "am": _score(a[:, :, ::-1]),
        "b": _score(b),
        "bm": _score(b[:, :, ::-1]),
    }
    np.testing.assert_allclose(tta_logits(_score, x, 0), views["x"])
    np.testing.assert_allclose(tta_logits(_score, x, 1), (views["x"] + views["m"]) / 2)
    expected = (views["x"] + views["m"]) / 4 + (
        views["a"] + views["am"] + views["b"] + views["bm"]
    ) / 8
    np.testing.assert_allclose(tta_logits(_score, x, 2), expected)
    with pytest.raises(ValueError, match="tta level"):
        tta_logits(_score, x, 3)
