"""Dataset shift (chapter "Calibration"): the test images corrupted at three severities, in NumPy.

Ovadia et al. (2019) showed that calibration measured on the test distribution says little about
calibration when the inputs drift. The three corruptions here follow the spirit of CIFAR-10-C
(Hendrycks & Dietterich 2019) at three severities each; they act on uint8 images and return uint8.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

SEVERITIES = (1, 2, 3)
NOISE_SIGMA = {
    1: 8.0,
    2: 16.0,
    3: 32.0,
}  # Gaussian noise, standard deviation in grey levels (0..255)
BLUR_SIGMA = {1: 0.6, 2: 1.0, 3: 1.5}  # Gaussian blur, standard deviation in pixels
CONTRAST_FACTOR = {
    1: 0.6,
    2: 0.4,
    3: 0.2,
}  # pixels pulled towards each image's mean by this factor


def _check(images: np.ndarray, severity: int) -> np.ndarray:
    """Validate uint8 NHWC images and a severity."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            f"expected uint8 images (N, H, W, C), got {images.dtype} {images.shape}"
        )
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity}")
    return images


def _to_uint8(x: np.ndarray) -> np.ndarray:
    """Round and clip to valid pixels."""
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def gaussian_noise(images: np.ndarray, severity: int, seed: int = 0) -> np.ndarray:
    """Add independent Gaussian noise to every pixel and channel."""
    images = _check(images, severity)
    noise = np.random.default_rng(seed).normal(
        0.0, NOISE_SIGMA[severity], size=images.shape
    )
    return _to_uint8(images + noise)


def gaussian_blur(images: np.ndarray, severity: int) -> np.ndarray:
    """Blur each channel with a Gaussian kernel (scipy.ndimage), borders reflected."""
    images = _check(images, severity)
    sigma = BLUR_SIGMA[severity]
    return _to_uint8(
        ndimage.gaussian_filter(
            images.astype(np.float64), sigma=(0, sigma, sigma, 0), mode="reflect"
        )
    )


def low_contrast(images: np.ndarray, severity: int) -> np.ndarray:
    """Pull every pixel towards its image's mean: x' = mean + factor * (x - mean)."""
    images = _check(images, severity)
    mean = images.mean(axis=(1, 2, 3), keepdims=True)
    return _to_uint8(mean + CONTRAST_FACTOR[severity] * (images - mean))


CORRUPTIONS = {"noise": gaussian_noise, "blur": gaussian_blur, "contrast": low_contrast}


def corrupt(images: np.ndarray, kind: str, severity: int) -> np.ndarray:
    """One of CORRUPTIONS at one severity."""
    if kind not in CORRUPTIONS:
        raise ValueError(
            f"unknown corruption {kind!r}: choose one of {', '.join(CORRUPTIONS)}"
        )
    return CORRUPTIONS[kind](images, severity)
