"""Ops that only move values: flatten, zero padding, nearest-neighbour upsampling."""

from __future__ import annotations

import math

from ..backend import array_namespace
from ._geometry import pad_images


def flatten(x):
    """``(N, d1, d2, ...)`` -> ``(N, d1*d2*...)``, in row-major (H, W, C) order as Keras does."""
    xp = array_namespace(x)
    if x.ndim < 2:
        raise ValueError(f"x must have a batch axis and at least one more, got shape {tuple(x.shape)}")
    return xp.reshape(x, (x.shape[0], -1))


def flatten_backward(dy, x_shape):
    """Gradient of :func:`flatten`: ``dy`` of shape ``(N, prod(x_shape[1:]))`` -> ``x_shape``."""
    xp = array_namespace(dy)
    x_shape = tuple(x_shape)
    if tuple(dy.shape) != (x_shape[0], math.prod(x_shape[1:])):
        raise ValueError(
            f"dy must have shape {(x_shape[0], math.prod(x_shape[1:]))} for x_shape {x_shape}, "
            f"got {tuple(dy.shape)}"
        )
    return xp.reshape(dy, x_shape)


def zero_pad2d(x, pads):
    """NHWC ``x`` padded with zeros by ``pads = ((top, bottom), (left, right))``:
    ``(N, H, W, C)`` -> ``(N, top + H + bottom, left + W + right, C)``."""
    return pad_images(x, pads, 0.0)


def zero_pad2d_backward(dy, pads):
    """Gradient of :func:`zero_pad2d`: the padding cut off ``dy``."""
    (top, bottom), (left, right) = pads
    return dy[:, top:dy.shape[1] - bottom, left:dy.shape[2] - right, :]


def upsample_nearest2d(x, size):
    """Each pixel of NHWC ``x`` repeated ``size = (sh, sw)`` times along H and W:
    ``(N, H, W, C)`` -> ``(N, H * sh, W * sw, C)`` (Keras's UpSampling2D, nearest)."""
    xp = array_namespace(x)
    n, h, w, c = x.shape
    sh, sw = size
    blocks = xp.broadcast_to(xp.reshape(x, (n, h, 1, w, 1, c)), (n, h, sh, w, sw, c))
    return xp.reshape(blocks, (n, h * sh, w * sw, c))


def upsample_nearest2d_backward(dy, size):
    """Gradient of :func:`upsample_nearest2d`: each ``sh x sw`` block of ``dy`` summed."""
    xp = array_namespace(dy)
    n, hs, ws, c = dy.shape
    sh, sw = size
    return xp.sum(xp.reshape(dy, (n, hs // sh, sh, ws // sw, sw, c)), axis=(2, 4))
