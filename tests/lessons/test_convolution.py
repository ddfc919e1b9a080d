"""conv2d_loop and conv2d against tf.nn.conv2d, a hand-worked example, and the classic filters."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnbook.lessons.convolution import (
    BOX_BLUR,
    FILTERS,
    LAPLACIAN,
    SHARPEN,
    apply_filter,
    conv2d,
    conv2d_loop,
    conv_output_size,
    same_padding,
    to_grayscale,
)

CONVS = {"loop": conv2d_loop, "vectorized": conv2d}


def _tf_conv(x: np.ndarray, w: np.ndarray, stride: int, padding: str) -> np.ndarray:
    """The reference: TensorFlow's own conv2d."""
    return tf.nn.conv2d(x, w, strides=stride, padding=padding.upper()).numpy()


def _random_case(
    seed: int, n: int, h: int, w: int, c_in: int, c_out: int, k: tuple[int, int]
):
    """A float32 NHWC batch and a (kh, kw, C_in, C_out) filter bank."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, h, w, c_in)).astype(np.float32)
    filters = rng.normal(size=(*k, c_in, c_out)).astype(np.float32)
    return x, filters


@pytest.mark.parametrize("impl", CONVS)
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize(
    "shape, k",
    [
        ((2, 7, 6, 3, 4), (3, 3)),
        ((1, 6, 8, 2, 5), (2, 3)),
        ((2, 5, 5, 1, 2), (1, 1)),
        ((1, 9, 4, 4, 3), (4, 2)),
    ],
)
def test_matches_tensorflow(impl, padding, stride, shape, k):
    x, w = _random_case(sum(shape) + stride, *shape, k)
    got = CONVS[impl](x, w, stride=stride, padding=padding)
    want = _tf_conv(x, w, stride, padding)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 3),
    h=st.integers(3, 12),
    w=st.integers(3, 12),
    c_in=st.integers(1, 4),
    c_out=st.integers(1, 6),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    stride=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]),
)
def test_vectorized_matches_tensorflow_random_shapes(
    seed, n, h, w, c_in, c_out, kh, kw, stride, padding
):
    x, filters = _random_case(seed, n, h, w, c_in, c_out, (kh, kw))
    want = _tf_conv(x, filters, stride, padding)
    np.testing.assert_allclose(
        conv2d(x, filters, stride, padding), want, rtol=1e-5, atol=1e-5
    )


def test_loop_and_vectorized_agree_with_bias():
    x, w = _random_case(3, 2, 8, 8, 3, 4, (3, 3))
    bias = np.array([0.5, -1.0, 2.0, 0.0], dtype=np.float32)
    want = _tf_conv(x, w, 2, "same") + bias
    np.testing.assert_allclose(
        conv2d_loop(x, w, 2, "same", bias=bias), want, rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        conv2d(x, w, 2, "same", bias=bias), want, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("size", [1, 4, 5, 6, 7, 32])
@pytest.mark.parametrize("kernel", [1, 2, 3, 4])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_output_size_matches_tensorflow(size, kernel, stride, padding):
    if padding == "valid" and kernel > size:
        with pytest.raises(ValueError, match="the kernel spans"):
            conv_output_size(size, kernel, stride, padding)
        return
    out = tf.nn.conv2d(
        tf.zeros((1, size, size, 1)),
        tf.zeros((kernel, kernel, 1, 1)),
        stride,
        padding.upper(),
    )
    assert conv_output_size(size, kernel, stride, padding) == out.shape[1]


def test_same_padding_puts_the_odd_zero_after():
    assert same_padding(6, 3, 2) == (0, 1)
    assert same_padding(5, 3, 1) == (1, 1)
    assert same_padding(7, 4, 1) == (1, 2)
    assert same_padding(8, 1, 3) == (0, 0)


@pytest.mark.parametrize("impl", CONVS)
def test_hand_worked_example_is_cross_correlation(impl):
    x = np.arange(1, 10, dtype=np.float64).reshape(
        1, 3, 3, 1
    )  # [[1,2,3],[4,5,6],[7,8,9]]
    w = np.array([[1, 2], [3, 4]], dtype=np.float64).reshape(2, 2, 1, 1)
    # out[0,0] = 1*1 + 2*2 + 4*3 + 5*4 = 37 (a flipped kernel would give 23)
    want = np.array([[37, 47], [67, 77]], dtype=np.float64)
    np.testing.assert_allclose(CONVS[impl](x, w)[0, :, :, 0], want)
    np.testing.assert_allclose(
        CONVS[impl](x, w, bias=np.array([0.5]))[0, :, :, 0], want + 0.5
    )


def test_hand_worked_same_stride_two():
    x = np.arange(1, 10, dtype=np.float64).reshape(1, 3, 3, 1)
    w = np.ones((3, 3, 1, 1))
    # outputs at (0,0) and (0,2), (2,0), (2,2); pad 1 on every side: sums of the 2x2 corners
    want = np.array(
        [[1 + 2 + 4 + 5, 2 + 3 + 5 + 6], [4 + 5 + 7 + 8, 5 + 6 + 8 + 9]],
        dtype=np.float64,
    )
    np.testing.assert_allclose(conv2d(x, w, stride=2, padding="same")[0, :, :, 0], want)


def _step_edge() -> np.ndarray:
    """8x8 grey image: 0 in columns 0-3, 1 in columns 4-7 (a vertical edge)."""
    image = np.zeros((8, 8))
    image[:, 4:] = 1.0
    return image


def test_sobel_x_fires_on_vertical_edge():
    response = apply_filter(_step_edge(), "sobel_x")
    assert response.shape == (8, 8)
    inner = response[1:-1]  # rows away from the zero padding
    np.testing.assert_allclose(inner[:, 3:5], 4.0)
    np.testing.assert_allclose(inner[:, 1:3], 0.0)
    np.testing.assert_allclose(inner[:, 5:7], 0.0)
    np.testing.assert_allclose(apply_filter(_step_edge(), "sobel_y")[1:-1, :-1], 0.0)


def test_rgb_image_uses_luminance():
    rgb = np.zeros((8, 8, 3), dtype=np.uint8)
    rgb[:, 4:] = 255  # white on the right
    np.testing.assert_allclose(
        apply_filter(rgb, FILTERS["sobel_x"])[1:-1, 3:5], 4 * 255.0
    )
    red = np.zeros((2, 2, 3), dtype=np.uint8)
    red[..., 0] = 200
    np.testing.assert_allclose(to_grayscale(red), 0.299 * 200)


def test_apply_filter_matches_tensorflow_same():
    rng = np.random.default_rng(0)
    image = rng.random((9, 7, 3))
    grey = image @ np.array([0.299, 0.587, 0.114])
    for kernel in FILTERS.values():
        want = _tf_conv(grey[None, :, :, None], kernel[:, :, None, None], 1, "same")[
            0, :, :, 0
        ]
        np.testing.assert_allclose(
            apply_filter(image, kernel), want, rtol=1e-6, atol=1e-6
        )


def test_classic_filters_on_simple_images():
    flat = np.full((6, 6), 3.0)
    ramp = np.tile(np.arange(6.0), (6, 1))
    np.testing.assert_allclose(apply_filter(flat, BOX_BLUR)[1:-1, 1:-1], 3.0)
    np.testing.assert_allclose(apply_filter(flat, SHARPEN)[1:-1, 1:-1], 3.0)
    np.testing.assert_allclose(
        apply_filter(ramp, LAPLACIAN)[1:-1, 1:-1], 0.0, atol=1e-12
    )
    with pytest.raises(ValueError):
        FILTERS["sobel_x"][0, 0] = 5.0  # the shared constants are read-only


@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs, match",
    [
        ((5, 5, 3), (3, 3, 3, 2), {}, "NHWC"),
        ((1, 5, 5, 3), (3, 3, 2), {}, "kh, kw"),
        ((1, 5, 5, 3), (3, 3, 2, 2), {}, "channels"),
        ((1, 5, 5, 3), (3, 3, 3, 2), {"padding": "full"}, "padding"),
        ((1, 5, 5, 3), (3, 3, 3, 2), {"stride": 0}, "stride"),
        ((1, 5, 5, 3), (3, 3, 3, 2), {"stride": 1.5}, "stride"),
        ((1, 5, 5, 3), (3, 3, 3, 2), {"bias": np.zeros(3)}, "bias"),
        ((1, 2, 5, 3), (3, 3, 3, 2), {}, "the kernel spans 3 inputs"),
    ],
)
@pytest.mark.parametrize("impl", CONVS)
def test_bad_arguments_raise(impl, x_shape, w_shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        CONVS[impl](np.zeros(x_shape), np.zeros(w_shape), **kwargs)


def test_apply_filter_bad_inputs_raise():
    with pytest.raises(ValueError, match="unknown filter"):
        apply_filter(np.zeros((4, 4)), "emboss")
    with pytest.raises(ValueError, match="2-D"):
        apply_filter(np.zeros((4, 4)), np.zeros((3, 3, 1)))
    with pytest.raises(ValueError, match="grey"):
        apply_filter(np.zeros((4, 4, 4)), "sobel_x")


def test_conv2d_tensorflow_wrapper_matches_vectorized() -> None:
    from cnnbook.lessons.convolution import conv2d, conv2d_tensorflow

    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 9, 9, 3)).astype(np.float32)
    w = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(
        conv2d_tensorflow(x, w, 2, "same"), conv2d(x, w, 2, "same"), atol=1e-5
    )
    with pytest.raises(ValueError, match="padding"):
        conv2d_tensorflow(x, w, 1, "full")


def test_apply_filter_valid_padding_has_no_border_artifact() -> None:
    from cnnbook.lessons.convolution import apply_filter

    flat = np.full((10, 10), 7.0)
    assert apply_filter(flat, "laplacian", padding="valid").shape == (8, 8)
    np.testing.assert_allclose(apply_filter(flat, "laplacian", padding="valid"), 0.0)
    assert (
        np.abs(apply_filter(flat, "laplacian")).max() > 0
    )  # zero padding invents an edge


def _brute_force_length(
    size: int, kernel: int, stride: int, pad: int, dilation: int
) -> int:
    """Count the window positions one by one: starts 0, s, 2s, ... whose dilated span fits."""
    padded, span = size + 2 * pad, dilation * (kernel - 1) + 1
    return sum(1 for start in range(0, padded, stride) if start + span <= padded)


@pytest.mark.parametrize("size", [5, 8, 32])
@pytest.mark.parametrize("kernel", [1, 2, 3, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize("dilation", [1, 2])
def test_general_output_length_counts_window_positions(
    size, kernel, stride, pad, dilation
):
    from cnnbook.lessons.convolution import conv_output_length

    span = dilation * (kernel - 1) + 1
    if span > size + 2 * pad:
        with pytest.raises(ValueError, match="spans"):
            conv_output_length(size, kernel, stride, pad, dilation)
        return
    assert conv_output_length(
        size, kernel, stride, pad, dilation
    ) == _brute_force_length(size, kernel, stride, pad, dilation)


@pytest.mark.parametrize(
    "stride,pad,dilation", [(1, 0, 2), (1, 2, 3), (2, 1, 1), (3, 2, 1)]
)
def test_general_output_length_matches_tensorflow(stride, pad, dilation):
    from cnnbook.lessons.convolution import conv_output_length

    x = tf.zeros((1, 11, 11, 1))
    out = tf.nn.conv2d(
        x,
        tf.zeros((3, 3, 1, 1)),
        strides=stride,
        dilations=dilation,
        padding=[[0, 0], [pad, pad], [pad, pad], [0, 0]],
    )
    assert conv_output_length(11, 3, stride, pad, dilation) == out.shape[1]
    assert conv_output_length(32, 3, 1, 1) == 32  # 'same' for a 3x3 kernel is p = 1


@pytest.mark.parametrize(
    "bad",
    [
        dict(size=0),
        dict(kernel=0),
        dict(stride=0),
        dict(pad=-1),
        dict(dilation=0),
        dict(stride=1.5),
        dict(pad=True),
    ],
)
def test_general_output_length_rejects_bad_arguments(bad):
    from cnnbook.lessons.convolution import conv_output_length

    args = dict(size=8, kernel=3, stride=1, pad=0, dilation=1) | bad
    with pytest.raises(ValueError, match="must be an int"):
        conv_output_length(**args)


def test_learn_kernel_recovers_an_edge_detector_and_its_gradient_matches_tensorflow():
    from cnnbook.lessons.convolution import learn_kernel

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6, 8))
    true_kernel = np.array([[1.0, -1.0]])
    y = x[:, :, :-1] * 1.0 - x[:, :, 1:]
    kernel, losses = learn_kernel(x, y, (1, 2), steps=300, learning_rate=0.1)
    np.testing.assert_allclose(kernel, true_kernel, atol=1e-3)
    assert losses[-1] < 1e-6 < losses[0] and np.all(np.diff(losses) <= 1e-12)
    # one step from a known kernel equals a step along TensorFlow's gradient of the same loss
    start = np.random.default_rng(0).normal(scale=0.1, size=(1, 2))
    one, _ = learn_kernel(x, y, (1, 2), steps=1, learning_rate=1.0)
    k = tf.Variable(start.reshape(1, 2, 1, 1))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(
            (tf.nn.conv2d(x[..., None], k, 1, "VALID")[..., 0] - y) ** 2
        )
    expected = start - tape.gradient(loss, k).numpy().reshape(1, 2)
    np.testing.assert_allclose(one, expected, rtol=1e-10)


def test_learn_kernel_rejects_mismatched_shapes():
    from cnnbook.lessons.convolution import learn_kernel

    with pytest.raises(ValueError, match=r"y must have shape \(1, 6, 7\)"):
        learn_kernel(np.zeros((1, 6, 8)), np.zeros((1, 6, 8)), (1, 2))
