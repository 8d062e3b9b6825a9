"""2-D convolution (cross-correlation, as in every deep-learning library), NHWC.

Forward: the KH*KW strided slices of the padded input are gathered into one im2col matrix
``cols`` of shape ``(N*OH*OW, KH*KW*C)`` and multiplied by the filters once. Backward: the
weight gradient is one matmul with the same ``cols``; the input gradient is one matmul
followed by KH*KW slice-adds back into the padded input.
"""

from __future__ import annotations

import array_api_extra as xpx

from ..backend import array_namespace
from ._geometry import (
    check_floating, check_images, crop_hw, pad_hw, padded_shape, window_geometry, window_slices,
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


def conv2d(x, w, b=None, *, stride=1, padding=0):
    """2-D convolution of NHWC images.

    x: ``(N, H, W, C)``; w: ``(F, KH, KW, C)``; b: ``(F,)`` or None.
    stride: int or ``(sh, sw)``; padding: int, ``(ph, pw)``, ``((top, bottom), (left, right))``,
    ``"valid"`` or ``"same"``. Returns ``(N, OH, OW, F)`` in the dtype of ``x``.
    """
    return conv2d_forward(x, w, b, stride=stride, padding=padding)[0]


def conv2d_forward(x, w, b=None, *, stride=1, padding=0):
    """:func:`conv2d` that also returns its im2col matrix ``(N*OH*OW, KH*KW*C)``.

    A layer keeps the matrix for :func:`conv2d_backward` (``cols=``), which then needs no
    second im2col: one buffer of extra memory, built once per step.
    """
    xp = array_namespace(x, w, b)
    _check_conv_args(xp, x, w, b)
    win = _geometry(x, w, stride, padding)
    n, f = x.shape[0], w.shape[0]
    cols = im2col(xp, pad_hw(x, win), win)
    w2 = xp.reshape(w, (f, -1))
    if x.shape[3] == 1:
        # im2col gave the transposed view of a kernel-major block: keep the GEMM's long axis
        # last (w2 @ cols.T), ~1.6x faster on NumPy for the few filters of a first layer
        y = (w2 @ cols.T).T
    else:
        y = cols @ w2.T
    if b is not None:
        y = y + b
    return xp.reshape(y, (n, win.out[0], win.out[1], f)), cols


def conv2d_backward(dy, x, w, *, stride=1, padding=0, need_dx=True, cols=None):
    """Gradients of :func:`conv2d` given the output gradient ``dy``.

    dy: ``(N, OH, OW, F)``; x, w as in the forward call (same stride and padding); cols: the
    im2col matrix from :func:`conv2d_forward`, if kept. Returns ``(dx, dw, db)`` with the
    shapes of ``x``, ``w`` and ``(F,)``; ``dx`` is None when ``need_dx=False`` (the first
    layer of a network needs no input gradient).
    """
    xp = array_namespace(dy, x, w)
    _check_conv_args(xp, x, w, None)
    win = _geometry(x, w, stride, padding)
    n, f = x.shape[0], w.shape[0]
    expected = (n, win.out[0], win.out[1], f)
    if tuple(dy.shape) != expected:
        raise ValueError(f"dy must have the conv2d output shape {expected}, got {tuple(dy.shape)}")
    if cols is None:
        cols = im2col(xp, pad_hw(x, win), win)
    elif tuple(cols.shape) != (n * win.out[0] * win.out[1], win.size * x.shape[3]):
        raise ValueError(f"cols must be the im2col matrix of x, shape {(n * win.out[0] * win.out[1], win.size * x.shape[3])}")
    dy2 = xp.reshape(dy, (-1, f))
    # (cols.T @ dy2).T, not dy2.T @ cols: with few filters the long axis M then runs inside
    # the GEMM's inner product, about twice as fast on NumPy's BLAS
    dw = xp.reshape((cols.T @ dy2).T, tuple(w.shape))
    # a ones-vector GEMV sums the N*OH*OW rows ~10x faster than sum(axis=0) on NumPy
    db = xp.ones((dy2.shape[0],), dtype=dy2.dtype, device=dy2.device) @ dy2
    dx = None
    if need_dx:
        dcols = dy2 @ xp.reshape(w, (f, -1))
        dx = crop_hw(col2im(xp, dcols, padded_shape(tuple(x.shape), win), win), win)
    return dx, dw, db
