"""Max and average pooling over NHWC images, each forward beside its backward.

Windows are the KH*KW strided slices of the padded input (see ``_geometry``); reductions
run slice by slice, so no ``(..., KH*KW)`` stack is ever built.
"""

from __future__ import annotations

import functools
import math

import array_api_extra as xpx

from .._typing import Array, IntPair, Padding
from ..backend import Unkeyed, array_namespace, device_key
from . import _parallel as parallel
from ._workspace import add_into
from .activations import masked
from .native import native_available, native_avg_pool, native_max_pool, native_max_pool_backward
from ._geometry import (
    check_images,
    check_same_shape,
    crop_hw,
    pad_hw,
    padded_shape,
    window_geometry,
    window_slices,
)


def _pool_geometry(x, pool_size, stride, padding):
    win = window_geometry(
        tuple(x.shape[1:3]),
        pool_size,
        pool_size if stride is None else stride,
        padding,
        kernel_name="pool_size",
    )
    for (lo, hi), k in zip(win.pads, win.kernel):
        # a window made only of padding would have no input to take its max or mean from
        if max(lo, hi) >= k:
            raise ValueError(f"padding {win.pads} must be smaller than pool_size {win.kernel} on each side")
    return win


def _check_dy(dy, x, win):
    expected = (x.shape[0], win.out[0], win.out[1], x.shape[3])
    if tuple(dy.shape) != expected:
        raise ValueError(f"dy must have the pooled output shape {expected}, got {tuple(dy.shape)}")


def _max_over_windows(xp, x_padded, win):
    """Running maximum over the KH*KW window slices: ``(N, OH, OW, C)``.

    Element-wise maxima of strided slices beat a reduction over window axes several-fold.
    """
    return _running_max(xp, [x_padded[idx] for _, _, idx in window_slices(win)])


def _disjoint(win):
    """True when the windows tile the input without overlap or padding (stride == pool_size,
    the usual pooling): then the separable :func:`_disjoint_max` path applies. The one place
    that chooses between the two max-pooling paths; the parity tests cover both."""
    return win.stride == win.kernel and not win.padded


def _window_columns(xp, x, win):
    """x viewed as ``(N*OH*KH, OW, KW*C)`` (cropped to whole windows): one image row of
    windows per row, each window's KW columns side by side."""
    (kh, kw), (oh, ow) = win.kernel, win.out
    n, c = x.shape[0], x.shape[3]
    if (oh * kh, ow * kw) != tuple(x.shape[1:3]):
        x = x[:, : oh * kh, : ow * kw, :]  # floor mode: trailing cells belong to no window
    return xp.reshape(x, (n * oh * kh, ow, kw * c))


def _columns(x_cols, win):
    c = x_cols.shape[-1] // win.kernel[1]
    return [x_cols[..., k * c : (k + 1) * c] for k in range(win.kernel[1])]


def _window_rows(xp, row_max, win):
    """The KH row slices ``(N*OH, OW*C)`` of the per-row window maxima ``row_max``."""
    kh, ow = win.kernel[0], win.out[1]
    rows = xp.reshape(row_max, (-1, kh, ow * row_max.shape[-1]))
    return [rows[:, k, :] for k in range(kh)]


def _disjoint_max(xp, x, win):
    """Max over non-overlapping, unpadded windows, done separably: first across each window's
    columns, giving ``row_max`` ``(N*OH*KH, OW, C)``, then across its rows. Returns
    ``(y, row_max)``.

    Column neighbours interleave with period C in NHWC, so the column step reads runs of only C
    floats; the row step reads whole image rows (OW*C floats). Doing the short-run step once
    instead of once per window cell is what makes this path several times faster on NumPy,
    where each short run costs a loop iteration.
    """
    row_max = _running_max(xp, _columns(_window_columns(xp, x, win), win))
    y = _running_max(xp, _window_rows(xp, row_max, win))
    return xp.reshape(y, (x.shape[0], win.out[0], win.out[1], x.shape[3])), row_max


def _running_max(xp, parts):
    y = parts[0]
    for part in parts[1:]:
        y = xp.maximum(y, part)
    return y


def _route_to_first_max(xp, grad, parts, maximum):
    """Split ``grad`` over ``parts``: each element's gradient goes to the first part that
    equals ``maximum`` there. ``grad - taken`` is exact, so the gradient is moved, never
    rounded."""
    routed = []
    for part in parts[:-1]:
        taken = masked(xp, grad, part == maximum)
        routed.append(taken)
        grad = grad - taken
    routed.append(grad)
    return routed


def _disjoint_max_backward(xp, dy, x, win, y, row_max):
    """Backward of :func:`_disjoint_max`: route ``dy`` to the first row whose column maximum
    is the window's max, then within that row to the first column holding it: together,
    the first maximum in row-major window order."""
    (kh, kw), (oh, ow) = win.kernel, win.out
    n, h, w, c = x.shape
    x_cols = _window_columns(xp, x, win)
    columns = _columns(x_cols, win)
    if row_max is None:
        row_max = _running_max(xp, columns)
    rows = _window_rows(xp, row_max, win)
    y = _running_max(xp, rows) if y is None else xp.reshape(y, (n * oh, ow * c))
    per_row = _route_to_first_max(xp, xp.reshape(dy, (n * oh, ow * c)), rows, y)
    d_row_max = xp.reshape(xp.stack(per_row, axis=1), (n * oh * kh, ow, c))
    per_col = _route_to_first_max(xp, d_row_max, columns, row_max)
    dx = xp.reshape(xp.concat(per_col, axis=-1), (n, oh * kh, ow * kw, c))
    if (oh * kh, ow * kw) != (h, w):
        dx = xpx.pad(dx, ((0, 0), (0, h - oh * kh), (0, w - ow * kw), (0, 0)), xp=xp)
    return dx


def _disjoint_max_in_groups(xp, x, win):
    """`_disjoint_max` over groups of images side by side, one per core on the NumPy fast path
    (see :mod:`._parallel`; a pool's passes are memory-bound NumPy loops on one core each);
    elsewhere, and for one image, the whole batch at once."""
    n = x.shape[0]
    groups = parallel.batch_groups(xp, n)
    if groups == 1:
        return _disjoint_max(xp, x, win)
    (kh, _), (oh, ow) = win.kernel, win.out
    y = xp.empty((n, oh, ow, x.shape[3]), dtype=x.dtype, device=x.device)
    row_max = xp.empty((n * oh * kh, ow, x.shape[3]), dtype=x.dtype, device=x.device)
    bounds = parallel.group_bounds(n, groups)

    def run_group(g):
        first, count = bounds[g]
        y[first : first + count, ...], row_max[first * oh * kh : (first + count) * oh * kh, ...] = _disjoint_max(
            xp, x[first : first + count, ...], win
        )

    parallel.run(xp, run_group, groups)
    return y, row_max


def _disjoint_max_backward_in_groups(xp, dy, x, win, y, row_max):
    """`_disjoint_max_backward` over groups of images side by side, as `_disjoint_max_in_groups`."""
    n = x.shape[0]
    groups = parallel.batch_groups(xp, n)
    if groups == 1:
        return _disjoint_max_backward(xp, dy, x, win, y, row_max)
    rows_per_image = win.out[0] * win.kernel[0]
    dx = xp.empty(tuple(x.shape), dtype=x.dtype, device=x.device)
    bounds = parallel.group_bounds(n, groups)

    def run_group(g):
        first, count = bounds[g]
        images = slice(first, first + count)
        dx[images, ...] = _disjoint_max_backward(
            xp,
            dy[images, ...],
            x[images, ...],
            win,
            None if y is None else y[images, ...],
            None if row_max is None else row_max[first * rows_per_image : (first + count) * rows_per_image, ...],
        )

    parallel.run(xp, run_group, groups)
    return dx


def max_pool2d(x: Array, pool_size: IntPair = 2, *, stride: IntPair | None = None, padding: Padding = 0) -> Array:
    """Max pooling of NHWC images.

    Padded cells never win (they hold -inf).

    Args:
        x: The images `(N, H, W, C)`, float32 or float64, on any backend.
        pool_size: An int or `(KH, KW)`.
        stride: An int or `(sh, sw)`; defaults to `pool_size`.
        padding: An int, `(ph, pw)`, `((top, bottom), (left, right))`, `"valid"` or `"same"`;
            smaller than `pool_size` on each side.

    Returns:
        `(N, OH, OW, C)` in `x`'s dtype.

    Raises:
        ValueError: If `x` is not 4-D, the window does not fit, or a padding is not smaller
            than `pool_size`.
        TypeError: If `x` is not floating, or `padding` is of an unknown form.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.pooling import max_pool2d
        >>> x = np.array([[1.0, 5, 2, 0], [3, 4, 8, 8], [0, 1, 2, 3], [7, 6, 5, 4]]).reshape(1, 4, 4, 1)
        >>> max_pool2d(x)[0, :, :, 0].tolist()
        [[5.0, 8.0], [7.0, 5.0]]
        >>> max_pool2d(x, 3, stride=1)[0, :, :, 0].tolist()
        [[8.0, 8.0], [8.0, 8.0]]
    """
    return _max_pool(x, pool_size, stride, padding, for_backward=False)[0]


def _max_pool(x, pool_size, stride, padding, for_backward):
    """`(y, row_max)` as `max_pool2d_forward` gives them; the algorithm chosen for a forward
    with or without a backward to follow (see `takes_native_max_pool`)."""
    xp = array_namespace(x)
    check_images(xp, x)
    win = _pool_geometry(x, pool_size, stride, padding)
    if _disjoint(win):
        if takes_native_max_pool(x, for_backward):
            return native_max_pool(x, win.kernel)
        return _disjoint_max_in_groups(xp, x, win)
    return _max_over_windows(xp, pad_hw(x, win, -math.inf), win), None


def takes_native_max_pool(x: Array, for_backward: bool) -> bool:
    """Whether max pooling of `x` over disjoint windows runs torch's own kernel: the one place that chooses.

    Where the kernels are at hand (`xcnn.ops.native.native_available`): always when a backward
    follows, which routes the gradient by the kernel's argmax (4-7x faster than the array-API
    backward on torch, and 2x faster forward + backward); for the forward alone (inference),
    only for a lone image. torch's channels-last forward measured 1.4-4x slower than the
    separable array-API one from 100 images up (`(100, 28, 28, 9)`: 0.84 ms against 0.32;
    `(1000, 16, 16, 32)`: 2.9 against 2.0), and 1.8x faster for one image (fixed costs).

    Args:
        x: The images `(N, H, W, C)`, of any backend.
        for_backward: Whether a backward will follow (a training step).

    Returns:
        True to run `xcnn.ops.native.native_max_pool`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.pooling import takes_native_max_pool
        >>> takes_native_max_pool(np.zeros((1, 4, 4, 1)), for_backward=True)
        False
    """
    return native_available(x) and (for_backward or x.shape[0] == 1)


def max_pool2d_forward(
    x: Array, pool_size: IntPair = 2, *, stride: IntPair | None = None, padding: Padding = 0
) -> tuple[Array, Array | None]:
    """`max_pool2d` that also returns what its backward can reuse: `(y, row_max)`.

    A layer keeps both for `max_pool2d_backward` (`y=`, `row_max=`), which then recomputes nothing.

    Args:
        x: The images `(N, H, W, C)`, float32 or float64, on any backend.
        pool_size: As in `max_pool2d`.
        stride: As in `max_pool2d`.
        padding: As in `max_pool2d`.

    Returns:
        `y` `(N, OH, OW, C)`, and `row_max`: for disjoint windows (stride == pool_size, no
        padding) the per-row window maxima `(N*OH*KH, OW, C)` of the separable path, or, for a
        torch tensor on the CPU, torch's argmax of each window `(N, C, OH, OW)` (its own
        kernel's, see `xcnn.ops.native`); otherwise `None`.

    Raises:
        ValueError: As `max_pool2d`.
        TypeError: As `max_pool2d`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.pooling import max_pool2d_forward
        >>> y, row_max = max_pool2d_forward(np.ones((1, 4, 4, 1)))
        >>> y.shape, row_max.shape
        ((1, 2, 2, 1), (4, 2, 1))
    """
    return _max_pool(x, pool_size, stride, padding, for_backward=True)


def max_pool2d_backward(
    dy: Array,
    x: Array,
    pool_size: IntPair = 2,
    *,
    stride: IntPair | None = None,
    padding: Padding = 0,
    y: Array | None = None,
    row_max: Array | None = None,
) -> Array:
    """Gradient of `max_pool2d`: each window's `dy` goes to its maximum.

    Ties go to the first maximum in row-major window order (as `argmax` would pick).

    Args:
        dy: The output gradient `(N, OH, OW, C)`, of `x`'s dtype.
        x: The forward's input `(N, H, W, C)`.
        pool_size: As in the forward call.
        stride: As in the forward call.
        padding: As in the forward call.
        y: What `max_pool2d_forward` returned, if kept (saves recomputing it).
        row_max: What `max_pool2d_forward` returned, if kept.

    Returns:
        `dx`, of `x`'s shape and dtype.

    Raises:
        ValueError: If `dy` or `y` is not the pooled output's shape, `row_max` not the one
            `max_pool2d_forward` gives (or given for windows that are not disjoint), or the
            arguments are bad as in `max_pool2d`.
        TypeError: As `max_pool2d`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.pooling import max_pool2d_backward, max_pool2d_forward
        >>> x = np.array([[1.0, 5, 2, 0], [3, 4, 8, 8], [0, 1, 2, 3], [7, 6, 5, 4]]).reshape(1, 4, 4, 1)
        >>> y, row_max = max_pool2d_forward(x)
        >>> max_pool2d_backward(np.ones_like(y), x, y=y, row_max=row_max)[0, :, :, 0].tolist()
        [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0]]
    """
    xp = array_namespace(dy, x, y, row_max)
    check_images(xp, x)
    win = _pool_geometry(x, pool_size, stride, padding)
    _check_dy(dy, x, win)
    if y is not None:
        check_same_shape(y, dy, "y", "dy")
    if _disjoint(win):
        native = takes_native_max_pool(x, for_backward=True)
        if native:
            expected = (x.shape[0], x.shape[3], *win.out)
        else:
            expected = (x.shape[0] * win.out[0] * win.kernel[0], win.out[1], x.shape[3])
        if row_max is not None and tuple(row_max.shape) != expected:
            raise ValueError(
                f"row_max must have shape {expected} (from max_pool2d_forward), got {tuple(row_max.shape)}"
            )
        if native:
            argmax = native_max_pool(x, win.kernel)[1] if row_max is None else row_max
            return native_max_pool_backward(dy, tuple(x.shape), win.kernel, argmax)
        return _disjoint_max_backward_in_groups(xp, dy, x, win, y, row_max)
    if row_max is not None:
        raise ValueError("row_max applies only to disjoint windows (stride == pool_size, no padding); pass None")
    x_padded = pad_hw(x, win, -math.inf)
    if y is None:
        y = _max_over_windows(xp, x_padded, win)
    dx_padded = xp.zeros(x_padded.shape, dtype=x.dtype, device=x.device)
    free = None  # the windows no earlier cell claimed: a tie goes to the first cell at the maximum
    # disjoint windows: each input cell is written once, so set instead of read-add-write
    disjoint = win.stride[0] >= win.kernel[0] and win.stride[1] >= win.kernel[1]
    slices = list(window_slices(win))
    for k, (_, _, idx) in enumerate(slices):
        wins = x_padded[idx] == y
        if free is not None:
            wins = wins & free
        if k + 1 < len(slices):  # no later window cell reads the last one's claims
            free = ~wins if free is None else free ^ wins  # wins lie within free: xor takes them out
        grad = masked(xp, dy, wins)
        dx_padded = xpx.at(dx_padded, idx).set(grad) if disjoint else add_into(dx_padded, idx, grad)
    return crop_hw(dx_padded, win)


def _window_counts(xp, x, win, count_include_pad):
    """How many cells each window averages: a Python number, or ``(1, OH, OW, 1)``."""
    if count_include_pad or not win.padded:
        return win.size
    ones = xp.ones((1, x.shape[1], x.shape[2], 1), dtype=x.dtype, device=x.device)
    ones = pad_hw(ones, win, 0.0)
    return sum(ones[idx] for _, _, idx in window_slices(win))


def avg_pool2d(
    x: Array,
    pool_size: IntPair = 2,
    *,
    stride: IntPair | None = None,
    padding: Padding = 0,
    count_include_pad: bool = True,
) -> Array:
    """Average pooling of NHWC images.

    Args:
        x: The images `(N, H, W, C)`, float32 or float64, on any backend.
        pool_size: As in `max_pool2d`.
        stride: As in `max_pool2d`.
        padding: As in `max_pool2d`.
        count_include_pad: With `False` padded cells are left out of each mean (Keras's
            `padding="same"` behaviour); with `True` they count as zeros (PyTorch's default).

    Returns:
        `(N, OH, OW, C)` in `x`'s dtype.

    Raises:
        ValueError: As `max_pool2d`.
        TypeError: As `max_pool2d`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.pooling import avg_pool2d
        >>> x = np.array([[1.0, 5, 2, 0], [3, 4, 8, 8], [0, 1, 2, 3], [7, 6, 5, 4]]).reshape(1, 4, 4, 1)
        >>> avg_pool2d(x)[0, :, :, 0].tolist()
        [[3.25, 4.5], [3.5, 3.5]]
    """
    xp = array_namespace(x)
    check_images(xp, x)
    win = _pool_geometry(x, pool_size, stride, padding)
    if _disjoint(win):
        if takes_native_avg_pool(x):
            return native_avg_pool(x, win.kernel)
        return _disjoint_mean(xp, x, win)
    x_padded = pad_hw(x, win, 0.0)
    total = sum(x_padded[idx] for _, _, idx in window_slices(win))
    return total / _window_counts(xp, x, win, count_include_pad)


def takes_native_avg_pool(x: Array) -> bool:
    """Whether average pooling of `x` over disjoint windows runs torch's own kernel: the one place that chooses.

    Where the kernels are at hand (`xcnn.ops.native.native_available`), for a lone image
    only (`predict` at batch 1): there torch's kernel is the array-API form's fixed costs
    saved, 12 against 54 us at `(1, 28, 28, 6)`; from ~100 images up the separable array-API
    form is as fast or faster (`(100, 28, 28, 6)`: 0.36 ms against 0.44), and its backward 3-5x
    faster than torch's (docs/performance.md), so training keeps it.

    Args:
        x: The images `(N, H, W, C)`, of any backend.

    Returns:
        True to run `xcnn.ops.native.native_avg_pool`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.pooling import takes_native_avg_pool
        >>> takes_native_avg_pool(np.zeros((1, 4, 4, 1)))
        False
    """
    return x.shape[0] == 1 and native_available(x)


def _disjoint_mean(xp, x, win):
    """Mean over non-overlapping, unpadded windows, done separably: first the KH rows of each
    window (whole image rows, long contiguous runs), then the KW columns of the halved array."""
    (kh, kw), (oh, ow) = win.kernel, win.out
    n, c = x.shape[0], x.shape[3]
    if (oh * kh, ow * kw) != tuple(x.shape[1:3]):
        x = x[:, : oh * kh, : ow * kw, :]  # floor mode: trailing cells belong to no window
    rows = xp.reshape(x, (n * oh, kh, ow * kw * c))
    row_sums = _sum_of([rows[:, k, :] for k in range(kh)])
    if c < COLUMNS_BY_GEMM_BELOW:  # each window's KW*C values times KW stacked identities / (KH*KW)
        mean = xp.reshape(row_sums, (n * oh * ow, kw * c)) @ _columns_to_mean(xp, c, kw, kh, x.dtype, x.device)
        return xp.reshape(mean, (n, oh, ow, c))
    columns = xp.reshape(row_sums, (n * oh * ow, kw, c))
    mean = _sum_of([columns[:, k, :] for k in range(kw)])
    mean *= 1.0 / (kh * kw)
    return xp.reshape(mean, (n, oh, ow, c))


COLUMNS_BY_GEMM_BELOW = 32
"""Average pooling over disjoint windows sums (and spreads back) each window's KW columns with
one GEMM against KW stacked identities when the images have fewer channels than this: a
slice-by-slice sum runs its inner loop C values at a time, slow for few channels. Measured
(docs/performance.md): 100x28x28x6 forward 471 -> 293 us, backward 738 -> 241; at 32 channels
the GEMM is slower."""


def _columns_to_mean(xp, c, kw, kh, dtype, device, transpose=False):
    """``(KW*C, C)``: KW identities of size C stacked, over KH*KW (a window's columns to its
    mean); ``(C, KW*C)`` transposed (a window's mean shared out to its columns). Made once per
    shape, dtype and device: a constant that is only read."""
    return _cached_columns_to_mean(xp, c, kw, kh, dtype, transpose, device_key(device), Unkeyed(device))


@functools.lru_cache(maxsize=32)
def _cached_columns_to_mean(xp, c, kw, kh, dtype, transpose, key, device):
    eye = xp.eye(c, dtype=dtype, device=device.value) * (1.0 / (kh * kw))
    return xp.tile(eye, (1, kw) if transpose else (kw, 1))


def _sum_of(parts):
    """The sum of same-shape ``parts`` as a fresh array (added in place after the first add)."""
    total = parts[0] + parts[1] if len(parts) > 1 else parts[0] * 1.0
    for part in parts[2:]:
        total += part
    return total


def avg_pool2d_backward(
    dy: Array,
    x: Array,
    pool_size: IntPair = 2,
    *,
    stride: IntPair | None = None,
    padding: Padding = 0,
    count_include_pad: bool = True,
) -> Array:
    """Gradient of `avg_pool2d`: each window's `dy` is shared out evenly.

    Args:
        dy: The output gradient `(N, OH, OW, C)`.
        x: The forward's input `(N, H, W, C)`.
        pool_size: As in the forward call.
        stride: As in the forward call.
        padding: As in the forward call.
        count_include_pad: As in the forward call.

    Returns:
        `dx`, of `x`'s shape and dtype.

    Raises:
        ValueError: If `dy` is not the pooled output's shape, or the arguments are bad as in
            `avg_pool2d`.
        TypeError: As `avg_pool2d`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.pooling import avg_pool2d_backward
        >>> avg_pool2d_backward(np.ones((1, 1, 1, 1)), np.ones((1, 2, 2, 1)))[0, :, :, 0].tolist()
        [[0.25, 0.25], [0.25, 0.25]]
    """
    xp = array_namespace(dy, x)
    check_images(xp, x)
    win = _pool_geometry(x, pool_size, stride, padding)
    _check_dy(dy, x, win)
    if _disjoint(win):
        return _disjoint_mean_backward(xp, dy, x, win)
    share = dy / _window_counts(xp, x, win, count_include_pad)
    dx_padded = xp.zeros(padded_shape(tuple(x.shape), win), dtype=x.dtype, device=x.device)
    for _, _, idx in window_slices(win):
        dx_padded = add_into(dx_padded, idx, share)
    return crop_hw(dx_padded, win)


def _disjoint_mean_backward(xp, dy, x, win):
    """Gradient of `_disjoint_mean`: each window's share of dy written to its KH*KW cells in
    one broadcast copy (zeros on the cells of no window, in floor mode)."""
    (kh, kw), (oh, ow) = win.kernel, win.out
    n, c = x.shape[0], x.shape[3]
    if c < COLUMNS_BY_GEMM_BELOW:  # see _disjoint_mean: each share written to its KW columns by a GEMM
        columns = xp.reshape(dy, (n * oh * ow, c)) @ _columns_to_mean(xp, c, kw, kh, x.dtype, x.device, True)
        share = xp.reshape(columns, (n, oh, 1, ow * kw * c))
        spread = xp.reshape(xp.broadcast_to(share, (n, oh, kh, ow * kw * c)), (n, oh * kh, ow * kw, c))
    else:
        share = xp.reshape(dy * (1.0 / (kh * kw)), (n, oh, 1, ow, 1, c))
        spread = xp.reshape(xp.broadcast_to(share, (n, oh, kh, ow, kw, c)), (n, oh * kh, ow * kw, c))
    if (oh * kh, ow * kw) == tuple(x.shape[1:3]):
        return spread
    dx = xp.zeros(tuple(x.shape), dtype=x.dtype, device=x.device)
    dx[:, : oh * kh, : ow * kw, :] = spread
    return dx


# --- global pooling: one window the size of the image ----------------------------------------


def _check_global_dy(dy, x):
    expected = (x.shape[0], x.shape[3])
    if tuple(dy.shape) != expected:
        raise ValueError(f"dy must have the global-pooled shape (N, C) = {expected}, got {tuple(dy.shape)}")


def _pixels_by_channel(xp, x):
    """x ``(N, H, W, C)`` viewed as ``(N, H*W, C)``: each image's pixels in row-major order."""
    n, h, w, c = x.shape
    return xp.reshape(x, (n, h * w, c))


def global_avg_pool2d(x: Array) -> Array:
    """Mean over each image's pixels.

    Args:
        x: The images `(N, H, W, C)`, float32 or float64, on any backend.

    Returns:
        `(N, C)` in `x`'s dtype.

    Raises:
        ValueError: If `x` is not 4-D.
        TypeError: If `x` is not floating.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.pooling import global_avg_pool2d
        >>> global_avg_pool2d(np.arange(8.0).reshape(1, 2, 2, 2)).tolist()
        [[3.0, 4.0]]
    """
    xp = array_namespace(x)
    check_images(xp, x)
    return xp.mean(_pixels_by_channel(xp, x), axis=1)


def global_avg_pool2d_backward(dy: Array, x: Array) -> Array:
    """Gradient of `global_avg_pool2d`: `dy` shared evenly over the H*W pixels of each image.

    Args:
        dy: The output gradient `(N, C)`.
        x: The forward's input `(N, H, W, C)`.

    Returns:
        `dx`, of `x`'s shape and dtype (a fresh array).

    Raises:
        ValueError: If `x` is not 4-D or `dy` is not `(N, C)`.
        TypeError: If `x` is not floating.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.pooling import global_avg_pool2d_backward
        >>> global_avg_pool2d_backward(np.array([[4.0]]), np.ones((1, 2, 2, 1)))[0, :, :, 0].tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """
    xp = array_namespace(dy, x)
    check_images(xp, x)
    _check_global_dy(dy, x)
    n, h, w, c = x.shape
    share = xp.reshape(dy / (h * w), (n, 1, 1, c))
    return xp.asarray(xp.broadcast_to(share, tuple(x.shape)), copy=True)


def global_max_pool2d(x: Array) -> Array:
    """Maximum over each image's pixels.

    Args:
        x: The images `(N, H, W, C)`, float32 or float64, on any backend.

    Returns:
        `(N, C)` in `x`'s dtype.

    Raises:
        ValueError: If `x` is not 4-D.
        TypeError: If `x` is not floating.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.pooling import global_max_pool2d
        >>> global_max_pool2d(np.arange(8.0).reshape(1, 2, 2, 2)).tolist()
        [[6.0, 7.0]]
    """
    xp = array_namespace(x)
    check_images(xp, x)
    return xp.max(_pixels_by_channel(xp, x), axis=1)


def global_max_pool2d_backward(dy: Array, x: Array) -> Array:
    """Gradient of `global_max_pool2d`.

    Each `dy[n, c]` goes to the first pixel in row-major order that holds the maximum of
    channel c of image n (ties: as `max_pool2d`).

    Args:
        dy: The output gradient `(N, C)`.
        x: The forward's input `(N, H, W, C)`.

    Returns:
        `dx`, of `x`'s shape and dtype.

    Raises:
        ValueError: If `x` is not 4-D or `dy` is not `(N, C)`.
        TypeError: If `x` is not floating.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.pooling import global_max_pool2d_backward
        >>> x = np.array([[1.0, 3.0], [3.0, 2.0]]).reshape(1, 2, 2, 1)
        >>> global_max_pool2d_backward(np.array([[1.0]]), x)[0, :, :, 0].tolist()
        [[0.0, 1.0], [0.0, 0.0]]
    """
    xp = array_namespace(dy, x)
    check_images(xp, x)
    _check_global_dy(dy, x)
    n, h, w, c = x.shape
    first_max = xp.argmax(_pixels_by_channel(xp, x), axis=1)  # argmax picks the first of ties
    pixel = xp.reshape(xp.arange(h * w, dtype=first_max.dtype, device=x.device), (1, h * w, 1))
    at_max = pixel == xp.reshape(first_max, (n, 1, c))
    return xp.reshape(masked(xp, xp.reshape(dy, (n, 1, c)), at_max), tuple(x.shape))
