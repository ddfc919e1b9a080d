"""cnnbook.lessons.shift: corruptions against direct computations and their intended effect."""

from __future__ import annotations

import numpy as np
import pytest

from cnnbook.lessons import shift

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(40, 216, size=(6, 32, 32, 3), dtype=np.uint8)


def _blur_reference(channel: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur written with np.convolve, borders mirrored (ndimage's 'reflect')."""
    radius = int(4 * sigma + 0.5)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    padded = np.pad(channel.astype(np.float64), radius, mode="symmetric")
    rows = np.array([np.convolve(r, taps, mode="valid") for r in padded])
    return np.array([np.convolve(c, taps, mode="valid") for c in rows.T]).T


@pytest.mark.parametrize("severity", shift.SEVERITIES)
def test_blur_matches_a_separable_convolution(severity: int) -> None:
    ours = shift.gaussian_blur(IMAGES, severity)
    reference = _blur_reference(IMAGES[2, :, :, 1], shift.BLUR_SIGMA[severity])
    assert np.max(np.abs(ours[2, :, :, 1].astype(float) - reference)) <= 0.5 + 1e-9


def test_contrast_keeps_the_mean_and_scales_the_spread() -> None:
    out = shift.low_contrast(IMAGES, 2).astype(float)
    assert np.allclose(out.mean(axis=(1, 2, 3)), IMAGES.mean(axis=(1, 2, 3)), atol=0.5)
    ratio = out.std(axis=(1, 2, 3)) / IMAGES.std(axis=(1, 2, 3))
    assert np.allclose(ratio, shift.CONTRAST_FACTOR[2], atol=0.01)


def test_noise_has_the_stated_spread_and_damage_grows_with_severity() -> None:
    out = shift.gaussian_noise(IMAGES, 1, seed=3).astype(float)
    assert np.std(out - IMAGES) == pytest.approx(shift.NOISE_SIGMA[1], rel=0.05)
    for kind in shift.CORRUPTIONS:
        errors = [
            np.mean((shift.corrupt(IMAGES, kind, s).astype(float) - IMAGES) ** 2)
            for s in shift.SEVERITIES
        ]
        assert errors == sorted(errors) and errors[0] > 0, kind
        assert shift.corrupt(IMAGES, kind, 1).dtype == np.uint8


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="uint8"):
        shift.gaussian_blur(IMAGES.astype(float), 1)
    with pytest.raises(ValueError, match="severity"):
        shift.low_contrast(IMAGES, 4)
    with pytest.raises(ValueError, match="unknown corruption"):
        shift.corrupt(IMAGES, "fog", 1)
