"""The one place that turns kernel/stride/padding arguments into window geometry.

Every op that slides a window (conv, max pool, average pool) calls :func:`window_geometry`
and then reads its windows with :func:`window_slices`, so padding rules live here only.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from .._typing import Array, IntPair, Namespace, Padding, Shape
from ..backend import array_namespace

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """Geometry of a 2-D sliding window over NHWC input, as `window_geometry` works it out.

    Attributes:
        kernel: `(KH, KW)`.
        stride: `(SH, SW)`.
        pads: `((top, bottom), (left, right))`.
        out: `(OH, OW)`, the output height and width.

    Examples:
        >>> from xcnn.ops._geometry import Window
        >>> win = Window(kernel=(2, 2), stride=(2, 2), pads=((0, 0), (0, 0)), out=(3, 3))
        >>> win.size, win.padded
        (4, False)
    """

    kernel: tuple
    stride: tuple
    pads: tuple
    out: tuple

    @property
    def size(self) -> int:
        """KH*KW, the cells of one window."""
        return self.kernel[0] * self.kernel[1]

    @property
    def padded(self) -> bool:
        """Whether any side is padded."""
        return any(p for pair in self.pads for p in pair)


def memoized(function: Callable[..., T]) -> Callable[..., T]:
    """`function` (pure, of shapes and window arguments) remembering its recent results.

    Geometry is worked out on every call of every op, several times a training step, and
    costs as much as a small op (~10 us); the arguments repeat step after step. The cache key
    is the arguments' `repr`: it tells `True` from `1` and `1.0` (which `lru_cache` takes for
    one key, so a bad argument would pass after a good one was seen) and takes lists too.
    Arguments must have a `repr` that shows their value, as these do. Up to 256 results are
    kept; then the cache starts again.

    Args:
        function: A pure function.

    Returns:
        The function with a cache, of the same signature.

    Examples:
        >>> from xcnn.ops._geometry import memoized
        >>> calls = []
        >>> @memoized
        ... def double(n):
        ...     calls.append(n)
        ...     return 2 * n
        >>> double(3), double(3), calls
        (6, 6, [3])
    """
    cache: dict[str, Any] = {}

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        key = repr((args, kwargs))
        found = cache.get(key)
        if found is None:
            if len(cache) >= 256:
                cache.clear()
            found = cache[key] = function(*args, **kwargs)
        return found

    return wrapper


def as_pair(value: Any, name: str) -> tuple[int, int]:
    """An int or `(h, w)` as `(h, w)` of positive ints.

    Args:
        value: An int, or a pair of ints (not bools); anything else is refused.
        name: The argument's name, for the error message.

    Returns:
        `(h, w)`.

    Raises:
        TypeError: If `value` is not an int or a pair of ints.
        ValueError: If a value is less than 1.

    Examples:
        >>> from xcnn.ops._geometry import as_pair
        >>> as_pair(3, "stride"), as_pair((2, 1), "stride")
        ((3, 3), (2, 1))
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, numbers.Integral):
        value = (value, value)
    try:
        pair = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    pair = (int(pair[0]), int(pair[1]))
    if min(pair) < 1:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return pair


def dilated_extent(kernel: Any, dilation: Any) -> tuple[int, int]:
    """A kernel's extent on the image with `dilation` (its taps that far apart): `(KH', KW')`.

    The window geometry of a dilated convolution is that of a plain kernel of this size.

    Args:
        kernel: `(KH, KW)`.
        dilation: `(rh, rw)`, the distance between taps (1: adjacent).

    Returns:
        `((KH - 1) * rh + 1, (KW - 1) * rw + 1)`.

    Examples:
        >>> from xcnn.ops._geometry import dilated_extent
        >>> dilated_extent((3, 3), (2, 1))
        (5, 3)
    """
    (kh, kw), (rh, rw) = kernel, dilation
    return (kh - 1) * rh + 1, (kw - 1) * rw + 1


def _explicit_pads(padding):
    """int, (ph, pw) or ((top, bottom), (left, right)) -> ((top, bottom), (left, right))."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        return ((int(padding), int(padding)), (int(padding), int(padding)))
    try:
        parts = tuple(padding)
    except TypeError:
        parts = ()
    if len(parts) == 2 and all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in parts):
        return ((int(parts[0]), int(parts[0])), (int(parts[1]), int(parts[1])))
    if len(parts) == 2:
        try:
            pads = tuple(tuple(p) for p in parts)
        except TypeError:
            pads = ()
        if len(pads) == 2 and all(
            len(p) == 2 and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in p) for p in pads
        ):
            return tuple((int(lo), int(hi)) for lo, hi in pads)
    raise TypeError(
        f"padding must be an int, (ph, pw), ((top, bottom), (left, right)), 'valid' or 'same', got {padding!r}"
    )


@memoized
def window_geometry(
    hw: tuple[int, int], kernel_size: IntPair, stride: IntPair, padding: Padding, *, kernel_name: str = "kernel_size"
) -> Window:
    """Normalize window arguments for an input of spatial size `hw = (H, W)`.

    `"same"` padding follows Keras/TensorFlow: output = ceil(input / stride), the odd extra
    pad at the bottom/right. The output size is `floor((H + top + bottom - KH) / SH) + 1`.
    Results are memoized (see `memoized`).

    Args:
        hw: The input's `(H, W)`.
        kernel_size: An int or `(KH, KW)`.
        stride: An int or `(SH, SW)`.
        padding: An int, `(ph, pw)`, `((top, bottom), (left, right))`, `"valid"` or `"same"`.
        kernel_name: The name of the kernel argument, for error messages (`"pool_size"` for pools).

    Returns:
        The `Window`.

    Raises:
        TypeError: If a size or stride is not an int or a pair of ints, or `padding` is of an
            unknown form.
        ValueError: If a size or stride is not positive, a padding negative or an unknown
            string, or the kernel larger than the padded input.

    Examples:
        >>> from xcnn.ops._geometry import window_geometry
        >>> window_geometry((28, 28), 5, 1, "same")
        Window(kernel=(5, 5), stride=(1, 1), pads=((2, 2), (2, 2)), out=(28, 28))
        >>> window_geometry((5, 5), (3, 3), 2, 0).out
        (2, 2)
    """
    kernel = as_pair(kernel_size, kernel_name)
    stride = as_pair(stride, "stride")
    pads: Any  # a list while "same" pads are worked out, then a tuple
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            pads = ((0, 0), (0, 0))
        elif mode == "same":
            pads = []
            for size, k, s in zip(hw, kernel, stride):
                total = max((math.ceil(size / s) - 1) * s + k - size, 0)
                pads.append((total // 2, total - total // 2))
            pads = tuple(pads)
        else:
            raise ValueError(f"padding must be 'valid' or 'same' when a string, got {padding!r}")
    else:
        pads = _explicit_pads(padding)
        if min(min(p) for p in pads) < 0:
            raise ValueError(f"padding must be non-negative, got {padding!r}")
    out = []
    for axis, size, k, s, (lo, hi) in zip(("height", "width"), hw, kernel, stride, pads):
        padded = size + lo + hi
        if k > padded:
            raise ValueError(
                f"{kernel_name} {kernel} is larger than the padded input {axis} ({size} + {lo} + {hi} = {padded})"
            )
        out.append((padded - k) // s + 1)
    return Window(kernel=kernel, stride=stride, pads=pads, out=tuple(out))


def _taps(start, stride, count):
    """The slice that reads ``count`` window positions ``stride`` apart from ``start``."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def window_slices(win: Window) -> Iterator[tuple[int, int, tuple[slice, ...]]]:
    """Yield `(i, j, index)` for each kernel offset in row-major order.

    `padded_x[index]` is the `(N, OH, OW, C)` array of the inputs that meet kernel cell
    `(i, j)` across all output positions: a strided slice, no copy on NumPy.

    Args:
        win: The window's geometry.

    Yields:
        `(i, j, index)`, KH*KW of them.

    Examples:
        >>> from xcnn.ops._geometry import window_geometry, window_slices
        >>> [(i, j, index[1:3]) for i, j, index in window_slices(window_geometry((3, 3), 2, 1, 0))][1]
        (0, 1, (slice(0, 2, 1), slice(1, 3, 1)))
    """
    (kh, kw), (sh, sw), (oh, ow) = win.kernel, win.stride, win.out
    for i in range(kh):
        for j in range(kw):
            yield i, j, (slice(None), _taps(i, sh, oh), _taps(j, sw, ow), slice(None))


def cell_window_slices(win: Window, pool: Window) -> Iterator[tuple[int, int, tuple[slice, ...]]]:
    """`window_slices` regrouped for a disjoint max pool after the convolution.

    Each cell of a pooling window is itself a convolution with stride `stride * pool_size`,
    shifted by the cell offset.

    Args:
        win: The convolution's geometry.
        pool: The pool's `Window` over the conv output (stride == kernel, no padding).

    Yields:
        `(cell, k, index)` for each cell of a pooling window (row-major) and each kernel offset
        k (row-major): `padded_x[index]` is the `(N, OHp, OWp, C)` array of the inputs that
        kernel offset meets for the conv outputs at that cell of every pooling window.

    Examples:
        >>> from xcnn.ops._geometry import cell_window_slices, window_geometry
        >>> win, pool = window_geometry((5, 5), 2, 1, 0), window_geometry((4, 4), 2, 2, 0)
        >>> cell, k, index = list(cell_window_slices(win, pool))[1]
        >>> cell, k, index[1:3]
        (0, 1, (slice(0, 3, 2), slice(1, 4, 2)))
    """
    (sh, sw), (ph, pw), (ohp, owp) = win.stride, pool.kernel, pool.out
    for cell in range(ph * pw):
        ci, cj = divmod(cell, pw)
        for k, (i, j, _) in enumerate(window_slices(win)):
            yield (
                cell,
                k,
                (slice(None), _taps(i + ci * sh, sh * ph, ohp), _taps(j + cj * sw, sw * pw, owp), slice(None)),
            )


def pooled_window_slices(win: Window, pool: Window) -> Iterator[tuple[int, tuple[slice, ...]]]:
    """`window_slices` over the convolution outputs that a disjoint max pool's windows cover.

    One slice per kernel offset holds all the cells of every pooling window: the conv outputs
    the pools cover are rows `(ohp, cell row)` and columns `(owp, cell column)`, so a reshape
    (no copy) splits them into the cells (see `cell_window_slices` for one slice per cell).

    Args:
        win: The convolution's geometry.
        pool: The pool's `Window` over the conv output (stride == kernel, no padding).

    Yields:
        `(k, index)` for each kernel offset k (row-major): `padded_x[index]` is the
        `(N, OHp*PH, OWp*PW, C)` array of the inputs that offset meets.

    Examples:
        >>> from xcnn.ops._geometry import pooled_window_slices, window_geometry
        >>> win, pool = window_geometry((5, 5), 2, 1, 0), window_geometry((4, 4), 2, 2, 0)
        >>> k, index = list(pooled_window_slices(win, pool))[1]
        >>> k, index[1:3]
        (1, (slice(0, 4, 1), slice(1, 5, 1)))
    """
    (ph, pw), (ohp, owp) = pool.kernel, pool.out
    covered = Window(kernel=win.kernel, stride=win.stride, pads=win.pads, out=(ohp * ph, owp * pw))
    for k, (_, _, index) in enumerate(window_slices(covered)):
        yield k, index


def row_slices(win: Window) -> Iterator[tuple[int, tuple[slice, ...]]]:
    """Yield `(i, index)` for each kernel row.

    `padded_x[index]` is the `(N, OH, Wp, C)` array of the whole padded rows that kernel row
    `i` meets across the output rows.

    Args:
        win: The window's geometry.

    Yields:
        `(i, index)`, KH of them.

    Examples:
        >>> from xcnn.ops._geometry import row_slices, window_geometry
        >>> [index[1] for _, index in row_slices(window_geometry((3, 3), 2, 1, 0))]
        [slice(0, 2, 1), slice(1, 3, 1)]
    """
    kh, sh, oh = win.kernel[0], win.stride[0], win.out[0]
    for i in range(kh):
        yield i, (slice(None), _taps(i, sh, oh), slice(None), slice(None))


def pad_hw(x: Array, win: Window, value: float = 0.0) -> Array:
    """Pad the H and W axes of NHWC `x` by `win.pads` with `value`.

    Args:
        x: The images `(N, H, W, C)`.
        win: The window's geometry.
        value: The fill value (`-inf` for max pooling).

    Returns:
        `(N, H + top + bottom, W + left + right, C)` of `x`'s dtype (`x` itself without padding).

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops._geometry import pad_hw, window_geometry
        >>> pad_hw(np.ones((1, 2, 2, 1)), window_geometry((2, 2), 3, 1, "same"))[0, :, :, 0].tolist()
        [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    """
    return pad_images(x, win.pads, value)


def pad_images(x: Array, pads: tuple[tuple[int, int], tuple[int, int]], value: float = 0.0) -> Array:
    """Pad the H and W axes of NHWC `x` by `pads = ((top, bottom), (left, right))`.

    Written as a fill and one slice assignment: a third of the time of `pad` on NumPy.

    Args:
        x: The images `(N, H, W, C)`.
        pads: `((top, bottom), (left, right))`, non-negative.
        value: The fill value.

    Returns:
        `(N, H + top + bottom, W + left + right, C)` of `x`'s dtype (`x` itself without padding).

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops._geometry import pad_images
        >>> pad_images(np.ones((1, 2, 2, 1)), ((1, 0), (0, 1)), -1.0)[0, :, :, 0].tolist()
        [[-1.0, -1.0, -1.0], [1.0, 1.0, -1.0], [1.0, 1.0, -1.0]]
    """
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    xp = array_namespace(x)
    n, h, w, c = x.shape
    out = xp.full((n, h + top + bottom, w + left + right, c), value, dtype=x.dtype, device=x.device)
    out[:, top : top + h, left : left + w, :] = x
    return out


def padded_shape(x_shape: Shape, win: Window) -> Shape:
    """The NHWC shape `pad_hw` gives an array of shape `x_shape`.

    Args:
        x_shape: `(N, H, W, C)`.
        win: The window's geometry.

    Returns:
        `(N, Hp, Wp, C)`.

    Examples:
        >>> from xcnn.ops._geometry import padded_shape, window_geometry
        >>> padded_shape((1, 2, 2, 1), window_geometry((2, 2), 3, 1, "same"))
        (1, 4, 4, 1)
    """
    n, h, w, c = x_shape
    return (n, h + sum(win.pads[0]), w + sum(win.pads[1]), c)


def crop_hw(x_padded: Array, win: Window) -> Array:
    """Undo `pad_hw`: cut the padding off the H and W axes.

    Args:
        x_padded: `(N, Hp, Wp, C)`.
        win: The window's geometry.

    Returns:
        `(N, H, W, C)`, a view (`x_padded` itself without padding).

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops._geometry import crop_hw, window_geometry
        >>> crop_hw(np.ones((1, 4, 4, 1)), window_geometry((2, 2), 3, 1, "same")).shape
        (1, 2, 2, 1)
    """
    if not win.padded:
        return x_padded
    (top, bottom), (left, right) = win.pads
    h, w = x_padded.shape[1], x_padded.shape[2]
    return x_padded[:, top : h - bottom, left : w - right, :]


def check_images(xp: Namespace, x: Array, name: str = "x") -> None:
    """Require a floating NHWC array of rank 4; name the argument in the error.

    Args:
        xp: The array's namespace.
        x: The array to check.
        name: The argument's name, for the error message.

    Raises:
        ValueError: If `x` is not of rank 4.
        TypeError: If `x` is not real floating.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import check_images
        >>> check_images(namespace("numpy"), np.ones((2, 2)))
        Traceback (most recent call last):
        ...
        ValueError: x must have shape (N, H, W, C) (rank 4), got shape (2, 2)
    """
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape (N, H, W, C) (rank 4), got shape {tuple(x.shape)}")
    check_floating(xp, x, name)


def check_floating(xp: Namespace, x: Array, name: str) -> None:
    """Require a real floating array (float32 or float64); name the argument in the error.

    Args:
        xp: The array's namespace.
        x: The array to check.
        name: The argument's name, for the error message.

    Raises:
        TypeError: If `x` is not real floating.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import check_floating
        >>> check_floating(namespace("numpy"), np.ones(2, dtype=np.int64), "w")
        Traceback (most recent call last):
        ...
        TypeError: w must have a real floating dtype (float32 or float64), got int64
    """
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"{name} must have a real floating dtype (float32 or float64), got {x.dtype}")


def check_same_shape(a: Array, b: Array, name_a: str, name_b: str) -> None:
    """Require `a` to have `b`'s shape; name both in the error.

    Args:
        a: The array to check.
        b: The array whose shape it must have.
        name_a: `a`'s argument name.
        name_b: `b`'s argument name.

    Raises:
        ValueError: If the shapes differ.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops._geometry import check_same_shape
        >>> check_same_shape(np.ones(2), np.ones(3), "y", "dy")
        Traceback (most recent call last):
        ...
        ValueError: y must have the shape of dy (3,), got (2,)
    """
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"{name_a} must have the shape of {name_b} {tuple(b.shape)}, got {tuple(a.shape)}")
