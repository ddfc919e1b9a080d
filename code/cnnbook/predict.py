"""Batched prediction and the two headline figures, accuracy and mean cross-entropy."""

from __future__ import annotations

import keras
import numpy as np

from cnnbook.calibration import accuracy, negative_log_likelihood


def predict_probabilities(model: keras.Model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Class probabilities (N, 10) as float64 for a batch of uint8 images, silently."""
    return np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64)


def accuracy_and_loss(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Top-1 accuracy and mean negative log-likelihood of the true labels."""
    return accuracy(probabilities, labels), negative_log_likelihood(probabilities, labels)
