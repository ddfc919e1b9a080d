"""cnnbook.airbench.reference: the recorded original runs, and which stored runs compare with them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnnbook.airbench import reference as ref
from cnnbook.core.exceptions import ModelFileError

RECORD = {
    "settings": {
        "own": {
            "train_images": 50000,
            "epochs": 9.9,
            "runs": [{"accuracy_tta": 0.9073}],
        },
        "port": {
            "train_images": 45000,
            "epochs": 14,
            "runs": [{"accuracy_tta": 0.90}, {"accuracy_tta": 0.91}],
        },
    }
}


def _entry(model: str, n_train: int, epochs: float, tta: float | None) -> dict:
    entry = {"config": {"model": model, "epochs": epochs}, "n_train": n_train}
    return entry | ({"test_accuracy_tta": tta} if tta is not None else {})


def test_the_committed_record_reads_and_holds_three_seeds_on_the_same_data() -> None:
    record = ref.read_reference()
    assert record is not None and len(ref.tta_accuracies(record)) == 3
    assert record["settings"]["port"]["train_images"] == 45000


def test_only_runs_on_the_same_images_and_epochs_compare(tmp_path: Path) -> None:
    path = tmp_path / "reference.json"
    path.write_text(json.dumps(RECORD))
    record = ref.read_reference(path)
    assert ref.tta_accuracies(record) == [0.90, 0.91]
    manifest = {
        "fast": _entry("fast", 45000, 14.0, 0.905),
        "fast.seed43": _entry("fast", 45000, 14.0, 0.906),
        "fast.seed44": _entry("fast", 50000, 14.0, 0.907),  # other images
        "fast_short": _entry("fast_short", 45000, 10.0, 0.88),  # other model, epochs
        "fast.seed45": _entry("fast", 45000, 12.0, 0.90),  # other epochs
        "fast.seed46": _entry("fast", 45000, 14.0, None),  # no TTA recorded
    }
    assert list(ref.same_data_runs(manifest, record)) == ["fast", "fast.seed43"]


def test_a_missing_record_is_none_and_a_broken_one_a_one_line_error(
    tmp_path: Path,
) -> None:
    assert ref.read_reference(tmp_path / "absent.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"settings": {"port": {"runs": [{}]}}}))
    with pytest.raises(ModelFileError, match="not a reference results file"):
        ref.read_reference(broken)
    broken.write_text("{")
    with pytest.raises(ModelFileError, match="git checkout"):
        ref.read_reference(broken)
