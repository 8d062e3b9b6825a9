"""Per channel: the sums every layer with a per-channel parameter needs, and the spread of a
per-channel vector over the images that its element-wise ops with them run fastest against."""

from __future__ import annotations

import functools
import math

from .._typing import Array
from ..backend import Unkeyed, array_namespace, backend_of, device_key, off_host


def channel_sum(x: Array) -> Array:
    """`x` `(..., C)` summed over every axis but the last: shape `(C,)`.

    The gradient of a per-channel bias, and batch normalization's statistics. Done as a
    ones-vector GEMV over rows of the last two axes (W*C floats for NHWC images), then a sum
    over the W channel groups: on NumPy that is 5-30x faster than `sum(axis=(0, 1, 2))`
    and 1.5-6x faster than a GEMV over rows of only C (docs/performance.md), and it is one
    portable matmul on every backend.

    Args:
        x: `(..., C)` with at least one axis besides the channels, float32 or float64, on any
            backend.

    Returns:
        `(C,)` in `x`'s dtype.

    Raises:
        ValueError: If `x` has fewer than two axes.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.reductions import channel_sum
        >>> channel_sum(np.ones((2, 3, 3, 4))).tolist()
        [18.0, 18.0, 18.0, 18.0]
    """
    return _channel_reduction(x, mean=False)


def channel_mean(x: Array) -> Array:
    """`x` `(..., C)` averaged over every axis but the last: shape `(C,)`.

    As `channel_sum`, with its ones vector holding 1/count instead: the mean in the same GEMV,
    no division after it (batch normalization's statistics). Takes and raises what
    `channel_sum` does.

    Raises:
        ValueError: If `x` has fewer than two axes.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.reductions import channel_mean
        >>> channel_mean(np.arange(8.0).reshape(2, 2, 2)).tolist()
        [3.0, 4.0]
    """
    return _channel_reduction(x, mean=True)


def channel_dot(a: Array, b: Array) -> Array:
    """`sum(a * b)` over every axis but the last, per channel: shape `(C,)`.

    Batch normalization's variance (`channel_dot(centred, centred)`) and its scale's
    gradient (`channel_dot(dy, centred)`). On NumPy one `einsum` over the rows of the last two
    axes (as `channel_sum`'s GEMV), then a sum over the W channel groups: no product array
    (at 128x32x32x16 float32 0.53 ms, against 0.8 for the product and its GEMV in a loop
    and 2.8 where the product is fresh pages, as in a training step; each of the W*C columns
    sums N*H values, 4e-7 relative). `einsum` is in NumPy's namespace, not the standard:
    elsewhere `channel_sum(a * b)`.

    Args:
        a: `(..., C)` with at least one axis besides the channels, float32 or float64, on any
            backend.
        b: `a`'s shape, dtype, backend and device.

    Returns:
        `(C,)` in `a`'s dtype.

    Raises:
        ValueError: If `a` has fewer than two axes, or `b` another shape.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.reductions import channel_dot
        >>> channel_dot(np.ones((2, 3, 3, 4)), np.full((2, 3, 3, 4), 2.0)).tolist()
        [36.0, 36.0, 36.0, 36.0]
    """
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"b must have a's shape {tuple(a.shape)}, got {tuple(b.shape)}")
    if backend_of(a) != "numpy" or a.ndim < 2:
        return channel_sum(a * b)
    xp = array_namespace(a, b)
    (a_columns, groups), (b_columns, _) = channel_columns(a), channel_columns(b)
    # NumPy's namespace (array-api-compat's) offers its einsum, which the standard lacks
    return _sum_groups(xp, xp.einsum("ij,ij->j", a_columns, b_columns), groups, a.shape[-1])


def channel_columns(x: Array) -> tuple[Array, int]:
    """`x` `(..., C)` viewed as `(rows, G*C)`, and `G`: the shape the per-channel sums work on.

    `G` is the axis before the channels (W for NHWC images; 1 for `(N, C)`), so each column is
    one channel at one position: a sum over the rows, then over the G groups of C columns
    (`_sum_groups`), is the channel's sum, and each column sums only the rows' values (fewer
    terms, a smaller float32 rounding, than the whole channel at once). `channel_sum`'s GEMV,
    `channel_dot`'s `einsum` and the torch backend's batch-norm kernels
    (`xcnn.ops.native.native_batch_statistics`) all run over it.

    Args:
        x: `(..., C)` with at least one axis besides the channels, on any backend.

    Returns:
        `(columns, G)`: the view `(rows, G*C)` (a reshape, no copy for a contiguous `x`) and `G`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.reductions import channel_columns
        >>> columns, groups = channel_columns(np.zeros((2, 3, 4, 5)))
        >>> columns.shape, groups
        ((6, 20), 4)
    """
    xp = array_namespace(x)
    groups = x.shape[-2] if x.ndim > 2 else 1
    rows = math.prod(x.shape[:-2]) if x.ndim > 2 else x.shape[0]
    return xp.reshape(x, (rows, groups * x.shape[-1])), groups


def _sum_groups(xp, per_column, groups, channels):
    """`(G*C,)` per-column results of `channel_columns`'s view summed over the G groups: `(C,)`."""
    return per_column if groups == 1 else xp.sum(xp.reshape(per_column, (groups, channels)), axis=0)


SPREAD_MAX_ELEMENTS = 65536
"""`spread_channels` repeats a vector over at most this many elements (256 KiB in float32: it
stays in L2 while a pass streams the activation past it)."""

SPREAD_MIN_COPIES = 8
"""`spread_channels` repeats the vector only where `x` holds at least this many copies of the
repeat: making it is a pass over that many values, which the faster loops must pay back (one
image's worth, as in `predict` at batch 1, does not)."""


def spread_channels(v: Array, x: Array) -> Array:
    """The per-channel vector `v` `(C,)`, shaped to be combined element-wise with `x` `(N, ..., C)`.

    On the host, `v` repeated over x's trailing axes before the channels, as many as fit in
    `SPREAD_MAX_ELEMENTS`: `(H, W, C)` for NHWC images of up to 64K values. NumPy merges the
    trailing axes that both operands run along contiguously into one inner loop; against
    `(C,)` that loop is C elements long (16 in a ResNet's first stage) and each pass costs
    1.2-1.7x a plain one (`x - v` on 128x32x32x16 float32: 1.50 ms against `(C,)`, 0.90 against
    `(32, 32, 16)`; docs/performance.md). Either broadcasts to the same values. Off the host,
    and for `(N, C)`, `v` itself: a GPU broadcasts in one kernel, where the repeat would be a
    second launch; and where `x` holds fewer than `SPREAD_MIN_COPIES` copies of the repeat
    (a single image in `predict`), which then costs more than it saves.

    Args:
        v: `(C,)`, on `x`'s backend and device.
        x: The array `v` will be combined with, `(N, ..., C)`.

    Returns:
        `v`, or a `(..., C)` array that broadcasts against `x` to the same values.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.reductions import spread_channels
        >>> x = np.zeros((8, 3, 4, 2))
        >>> spread_channels(np.array([1.0, 2.0]), x).shape
        (3, 4, 2)
        >>> bool(np.array_equal(x + spread_channels(np.array([1.0, 2.0]), x), x + np.array([1.0, 2.0])))
        True
    """
    if off_host(x):
        return v
    repeats: list[int] = []
    size = v.shape[0]
    for extent in reversed(x.shape[1:-1]):
        if size * extent > SPREAD_MAX_ELEMENTS:
            break
        size *= extent
        repeats.insert(0, extent)
    if not repeats or math.prod(x.shape) < SPREAD_MIN_COPIES * size:
        return v
    xp = array_namespace(v)
    return xp.tile(v, (*repeats, 1))


def _channel_reduction(x, mean):
    xp = array_namespace(x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least one axis besides its channels, got shape {tuple(x.shape)}")
    if off_host(x):  # a GPU reduces in one kernel; the GEMV and its second sum are two
        axes = tuple(range(x.ndim - 1))
        return xp.mean(x, axis=axes) if mean else xp.sum(x, axis=axes)
    weight = 1.0 / math.prod(x.shape[:-1]) if mean else 1.0
    columns, groups = channel_columns(x)
    return _sum_groups(xp, _filled(xp, columns.shape[0], weight, x.dtype, x.device) @ columns, groups, x.shape[-1])


def _filled(xp, n, value, dtype, device):
    """A vector ``(n,)`` of ``value``, made once per length, value, dtype and device (a constant
    that is only read: a fill kernel saved per call on a GPU)."""
    return _cached_filled(xp, n, value, dtype, device_key(device), Unkeyed(device))


@functools.lru_cache(maxsize=64)
def _cached_filled(xp, n, value, dtype, key, device):
    return xp.full((n,), value, dtype=dtype, device=device.value)
