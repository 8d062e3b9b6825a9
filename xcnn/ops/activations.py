"""Activation functions, each forward beside its backward.

Element-wise activations have the signatures ``f(x) -> y`` and ``f_backward(dy, x, y) -> dx``
so a layer can keep ``x`` and ``y`` and call either. Those with extra arguments (a learnable
slope, a random slope, a cap, a number of pieces) take them as keywords.
"""

from __future__ import annotations

import math

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
    """Returns ``(dx, dalpha)``; dalpha sums over the axes alpha is broadcast along (the batch
    and any leading axes it lacks, and its size-1 axes: Keras's ``shared_axes``)."""
    xp = array_namespace(dy, x, alpha)
    negative = x <= 0
    dx = xp.where(negative, alpha * dy, dy)
    dalpha = xp.where(negative, dy * x, 0.0)
    lead = dalpha.ndim - alpha.ndim
    if lead:
        dalpha = xp.sum(xp.reshape(dalpha, (-1, *dalpha.shape[lead:])), axis=0)
    shared = tuple(i for i, (a, d) in enumerate(zip(alpha.shape, dalpha.shape)) if a == 1 and d != 1)
    if shared:
        dalpha = xp.sum(dalpha, axis=shared, keepdims=True)

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


def thresholded_relu(x, max_value=None, negative_slope=0.0, threshold=0.0):
    """Keras's ``ReLU`` layer: ``max_value`` from ``max_value`` up, ``x`` from ``threshold`` up,
    ``negative_slope * (x - threshold)`` below ``threshold``."""
    xp = array_namespace(x)
    y = xp.where(x >= threshold, x, (x - threshold) * negative_slope)
    return y if max_value is None else xp.minimum(y, xp.full((), max_value, dtype=x.dtype, device=x.device))


def thresholded_relu_backward(dy, x, y, max_value=None, negative_slope=0.0, threshold=0.0):
    xp = array_namespace(dy, x)
    dx = xp.where(x >= threshold, dy, dy * negative_slope)
    return dx if max_value is None else masked(xp, dx, x < max_value)


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return relun(x, 6.0)


def relu6_backward(dy, x, y):
    return relun_backward(dy, x, y, 6.0)


# SELU's constants, as in Keras and the paper (Klambauer et al. 2017)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """``scale * elu(x, alpha)`` with SELU's fixed ``alpha`` and ``scale``."""
    return elu(x, SELU_ALPHA) * SELU_SCALE


def selu_backward(dy, x, y):
    xp = array_namespace(dy, x)
    return xp.where(x > 0, dy * SELU_SCALE, dy * (y + SELU_SCALE * SELU_ALPHA))


def silu(x):
    """``x * sigmoid(x)`` (also called swish)."""
    return x * sigmoid(x)


def silu_backward(dy, x, y):
    s = sigmoid(x)
    return dy * (s * (1.0 + x * (1.0 - s)))


def hard_sigmoid(x):
    """Keras 3's ``relu6(x + 3) / 6``: 0 below -3, 1 above 3, ``x / 6 + 0.5`` between."""
    xp = array_namespace(x)
    return xp.minimum(xp.maximum(x * (1.0 / 6.0) + 0.5, 0.0), 1.0)


def hard_sigmoid_backward(dy, x, y):
    xp = array_namespace(dy, x)
    return masked(xp, dy, (x > -3.0) & (x < 3.0)) * (1.0 / 6.0)


def hard_silu(x):
    """``x * hard_sigmoid(x)`` (also called hard swish)."""
    return x * hard_sigmoid(x)


def hard_silu_backward(dy, x, y):
    xp = array_namespace(dy, x)
    return dy * hard_sigmoid(x) + masked(xp, dy * x, (x > -3.0) & (x < 3.0)) * (1.0 / 6.0)


def exponential(x):
    """``exp(x)``."""
    xp = array_namespace(x)
    return xp.exp(x)


def exponential_backward(dy, x, y):
    return dy * y


def log_softmax_backward(dy, x, y, axis=-1):
    """``dy - softmax(x) * sum(dy)`` over ``axis`` (``y`` is the log-softmax)."""
    xp = array_namespace(dy, y)
    return dy - xp.exp(y) * xp.sum(dy, axis=axis, keepdims=True)


def mish(x):
    """``x * tanh(softplus(x))``."""
    xp = array_namespace(x)
    return x * xp.tanh(softplus(x))


def mish_backward(dy, x, y):
    xp = array_namespace(dy, x)
    t = xp.tanh(softplus(x))
    return dy * (t + x * (1.0 - t * t) * sigmoid(x))


# erf is not in the array API: a power series below this |x| and a continued fraction for
# erfc above it, both accurate to ~1e-14 (the tests hold them to math.erf).
_ERF_SERIES_BELOW = 2.5
_ERF_SERIES_TERMS = 40
_ERFC_FRACTION_DEPTH = 40


def erf(x):
    """The error function, element-wise, from array-API operations only."""
    xp = array_namespace(x)
    a = xp.abs(x)
    # series: erf(a) = 2/sqrt(pi) * sum_n (-1)^n a^(2n+1) / (n! (2n+1))
    small = xp.minimum(a, xp.full((), _ERF_SERIES_BELOW, dtype=x.dtype, device=x.device))
    minus_a2 = -(small * small)
    term = total = small
    for n in range(1, _ERF_SERIES_TERMS):
        term = term * minus_a2 * (1.0 / n)
        total = total + term * (1.0 / (2 * n + 1))
    series = total * (2.0 / math.sqrt(math.pi))
    # continued fraction: erfc(a) = exp(-a^2) / (sqrt(pi) (a + (1/2) / (a + 1 / (a + (3/2) / ...))))
    big = xp.maximum(a, xp.full((), _ERF_SERIES_BELOW, dtype=x.dtype, device=x.device))
    fraction = big
    for k in range(_ERFC_FRACTION_DEPTH, 0, -1):
        fraction = big + (k / 2.0) / fraction
    tail = 1.0 - xp.exp(-(big * big)) / (fraction * math.sqrt(math.pi))
    # sign by comparisons: array-api-compat's generic sign for CuPy syncs (boolean-mask indexing)
    sign = xp.astype(x > 0, x.dtype) - xp.astype(x < 0, x.dtype)
    return sign * xp.where(a < _ERF_SERIES_BELOW, series, tail)


_GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)


def gelu(x, approximate=False):
    """``x * Phi(x)`` with Phi the standard normal CDF; with ``approximate=True`` the tanh form
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``. Keras's default is exact."""
    xp = array_namespace(x)
    if approximate:
        return 0.5 * x * (1.0 + xp.tanh(_GELU_TANH_SCALE * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))


def gelu_backward(dy, x, y, approximate=False):
    xp = array_namespace(dy, x)
    if approximate:
        t = xp.tanh(_GELU_TANH_SCALE * (x + 0.044715 * x * x * x))
        inner = _GELU_TANH_SCALE * (1.0 + 3.0 * 0.044715 * x * x)
        return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner)
    cdf = 0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))
    pdf = xp.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
    return dy * (cdf + x * pdf)


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
    "relu6": (relu6, relu6_backward),
    "selu": (selu, selu_backward),
    "gelu": (gelu, gelu_backward),
    "silu": (silu, silu_backward),
    "swish": (silu, silu_backward),
    "hard_sigmoid": (hard_sigmoid, hard_sigmoid_backward),
    "hard_silu": (hard_silu, hard_silu_backward),
    "hard_swish": (hard_silu, hard_silu_backward),
    "exponential": (exponential, exponential_backward),
    "log_softmax": (log_softmax, log_softmax_backward),
    "mish": (mish, mish_backward),
}
