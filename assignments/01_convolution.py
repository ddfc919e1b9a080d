# %% [raw]
# # ASSIGNMENT CONFIG
# name: 01_convolution
# init_cell: true
# check_all_cell: false
# export_cell: false
# generate: true
# tests:
#   files: true

# %% [markdown]
# # Assignment 1 — Convolution from scratch
#
# Chapter *Convolution math*. You will write the output-size formula of a convolution, a readable
# loop convolution and a vectorized one, in NumPy. Layouts follow TensorFlow: images are NHWC
# `(N, H, W, C_in)`, filters are `(kh, kw, C_in, C_out)`, and "convolution" means
# **cross-correlation** (the kernel is not flipped), as in `tf.nn.conv2d`.
#
# Estimated time: 2 hours. Run every cell from the top; `grader.check("...")` runs the public tests.
# The autograder also runs hidden tests: random shapes, strides, both paddings, edge cases.

# %%
import numpy as np

# %% [raw]
# # BEGIN QUESTION
# name: q1_output_size
# points: [1, 2, 1]

# %% [markdown]
# **Question 1 (4 points).** Along one axis of length $n$, a kernel of size $k$ with dilation $d$
# (taps $d$ apart), zero padding $p$ on *both* sides and stride $s$ gives
# $\left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1$ outputs. Write
# `conv_output_size(n, k, p=0, s=1, d=1)`; raise `ValueError` when the dilated kernel does not fit
# in the padded input.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv_output_size(n: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    """Number of outputs along one axis (ValueError if the dilated kernel does not fit)."""
    # BEGIN SOLUTION
    span = d * (k - 1) + 1
    if span > n + 2 * p:
        raise ValueError(f"a kernel spanning {span} does not fit in {n} + 2*{p}")
    return (n + 2 * p - span) // s + 1
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert conv_output_size(32, 3, p=1) == 32 and conv_output_size(32, 3) == 30

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare, reference_output_size, raises
_cases = [((n, k), dict(p=p, s=s, d=d)) for n in (1, 5, 8, 32) for k in (1, 2, 3, 5) for p in (0, 1, 2)
          for s in (1, 2, 3) for d in (1, 2, 3) if d * (k - 1) + 1 <= n + 2 * p]
compare(conv_output_size, reference_output_size, _cases)

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import raises
raises(conv_output_size, 4, 3, p=0, s=1, d=2)
raises(conv_output_size, 2, 5, p=1)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2_conv2d_loop
# points: [1, 2, 2]

# %% [markdown]
# **Question 2 (5 points).** Write `conv2d_loop(x, w, stride=1, padding="valid")` with explicit
# loops over images, output rows, output columns and filters. `padding="same"` follows TensorFlow:
# along an axis of length $n$ the output has $\lceil n/s \rceil$ entries and the input gets
# `total = max((ceil(n/s) - 1)*s + k - n, 0)` zeros, `total // 2` before and the rest after.
# Return a float array of shape `(N, out_h, out_w, C_out)`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv2d_loop(x: np.ndarray, w: np.ndarray, stride: int = 1, padding: str = "valid") -> np.ndarray:
    """Cross-correlate an NHWC batch with (kh, kw, C_in, C_out) filters, one output at a time."""
    # BEGIN SOLUTION
    xp = pad_same(x, w.shape[0], w.shape[1], stride) if padding == "same" else np.asarray(x, float)
    kh, kw, _, c_out = w.shape
    out_h, out_w = (xp.shape[1] - kh) // stride + 1, (xp.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, c_out))
    for n in range(x.shape[0]):
        for i in range(out_h):
            for j in range(out_w):
                patch = xp[n, i * stride: i * stride + kh, j * stride: j * stride + kw, :]
                for o in range(c_out):
                    out[n, i, j, o] = np.sum(patch * w[:, :, :, o])
    return out


def pad_same(x: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """Zero-pad an NHWC batch as TensorFlow's 'same' padding does."""
    pads = [(0, 0)]
    for n, k in ((x.shape[1], kh), (x.shape[2], kw)):
        total = max((-(-n // stride) - 1) * stride + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(np.asarray(x, float), pads + [(0, 0)])
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
_x = np.arange(16.0).reshape(1, 4, 4, 1)
assert np.allclose(conv2d_loop(_x, np.ones((2, 2, 1, 1)))[0, :, :, 0], [[10, 14, 18], [26, 30, 34], [42, 46, 50]])

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare, reference_output_size, reference_in
from cnnbook.lessons import convolution as _ref
_rng = np.random.default_rng(2)
_cases = [((_rng.normal(size=(2, 7, 6, 3)), _rng.normal(size=(3, 3, 3, 4))), dict(stride=1, padding="valid")),
          ((_rng.normal(size=(1, 5, 5, 2)), _rng.normal(size=(5, 5, 2, 1))), dict(stride=1, padding="valid")),
          ((_rng.normal(size=(1, 9, 8, 2)), _rng.normal(size=(2, 3, 2, 2))), dict(stride=3, padding="valid"))]
with reference_in(conv2d_loop, conv_output_size=reference_output_size):
    compare(conv2d_loop, _ref.conv2d_loop, _cases)

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare, reference_output_size, reference_in
from cnnbook.lessons import convolution as _ref
_rng = np.random.default_rng(5)
_cases = [((_rng.normal(size=(2, 6, 6, 3)), _rng.normal(size=(3, 3, 3, 2))), dict(stride=1, padding="same")),
          ((_rng.normal(size=(1, 8, 7, 2)), _rng.normal(size=(3, 2, 2, 3))), dict(stride=2, padding="same")),
          ((_rng.normal(size=(1, 5, 5, 1)), _rng.normal(size=(4, 4, 1, 1))), dict(stride=3, padding="same"))]
with reference_in(conv2d_loop, conv_output_size=reference_output_size):
    compare(conv2d_loop, _ref.conv2d_loop, _cases)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3_conv2d_vectorized
# points: [1, 2, 1]

# %% [markdown]
# **Question 3 (4 points).** Write `conv2d(x, w, stride=1, padding="valid")` with the same result
# and no Python loop over pixels (hint: `numpy.lib.stride_tricks.sliding_window_view`, then one
# `np.tensordot` or `np.einsum`). It must handle a `(16, 32, 32, 8)` batch in well under a second.

# %% [raw]
# # BEGIN SOLUTION

# %%
from numpy.lib.stride_tricks import sliding_window_view


def conv2d(x: np.ndarray, w: np.ndarray, stride: int = 1, padding: str = "valid") -> np.ndarray:
    """Vectorized cross-correlation: all windows as one view, then one tensordot."""
    # BEGIN SOLUTION
    xp = pad_same(x, w.shape[0], w.shape[1], stride) if padding == "same" else np.asarray(x, float)
    kh, kw = w.shape[:2]
    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return np.tensordot(windows, w, axes=([4, 5, 3], [0, 1, 2]))
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
_x = np.arange(16.0).reshape(1, 4, 4, 1)
assert np.allclose(conv2d(_x, np.ones((2, 2, 1, 1)))[0, :, :, 0], [[10, 14, 18], [26, 30, 34], [42, 46, 50]])
assert np.shape(conv2d(_x, np.ones((3, 3, 1, 2)), stride=2, padding="same")) == (1, 2, 2, 2)

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare, reference_output_size, reference_in
from cnnbook.lessons import convolution as _ref
_rng = np.random.default_rng(3)
_cases = [((_rng.normal(size=(n, h, w, c)), _rng.normal(size=(kh, kw, c, o))), dict(stride=s, padding=pad))
          for n, h, w, c, kh, kw, o, s, pad in [(2, 7, 7, 3, 3, 3, 4, 1, "valid"), (1, 8, 7, 2, 3, 2, 3, 2, "same"),
                                                (1, 9, 9, 1, 2, 2, 2, 3, "same"), (3, 6, 5, 2, 1, 1, 2, 2, "valid"),
                                                (1, 5, 5, 2, 5, 5, 1, 1, "valid"), (2, 4, 4, 3, 3, 3, 2, 4, "same")]]
with reference_in(conv2d, conv_output_size=reference_output_size, conv2d_loop=_ref.conv2d_loop):
    compare(conv2d, _ref.conv2d, _cases)

# %%
# HIDDEN
import numpy as np
import time as _time
_x, _w = np.random.default_rng(4).normal(size=(16, 32, 32, 8)), np.random.default_rng(5).normal(size=(3, 3, 8, 16))
_start = _time.perf_counter()
_out = conv2d(_x, _w, padding="same")
_elapsed = _time.perf_counter() - _start
assert np.shape(_out) == (16, 32, 32, 16), f"conv2d gave shape {np.shape(_out)} for a (16, 32, 32, 8) batch"
assert _elapsed < 1.0, f"conv2d took {_elapsed:.2f} s on a (16, 32, 32, 8) batch: vectorize it"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Try it on a real image (not graded)
#
# The cell below applies your `conv2d` with a Sobel filter to a CIFAR-10 image (set `CIFAR10_DIR`).
# The autograder skips it (tag `otter_ignore`).

# %% tags=["otter_ignore"]
from cnnbook.core.data import load_splits
from cnnbook.lessons.convolution import SOBEL_X, to_grayscale

_image = to_grayscale(load_splits().x_test[0])
_edges = conv2d(_image[None, :, :, None], SOBEL_X[:, :, None, None], padding="same")[0, :, :, 0]
print(f"Sobel response range: {_edges.min():.1f} .. {_edges.max():.1f}")
