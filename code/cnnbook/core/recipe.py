"""The training recipe shared by all models (chapter "Architectures"); a plain record, no TensorFlow.

The recipe (the same for all three models, so the regularizer is the only difference):
Adam(1e-3), batch 128, learning rate x0.5 after 3 epochs without a new best validation loss
(floor 1e-5), early stopping after 8 epochs without a new best validation accuracy with the
best weights restored, at most 60 epochs, mixed bfloat16 compute where the CPU has bfloat16
instructions, float32 elsewhere (cnnbook.core.precision). No data
augmentation: it is a regularizer too, and the book compares Dropout and BatchNorm alone.

What was tried first is recorded in TRIED_FIRST (shown in chapter "Regularization"). Early
stopping watches validation accuracy rather than loss; that choice makes the kept models more
over-confident (chapter "Calibration").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from cnnbook.core.names import DEFAULT_SEED
from cnnbook.core.precision import native_bfloat16


@dataclass(frozen=True)
class TrainConfig:
    """The shared training recipe; every field is recorded in the manifest."""

    epochs: int = 60
    batch_size: int = 128
    learning_rate: float = 1e-3
    lr_factor: float = 0.5
    lr_patience: int = 3
    min_lr: float = 1e-5
    early_stopping_patience: int = 8
    seed: int = DEFAULT_SEED
    mixed_precision: bool = field(
        default_factory=native_bfloat16
    )  # by the CPU: cnnbook.core.precision

    def __post_init__(self) -> None:
        """Refuse a recipe that cannot train, naming the field and what it must be."""
        positive = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr_patience": self.lr_patience,
            "early_stopping_patience": self.early_stopping_patience,
        }
        for name, value in positive.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if not 0 < self.min_lr <= self.learning_rate:
            raise ValueError(
                f"need 0 < min_lr <= learning_rate, got {self.min_lr!r} and {self.learning_rate!r}"
            )
        if not 0 < self.lr_factor < 1:
            raise ValueError(f"lr_factor must be in (0, 1), got {self.lr_factor!r}")
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or self.seed < 0
        ):
            raise ValueError(f"seed must be a whole number >= 0, got {self.seed!r}")


class Trial(NamedTuple):
    """A recipe tried before the final one: what was run, what happened, what replaced it."""

    setting: str
    outcome: str
    decision: str


# The trials that shaped the recipe (run once during development, logged here, not rerun).
TRIED_FIRST: tuple[Trial, ...] = (
    Trial(
        "Dropout p=0.5 after every pooling block as well as on the dense inputs; learning rate "
        "x0.3 after 2 stale epochs, early-stopping patience 6",
        "the Dropout model underfit: 72% validation accuracy after 17 epochs, training accuracy "
        "below validation, the learning rate already cut twice; the run was stopped",
        "Dropout only on the inputs of the two dense layers, and the gentler schedule above",
    ),
    Trial(
        "BatchNorm model with early stopping on the validation loss, patience 4",
        "the validation loss rose within a few epochs while the accuracy still improved; the "
        "run stopped early at 71.2% test accuracy (an orientation trial, not rerun)",
        "early stopping on validation accuracy, patience 8",
    ),
)
