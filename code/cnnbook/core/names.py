"""Names every layer shares without importing TensorFlow: the models and their output layers."""

MODEL_NAMES: tuple[str, ...] = ("baseline", "dropout", "batchnorm")
LOGITS_LAYER = "logits"  # the pre-softmax scores (calibration, Grad-CAM)
PROBABILITIES_LAYER = "probabilities"


def check_model_name(name: str) -> None:
    """Raise a clear error for an unknown model name."""
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}: choose one of {', '.join(MODEL_NAMES)}")
