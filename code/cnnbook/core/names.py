"""Names every layer shares without importing TensorFlow: the models, their runs and output layers.

A *run* is one training of a model with one seed. The book's figures use each model's primary run,
trained with DEFAULT_SEED and stored under the model's own name ("dropout"); the other seeds, which
measure how much a result depends on the seed, are stored as "dropout.seed43" and so on.
"""

MODEL_NAMES: tuple[str, ...] = (
    "baseline",
    "dropout",
    "batchnorm",
)  # the controlled comparison
FAST_MODELS: tuple[str, ...] = (
    "fast",
    "fast_short",
)  # airbench's recipe (chapter "Putting it all together")
ALL_MODELS: tuple[str, ...] = MODEL_NAMES + FAST_MODELS
LOGITS_LAYER = "logits"  # the pre-softmax scores (calibration, Grad-CAM)
PROBABILITIES_LAYER = "probabilities"
DEFAULT_SEED = 42
_SEED_MARK = ".seed"


def check_model_name(name: str) -> None:
    """Raise a clear error for an unknown model name."""
    if name not in ALL_MODELS:
        raise ValueError(
            f"unknown model {name!r}: choose one of {', '.join(ALL_MODELS)}"
        )


def run_name(model: str, seed: int) -> str:
    """The name a run is stored under: the model's own for DEFAULT_SEED, else "<model>.seed<seed>"."""
    check_model_name(model)
    return model if seed == DEFAULT_SEED else f"{model}{_SEED_MARK}{seed}"


def model_of(run: str) -> str:
    """The model a run name belongs to ("dropout.seed43" -> "dropout"); a clear error if it is neither."""
    model, mark, seed = run.partition(_SEED_MARK)
    if mark and not (seed.isdigit() and run == run_name(model, int(seed))):
        raise ValueError(
            f"unknown run {run!r}: expected a model name or <model>{_SEED_MARK}<seed>"
        )
    check_model_name(model)
    return model
