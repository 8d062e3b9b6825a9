"""The CNN article's functions, with its exact names, signatures and layout, on any backend.

A reader of the "implement deep learning yourself" article can replace the loop versions of
these functions with ``from xcnn.scratch import *`` and keep the rest of the code. Images are
NHWC ``(N, H, W, C)``, filters ``(F, KH, KW, C)``, biases ``(F,)``; arrays may come from any
backend in :mod:`xcnn.backend`. Each function forwards to :mod:`xcnn.ops`.
"""

from __future__ import annotations

from . import ops

__all__ = [
    "convolution2d", "convolution2d_back", "max_pooling2d", "max_pooling2d_back",
    "average_pooling2d", "average_pooling2d_back", "flatten2d", "flatten2d_back",
]


def convolution2d(u, W, b, padding=0, strides=1):
    """Convolution: u ``(N, H, W, C)``, W ``(F, KH, KW, C)``, b ``(F,)`` -> ``(N, OH, OW, F)``."""
    return ops.conv2d(u, W, b, stride=strides, padding=padding)


def convolution2d_back(dz, u, W, b, padding=0, strides=1, calc_du_flag=True):
    """Gradients of :func:`convolution2d` -> ``(du, dW, db)``; du is None without ``calc_du_flag``."""
    return ops.conv2d_backward(dz, u, W, stride=strides, padding=padding, need_dx=calc_du_flag)


def max_pooling2d(u, pool_size=2, padding=0, strides=None):
    """Max pooling: u ``(N, H, W, C)`` -> ``(N, OH, OW, C)``; strides default to pool_size."""
    return ops.max_pool2d(u, pool_size, stride=strides, padding=padding)


def max_pooling2d_back(dz, u, z, pool_size=2, padding=0, strides=None):
    """Gradient of :func:`max_pooling2d` -> du; ``z`` (the forward output) is accepted as in
    the article, and recomputed inside so a stale ``z`` cannot corrupt the gradient."""
    return ops.max_pool2d_backward(dz, u, pool_size, stride=strides, padding=padding)


def average_pooling2d(u, pool_size=2, padding=0, strides=None):
    """Average pooling: u ``(N, H, W, C)`` -> ``(N, OH, OW, C)``; padded cells count as zeros."""
    return ops.avg_pool2d(u, pool_size, stride=strides, padding=padding)


def average_pooling2d_back(dz, u, z, pool_size=2, padding=0, strides=None):
    """Gradient of :func:`average_pooling2d` -> du."""
    return ops.avg_pool2d_backward(dz, u, pool_size, stride=strides, padding=padding)


def flatten2d(u):
    """``(N, H, W, C)`` -> ``(N, H*W*C)``."""
    return ops.flatten(u)


def flatten2d_back(dz, u, z):
    """Gradient of :func:`flatten2d` -> du with the shape of ``u``."""
    return ops.flatten_backward(dz, u.shape)
