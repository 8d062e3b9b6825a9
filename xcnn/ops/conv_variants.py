"""Convolutions built from :func:`.conv2d` and :func:`.conv2d_backward`: dilated, grouped
(depthwise is groups = channels) and transposed, each forward beside its backward.

Filters are ``(F, KH, KW, C / groups)`` as everywhere in xcnn. These paths favour clarity over
speed: a dilated kernel is the kernel with zeros between its taps, a grouped convolution is one
convolution per group, and a transposed convolution is the adjoint of a convolution. On torch
tensors on the CPU the dilated and grouped ones are torch's own convolution instead, which
takes dilation and groups itself (`xcnn.ops.native`): a depthwise 3x3 convolution of 128
images of 32x32x32, forward + backward, took 230 ms on the array-API path and 6.4 ms there.
"""

from __future__ import annotations

from .._typing import Array, IntPair, Padding
from ..backend import array_namespace
from ._geometry import Window, dilated_extent, window_geometry
from .conv import _check_conv_args, conv2d, conv2d_backward
from .native import native_available, native_backward, native_forward, native_input
from .reductions import channel_sum


def dilate_kernel(w: Array, rate: tuple[int, int]) -> Array:
    """The kernel with `rh - 1` / `rw - 1` zeros between its taps.

    Convolving with it is the dilated (atrous) convolution.

    Args:
        w: The filters `(F, KH, KW, C)`.
        rate: `(rh, rw)`, the distance between taps.

    Returns:
        `(F, (KH-1)*rh + 1, (KW-1)*rw + 1, C)` of `w`'s dtype (`w` itself for rate `(1, 1)`).

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.conv_variants import dilate_kernel
        >>> dilate_kernel(np.ones((1, 2, 2, 1)), (2, 2))[0, :, :, 0].tolist()
        [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]
    """
    rh, rw = rate
    if (rh, rw) == (1, 1):
        return w
    xp = array_namespace(w)
    f, _, _, c = w.shape
    out = xp.zeros((f, *dilated_extent(w.shape[1:3], rate), c), dtype=w.dtype, device=w.device)
    out[:, ::rh, ::rw, :] = w
    return out


def _split(a, groups, axis_size):
    size = axis_size // groups
    return [a[..., g * size : (g + 1) * size] for g in range(groups)]


def _check_groups(x, w, groups):
    if x.shape[-1] != w.shape[-1] * groups or w.shape[0] % groups:
        raise ValueError(
            f"groups={groups} needs x's channels ({x.shape[-1]}) = groups * w.shape[3] "
            f"({w.shape[-1]}) and w.shape[0] ({w.shape[0]}) divisible by groups"
        )


def conv2d_general(
    x: Array,
    w: Array,
    b: Array | None = None,
    stride: IntPair = 1,
    padding: Padding = "valid",
    dilation: tuple[int, int] = (1, 1),
    groups: int = 1,
) -> Array:
    """Dilated and grouped convolution of NHWC images.

    Taps are `dilation` apart; input channels and filters are split into `groups`
    independent convolutions (depthwise is groups = channels).

    Args:
        x: The images `(N, H, W, C)`, float32 or float64, on any backend.
        w: The filters `(F, KH, KW, C / groups)`, of `x`'s dtype.
        b: The bias `(F,)`, or `None`.
        stride: As in `conv2d`.
        padding: As in `conv2d`.
        dilation: `(rh, rw)`, the distance between taps.
        groups: How many groups the channels and filters are split into.

    Returns:
        `(N, OH, OW, F)` in `x`'s dtype.

    Raises:
        ValueError: If C is not `groups * w.shape[3]` or F is not divisible by `groups`, or
            the arguments are bad as in `conv2d`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.conv_variants import conv2d_general
        >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
        >>> conv2d_general(x, np.ones((1, 2, 2, 1)), dilation=(2, 2))[0, :, :, 0].tolist()
        [[20.0, 24.0], [36.0, 40.0]]
        >>> conv2d_general(np.ones((1, 3, 3, 2)), np.ones((2, 2, 2, 1)), groups=2).shape
        (1, 2, 2, 2)
    """
    xp = array_namespace(x, w)
    _check_groups(x, w, groups)
    if native_available(x):
        win = _native_geometry(x, w, b, stride, padding, dilation)
        return native_forward(x, w, b, win, dilation=dilation, groups=groups)[0]
    wd = dilate_kernel(w, dilation)
    if groups == 1:
        return conv2d(x, wd, b, stride=stride, padding=padding)
    parts = [
        conv2d(xg, wg, None, stride=stride, padding=padding)
        for xg, wg in zip(_split(x, groups, x.shape[-1]), _filters(wd, groups))
    ]
    y = xp.concat(parts, axis=-1)
    return y if b is None else y + b


def _native_geometry(x: Array, w: Array, b: Array | None, stride: IntPair, padding: Padding, dilation) -> Window:
    """The `Window` of the dilated kernel's extent, for torch's own convolution; the arguments
    checked as each group's `conv2d` checks them on the portable path."""
    _check_conv_args(array_namespace(x, w, b), x[..., : w.shape[3]], w, b)
    return window_geometry(tuple(x.shape[1:3]), dilated_extent(w.shape[1:3], dilation), stride, padding)


def _filters(w, groups):
    size = w.shape[0] // groups
    return [w[g * size : (g + 1) * size, ...] for g in range(groups)]


def conv2d_general_backward(
    dy: Array,
    x: Array,
    w: Array,
    stride: IntPair = 1,
    padding: Padding = "valid",
    dilation: tuple[int, int] = (1, 1),
    groups: int = 1,
    need_dx: bool = True,
) -> tuple[Array | None, Array, Array]:
    """Gradients of `conv2d_general`: `(dx, dw, db)`.

    Args:
        dy: The output gradient `(N, OH, OW, F)`.
        x: The forward's input `(N, H, W, C)`.
        w: The filters `(F, KH, KW, C / groups)`.
        stride: As in the forward call.
        padding: As in the forward call.
        dilation: As in the forward call.
        groups: As in the forward call.
        need_dx: `False` skips the input gradient.

    Returns:
        `(dx, dw, db)` with the shapes of `x`, `w` and `(F,)`; `dx` is `None` when `need_dx=False`.

    Raises:
        ValueError: If C is not `groups * w.shape[3]` or F is not divisible by `groups`, `dy`
            is not the forward's output shape, or the arguments are bad as in `conv2d`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.conv_variants import conv2d_general, conv2d_general_backward
        >>> x, w = np.ones((1, 3, 3, 2)), np.ones((2, 2, 2, 1))
        >>> y = conv2d_general(x, w, groups=2)
        >>> dx, dw, db = conv2d_general_backward(np.ones_like(y), x, w, groups=2)
        >>> dx[0, :, :, 0].tolist(), dw.shape, db.tolist()
        ([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]], (2, 2, 2, 1), [4.0, 4.0])
    """
    xp = array_namespace(dy, x, w)
    _check_groups(x, w, groups)
    if native_available(x):
        win = _native_geometry(x, w, None, stride, padding, dilation)
        expected = (x.shape[0], *win.out, w.shape[0])
        if tuple(dy.shape) != expected:
            raise ValueError(f"dy must have the conv2d_general output shape {expected}, got {tuple(dy.shape)}")
        dx, dw, _ = native_backward(dy, native_input(x, win), w, win, need_dx, False, dilation, groups)
        return dx, dw, channel_sum(dy)
    rh, rw = dilation
    wd = dilate_kernel(w, dilation)
    dxs, dws = [], []
    for xg, wg, dyg in zip(_split(x, groups, x.shape[-1]), _filters(wd, groups), _split(dy, groups, dy.shape[-1])):
        dxg, dwg, _ = conv2d_backward(dyg, xg, wg, stride=stride, padding=padding, need_dx=need_dx, need_db=False)
        dxs.append(dxg)
        dws.append(dwg[:, ::rh, ::rw, :])  # the taps of the dilated kernel that are weights
    dx = (dxs[0] if groups == 1 else xp.concat(dxs, axis=-1)) if need_dx else None
    dw = dws[0] if groups == 1 else xp.concat(dws, axis=0)
    return dx, dw, channel_sum(dy)


def conv2d_transpose_padding(size: int, kernel: int, stride: int, padding: str) -> tuple[int, tuple[int, int]]:
    """Output size and padding of a transposed convolution along one axis, as Keras computes them.

    No output_padding: `"valid"` gives `size*stride + max(kernel - stride, 0)`, `"same"`
    gives `size*stride`.

    Args:
        size: The input size along the axis.
        kernel: The kernel size along the axis.
        stride: The stride along the axis.
        padding: `"valid"` or `"same"` (anything else is taken as `"same"`).

    Returns:
        `(output size, (before, after))`, the padding of the convolution it is the adjoint of.

    Examples:
        >>> from xcnn.ops.conv_variants import conv2d_transpose_padding
        >>> conv2d_transpose_padding(3, 3, 2, "valid"), conv2d_transpose_padding(3, 3, 2, "same")
        ((7, (0, 0)), (6, (0, 1)))
    """
    if padding == "valid":
        return size * stride + max(kernel - stride, 0), (0, 0)
    total = max(kernel - stride, 0)
    return size * stride, (total // 2, total - total // 2)


def conv2d_transpose(
    x: Array, w: Array, b: Array | None = None, stride: tuple[int, int] = (1, 1), padding: str = "valid"
) -> Array:
    """Transposed convolution of NHWC images.

    The adjoint of the convolution with `w` that maps `(N, OH, OW, F)` to `x`'s shape.

    Args:
        x: The images `(N, H, W, C)`, float32 or float64, on any backend.
        w: The filters `(C, KH, KW, F)`, of `x`'s dtype.
        b: The bias `(F,)`, or `None`.
        stride: `(sh, sw)`.
        padding: `"valid"` or `"same"`.

    Returns:
        `(N, OH, OW, F)` with OH, OW from `conv2d_transpose_padding`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.conv_variants import conv2d_transpose
        >>> y = conv2d_transpose(np.ones((1, 2, 2, 1)), np.ones((1, 3, 3, 1)), stride=(2, 2))
        >>> y.shape, y[0, 2, :, 0].tolist()
        ((1, 5, 5, 1), [2.0, 2.0, 4.0, 2.0, 2.0])
    """
    xp = array_namespace(x, w)
    (oh, pads_h), (ow, pads_w) = (
        conv2d_transpose_padding(n, k, s, padding) for n, k, s in zip(x.shape[1:3], w.shape[1:3], stride)
    )
    canvas = xp.zeros((x.shape[0], oh, ow, w.shape[3]), dtype=x.dtype, device=x.device)
    y, _, _ = conv2d_backward(x, canvas, w, stride=stride, padding=(pads_h, pads_w), need_db=False)
    return y if b is None else y + b


def conv2d_transpose_backward(
    dy: Array, x: Array, w: Array, stride: tuple[int, int] = (1, 1), padding: str = "valid", need_dx: bool = True
) -> tuple[Array | None, Array, Array]:
    """Gradients of `conv2d_transpose`: `(dx, dw, db)`.

    The input gradient is the convolution itself; the filter gradient is that convolution's,
    with the roles of input and output gradient exchanged.

    Args:
        dy: The output gradient `(N, OH, OW, F)`.
        x: The forward's input `(N, H, W, C)`.
        w: The filters `(C, KH, KW, F)`.
        stride: As in the forward call.
        padding: As in the forward call.
        need_dx: `False` skips the input gradient.

    Returns:
        `(dx, dw, db)` with the shapes of `x`, `w` and `(F,)`; `dx` is `None` when `need_dx=False`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.conv_variants import conv2d_transpose, conv2d_transpose_backward
        >>> x, w = np.ones((1, 2, 2, 1)), np.ones((1, 3, 3, 1))
        >>> y = conv2d_transpose(x, w, stride=(2, 2))
        >>> dx, dw, db = conv2d_transpose_backward(np.ones_like(y), x, w, stride=(2, 2))
        >>> dx[0, :, :, 0].tolist(), db.tolist()
        ([[9.0, 9.0], [9.0, 9.0]], [25.0])
    """
    (_, pads_h), (_, pads_w) = (
        conv2d_transpose_padding(n, k, s, padding) for n, k, s in zip(x.shape[1:3], w.shape[1:3], stride)
    )
    pads = (pads_h, pads_w)
    dx = conv2d(dy, w, None, stride=stride, padding=pads) if need_dx else None
    _, dw, _ = conv2d_backward(x, dy, w, stride=stride, padding=pads, need_dx=False, need_db=False)
    return dx, dw, channel_sum(dy)
