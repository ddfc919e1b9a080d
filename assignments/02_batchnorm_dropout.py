# %% [raw]
# # ASSIGNMENT CONFIG
# name: 02_batchnorm_dropout
# init_cell: true
# check_all_cell: false
# export_cell: false
# generate: true
# tests:
#   files: true

# %% [markdown]
# # Assignment 2 — BatchNorm and Dropout, forward pass
#
# Chapter *Regularization*. You will write BatchNorm's forward pass in training mode (batch
# statistics) and inference mode (running statistics), the running-statistics update, and inverted
# dropout, in NumPy, with the semantics of `keras.layers.BatchNormalization` (channels last) and
# `keras.layers.Dropout`. Estimated time: 1.5 hours.

# %%
import numpy as np

# %% [raw]
# # BEGIN QUESTION
# name: q1_batchnorm_train
# points: [1, 2, 1]

# %% [markdown]
# **Question 1 (4 points).** `batchnorm_train(x, gamma, beta, eps=1e-3)` normalizes each channel (the
# last axis) with the mean and the **biased** variance (divide by $m$, as Keras does) over every other
# axis: $y = \gamma (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta$. Return `(y, mean, var)`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def batchnorm_train(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-3):
    """Training-mode BatchNorm: (y, batch mean, batch variance) per channel."""
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta, mean, var
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
_y, _m, _v = batchnorm_train(np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1))
assert np.allclose(_m, [2.0]) and np.allclose(_v, [1.0]) and np.allclose(_y[:, 0], [-1, 1] / np.sqrt(1.001))

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare
from cnnbook.lessons import normalization as _ref
_rng = np.random.default_rng(1)
_cases = [((_rng.normal(2, 3, size=shape), _rng.normal(size=shape[-1]), _rng.normal(size=shape[-1])), dict(eps=eps))
          for shape, eps in [((8, 3), 1e-3), ((4, 5, 5, 2), 1e-5), ((2, 1), 1e-3), ((16, 4, 4, 6), 0.1)]]
compare(batchnorm_train, _ref.batchnorm_train, _cases)

# %%
# HIDDEN
import numpy as np
_y, _m, _v = batchnorm_train(np.full((5, 3), 7.0), np.ones(3), np.zeros(3))
assert np.allclose(_y, 0) and np.allclose(_v, 0), "a constant channel must normalize to beta, with variance 0"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2_running_stats
# points: [1, 2]

# %% [markdown]
# **Question 2 (3 points).** `update_moving_stats(moving_mean, moving_var, batch_mean, batch_var,
# momentum=0.99)` returns the new `(moving_mean, moving_var)`:
# `moving = moving * momentum + batch * (1 - momentum)` (Keras's convention).

# %% [raw]
# # BEGIN SOLUTION

# %%
def update_moving_stats(moving_mean, moving_var, batch_mean, batch_var, momentum: float = 0.99):
    """Exponential moving averages of the batch statistics, as Keras keeps them."""
    # BEGIN SOLUTION
    new_mean = np.asarray(moving_mean) * momentum + np.asarray(batch_mean) * (1.0 - momentum)
    new_var = np.asarray(moving_var) * momentum + np.asarray(batch_var) * (1.0 - momentum)
    return new_mean, new_var
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
_mm, _mv = update_moving_stats(np.zeros(2), np.ones(2), np.ones(2), np.ones(2), momentum=0.9)
assert np.allclose(_mm, 0.1) and np.allclose(_mv, 1.0)

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare
from cnnbook.lessons import normalization as _ref
_rng = np.random.default_rng(2)
_cases = [(tuple(_rng.uniform(0, 2, size=(4,)) for _ in range(4)), dict(momentum=m)) for m in (0.99, 0.5, 0.0, 1.0, 0.9)]
compare(update_moving_stats, _ref.update_moving_stats, _cases)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3_batchnorm_inference
# points: [1, 2]

# %% [markdown]
# **Question 3 (3 points).** `batchnorm_inference(x, gamma, beta, moving_mean, moving_var, eps=1e-3)`
# normalizes with the stored moving statistics: the output for one image must not depend on the rest
# of the batch.

# %% [raw]
# # BEGIN SOLUTION

# %%
def batchnorm_inference(x, gamma, beta, moving_mean, moving_var, eps: float = 1e-3):
    """Inference-mode BatchNorm: normalize with the moving statistics."""
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    return gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert np.allclose(batchnorm_inference(np.array([[2.0]]), np.ones(1), np.zeros(1), np.ones(1), np.full(1, 3.999)), 0.5)

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare
from cnnbook.lessons import normalization as _ref
_rng = np.random.default_rng(3)
_cases = []
for _shape in [(6, 3), (2, 4, 4, 5), (1, 2)]:
    _c = _shape[-1]
    _cases.append(((_rng.normal(size=_shape), _rng.normal(size=_c), _rng.normal(size=_c), _rng.normal(size=_c),
                    _rng.uniform(0.1, 2, size=_c)), dict(eps=1e-3)))
compare(batchnorm_inference, _ref.batchnorm_inference, _cases)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4_dropout
# points: [1, 2, 1]

# %% [markdown]
# **Question 4 (4 points).** Inverted dropout: `dropout(x, rate, training, rng)` keeps each entry where
# `rng.random(x.shape) >= rate` (draw exactly that, once) and scales the kept ones by $1/(1-\text{rate})$
# in training; at inference (`training=False`) it returns `x` unchanged (as floats).

# %% [raw]
# # BEGIN SOLUTION

# %%
def dropout(x: np.ndarray, rate: float, training: bool, rng: np.random.Generator) -> np.ndarray:
    """Inverted dropout: x * mask / (1 - rate) in training, x at inference."""
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    if not training or rate == 0:
        return x.copy()
    mask = rng.random(x.shape) >= rate
    return x * mask / (1.0 - rate)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert np.allclose(dropout(np.ones(4), 0.5, False, np.random.default_rng(0)), 1.0)

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import assert_close
from cnnbook.lessons import dropout as _ref
for _shape, _rate, _seed in [((1000,), 0.5, 0), ((4, 8, 8, 3), 0.2, 1), ((10, 10), 0.9, 2)]:
    _x = np.random.default_rng(9).normal(size=_shape)
    assert_close(dropout(_x, _rate, True, np.random.default_rng(_seed)),
                 _ref.dropout(_x, _rate, True, np.random.default_rng(_seed)), f"dropout(rate={_rate}, training=True)")

# %%
# HIDDEN
import numpy as np
_x = np.random.default_rng(4).normal(size=(50, 20))
assert np.allclose(dropout(_x, 0.7, False, np.random.default_rng(0)), _x), "at inference dropout is the identity"
_mean = np.mean(dropout(np.ones(200_000), 0.3, True, np.random.default_rng(5)))
assert abs(_mean - 1.0) < 0.01, f"inverted dropout keeps the mean (got {_mean:.3f} instead of 1)"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
