"""The "gather" convolution: im2col and its adjoint as one indexed gather each.

On a GPU a convolution's cost at these sizes is as much its kernel launches as its arithmetic.
The slice-copying algorithms of :mod:`.conv` launch one copy per kernel tap (im2col's window
matrix, the shift algorithm's shifted operands) and one fill per padded border; here each
direction is a single ``take``:

- forward: each image, flattened to ``(H*W, C)``, gets one zero row appended; a cached index
  ``(OH*OW*KH*KW,)`` names, for every output pixel and kernel tap, the input row the tap reads
  (the zero row where it falls in the padding), so ``take`` along the pixel axis *is* the
  im2col matrix ``(N*OH*OW, KH*KW*C)``, padding included, and one GEMM with the filters gives
  the output. The matrix is kept for the weight gradient, as im2col keeps it.
- input gradient: the adjoint of that gather is a scatter-add, which the array API lacks.
  But each input pixel receives, through tap (i, j), from at most one output pixel (the one
  whose window put tap (i, j) on it, when the stride lands there), so the input gradient is a
  gather too: an index ``(H*W*KH*KW,)`` over the output gradient's pixels (plus a zero row)
  lays out ``(N*H*W, KH*KW*F)``, and one GEMM with the filters arranged tap-major
  ``(KH*KW*F, C)`` sums every tap's contribution. Any stride and padding; at stride s the
  gathered matrix is mostly zeros (s*s times the forward's arithmetic), which a GPU absorbs
  more cheaply than the launches of a strided scatter.

Forward and backward are 4 and 6 launches whatever the kernel size. On the CPU the slice
algorithms are faster (each copy streams through cache, where a gather reads through an
index), so :func:`~xcnn.ops.conv.conv_algorithm` picks "gather" only for arrays off the host.
"""

from __future__ import annotations

import functools

from .._typing import Array, Namespace, Shape
from ..backend import Unkeyed, device_key, take_indices
from ._geometry import Window


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


def _rows_with_zero(xp, images, n, pixels):
    """``images`` (N images of ``pixels`` rows, in any shape) as ``(N, pixels + 1, channels)``:
    each image's pixels, then a zero row."""
    channels = images.shape[-1]
    flat = xp.reshape(images, (n, pixels, channels))
    zero = xp.zeros((n, 1, channels), dtype=images.dtype, device=images.device)
    return xp.concat([flat, zero], axis=1)


def gather_forward(xp: Namespace, x: Array, w: Array, b: Array | None, win: Window) -> tuple[Array, Array]:
    """The gather convolution: `(z, cols)`.

    Args:
        xp: The arrays' namespace.
        x: The input `(N, H, W, C)`, float32 or float64.
        w: The filters `(F, KH, KW, C)`, of `x`'s dtype.
        b: The bias `(F,)`, or `None`.
        win: The convolution's `Window` (any stride and padding).

    Returns:
        `z` `(N*OH*OW, F)`, the output in NHWC order, and `cols` `(N*OH*OW, KH*KW*C)`, the
        im2col matrix (the same as `xcnn.ops.conv.im2col`'s), which the backward reuses.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv_gather import gather_forward
        >>> x, w, b = np.arange(18.0).reshape(1, 3, 3, 2), np.ones((4, 2, 2, 2)), np.arange(4.0)
        >>> z, cols = gather_forward(namespace("numpy"), x, w, b, window_geometry((3, 3), (2, 2), 1, 0))
        >>> z.shape, cols.shape, z[:, 0].tolist()
        ((4, 4), (4, 8), [36.0, 52.0, 84.0, 100.0])
    """
    n, h, wd, c = x.shape
    f = w.shape[0]
    into_cols, _ = gather_indices(xp, h, wd, win, x.device)
    cols = take_indices(xp, _rows_with_zero(xp, x, n, h * wd), into_cols, 1)
    cols = xp.reshape(cols, (n * win.out[0] * win.out[1], win.size * c))
    z = cols @ xp.reshape(w, (f, -1)).T
    if b is not None:
        z += b  # one broadcast add: on a GPU, fewer launches than tiling the bias first
    return z, cols


def gather_backward(
    xp: Namespace, dz: Array, w: Array, win: Window, cols: Array, x_shape: Shape, need_dx: bool
) -> tuple[Array | None, Array]:
    """Gradients of `gather_forward` from its output gradient: `(dx, dw)`.

    The bias gradient is the caller's, as in `xcnn.ops.conv.im2col_backward`.

    Args:
        xp: The arrays' namespace.
        dz: The gradient `(N*OH*OW, F)` w.r.t. `gather_forward`'s z.
        w: The filters `(F, KH, KW, C)`.
        win: The convolution's `Window`.
        cols: The window matrix `gather_forward` returned.
        x_shape: The input's shape `(N, H, W, C)`.
        need_dx: Whether to compute the input gradient.

    Returns:
        `dx` of shape `x_shape`, or `None` unless `need_dx`, and `dw` of `w`'s shape.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.conv_gather import gather_backward, gather_forward
        >>> xp, win = namespace("numpy"), window_geometry((3, 3), (2, 2), 1, 0)
        >>> x, w = np.arange(18.0).reshape(1, 3, 3, 2), np.ones((4, 2, 2, 2))
        >>> z, cols = gather_forward(xp, x, w, None, win)
        >>> dx, dw = gather_backward(xp, np.ones_like(z), w, win, cols, x.shape, True)
        >>> dx[0, :, :, 0].tolist(), dw[0, :, :, 0].tolist()
        ([[4.0, 8.0, 4.0], [8.0, 16.0, 8.0], [4.0, 8.0, 4.0]], [[16.0, 24.0], [40.0, 48.0]])
    """
    n, h, wd, c = x_shape
    f = w.shape[0]
    dw = xp.reshape(dz.T @ cols, tuple(w.shape))
    if not need_dx:
        return None, dw
    _, into_dx = gather_indices(xp, h, wd, win, dz.device)
    d_taps = take_indices(xp, _rows_with_zero(xp, dz, n, win.out[0] * win.out[1]), into_dx, 1)
    # block t of the rows: tap t's filters transposed, (F, C)
    w_taps = xp.reshape(xp.permute_dims(w, (1, 2, 0, 3)), (win.size * f, c))
    dx = xp.reshape(xp.reshape(d_taps, (n * h * wd, win.size * f)) @ w_taps, tuple(x_shape))
    return dx, dw
