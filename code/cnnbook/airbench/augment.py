"""airbench's data augmentation, at training and at test time (chapter "Putting it all together").

Training (airbench's scheme): every image is flipped left-right at random once; then each epoch
takes a random crop of the image padded by 2 pixels (reflection), i.e. a shift of up to +-2 pixels
in each direction, and every other epoch flips all images ("alternating flip": each image is seen
both ways in every pair of epochs, which random flips per epoch do not guarantee).
Test time (TTA): average the logits of the image and its mirror, and of both views shifted by one
pixel up-left and down-right: 6 forward passes, weighted 1/2 unshifted, 1/4 per shift. The
functions at the end run a trained model over the test-time views.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from cnnbook.airbench.net import logits_view
from cnnbook.core.backend import keras, tf

FLIP_STREAM = (
    10**6
)  # the rng stream of the one-off random flips (epochs use streams 0, 1, ...)


def flip_left_right(images: np.ndarray) -> np.ndarray:
    """Mirror NHWC images left-right."""
    return images[:, :, ::-1]


def random_flips(images: np.ndarray, seed: int) -> np.ndarray:
    """Each image mirrored with probability 1/2 (the same choice for a given seed)."""
    flip = np.random.default_rng([seed, FLIP_STREAM]).random(len(images)) < 0.5
    return np.where(flip[:, None, None, None], flip_left_right(images), images)


def random_translate(
    images: np.ndarray, pad: int, rng: np.random.Generator
) -> np.ndarray:
    """Shift every image by its own random (dy, dx) in [-pad, pad], filling by reflection."""
    if pad == 0:
        return images
    n, height, width = images.shape[:3]
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
    shifts = rng.integers(0, 2 * pad + 1, size=(n, 2))
    out = np.empty_like(images)
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            chosen = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
            out[chosen] = padded[chosen, dy : dy + height, dx : dx + width]
    return out


def epoch_images(
    flipped: np.ndarray, epoch: int, seed: int, translate: int, flip: bool
) -> np.ndarray:
    """The training images of one epoch: randomly translated, all mirrored on odd epochs."""
    images = random_translate(flipped, translate, np.random.default_rng([seed, epoch]))
    return flip_left_right(images) if flip and epoch % 2 == 1 else images


def tta_logits(
    logits_of: Callable[[np.ndarray], np.ndarray], images: np.ndarray, level: int = 2
) -> np.ndarray:
    """Test-time augmentation: 0 the image, 1 + its mirror, 2 + 1-pixel shifts."""

    def mirrored(x: np.ndarray) -> np.ndarray:
        mirror = np.ascontiguousarray(flip_left_right(x))
        return 0.5 * logits_of(x) + 0.5 * logits_of(mirror)

    if level == 0:
        return logits_of(images)
    if level == 1:
        return mirrored(images)
    if level != 2:
        raise ValueError(f"tta level must be 0, 1 or 2, got {level!r}")
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    up_left, down_right = padded[:, :-2, :-2], padded[:, 2:, 2:]
    shifted = 0.5 * mirrored(np.ascontiguousarray(up_left)) + 0.5 * mirrored(
        np.ascontiguousarray(down_right)
    )
    return 0.5 * mirrored(images) + 0.5 * shifted


def logits_in_batches(
    view: keras.Model, batch_size: int = 1000
) -> Callable[[np.ndarray], np.ndarray]:
    """A function images -> float64 logits, running a logits model in inference mode."""
    forward = tf.function(
        lambda x: tf.cast(view(x, training=False), "float32"), autograph=False
    )

    def logits_of(images: np.ndarray) -> np.ndarray:
        parts = [
            forward(tf.constant(images[i : i + batch_size])).numpy()
            for i in range(0, len(images), batch_size)
        ]
        return np.concatenate(parts).astype(np.float64)

    return logits_of


def plain_and_tta_logits(
    model: keras.Model, images: np.ndarray, level: int
) -> tuple[np.ndarray, np.ndarray]:
    """The plain logits and those with TTA, in one pass over the views: the plain ones are the TTA's
    identity view, kept as it goes by (evaluate, the stored predictions)."""
    forward, kept = logits_in_batches(logits_view(model)), {}

    def logits_of(views: np.ndarray) -> np.ndarray:
        out = forward(views)
        if views is images:
            kept["plain"] = out
        return out

    tta = tta_logits(logits_of, images, level)
    return kept["plain"], tta


def evaluate_with_tta(model: keras.Model, images: np.ndarray, level: int) -> np.ndarray:
    """Logits of a trained model with test-time augmentation of the given level."""
    return plain_and_tta_logits(model, images, level)[1]


def predictions(
    model: keras.Model, x_val: np.ndarray, x_test: np.ndarray, level: int
) -> dict[str, np.ndarray]:
    """Validation and test logits without and with TTA ("val_tta0", "test_tta2", ...): what the
    manifest's figures and the book's pages are computed from (stored beside the model)."""
    stored = {}
    for split, images in (("val", x_val), ("test", x_test)):
        plain, tta = plain_and_tta_logits(model, images, level)
        stored |= {f"{split}_tta0": plain, f"{split}_tta{level}": tta}
    return stored
