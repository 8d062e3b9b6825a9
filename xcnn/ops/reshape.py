"""Flatten NHWC feature maps into vectors for Dense layers."""

from __future__ import annotations

import math

from ..backend import array_namespace


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
