"""Activation functions, each forward beside its backward.

Element-wise activations have the signatures `f(x) -> y` and `f_backward(dy, x, y) -> dx`
so a layer can keep `x` and `y` and call either. Those with extra arguments (a learnable
slope, a random slope, a cap, a number of pieces) take them as keywords.
"""

from __future__ import annotations

import math

from .._typing import Array, Namespace
from ..backend import array_namespace, backend_of
from .native import native_available, native_relu, native_relu_backward, native_softmax


def masked(xp: Namespace, dy: Array, keep: Array) -> Array:
    """`dy` where `keep` else 0, as `dy * keep`.

    Several times faster than `where` on NumPy when the mask is irregular (as after ReLU), and
    portable.

    Args:
        xp: The arrays' namespace.
        dy: A gradient, any shape.
        keep: A boolean mask broadcastable to `dy`.

    Returns:
        An array of `dy`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops.activations import masked
        >>> masked(namespace("numpy"), np.array([1.0, 2.0, 3.0]), np.array([True, False, True])).tolist()
        [1.0, 0.0, 3.0]
    """
    return dy * xp.astype(keep, dy.dtype)


def linear(x: Array) -> Array:
    """The identity: `x` itself.

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import linear, linear_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> linear(x).round(4).tolist()
        [-2.0, -0.5, 0.0, 1.5, 4.0]
    """
    return x


def linear_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `linear` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import linear, linear_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = linear(x)
        >>> linear_backward(np.ones_like(y), x, y).round(4).tolist()
        [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    return dy


def relu(x: Array) -> Array:
    """`max(x, 0)`. (A Python scalar operand, not a 0-d array: one kernel on a GPU, not two.)

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import relu, relu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> relu(x).round(4).tolist()
        [0.0, 0.0, 0.0, 1.5, 4.0]
    """
    if native_available(x):  # the same pass, without the ~15 us the Python scalar costs on torch
        return native_relu(x)
    xp = array_namespace(x)
    return xp.maximum(x, 0.0)


def relu_overwriting(x: Array) -> Array:
    """`relu(x)`, written over `x` where the backend can (the caller reads `x` no more).

    On NumPy and torch's CPU no fresh array: on a large batch a fresh one costs a page fault
    per 4 KiB (ResNet-14's `predict` at batch 1000 on torch took 1.16x the time with fresh
    ones, VGG's 1.12x). Elsewhere (the standard has no in-place `maximum`) a new array, as
    `relu`. The model's plan calls it outside training, where nothing else reads `x`
    (`xcnn.models.graph`).

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        `relu(x)`: `x` itself on NumPy and torch's CPU.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import relu_overwriting
        >>> x = np.array([-2.0, 1.5])
        >>> relu_overwriting(x) is x, x.tolist()
        (True, [0.0, 1.5])
    """
    if native_available(x):
        return native_relu(x, overwrite=True)
    xp = array_namespace(x)
    if backend_of(x) == "numpy":  # NumPy's ufuncs take out=
        return xp.maximum(x, 0.0, out=x)
    return xp.maximum(x, 0.0)


def relu_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `relu` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import relu, relu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = relu(x)
        >>> relu_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.0, 0.0, 0.0, 1.0, 1.0]
    """
    if native_available(x):  # one pass, where the mask, its cast and the product are three on torch
        return native_relu_backward(dy, x)
    xp = array_namespace(dy, x)
    return masked(xp, dy, x > 0)


def sigmoid(x: Array) -> Array:
    """`1 / (1 + exp(-x))`, computed as `(tanh(x/2) + 1) / 2` so it never overflows.

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import sigmoid, sigmoid_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> sigmoid(x).round(4).tolist()
        [0.1192, 0.3775, 0.5, 0.8176, 0.982]
    """
    xp = array_namespace(x)
    return (xp.tanh(x * 0.5) + 1.0) * 0.5


def sigmoid_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `sigmoid` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import sigmoid, sigmoid_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = sigmoid(x)
        >>> sigmoid_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.105, 0.235, 0.25, 0.1491, 0.0177]
    """
    return dy * y * (1.0 - y)


def tanh(x: Array) -> Array:
    """`tanh(x)`.

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import tanh, tanh_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> tanh(x).round(4).tolist()
        [-0.964, -0.4621, 0.0, 0.9051, 0.9993]
    """
    xp = array_namespace(x)
    return xp.tanh(x)


def tanh_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `tanh` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import tanh, tanh_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = tanh(x)
        >>> tanh_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.0707, 0.7864, 1.0, 0.1807, 0.0013]
    """
    return dy * (1.0 - y * y)


def softmax(x: Array, axis: int = -1) -> Array:
    """Softmax over `axis` (the class axis), shifted by the max for stability.

    Args:
        x: The input, `(..., K)`, float32 or float64, on any backend.
        axis: The axis the softmax runs along.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import softmax, softmax_backward
        >>> x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        >>> softmax(x).round(4).tolist()
        [[0.09, 0.2447, 0.6652], [0.3333, 0.3333, 0.3333]]
    """
    if native_available(x):  # one kernel, where these are five ops (see native_softmax)
        return native_softmax(x, axis)
    xp = array_namespace(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def softmax_backward(dy: Array, x: Array, y: Array, axis: int = -1) -> Array:
    """The gradient of `softmax` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).
        axis: The axis the softmax runs along.

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import softmax, softmax_backward
        >>> x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        >>> y = softmax(x)
        >>> softmax_backward(np.ones_like(y), x, y).round(4).tolist()
        [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    xp = array_namespace(dy, y)
    return y * (dy - xp.sum(dy * y, axis=axis, keepdims=True))


def log_softmax(x: Array, axis: int = -1) -> Array:
    """`log(softmax(x))` over `axis`, computed without forming the softmax.

    Args:
        x: The input, `(..., K)`, float32 or float64, on any backend.
        axis: The axis the softmax runs along.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import log_softmax, log_softmax_backward
        >>> x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        >>> log_softmax(x).round(4).tolist()
        [[-2.4076, -1.4076, -0.4076], [-1.0986, -1.0986, -1.0986]]
    """
    xp = array_namespace(x)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def leaky_relu(x: Array, negative_slope: float = 0.2) -> Array:
    """`x` if positive else `negative_slope * x` (Keras's default slope 0.2).

    Args:
        x: The input, any shape, float32 or float64, on any backend.
        negative_slope: The slope for negative inputs.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import leaky_relu, leaky_relu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> leaky_relu(x).round(4).tolist()
        [-0.4, -0.1, 0.0, 1.5, 4.0]
    """
    xp = array_namespace(x)
    return xp.where(x > 0, x, x * negative_slope)


def leaky_relu_backward(dy: Array, x: Array, y: Array, negative_slope: float = 0.2) -> Array:
    """The gradient of `leaky_relu` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).
        negative_slope: The slope for negative inputs.

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import leaky_relu, leaky_relu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = leaky_relu(x)
        >>> leaky_relu_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.2, 0.2, 0.2, 1.0, 1.0]
    """
    xp = array_namespace(dy, x)
    return xp.where(x > 0, dy, dy * negative_slope)


def elu(x: Array, alpha: float = 1.0) -> Array:
    """`x` if positive else `alpha * (exp(x) - 1)`.

    Args:
        x: The input, any shape, float32 or float64, on any backend.
        alpha: The scale of the negative part.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import elu, elu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> elu(x).round(4).tolist()
        [-0.8647, -0.3935, 0.0, 1.5, 4.0]
    """
    xp = array_namespace(x)
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0.0)))


def elu_backward(dy: Array, x: Array, y: Array, alpha: float = 1.0) -> Array:
    """The gradient of `elu` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).
        alpha: The scale of the negative part.

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import elu, elu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = elu(x)
        >>> elu_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.1353, 0.6065, 1.0, 1.0, 1.0]
    """
    xp = array_namespace(dy, x)
    return xp.where(x > 0, dy, dy * (y + alpha))


def softplus(x: Array) -> Array:
    """`log(1 + exp(x))` without overflow.

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import softplus, softplus_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> softplus(x).round(4).tolist()
        [0.1269, 0.4741, 0.6931, 1.7014, 4.0181]
    """
    xp = array_namespace(x)
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0.0)


def softplus_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `softplus` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import softplus, softplus_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = softplus(x)
        >>> softplus_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.1192, 0.3775, 0.5, 0.8176, 0.982]
    """
    return dy * sigmoid(x)


def softsign(x: Array) -> Array:
    """`x / (1 + |x|)`.

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import softsign, softsign_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> softsign(x).round(4).tolist()
        [-0.6667, -0.3333, 0.0, 0.6, 0.8]
    """
    xp = array_namespace(x)
    return x / (1.0 + xp.abs(x))


def softsign_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `softsign` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import softsign, softsign_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = softsign(x)
        >>> softsign_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.1111, 0.4444, 1.0, 0.16, 0.04]
    """
    xp = array_namespace(dy, x)
    d = 1.0 + xp.abs(x)
    return dy / (d * d)


def step(x: Array) -> Array:
    """The article's step function: 1 where `x > 0` else 0 (its gradient is zero).

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import step, step_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> step(x).round(4).tolist()
        [0.0, 0.0, 0.0, 1.0, 1.0]
    """
    xp = array_namespace(x)
    return xp.astype(x > 0, x.dtype)


def step_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `step` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import step, step_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = step(x)
        >>> step_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.0, 0.0, 0.0, 0.0, 0.0]
    """
    xp = array_namespace(dy)
    return xp.zeros_like(dy)


def relun(x: Array, n: float = 6.0) -> Array:
    """ReLU capped at `n` (`n=6` is ReLU6): `min(max(x, 0), n)`.

    Args:
        x: The input, any shape, float32 or float64, on any backend.
        n: The cap.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import relun, relun_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> relun(x, n=1.0).round(4).tolist()
        [0.0, 0.0, 0.0, 1.0, 1.0]
    """
    xp = array_namespace(x)
    # not xp.clip: array-api-compat's generic clip for CuPy syncs (boolean-mask indexing)
    return xp.minimum(xp.maximum(x, 0.0), float(n))


def relun_backward(dy: Array, x: Array, y: Array, n: float = 6.0) -> Array:
    """The gradient of `relun` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).
        n: The cap.

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import relun, relun_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = relun(x, n=1.0)
        >>> relun_backward(np.ones_like(y), x, y, n=1.0).round(4).tolist()
        [0.0, 0.0, 0.0, 0.0, 0.0]
    """
    xp = array_namespace(dy, x)
    return masked(xp, dy, (x > 0) & (x < n))


def prelu(x: Array, alpha: Array) -> Array:
    """Parametric ReLU: `x` if positive else `alpha * x`; alpha `(C,)` per channel.

    Args:
        x: The input, `(N, ..., C)`, float32 or float64, on any backend.
        alpha: The slopes, broadcastable to `x` (e.g. `(C,)` per channel, or Keras's shared-axes shape).

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import prelu, prelu_backward
        >>> x = np.array([[-2.0, 3.0], [-1.0, -4.0]])
        >>> alpha = np.array([0.1, 0.5])
        >>> prelu(x, alpha).tolist()
        [[-0.2, 3.0], [-0.1, -2.0]]
    """
    xp = array_namespace(x, alpha)
    return xp.where(x > 0, x, alpha * x)


def prelu_backward(dy: Array, x: Array, alpha: Array) -> tuple[Array, Array]:
    """The gradients of `prelu` w.r.t. `x` and `alpha`.

    `dalpha` sums over the axes `alpha` is broadcast along (the batch and any leading axes it lacks,
    and its size-1 axes: Keras's `shared_axes`).

    Args:
        dy: The gradient w.r.t. the output, `x`'s shape.
        x: The forward's input.
        alpha: The slopes, broadcastable to `x` (e.g. `(C,)` per channel, or Keras's shared-axes shape).

    Returns:
        `(dx, dalpha)`: `x`'s shape and `alpha`'s shape.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import prelu, prelu_backward
        >>> x = np.array([[-2.0, 3.0], [-1.0, -4.0]])
        >>> alpha = np.array([0.1, 0.5])
        >>> dx, dalpha = prelu_backward(np.ones((2, 2)), x, alpha)
        >>> dx.tolist(), dalpha.tolist()
        ([[0.1, 1.0], [0.1, 0.5]], [-3.0, -4.0])
    """
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


def rrelu(x: Array, slope: Array | float) -> Array:
    """Randomized leaky ReLU: `x` if non-negative else `slope * x`.

    `slope` is drawn uniformly per element while training and is the mean slope at inference; the
    caller (the layer) chooses it.

    Args:
        x: The input, any shape, float32 or float64, on any backend.
        slope: The slopes: an array of `x`'s shape (training) or a number (inference).

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import rrelu, rrelu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> rrelu(x, 0.25).tolist()
        [-0.5, -0.125, 0.0, 1.5, 4.0]
    """
    xp = array_namespace(x)
    return xp.where(x >= 0, x, slope * x)


def rrelu_backward(dy: Array, x: Array, slope: Array | float) -> Array:
    """The gradient of `rrelu` w.r.t. `x`, with the forward's slopes.

    Args:
        dy: The gradient w.r.t. the output, `x`'s shape.
        x: The forward's input.
        slope: The slopes: an array of `x`'s shape (training) or a number (inference).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import rrelu, rrelu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> rrelu_backward(np.ones(5), x, 0.25).tolist()
        [0.25, 0.25, 1.0, 1.0, 1.0]
    """
    xp = array_namespace(dy, x)
    return xp.where(x >= 0, dy, slope * dy)


def maxout(x: Array, pieces: int = 2) -> Array:
    """Maxout over groups of `pieces` consecutive channels: `(..., C)` -> `(..., C // pieces)`.

    Args:
        x: The input, `(..., C)`, float32 or float64, on any backend.
        pieces: The group size; `C` must be a multiple of it.

    Returns:
        `(..., C // pieces)` in `x`'s dtype.

    Raises:
        ValueError: If `C` is not a multiple of `pieces`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import maxout, maxout_backward
        >>> x = np.array([[1.0, 3.0, -2.0, -1.0]])
        >>> maxout(x).round(4).tolist()
        [[3.0, -1.0]]
    """
    xp = array_namespace(x)
    c = x.shape[-1]
    if c % pieces:
        raise ValueError(f"maxout needs the channel count {c} to be a multiple of pieces={pieces}")
    return xp.max(xp.reshape(x, (*x.shape[:-1], c // pieces, pieces)), axis=-1)


def maxout_backward(dy: Array, x: Array, y: Array, pieces: int = 2) -> Array:
    """The gradient of `maxout` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Each group's gradient goes to its first maximum.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).
        pieces: The group size; `C` must be a multiple of it.

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import maxout, maxout_backward
        >>> x = np.array([[1.0, 3.0, -2.0, -1.0]])
        >>> y = maxout(x)
        >>> maxout_backward(np.ones_like(y), x, y).round(4).tolist()
        [[0.0, 1.0, 0.0, 1.0]]
    """
    xp = array_namespace(dy, x)
    c = x.shape[-1]
    groups = xp.reshape(x, (*x.shape[:-1], c // pieces, pieces))
    is_max = groups == y[..., None]
    first = is_max & (xp.cumulative_sum(xp.astype(is_max, xp.int32), axis=-1) == 1)
    dx = masked(xp, dy[..., None], first)
    return xp.reshape(dx, tuple(x.shape))


def thresholded_relu(
    x: Array, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0
) -> Array:
    """Keras's `ReLU` layer.

    `max_value` from `max_value` up, `x` from `threshold` up, `negative_slope * (x - threshold)`
    below `threshold`.

    Args:
        x: The input, any shape, float32 or float64, on any backend.
        max_value: The ceiling (`None`: none).
        negative_slope: The slope for negative inputs.
        threshold: Where the slope changes.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import thresholded_relu, thresholded_relu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> thresholded_relu(x, max_value=3.0, threshold=0.5).round(4).tolist()
        [-0.0, -0.0, -0.0, 1.5, 3.0]
    """
    xp = array_namespace(x)
    y = xp.where(x >= threshold, x, (x - threshold) * negative_slope)
    return y if max_value is None else xp.minimum(y, xp.full((), max_value, dtype=x.dtype, device=x.device))


def thresholded_relu_backward(
    dy: Array, x: Array, y: Array, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0
) -> Array:
    """The gradient of `thresholded_relu` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).
        max_value: The ceiling (`None`: none).
        negative_slope: The slope for negative inputs.
        threshold: Where the slope changes.

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import thresholded_relu, thresholded_relu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = thresholded_relu(x, max_value=3.0, threshold=0.5)
        >>> thresholded_relu_backward(np.ones_like(y), x, y, max_value=3.0, threshold=0.5).round(4).tolist()
        [0.0, 0.0, 0.0, 1.0, 0.0]
    """
    xp = array_namespace(dy, x)
    dx = xp.where(x >= threshold, dy, dy * negative_slope)
    return dx if max_value is None else masked(xp, dx, x < max_value)


def relu6(x: Array) -> Array:
    """`min(max(x, 0), 6)`.

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import relu6, relu6_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> relu6(x).round(4).tolist()
        [0.0, 0.0, 0.0, 1.5, 4.0]
    """
    return relun(x, 6.0)


def relu6_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `relu6` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import relu6, relu6_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = relu6(x)
        >>> relu6_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.0, 0.0, 0.0, 1.0, 1.0]
    """
    return relun_backward(dy, x, y, 6.0)


# SELU's constants, as in Keras and the paper (Klambauer et al. 2017)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Array) -> Array:
    """`scale * elu(x, alpha)` with SELU's fixed `alpha` and `scale`.

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import selu, selu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> selu(x).round(4).tolist()
        [-1.5202, -0.6918, 0.0, 1.5761, 4.2028]
    """
    return elu(x, SELU_ALPHA) * SELU_SCALE


def selu_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `selu` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import selu, selu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = selu(x)
        >>> selu_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.2379, 1.0663, 1.7581, 1.0507, 1.0507]
    """
    xp = array_namespace(dy, x)
    return xp.where(x > 0, dy * SELU_SCALE, dy * (y + SELU_SCALE * SELU_ALPHA))


def silu(x: Array) -> Array:
    """`x * sigmoid(x)` (also called swish).

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import silu, silu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> silu(x).round(4).tolist()
        [-0.2384, -0.1888, 0.0, 1.2264, 3.9281]
    """
    return x * sigmoid(x)


def silu_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `silu` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import silu, silu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = silu(x)
        >>> silu_backward(np.ones_like(y), x, y).round(4).tolist()
        [-0.0908, 0.26, 0.5, 1.0413, 1.0527]
    """
    s = sigmoid(x)
    return dy * (s * (1.0 + x * (1.0 - s)))


def hard_sigmoid(x: Array) -> Array:
    """Keras 3's `relu6(x + 3) / 6`: 0 below -3, 1 above 3, `x / 6 + 0.5` between.

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import hard_sigmoid, hard_sigmoid_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> hard_sigmoid(x).round(4).tolist()
        [0.1667, 0.4167, 0.5, 0.75, 1.0]
    """
    xp = array_namespace(x)
    return xp.minimum(xp.maximum(x * (1.0 / 6.0) + 0.5, 0.0), 1.0)


def hard_sigmoid_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `hard_sigmoid` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import hard_sigmoid, hard_sigmoid_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = hard_sigmoid(x)
        >>> hard_sigmoid_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.1667, 0.1667, 0.1667, 0.1667, 0.0]
    """
    xp = array_namespace(dy, x)
    return masked(xp, dy, (x > -3.0) & (x < 3.0)) * (1.0 / 6.0)


def hard_silu(x: Array) -> Array:
    """`x * hard_sigmoid(x)` (also called hard swish).

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import hard_silu, hard_silu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> hard_silu(x).round(4).tolist()
        [-0.3333, -0.2083, 0.0, 1.125, 4.0]
    """
    return x * hard_sigmoid(x)


def hard_silu_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `hard_silu` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import hard_silu, hard_silu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = hard_silu(x)
        >>> hard_silu_backward(np.ones_like(y), x, y).round(4).tolist()
        [-0.1667, 0.3333, 0.5, 1.0, 1.0]
    """
    xp = array_namespace(dy, x)
    return dy * hard_sigmoid(x) + masked(xp, dy * x, (x > -3.0) & (x < 3.0)) * (1.0 / 6.0)


def exponential(x: Array) -> Array:
    """`exp(x)`.

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import exponential, exponential_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> exponential(x).round(4).tolist()
        [0.1353, 0.6065, 1.0, 4.4817, 54.5982]
    """
    xp = array_namespace(x)
    return xp.exp(x)


def exponential_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `exponential` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import exponential, exponential_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = exponential(x)
        >>> exponential_backward(np.ones_like(y), x, y).round(4).tolist()
        [0.1353, 0.6065, 1.0, 4.4817, 54.5982]
    """
    return dy * y


def log_softmax_backward(dy: Array, x: Array, y: Array, axis: int = -1) -> Array:
    """The gradient of `log_softmax` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    `dy - softmax(x) * sum(dy)` over `axis` (`y` is the log-softmax).

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).
        axis: The axis the softmax runs along.

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import log_softmax, log_softmax_backward
        >>> x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        >>> y = log_softmax(x)
        >>> log_softmax_backward(np.ones_like(y), x, y).round(4).tolist()
        [[0.7299, 0.2658, -0.9957], [0.0, 0.0, 0.0]]
    """
    xp = array_namespace(dy, y)
    return dy - xp.exp(y) * xp.sum(dy, axis=axis, keepdims=True)


def mish(x: Array) -> Array:
    """`x * tanh(softplus(x))`.

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import mish, mish_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> mish(x).round(4).tolist()
        [-0.2525, -0.2207, 0.0, 1.4034, 3.9974]
    """
    xp = array_namespace(x)
    return x * xp.tanh(softplus(x))


def mish_backward(dy: Array, x: Array, y: Array) -> Array:
    """The gradient of `mish` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import mish, mish_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = mish(x)
        >>> mish_backward(np.ones_like(y), x, y).round(4).tolist()
        [-0.1084, 0.2895, 0.6, 1.0885, 1.0044]
    """
    xp = array_namespace(dy, x)
    t = xp.tanh(softplus(x))
    return dy * (t + x * (1.0 - t * t) * sigmoid(x))


# erf is not in the array API: a power series below this |x| and a continued fraction for
# erfc above it, both accurate to ~1e-14 (the tests hold them to math.erf).
_ERF_SERIES_BELOW = 2.5
_ERF_SERIES_TERMS = 40
_ERFC_FRACTION_DEPTH = 40


def erf(x: Array) -> Array:
    """The error function, element-wise, from array-API operations only.

    Args:
        x: The input, any shape, float32 or float64, on any backend.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import erf
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> erf(np.array([0.0, 0.5, 3.0])).round(6).tolist()
        [0.0, 0.5205, 0.999978]
    """
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


def gelu(x: Array, approximate: bool = False) -> Array:
    """`x * Phi(x)` with Phi the standard normal CDF.

    With `approximate=True` the tanh form `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`. Keras's
    default is exact.

    Args:
        x: The input, any shape, float32 or float64, on any backend.
        approximate: Use the tanh approximation.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import gelu, gelu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> gelu(x).round(4).tolist()
        [-0.0455, -0.1543, 0.0, 1.3998, 3.9999]
    """
    xp = array_namespace(x)
    if approximate:
        return 0.5 * x * (1.0 + xp.tanh(_GELU_TANH_SCALE * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))


def gelu_backward(dy: Array, x: Array, y: Array, approximate: bool = False) -> Array:
    """The gradient of `gelu` w.r.t. `x`, given `dy`, the gradient w.r.t. its output.

    Args:
        dy: The gradient w.r.t. the output, of the output's shape.
        x: The forward's input.
        y: The forward's output (what the backward reuses).
        approximate: Use the tanh approximation.

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.activations import gelu, gelu_backward
        >>> x = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
        >>> y = gelu(x)
        >>> gelu_backward(np.ones_like(y), x, y).round(4).tolist()
        [-0.0852, 0.1325, 0.5, 1.1275, 1.0005]
    """
    xp = array_namespace(dy, x)
    if approximate:
        t = xp.tanh(_GELU_TANH_SCALE * (x + 0.044715 * x * x * x))
        inner = _GELU_TANH_SCALE * (1.0 + 3.0 * 0.044715 * x * x)
        return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner)
    cdf = 0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))
    pdf = xp.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
    return dy * (cdf + x * pdf)


# Activations named by a string, with ``f(x)`` / ``f_backward(dy, x, y)`` signatures.
OVERWRITING = {"relu": relu_overwriting}
"""The activations with a form that may write over its input (`Elementwise.forward(overwrite=True)`)."""

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
