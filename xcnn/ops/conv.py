"""2-D convolution (cross-correlation, as in every deep-learning library), NHWC.

Two ways to turn a convolution into one matmul, chosen by :func:`conv_algorithm`:

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
"""

from __future__ import annotations

import functools

import array_api_extra as xpx

from ..backend import array_namespace
from ._geometry import (
    check_floating, check_images, crop_hw, pad_hw, padded_shape, row_slices, window_geometry, window_slices,
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


def im2col(xp, x_padded, win):
    """The ``(N*OH*OW, KH*KW*C)`` window matrix of padded NHWC input.

    Columns are ordered (kernel row, kernel column, channel), matching ``w.reshape(F, -1)``.
    With one input channel the slices are stacked kernel-offset-major, one contiguous block
    per offset (much faster to build), and the transposed view is returned: matmul reads it
    without a copy.
    """
    n, c = x_padded.shape[0], x_padded.shape[3]
    rows = n * win.out[0] * win.out[1]
    slices = [x_padded[idx] for _, _, idx in window_slices(win)]
    if c == 1:
        return xp.reshape(xp.stack(slices, axis=0), (win.size, rows)).T
    return xp.reshape(xp.stack(slices, axis=3), (rows, win.size * c))


def row_windows(xp, x_padded, win):
    """The ``(N*OH, KH*Wp*C)`` matrix of the banded algorithm: for each output row, the KH
    padded input rows its windows read, side by side."""
    n, _, wp, c = x_padded.shape
    slices = [x_padded[idx] for _, idx in row_slices(win)]
    return xp.reshape(xp.stack(slices, axis=2), (n * win.out[0], win.kernel[0] * wp * c))


def _band_index(xp, w_shape, wp, win, device):
    """Index arrays that place the filter taps in the banded matrix and read them back.

    They depend only on the geometry, so they are memoized per (geometry, device): constants
    like a kernel's launch parameters, not state; building them cost as much as the GEMM.
    A device object that cannot be hashed gets them built afresh.
    """
    try:
        hash(device)
    except TypeError:
        return _build_band_index(xp, w_shape, wp, win, device)
    return _cached_band_index(xp, w_shape, wp, win, device)


def _build_band_index(xp, w_shape, wp, win, device):
    """See :func:`_band_index`.

    Returns ``(into_band, from_band)``: ``take(concat(w.ravel(), [0]), into_band)`` is the banded
    matrix ``(KH*Wp*C, OW*F)`` (``into_band`` points at the trailing 0 off the band); and
    ``take(band.ravel(), from_band)`` of shape ``(F*KH*KW*C, OW)`` lists, for each tap, the
    band cells that hold it (the weight gradient sums them).
    """
    f, kh, kw, c = w_shape
    sw, ow = win.stride[1], win.out[1]
    ints = xp.int64

    def axis(length, at, rank):
        shape = [1] * rank
        shape[at] = length
        return xp.reshape(xp.arange(length, dtype=ints, device=device), tuple(shape))

    # band cell (r, col, ch, j, fo) holds tap (fo, r, col - j*sw, ch) when that is inside the kernel
    r, col, ch, j, fo = (axis(size, at, 5) for at, size in enumerate((kh, wp, c, ow, f)))
    q = col - j * sw
    tap = ((fo * kh + r) * kw + q) * c + ch
    into_band = xp.where((q >= 0) & (q < kw), tap, xp.asarray(f * kh * kw * c, dtype=ints, device=device))
    # tap (fo, r, q, ch) sits at band cell (r, j*sw + q, ch) of output column (j, fo), for each j
    fo, r, q, ch, j = (axis(size, at, 5) for at, size in enumerate((f, kh, kw, c, ow)))
    from_band = ((r * wp + j * sw + q) * c + ch) * (ow * f) + j * f + fo
    return (xp.reshape(into_band, (kh * wp * c, ow * f)),
            xp.reshape(from_band, (f * kh * kw * c, ow)))


_cached_band_index = functools.lru_cache(maxsize=64)(_build_band_index)


def _banded_filters(xp, w, into_band):
    """The banded filter matrix ``(KH*Wp*C, OW*F)``; see :func:`_band_index`."""
    flat = xp.concat([xp.reshape(w, (-1,)), xp.zeros((1,), dtype=w.dtype, device=w.device)])
    return xp.reshape(xp.take(flat, xp.reshape(into_band, (-1,)), axis=0), tuple(into_band.shape))


def col2im(xp, dcols, x_padded_shape, win):
    """Adjoint of :func:`im2col`: add each window column back to where it was read from.

    dcols: ``(N*OH*OW, KH*KW*C)`` -> padded input gradient of shape ``x_padded_shape``.
    """
    n, _, _, c = x_padded_shape
    oh, ow = win.out
    per_offset = xp.reshape(dcols, (n, oh, ow, win.size, c))
    dx_padded = xp.zeros(x_padded_shape, dtype=dcols.dtype, device=dcols.device)
    for k, (_, _, idx) in enumerate(window_slices(win)):
        dx_padded = xpx.at(dx_padded, idx).add(per_offset[:, :, :, k, :])
    return dx_padded


def conv_algorithm(x_shape, w_shape, win):
    """``"banded"`` or ``"im2col"`` for a convolution of this geometry: the one place that chooses.

    The banded GEMM does Wp/KW times the useful arithmetic; up to 4x it is cheaper than
    building, writing and reading an im2col matrix KH*KW times the input (measured on
    NumPy/OpenBLAS, see docs/performance.md). Larger images or small kernels use im2col.
    """
    padded_width = x_shape[2] + sum(win.pads[1])
    return "banded" if padded_width <= 4 * w_shape[2] else "im2col"


def _pick_algorithm(x, w, win, algorithm):
    if algorithm == "auto":
        return conv_algorithm(tuple(x.shape), tuple(w.shape), win)
    if algorithm not in ("im2col", "banded"):
        raise ValueError(f"algorithm must be 'auto', 'im2col' or 'banded', got {algorithm!r}")
    return algorithm


def conv2d(x, w, b=None, *, stride=1, padding=0, algorithm="auto"):
    """2-D convolution of NHWC images.

    x: ``(N, H, W, C)``; w: ``(F, KH, KW, C)``; b: ``(F,)`` or None.
    stride: int or ``(sh, sw)``; padding: int, ``(ph, pw)``, ``((top, bottom), (left, right))``,
    ``"valid"`` or ``"same"``; algorithm: ``"auto"`` (see :func:`conv_algorithm`), ``"im2col"``
    or ``"banded"`` (same result up to float rounding). Returns ``(N, OH, OW, F)`` in the dtype
    of ``x``.
    """
    return conv2d_forward(x, w, b, stride=stride, padding=padding, algorithm=algorithm)[0]


def conv2d_forward(x, w, b=None, *, stride=1, padding=0, algorithm="auto"):
    """:func:`conv2d` that also returns the window matrix its GEMM read.

    That is ``cols`` ``(N*OH*OW, KH*KW*C)`` for im2col, ``rows`` ``(N*OH, KH*Wp*C)`` for the
    banded algorithm. A layer keeps it for :func:`conv2d_backward` (``cols=``), which then
    builds no second one: one buffer of extra memory, built once per step.
    """
    xp = array_namespace(x, w, b)
    _check_conv_args(xp, x, w, b)
    win = _geometry(x, w, stride, padding)
    n, f = x.shape[0], w.shape[0]
    (oh, ow) = win.out
    x_padded = pad_hw(x, win)
    if _pick_algorithm(x, w, win, algorithm) == "banded":
        rows = row_windows(xp, x_padded, win)
        into_band, _ = _band_index(xp, tuple(w.shape), x_padded.shape[2], win, x.device)
        y = rows @ _banded_filters(xp, w, into_band)
        if b is not None:
            y = y + xp.reshape(xp.stack([b] * ow, axis=0), (ow * f,))
        return xp.reshape(y, (n, oh, ow, f)), rows
    cols = im2col(xp, x_padded, win)
    w2 = xp.reshape(w, (f, -1))
    if x.shape[3] == 1:
        # im2col gave the transposed view of a kernel-major block: keep the GEMM's long axis
        # last (w2 @ cols.T), ~1.6x faster on NumPy for the few filters of a first layer
        y = (w2 @ cols.T).T
    else:
        y = cols @ w2.T
    if b is not None:
        y = y + b
    return xp.reshape(y, (n, oh, ow, f)), cols


def conv2d_backward(dy, x, w, *, stride=1, padding=0, need_dx=True, cols=None, algorithm="auto"):
    """Gradients of :func:`conv2d` given the output gradient ``dy``.

    dy: ``(N, OH, OW, F)``; x, w, stride, padding and algorithm as in the forward call; cols:
    the window matrix from :func:`conv2d_forward`, if kept. Returns ``(dx, dw, db)`` with the
    shapes of ``x``, ``w`` and ``(F,)``; ``dx`` is None when ``need_dx=False`` (the first
    layer of a network needs no input gradient).
    """
    xp = array_namespace(dy, x, w)
    _check_conv_args(xp, x, w, None)
    win = _geometry(x, w, stride, padding)
    n, f = x.shape[0], w.shape[0]
    (oh, ow) = win.out
    expected = (n, oh, ow, f)
    if tuple(dy.shape) != expected:
        raise ValueError(f"dy must have the conv2d output shape {expected}, got {tuple(dy.shape)}")
    x_shape = padded_shape(tuple(x.shape), win)
    banded = _pick_algorithm(x, w, win, algorithm) == "banded"
    if banded:
        want = (n * oh, win.kernel[0] * x_shape[2] * x_shape[3])
    else:
        want = (n * oh * ow, win.size * x.shape[3])
    if cols is None:
        cols = (row_windows if banded else im2col)(xp, pad_hw(x, win), win)
    elif tuple(cols.shape) != want:
        raise ValueError(f"cols must be the window matrix conv2d_forward returned, shape {want}, got {tuple(cols.shape)}")
    # a ones-vector GEMV sums rows ~10x faster than sum(axis=0) on NumPy
    ones = xp.ones((cols.shape[0],), dtype=dy.dtype, device=dy.device)
    if banded:
        return _banded_backward(xp, dy, w, win, cols, ones, x_shape, need_dx)
    dy2 = xp.reshape(dy, (-1, f))
    # (cols.T @ dy2).T, not dy2.T @ cols: with few filters the long axis M then runs inside
    # the GEMM's inner product, about twice as fast on NumPy's BLAS
    dw = xp.reshape((cols.T @ dy2).T, tuple(w.shape))
    db = ones @ dy2
    dx = None
    if need_dx:
        dcols = dy2 @ xp.reshape(w, (f, -1))
        dx = crop_hw(col2im(xp, dcols, x_shape, win), win)
    return dx, dw, db


def _banded_backward(xp, dy, w, win, rows, ones, x_padded_shape, need_dx):
    n, wp, c = x_padded_shape[0], x_padded_shape[2], x_padded_shape[3]
    f, kh = w.shape[0], win.kernel[0]
    oh, ow = win.out
    into_band, from_band = _band_index(xp, tuple(w.shape), wp, win, dy.device)
    dy2 = xp.reshape(dy, (n * oh, ow * f))
    d_band = xp.reshape(rows.T @ dy2, (-1,))
    per_tap = xp.reshape(xp.take(d_band, xp.reshape(from_band, (-1,)), axis=0), tuple(from_band.shape))
    dw = xp.reshape(xp.sum(per_tap, axis=1), tuple(w.shape))
    db = xp.sum(xp.reshape(ones @ dy2, (ow, f)), axis=0)
    dx = None
    if need_dx:
        d_rows = xp.reshape(dy2 @ _banded_filters(xp, w, into_band).T, (n, oh, kh, wp, c))
        dx_padded = xp.zeros(x_padded_shape, dtype=dy.dtype, device=dy.device)
        for i, idx in row_slices(win):
            dx_padded = xpx.at(dx_padded, idx).add(d_rows[:, :, i, :, :])
        dx = crop_hw(dx_padded, win)
    return dx, dw, db
