"""The command line: help, info, evaluate, and one-line errors with exit code 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnbook.cli import main


@pytest.mark.parametrize(
    "command",
    [[], ["train"], ["info"], ["evaluate"], ["clear-cache"], ["store-logits"]],
)
def test_help_everywhere(command: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage" in capsys.readouterr().out


def test_info_without_models_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["info", "--models-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "make train" in err


def test_bad_data_dir_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert (
        main(["train", "--model", "baseline", "--data-dir", str(tmp_path / "nope")])
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "nope" in err


def test_train_info_evaluate_round_trip(
    cifar_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    models = tmp_path / "models"
    args = ["--data-dir", str(cifar_folder), "--models-dir", str(models)]
    assert (
        main(
            [
                *"train --model baseline --epochs 1 --val-size 20 --float32 --checkpoint-dir".split(),
                str(tmp_path / "ckpt"),
                *args,
            ]
        )
        == 0
    )
    assert (
        "precision: float32 (asked for (--precision float32))"
        in capsys.readouterr().out
    )
    assert main(["info", "--models-dir", str(models)]) == 0
    assert "baseline" in capsys.readouterr().out
    assert main(["evaluate", "--model", "baseline", *args]) == 0
    out = capsys.readouterr().out
    assert "yes" in out and "differs" not in out
    assert main(["evaluate", "--model", "dropout", *args]) == 1
    assert "no trained model 'dropout'" in capsys.readouterr().err
    from cnnbook.core.store import read_predictions

    first = read_predictions("baseline", models)
    (models / "baseline.predictions.npz").unlink()
    assert main(["store-logits", *args]) == 0
    assert capsys.readouterr().out == "stored baseline.predictions.npz\n"
    again = read_predictions("baseline", models)  # checksum-verified
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert (
        main(["evaluate", "--model", "baseline", *args]) == 0
    )  # the manifest's checksum matches again


def test_fast_model_train_info_evaluate_with_tta(
    cifar_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    from cnnbook.airbench import hyp

    tiny = hyp.FastRecipe(
        "fast_short", epochs=1, batch_size=16, widths=(4, 8, 8), mixed_precision=False
    )
    monkeypatch.setitem(hyp.FAST_RECIPES, "fast_short", tiny)
    models = tmp_path / "models"
    args = ["--data-dir", str(cifar_folder), "--models-dir", str(models)]
    assert (
        main(
            [
                *"train --model fast_short --val-size 20 --checkpoint-dir".split(),
                str(tmp_path / "ckpt"),
                *args,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "with TTA" in out and out.startswith(
        "precision: "
    )  # the choice and its reason, first
    assert main(["info", "--models-dir", str(models)]) == 0
    table = capsys.readouterr().out
    assert "TTA acc" in table and "fast_short" in table
    assert main(["evaluate", "--model", "fast_short", *args]) == 0
    out = capsys.readouterr().out
    assert "manifest TTA" in out and "yes" in out


def test_fast_model_on_fewer_images_than_a_batch_is_a_one_line_error(
    cifar_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = ["--data-dir", str(cifar_folder), "--models-dir", str(tmp_path / "models")]
    assert (
        main(
            [
                *"train --model fast_short --val-size 20 --checkpoint-dir".split(),
                str(tmp_path / "ckpt"),
                *args,
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fewer than one batch" in err


def test_clear_cache_says_what_it_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from cnnbook.core import outputs

    monkeypatch.setenv(outputs.ENV_VAR, str(tmp_path / "outputs"))
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / "run-layer_x-0123.npy").write_bytes(b"x")
    assert main(["clear-cache"]) == 0
    assert (
        capsys.readouterr().out
        == f"removed 1 stored outputs from {tmp_path / 'outputs'}\n"
    )
    assert not (tmp_path / "outputs").exists()


def test_unknown_precision_is_refused_in_one_line(
    capsys: pytest.CaptureFixture,
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--model", "baseline", "--precision", "fp8"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'fp8'" in err


def test_epochs_is_refused_for_the_fast_recipes(capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--model", "fast", "--epochs", "3"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--epochs does not apply to fast" in err


def test_all_means_every_model_and_epochs_is_refused_for_it(
    capsys: pytest.CaptureFixture,
) -> None:
    """`--model all` is the same five models for train, evaluate and store-logits; --epochs applies
    to the shared recipe only, so `train --model all --epochs 3` is refused before any data is read."""
    from cnnbook.cli import _model_names
    from cnnbook.core.names import ALL_MODELS

    assert (
        _model_names("all")
        == list(ALL_MODELS)
        == ["baseline", "dropout", "batchnorm", "fast", "fast_short"]
    )
    assert main(["train", "--model", "all", "--epochs", "3"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--epochs does not apply to fast" in err


def _fast_entry(tta: float) -> dict:
    return {
        "config": {"model": "fast", "epochs": 14.0},
        "n_train": 45000,
        "test_accuracy_tta": tta,
    }


def test_info_sets_fast_beside_the_original_airbench_on_the_same_data(
    capsys: pytest.CaptureFixture,
) -> None:
    from cnnbook.airbench.reference import read_reference, tta_accuracies
    from cnnbook.cli import _reference_lines

    theirs = tta_accuracies(read_reference())
    mean = float(np.mean(theirs))
    same = _reference_lines(
        {
            f"fast{s}": _fast_entry(mean + d)
            for s, d in [("", 0.001), (".seed43", -0.001), (".seed44", 0.0)]
        }
    )
    assert "airbench94 (PyTorch)" in "\n".join(same)
    assert same[-1].endswith("indistinguishable") and "Welch, 3 and 3 runs" in same[-1]
    better = _reference_lines(
        {
            f"fast{s}": _fast_entry(mean + 0.03 + d)
            for s, d in [("", 0.001), (".seed43", -0.001)]
        }
    )
    assert better[-1].endswith("higher")
    assert (
        _reference_lines(
            {"fast_short": _fast_entry(0.9) | {"config": {"model": "fast_short"}}}
        )
        == []
    )
    assert main(["info"]) == 0  # the stored models: the comparison is printed
    assert (
        "the original airbench94 on the same 45,000 images" in capsys.readouterr().out
    )
