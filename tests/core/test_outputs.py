"""cnnbook.core.outputs: model outputs computed once, keyed by model, images, code and versions, verified before use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnbook.core import outputs, store

RUN = "baseline"  # a stored run of the repository's manifest: its model file's sha256 is part of the key


@pytest.fixture(autouse=True)
def store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(outputs.ENV_VAR, str(tmp_path / "outputs"))
    return tmp_path / "outputs"


class Counting:
    """A compute function that records how many images it was asked for."""

    def __init__(self, factor: float = 2.0) -> None:
        self.factor, self.calls = factor, []

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.calls.append(len(images))
        return images.reshape(len(images), -1)[:, :10].astype(np.float64) * self.factor


def _images(n: int = 100, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(
        0, 256, size=(n, 32, 32, 3), dtype=np.uint8
    )


def test_computed_once_then_verified_on_a_sample(store_in_tmp: Path) -> None:
    images, compute = _images(), Counting()
    first = outputs.stored_outputs(RUN, "layer:x", images, compute)
    again = outputs.stored_outputs(RUN, "layer:x", images, compute)
    assert compute.calls == [
        100,
        outputs.SAMPLE,
    ]  # the second time: only the sample is recomputed
    assert np.array_equal(first, again) and len(list(store_in_tmp.glob("*.npy"))) == 1


def test_a_stored_answer_that_disagrees_is_recomputed() -> None:
    images = _images()
    outputs.stored_outputs(RUN, "layer:x", images, Counting(2.0))
    changed = Counting(
        3.0
    )  # the same key, another answer: the model no longer gives what was stored
    values = outputs.stored_outputs(RUN, "layer:x", images, changed)
    assert changed.calls == [outputs.SAMPLE, 100] and np.allclose(
        values, changed(images)
    )


def test_a_corrupt_file_is_recomputed(store_in_tmp: Path) -> None:
    images = _images()
    outputs.stored_outputs(RUN, "layer:x", images, Counting())
    (path,) = store_in_tmp.glob("*.npy")
    path.write_bytes(b"not an array")
    compute = Counting()
    assert np.array_equal(
        outputs.stored_outputs(RUN, "layer:x", images, compute), Counting()(images)
    )
    assert compute.calls == [100]


def test_the_key_names_model_images_output_and_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    images = _images()
    key = outputs.output_key(RUN, "layer:x", images)
    assert outputs.output_key(RUN, "layer:x", images) == key
    assert outputs.output_key(RUN, "layer:y", images) != key
    assert outputs.output_key(RUN, "layer:x", _images(seed=1)) != key
    assert (
        outputs.output_key(
            RUN, "layer:x", images, modules=("cnnbook.airbench.augment",)
        )
        != key
    )
    entry = store.manifest_entry(store.models_dir(), RUN)
    retrained = {**entry, "files": {**entry["files"], f"{RUN}.keras": "0" * 64}}
    monkeypatch.setattr(store, "manifest_entry", lambda folder, name: retrained)
    assert outputs.output_key(RUN, "layer:x", images) != key


def test_clear_removes_everything(store_in_tmp: Path) -> None:
    outputs.stored_outputs(RUN, "layer:x", _images(), Counting())
    outputs.stored_outputs(RUN, "layer:y", _images(), Counting())
    assert outputs.clear_outputs() == (store_in_tmp, 2)
    assert not store_in_tmp.exists() and outputs.clear_outputs() == (store_in_tmp, 0)
