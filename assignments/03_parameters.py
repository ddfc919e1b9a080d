# %% [raw]
# # ASSIGNMENT CONFIG
# name: 03_parameters
# init_cell: true
# check_all_cell: false
# export_cell: false
# generate: true
# tests:
#   files: true

# %% [markdown]
# # Assignment 3 — Counting parameters by formula
#
# Chapter *Architectures*. Count the weights of a Keras model layer by layer from each layer's
# configuration (kernel size, filters, units, `use_bias`, input channels) — never with Keras's
# `count_params`, which the tests use to check you. Estimated time: 1 hour.

# %%
from cnnbook.core.backend import keras
from cnnbook.core.models import build_model

# %% [raw]
# # BEGIN QUESTION
# name: q1_conv_params
# points: [1, 2]

# %% [markdown]
# **Question 1 (3 points).** `conv2d_params(kh, kw, c_in, c_out, use_bias=True)`: a Conv2D layer has
# one $k_h \times k_w \times C_\text{in}$ kernel per output channel, plus one bias per output channel.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv2d_params(kh: int, kw: int, c_in: int, c_out: int, use_bias: bool = True) -> int:
    """Weights of a Conv2D layer."""
    # BEGIN SOLUTION
    return kh * kw * c_in * c_out + (c_out if use_bias else 0)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert conv2d_params(3, 3, 3, 32) == 896

# %%
# HIDDEN
from cnnbook.grading.checks import compare
from cnnbook.lessons import params as _ref
compare(conv2d_params, _ref.conv2d_params,
        [((kh, kw, ci, co), dict(use_bias=b)) for kh, kw in [(1, 1), (3, 3), (5, 3)] for ci, co in [(1, 8), (64, 128)]
         for b in (True, False)])

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2_dense_batchnorm_params
# points: [1, 1, 1]

# %% [markdown]
# **Question 2 (3 points).** `dense_params(n_in, n_out, use_bias=True)`, and
# `batchnorm_params(channels)` returning `(trainable, non_trainable)`: BatchNorm learns $\gamma$ and
# $\beta$ and also stores a moving mean and variance that the optimizer never touches.

# %% [raw]
# # BEGIN SOLUTION

# %%
def dense_params(n_in: int, n_out: int, use_bias: bool = True) -> int:
    """Weights of a Dense layer."""
    # BEGIN SOLUTION
    return n_in * n_out + (n_out if use_bias else 0)
    # END SOLUTION


def batchnorm_params(channels: int) -> tuple[int, int]:
    """(trainable, non-trainable) weights of BatchNormalization over `channels` channels."""
    # BEGIN SOLUTION
    return 2 * channels, 2 * channels
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert dense_params(2048, 128) == 262272

# %%
# HIDDEN
from cnnbook.grading.checks import compare
from cnnbook.lessons import params as _ref
compare(dense_params, _ref.dense_params, [((a, b), dict(use_bias=u)) for a, b in [(1, 1), (2048, 128), (128, 10)]
                                          for u in (True, False)])

# %%
# HIDDEN
from cnnbook.grading.checks import compare
from cnnbook.lessons import params as _ref
compare(batchnorm_params, _ref.batchnorm_params, [((c,), {}) for c in (1, 32, 128)])

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3_count_model
# points: [1, 2]

# %% [markdown]
# **Question 3 (3 points).** `count_model_params(model)` returns
# `{"total": ..., "trainable": ..., "non_trainable": ...}` for a model made of Conv2D, Dense,
# BatchNormalization and parameter-free layers, using your functions above and each layer's
# `get_config()` and `layer.input.shape`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def count_model_params(model: keras.Model) -> dict[str, int]:
    """Trainable, non-trainable and total weights of a model, by formula."""
    # BEGIN SOLUTION
    trainable = frozen = 0
    for layer in model.layers:
        cfg = layer.get_config()
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw = cfg["kernel_size"]
            t, f = conv2d_params(kh, kw, layer.input.shape[-1], cfg["filters"], cfg["use_bias"]), 0
        elif isinstance(layer, keras.layers.Dense):
            t, f = dense_params(layer.input.shape[-1], cfg["units"], cfg["use_bias"]), 0
        elif isinstance(layer, keras.layers.BatchNormalization):
            t, f = batchnorm_params(layer.input.shape[-1])
        else:
            t, f = 0, 0
        trainable, frozen = trainable + t, frozen + f
    return {"total": trainable + frozen, "trainable": trainable, "non_trainable": frozen}
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert count_model_params(build_model("baseline"))["total"] == build_model("baseline").count_params()

# %%
# HIDDEN
from cnnbook.core.backend import keras
from cnnbook.core.models import build_model
from cnnbook.grading.checks import assert_close, reference_in
from cnnbook.lessons import params as _ref
def _small():
    x = inputs = keras.Input((9, 9, 2))
    x = keras.layers.Conv2D(5, (3, 2), use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(7, use_bias=False)(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))
with reference_in(count_model_params, conv2d_params=_ref.conv2d_params, dense_params=_ref.dense_params,
                  batchnorm_params=_ref.batchnorm_params):
    for _model in [build_model("batchnorm"), build_model("dropout"), _small()]:
        assert_close(count_model_params(_model), _ref.count_model_params(_model), f"count_model_params({_model.name})")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
