"""2-D convolution in NumPy, written twice: a readable loop and a vectorized version.

Chapter "Convolution math". Layouts follow TensorFlow: images are NHWC ``(N, H, W, C_in)``
and filters are ``(kh, kw, C_in, C_out)``. Like ``tf.nn.conv2d`` (and every deep-learning
"convolution"), these functions compute a *cross-correlation*: the kernel is slid over the
image as it is, never flipped. A mathematician's convolution would use ``w[::-1, ::-1]``.

Padding ``'same'`` reproduces TensorFlow exactly: along each spatial axis of size ``n`` with
kernel ``k`` and stride ``s`` the output has ``ceil(n / s)`` entries and the input gets
``pad_total = max((ceil(n / s) - 1) * s + k - n, 0)`` zeros, ``pad_total // 2`` before and the
rest after (so an odd total puts the extra zero at the bottom/right).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

PADDINGS: tuple[str, ...] = ("valid", "same")
LUMINANCE_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)


def _frozen(rows: list[list[float]], scale: float = 1.0) -> np.ndarray:
    """A read-only float64 3x3 kernel (so the shared constants cannot be altered by accident)."""
    kernel = np.asarray(rows, dtype=np.float64) * scale
    kernel.setflags(write=False)
    return kernel


# Classic 3x3 filters, written for cross-correlation (as applied, unflipped).
SOBEL_X = _frozen(
    [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
)  # > 0 where brightness rises to the right
SOBEL_Y = _frozen(
    [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
)  # > 0 where brightness rises downwards
LAPLACIAN = _frozen([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
BOX_BLUR = _frozen([[1, 1, 1], [1, 1, 1], [1, 1, 1]], scale=1 / 9)
SHARPEN = _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
FILTERS: dict[str, np.ndarray] = {
    "sobel_x": SOBEL_X,
    "sobel_y": SOBEL_Y,
    "laplacian": LAPLACIAN,
    "box_blur": BOX_BLUR,
    "sharpen": SHARPEN,
}


def _check_padding_stride(padding: str, stride: int) -> None:
    """Raise a one-line ValueError for an unknown padding or a non-positive stride."""
    if padding not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    if (
        isinstance(stride, bool)
        or not isinstance(stride, (int, np.integer))
        or stride < 1
    ):
        raise ValueError(f"stride must be a positive int, got {stride!r}")


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: str = "valid"
) -> int:
    """Output length along one axis: floor((n-k)/s)+1 for 'valid', ceil(n/s) for 'same'."""
    _check_padding_stride(padding, stride)
    if size < 1 or kernel < 1:
        raise ValueError(
            f"size and kernel must be positive, got size={size}, kernel={kernel}"
        )
    if padding == "same":
        return math.ceil(size / stride)
    return conv_output_length(size, kernel, stride)  # 'valid': no padding


def conv_output_length(
    size: int, kernel: int, stride: int = 1, pad: int = 0, dilation: int = 1
) -> int:
    """Output length along one axis: floor((n + 2p - d(k-1) - 1) / s) + 1."""
    _check_lengths(
        size=(size, 1),
        kernel=(kernel, 1),
        stride=(stride, 1),
        pad=(pad, 0),
        dilation=(dilation, 1),
    )
    span = dilation * (kernel - 1) + 1  # the input window a dilated kernel covers
    if span > size + 2 * pad:
        raise ValueError(
            f"the kernel spans {span} inputs; the padded input has {size + 2 * pad}"
        )
    return (size + 2 * pad - span) // stride + 1


def _check_lengths(**values: tuple[int, int]) -> None:
    """Raise a one-line ValueError unless each value (value, lowest allowed) is a large enough int."""
    for label, (value, low) in values.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or value < low
        ):
            raise ValueError(f"{label} must be an int >= {low}, got {value!r}")


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding (before, after) along one axis."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _check_inputs(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None) -> None:
    """Raise a one-line ValueError unless x is NHWC, w is (kh,kw,C_in,C_out) and they agree."""
    if x.ndim != 4:
        raise ValueError(
            f"x must be NHWC (N, H, W, C_in); got shape {x.shape} (add a batch axis)"
        )
    if w.ndim != 4:
        raise ValueError(
            f"w must have shape (kh, kw, C_in, C_out); got shape {w.shape}"
        )
    if x.shape[3] != w.shape[2]:
        raise ValueError(f"x has {x.shape[3]} channels but w expects C_in={w.shape[2]}")
    if bias is not None and np.shape(bias) != (w.shape[3],):
        raise ValueError(f"bias must have shape ({w.shape[3]},); got {np.shape(bias)}")


def pad_input(x: np.ndarray, kh: int, kw: int, stride: int, padding: str) -> np.ndarray:
    """Zero-pad an NHWC batch as TensorFlow does for the given kernel, stride and padding."""
    _check_padding_stride(padding, stride)
    if padding == "valid":
        return x
    pads = (
        (0, 0),
        same_padding(x.shape[1], kh, stride),
        same_padding(x.shape[2], kw, stride),
        (0, 0),
    )
    return np.pad(x, pads)


def _prepare(x, w, bias, stride: int, padding: str):
    """Validate the arguments; return float arrays, the padded input and the output size."""
    _check_padding_stride(padding, stride)
    x, w = np.asarray(x), np.asarray(w)
    _check_inputs(x, w, bias)
    dtype = np.result_type(x.dtype, w.dtype, np.float32)
    kh, kw = w.shape[:2]
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    xp = pad_input(x.astype(dtype, copy=False), kh, kw, stride, padding)
    return xp, w.astype(dtype, copy=False), dtype, out_h, out_w


def conv2d_loop(
    x: np.ndarray,
    w: np.ndarray,
    stride: int = 1,
    padding: str = "valid",
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """Cross-correlate an NHWC batch with filters, one output number at a time."""
    xp, w, dtype, out_h, out_w = _prepare(x, w, bias, stride, padding)
    kh, kw, _, c_out = w.shape
    out = np.zeros((xp.shape[0], out_h, out_w, c_out), dtype=dtype)
    for n in range(xp.shape[0]):  # every image
        for i in range(out_h):  # every output row
            for j in range(out_w):  # every output column
                top, left = i * stride, j * stride
                patch = xp[n, top : top + kh, left : left + kw, :]  # (kh, kw, C_in)
                for o in range(c_out):  # every filter
                    out[n, i, j, o] = np.sum(patch * w[:, :, :, o])
    if bias is not None:
        out += np.asarray(bias, dtype=dtype)
    return out


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    stride: int = 1,
    padding: str = "valid",
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """Vectorized cross-correlation: all windows as a view, then one tensordot."""
    xp, w, dtype, out_h, out_w = _prepare(x, w, bias, stride, padding)
    kh, kw = w.shape[:2]
    # every kh x kw window, without copying: (N, H', W', C_in, kh, kw)
    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))
    windows = windows[:, : out_h * stride : stride, : out_w * stride : stride]
    # sum over kh, kw and C_in: (N, out_h, out_w, C_out)
    out = np.tensordot(windows, w, axes=([4, 5, 3], [0, 1, 2]))
    if bias is not None:
        out = out + np.asarray(bias, dtype=dtype)
    return out.astype(dtype, copy=False)


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """Grey (H, W) float64 image: an RGB image weighted 0.299/0.587/0.114, a grey one as is."""
    image = np.asarray(image)
    if image.ndim == 2:
        return image.astype(np.float64)
    if image.ndim == 3 and image.shape[2] == 3:
        return image.astype(np.float64) @ np.asarray(LUMINANCE_WEIGHTS)
    raise ValueError(
        f"image must be grey (H, W) or RGB (H, W, 3); got shape {image.shape}"
    )


def apply_filter(
    image: np.ndarray, kernel: np.ndarray | str, padding: str = "same"
) -> np.ndarray:
    """Apply one 2-D kernel (or a FILTERS name) to a grey or RGB image; float 2-D response map.

    'valid' avoids the artificial edges that zero padding draws along the border."""
    if isinstance(kernel, str):
        if kernel not in FILTERS:
            raise ValueError(
                f"unknown filter {kernel!r}: choose one of {', '.join(FILTERS)}"
            )
        kernel = FILTERS[kernel]
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2:
        raise ValueError(f"kernel must be 2-D (kh, kw); got shape {kernel.shape}")
    grey = to_grayscale(image)
    batch, bank = (
        grey[np.newaxis, :, :, np.newaxis],
        kernel[:, :, np.newaxis, np.newaxis],
    )
    return conv2d(batch, bank, padding=padding)[0, :, :, 0]


def conv2d_tensorflow(
    x: np.ndarray, w: np.ndarray, stride: int = 1, padding: str = "valid"
) -> np.ndarray:
    """tf.nn.conv2d on NumPy arrays: the independent reference the chapter compares against."""
    from cnnbook.core.backend import tf

    _check_padding_stride(padding, stride)
    return tf.nn.conv2d(x, w, strides=stride, padding=padding.upper()).numpy()


def learn_kernel(
    x: np.ndarray,
    y: np.ndarray,
    shape: tuple[int, int],
    steps: int = 200,
    learning_rate: float = 0.05,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit a 2-D kernel to image pairs by gradient descent: (kernel, loss per step).

    x is (N, H, W), y is (N, H - kh + 1, W - kw + 1) ('valid'); the loss is the mean
    squared error.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    windows = sliding_window_view(x, shape, axis=(1, 2))  # (N, H', W', kh, kw)
    if windows.shape[:3] != y.shape:
        raise ValueError(
            f"y must have shape {windows.shape[:3]} for a {shape} kernel; got {y.shape}"
        )
    kernel = np.random.default_rng(seed).normal(scale=0.1, size=shape)
    losses = []
    for _ in range(steps):
        error = np.einsum("nijuv,uv->nij", windows, kernel) - y  # prediction - target
        losses.append(np.mean(error**2))
        # d(loss)/d(kernel[u, v]): mean of 2 * error * the pixel that weight touched
        gradient = 2 * np.einsum("nijuv,nij->uv", windows, error) / error.size
        kernel -= learning_rate * gradient
    return kernel, np.array(losses)
