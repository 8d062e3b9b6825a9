"""Activation functions, each forward beside its backward.

Element-wise activations have the signatures ``f(x) -> y`` and ``f_backward(dy, x, y) -> dx``
so a layer can keep ``x`` and ``y`` and call either. Those with extra arguments (a learnable
slope, a random slope, a cap, a number of pieces) take them as keywords.
"""

from __future__ import annotations

from ..backend import array_namespace


def masked(xp, dy, keep):
    """``dy`` where ``keep`` else 0, as ``dy * keep``: several times faster than ``where``
    on NumPy when the mask is irregular (as after ReLU), and portable."""
    return dy * xp.astype(keep, dy.dtype)


def linear(x):
    """Identity."""
    return x


def linear_backward(dy, x, y):
    return dy


def relu(x):
    """``max(x, 0)``. (A Python scalar operand, not a 0-d array: one kernel on a GPU, not two.)"""
    xp = array_namespace(x)
    return xp.maximum(x, 0.0)


def relu_backward(dy, x, y):
    xp = array_namespace(dy, x)
    return masked(xp, dy, x > 0)


def sigmoid(x):
    """``1 / (1 + exp(-x))``, computed as ``(tanh(x/2) + 1) / 2`` so it never overflows."""
    xp = array_namespace(x)
    return (xp.tanh(x * 0.5) + 1.0) * 0.5


def sigmoid_backward(dy, x, y):
    return dy * y * (1.0 - y)


def tanh(x):
    xp = array_namespace(x)
    return xp.tanh(x)


def tanh_backward(dy, x, y):
    return dy * (1.0 - y * y)


def softmax(x, axis=-1):
    """Softmax over ``axis`` (the class axis), shifted by the max for stability."""
    xp = array_namespace(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def softmax_backward(dy, x, y, axis=-1):
    xp = array_namespace(dy, y)
    return y * (dy - xp.sum(dy * y, axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    xp = array_namespace(x)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def leaky_relu(x, negative_slope=0.2):
    """``x`` if positive else ``negative_slope * x`` (Keras's default slope 0.2)."""
    xp = array_namespace(x)
    return xp.where(x > 0, x, x * negative_slope)


def leaky_relu_backward(dy, x, y, negative_slope=0.2):
    xp = array_namespace(dy, x)
    return xp.where(x > 0, dy, dy * negative_slope)


def elu(x, alpha=1.0):
    """``x`` if positive else ``alpha * (exp(x) - 1)``."""
    xp = array_namespace(x)
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0.0)))


def elu_backward(dy, x, y, alpha=1.0):
    xp = array_namespace(dy, x)
    return xp.where(x > 0, dy, dy * (y + alpha))


def softplus(x):
    """``log(1 + exp(x))`` without overflow."""
    xp = array_namespace(x)
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0.0)


def softplus_backward(dy, x, y):
    return dy * sigmoid(x)


def softsign(x):
    """``x / (1 + |x|)``."""
    xp = array_namespace(x)
    return x / (1.0 + xp.abs(x))


def softsign_backward(dy, x, y):
    xp = array_namespace(dy, x)
    d = 1.0 + xp.abs(x)
    return dy / (d * d)


def step(x):
    """The article's step function: 1 where ``x > 0`` else 0 (its gradient is zero)."""
    xp = array_namespace(x)
    return xp.astype(x > 0, x.dtype)


def step_backward(dy, x, y):
    xp = array_namespace(dy)
    return xp.zeros_like(dy)


def relun(x, n=6.0):
    """ReLU capped at ``n`` (``n=6`` is ReLU6): ``min(max(x, 0), n)``."""
    xp = array_namespace(x)
    # not xp.clip: array-api-compat's generic clip for CuPy syncs (boolean-mask indexing)
    return xp.minimum(xp.maximum(x, 0.0), float(n))


def relun_backward(dy, x, y, n=6.0):
    xp = array_namespace(dy, x)
    return masked(xp, dy, (x > 0) & (x < n))


def prelu(x, alpha):
    """Parametric ReLU: ``x`` if positive else ``alpha * x``; alpha ``(C,)`` per channel."""
    xp = array_namespace(x, alpha)
    return xp.where(x > 0, x, alpha * x)


def prelu_backward(dy, x, alpha):
    """Returns ``(dx, dalpha)``; dalpha sums over every axis but the last."""
    xp = array_namespace(dy, x, alpha)
    negative = x <= 0
    dx = xp.where(negative, alpha * dy, dy)
    dalpha = xp.sum(xp.reshape(xp.where(negative, dy * x, 0.0), (-1, x.shape[-1])), axis=0)
    return dx, dalpha


def rrelu(x, slope):
    """Randomized leaky ReLU: ``x`` if non-negative else ``slope * x``.

    ``slope`` is drawn uniformly per element while training and is the mean slope at inference;
    the caller (the layer) chooses it.
    """
    xp = array_namespace(x)
    return xp.where(x >= 0, x, slope * x)


def rrelu_backward(dy, x, slope):
    xp = array_namespace(dy, x)
    return xp.where(x >= 0, dy, slope * dy)


def maxout(x, pieces=2):
    """Maxout over groups of ``pieces`` consecutive channels: ``(..., C)`` -> ``(..., C // pieces)``."""
    xp = array_namespace(x)
    c = x.shape[-1]
    if c % pieces:
        raise ValueError(f"maxout needs the channel count {c} to be a multiple of pieces={pieces}")
    return xp.max(xp.reshape(x, (*x.shape[:-1], c // pieces, pieces)), axis=-1)


def maxout_backward(dy, x, y, pieces=2):
    """Each group's gradient goes to its first maximum."""
    xp = array_namespace(dy, x)
    c = x.shape[-1]
    groups = xp.reshape(x, (*x.shape[:-1], c // pieces, pieces))
    is_max = groups == y[..., None]
    first = is_max & (xp.cumulative_sum(xp.astype(is_max, xp.int32), axis=-1) == 1)
    dx = masked(xp, dy[..., None], first)
    return xp.reshape(dx, tuple(x.shape))


# Activations named by a string, with ``f(x)`` / ``f_backward(dy, x, y)`` signatures.
ELEMENTWISE = {
    "linear": (linear, linear_backward),
    "relu": (relu, relu_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
    "softmax": (softmax, softmax_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "elu": (elu, elu_backward),
    "softplus": (softplus, softplus_backward),
    "softsign": (softsign, softsign_backward),
    "step": (step, step_backward),
    "relun": (relun, relun_backward),
    "maxout": (maxout, maxout_backward),
}
