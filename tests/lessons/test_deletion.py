"""The deletion test on a synthetic 'model' whose evidence is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from cnnbook.lessons.deletion import (
    deletion_test,
    random_mask,
    replace_pixels,
    top_fraction_mask,
)

RNG = np.random.default_rng(0)


def test_top_fraction_mask_selects_the_hottest_pixels_like_a_sort():
    heat = RNG.random((5, 6, 7))
    mask = top_fraction_mask(heat, 0.25)
    k = round(0.25 * 42)
    assert (mask.reshape(5, -1).sum(1) == k).all()
    for image, chosen in zip(heat, mask):
        threshold = np.sort(image.ravel())[::-1][
            k - 1
        ]  # independent: the k-th largest value
        assert (image[chosen] >= threshold).all() and (image[~chosen] < threshold).all()
    assert not top_fraction_mask(heat, 0.0).any() and top_fraction_mask(heat, 1.0).all()


def test_random_mask_has_the_right_count_and_depends_on_the_seed():
    a, b = random_mask((4, 8, 8), 0.5, seed=1), random_mask((4, 8, 8), 0.5, seed=2)
    assert (a.reshape(4, -1).sum(1) == 32).all() and (a != b).any()
    np.testing.assert_array_equal(a, random_mask((4, 8, 8), 0.5, seed=1))


def test_replace_pixels_takes_masked_pixels_from_the_replacement():
    images = np.zeros((2, 3, 3, 3), np.uint8)
    blurred = np.full_like(images, 7)
    mask = np.zeros((2, 3, 3), bool)
    mask[0, 1, 2] = True
    out = replace_pixels(images, mask, blurred)
    assert out[0, 1, 2].tolist() == [7, 7, 7] and out.sum() == 21
    with pytest.raises(ValueError, match="must agree"):
        replace_pixels(images, mask[:, :2], blurred)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        top_fraction_mask(np.zeros((1, 2, 2)), 1.5)


def test_a_faithful_map_makes_the_model_fail_sooner_than_random_pixels():
    # The 'model' answers class 1 while the 4x4 top-left square is bright, else class 0.
    def predict(x):
        return (x[:, :4, :4, 0].mean(axis=(1, 2)) > 100).astype(int)

    images = np.zeros((20, 16, 16, 3), np.uint8)
    images[:, :4, :4] = 255
    labels = np.ones(20, int)
    faithful = np.zeros((20, 16, 16))
    faithful[:, :4, :4] = 1.0
    result = deletion_test(
        predict, images, labels, faithful, np.zeros_like(images), [0.0, 0.0625, 0.25]
    )
    assert result.heatmap_correct.mean(1).tolist() == [
        1.0,
        0.0,
        0.0,
    ]  # 16 pixels = the evidence
    assert (
        result.random_correct.mean(1)[1] > 0.9
    )  # 16 random pixels rarely hit half the square
    unfaithful = faithful[:, ::-1, ::-1]  # points at the opposite corner
    wrong = deletion_test(
        predict, images, labels, unfaithful, np.zeros_like(images), [0.0625]
    )
    assert wrong.heatmap_correct.all()
