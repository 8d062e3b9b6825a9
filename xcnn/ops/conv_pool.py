"""Convolution followed by max pooling over disjoint windows, in one pass (NHWC).

``conv2d_max_pool2d(x, w, b, pool_size=P)`` equals ``max_pool2d(conv2d(x, w, b), P)`` with
stride P and no pool padding (the usual pooling), gradients included. Why fuse: in NHWC the
cells of a pooling window sit C floats apart, so pooling a conv output reads runs of only C
floats (6 or 9 in the article's and the lecture's networks) and NumPy pays a loop iteration per
run. Here the conv GEMM emits its output already grouped by pooling-window cell, so each cell
of every window is one long contiguous run and the pooling is a few long element-wise ops:

- ``"im2col"``: the window matrix's rows are ordered (cell, n, ohp, owp) (``im2col(...,
  pool)``), so the GEMM output is PH*PW contiguous blocks, one per cell;
- ``"banded"``: the banded GEMM emits its output columns phase-major (``phases`` in
  ``conv.banded_forward``), so in each output row each cell is a contiguous run of OWp*F.

Either way the output is viewed as a grid ``(outer, PH, PW, inner)`` and the cell ``(i, j)``
of every window is ``grid[:, i, j, :]``. The backward keeps a boolean record of which cells
held each window's maximum, not the conv output: less memory held between the two passes.

Whether a Conv2D + MaxPooling2D pair runs fused is decided in one place,
:func:`fuses_with_max_pool`; the model asks it when it builds its graph.

On torch tensors on the CPU (``algorithm="native"``, what ``"auto"`` picks there) the op
runs unfused after all: torch's own convolution, then its own max pooling (its argmax kept
for the backward, see `xcnn.ops.native`). The reason to fuse is NumPy's per-run cost of
short channel runs; torch's pooling kernel has none, and its convolution beats both GEMM
forms (the lecture's conv + pool, forward + backward at batch 100: 3.1 -> 2.6 ms; the
second LeNet-shaped one 2.5 -> 1.0 ms).
"""

from __future__ import annotations

from typing import Any

from .._typing import Array, IntPair, Padding, Shape
from ..backend import array_namespace
from .activations import masked
from .conv import (
    _check_conv_args,
    _geometry,
    _pick_algorithm,
    add_bias,
    conv_algorithm,
    banded_backward,
    banded_forward,
    im2col_backward,
    im2col_forward,
)
from ._geometry import as_pair, padded_shape, window_geometry
from ._workspace import scratch
from .native import (
    native_available,
    native_backward,
    native_forward,
    native_max_pool,
    native_max_pool_backward,
    pads_input,
)
from .pooling import max_pool2d
from .reductions import channel_sum


def _pool_geometry(conv_win, pool_size):
    """Disjoint, unpadded pooling windows over the conv output (floor mode)."""
    return window_geometry(conv_win.out, pool_size, pool_size, 0, kernel_name="pool_size")


def fuses_with_max_pool(
    x_shape: tuple[Any, ...],
    w_shape: Shape,
    stride: IntPair,
    padding: Padding,
    pool_size: IntPair,
    pool_stride: IntPair | None = None,
    pool_padding: Padding = 0,
) -> bool:
    """Whether a convolution followed by a max pool can run as `conv2d_max_pool2d`.

    True when `max_pool2d(conv2d(x, w), pool_size, stride=pool_stride, padding=pool_padding)`
    has disjoint, unpadded pooling windows. The one place that decides. Convolutions that
    `conv_algorithm` runs on the gather path are not fused: the fused op would have to build
    their im2col matrix.

    Args:
        x_shape: The input's shape `(N, H, W, C)` (N may be `None`).
        w_shape: The filters' shape `(F, KH, KW, C)`.
        stride: The convolution's stride, as in `conv2d`.
        padding: The convolution's padding, as in `conv2d`.
        pool_size: The pool's window, as in `max_pool2d`.
        pool_stride: The pool's stride (default `pool_size`).
        pool_padding: The pool's padding.

    Returns:
        `True` if the pair can run fused.

    Raises:
        ValueError: If a window does not fit or a size or padding is invalid (from `window_geometry`).

    Examples:
        >>> from xcnn.ops.conv_pool import fuses_with_max_pool
        >>> fuses_with_max_pool((None, 28, 28, 1), (6, 5, 5, 1), 1, "valid", 2)
        True
        >>> fuses_with_max_pool((None, 28, 28, 1), (6, 5, 5, 1), 1, "valid", 3, pool_stride=2)
        False
    """
    pool_size = as_pair(pool_size, "pool_size")
    if as_pair(pool_size if pool_stride is None else pool_stride, "stride") != pool_size:
        return False
    conv_win = window_geometry(tuple(x_shape[1:3]), tuple(w_shape[1:3]), stride, padding)
    if conv_algorithm(tuple(x_shape), tuple(w_shape), conv_win) == "gather":
        return False  # the conv alone on the gather path, then the separate pool, is faster
    return not window_geometry(conv_win.out, pool_size, pool_size, pool_padding, kernel_name="pool_size").padded


def conv2d_max_pool2d(
    x: Array,
    w: Array,
    b: Array | None = None,
    *,
    stride: IntPair = 1,
    padding: Padding = 0,
    pool_size: IntPair = 2,
    algorithm: str = "auto",
    workspace: dict[str, Array] | None = None,
) -> Array:
    """`max_pool2d(conv2d(x, w, b, stride=stride, padding=padding), pool_size)` in one pass.

    The pooling has stride `pool_size` and no padding. Keeps nothing for a backward (inference).

    Args:
        x: The images `(N, H, W, C)`, float32 or float64, on any backend.
        w: The filters `(F, KH, KW, C)`, of `x`'s dtype.
        b: The bias `(F,)`, or `None`.
        stride: The convolution's stride, as in `conv2d`.
        padding: The convolution's padding, as in `conv2d`.
        pool_size: An int or `(PH, PW)`.
        algorithm: `"auto"`, `"im2col"`, `"banded"` (the fused op has no gather form) or
            `"native"` (torch's conv, then its pool: torch tensors on the CPU only).
        workspace: As in `conv2d_max_pool2d_forward`.

    Returns:
        `(N, OH // PH, OW // PW, F)` in `x`'s dtype.

    Raises:
        ValueError: If the arguments are bad as in `conv2d`, the pool does not fit, or
            `algorithm` is not one of the four (or `"native"` for anything but a torch tensor
            on the CPU).
        TypeError: If `w` has another dtype than `x`, or they are not floating.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.conv_pool import conv2d_max_pool2d
        >>> x, w = np.arange(32.0).reshape(1, 4, 4, 2), np.ones((3, 1, 1, 2))
        >>> y = conv2d_max_pool2d(x, w, np.array([0.0, 1.0, 2.0]))
        >>> y.shape, y[0, :, :, 0].tolist()
        ((1, 2, 2, 3), [[21.0, 29.0], [53.0, 61.0]])
    """
    return _forward(x, w, b, stride, padding, pool_size, algorithm, workspace, for_backward=False)[0]


def _layout(x, w, win, pool, algorithm):
    """``(chosen, outer)``: the algorithm (``"native"``, ``"banded"`` or ``"im2col"``), and for
    the two GEMM forms the leading axis of the ``(outer, PH, PW, inner)`` grid their output is
    viewed as (one output row of windows per grid row for the banded GEMM, a single row for
    im2col). The fused op has no gather form: where ``"auto"`` would pick it for the conv
    alone, it runs im2col (the model does not fuse such pairs, see :func:`fuses_with_max_pool`).
    ``"native"`` is no fusion at all: torch's own convolution, then its own max pooling."""
    if algorithm not in ("auto", "im2col", "banded", "native"):
        raise ValueError(
            f"algorithm must be 'auto', 'im2col', 'banded' or 'native' (the fused conv + max pool has "
            f"no gather form), got {algorithm!r}"
        )
    if algorithm == "auto":  # the host's choice for any batch size (a lone image's is gather, and
        # there is no fused gather: it runs as im2col)
        algorithm = conv_algorithm((None, *x.shape[1:]), tuple(w.shape), win, native=native_available(x))
    chosen = _pick_algorithm(x, w, win, algorithm)
    return chosen, x.shape[0] * pool.out[0] if chosen == "banded" else 1


def _cells(pool):
    """``(i, j)`` of each cell of a pooling window, in row-major order (the tie-break order)."""
    return [divmod(cell, pool.kernel[1]) for cell in range(pool.size)]


def conv2d_max_pool2d_forward(
    x: Array,
    w: Array,
    b: Array | None = None,
    *,
    stride: IntPair = 1,
    padding: Padding = 0,
    pool_size: IntPair = 2,
    algorithm: str = "auto",
    workspace: dict[str, Array] | None = None,
) -> tuple[Array, Array, Array]:
    """`conv2d_max_pool2d` that also returns what its backward needs: `(y, cols, at_max)`.

    Args:
        x: The images `(N, H, W, C)`, float32 or float64, on any backend.
        w: The filters `(F, KH, KW, C)`, of `x`'s dtype.
        b: The bias `(F,)`, or `None`.
        stride: As in `conv2d_max_pool2d`.
        padding: As in `conv2d_max_pool2d`.
        pool_size: As in `conv2d_max_pool2d`.
        algorithm: As in `conv2d_max_pool2d`.
        workspace: A dict the caller keeps between calls (a layer does), so cols is built in
            the same array every step (see `xcnn.ops._workspace`); it is valid until the next
            call with that workspace.

    Returns:
        `y` `(N, OHp, OWp, F)`; `cols`, the GEMM's window matrix
        (`(PH*PW*N*OHp*OWp, KH*KW*C)` for im2col, `(N*OHp*PH, KH*Wp*C)` for the banded GEMM);
        `at_max`, boolean `(outer, PH, PW, inner)`, true at the cells of each window that equal
        its maximum. With `"native"`: `cols` is what `native_backward` reads (the input,
        padded where `native.pads_input`), `at_max` torch's argmax `(N, F, OHp, OWp)`, int64.

    Raises:
        ValueError: As `conv2d_max_pool2d`.
        TypeError: As `conv2d_max_pool2d`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.conv_pool import conv2d_max_pool2d_forward
        >>> x, w = np.arange(32.0).reshape(1, 4, 4, 2), np.ones((3, 1, 1, 2))
        >>> y, cols, at_max = conv2d_max_pool2d_forward(x, w)
        >>> y.shape, cols.shape, at_max.shape, str(at_max.dtype)
        ((1, 2, 2, 3), (16, 2), (1, 2, 2, 12), 'bool')
    """
    return _forward(x, w, b, stride, padding, pool_size, algorithm, workspace, for_backward=True)


def _forward(x, w, b, stride, padding, pool_size, algorithm, workspace, for_backward):
    xp = array_namespace(x, w, b)
    _check_conv_args(xp, x, w, b)
    win = _geometry(x, w, stride, padding)
    pool = _pool_geometry(win, pool_size)
    (ph, pw), (ohp, owp) = pool.kernel, pool.out
    n, f = x.shape[0], w.shape[0]
    chosen, outer = _layout(x, w, win, pool, algorithm)
    if chosen == "native":  # the whole conv output, then torch's pool (its argmax is kept)
        z, kept = native_forward(x, w, b, win, workspace)
        if not for_backward:  # inference: the pooling op's own choice (see takes_native_max_pool)
            return max_pool2d(z, pool.kernel), kept, None
        y, argmax = native_max_pool(z, pool.kernel)
        return y, kept, argmax
    # only the conv outputs some window covers are computed; the bias is added after the
    # max (max(z) + b = max(z + b), b being the same in every cell): a quarter of the adds
    if chosen == "banded":
        z, cols = banded_forward(
            xp, x, w, None, win, phases=pw, out_rows=ohp * ph, workspace=workspace, z_in_workspace=True
        )
    else:
        z, cols = im2col_forward(xp, x, w, None, win, pool, workspace, z_in_workspace=True)
    grid = xp.reshape(z, (outer, ph, pw, -1))
    cells = _cells(pool)
    if len(cells) == 1:  # a 1x1 pool: y must not be a view of z, which may be the workspace's
        y = xp.asarray(grid[:, 0, 0, :], copy=True)
    else:
        y = xp.maximum(grid[:, 0, 0, :], grid[:, cells[1][0], cells[1][1], :])
        for i, j in cells[2:]:
            y = xp.maximum(y, grid[:, i, j, :])
    at_max = grid == xp.reshape(y, (outer, 1, 1, -1)) if for_backward else None
    if b is not None:
        y = add_bias(xp, xp.reshape(y, (n * ohp, owp * f)), b)
    return xp.reshape(y, (n, ohp, owp, f)), cols, at_max


def conv2d_max_pool2d_backward(
    dy: Array,
    x: Array,
    w: Array,
    *,
    stride: IntPair = 1,
    padding: Padding = 0,
    pool_size: IntPair = 2,
    cols: Array,
    at_max: Array,
    need_dx: bool = True,
    algorithm: str = "auto",
    workspace: dict[str, Array] | None = None,
) -> tuple[Array | None, Array, Array]:
    """Gradients of `conv2d_max_pool2d`: `(dx, dw, db)`.

    Each window's gradient goes to its first maximum in row-major order, as
    `max_pool2d_backward` does.

    Args:
        dy: The output gradient `(N, OHp, OWp, F)`.
        x: The forward's input `(N, H, W, C)`.
        w: The filters `(F, KH, KW, C)`.
        stride: As in the forward call.
        padding: As in the forward call.
        pool_size: As in the forward call.
        cols: What `conv2d_max_pool2d_forward` returned (required: the backward does not redo
            the forward's GEMM to find the maxima).
        at_max: What `conv2d_max_pool2d_forward` returned.
        need_dx: `False` skips the input gradient.
        algorithm: As in the forward call.
        workspace: As in the forward (the conv output's gradient is built in `workspace["dz"]`).

    Returns:
        `(dx, dw, db)` with the shapes of `x`, `w` and `(F,)`; `dx` is `None` when `need_dx=False`.

    Raises:
        ValueError: If `dy`, `at_max` or `cols` has not the shape the forward gives, or the
            arguments are bad as in `conv2d_max_pool2d`.
        TypeError: If `at_max` is not boolean (int64 for `"native"`), or `w`'s dtype is not `x`'s.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.conv_pool import conv2d_max_pool2d_backward, conv2d_max_pool2d_forward
        >>> x, w = np.arange(32.0).reshape(1, 4, 4, 2), np.ones((3, 1, 1, 2))
        >>> y, cols, at_max = conv2d_max_pool2d_forward(x, w)
        >>> dx, dw, db = conv2d_max_pool2d_backward(np.ones_like(y), x, w, cols=cols, at_max=at_max)
        >>> dx[0, :, :, 0].tolist()
        [[0.0, 0.0, 0.0, 0.0], [0.0, 3.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0], [0.0, 3.0, 0.0, 3.0]]
        >>> db.tolist()
        [4.0, 4.0, 4.0]
    """
    xp = array_namespace(dy, x, w, cols, at_max)
    _check_conv_args(xp, x, w, None)
    win = _geometry(x, w, stride, padding)
    pool = _pool_geometry(win, pool_size)
    (ph, pw), (ohp, owp) = pool.kernel, pool.out
    (kh, kw), c = win.kernel, x.shape[3]
    n, f = x.shape[0], w.shape[0]
    chosen, outer = _layout(x, w, win, pool, algorithm)
    banded = chosen == "banded"
    windows = n * ohp * owp
    if chosen == "native":
        expected = {
            "dy": (n, ohp, owp, f),
            "at_max": (n, f, ohp, owp),
            "cols": padded_shape(tuple(x.shape), win) if pads_input(win) else tuple(x.shape),
        }
    else:
        expected = {
            "dy": (n, ohp, owp, f),
            "at_max": (outer, ph, pw, windows * f // outer),
            "cols": (n * ohp * ph, kh * padded_shape(tuple(x.shape), win)[2] * c)
            if banded
            else (pool.size * windows, kh * kw * c),
        }
    for name, array in (("dy", dy), ("at_max", at_max), ("cols", cols)):
        if tuple(array.shape) != expected[name]:
            raise ValueError(
                f"{name} must have shape {expected[name]} (see conv2d_max_pool2d_forward), got {tuple(array.shape)}"
            )
    if chosen == "native":
        if at_max.dtype != xp.int64:
            raise TypeError(f"at_max must be the int64 argmax conv2d_max_pool2d_forward returned, got {at_max.dtype}")
        dz = native_max_pool_backward(dy, (n, *win.out, f), pool.kernel, at_max)
        dx, dw, _ = native_backward(dz, cols, w, win, need_dx, need_db=False)
        return dx, dw, channel_sum(dy)
    if at_max.dtype != xp.bool:
        raise TypeError(f"at_max must be the boolean array conv2d_max_pool2d_forward returned, got {at_max.dtype}")
    grad = xp.reshape(dy, (outer, -1))
    dz = scratch(xp, workspace, "dz", tuple(at_max.shape), dy.dtype, dy.device)
    free = None  # the windows no earlier cell claimed: a tie goes to the first cell at the maximum
    cells = _cells(pool)
    for k, (i, j) in enumerate(cells):
        wins = at_max[:, i, j, :]
        if free is not None:
            wins = wins & free
        if k + 1 < len(cells):  # no later cell reads the last one's claims: one kernel saved
            free = ~wins if free is None else free ^ wins  # wins lie within free: xor takes them out
        dz[:, i, j, :] = masked(xp, grad, wins)
    if banded:
        dz = xp.reshape(dz, (n * ohp * ph, pw * owp * f))
        dx, dw = banded_backward(xp, dz, w, win, cols, tuple(x.shape), need_dx, phases=pw)
    else:
        dx, dw = im2col_backward(xp, xp.reshape(dz, (-1, f)), w, win, cols, tuple(x.shape), need_dx, pool)
    # the bias is added after the max, once per window: its gradient is dy's, 4x smaller than dz
    return dx, dw, channel_sum(dy)
