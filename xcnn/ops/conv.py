"""2-D convolution (cross-correlation, as in every deep-learning library), NHWC.

Three ways to turn a convolution into matmuls, chosen by :func:`conv_algorithm`:

- ``"im2col"``: the KH*KW strided slices of the padded input are gathered into one matrix
  ``cols`` of shape ``(N*OH*OW, KH*KW*C)`` and multiplied by the filters. Backward: the weight
  gradient is one matmul with the same ``cols``; the input gradient is one matmul followed by
  KH*KW slice-adds back into the padded input.
- ``"banded"``: only the KH row slices are gathered, ``rows`` of shape ``(N*OH, KH*Wp*C)``
  (whole padded image rows), and multiplied by a banded matrix ``(KH*Wp*C, OW*F)`` that holds
  the filters once per output column (zeros elsewhere). It does Wp/KW times the arithmetic,
  but its matrix is KW*OW/Wp times smaller and its GEMM has a good shape, so for small images
  and wide kernels (the article's 7x7 on 28x28) it is the faster one; its output is NHWC
  as it comes out of the GEMM.
- ``"gather"`` (:mod:`.conv_gather`): im2col's matrix as one indexed gather from the images
  with a zero row appended (the padding), a cache-sized chunk of images at a time, and the
  input gradient as another gather, from the output gradient: no col2im, no window matrix
  kept between the passes, the fewest kernel launches. The choice for convolutions of
  several channels, and for every convolution on a GPU.
- ``"native"`` (:mod:`.native`): the backend's own convolution, for torch tensors on the
  CPU, where oneDNN's direct kernels beat any GEMM-based convolution the array API can express
  (the one backend-specific fast path; the tests hold it to the same reference).
"""

from __future__ import annotations

import dataclasses
import functools
import operator


from .._typing import Array, IntPair, Namespace, Padding, Shape
from ..backend import Unkeyed, array_namespace, backend_of, device_key, off_host, take_indices
from . import _parallel as parallel
from ._workspace import add_bias, add_into, derived_from_weights, matmul, matmul_into, scratch
from .conv_gather import gather_backward, gather_forward, rows_with_zero
from .native import native_available, native_backward, native_forward, native_input, native_runs, pads_input
from .reductions import channel_sum
from ._geometry import (
    Window,
    cell_window_slices,
    check_floating,
    check_images,
    crop_hw,
    pad_hw,
    padded_shape,
    pooled_window_slices,
    row_slices,
    window_geometry,
)


def _check_conv_args(xp, x, w, b):
    check_images(xp, x, "x")
    if w.ndim != 4:
        raise ValueError(f"w must have shape (F, KH, KW, C) (rank 4), got shape {tuple(w.shape)}")
    check_floating(xp, w, "w")
    if w.shape[3] != x.shape[3]:
        raise ValueError(
            f"channel mismatch: x has C={x.shape[3]} (shape {tuple(x.shape)}) but w expects "
            f"C={w.shape[3]} (shape {tuple(w.shape)})"
        )
    if w.dtype != x.dtype:
        raise TypeError(f"w must have the dtype of x ({x.dtype}), got {w.dtype}")
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ValueError(f"b must have shape (F,) = ({w.shape[0]},), got {tuple(b.shape)}")


def _geometry(x, w, stride, padding):
    return window_geometry(tuple(x.shape[1:3]), tuple(w.shape[1:3]), stride, padding)


def _no_pool(win):
    """The 1x1 'pool' that leaves a convolution's output as it is: one cell per window."""
    return Window(kernel=(1, 1), stride=(1, 1), pads=((0, 0), (0, 0)), out=win.out)


def im2col(
    xp: Namespace, x_padded: Array, win: Window, pool: Window | None = None, workspace: dict[str, Array] | None = None
) -> Array:
    """The `(M, KH*KW*C)` window matrix of padded NHWC input, M = N*OH*OW.

    Columns are ordered (kernel row, kernel column, channel), matching `w.reshape(F, -1)`;
    rows (n, oh, ow). With `pool` (a disjoint max pool's Window over the conv output, see
    `conv_pool`) rows are ordered (pool cell, n, ohp, owp) instead, so each cell of every
    pooling window is one contiguous block of the GEMM output; rows no window covers are
    left out. With one input channel the matrix is built kernel-offset-major, one contiguous
    block per offset (much faster to build), and its transposed view is returned: matmul
    reads it without a copy.

    Args:
        xp: The arrays' namespace.
        x_padded: The padded input `(N, Hp, Wp, C)`, float32 or float64 (see `pad_hw`).
        win: The convolution's `Window` (from `window_geometry`).
        pool: A disjoint max pool's `Window` over the conv output, or `None`.
        workspace: A dict the caller keeps between calls; the matrix is then built in
            `workspace["cols"]` (see `xcnn.ops._workspace.scratch`).

    Returns:
        The window matrix `(M, KH*KW*C)` in `x_padded`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import pad_hw, window_geometry
        >>> from xcnn.ops.conv import im2col
        >>> x = np.arange(18.0).reshape(1, 3, 3, 2)
        >>> win = window_geometry((3, 3), (2, 2), 1, 0)
        >>> cols = im2col(namespace("numpy"), pad_hw(x, win), win)
        >>> cols.shape, cols[0].tolist()
        ((4, 8), [0.0, 1.0, 2.0, 3.0, 6.0, 7.0, 8.0, 9.0])
    """
    pool = pool or _no_pool(win)
    n, c = x_padded.shape[0], x_padded.shape[3]
    cells, (ph, pw), (ohp, owp) = pool.size, pool.kernel, pool.out
    kernel_major = c == 1
    shape = (win.size, cells, n, ohp, owp, 1) if kernel_major else (cells, n, ohp, owp, win.size, c)
    cols = scratch(xp, workspace, "cols", shape, x_padded.dtype, x_padded.device)
    # one copy per kernel offset for all the pooling cells (not one per cell and offset: on a
    # GPU each is a kernel launch), through views of cols with the cells split out
    if kernel_major:
        blocks = xp.reshape(cols, (win.size, ph, pw, n, ohp, owp, 1))
        for k, idx in pooled_window_slices(win, pool):
            blocks[k, ...] = _cells_first(xp, x_padded[idx], pool)
        return xp.reshape(cols, (win.size, cells * n * ohp * owp)).T
    blocks = xp.reshape(cols, (ph, pw, n, ohp, owp, win.size, c))
    for k, idx in pooled_window_slices(win, pool):
        blocks[:, :, :, :, :, k, :] = _cells_first(xp, x_padded[idx], pool)
    return xp.reshape(cols, (cells * n * ohp * owp, win.size * c))


def _cells_first(xp, inputs, pool):
    """`(N, OHp*PH, OWp*PW, C)` inputs of one kernel offset as `(PH, PW, N, OHp, OWp, C)`: a view."""
    (ph, pw), (ohp, owp) = pool.kernel, pool.out
    n, c = inputs.shape[0], inputs.shape[3]
    return xp.permute_dims(xp.reshape(inputs, (n, ohp, ph, owp, pw, c)), (2, 4, 0, 1, 3, 5))


def row_windows(xp: Namespace, x_padded: Array, win: Window, workspace: dict[str, Array] | None = None) -> Array:
    """The `(N*OH, KH*Wp*C)` matrix of the banded algorithm.

    For each output row, the KH padded input rows its windows read, side by side.

    Args:
        xp: The arrays' namespace.
        x_padded: The padded input `(N, Hp, Wp, C)`, float32 or float64.
        win: The convolution's `Window`.
        workspace: If given, the matrix is built in `workspace["cols"]`.

    Returns:
        The row matrix `(N*OH, KH*Wp*C)` in `x_padded`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import pad_hw, window_geometry
        >>> from xcnn.ops.conv import row_windows
        >>> x = np.arange(18.0).reshape(1, 3, 3, 2)
        >>> win = window_geometry((3, 3), (2, 2), 1, 0)
        >>> row_windows(namespace("numpy"), pad_hw(x, win), win).shape
        (2, 12)
    """
    n, _, wp, c = x_padded.shape
    rows = scratch(xp, workspace, "cols", (n, win.out[0], win.kernel[0], wp, c), x_padded.dtype, x_padded.device)
    for i, idx in row_slices(win):
        rows[:, :, i, :, :] = x_padded[idx]
    return xp.reshape(rows, (n * win.out[0], win.kernel[0] * wp * c))


def _band_index(xp, w_shape, wp, win, device, phases=1):
    """Index arrays that place the filter taps in the banded matrix and read them back.

    They depend only on the geometry, so they are memoized per (geometry, device): constants
    like a kernel's launch parameters, not state; building them cost as much as the GEMM.
    The cache is keyed on :func:`~xcnn.backend.device_key` (``cupy.cuda.Device`` is not
    hashable); the device itself rides along outside the key.
    """
    return _cached_band_index(xp, w_shape, wp, win, device_key(device), Unkeyed(device), phases)


def _band_columns(xp, win, phases, device):
    """The output column ``j`` of each GEMM column block, in the order the GEMM emits them.

    ``phases=1``: the natural order 0..OW-1 (the output is NHWC as it comes out). ``phases=P``:
    phase-major, ``j = jp*P + q`` for q in 0..P-1, jp in 0..OW//P-1, so that the P columns of
    each width-P pooling window land in P contiguous blocks (see ``conv_pool``); trailing
    columns no window covers are left out.
    """
    per_phase = win.out[1] // phases
    pos = xp.arange(phases * per_phase, dtype=xp.int64, device=device)
    return (pos % per_phase) * phases + pos // per_phase


def _build_band_index(xp, w_shape, wp, win, device, phases=1):
    """See :func:`_band_index`.

    Returns ``(into_band, from_band)``: ``take(concat(w.ravel(), [0]), into_band)`` is the banded
    matrix ``(KH*Wp*C, M*F)`` for the M output columns of :func:`_band_columns` (``into_band``
    points at the trailing 0 off the band); and ``take(band.ravel(), from_band)`` of shape
    ``(F*KH*KW*C, M)`` lists, for each tap, the band cells that hold it (the weight gradient
    sums them).
    """
    f, kh, kw, c = w_shape
    sw = win.stride[1]
    ints = xp.int64
    columns = _band_columns(xp, win, phases, device)
    m = columns.shape[0]

    def axis(values, at, rank):
        if isinstance(values, int):
            values = xp.arange(values, dtype=ints, device=device)
        shape = [1] * rank
        shape[at] = values.shape[0]
        return xp.reshape(values, tuple(shape))

    # band cell (r, col, ch) of GEMM column (p, fo) holds tap (fo, r, col - j*sw, ch), j the
    # output column of p, when that is inside the kernel
    r, col, ch, j, fo = (axis(size, at, 5) for at, size in enumerate((kh, wp, c, columns, f)))
    q = col - j * sw
    tap = ((fo * kh + r) * kw + q) * c + ch
    into_band = xp.where((q >= 0) & (q < kw), tap, xp.asarray(f * kh * kw * c, dtype=ints, device=device))
    # tap (fo, r, q, ch) sits at band cell (r, j*sw + q, ch) of GEMM column (p, fo), for each p
    fo, r, q, ch, j = (axis(size, at, 5) for at, size in enumerate((f, kh, kw, c, columns)))
    p = axis(m, 4, 5)
    from_band = ((r * wp + j * sw + q) * c + ch) * (m * f) + p * f + fo
    return (xp.reshape(into_band, (kh * wp * c, m * f)), xp.reshape(from_band, (f * kh * kw * c, m)))


@functools.lru_cache(maxsize=64)
def _cached_band_index(xp, w_shape, wp, win, device_key, device, phases):
    return _build_band_index(xp, w_shape, wp, win, device.value, phases)


def _banded_filters(xp, w, into_band):
    """The banded filter matrix ``(KH*Wp*C, M*F)``; see :func:`_band_index`."""
    flat = xp.concat([xp.reshape(w, (-1,)), xp.zeros((1,), dtype=w.dtype, device=w.device)])
    return xp.reshape(take_indices(xp, flat, xp.reshape(into_band, (-1,)), 0), tuple(into_band.shape))


def _rows_computed(win, out_rows):
    """``win`` for a banded GEMM that computes only the first ``out_rows`` output rows."""
    return win if out_rows == win.out[0] else dataclasses.replace(win, out=(out_rows, win.out[1]))


def banded_forward(
    xp: Namespace,
    x: Array,
    w: Array,
    b: Array | None,
    win: Window,
    phases: int = 1,
    out_rows: int | None = None,
    workspace: dict[str, Array] | None = None,
    z_in_workspace: bool = False,
) -> tuple[Array, Array]:
    """The banded GEMM of a convolution: `(z, rows)`.

    Shared by `conv2d_forward` (`phases=1`: z is the NHWC output) and the fused `conv_pool` op.

    Args:
        xp: The arrays' namespace.
        x: The input `(N, H, W, C)`, float32 or float64.
        w: The filters `(F, KH, KW, C)`, of `x`'s dtype.
        b: The bias `(F,)`, or `None`.
        win: The convolution's `Window`.
        phases: 1 for output columns in their natural order; P to emit them phase-major, so
            the P columns of each width-P pooling window land in P contiguous blocks.
        out_rows: Compute only the first R output rows (default all).
        workspace: A dict the caller keeps between calls (the window matrix is built there).
        z_in_workspace: z is a temporary of the caller's, so it may be written into
            `workspace["z"]` (see `xcnn.ops._workspace.matmul`).

    Returns:
        `z` of shape `(N*R, M*F)` for the R output rows and M output columns, and `rows`
        `(N*R, KH*Wp*C)`, the window matrix the backward reuses.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv import banded_forward
        >>> x, w, b = np.arange(18.0).reshape(1, 3, 3, 2), np.ones((4, 2, 2, 2)), np.arange(4.0)
        >>> z, rows = banded_forward(namespace("numpy"), x, w, b, window_geometry((3, 3), (2, 2), 1, 0))
        >>> z.shape, rows.shape, z[0].tolist()
        ((2, 8), (2, 12), [36.0, 37.0, 38.0, 39.0, 52.0, 53.0, 54.0, 55.0])
    """
    if out_rows is not None:
        win = _rows_computed(win, out_rows)
    x_padded = pad_hw(x, win)
    rows = row_windows(xp, x_padded, win, workspace)
    into_band, _ = _band_index(xp, tuple(w.shape), x_padded.shape[2], win, x.device, phases)
    filters = derived_from_weights(workspace, "banded_filters", lambda: _banded_filters(xp, w, into_band))
    z = matmul(xp, rows, filters, workspace if z_in_workspace else None)
    if b is not None:
        z = add_bias(xp, z, b)
    return z, rows


def banded_backward(
    xp: Namespace, dz: Array, w: Array, win: Window, rows: Array, x_shape: Shape, need_dx: bool, phases: int = 1
) -> tuple[Array | None, Array]:
    """Gradients from the banded GEMM's output gradient `dz`: `(dx, dw)`.

    Output rows past R and columns left out by `phases` get no gradient, as they took no
    part in the result. The bias gradient is the caller's (`channel_sum` of its own output
    gradient).

    Args:
        xp: The arrays' namespace.
        dz: The gradient `(N*R, M*F)` w.r.t. `banded_forward`'s z (its layout).
        w: The filters `(F, KH, KW, C)`.
        win: The convolution's `Window`.
        rows: The window matrix `banded_forward` returned.
        x_shape: The input's shape `(N, H, W, C)`.
        need_dx: Whether to compute the input gradient.
        phases: As in `banded_forward`.

    Returns:
        `dx` of shape `x_shape` (unpadded), or `None` unless `need_dx`, and `dw` of `w`'s shape.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv import banded_backward, banded_forward
        >>> xp, win = namespace("numpy"), window_geometry((3, 3), (2, 2), 1, 0)
        >>> x, w = np.arange(18.0).reshape(1, 3, 3, 2), np.ones((4, 2, 2, 2))
        >>> z, rows = banded_forward(xp, x, w, None, win)
        >>> dx, dw = banded_backward(xp, np.ones_like(z), w, win, rows, x.shape, True)
        >>> dx[0, :, :, 0].tolist(), dw.shape
        ([[4.0, 8.0, 4.0], [8.0, 16.0, 8.0], [4.0, 8.0, 4.0]], (4, 2, 2, 2))
    """
    n, kh = x_shape[0], win.kernel[0]
    out_rows = dz.shape[0] // n
    win = _rows_computed(win, out_rows)
    x_padded_shape = padded_shape(x_shape, win)
    wp, c = x_padded_shape[2], x_padded_shape[3]
    into_band, from_band = _band_index(xp, tuple(w.shape), wp, win, dz.device, phases)
    d_band = xp.reshape(rows.T @ dz, (-1,))
    per_tap = xp.reshape(take_indices(xp, d_band, xp.reshape(from_band, (-1,)), 0), tuple(from_band.shape))
    dw = xp.reshape(xp.sum(per_tap, axis=1), tuple(w.shape))
    dx = None
    if need_dx:
        d_rows = xp.reshape(dz @ _banded_filters(xp, w, into_band).T, (n, out_rows, kh, wp, c))
        dx_padded = xp.zeros(x_padded_shape, dtype=dz.dtype, device=dz.device)
        for i, idx in row_slices(win):
            dx_padded = add_into(dx_padded, idx, d_rows[:, :, i, :, :])
        dx = crop_hw(dx_padded, win)
    return dx, dw


def col2im(xp: Namespace, dcols: Array, x_padded_shape: Shape, win: Window, pool: Window | None = None) -> Array:
    """Adjoint of `im2col`: add each window column back to where it was read from.

    Args:
        xp: The arrays' namespace.
        dcols: `(M, KH*KW*C)` in the row order of `im2col(..., pool)`.
        x_padded_shape: The padded input's shape `(N, Hp, Wp, C)`.
        win: The convolution's `Window`.
        pool: As in `im2col`.

    Returns:
        The padded input gradient, of shape `x_padded_shape` and `dcols`' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv import col2im
        >>> win = window_geometry((3, 3), (2, 2), 1, 0)
        >>> col2im(namespace("numpy"), np.ones((4, 8)), (1, 3, 3, 2), win)[0, :, :, 0].tolist()
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    pool = pool or _no_pool(win)
    n, _, _, c = x_padded_shape
    (ohp, owp) = pool.out
    per_offset = xp.reshape(dcols, (pool.size, n, ohp, owp, win.size, c))
    dx_padded = xp.zeros(x_padded_shape, dtype=dcols.dtype, device=dcols.device)
    for cell, k, idx in cell_window_slices(win, pool):
        dx_padded = add_into(dx_padded, idx, per_offset[cell, :, :, :, k, :])
    return dx_padded


def im2col_forward(
    xp: Namespace,
    x: Array,
    w: Array,
    b: Array | None,
    win: Window,
    pool: Window | None = None,
    workspace: dict[str, Array] | None = None,
    z_in_workspace: bool = False,
) -> tuple[Array, Array]:
    """The im2col GEMM of a convolution: `(z, cols)`.

    Shared by `conv2d_forward` and the fused `conv_pool` op.

    Args:
        xp: The arrays' namespace.
        x: The input `(N, H, W, C)`, float32 or float64.
        w: The filters `(F, KH, KW, C)`, of `x`'s dtype.
        b: The bias `(F,)`, or `None`.
        win: The convolution's `Window`.
        pool: As in `im2col`.
        workspace: As in `im2col`.
        z_in_workspace: As in `banded_forward`.

    Returns:
        `z` `(M, F)` in the row order of `im2col` (NHWC when `pool` is `None`), and `cols`
        `(M, KH*KW*C)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv import im2col_forward
        >>> x, w, b = np.arange(18.0).reshape(1, 3, 3, 2), np.ones((4, 2, 2, 2)), np.arange(4.0)
        >>> z, cols = im2col_forward(namespace("numpy"), x, w, b, window_geometry((3, 3), (2, 2), 1, 0))
        >>> z.shape, cols.shape, z[:, 0].tolist()
        ((4, 4), (4, 8), [36.0, 52.0, 84.0, 100.0])
    """
    cols = im2col(xp, pad_hw(x, win), win, pool, workspace)
    z = matmul(xp, cols, xp.reshape(w, (w.shape[0], -1)).T, workspace if z_in_workspace else None)
    if b is not None:
        z = add_bias(xp, z, b)
    return z, cols


def _im2col_groups(xp, x):
    """How many groups of images the im2col path runs side by side: one per core on the NumPy
    fast path (see :mod:`._parallel`) for inputs of several channels, else 1 (one channel
    builds its window matrix kernel-offset-major, a layout whose rows do not split by image)."""
    return parallel.batch_groups(xp, x.shape[0]) if x.shape[3] > 1 else 1


def _im2col_forward_in_groups(xp, x, w, b, win, groups, workspace):
    """`im2col_forward` (no pool) with each group of images' rows of one window matrix built,
    multiplied and biased on a core of its own: the same `(z, cols)`. The batch is padded once
    for all the groups (`im2col_forward` pads its own input, so it is not called per group)."""
    n, c, f = x.shape[0], x.shape[3], w.shape[0]
    (oh, ow), per = win.out, win.out[0] * win.out[1]
    x_padded = pad_hw(x, win)
    cols = scratch(xp, workspace, "cols", (n * per, win.size * c), x.dtype, x.device)
    z = xp.empty((n * per, f), dtype=x.dtype, device=x.device)
    filters = xp.reshape(w, (f, -1)).T
    bounds = parallel.group_bounds(n, groups)

    def run_group(g):
        first, count = bounds[g]
        rows = slice(first * per, (first + count) * per)
        # this group's rows of cols, in the shape im2col builds (a view: the rows are contiguous)
        own = {"cols": xp.reshape(cols[rows, :], (1, count, oh, ow, win.size, c))}
        out = matmul_into(xp, im2col(xp, x_padded[first : first + count, ...], win, None, own), filters, z[rows, :])
        if b is not None:
            add_bias(xp, out, b)

    parallel.run(xp, run_group, len(bounds))
    return z, cols


def _im2col_backward_in_groups(xp, dz, w, win, cols, x_shape, need_dx, groups):
    """`im2col_backward` (no pool) run by each group of images on a core of its own, on its
    rows of the window matrix; the weight gradient is the sum of the groups': the same `(dx, dw)`."""
    n, per = x_shape[0], win.out[0] * win.out[1]
    bounds = parallel.group_bounds(n, groups)
    dws = [None] * len(bounds)
    dx = xp.empty(tuple(x_shape), dtype=dz.dtype, device=dz.device) if need_dx else None

    def run_group(g):
        first, count = bounds[g]
        rows = slice(first * per, (first + count) * per)
        dx_part, dws[g] = im2col_backward(xp, dz[rows, :], w, win, cols[rows, :], (count, *x_shape[1:]), need_dx)
        if need_dx:
            dx[first : first + count, ...] = dx_part

    parallel.run(xp, run_group, len(bounds))
    return dx, functools.reduce(operator.add, dws)


def im2col_backward(
    xp: Namespace,
    dz: Array,
    w: Array,
    win: Window,
    cols: Array,
    x_shape: Shape,
    need_dx: bool,
    pool: Window | None = None,
) -> tuple[Array | None, Array]:
    """Gradients from the im2col GEMM's output gradient `dz`: `(dx, dw)`.

    The bias gradient is the caller's, as in `banded_backward`.

    Args:
        xp: The arrays' namespace.
        dz: The gradient `(M, F)` w.r.t. `im2col_forward`'s z.
        w: The filters `(F, KH, KW, C)`.
        win: The convolution's `Window`.
        cols: The window matrix `im2col_forward` returned.
        x_shape: The input's shape `(N, H, W, C)`.
        need_dx: Whether to compute the input gradient.
        pool: As in `im2col`.

    Returns:
        `dx` of shape `x_shape`, or `None` unless `need_dx`, and `dw` of `w`'s shape.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv import im2col_backward, im2col_forward
        >>> xp, win = namespace("numpy"), window_geometry((3, 3), (2, 2), 1, 0)
        >>> x, w = np.arange(18.0).reshape(1, 3, 3, 2), np.ones((4, 2, 2, 2))
        >>> z, cols = im2col_forward(xp, x, w, None, win)
        >>> dx, dw = im2col_backward(xp, np.ones_like(z), w, win, cols, x.shape, True)
        >>> dx[0, :, :, 0].tolist(), dw[0, :, :, 0].tolist()
        ([[4.0, 8.0, 4.0], [8.0, 16.0, 8.0], [4.0, 8.0, 4.0]], [[16.0, 24.0], [40.0, 48.0]])
    """
    f = w.shape[0]
    # (cols.T @ dz).T, not dz.T @ cols: with few filters the long axis M then runs inside
    # the GEMM's inner product, about twice as fast on NumPy's BLAS
    dw = xp.reshape((cols.T @ dz).T, tuple(w.shape))
    dx = None
    if need_dx:
        dcols = dz @ xp.reshape(w, (f, -1))
        dx = crop_hw(col2im(xp, dcols, padded_shape(x_shape, win), win, pool), win)
    return dx, dw


# the fewest input channels for which the gather algorithm beats im2col (measured at stride 1;
# its GEMM's inner dimension is KH*KW*C either way, gather's gathered rows are C floats long). On the VM
# (Emerald Rapids, 2026-12-01), forward + backward at batch 128, 3x3 'same' on 32x32, BLAS at
# one thread per group of images: C = 8: gather 23.6 ms (F = 16), 38.3 (F = 32) against
# im2col's 47.6 and 50.9; C = 3: 27.5 against 32.2 (F = 16) but 45.8 against 37.4 (F = 32)
GATHER_MIN_CHANNELS = 8

# the widest padded input, in kernel widths, for which the banded GEMM (Wp/KW times the useful
# arithmetic, but a wide, cache-friendly GEMM and no window matrix) beats im2col. Emerald Rapids
# (AVX-512), 2026-12-01, forward + backward at batch 100: LeNet's 5x5 'same' on 28x28x1 (6.4
# kernel widths) banded 2.0-2.2 ms, im2col 3.1-3.5; the lecture's 3x3 'same' (10) a tie, 1.7-2.0
# each; the article's 7x7 'valid' (4) banded 2.2, im2col 2.9-3.6. Strided convolutions keep
# the 4 measured on Zen 1: ResNet's 3x3 stride-2 conv on 16x16x32 (5.7 kernel widths) took
# 50 ms banded against 15 ms im2col.
BANDED_MAX_WIDTH_RATIO = 8
BANDED_MAX_WIDTH_RATIO_STRIDED = 4

ALGORITHMS = ("im2col", "banded", "gather", "native")


def conv_algorithm(x_shape: Shape, w_shape: Shape, win: Window, accelerator: bool = False, native: bool = False) -> str:
    """`"native"`, `"gather"`, `"banded"` or `"im2col"` for a convolution: the one place that chooses.

    Where the backend's own convolution is at hand (`native`: torch tensors on the CPU), always
    `"native"`: oneDNN's direct kernels, 2x faster on VGG- and ResNet-shaped layers than the
    best GEMM-based one (see `xcnn.ops.native`). On an accelerator (a GPU), always `"gather"`:
    one indexed gather and one GEMM each way, where the others launch a copy per kernel tap
    (see `xcnn.ops.conv_gather`). On the host (measured on NumPy/OpenBLAS, docs/performance.md):

    - a 1x1 kernel takes im2col: its window matrix is one strided copy of the input (gather's
      `take` and the banded GEMM's W-fold arithmetic measured 1.3-2x and 5-10x slower);
    - a lone image (`predict`'s latency case) takes gather, any stride: the banded GEMM's
      filter matrix and im2col's copies are fixed costs that one image does not amortize
      (gather measured 1.2-2.5x faster at batch 1; `predict` at batch 1: LeNet 0.76x the time,
      ResNet-14 0.87x);
    - a convolution of at least `GATHER_MIN_CHANNELS` input channels takes gather too, its
      window matrix gathered a cache-sized chunk of images at a time (the VGG and ResNet
      layers). Strided ones as well: on the host their input gradient is taken phase by phase
      (`xcnn.ops.conv_gather.dx_phases`), the useful arithmetic only (ResNet-14's 3x3 stride-2
      convs, forward + backward in a step: 42.6 -> 26.9 ms and 18.9 -> 14.6 against im2col);
    - of the rest, the banded GEMM does Wp/KW times the useful arithmetic; up to
      `BANDED_MAX_WIDTH_RATIO` times (`BANDED_MAX_WIDTH_RATIO_STRIDED` for strided
      convolutions) that is cheaper than building, writing and reading an im2col matrix KH*KW
      times the input: the seeds' MNIST nets and LeNet;
    - the rest use im2col.

    When a max pool follows, the fused `conv_pool` op runs only for banded and im2col (see
    `fuses_with_max_pool`); on torch's CPU that op runs torch's conv and pool one after the
    other.

    Args:
        x_shape: The input's shape `(N, H, W, C)`; N may be `None` (a graph's choice, for any batch).
        w_shape: The filters' shape `(F, KH, KW, C)`.
        win: The convolution's `Window`.
        accelerator: Whether the arrays live off the host (CuPy's, torch's "cuda").
        native: Whether the backend's own convolution may run (`xcnn.ops.native.native_available`:
            torch tensors on the CPU, unless ``XCNN_NATIVE=0``).

    Returns:
        The algorithm's name.

    Examples:
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv import conv_algorithm
        >>> conv_algorithm((2, 28, 28, 1), (8, 7, 7, 1), window_geometry((28, 28), (7, 7), 1, "valid"))
        'banded'
        >>> conv_algorithm((1, 28, 28, 1), (8, 7, 7, 1), window_geometry((28, 28), (7, 7), 1, "valid"))
        'gather'
        >>> conv_algorithm((1, 32, 32, 32), (8, 3, 3, 32), window_geometry((32, 32), (3, 3), 1, "same"))
        'gather'
        >>> conv_algorithm((1, 32, 32, 32), (8, 3, 3, 32), window_geometry((32, 32), (3, 3), 1, "same"), True)
        'gather'
        >>> conv_algorithm((1, 32, 32, 32), (8, 3, 3, 32), window_geometry((32, 32), (3, 3), 1, "same"), native=True)
        'native'
    """
    if native:
        return "native"
    if accelerator:
        return "gather"
    if win.size == 1:
        return "im2col"
    if x_shape[0] == 1 or w_shape[3] >= GATHER_MIN_CHANNELS:
        return "gather"
    padded_width = x_shape[2] + sum(win.pads[1])
    ratio = BANDED_MAX_WIDTH_RATIO if win.stride == (1, 1) else BANDED_MAX_WIDTH_RATIO_STRIDED
    if padded_width <= ratio * w_shape[2]:
        return "banded"
    return "im2col"


def _pick_algorithm(x, w, win, algorithm):
    if algorithm not in ("auto", *ALGORITHMS):
        raise ValueError(f"algorithm must be 'auto', 'im2col', 'banded', 'gather' or 'native', got {algorithm!r}")
    if algorithm == "native" and not native_runs(x):
        where = f"a torch tensor on {x.device}" if backend_of(x) == "torch" else f"a {backend_of(x)} array"
        raise ValueError(f"algorithm 'native' runs on torch tensors on the CPU only, got {where}")
    if x.shape[0] == 0:  # no images: an empty result of the right shape, which im2col gives as it is
        # (the banded rows and the gather chunks are sized per image)
        return "im2col"
    if algorithm == "auto":
        return conv_algorithm(tuple(x.shape), tuple(w.shape), win, off_host(x), native_available(x))
    return algorithm


def conv2d(
    x: Array, w: Array, b: Array | None = None, *, stride: IntPair = 1, padding: Padding = 0, algorithm: str = "auto"
) -> Array:
    """2-D convolution (cross-correlation) of NHWC images.

    Args:
        x: The images `(N, H, W, C)`, float32 or float64, on any backend.
        w: The filters `(F, KH, KW, C)`, of `x`'s dtype.
        b: The bias `(F,)`, or `None`.
        stride: An int or `(sh, sw)`.
        padding: An int, `(ph, pw)`, `((top, bottom), (left, right))`, `"valid"` or `"same"`.
        algorithm: `"auto"` (see `conv_algorithm`), `"im2col"`, `"banded"`, `"gather"` or
            `"native"` (torch tensors on the CPU only); the same result up to float rounding.
            A batch of no images runs im2col whatever this says (an empty result).

    Returns:
        `(N, OH, OW, F)` in the dtype of `x`.

    Raises:
        ValueError: If `x` is not 4-D, `w` not `(F, KH, KW, C)` with x's C, `b` not `(F,)`,
            the window does not fit, or `algorithm` is unknown.
        TypeError: If `w` has another dtype than `x`, or they are not floating.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.conv import conv2d
        >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
        >>> conv2d(x, np.ones((1, 2, 2, 1)), stride=2)[0, :, :, 0].tolist()
        [[10.0, 18.0], [42.0, 50.0]]
    """
    return conv2d_forward(x, w, b, stride=stride, padding=padding, algorithm=algorithm)[0]


def conv2d_forward(
    x: Array,
    w: Array,
    b: Array | None = None,
    *,
    stride: IntPair = 1,
    padding: Padding = 0,
    algorithm: str = "auto",
    workspace: dict[str, Array] | None = None,
) -> tuple[Array, Array]:
    """`conv2d` that also returns the window matrix its GEMM read.

    That is `cols` `(N*OH*OW, KH*KW*C)` for im2col, `rows` `(N*OH, KH*Wp*C)` for the banded
    algorithm, the images with a zero row each `(N, H*W+1, C)` for gather (see
    `xcnn.ops.conv_gather.gather_forward`, which gathers its window matrix from them again),
    and for native `x` itself, padded where torch's kernel cannot pad it (`xcnn.ops.native.pads_input`).
    A layer keeps it for `conv2d_backward` (`cols=`), which then builds no second one: one
    buffer of extra memory, built once per step.

    Args:
        x: The images `(N, H, W, C)`, float32 or float64, on any backend.
        w: The filters `(F, KH, KW, C)`, of `x`'s dtype.
        b: The bias `(F,)`, or `None`.
        stride: As in `conv2d`.
        padding: As in `conv2d`.
        algorithm: As in `conv2d`.
        workspace: A dict the caller keeps between calls; the window matrix is then built in
            the same array each time (see `xcnn.ops._workspace`), valid until the next call
            with that workspace.

    Returns:
        `(y, cols)`: the output `(N, OH, OW, F)` in `x`'s dtype and the window matrix.

    Raises:
        ValueError: As `conv2d`.
        TypeError: As `conv2d`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.conv import conv2d_forward
        >>> y, cols = conv2d_forward(np.ones((2, 4, 4, 1)), np.ones((1, 2, 2, 1)), padding="same")
        >>> y.shape, cols.shape  # the banded algorithm's rows (N*OH, KH*Wp*C)
        ((2, 4, 4, 1), (8, 10))
    """
    xp = array_namespace(x, w, b)
    _check_conv_args(xp, x, w, b)
    win = _geometry(x, w, stride, padding)
    n, f = x.shape[0], w.shape[0]
    (oh, ow) = win.out
    chosen = _pick_algorithm(x, w, win, algorithm)
    if chosen == "banded":
        y, rows = banded_forward(xp, x, w, b, win, workspace=workspace)
        return xp.reshape(y, (n, oh, ow, f)), rows
    if chosen == "gather":
        y, x_rows = gather_forward(xp, x, w, b, win, workspace)
        return xp.reshape(y, (n, oh, ow, f)), x_rows
    if chosen == "native":
        return native_forward(x, w, b, win, workspace)
    groups = _im2col_groups(xp, x)
    if groups > 1:
        y, cols = _im2col_forward_in_groups(xp, x, w, b, win, groups, workspace)
    else:
        y, cols = im2col_forward(xp, x, w, b, win, workspace=workspace)
    return xp.reshape(y, (n, oh, ow, f)), cols


def conv2d_backward(
    dy: Array,
    x: Array,
    w: Array,
    *,
    stride: IntPair = 1,
    padding: Padding = 0,
    need_dx: bool = True,
    cols: Array | None = None,
    algorithm: str = "auto",
    workspace: dict[str, Array] | None = None,
    need_db: bool = True,
) -> tuple[Array | None, Array, Array | None]:
    """Gradients of `conv2d` given the output gradient `dy`.

    Args:
        dy: The output gradient `(N, OH, OW, F)`, of `x`'s dtype.
        x: The forward's input `(N, H, W, C)`.
        w: The filters `(F, KH, KW, C)`.
        stride: As in the forward call.
        padding: As in the forward call.
        need_dx: `False` skips the input gradient (the first layer of a network needs none).
        cols: The window matrix from `conv2d_forward`, if kept (else it is rebuilt).
        algorithm: As in the forward call.
        workspace: The gather algorithm's chunk buffers are kept there (as in
            `conv2d_forward`; pass the same dict).
        need_db: `False` skips the bias gradient (a convolution without a bias needs none).

    Returns:
        `(dx, dw, db)` with the shapes of `x`, `w` and `(F,)`; `dx` is `None` when
        `need_dx=False`, `db` when `need_db=False`.

    Raises:
        ValueError: If `dy` is not the forward's output shape, `cols` not the window matrix
            `conv2d_forward` returned, or the arguments are bad as in `conv2d`.
        TypeError: As `conv2d`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.conv import conv2d_backward
        >>> x, w = np.arange(16.0).reshape(1, 4, 4, 1), np.ones((1, 2, 2, 1))
        >>> dx, dw, db = conv2d_backward(np.ones((1, 3, 3, 1)), x, w)
        >>> dx[0, :, :, 0].tolist()
        [[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0], [2.0, 4.0, 4.0, 2.0], [1.0, 2.0, 2.0, 1.0]]
        >>> dw.ravel().tolist(), db.tolist()
        ([45.0, 54.0, 81.0, 90.0], [9.0])
    """
    xp = array_namespace(dy, x, w)
    _check_conv_args(xp, x, w, None)
    win = _geometry(x, w, stride, padding)
    n, f = x.shape[0], w.shape[0]
    (oh, ow) = win.out
    expected = (n, oh, ow, f)
    if tuple(dy.shape) != expected:
        raise ValueError(f"dy must have the conv2d output shape {expected}, got {tuple(dy.shape)}")
    padded = padded_shape(tuple(x.shape), win)
    chosen = _pick_algorithm(x, w, win, algorithm)
    banded = chosen == "banded"
    want: tuple[int, ...]
    if banded:
        want = (n * oh, win.kernel[0] * padded[2] * padded[3])
    elif chosen == "gather":
        want = (n, x.shape[1] * x.shape[2] + 1, x.shape[3])
    elif chosen == "native":
        want = padded if pads_input(win) else tuple(x.shape)
    else:
        want = (n * oh * ow, win.size * x.shape[3])
    if cols is None:
        if chosen == "gather":
            cols = rows_with_zero(xp, x, n, x.shape[1] * x.shape[2])
        elif chosen == "native":
            cols = native_input(x, win)
        else:
            cols = (row_windows if banded else im2col)(xp, pad_hw(x, win), win)
    elif tuple(cols.shape) != want:
        raise ValueError(
            f"cols must be the window matrix conv2d_forward returned, shape {want}, got {tuple(cols.shape)}"
        )
    if chosen == "native":
        return native_backward(dy, cols, w, win, need_dx, need_db)
    if banded:
        dx, dw = banded_backward(xp, xp.reshape(dy, (n * oh, ow * f)), w, win, cols, tuple(x.shape), need_dx)
    elif chosen == "gather":
        dx, dw = gather_backward(xp, xp.reshape(dy, (-1, f)), w, win, cols, tuple(x.shape), need_dx, workspace)
    else:
        groups = _im2col_groups(xp, x)
        backward = functools.partial(_im2col_backward_in_groups, groups=groups) if groups > 1 else im2col_backward
        dx, dw = backward(xp, xp.reshape(dy, (-1, f)), w, win, cols, tuple(x.shape), need_dx)
    return dx, dw, channel_sum(dy) if need_db else None
