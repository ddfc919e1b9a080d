"""Fault injection: bad input, kills at chosen points, a full disk, concurrent runs, a stale book cache.

Each test reproduces one case of issue 12 (a careless or hostile user, or bad luck) and checks the
one-line message, the exit code, what is left on disk, and that a resumed run is the straight run,
bit for bit. The training cases run for both recipes (issue 18): the shared one (dropout) and
airbench's (fast_short), through the one engine (cnnbook.core.engine).
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cnnbook.airbench import hyp
from cnnbook.airbench.train import AirbenchRecipe
from cnnbook.cli import main
from cnnbook.core import engine, files, store
from cnnbook.core.data import Splits, load_splits
from cnnbook.core.exceptions import (
    CheckpointError,
    DataError,
    DiskFullError,
    LockedError,
    ModelFileError,
)
from cnnbook.core.names import run_name
from cnnbook.core.precision import native_bfloat16
from cnnbook.core.recipe import TrainConfig
from cnnbook.core.train import SharedRecipe

ROOT = Path(__file__).resolve().parents[2]
THREE = TrainConfig(
    epochs=3,
    batch_size=16,
    mixed_precision=native_bfloat16(),
    early_stopping_patience=5,
)
TINY_FAST = replace(
    hyp.FAST_RECIPES["fast_short"],
    epochs=3.0,
    batch_size=16,
    widths=(4, 8, 8),
    mixed_precision=native_bfloat16(),
)
RECIPES = {
    "shared": SharedRecipe("dropout", THREE),
    "airbench": AirbenchRecipe(TINY_FAST),
}
OTHER = {
    "shared": SharedRecipe(
        "dropout", replace(THREE, batch_size=8)
    ),  # another recipe, same model
    "airbench": AirbenchRecipe(replace(TINY_FAST, batch_size=8)),
}


class Killed(BaseException):
    """Stands for SIGKILL inside the test process (the subprocess test sends the real signal)."""


def _kill_at(monkeypatch: pytest.MonkeyPatch, point: str, epoch: int) -> None:
    """Make the named fault point of the given epoch raise Killed."""

    def fault(name: str, at: int) -> None:
        if (name, at) == (point, epoch):
            raise Killed(f"{name}:{at}")

    monkeypatch.setattr(engine, "fault_point", fault)
    monkeypatch.setattr(store, "fault_point", fault)


def _train(splits: Splits, root: Path, recipe=RECIPES["shared"], **kwargs):
    """Train a tiny run under root/models with checkpoints under root/ckpt."""
    return engine.train(
        recipe, splits, root / "models", root / "ckpt", log=lambda _: None, **kwargs
    )


def _weights(folder: Path, recipe=RECIPES["shared"]) -> list[np.ndarray]:
    """The stored model's weights."""
    return store.load_trained(run_name(recipe.model, recipe.seed), folder).get_weights()


def _max_difference(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """Largest absolute difference between two weight lists."""
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def _cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str]:
    """Exit code and stderr of one CLI call."""
    code = main(list(argv))
    return code, capsys.readouterr().err


def _assert_one_line(err: str, *words: str) -> None:
    """A single `error: ...` line containing every word."""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err


@pytest.fixture(params=list(RECIPES), scope="module")
def kind(request: pytest.FixtureRequest) -> str:
    """Which recipe a training fault test runs: the shared one or airbench's."""
    return request.param


@pytest.fixture(scope="module")
def straight(
    tmp_path_factory: pytest.TempPathFactory, shared_tiny_splits: Splits, kind: str
) -> list[np.ndarray]:
    """The weights of an uninterrupted 3-epoch run (the reference every resume must reproduce)."""
    root = tmp_path_factory.mktemp("straight")
    _train(shared_tiny_splits, root, RECIPES[kind])
    return _weights(root / "models", RECIPES[kind])


def _folder(root: Path, kind: str) -> Path:
    """The run's checkpoint folder."""
    return root / "ckpt" / run_name(RECIPES[kind].model, RECIPES[kind].seed)


# -- 5. resume is the same run, bit for bit -------------------------------------------------------


def test_two_straight_runs_are_bit_identical(
    shared_tiny_splits: Splits, tmp_path: Path, straight, kind: str
) -> None:
    _train(shared_tiny_splits, tmp_path, RECIPES[kind])
    assert (
        _max_difference(_weights(tmp_path / "models", RECIPES[kind]), straight) == 0.0
    )


@pytest.mark.parametrize(
    "point, epoch",
    [
        ("epoch-committed", 2),
        ("checkpoint-before-rename", 2),
        ("checkpoint-started", 3),
    ],
)
def test_resume_after_a_kill_reproduces_the_straight_run(
    tiny_splits: Splits,
    tmp_path: Path,
    straight,
    monkeypatch: pytest.MonkeyPatch,
    point: str,
    epoch: int,
    kind: str,
) -> None:
    recipe = RECIPES[kind]
    _kill_at(monkeypatch, point, epoch)
    with pytest.raises(Killed):
        _train(tiny_splits, tmp_path, recipe)
    monkeypatch.undo()
    state, _ = engine.read_checkpoint(_folder(tmp_path, kind) / engine.CHECKPOINT_NAME)
    assert state["epochs_done"] == (
        2 if point == "epoch-committed" else epoch - 1
    )  # one unit per epoch
    _train(tiny_splits, tmp_path, recipe, resume=True)
    assert _max_difference(_weights(tmp_path / "models", recipe), straight) == 0.0
    assert not _folder(tmp_path, kind).exists()


def test_real_sigkill_then_resume(
    tiny_splits: Splits, tmp_path: Path, straight, kind: str
) -> None:
    data = tmp_path / "splits.pkl"
    data.write_bytes(pickle.dumps((tiny_splits, RECIPES[kind])))
    script = (
        "import pickle, sys; from cnnbook.core import engine; "
        "s, r = pickle.load(open(sys.argv[1], 'rb')); "
        "engine.train(r, s, sys.argv[2], sys.argv[3], log=print)"
    )
    env = {**os.environ, files.FAULT_VARIABLE: "checkpoint-before-rename:3"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(data),
            str(tmp_path / "models"),
            str(tmp_path / "ckpt"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == -9, result.stderr[-500:]
    assert (
        len(files.stale_temporaries(_folder(tmp_path, kind))) == 1
    )  # the half-renamed epoch 3
    _train(tiny_splits, tmp_path, RECIPES[kind], resume=True)
    assert (
        files.stale_temporaries(_folder(tmp_path, kind)) == []
        or not _folder(tmp_path, kind).exists()
    )
    assert (
        _max_difference(_weights(tmp_path / "models", RECIPES[kind]), straight) == 0.0
    )


# -- 4. the epoch checkpoint is one unit; nothing is deleted or mixed up silently -----------------


def test_existing_checkpoint_is_never_silently_deleted(
    tiny_splits: Splits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    _kill_at(monkeypatch, "epoch-committed", 1)
    with pytest.raises(Killed):
        _train(tiny_splits, tmp_path, RECIPES[kind])
    monkeypatch.undo()
    checkpoint = _folder(tmp_path, kind) / engine.CHECKPOINT_NAME
    with pytest.raises(
        CheckpointError, match="pass --resume to continue it or --fresh to discard it"
    ):
        _train(tiny_splits, tmp_path, RECIPES[kind])
    assert checkpoint.is_file()
    entry = _train(tiny_splits, tmp_path, RECIPES[kind], fresh=True)
    assert entry["epochs_run"] == 3 and not checkpoint.exists()


@pytest.mark.parametrize(
    "change, what",
    [
        ({"val": 10}, "n_train, n_val"),
        ({"recipe": True}, "recipe (batch_size)"),
        ({"data": True}, "data_fingerprint"),
    ],
)
def test_resume_with_other_options_or_data_is_refused(
    tiny_splits: Splits,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: dict,
    what: str,
    kind: str,
) -> None:
    _kill_at(monkeypatch, "epoch-committed", 1)
    with pytest.raises(Killed):
        _train(tiny_splits, tmp_path, RECIPES[kind])
    monkeypatch.undo()
    splits = tiny_splits
    if "val" in change:  # images that were trained on would become validation images
        splits = Splits(
            np.concatenate([splits.x_train, splits.x_val[:10]]),
            np.concatenate([splits.y_train, splits.y_val[:10]]),
            splits.x_val[10:],
            splits.y_val[10:],
            splits.x_test,
            splits.y_test,
            splits.class_names,
            splits.fingerprint,
        )
    if "data" in change:
        splits = Splits(
            *[
                getattr(splits, f)
                for f in (
                    "x_train",
                    "y_train",
                    "x_val",
                    "y_val",
                    "x_test",
                    "y_test",
                    "class_names",
                )
            ],
            "another copy",
        )
    recipe = OTHER[kind] if "recipe" in change else RECIPES[kind]
    with pytest.raises(CheckpointError, match="made with another") as refused:
        _train(splits, tmp_path, recipe, resume=True)
    assert what in str(refused.value)


def test_kill_between_model_and_manifest_is_repaired_by_resume(
    tiny_splits: Splits,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    straight,
    kind: str,
) -> None:
    recipe = RECIPES[kind]
    older = (
        SharedRecipe("dropout", replace(THREE, epochs=2))
        if kind == "shared"
        else AirbenchRecipe(replace(TINY_FAST, epochs=2.0))
    )
    _train(tiny_splits, tmp_path, older)  # an older, complete run
    _kill_at(monkeypatch, "stored-before-manifest", 3)
    with pytest.raises(Killed):
        _train(tiny_splits, tmp_path, recipe)
    monkeypatch.undo()
    with pytest.raises(ModelFileError, match="rerun that `train` with --resume"):
        store.load_trained(recipe.model, tmp_path / "models")
    _train(tiny_splits, tmp_path, recipe, resume=True)
    assert _max_difference(_weights(tmp_path / "models", recipe), straight) == 0.0
    assert files.stale_temporaries(tmp_path / "models") == []


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"not a zip at all"])
@pytest.mark.parametrize("model", ["baseline", "fast_short"])
def test_corrupt_checkpoint_is_one_line(
    cifar_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    model: str,
) -> None:
    monkeypatch.setitem(hyp.FAST_RECIPES, "fast_short", replace(TINY_FAST, epochs=1.0))
    checkpoint = tmp_path / "ckpt" / model / engine.CHECKPOINT_NAME
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(content)
    epochs = ["--epochs", "1"] if model == "baseline" else []
    code, err = _cli(
        capsys,
        "train",
        "--model",
        model,
        "--resume",
        *epochs,
        "--val-size",
        "20",
        "--data-dir",
        str(cifar_folder),
        "--models-dir",
        str(tmp_path / "m"),
        "--checkpoint-dir",
        str(tmp_path / "ckpt"),
    )
    assert code == 1
    _assert_one_line(err, "unreadable checkpoint", "--fresh")


def test_a_checkpoint_of_the_other_recipe_is_refused(
    tiny_splits: Splits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kill_at(monkeypatch, "epoch-committed", 1)
    with pytest.raises(Killed):
        _train(tiny_splits, tmp_path, AirbenchRecipe(replace(TINY_FAST, model="fast")))
    monkeypatch.undo()
    shared_fast = tmp_path / "ckpt" / "fast"
    (tmp_path / "ckpt" / "dropout").mkdir(parents=True)
    (shared_fast / engine.CHECKPOINT_NAME).rename(
        tmp_path / "ckpt" / "dropout" / engine.CHECKPOINT_NAME
    )
    with pytest.raises(CheckpointError, match="made with another model, recipe"):
        _train(tiny_splits, tmp_path, RECIPES["shared"], resume=True)


# -- 6. locks ---------------------------------------------------------------------------------------


def test_second_training_on_one_checkpoint_dir_is_refused(
    tiny_splits: Splits, tmp_path: Path, kind: str
) -> None:
    run = run_name(RECIPES[kind].model, RECIPES[kind].seed)
    lock = _folder(tmp_path, kind) / engine.LOCK_NAME
    with files.exclusive_lock(lock, f"training {run!r}"):
        with pytest.raises(
            LockedError, match=rf"in use by process {os.getpid()} \(training '{run}'\)"
        ):
            _train(tiny_splits, tmp_path, RECIPES[kind])
    lock.write_text(
        "process 999999999"
    )  # a lock file left by a killed run is not a lock
    assert _train(tiny_splits, tmp_path, RECIPES[kind])["epochs_run"] == 3


def test_second_cli_run_on_one_checkpoint_folder_is_refused(
    cifar_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Two `train --model fast_short` on one checkpoint folder: the second is one line, exit 1."""
    lock = tmp_path / "ckpt" / "fast_short" / engine.LOCK_NAME
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from cnnbook.core import files; "
            "ctx = files.exclusive_lock(sys.argv[1], 'training fast_short'); ctx.__enter__(); "
            "print('locked', flush=True); time.sleep(60)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, err = _cli(
            capsys,
            *"train --model fast_short --val-size 20 --data-dir".split(),
            str(cifar_folder),
            "--models-dir",
            str(tmp_path / "m"),
            "--checkpoint-dir",
            str(tmp_path / "ckpt"),
        )
    finally:
        holder.kill()
        holder.wait()
    assert code == 1
    _assert_one_line(err, "is in use by process", "training 'fast_short'")


def test_concurrent_manifest_writers_lose_nothing(tmp_path: Path) -> None:
    entry = {
        "params": 1,
        "epochs_run": 1,
        "best_epoch": 1,
        "val_accuracy": 0.5,
        "test_accuracy": 0.5,
        "test_loss": 1.0,
        "train_seconds": 1.0,
        "images_per_second": 1.0,
        "data_fingerprint": "f",
        "files": {},
    }
    script = (
        "import json, sys; from cnnbook.core import store; "
        "[store.update_manifest(sys.argv[1], f'baseline.seed{int(sys.argv[2]) + i}', json.loads(sys.argv[3])) "
        "for i in range(25)]"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path), first, json.dumps(entry)]
        )
        for first in ("100", "200", "300")
    ]
    assert [w.wait() for w in workers] == [0, 0, 0]
    assert len(store.read_manifest(tmp_path)) == 75


# -- 3. a full disk ---------------------------------------------------------------------------------


def test_full_disk_is_one_line_and_leaves_nothing_partial(
    tiny_splits: Splits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    real_write = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        if files.TEMPORARY_MARK in self.name:
            real_write(self, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(
        DiskFullError, match="no space left on the device while writing checkpoint.npz"
    ):
        _train(tiny_splits, tmp_path, RECIPES[kind])
    assert files.stale_temporaries(_folder(tmp_path, kind)) == []
    assert not (_folder(tmp_path, kind) / engine.CHECKPOINT_NAME).exists()


def test_full_tmpfs_under_checkpoint_dir(
    cifar_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    small = tmp_path / "small"
    small.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)],
            capture_output=True,
        ).returncode
        == 0
    )
    if not mounted:
        pytest.skip(
            "cannot mount a tmpfs here (needs root); the simulated ENOSPC test covers the case"
        )
    try:
        code, err = _cli(
            capsys,
            *"train --model baseline --epochs 1 --val-size 20 --float32 --data-dir".split(),
            str(cifar_folder),
            "--models-dir",
            str(tmp_path / "m"),
            "--checkpoint-dir",
            str(small),
        )
        assert code == 1
        _assert_one_line(err, "no space left on the device", "checkpoint.npz")
        assert files.stale_temporaries(small / "baseline") == []
    finally:
        subprocess.run(["umount", str(small)], check=False)


# -- 1 and 2. bad input: one line that says what and what to do, exit code 1 ------------------------


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--epochs", "0"], ["--epochs", "0 is too small", ">= 1"]),
        (["--epochs", "-3"], ["--epochs", "-3 is too small"]),
        (["--val-size", "0"], ["--val-size", "0 is too small"]),
        (["--val-size", "-10"], ["--val-size", "-10 is too small"]),
        (["--val-size", "25"], ["--val-size", "not a multiple of the 10 classes"]),
        (["--seed", "x"], ["--seed", "'x' is not a whole number"]),
    ],
)
def test_bad_training_options(
    capsys: pytest.CaptureFixture, argv: list[str], words: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--model", "baseline", *argv])
    assert exit_info.value.code == 1
    _assert_one_line(capsys.readouterr().err, *words)


def _empty_batches(folder: Path) -> None:
    """Rewrite every batch of a synthetic CIFAR-10 folder with zero images."""
    for path in folder.iterdir():
        if path.name != "batches.meta":
            path.write_bytes(
                pickle.dumps(
                    {b"data": np.zeros((0, 3072), np.uint8), b"labels": []}, protocol=2
                )
            )


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_data_without_images(
    cifar_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture, command: str
) -> None:
    _empty_batches(cifar_folder)
    extra = ["--model", "baseline", "--val-size", "20"] if command == "train" else []
    code, err = _cli(
        capsys,
        command,
        *extra,
        "--data-dir",
        str(cifar_folder),
        "--models-dir",
        str(tmp_path),
    )
    assert code == 1
    _assert_one_line(err, "hold no images")


def test_data_missing_a_class(cifar_folder: Path, tmp_path: Path) -> None:
    for index in range(1, 6):
        path = cifar_folder / f"data_batch_{index}"
        batch = pickle.loads(path.read_bytes())
        batch[b"labels"] = [label if label != 3 else 4 for label in batch[b"labels"]]
        path.write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DataError, match="hold no cat: the data is incomplete"):
        load_splits(cifar_folder, val_size=20)


def test_models_dir_that_is_a_file_is_refused_before_training(
    cifar_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    target = tmp_path / "models"
    target.write_text("not a folder")
    code, err = _cli(
        capsys,
        *"train --model baseline --val-size 20 --data-dir".split(),
        str(cifar_folder),
        "--models-dir",
        str(target),
        "--checkpoint-dir",
        str(tmp_path / "ckpt"),
    )
    assert code == 1
    _assert_one_line(err, "is a file, not a folder")
    assert not (tmp_path / "ckpt").exists()  # refused before any training


ENTRY = {
    "params": 1,
    "epochs_run": 1,
    "best_epoch": 1,
    "val_accuracy": 0.5,
    "test_accuracy": 0.77,
    "test_loss": 1.0,
    "train_seconds": 1.0,
    "images_per_second": 1.0,
    "data_fingerprint": "f",
    "files": {"baseline.keras": "0" * 64},
}


@pytest.mark.parametrize(
    "document, words",
    [
        (
            {"models": {"baseline": {k: v for k, v in ENTRY.items() if k != "files"}}},
            ["has no 'files'"],
        ),
        (
            {
                "models": {
                    "baseline": {k: v for k, v in ENTRY.items() if k != "test_accuracy"}
                }
            },
            ["has no 'test_accuracy'"],
        ),
        (
            {"models": {"baseline": {**ENTRY, "test_accuracy": "0.77"}}},
            ["'test_accuracy' must be int or float", "'0.77'"],
        ),
        ({"models": "baseline"}, ['expected {"models": {name: entry}}']),
        ([1, 2], ['expected {"models"']),
    ],
)
@pytest.mark.parametrize("command", ["info", "evaluate"])
def test_malformed_manifest(
    cifar_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    document,
    words: list[str],
    command: str,
) -> None:
    (tmp_path / store.MANIFEST_NAME).write_text(json.dumps(document))
    extra = ["--data-dir", str(cifar_folder)] if command == "evaluate" else []
    code, err = _cli(capsys, command, "--models-dir", str(tmp_path), *extra)
    assert code == 1
    _assert_one_line(err, "manifest.json", *words)


@pytest.mark.parametrize(
    "content, words",
    [
        ("empty zip", ["not a loadable Keras model"]),
        ("unknown class", ["not a loadable Keras model"]),
        ("truncated", ["not a loadable Keras model"]),
    ],
)
def test_rehashed_broken_model_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    content: str,
    words: list[str],
    cifar_folder: Path,
) -> None:
    path = tmp_path / "baseline.keras"
    if content == "empty zip":
        zipfile.ZipFile(path, "w").close()
    elif content == "unknown class":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(
                "config.json",
                json.dumps({"class_name": "Evil", "module": "nowhere", "config": {}}),
            )
            archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
    else:
        path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    store.update_manifest(
        tmp_path, "baseline", {**ENTRY, "files": {path.name: files.sha256_file(path)}}
    )
    code, err = _cli(
        capsys,
        "evaluate",
        "--model",
        "baseline",
        "--models-dir",
        str(tmp_path),
        "--data-dir",
        str(cifar_folder),
    )
    assert code == 1
    _assert_one_line(err, str(path), *words)
