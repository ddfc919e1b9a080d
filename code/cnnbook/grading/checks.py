"""Helpers the assignments' tests call inside the grading kernel: compare with the reference, isolate.

``compare`` runs a student's function and the package's reference on the same inputs and fails with
one line naming the call that differs. ``reference_in`` swaps reference versions of earlier
questions' functions into the notebook's namespace while a later question is tested, so one mistake
costs the points of its own question only. (Each test case runs in a *copy* of the notebook's
namespace — doctest copies it — so every case imports what it uses, and the swap goes through the
student's function's ``__globals__``.)
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from cnnbook.lessons.convolution import conv_output_length

Case = tuple[tuple[Any, ...], dict[str, Any]]


def describe(args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """A short call signature: arrays by shape, other values by repr."""

    def show(value: Any) -> str:
        if isinstance(value, np.ndarray):
            return f"array{value.shape}"
        text = repr(value)
        return text if len(text) <= 40 else type(value).__name__

    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"({', '.join(parts)})"


def assert_close(
    actual: Any, expected: Any, what: str, rtol: float = 1e-6, atol: float = 1e-8
) -> None:
    """Raise AssertionError (one line) unless actual matches expected: same shape, values close, NaN = NaN."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or sorted(actual) != sorted(expected):
            raise AssertionError(
                f"{what}: expected a dict with keys {sorted(expected)}, got {_keys(actual)}"
            )
        for key in expected:
            assert_close(actual[key], expected[key], f"{what}[{key!r}]", rtol, atol)
        return
    if isinstance(expected, (tuple, list)) and not isinstance(actual, np.ndarray):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            raise AssertionError(
                f"{what}: expected {len(expected)} results, got {type(actual).__name__}"
            )
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, f"{what}[{i}]", rtol, atol)
        return
    try:
        actual_array = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{what}: expected numbers, got {type(actual).__name__}"
        ) from None
    expected_array = np.asarray(expected, dtype=np.float64)
    if actual_array.shape != expected_array.shape:
        raise AssertionError(
            f"{what}: shape {actual_array.shape}, expected {expected_array.shape}"
        )
    if not np.allclose(
        actual_array, expected_array, rtol=rtol, atol=atol, equal_nan=True
    ):
        worst = (
            np.nanmax(np.abs(actual_array - expected_array))
            if actual_array.size
            else 0.0
        )
        raise AssertionError(
            f"{what}: values differ from the reference (max abs difference {worst:.3g})"
        )


def _keys(value: Any) -> str:
    """The keys of a dict, or the type of anything else, for a message."""
    return str(sorted(value)) if isinstance(value, dict) else type(value).__name__


def compare(
    student: Callable,
    reference: Callable,
    cases: Sequence[Case],
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> None:
    """Call student and reference on every case; AssertionError naming the first call that differs."""
    name = getattr(student, "__name__", "the function")
    for args, kwargs in cases:
        call = f"{name}{describe(args, kwargs)}"
        expected = reference(*args, **kwargs)
        try:
            actual = student(*args, **kwargs)
        except Exception as exc:
            raise AssertionError(f"{call} raised {type(exc).__name__}: {exc}") from None
        assert_close(actual, expected, call, rtol, atol)


def raises(
    function: Callable,
    *args: Any,
    error: type[BaseException] = ValueError,
    **kwargs: Any,
) -> None:
    """AssertionError unless function(*args, **kwargs) raises error."""
    try:
        function(*args, **kwargs)
    except error:
        return
    except Exception as exc:
        raise AssertionError(
            f"{getattr(function, '__name__', 'function')}{describe(args, kwargs)} raised "
            f"{type(exc).__name__}, expected {error.__name__}"
        ) from None
    raise AssertionError(
        f"{getattr(function, '__name__', 'function')}{describe(args, kwargs)} "
        f"should raise {error.__name__}"
    )


@contextmanager
def reference_in(student: Callable, **functions: Callable) -> Iterator[None]:
    """Within the block, the names student's code looks up (its module globals: the notebook's
    namespace) point to the given reference functions; the student's own are restored after."""
    namespace = getattr(student, "__globals__", None)
    if (
        namespace is None
    ):  # not a plain Python function: nothing of the notebook to swap
        yield
        return
    missing = object()
    saved = {name: namespace.get(name, missing) for name in functions}
    namespace.update(functions)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def reference_output_size(n: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    """The package's output-size formula (lessons.convolution.conv_output_length, tested against a
    count of window positions and tf.nn.conv2d) in the assignment's argument order."""
    return conv_output_length(n, k, stride=s, pad=p, dilation=d)
