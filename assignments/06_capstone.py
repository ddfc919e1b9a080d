# %% [raw]
# # ASSIGNMENT CONFIG
# name: 06_capstone
# init_cell: true
# check_all_cell: false
# export_cell: false
# generate: true
# tests:
#   files: true

# %% [markdown]
# # Assignment 6 — Capstone: a fourth regularizer
#
# Chapters *Regularization* and *Calibration*. Pick one regularizer the book did not train — weight
# decay, data augmentation or label smoothing — add it to the book's backbone, train it and the
# baseline on a class-balanced subset of CIFAR-10 that fits a laptop, and compare them on accuracy
# and ECE **with intervals**. The autograder grades the three functions below on small synthetic
# data; the training cells are yours to run (tag `otter_ignore`: the autograder skips them).
# Estimated time: 4–6 hours, most of it training (about 20 min on a laptop CPU for the defaults).

# %%
import numpy as np
from cnnbook.core.backend import keras
from cnnbook.core.metrics import accuracy
from cnnbook.core.models import build_model
from cnnbook.lessons.calibration import expected_calibration_error
from cnnbook.lessons.intervals import paired_difference

REGULARIZERS = ("weight_decay", "augmentation", "label_smoothing")

# %% [raw]
# # BEGIN QUESTION
# name: q1_subset
# points: [1, 2]

# %% [markdown]
# **Question 1 (3 points).** `training_subset(labels, per_class, seed)` returns the sorted indices of
# `per_class` images of every class, drawn without replacement with `np.random.default_rng(seed)`;
# `ValueError` if a class has fewer images.

# %% [raw]
# # BEGIN SOLUTION

# %%
def training_subset(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of a class-balanced random subset."""
    # BEGIN SOLUTION
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise ValueError(f"class {c} has {len(members)} images, fewer than {per_class}")
        chosen.append(rng.choice(members, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen))
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert len(training_subset(np.repeat(np.arange(10), 5), 2, seed=0)) == 20

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import raises
_labels = np.random.default_rng(1).permutation(np.repeat(np.arange(10), 30))
_a, _b = training_subset(_labels, 7, seed=3), training_subset(_labels, 7, seed=4)
assert np.array_equal(np.bincount(_labels[_a], minlength=10), np.full(10, 7)), "need exactly per_class of every class"
assert len(np.unique(_a)) == len(_a) and np.all(np.diff(_a) > 0), "indices must be distinct and sorted"
assert np.array_equal(_a, training_subset(_labels, 7, seed=3)) and not np.array_equal(_a, _b), "the seed decides the subset"
raises(training_subset, _labels, 31, seed=0)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2_regularized_model
# points: [1, 2]

# %% [markdown]
# **Question 2 (3 points).** Set `REGULARIZER` to your choice and write
# `build_regularized_model(strength, seed=None)`: the book's backbone (`build_model("baseline")`'s
# layers, same convolutions and dense layers) with the regularizer, **compiled** with Adam(1e-3) and
# metrics `["accuracy"]`:
# * `"weight_decay"`: an L2 `kernel_regularizer` of factor `strength` on every Conv2D and Dense layer;
# * `"augmentation"`: random flips and shifts (e.g. `RandomFlip`, `RandomTranslation(strength, strength)`)
#   right after the input, active in training only;
# * `"label_smoothing"`: the loss `CategoricalCrossentropy(label_smoothing=strength)` (one-hot labels).

# %% [raw]
# # BEGIN SOLUTION

# %%
REGULARIZER = "weight_decay"  # SOLUTION


def build_regularized_model(strength: float, seed: int | None = None) -> keras.Model:
    """The backbone with the chosen regularizer, compiled."""
    # BEGIN SOLUTION
    base = build_model("baseline", seed=seed)
    config = base.get_config()
    for layer in config["layers"]:
        if layer["class_name"] in ("Conv2D", "Dense"):
            layer["config"]["kernel_regularizer"] = keras.regularizers.serialize(keras.regularizers.L2(strength))
    model = keras.Model.from_config(config)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert REGULARIZER in REGULARIZERS

# %%
# HIDDEN
from cnnbook.core.backend import keras
from cnnbook.core.models import build_model
_model, _base = build_regularized_model(0.01, seed=0), build_model("baseline", seed=0)
def _shape(m):
    return [(type(l).__name__, l.get_config().get("filters"), l.get_config().get("units"))
            for l in m.layers if isinstance(l, (keras.layers.Conv2D, keras.layers.Dense))]
assert _shape(_model) == _shape(_base), "keep the backbone: same convolutions and dense layers"
assert _model.count_params() == _base.count_params(), "the regularizer must not add weights"
assert _model.optimizer is not None, "compile the model"
if REGULARIZER == "weight_decay":
    for _layer in _model.layers:
        if isinstance(_layer, (keras.layers.Conv2D, keras.layers.Dense)):
            _reg = _layer.kernel_regularizer
            assert _reg is not None and abs(float(_reg.get_config().get("l2", 0)) - 0.01) < 1e-9, f"{_layer.name}: no L2(0.01)"
elif REGULARIZER == "augmentation":
    _first_conv = next(i for i, l in enumerate(_model.layers) if isinstance(l, keras.layers.Conv2D))
    assert any(type(l).__name__.startswith("Random") for l in _model.layers[:_first_conv]), "no random layer before the convolutions"
else:
    assert _model.loss is not None and abs(float(_model.loss.get_config()["label_smoothing"]) - 0.01) < 1e-9, "no label smoothing"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3_comparison
# points: [1, 2]

# %% [markdown]
# **Question 3 (3 points).** `compare_with_baseline(probs_reg, probs_base, labels, n_bootstrap=1000,
# seed=0)` returns `{"accuracy": Interval, "ece": Interval}`: the *paired* bootstrap interval of
# regularized minus baseline for each metric (`paired_difference`, with `accuracy` and
# `expected_calibration_error`), both on the same test images.

# %% [raw]
# # BEGIN SOLUTION

# %%
def compare_with_baseline(probs_reg: np.ndarray, probs_base: np.ndarray, labels: np.ndarray,
                          n_bootstrap: int = 1000, seed: int = 0) -> dict:
    """Paired intervals of (regularized - baseline) accuracy and ECE."""
    # BEGIN SOLUTION
    return {name: paired_difference(metric, (probs_reg, labels), (probs_base, labels), n_bootstrap=n_bootstrap, seed=seed)
            for name, metric in (("accuracy", accuracy), ("ece", expected_calibration_error))}
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
_p = np.eye(3)[[0, 1, 2, 0]] * 0.8 + 0.2 / 3
assert set(compare_with_baseline(_p, _p, np.array([0, 1, 2, 1]), n_bootstrap=20)) == {"accuracy", "ece"}

# %%
# HIDDEN
import numpy as np
from cnnbook.core.metrics import accuracy, softmax
from cnnbook.grading.checks import assert_close
from cnnbook.lessons.calibration import expected_calibration_error
from cnnbook.lessons.intervals import paired_difference
_rng = np.random.default_rng(8)
_labels = _rng.integers(0, 10, 300)
_a, _b = softmax(_rng.normal(size=(300, 10)) * 3), softmax(_rng.normal(size=(300, 10)) * 1.5)
_a[np.arange(150), _labels[:150]] += 1.0
_a /= _a.sum(axis=1, keepdims=True)
_got = compare_with_baseline(_a, _b, _labels, n_bootstrap=200, seed=5)
for _name, _metric in (("accuracy", accuracy), ("ece", expected_calibration_error)):
    _want = paired_difference(_metric, (_a, _labels), (_b, _labels), n_bootstrap=200, seed=5)
    _have = _got[_name]
    assert_close((_have.estimate, _have.low, _have.high), (_want.estimate, _want.low, _want.high),
                 f"compare_with_baseline(...)[{_name!r}]")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Train and compare (your step; the autograder skips it)
#
# Train both models on `PER_CLASS` images per class with early stopping on the validation split, then
# report accuracy and ECE on the test set with the intervals of Question 3. Set `CIFAR10_DIR` first.
# Defaults: 500 images per class, at most 15 epochs (~20 min on a 4-core laptop CPU).

# %% tags=["otter_ignore"]
from cnnbook.core.data import load_splits
from cnnbook.core.metrics import predict_probabilities
from cnnbook.lessons.intervals import verdict

PER_CLASS, EPOCHS, STRENGTH = 500, 15, 5e-4
_data = load_splits()
_rows = training_subset(_data.y_train, PER_CLASS, seed=0)
_stop = [keras.callbacks.EarlyStopping("val_accuracy", patience=3, restore_best_weights=True)]
_models = {"regularized": build_regularized_model(STRENGTH, seed=0), "baseline": build_model("baseline", seed=0)}
_models["baseline"].compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                            metrics=["accuracy"])
_probs = {}
for _name, _model in _models.items():
    _y, _yv = _data.y_train[_rows], _data.y_val
    if REGULARIZER == "label_smoothing" and _name == "regularized":
        _y, _yv = keras.utils.to_categorical(_y, 10), keras.utils.to_categorical(_yv, 10)
    _model.fit(_data.x_train[_rows], _y, validation_data=(_data.x_val, _yv), epochs=EPOCHS, batch_size=128,
               callbacks=_stop, verbose=2)
    _probs[_name] = predict_probabilities(_model, _data.x_test)
for _metric, _interval in compare_with_baseline(_probs["regularized"], _probs["baseline"], _data.y_test).items():
    print(f"{_metric}: regularized - baseline = {_interval.format(scale=100, digits=1)} points ({verdict(_interval)})")
