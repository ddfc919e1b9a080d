"""The original airbench94's results on this copy of CIFAR-10, beside the port's (chapter "Putting
it all together" and `python -m cnnbook info`).

``benchmarks/results/airbench_reference.json`` records runs of KellerJordan/cifar10-airbench's
``legacy/airbench94.py`` adapted to the CPU (its changes, command and CPU are in the file; the
original is never committed), on two settings: "own" (its 50,000 training images, 9.9 epochs) and
"port" (the port's 45,000 training images and ``fast``'s 14 epochs). Only the "port" setting
compares with stored ``fast`` runs: the same images, the same epochs, the same test set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cnnbook.core.exceptions import ModelFileError
from cnnbook.core.files import REPOSITORY_ROOT
from cnnbook.core.names import model_of

REFERENCE_RESULTS = (
    REPOSITORY_ROOT / "benchmarks" / "results" / "airbench_reference.json"
)
SAME_DATA = "port"  # the setting trained on the port's split and epochs


def read_reference(path: Path = REFERENCE_RESULTS) -> dict[str, Any] | None:
    """The recorded reference runs, or None where the file is absent (an installed package)."""
    if not path.exists():
        return None
    try:
        reference = json.loads(path.read_text())
        for setting in reference["settings"].values():
            for run in setting["runs"]:
                float(run["accuracy_tta"])
            int(setting["train_images"]), float(setting["epochs"])
    except (ValueError, KeyError, TypeError) as error:
        raise ModelFileError(
            f"{path}: not a reference results file ({error!r}); "
            "restore it with `git checkout -- benchmarks/results`"
        ) from None
    return reference


def tta_accuracies(reference: dict[str, Any], setting: str = SAME_DATA) -> list[float]:
    """The reference's test accuracies with TTA, one per seed, on one setting."""
    return [
        float(run["accuracy_tta"]) for run in reference["settings"][setting]["runs"]
    ]


def same_data_runs(
    manifest: dict[str, dict[str, Any]],
    reference: dict[str, Any],
    model: str = "fast",
    setting: str = SAME_DATA,
) -> dict[str, dict[str, Any]]:
    """The stored runs of `model` trained on the setting's number of images and epochs."""
    wanted = reference["settings"][setting]
    return {
        run: entry
        for run, entry in manifest.items()
        if model_of(run) == model
        and entry.get("n_train") == int(wanted["train_images"])
        and float(entry["config"].get("epochs", -1)) == float(wanted["epochs"])
        and "test_accuracy_tta" in entry
    }
