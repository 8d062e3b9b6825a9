"""Max and average pooling over NHWC images, each forward beside its backward.

Windows are the KH*KW strided slices of the padded input (see ``_geometry``); reductions
run slice by slice, so no ``(..., KH*KW)`` stack is ever built.
"""

from __future__ import annotations

import math

import array_api_extra as xpx

from ..backend import array_namespace
from .activations import masked
from ._geometry import (
    check_images, check_same_shape, crop_hw, pad_hw, padded_shape, window_geometry, window_slices,
)


def _pool_geometry(x, pool_size, stride, padding):
    win = window_geometry(
        tuple(x.shape[1:3]), pool_size, pool_size if stride is None else stride, padding,
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
    y = None
    for _, _, idx in window_slices(win):
        y = x_padded[idx] if y is None else xp.maximum(y, x_padded[idx])
    return y


def max_pool2d(x, pool_size=2, *, stride=None, padding=0):
    """Max pooling. x: ``(N, H, W, C)`` -> ``(N, OH, OW, C)``.

    ``stride`` defaults to ``pool_size``; padded cells never win (they hold -inf).
    """
    xp = array_namespace(x)
    check_images(xp, x)
    win = _pool_geometry(x, pool_size, stride, padding)
    return _max_over_windows(xp, pad_hw(x, win, -math.inf), win)


def max_pool2d_backward(dy, x, pool_size=2, *, stride=None, padding=0, y=None):
    """Gradient of :func:`max_pool2d`: each window's ``dy`` goes to its maximum.

    Ties go to the first maximum in row-major window order (as ``argmax`` would pick).
    dy: ``(N, OH, OW, C)``; y: the forward output, if kept (saves recomputing it).
    Returns dx with the shape of x.
    """
    xp = array_namespace(dy, x, y)
    check_images(xp, x)
    win = _pool_geometry(x, pool_size, stride, padding)
    _check_dy(dy, x, win)
    x_padded = pad_hw(x, win, -math.inf)
    if y is None:
        y = _max_over_windows(xp, x_padded, win)
    else:
        check_same_shape(y, dy, "y", "dy")
    dx_padded = xp.zeros(x_padded.shape, dtype=x.dtype, device=x.device)
    taken = None
    # disjoint windows: each input cell is written once, so set instead of read-add-write
    update = "set" if win.stride[0] >= win.kernel[0] and win.stride[1] >= win.kernel[1] else "add"
    for _, _, idx in window_slices(win):
        wins = x_padded[idx] == y
        if taken is None:
            taken = wins
        else:
            wins = wins & ~taken
            taken = taken | wins
        dx_padded = getattr(xpx.at(dx_padded, idx), update)(masked(xp, dy, wins))
    return crop_hw(dx_padded, win)


def _window_counts(xp, x, win, count_include_pad):
    """How many cells each window averages: a Python number, or ``(1, OH, OW, 1)``."""
    if count_include_pad or not win.padded:
        return win.size
    ones = xp.ones((1, x.shape[1], x.shape[2], 1), dtype=x.dtype, device=x.device)
    ones = pad_hw(ones, win, 0.0)
    return sum(ones[idx] for _, _, idx in window_slices(win))


def avg_pool2d(x, pool_size=2, *, stride=None, padding=0, count_include_pad=True):
    """Average pooling. x: ``(N, H, W, C)`` -> ``(N, OH, OW, C)``.

    With ``count_include_pad=False`` padded cells are left out of each mean (Keras's
    ``padding="same"`` behaviour); with True they count as zeros (PyTorch's default).
    """
    xp = array_namespace(x)
    check_images(xp, x)
    win = _pool_geometry(x, pool_size, stride, padding)
    x_padded = pad_hw(x, win, 0.0)
    total = sum(x_padded[idx] for _, _, idx in window_slices(win))
    return total / _window_counts(xp, x, win, count_include_pad)


def avg_pool2d_backward(dy, x, pool_size=2, *, stride=None, padding=0, count_include_pad=True):
    """Gradient of :func:`avg_pool2d`: each window's ``dy`` is shared out evenly.

    dy: ``(N, OH, OW, C)``; returns dx with the shape of x.
    """
    xp = array_namespace(dy, x)
    check_images(xp, x)
    win = _pool_geometry(x, pool_size, stride, padding)
    _check_dy(dy, x, win)
    share = dy / _window_counts(xp, x, win, count_include_pad)
    dx_padded = xp.zeros(padded_shape(tuple(x.shape), win), dtype=x.dtype, device=x.device)
    for _, _, idx in window_slices(win):
        dx_padded = xpx.at(dx_padded, idx).add(share)
    return crop_hw(dx_padded, win)
