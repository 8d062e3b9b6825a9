"""The "gather" convolution: im2col and its adjoint as one indexed gather each.

- forward: each image, flattened to ``(H*W, C)``, gets one zero row appended; a cached index
  ``(OH*OW*KH*KW,)`` names, for every output pixel and kernel tap, the input row the tap reads
  (the zero row where it falls in the padding), so ``take`` along the pixel axis *is* the
  im2col matrix ``(OH*OW, KH*KW*C)`` of each image, padding included, and one GEMM with the
  filters gives the output.
- backward: the weight gradient is the same matrix, gathered again, times the output
  gradient. The input gradient is the adjoint of the gather, a scatter-add, which the array
  API lacks. But each input pixel receives, through tap (i, j), from at most one output pixel
  (the one whose window put tap (i, j) on it, when the stride lands there), so the input
  gradient is a gather too: an index ``(H*W*KH*KW,)`` over the output gradient's pixels (plus a
  zero row) lays out ``(H*W, KH*KW*F)`` per image, and one GEMM with the filters arranged
  tap-major ``(KH*KW*F, C)`` sums every tap's contribution. Any stride and padding; at stride
  s that gathered matrix is mostly zeros (s*s times the forward's arithmetic), so on the CPU a
  strided input gradient is taken phase by phase instead (:func:`dx_phases`: the input pixels
  of one phase receive the same taps), one gather and GEMM per phase.

What the backward keeps is the images with their zero rows ``(N, H*W+1, C)``, not the window
matrix: the matrix is gathered a chunk of images at a time, into a buffer that stays in the
CPU's cache between the ``take`` that writes it and the GEMM that reads it (the chunk sized by
:func:`gather_chunk`; on the CPU that is what makes it faster than im2col's one big matrix, and
than the "shift" algorithm it replaced, KH*KW thin GEMMs over row-shifted views of the padded
batch: docs/performance.md). On NumPy the chunks run in groups of images, one
per core (see :mod:`._parallel`). On a GPU the whole batch is one chunk: each direction is then
a handful of kernel launches whatever the kernel size (forward 5, backward 7), where the slice
algorithms launch one copy per tap.
"""

from __future__ import annotations

import functools
import operator

from .._typing import Array, Namespace, Shape
from ..backend import Unkeyed, device_key, off_host, take_indices
from . import _parallel as parallel
from ._geometry import Window
from ._workspace import add_bias, matmul_into, scratch


def _axis(xp, size, at, rank, device):
    """``arange(size)`` shaped to broadcast along axis ``at`` of ``rank`` axes."""
    shape = [1] * rank
    shape[at] = size
    return xp.reshape(xp.arange(size, dtype=xp.int64, device=device), tuple(shape))


def _build_gather_indices(xp, h, w, win, device):
    """``(into_cols, into_dx)``: see :func:`gather_indices`."""
    (kh, kw), (sh, sw), ((top, _), (left, _)), (oh, ow) = win.kernel, win.stride, win.pads, win.out
    ki, kj = _axis(xp, kh, 2, 4, device), _axis(xp, kw, 3, 4, device)
    # forward: output pixel (oi, oj), tap (ki, kj) reads input pixel (oi*sh + ki - top, ...)
    i = _axis(xp, oh, 0, 4, device) * sh + ki - top
    j = _axis(xp, ow, 1, 4, device) * sw + kj - left
    inside = (i >= 0) & (i < h) & (j >= 0) & (j < w)
    into_cols = xp.where(inside, i * w + j, xp.asarray(h * w, dtype=xp.int64, device=device))
    # adjoint: input pixel (i, j) got tap (ki, kj) from output pixel ((i + top - ki) / sh, ...)
    # when that is a whole number inside the output
    ri = _axis(xp, h, 0, 4, device) + top - ki
    rj = _axis(xp, w, 1, 4, device) + left - kj
    oi, oj = ri // sh, rj // sw
    lands = (ri >= 0) & (ri % sh == 0) & (oi < oh) & (rj >= 0) & (rj % sw == 0) & (oj < ow)
    into_dx = xp.where(lands, oi * ow + oj, xp.asarray(oh * ow, dtype=xp.int64, device=device))
    return xp.reshape(into_cols, (-1,)), xp.reshape(into_dx, (-1,))


@functools.lru_cache(maxsize=64)
def _cached_gather_indices(xp, h, w, win, key, device):
    return _build_gather_indices(xp, h, w, win, device.value)


def gather_indices(xp: Namespace, h: int, w: int, win: Window, device: object) -> tuple[Array, Array]:
    """The two index vectors of the gather convolution, memoized per geometry and device.

    Args:
        xp: The arrays' namespace.
        h: The input height H.
        w: The input width W.
        win: The convolution's `Window`.
        device: The device they are made on.

    Returns:
        `into_cols` `(OH*OW*KH*KW,)`: for output pixel p and tap t, at `p*KH*KW + t`, the input
        pixel (row of the `(H*W + 1, C)` image with its zero row) the tap reads; and `into_dx`
        `(H*W*KH*KW,)`: for input pixel q and tap t, the output pixel whose tap t read q (row
        of the `(OH*OW + 1, F)` output gradient with its zero row).

    Examples:
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv_gather import gather_indices
        >>> win = window_geometry((2, 2), (2, 2), 1, "same")  # pads one row below, one column right
        >>> into_cols, into_dx = gather_indices(namespace("numpy"), 2, 2, win, "cpu")
        >>> into_cols.reshape(4, 4).tolist()  # output pixel 3 reads three padding cells (4)
        [[0, 1, 2, 3], [1, 4, 3, 4], [2, 3, 4, 4], [3, 4, 4, 4]]
        >>> into_dx.reshape(4, 4).tolist()  # input pixel 0 is read only by output pixel 0, tap 0
        [[0, 4, 4, 4], [1, 0, 4, 4], [2, 4, 0, 4], [3, 2, 1, 0]]
    """
    return _cached_gather_indices(xp, h, w, win, device_key(device), Unkeyed(device))


@functools.lru_cache(maxsize=64)
def _cached_dx_phases(xp, h, w, win, key, device):
    (kh, kw), (sh, sw), ((top, _), (left, _)) = win.kernel, win.stride, win.pads
    _, into_dx = _cached_gather_indices(xp, h, w, win, key, device)
    by_pixel_and_tap = xp.reshape(into_dx, (h, w, kh, kw))
    phases = []
    for i0 in range(min(sh, h)):
        for j0 in range(min(sw, w)):
            # input rows i0, i0 + sh, ... get taps ki = (i0 + top) % sh, + sh, ... (likewise columns)
            ti, tj = (i0 + top) % sh, (j0 + left) % sw
            index = by_pixel_and_tap[i0::sh, j0::sw, ti::sh, tj::sw]
            phases.append((i0, j0, ti, tj, tuple(index.shape), xp.reshape(index, (-1,))))
    return tuple(phases)


def dx_phases(xp: Namespace, h: int, w: int, win: Window, device: object) -> tuple:
    """The input gradient of a strided gather convolution, split by phase (memoized).

    At stride (sh, sw) the input pixels (i, j) with the same (i % sh, j % sw) receive the same
    taps: those (ki, kj) with ki = (i + top) mod sh and kj = (j + left) mod sw, about KH*KW/(sh*sw)
    of them. So each phase's gradient is a gather of the output gradient through those taps
    only (a slice of `gather_indices`' `into_dx`) and one GEMM with those taps' filters: the
    useful arithmetic, where the one gather over all taps does sh*sw times it, mostly on zeros.

    Args:
        xp: The arrays' namespace.
        h: The input height H.
        w: The input width W.
        win: The convolution's `Window`.
        device: The device the indices are made on.

    Returns:
        One `(i0, j0, ti, tj, (rows, columns, taps down, taps across), index)` per phase: the
        phase's first input row and column, its first tap's row and column (both step by the
        stride), and `index`, `into_dx` for its pixels and taps, flattened.

    Examples:
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv_gather import dx_phases
        >>> win = window_geometry((4, 4), (3, 3), 2, "same")  # pads one row below, one column right
        >>> [(i0, j0, shape) for i0, j0, _, _, shape, _ in dx_phases(namespace("numpy"), 4, 4, win, "cpu")]
        [(0, 0, (2, 2, 2, 2)), (0, 1, (2, 2, 2, 1)), (1, 0, (2, 2, 1, 2)), (1, 1, (2, 2, 1, 1))]
    """
    return _cached_dx_phases(xp, h, w, win, device_key(device), Unkeyed(device))


def rows_with_zero(
    xp: Namespace,
    images: Array,
    n: int,
    pixels: int,
    workspace: dict[str, Array] | None = None,
    name: str = "gather_rows",
) -> Array:
    """`images` as `(N, pixels + 1, channels)`: each image's pixels, then a zero row.

    What the gather convolution gathers from (its zero row stands for every padding cell).

    Args:
        xp: The arrays' namespace.
        images: N images of `pixels` rows of `channels` each, in any shape whose last axis is
            the channels (`(N, H, W, C)`, or `(N*OH*OW, F)` for an output gradient).
        n: N.
        pixels: The rows of one image (H*W).
        workspace: If given, the result is written into `workspace[name]` (see
            `xcnn.ops._workspace`): on the CPU a fresh array of this size costs a page fault per
            4 KiB the first time it is written, which measured as much as the convolution's
            gathers.
        name: The workspace entry.

    Returns:
        `(N, pixels + 1, channels)` in `images`' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops.conv_gather import rows_with_zero
        >>> rows_with_zero(namespace("numpy"), np.ones((2, 2, 1, 1)), 2, 2)[:, :, 0].tolist()
        [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]]
    """
    channels = images.shape[-1]
    rows = scratch(xp, workspace, name, (n, pixels + 1, channels), images.dtype, images.device)
    rows[:, :pixels, :] = xp.reshape(images, (n, pixels, channels))
    rows[:, pixels, :] = 0
    return rows


# L2-resident working set of one chunk (bytes): the backward's gathered matrices and input gradient.
# Measured on the 2-core VM (2 MiB of L2 per core), forward + backward at batch 128, 3x3 'same',
# one core per group of 64 images; chunk of 1, 2, 4, 8, 16 images (ms):
# 32x32x16: 34.9 26.9 26.6 27.5 27.8; 32x32x32: 95.3 79.7 67.5 71.9 107.6;
# 16x16x32: 18.2 15.5 15.2 15.4 16.1; 8x8x64: 13.7 11.4 10.6 10.5 10.8.
GATHER_CHUNK_BYTES = 6 << 20
# on a GPU a chunk saves no cache misses and costs its launches: the whole batch, up to this
GATHER_CHUNK_BYTES_ACCELERATOR = 1 << 30


def gather_chunk(n: int, image_floats: int, itemsize: int, accelerator: bool = False) -> int:
    """How many images the gather convolution takes at a time: the one place that sizes it.

    Args:
        n: The images in the batch (or the group of it one core takes).
        image_floats: The numbers one image puts in the chunk's buffers.
        itemsize: Bytes per number (4 for float32).
        accelerator: Whether the arrays are on a GPU (see `xcnn.backend.off_host`).

    Returns:
        The chunk size, at least 1 and at most `n`.

    Examples:
        >>> from xcnn.ops.conv_gather import gather_chunk
        >>> gather_chunk(64, 32 * 32 * 9 * 32, 4)  # a 32x32x32 image's window matrix, float32
        5
        >>> gather_chunk(64, 32 * 32 * 9 * 32, 4, accelerator=True)
        64
    """
    budget = GATHER_CHUNK_BYTES_ACCELERATOR if accelerator else GATHER_CHUNK_BYTES
    return max(1, min(n, budget // (image_floats * itemsize)))


def _chunks(first, count, chunk):
    """``(first image, count)`` of each chunk of ``chunk`` images of a group."""
    return [(at, min(chunk, first + count - at)) for at in range(first, first + count, chunk)]


def _groups(xp, n):
    return parallel.group_bounds(n, parallel.batch_groups(xp, n))


def _chunk_of(xp, array, groups, win, c, f, h, w):
    """One chunk size for both passes of a layer, so that they share the window-matrix buffer
    of the workspace (two sizes would make each pass allocate it afresh, page faults and all):
    sized for the backward's buffers, the larger, whether or not it computes the input gradient."""
    per, pixels = win.out[0] * win.out[1], h * w
    image_floats = per * win.size * c + pixels * win.size * f + pixels * c
    return gather_chunk(groups[0][1], image_floats, xp.finfo(array.dtype).bits // 8, off_host(array))


def gather_forward(
    xp: Namespace, x: Array, w: Array, b: Array | None, win: Window, workspace: dict[str, Array] | None = None
) -> tuple[Array, Array]:
    """The gather convolution: `(z, x_rows)`.

    Args:
        xp: The arrays' namespace.
        x: The input `(N, H, W, C)`, float32 or float64.
        w: The filters `(F, KH, KW, C)`, of `x`'s dtype.
        b: The bias `(F,)`, or `None`.
        win: The convolution's `Window` (any stride and padding).
        workspace: If given, the chunk buffers are kept there (see `xcnn.ops._workspace`).

    Returns:
        `z` `(N*OH*OW, F)`, the output in NHWC order, and `x_rows` `(N, H*W+1, C)`, the images
        with their zero rows, which the backward gathers from again (with a workspace, valid
        until the next call with it).

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv_gather import gather_forward
        >>> x, w, b = np.arange(18.0).reshape(1, 3, 3, 2), np.ones((4, 2, 2, 2)), np.arange(4.0)
        >>> z, x_rows = gather_forward(namespace("numpy"), x, w, b, window_geometry((3, 3), (2, 2), 1, 0))
        >>> z.shape, x_rows.shape, z[:, 0].tolist()
        ((4, 4), (1, 10, 2), [36.0, 52.0, 84.0, 100.0])
    """
    n, h, wd, c = x.shape
    f, per, taps = w.shape[0], win.out[0] * win.out[1], win.size
    into_cols, _ = gather_indices(xp, h, wd, win, x.device)
    x_rows = rows_with_zero(xp, x, n, h * wd, workspace)
    filters = xp.reshape(w, (f, -1)).T
    z = xp.empty((n * per, f), dtype=x.dtype, device=x.device)
    groups = _groups(xp, n)
    chunk = _chunk_of(xp, x, groups, win, c, f, h, wd)

    def run_group(g):
        buffer = scratch(xp, workspace, f"gather_cols{g}", (chunk, per * taps, c), x.dtype, x.device)
        for first, count in _chunks(*groups[g], chunk):
            cols = take_indices(xp, x_rows[first : first + count, ...], into_cols, 1, buffer[:count, ...])
            out = matmul_into(
                xp, xp.reshape(cols, (count * per, taps * c)), filters, z[first * per : (first + count) * per, :]
            )
            if b is not None:  # here, while the chunk's output is in cache
                add_bias(xp, out, b)

    parallel.run(xp, run_group, len(groups))
    return z, x_rows


def gather_backward(
    xp: Namespace,
    dz: Array,
    w: Array,
    win: Window,
    x_rows: Array,
    x_shape: Shape,
    need_dx: bool,
    workspace: dict[str, Array] | None = None,
) -> tuple[Array | None, Array]:
    """Gradients of `gather_forward` from its output gradient: `(dx, dw)`.

    The bias gradient is the caller's, as in `xcnn.ops.conv.im2col_backward`.

    Args:
        xp: The arrays' namespace.
        dz: The gradient `(N*OH*OW, F)` w.r.t. `gather_forward`'s z.
        w: The filters `(F, KH, KW, C)`.
        win: The convolution's `Window`.
        x_rows: The images with their zero rows, as `gather_forward` returned them.
        x_shape: The input's shape `(N, H, W, C)`.
        need_dx: Whether to compute the input gradient.
        workspace: As in `gather_forward`.

    Returns:
        `dx` of shape `x_shape`, or `None` unless `need_dx`, and `dw` of `w`'s shape.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv_gather import gather_backward, gather_forward
        >>> xp, win = namespace("numpy"), window_geometry((3, 3), (2, 2), 1, 0)
        >>> x, w = np.arange(18.0).reshape(1, 3, 3, 2), np.ones((4, 2, 2, 2))
        >>> z, x_rows = gather_forward(xp, x, w, None, win)
        >>> dx, dw = gather_backward(xp, np.ones_like(z), w, win, x_rows, x.shape, True)
        >>> dx[0, :, :, 0].tolist(), dw[0, :, :, 0].tolist()
        ([[4.0, 8.0, 4.0], [8.0, 16.0, 8.0], [4.0, 8.0, 4.0]], [[16.0, 24.0], [40.0, 48.0]])
    """
    n, h, wd, c = x_shape
    f, per, taps, pixels = w.shape[0], win.out[0] * win.out[1], win.size, h * wd
    into_cols, into_dx = gather_indices(xp, h, wd, win, dz.device)
    groups = _groups(xp, n)
    chunk = _chunk_of(xp, dz, groups, win, c, f, h, wd)
    # on the host a strided convolution's input gradient is taken phase by phase (see
    # dx_phases); on a GPU in one gather, as at stride 1: 2 launches, not 3 per phase
    phased = need_dx and win.stride != (1, 1) and not off_host(dz)
    if need_dx:
        dz_rows = rows_with_zero(xp, dz, n, per, workspace, "gather_dz_rows")
        # block t of the rows: tap t's filters transposed, (F, C)
        w_by_tap = xp.permute_dims(w, (1, 2, 0, 3))
        w_taps = xp.reshape(w_by_tap, (taps * f, c))
        dx = xp.empty((n * pixels, c), dtype=dz.dtype, device=dz.device)
    if phased:
        phases = [
            (i0, j0, shape, index, xp.reshape(w_by_tap[ti :: win.stride[0], tj :: win.stride[1], ...], (-1, c)))
            for i0, j0, ti, tj, shape, index in dx_phases(xp, h, wd, win, dz.device)
        ]
        dx_images = xp.reshape(dx, (n, h, wd, c))
    dws: list[Array] = [None] * len(groups)

    def run_group(g):
        cols_buffer = scratch(xp, workspace, f"gather_cols{g}", (chunk, per * taps, c), dz.dtype, dz.device)
        if need_dx:
            taps_buffer = scratch(xp, workspace, f"gather_dtaps{g}", (chunk, pixels * taps, f), dz.dtype, dz.device)
        part = scratch(xp, workspace, f"gather_dw{g}", (f, taps * c), dz.dtype, dz.device)
        for first, count in _chunks(*groups[g], chunk):
            cols = take_indices(xp, x_rows[first : first + count, ...], into_cols, 1, cols_buffer[:count, ...])
            rows = slice(first * per, (first + count) * per)
            product = xp.reshape(cols, (count * per, taps * c))
            if dws[g] is None:  # the group's first chunk: its product is the sum so far
                dws[g] = matmul_into(xp, dz[rows, :].T, product, xp.empty_like(part))
            else:
                dws[g] += matmul_into(xp, dz[rows, :].T, product, part)
            if phased:
                dz_chunk, dx_chunk = dz_rows[first : first + count, ...], dx_images[first : first + count, ...]
                _phases_into(xp, dz_chunk, phases, win.stride, taps_buffer, dx_chunk)
            elif need_dx:
                d_taps = take_indices(xp, dz_rows[first : first + count, ...], into_dx, 1, taps_buffer[:count, ...])
                matmul_into(
                    xp,
                    xp.reshape(d_taps, (count * pixels, taps * f)),
                    w_taps,
                    dx[first * pixels : (first + count) * pixels, :],
                )

    parallel.run(xp, run_group, len(groups))
    dw = xp.reshape(functools.reduce(operator.add, dws), tuple(w.shape))
    return (xp.reshape(dx, tuple(x_shape)) if need_dx else None), dw


def _phases_into(xp, dz_rows, phases, stride, buffer, dx):
    """The input gradient of a chunk of images, phase by phase, into ``dx`` `(count, H, W, C)`:
    each phase's taps gathered from ``dz_rows`` into the front of ``buffer`` (the chunk's
    all-taps buffer, larger than any phase's), one GEMM, one strided write."""
    (sh, sw), count, f = stride, dz_rows.shape[0], dz_rows.shape[2]
    flat = xp.reshape(buffer, (-1,))
    for i0, j0, (rows, columns, taps_down, taps_across), index, w_taps in phases:
        phase = (slice(None), slice(i0, None, sh), slice(j0, None, sw), slice(None))
        if taps_down * taps_across == 0:  # a kernel smaller than the stride: these pixels feed no output
            dx[phase] = 0
            continue
        gathered = xp.reshape(flat[: count * index.shape[0] * f], (count, index.shape[0], f))
        gathered = take_indices(xp, dz_rows, index, 1, gathered)
        product = xp.reshape(gathered, (count * rows * columns, taps_down * taps_across * f)) @ w_taps
        dx[phase] = xp.reshape(product, (count, rows, columns, dx.shape[3]))
