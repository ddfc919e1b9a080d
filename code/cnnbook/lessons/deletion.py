"""The deletion test: does removing the pixels a heatmap ranks highest hurt the model more than
removing as many random pixels? (Chapter "What the network looks at".)

A sanity check such as the randomization test (Adebayo et al. 2018) is necessary, not
sufficient: a map can depend on the weights and still point at the wrong pixels. The deletion
test (Petsiuk et al. 2018, "RISE"; Samek et al. 2017) measures faithfulness directly: replace the
top fraction f of pixels by an uninformative version of the image (here a blurred copy, so that
no sharp artificial edges are drawn), and compare the accuracy with the same fraction of random
pixels replaced. A faithful map makes the model fail sooner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

Predict = Callable[
    [np.ndarray], np.ndarray
]  # images (N, H, W, C) -> class indices (N,)


def top_fraction_mask(heatmaps: np.ndarray, fraction: float) -> np.ndarray:
    """Boolean (N, H, W): per image, the round(fraction * H * W) pixels with the highest heat."""
    heatmaps = np.asarray(heatmaps, dtype=np.float64)
    if heatmaps.ndim != 3:
        raise ValueError(f"heatmaps must be (N, H, W); got shape {heatmaps.shape}")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    n, h, w = heatmaps.shape
    k = int(round(fraction * h * w))
    order = np.argsort(-heatmaps.reshape(n, -1), axis=1, kind="stable")[
        :, :k
    ]  # hottest first
    mask = np.zeros((n, h * w), dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask.reshape(n, h, w)


def random_mask(
    shape: tuple[int, int, int], fraction: float, seed: int = 0
) -> np.ndarray:
    """Boolean (N, H, W): per image, round(fraction * H * W) pixels drawn uniformly at random."""
    scores = np.random.default_rng(seed).random(shape)
    return top_fraction_mask(scores, fraction)


def replace_pixels(
    images: np.ndarray, mask: np.ndarray, replacement: np.ndarray
) -> np.ndarray:
    """The images with every masked pixel (all channels) taken from the replacement images."""
    images, replacement = np.asarray(images), np.asarray(replacement)
    if images.shape != replacement.shape or mask.shape != images.shape[:3]:
        raise ValueError(
            f"images {images.shape}, replacement {replacement.shape} and mask "
            f"{mask.shape} must agree (mask = images without the channel axis)"
        )
    return np.where(mask[..., np.newaxis], replacement, images)


@dataclass(frozen=True)
class DeletionResult:
    """Per-image correctness (fractions x N) after deleting heatmap-ranked or random pixels."""

    fractions: np.ndarray
    heatmap_correct: np.ndarray
    random_correct: np.ndarray


def deletion_test(
    predict: Predict,
    images: np.ndarray,
    labels: np.ndarray,
    heatmaps: np.ndarray,
    replacement: np.ndarray,
    fractions: Sequence[float],
    seed: int = 0,
) -> DeletionResult:
    """Correctness of predict on the images after deleting each fraction of top vs random pixels."""
    labels = np.asarray(labels).reshape(-1)
    by_heat, by_chance = [], []
    for i, fraction in enumerate(fractions):
        for masks, out in (
            (top_fraction_mask(heatmaps, fraction), by_heat),
            (random_mask(np.shape(heatmaps), fraction, seed + i), by_chance),
        ):
            out.append(
                np.asarray(predict(replace_pixels(images, masks, replacement)))
                == labels
            )
    return DeletionResult(
        np.asarray(fractions, dtype=np.float64), np.array(by_heat), np.array(by_chance)
    )
